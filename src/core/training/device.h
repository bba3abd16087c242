// SPDX-License-Identifier: Apache-2.0
#pragma once
/// @file Training device and thread-count selection (config `common.device`, `common.num_threads`).

#include <string>

#include <torch/types.h>

namespace nectar {

struct DeviceChoice {
    torch::Device device { torch::kCPU };
    std::string message; ///< non-empty when the request could not be met (e.g. CUDA asked, no GPU): a warning
};

/// "cpu" | "cuda" | "cuda:N" | "auto" (CUDA if available, else CPU). A CUDA request without a usable GPU
/// (CPU-only LibTorch, no driver, index out of range) falls back to CPU with a message saying why.
/// Throws std::invalid_argument naming `common.device` and the valid forms for anything else.
DeviceChoice resolve_device(const std::string& requested);

/// Sets LibTorch's intra-op thread count: `num_threads`, or the number of cores when 0.
/// Returns the count in effect. Throws std::invalid_argument when negative.
int apply_num_threads(int num_threads);

} // namespace nectar
