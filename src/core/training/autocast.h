// SPDX-License-Identifier: Apache-2.0
#pragma once
/// @file CUDA float16 autocast for a scope (torch.autocast("cuda") in NectarGAN's AMP path), on LibTorch
/// 1.13 and 2.x (util/torch_compat.h). A no-op when off (CPU training).

#include <ATen/autocast_mode.h>

#include "util/torch_compat.h"

namespace nectar {

class AutocastScope {
public:
    explicit AutocastScope(bool on)
        : m_on(on)
    {
        if (m_on) {
            m_prev = compat::autocast_enabled(at::kCUDA);
            compat::set_autocast_enabled(at::kCUDA, true);
        }
    }
    ~AutocastScope()
    {
        if (m_on) {
            compat::set_autocast_enabled(at::kCUDA, m_prev);
            if (!m_prev)
                at::autocast::clear_cache(); // cached float16 weight copies belong to this scope
        }
    }
    AutocastScope(const AutocastScope&) = delete;
    AutocastScope& operator=(const AutocastScope&) = delete;

private:
    bool m_on;
    bool m_prev = false;
};

} // namespace nectar
