// SPDX-License-Identifier: Apache-2.0
#pragma once
/// @file LossManager data types (NectarGAN `nectargan.losses.lm_data`: LMLoss, LMHistory).

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <torch/nn/module.h>
#include <torch/types.h>

#include "scheduling/schedule.h"

namespace nectar {

/// A loss function: (prediction/fake x, target/real y) -> loss tensor (any shape; usually a 0-d mean).
/// Inputs are float tensors of equal shape, e.g. [N, C, H, W].
using LossFn = std::function<torch::Tensor(const torch::Tensor& x, const torch::Tensor& y)>;

/// What the trainer feeds into a loss. The trainer resolves each operand per iteration:
///  input  = x (the A image for AtoB), real = y (target), fake = G(x),
///  D_fake = D(x, fake) (detached fake in the D step), D_real = D(x, real),
///  ones / zeros = a tensor of ones / zeros shaped like the other operand.
enum class Operand { Input, Real, Fake, DFake, DReal, Ones, Zeros };

/// Operand names used in JSON specs and the GUI: "input", "real", "fake", "D_fake", "D_real", "ones", "zeros".
std::string operand_name(Operand op);
/// Throws std::invalid_argument listing the valid names.
Operand operand_from_name(const std::string& name);
std::vector<std::string> operand_names();

/// The two operands of a loss call: function(prediction, target).
struct LossInputs {
    Operand prediction = Operand::Fake;
    Operand target = Operand::Real;
    bool operator==(const LossInputs& o) const { return prediction == o.prediction && target == o.target; }
};

/// Per-loss history. `losses` holds RAW (unweighted) batch means, `weights` the weight
/// actually applied at that call; weighted value = losses[i] * weights[i].
struct LMHistory {
    std::vector<float> losses;
    std::vector<float> weights;
    /// Wall time of each value's compute_loss_xy call, Unix seconds (our addition; NectarGAN has none).
    std::vector<double> times;
};

/// One registered loss (NectarGAN LMLoss).
struct LMLoss {
    std::string name;
    LossFn function;
    /// Registry name of the function ("L1", "MSE", "BCEWithLogits", "Sobel", "Laplacian", "VGGPerceptual", ...).
    std::string function_name;
    /// Module behind `function`, if any, so that it can be moved to the training device.
    std::shared_ptr<torch::nn::Module> module;
    double loss_weight = 1.0; ///< lambda; used when the schedule is not active
    Schedule schedule; ///< own schedule per loss (never shared)
    torch::Tensor last_loss_map; ///< last WEIGHTED loss tensor, detached (no copy)
    LMHistory history;
    std::vector<std::string> tags; ///< e.g. {"G"} or {"D"}; the trainer sums G-tagged losses in the G step
    LossInputs inputs;

    /// The weight to apply at a 1-based epoch: schedule value when active, else loss_weight.
    double weight_at(int epoch) const { return schedule.active() ? schedule.value_at(epoch) : loss_weight; }
    bool has_tag(const std::string& tag) const;
};

} // namespace nectar
