// SPDX-License-Identifier: Apache-2.0
#pragma once
/// @file Batches each loss's detached weighted values on the training device and hands them to a
/// TrainingObserver in one host transfer per report (every train.update_rate iterations), so training
/// never syncs the device once per loss per iteration. Keeps the epoch's raw sums for EpochSummary.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <torch/types.h>

#include "training/progress.h"

namespace nectar {

/// A loss as a report lists it.
struct ReportedLoss {
    std::string name;
    std::vector<std::string> tags;
    bool enabled = true; ///< false while its weight is 0 (not computed) or it has neither tag G nor D
};

class ProgressReporter {
public:
    /// `observer` may be null: values are then dropped every 256 iterations, so memory stays bounded.
    explicit ProgressReporter(TrainingObserver* observer);

    /// Records the weighted value (0-d tensor, any device; detached here) of `loss` at the 0-based global
    /// iteration, computed with `weight`.
    void record(const std::string& loss, std::int64_t global_iteration, const torch::Tensor& weighted, float weight);
    /// The newest value recorded for `loss` since the last report (undefined if none): the non-finite check
    /// reads it on its rare error path.
    torch::Tensor latest(const std::string& loss) const;

    /// Counts an iteration; true when `rate` iterations have passed since the last report.
    bool iteration_done(int rate);
    /// Moves every pending value to the host in one transfer and sends `r` (epoch, LRs, ... filled by the
    /// caller) with a chunk per loss of `losses`: raw = weighted / weight (exact: a loss at weight 0 is
    /// not computed). Adds the raw values to the epoch sums. Without an observer, only drops the values.
    void send(ProgressReport r, const std::vector<ReportedLoss>& losses);

    void begin_epoch();
    /// Mean raw value of each loss over the values reported in this epoch.
    std::map<std::string, double> epoch_means() const;

private:
    struct Pending {
        std::vector<std::int64_t> iterations;
        std::vector<torch::Tensor> weighted;
        std::vector<float> weights;
    };
    TrainingObserver* m_observer;
    std::map<std::string, Pending> m_pending;
    std::map<std::string, double> m_epoch_sum;
    std::map<std::string, std::int64_t> m_epoch_count;
    std::int64_t m_since_report = 0;
};

} // namespace nectar
