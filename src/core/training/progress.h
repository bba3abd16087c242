// SPDX-License-Identifier: Apache-2.0
#pragma once
/// @file Training progress API without Qt or LibTorch types, so GUI headers can include it.
/// The trainer reports through TrainingObserver at the update rate (never one device sync per
/// loss per iteration); requests go the other way through TrainingControl (training/control.h).

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "io/rgb_image.h"
#include "losses/loss_log.h"

namespace nectar {

/// Values of one loss for every iteration since the previous report (one entry per iteration
/// in which the loss ran; a loss skipped because its weight is 0 has no entry: it is shown disabled).
struct LossSeriesChunk {
    std::string name;
    std::vector<std::string> tags;
    std::vector<std::int64_t> iterations; ///< global iteration index (0-based, counted over the run)
    std::vector<float> raw; ///< unweighted batch means
    std::vector<float> weights; ///< weight applied at that iteration
    std::vector<double> wall_time; ///< Unix seconds of each value (empty: unknown, e.g. NectarGAN logs)
    bool enabled = true; ///< false while the current weight is 0 (loss skipped)
};

struct RunInfo {
    std::string experiment_dir;
    std::string device; ///< device actually used, e.g. "cpu", "cuda:0" (rank 0's in a data-parallel run)
    int world_size = 1; ///< processes training together (data-parallel)
    std::string backend; ///< their collective backend ("gloo" | "nccl"); empty for one process
    int first_epoch = 1; ///< 1-based (> 1 when continuing)
    int last_epoch = 1; ///< inclusive
    std::int64_t iterations_per_epoch = 0;
    std::vector<std::string> loss_names;
    std::map<std::string, std::vector<std::string>> loss_tags;
    std::int64_t first_iteration = 0; ///< global iteration (0-based) this run starts at
    /// Per loss, the weight each epoch of the plan will apply (first_epoch .. last_epoch, schedules
    /// evaluated in advance): the weights chart draws it ahead of the current iteration.
    std::map<std::string, std::vector<double>> planned_weights;
};

struct ProgressReport {
    int epoch = 0; ///< 1-based
    int first_epoch = 1;
    int last_epoch = 1;
    std::int64_t iteration = 0; ///< 1-based, within the epoch
    std::int64_t iterations_per_epoch = 0;
    std::int64_t global_iteration = 0; ///< iterations done in this run so far
    std::vector<LossSeriesChunk> losses;
    double lr_g = 0.0;
    double lr_d = 0.0;
    double iterations_per_second = 0.0;
    double elapsed_seconds = 0.0;
    double eta_seconds = 0.0; ///< seconds until the run ends
    std::map<std::string, double> phase_seconds; ///< mean seconds per iteration by phase (data, D, G, ...)
    std::optional<RgbImage> example_input, example_generated, example_target;
    std::vector<LossEdit> edits; ///< live objective edits applied since the previous report (also journaled)
};

struct EpochSummary {
    int epoch = 0;
    double seconds = 0.0;
    std::map<std::string, double> mean_raw_loss; ///< by loss name
    double lr_g = 0.0, lr_d = 0.0;
    bool checkpoint_saved = false;
    bool examples_saved = false;
    bool stopped = false; ///< a stop request ended the epoch early (or at its end)
    std::int64_t iterations = 0; ///< iterations run in this epoch
    std::int64_t iterations_per_epoch = 0; ///< iterations a full epoch has
};

enum class MessageLevel { Info, Warning, Error };

/// Receives progress on the training thread. Implementations must be cheap and must not call back
/// into the trainer except through TrainingControl.
class TrainingObserver {
public:
    virtual ~TrainingObserver() = default;
    virtual void on_run_started(const RunInfo&) { }
    virtual void on_progress(const ProgressReport&) { }
    virtual void on_epoch_end(const EpochSummary&) { }
    virtual void on_message(MessageLevel, const std::string&) { }
    /// `stopped` is true when a stop request ended the run early.
    virtual void on_run_finished(bool stopped) { (void)stopped; }
};

} // namespace nectar
