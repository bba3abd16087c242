// SPDX-License-Identifier: Apache-2.0
#pragma once
/// @file Abstract trainer with NectarGAN's hook structure (`nectargan/trainers/trainer.py`): the training
/// loop, run_epochs(), calls on_epoch_start, then train_step once per batch, then on_epoch_end, and handles
/// pause and stop between iterations. Concrete trainers (Pix2pixTrainer) implement the hooks.

#include <cstdint>

#include <torch/types.h>

namespace nectar {

class DataLoader;
class TrainingControl;

/// How run_epochs() ended.
struct EpochLoopResult {
    bool stopped = false; ///< a stop request ended it early
    int last_epoch_completed = 0; ///< the last epoch whose on_epoch_end ran (0 if none)
};

class Trainer {
public:
    virtual ~Trainer() = default;

    /// Called before the first batch of the 1-based `epoch`.
    virtual void on_epoch_start(int epoch) = 0;
    /// One optimisation step on a batch: x = input [N, C, H, W], y = target [N, C, H, W], float32 on the
    /// training device, in [-1, 1]. `idx` is the 0-based batch index within the epoch.
    virtual void train_step(const torch::Tensor& x, const torch::Tensor& y, std::int64_t idx) = 0;
    /// Called after the last batch of `epoch` (or after the iteration at which a stop was requested,
    /// with `stopped` = true).
    virtual void on_epoch_end(int epoch, bool stopped) = 0;

protected:
    /// The loop over the 1-based epochs first..last (none if first > last). Per batch: on_batch_ready (seconds
    /// waited for the batch), before_iteration, then pause (blocks in TrainingControl::wait_while_paused)
    /// and stop checks, then the batch moves to `device` and train_step runs. A stop ends the epoch after
    /// the current iteration with on_epoch_end(epoch, true); a stop before an epoch's first iteration calls
    /// on_stopped_before(epoch) instead. `control` may be null. Exceptions from the hooks propagate.
    EpochLoopResult run_epochs(
        int first, int last, DataLoader& loader, TrainingControl* control, const torch::Device& device);

    /// Before each iteration (e.g. apply live edits).
    virtual void before_iteration() { }
    /// A stop came before `epoch` ran an iteration: epoch - 1 is the run's last.
    virtual void on_stopped_before(int epoch) { (void)epoch; }
    /// Seconds the loop waited for the batch it is about to train on.
    virtual void on_batch_ready(double seconds) { (void)seconds; }
};

} // namespace nectar
