// SPDX-License-Identifier: Apache-2.0
#pragma once
/// @file Gradient averaging across the ranks of a DistContext, in buckets, overlapped with backward (the
/// scheme of PyTorch's DistributedDataParallel / c10d::Reducer, Li et al. 2020, "PyTorch Distributed",
/// section 3.2): parameters are grouped in reverse registration order (the order backward produces their
/// gradients) into buckets of about `bucket_bytes`; a gradient hook copies each gradient into its bucket's
/// flat buffer, and a full bucket starts an asynchronous SUM allreduce while backward goes on. Buckets
/// start in index order on every rank, so the collectives match. finish() starts what is left, waits, and
/// writes the mean (sum / world size) back into each parameter's .grad.
///
/// A parameter that got no gradient in a backward counts as zeros (as DDP with find_unused_parameters).
/// With overlap off, every bucket starts in finish() (for measuring what the overlap saves).

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include <torch/types.h>

namespace nectar {

class DistContext;

class GradientSync {
public:
    /// `params`: one network's parameters (float32 or float16, on ctx.device()), in registration order.
    /// Registers a gradient hook on each. `ctx` must outlive this object.
    GradientSync(
        DistContext& ctx, std::vector<torch::Tensor> params, std::size_t bucket_bytes = 4u << 20, bool overlap = true);
    ~GradientSync(); ///< removes the hooks
    GradientSync(const GradientSync&) = delete;
    GradientSync& operator=(const GradientSync&) = delete;

    /// Before a backward whose gradients are to be averaged: arms the hooks (gradients of a backward
    /// without begin() are left alone, e.g. G's in the D step).
    void begin();
    /// After that backward: starts the remaining buckets, waits for all, writes the means into .grad.
    /// Throws DistError when a collective fails.
    void finish();

    std::size_t bucket_count() const;
    /// Seconds, summed since the last reset: `wait` is the time finish() blocked on collectives (what the
    /// overlap did not hide); `total` from the first bucket's start to the last one's completion.
    struct Timing {
        double wait_seconds = 0;
        double total_seconds = 0;
        std::int64_t steps = 0;
    };
    Timing timing() const;
    void reset_timing();

private:
    struct Impl;
    std::unique_ptr<Impl> d;
};

} // namespace nectar
