// SPDX-License-Identifier: Apache-2.0
#include "training/fused_adam.h"

#include <cmath>

#include <ATen/Parallel.h>
#include <torch/torch.h>

#include "util/torch_compat.h"

namespace nectar {

namespace {

// One pass over [begin, end): m, v and p updated in place. Built for AVX-512, AVX2 and baseline x86-64,
// picked at load time (the library is compiled for baseline x86-64); with -fno-math-errno (CMake) the
// sqrt vectorises.
#if defined(__GNUC__) && defined(__x86_64__) && !defined(__clang__)
__attribute__((target_clones("avx512f", "avx2", "default")))
#endif
void adam_update(float* __restrict pp, const float* __restrict gp, float* __restrict mp, float* __restrict vp,
    std::int64_t begin, std::int64_t end, float b1, float b2, float one_b1, float one_b2, float inv_sqrt_bc2,
    float eps, float step_size)
{
    for (std::int64_t i = begin; i < end; ++i) {
        const float g = gp[i];
        const float m = mp[i] * b1 + one_b1 * g;
        const float v = vp[i] * b2 + one_b2 * g * g;
        mp[i] = m;
        vp[i] = v;
        pp[i] -= step_size * m / (std::sqrt(v) * inv_sqrt_bc2 + eps);
    }
}

} // namespace

torch::Tensor FusedAdam::step(LossClosure closure)
{
    torch::NoGradGuard no_grad;
    torch::Tensor loss = {};
    if (closure != nullptr) {
        at::AutoGradMode enable_grad(true);
        loss = closure();
    }
    for (auto& group : param_groups_) {
        auto& options = static_cast<torch::optim::AdamOptions&>(group.options());
        for (auto& p : group.params()) {
            if (!p.grad().defined())
                continue;
            auto grad = p.grad();
            TORCH_CHECK(!grad.is_sparse(), "FusedAdam does not support sparse gradients");
            const auto key = compat::optimizer_state_key(p);
            auto it = state_.find(key);
            if (it == state_.end()) {
                auto st = std::make_unique<torch::optim::AdamParamState>();
                st->step(0);
                st->exp_avg(torch::zeros_like(p, torch::MemoryFormat::Preserve));
                st->exp_avg_sq(torch::zeros_like(p, torch::MemoryFormat::Preserve));
                if (options.amsgrad())
                    st->max_exp_avg_sq(torch::zeros_like(p, torch::MemoryFormat::Preserve));
                it = state_.emplace(key, std::move(st)).first;
            }
            auto& st = static_cast<torch::optim::AdamParamState&>(*it->second);
            auto& exp_avg = st.exp_avg();
            auto& exp_avg_sq = st.exp_avg_sq();
            st.step(st.step() + 1);
            const double beta1 = std::get<0>(options.betas());
            const double beta2 = std::get<1>(options.betas());
            const double bias_correction1 = 1 - std::pow(beta1, st.step());
            const double bias_correction2 = 1 - std::pow(beta2, st.step());
            const double step_size = options.lr() / bias_correction1;

            const bool fast = p.device().is_cpu() && p.scalar_type() == torch::kFloat32
                && grad.scalar_type() == torch::kFloat32 && p.is_contiguous() && grad.is_contiguous()
                && exp_avg.is_contiguous() && exp_avg_sq.is_contiguous() && !options.amsgrad()
                && options.weight_decay() == 0.0;
            if (fast) {
                float* pp = p.data_ptr<float>();
                const float* gp = grad.data_ptr<float>();
                float* mp = exp_avg.data_ptr<float>();
                float* vp = exp_avg_sq.data_ptr<float>();
                const float b1 = static_cast<float>(beta1), b2 = static_cast<float>(beta2);
                const float one_b1 = static_cast<float>(1 - beta1), one_b2 = static_cast<float>(1 - beta2);
                const float inv_sqrt_bc2 = static_cast<float>(1.0 / std::sqrt(bias_correction2));
                const float eps = static_cast<float>(options.eps());
                const float ss = static_cast<float>(step_size);
                at::parallel_for(0, p.numel(), 32768, [&](int64_t begin, int64_t end) {
                    adam_update(pp, gp, mp, vp, begin, end, b1, b2, one_b1, one_b2, inv_sqrt_bc2, eps, ss);
                });
                continue;
            }
            if (options.weight_decay() != 0)
                grad = grad.add(p, options.weight_decay());
            exp_avg.mul_(beta1).add_(grad, 1 - beta1);
            exp_avg_sq.mul_(beta2).addcmul_(grad, grad, 1 - beta2);
            torch::Tensor denom;
            if (options.amsgrad()) {
                auto& max_exp_avg_sq = st.max_exp_avg_sq();
                torch::max_out(max_exp_avg_sq, exp_avg_sq, max_exp_avg_sq);
                denom = (max_exp_avg_sq.sqrt() / std::sqrt(bias_correction2)).add_(options.eps());
            } else {
                denom = (exp_avg_sq.sqrt() / std::sqrt(bias_correction2)).add_(options.eps());
            }
            p.addcdiv_(exp_avg, denom, -step_size);
        }
    }
    return loss;
}

} // namespace nectar
