// SPDX-License-Identifier: Apache-2.0
#pragma once
/// @file What a run folder says it trained, and a loss-aware diff of two runs (the Review page's run
/// table and "Compare"). No torch and no Qt in this header.

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "objective/preset.h"

namespace nectar {

/// The newest config copy and objective record of an experiment folder (train<K>_config.json,
/// train<K>_objective.json), with each loss's function resolved from the spec registry.
struct RunRecord {
    std::string dir;
    std::string name; ///< the folder's name
    std::string config_path, objective_path; ///< "" when the folder has none
    nlohmann::json config = nlohmann::json::object(); ///< the config copy as written ({"config": {...}})
    Preset objective; ///< spec, subspec and every loss's weight / tags / schedule
    bool has_objective = false;
    std::map<std::string, std::string> functions; ///< loss -> LossFunctionRegistry name ("" unknown)
    std::vector<std::string> warnings; ///< files that could not be read (named), functions not resolved
};

/// Reads `dir`'s newest records. Never throws for a missing or unreadable file: each becomes a warning
/// naming the file (a NectarGAN folder has neither and still gets a RunRecord with its name).
RunRecord read_run_record(const std::string& dir);

/// One difference between run A and run B. `a`/`b` are display text; "(absent)" where a run lacks it.
struct RunDifference {
    std::string loss; ///< the loss it concerns ("" for a setting)
    std::string field; ///< "function", "weight", "tags", "schedule", "loss", or a setting's JSON path
    std::string a, b;
};

/// Loss-aware diff: first spec/subspec and, per loss (A's order, then B's extra losses), the function,
/// weight, schedule and tags that differ, or the loss present in only one run; then every config
/// setting (JSON leaf, by path such as /config/train/batch_size) whose value differs. Settings that
/// name the run itself (/config/common/experiment_name, output_directory) are left out. Pure.
std::vector<RunDifference> diff_runs(const RunRecord& a, const RunRecord& b);

} // namespace nectar
