// SPDX-License-Identifier: Apache-2.0
#pragma once
/// @file The objective as a whole: what a run trains, as LossSpec values, whether it came from a spec, a
/// preset or the GUI's table (a preset over the spec); filling a LossManager from a spec (NectarGAN
/// `LossManager.init_from_spec`).

#include <string>
#include <vector>

#include "objective/loss_spec.h"

namespace nectar {

class LossManager;
struct Config;
struct Preset;

/// What a run trains.
struct Objective {
    std::string spec; ///< the spec it starts from (train.loss.spec)
    std::string subspec;
    std::vector<LossSpec> losses; ///< every loss, with its weight, tags, schedule and inputs
    std::string source; ///< where the overrides came from (a preset file, "the loss table"), for the record
};

/// The losses config.train.loss.spec / subspec declares (SpecRegistry::instance(), nothing built), with
/// `preset`'s loss overrides applied when given (apply_preset_to_config first for its spec and settings).
/// Throws std::invalid_argument (unknown spec or subspec, listing the valid ones) or PresetError (a loss the
/// spec does not declare), naming `preset_source`. A loss the preset does not list is a warning in `warnings`
/// (apply_preset_to_specs).
Objective resolve_objective(const Config& config, const Preset* preset = nullptr, const std::string& preset_source = {},
    std::vector<std::string>* warnings = nullptr);

/// The run's record of an objective (train<K>_objective.json): a preset naming the spec and subspec with every
/// loss's weight, tags and schedule, which resolve_objective reads back to the same objective.
Preset objective_record(const Objective& objective);

/// Registers every loss of `spec`/`subspec` (SpecRegistry::instance()) built with the manager's config,
/// validating each entry (non-empty name and function, finite weight >= 0, valid schedule). Throws
/// std::invalid_argument naming the spec/subspec/loss, listing valid names for unknown ones.
void init_from_spec(LossManager& manager, const std::string& spec, const std::string& subspec);

} // namespace nectar
