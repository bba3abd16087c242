// SPDX-License-Identifier: Apache-2.0
#pragma once
/// @file Dynamic loss scaling for float16 autocast on CUDA (the algorithm of torch.cuda.amp.GradScaler,
/// which LibTorch 1.13 has no C++ class for). One scaler per network (NectarGAN shares one object for G
/// and D, so update() runs twice per iteration: fixed here).
///
/// Per step: backward(loss * scale); unscale the grads in place and detect Inf/NaN
/// (at::_amp_foreach_non_finite_check_and_unscale_); step the optimizer only if all grads are finite;
/// update the scale (at::_amp_update_scale_: x backoff 0.5 on overflow, x growth 2 after
/// `growth_interval` clean steps). The scale and counters stay on the device; the only host sync is the
/// found-inf check before the optimizer step (as GradScaler.step does).
/// Disabled (CPU): step() is plain backward + optimizer step.

#include <functional>

#include <torch/optim/optimizer.h>
#include <torch/types.h>

namespace nectar {

class LossScaler {
public:
    LossScaler() = default;
    LossScaler(bool enabled, const torch::Device& device, double init_scale = 65536.0, double growth_factor = 2.0,
        double backoff_factor = 0.5, int growth_interval = 2000);

    bool enabled() const { return m_enabled; }
    /// backward of `loss` (scaled when enabled), then `after_backward` (data-parallel gradient averaging,
    /// on the scaled gradients, so every rank sees the same Inf/NaN), and, if the gradients are finite,
    /// optimizer.step(). Returns false when the step was skipped because of Inf/NaN gradients (scale reduced).
    bool backward_and_step(const torch::Tensor& loss, torch::optim::Optimizer& optimizer,
        const std::function<void()>& after_backward = nullptr);
    double scale() const;

    /// State for checkpoints: {scale, growth_tracker}.
    std::pair<double, std::int64_t> state() const;
    void set_state(double scale, std::int64_t growth_tracker);

private:
    bool m_enabled = false;
    torch::Tensor m_scale; // float32 [1] on device
    torch::Tensor m_growth_tracker; // int32 [1] on device
    double m_growth = 2.0, m_backoff = 0.5;
    int m_interval = 2000;
};

} // namespace nectar
