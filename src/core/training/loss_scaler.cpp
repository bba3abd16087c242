// SPDX-License-Identifier: Apache-2.0
#include "training/loss_scaler.h"

#include <ATen/ATen.h>
#include <torch/torch.h>

namespace nectar {

LossScaler::LossScaler(bool enabled, const torch::Device& device, double init_scale, double growth_factor,
    double backoff_factor, int growth_interval)
    : m_enabled(enabled)
    , m_growth(growth_factor)
    , m_backoff(backoff_factor)
    , m_interval(growth_interval)
{
    if (m_enabled) {
        m_scale = torch::full({ 1 }, init_scale, torch::dtype(torch::kFloat32).device(device));
        m_growth_tracker = torch::zeros({ 1 }, torch::dtype(torch::kInt32).device(device));
    }
}

bool LossScaler::backward_and_step(
    const torch::Tensor& loss, torch::optim::Optimizer& optimizer, const std::function<void()>& after_backward)
{
    if (!m_enabled) {
        loss.backward();
        if (after_backward)
            after_backward();
        optimizer.step();
        return true;
    }
    (loss.to(torch::kFloat32) * m_scale).backward();
    if (after_backward)
        after_backward();
    std::vector<torch::Tensor> grads;
    for (auto& group : optimizer.param_groups())
        for (auto& p : group.params())
            if (p.grad().defined())
                grads.push_back(p.grad());
    auto found_inf = torch::zeros({ 1 }, m_scale.options());
    auto inv_scale = m_scale.to(torch::kFloat64).reciprocal().to(torch::kFloat32);
    if (!grads.empty())
        at::_amp_foreach_non_finite_check_and_unscale_(grads, found_inf, inv_scale);
    const bool finite = found_inf.item<float>() == 0.0f;
    if (finite)
        optimizer.step();
    at::_amp_update_scale_(m_scale, m_growth_tracker, found_inf, m_growth, m_backoff, m_interval);
    return finite;
}

double LossScaler::scale() const
{
    return m_enabled ? m_scale.item<double>() : 1.0;
}

std::pair<double, std::int64_t> LossScaler::state() const
{
    if (!m_enabled)
        return { 1.0, 0 };
    return { m_scale.item<double>(), m_growth_tracker.item<std::int64_t>() };
}

void LossScaler::set_state(double scale, std::int64_t growth_tracker)
{
    if (!m_enabled)
        return;
    m_scale.fill_(scale);
    m_growth_tracker.fill_(growth_tracker);
}

} // namespace nectar
