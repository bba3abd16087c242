// SPDX-License-Identifier: Apache-2.0
#pragma once
/// @file Engine conversions for the toolbox's .cpp files only (pulls LibTorch through lm_types.h);
/// never include this from a header.

#include <map>
#include <string>
#include <vector>

// LibTorch without Qt's `slots` keyword macro (ATen has a slots() method).
#pragma push_macro("slots")
#undef slots
#include "losses/lm_types.h"
#include "objective/preset.h"
#pragma pop_macro("slots")

#include "objective/losstablemodel.h"

namespace engine {
/// Function-less LMLoss values from table rows (for presets and spec definitions).
/// Throws std::invalid_argument for an unknown operand name.
std::map<std::string, nectar::LMLoss> lossesFromRows(const std::vector<LossRow>& rows);
/// The objective the trainer runs: the table as a preset over spec/subspec.
nectar::Preset presetFromRows(const QString& spec, const QString& subspec, const std::vector<LossRow>& rows);
} // namespace engine
