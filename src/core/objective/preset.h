// SPDX-License-Identifier: Apache-2.0
#pragma once
/// @file Objective presets: a named choice of loss spec + subspec, per-loss weight / tags / schedule
/// overrides and optional training settings, shared by nectar-train (--preset FILE) and the GUI.
/// (NectarGAN has no preset files; its objective is fixed by `pix2pix_objective.py` + config lambdas.)
///
/// File format (JSON, all keys but "format" optional):
/// {
///   "format": "nectar-preset", "version": 1,
///   "name": "sharp edges", "description": "extended objective with a ramped Sobel loss",
///   "spec": "pix2pix", "subspec": "extended",
///   "losses": {
///     "G_L1":    {"weight": 100.0},
///     "G_SOBEL": {"weight": 10.0, "tags": ["G"],
///                 "schedule": {"schedule": "linear", "start_epoch": 1, "end_epoch": 50,
///                              "initial_value": 0.0, "target_value": 10.0}}
///   },
///   "config": {"train": {"generator": {"learning_rate": {"epochs": 50}}}}   // NectarGAN config layout, partial
/// }
/// "config" is merged key by key into the {"config": {...}} document, so any config key may be set.

#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "losses/lm_types.h"
#include "objective/loss_spec.h"
#include "util/error.h"

namespace nectar {

struct Config;

/// Bad preset file or value; what() names the file, the JSON path and the value.
class PresetError : public InputError {
public:
    using InputError::InputError;
};

struct LossOverride {
    std::optional<double> weight; ///< >= 0, finite
    std::optional<std::vector<std::string>> tags;
    std::optional<Schedule> schedule; ///< Kind::None removes a schedule
};

struct Preset {
    std::string name;
    std::string description;
    std::string spec; ///< empty: keep the config's spec
    std::string subspec; ///< empty: keep the config's subspec
    std::map<std::string, LossOverride> losses;
    nlohmann::json config = nlohmann::json::object(); ///< partial NectarGAN config sections
};

/// Parses a preset document. `source` (file name) prefixes error messages. Throws PresetError.
Preset preset_from_json(const nlohmann::json& j, const std::string& source = {});
/// Parses a preset from text with the strict reader (util/json_read.h, json_limits::preset(): 4 MiB, depth
/// 512, ...), then preset_from_json. Throws only PresetError for bad input, "<source>: <JSON path>: <problem>".
/// The fuzzers' entry point.
Preset preset_from_text(std::string_view text, const std::string& source);
nlohmann::json preset_to_json(const Preset& p);
/// Reads a preset (or an objective record) file with preset_from_text. Throws PresetError naming the file:
/// missing, a folder, not a regular file, unreadable, larger than 4 MiB (refused before it is read), bad content.
Preset load_preset_file(const std::string& path);
/// Atomic write (temp file + rename). Throws PresetError naming the file.
void save_preset_file(const Preset& p, const std::string& path);

/// Sets spec/subspec and merges "config" into `config` (validated). Throws PresetError naming the
/// source and the JSON path of a bad value.
void apply_preset_to_config(const Preset& p, Config& config, const std::string& source = {});
/// Applies the loss overrides to losses built from the spec. A loss the spec does not declare is an
/// error listing the declared ones. A loss of the spec the preset does not list keeps its weight (the spec's,
/// from the config's lambdas): a warning per such loss goes to `warnings` (one line naming the source, the loss
/// and the weight it keeps; one line for all when the preset lists no losses at all). A warning, not an error:
/// presets written before a spec grew a loss still load.
void apply_preset_to_losses(const Preset& p, std::map<std::string, LMLoss>& losses, const std::string& source = {},
    std::vector<std::string>* warnings = nullptr);
/// The same on LossSpec values (objective/loss_spec.h), before anything is built.
void apply_preset_to_specs(const Preset& p, std::vector<LossSpec>& losses, const std::string& source = {},
    std::vector<std::string>* warnings = nullptr);
/// Snapshot of the current objective as a preset (weight, tags, schedule of every loss).
Preset preset_from_losses(
    const std::string& spec, const std::string& subspec, const std::map<std::string, LMLoss>& losses);
/// The same from LossSpec values.
Preset preset_from_specs(const std::string& spec, const std::string& subspec, const std::vector<LossSpec>& losses);

} // namespace nectar
