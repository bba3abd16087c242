// SPDX-License-Identifier: Apache-2.0
#pragma once
/// @file Learning-rate schedule of the pix2pix trainer (NectarGAN `Pix2pixTrainer._init_generator`:
/// TorchScheduler(Schedule(start=epochs, end=1+epochs+epochs_decay)) over a LambdaLR; the original
/// pix2pix rule of Isola et al. 2017: constant for `epochs`, then linear decay over `epochs_decay`).
///
/// The schedule is a pure function of the 1-based epoch, so its "position" in a checkpoint is the
/// epoch counter. Values equal NectarGAN's bit for bit (same double operations in the same order):
///   sample = clamp((e - epochs) / (epochs_decay + 1), 0, 1)    (e = 1-based epoch)
///   value  = clamp(initial + sample * (target - initial), max(0, min(initial, target)), max(initial, target))
///   lr     = initial * (value / max(initial, target))           (LambdaLR multiplies by the base lr)
/// For a rising schedule (target > initial) NectarGAN scales by initial/target (a bug); here lr = value.

#include "config/config.h"

namespace nectar {

class LrSchedule {
public:
    LrSchedule() = default;
    /// Throws std::invalid_argument naming the field: negative epochs, both epochs 0,
    /// negative or non-finite rates.
    explicit LrSchedule(const LearningRateConfig& config, const std::string& what = "learning_rate");

    /// Learning rate used by every iteration of the 1-based `epoch` (epochs > the plan give `target`).
    double lr_at(int epoch) const;
    /// Epochs in the plan: epochs + epochs_decay.
    int total_epochs() const { return m_config.epochs + m_config.epochs_decay; }
    const LearningRateConfig& config() const { return m_config; }

private:
    LearningRateConfig m_config;
};

/// The G and D schedules of a run. Without `separate_lr_schedules` D uses G's settings
/// (NectarGAN `_init_lr_scheduling`).
struct NetworkLrSchedules {
    LrSchedule generator;
    LrSchedule discriminator;
    /// Epochs the run trains: the generator's plan (NectarGAN's train script loops over it).
    int total_epochs() const { return generator.total_epochs(); }
};

/// Throws std::invalid_argument naming "train.generator.learning_rate" / "train.discriminator.learning_rate".
NetworkLrSchedules make_lr_schedules(const TrainConfig& train);

} // namespace nectar
