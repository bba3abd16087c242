// SPDX-License-Identifier: Apache-2.0
#pragma once
/// @file The objective as a whole: filling a LossManager from a spec (NectarGAN
/// `LossManager.init_from_spec`).

#include <string>

namespace nectar {

class LossManager;

/// Registers every loss of `spec`/`subspec` (SpecRegistry::instance()) built with the manager's config,
/// validating each entry (non-empty name and function, finite weight >= 0, valid schedule). Throws
/// std::invalid_argument naming the spec/subspec/loss, listing valid names for unknown ones.
void init_from_spec(LossManager& manager, const std::string& spec, const std::string& subspec);

} // namespace nectar
