// SPDX-License-Identifier: Apache-2.0
#pragma once
/// @file Abstract trainer with NectarGAN's hook structure (`nectargan/trainers/trainer.py`: the training
/// loop calls on_epoch_start, then train_step once per batch, then on_epoch_end). Concrete trainers
/// (Pix2pixTrainer) implement the hooks; the loop, stop/pause handling and timing live in run_epochs().

#include <cstdint>

#include <torch/types.h>

namespace nectar {

class TrainingControl;

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
};

} // namespace nectar
