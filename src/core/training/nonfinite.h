// SPDX-License-Identifier: Apache-2.0
#pragma once
/// @file What training does when a step's total loss is NaN/Inf (`train.nonfinite_policy`). NectarGAN has
/// no such check: its optimizer steps on and the weights turn NaN.
///   stop   (default) check each network's total before its optimizer step (one host sync per network per
///          iteration); throw NonFiniteLossError naming the loss, its tags, the epoch and iteration;
///   skip   skip that optimizer step and warn;
///   ignore check nothing (no per-iteration sync).

#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

#include <torch/types.h>

#include "config/choices.h"

namespace nectar {

/// A loss turned NaN/Inf (policy "stop").
class NonFiniteLossError : public std::runtime_error {
public:
    NonFiniteLossError(
        const std::string& what, std::string loss, std::vector<std::string> tags, int epoch, std::int64_t iteration)
        : std::runtime_error(what)
        , loss(std::move(loss))
        , tags(std::move(tags))
        , epoch(epoch)
        , iteration(iteration)
    {
    }
    std::string loss;
    std::vector<std::string> tags;
    int epoch;
    std::int64_t iteration; ///< 1-based within the epoch
};

/// One loss of a network's total, for naming the culprit.
struct SummedLoss {
    std::string name;
    std::vector<std::string> tags;
    torch::Tensor value; ///< its weighted value in this step (0-d)
};

/// Applies `policy` to a network's total loss `total` (0-d) before its optimizer step. Returns false when
/// the step must be skipped (policy skip; `warn` gets the message). With policy stop, throws
/// NonFiniteLossError naming the first non-finite loss of `parts()` (called only then; else `what`) at
/// epoch/iteration.
/// `any_rank` (data-parallel; null for one process) maps this rank's verdict (true = non-finite) to "any
/// rank's total is non-finite", so every rank skips or stops at the same step; a rank whose own total
/// is finite then names the other ranks as the cause.
bool check_finite(NonFinitePolicy policy, const torch::Tensor& total,
    const std::function<std::vector<SummedLoss>()>& parts, const std::string& what, int epoch, std::int64_t iteration,
    const std::function<void(const std::string&)>& warn, const std::function<bool(bool)>& any_rank = nullptr);

} // namespace nectar
