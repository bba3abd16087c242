// SPDX-License-Identifier: Apache-2.0
#pragma once
/// @file Adam (Kingma & Ba 2015) with a single-pass CPU update. Same mathematics and the same state
/// (torch::optim::AdamParamState: step, exp_avg, exp_avg_sq) as torch::optim::Adam, so save/load and
/// checkpoints are interchangeable with it. torch::optim::Adam in LibTorch 1.13 runs ~6 tensor passes
/// and 2 temporaries per parameter; here each contiguous float32 CPU parameter is updated in one
/// parallel loop (memory-bound: reads p, g, m, v once, writes p, m, v once). Other tensors (CUDA,
/// non-contiguous, amsgrad, weight decay) use the ATen ops of torch::optim::Adam.

#include <torch/optim/adam.h>

namespace nectar {

class FusedAdam : public torch::optim::Adam {
public:
    using torch::optim::Adam::Adam;
    torch::Tensor step(LossClosure closure = nullptr) override;
};

} // namespace nectar
