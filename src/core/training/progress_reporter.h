// SPDX-License-Identifier: Apache-2.0
#pragma once
/// @file Progress reports for a TrainingObserver after the run's first iteration, then every
/// train.update_rate iterations. The values are the
/// LossManager's own (LossManager::take_unreported: measured raw batch means and the weights applied, synced
/// in one transfer), so the charts and the loss log show one history; the reporter adds only the iteration
/// of each value. Keeps the epoch's raw sums for EpochSummary.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "training/progress.h"

namespace nectar {

class LossManager;

/// A loss as a report lists it.
struct ReportedLoss {
    std::string name;
    std::vector<std::string> tags;
    bool enabled = true; ///< false while its weight is 0 (not computed) or it has neither tag G nor D
};

class ProgressReporter {
public:
    /// `observer` may be null: then nothing is kept. Turns on `manager`'s reporting when there is an observer.
    ProgressReporter(TrainingObserver* observer, LossManager& manager);

    /// Notes that `loss` was computed (one LossManager::compute_loss_xy call) at the 0-based global iteration.
    void record(const std::string& loss, std::int64_t global_iteration);

    /// Counts an iteration; true when `rate` iterations have passed since the last report, and after the
    /// first iteration of this reporter (the first values show at once).
    bool iteration_done(int rate);
    /// Takes the LossManager's new values (one device sync) and sends `r` (epoch, LRs, ... filled by the
    /// caller) with a chunk per loss of `losses`. Adds the raw values to the epoch sums.
    void send(ProgressReport r, const std::vector<ReportedLoss>& losses);

    void begin_epoch();
    /// Mean raw value of each loss over the values reported in this epoch.
    std::map<std::string, double> epoch_means() const;

private:
    TrainingObserver* m_observer;
    LossManager& m_manager;
    std::map<std::string, std::vector<std::int64_t>> m_iterations; // per loss, since the last report
    std::map<std::string, double> m_epoch_sum;
    std::map<std::string, std::int64_t> m_epoch_count;
    std::int64_t m_since_report = 0;
    bool m_reported = false; // a report was sent: from now on every `rate` iterations
};

} // namespace nectar
