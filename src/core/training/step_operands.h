// SPDX-License-Identifier: Apache-2.0
#pragma once
/// @file The tensors a loss's inputs (LMLoss::inputs) name in one pix2pix iteration (Isola et al. 2017,
/// sec. 3; NectarGAN `Pix2pixTrainer.forward_D` / `forward_G`): input = x, real = y, fake = G(x),
/// D_fake = D(x, fake), D_real = D(x, y), ones / zeros = shaped like the other operand.
/// D's outputs are computed on first use and kept for the rest of the step.

#include <string>
#include <utility>

#include <torch/types.h>

#include "losses/lm_types.h"
#include "models/patchgan.h"

namespace nectar {

class StepOperands {
public:
    /// x, y: [N, C, H, W] on the training device; fake = G(x) with its graph.
    StepOperands(const torch::Tensor& x, const torch::Tensor& y, torch::Tensor fake, PatchGAN disc);

    /// D step: `fake` is detached (no gradient reaches G). If the D losses need both D outputs, they are
    /// computed in one D pass on the stacked pairs: InstanceNorm and the patch logits are per sample, so
    /// this equals two passes, with larger, faster convolutions.
    void begin_d_step(bool needs_d_real, bool needs_d_fake);
    /// G step: `fake` keeps its graph; D(x, real) is computed without one (it has no gradient w.r.t. G).
    void begin_g_step();

    /// (prediction, target) of a loss. Throws std::invalid_argument naming `loss` when both operands are
    /// ones/zeros (no shape to copy).
    std::pair<torch::Tensor, torch::Tensor> resolve(const LossInputs& inputs, const std::string& loss);

    const torch::Tensor& fake() const { return m_fake; }

private:
    torch::Tensor get(Operand op, bool& fill);

    const torch::Tensor& m_x;
    const torch::Tensor& m_y;
    torch::Tensor m_fake;
    PatchGAN m_disc;
    torch::Tensor m_d_fake, m_d_real;
    bool m_d_step = false;
};

} // namespace nectar
