// SPDX-License-Identifier: Apache-2.0
#pragma once
/// @file A loss of the objective as a value (no tensors, no callables), and the one place an LMLoss is built
/// from such a description. Specs (built-in and JSON) describe their losses with it.

#include <map>
#include <string>
#include <vector>

#include "losses/lm_types.h"
#include "scheduling/schedule.h"

namespace nectar {

struct Config;

/// One loss: what NectarGAN's `LossManager.register_loss` takes, minus the module.
struct LossSpec {
    std::string name; ///< unique in the objective, e.g. "G_L1"
    std::string function; ///< LossFunctionRegistry name, e.g. "L1"
    double weight = 1.0; ///< lambda (is_valid_weight); used while the schedule is inactive
    Schedule schedule; ///< Kind::None: constant weight
    std::vector<std::string> tags; ///< e.g. {"G"}
    LossInputs inputs; ///< the operands: function(prediction, target)
};

/// The LMLoss of `spec`: its function (and module, e.g. VGG19 loaded from train.loss.vgg_weights) created
/// by LossFunctionRegistry with `config`. Throws std::invalid_argument naming the loss for an unknown function
/// or an invalid weight or schedule; std::runtime_error from a loss factory (e.g. VGG19 weights missing).
LMLoss build_loss(const LossSpec& spec, const Config& config);
/// build_loss for each, by name. Throws std::invalid_argument for a repeated or empty name, and as build_loss.
std::map<std::string, LMLoss> build_losses(const std::vector<LossSpec>& specs, const Config& config);
/// The description of a registered loss (function_name, weight, schedule, tags, inputs).
LossSpec spec_of(const LMLoss& loss);

} // namespace nectar
