// SPDX-License-Identifier: Apache-2.0
#include "scheduling/lr_schedule.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace nectar {

LrSchedule::LrSchedule(const LearningRateConfig& config, const std::string& what)
    : m_config(config)
{
    auto fail = [&](const std::string& key, const std::string& value, const std::string& expected) {
        throw std::invalid_argument(what + "." + key + " = " + value + ": expected " + expected);
    };
    if (config.epochs < 0)
        fail("epochs", std::to_string(config.epochs), "an integer >= 0");
    if (config.epochs_decay < 0)
        fail("epochs_decay", std::to_string(config.epochs_decay), "an integer >= 0");
    if (config.epochs == 0 && config.epochs_decay == 0)
        fail("epochs", "0 (and epochs_decay = 0)", "at least one epoch in epochs + epochs_decay");
    if (!std::isfinite(config.initial) || config.initial < 0.0)
        fail("initial", std::to_string(config.initial), "a finite learning rate >= 0");
    if (!std::isfinite(config.target) || config.target < 0.0)
        fail("target", std::to_string(config.target), "a finite learning rate >= 0");
}

double LrSchedule::lr_at(int epoch) const
{
    const double initial = m_config.initial;
    const double target = m_config.target;
    // NectarGAN: Schedule(start=epochs, end=1+epochs+decay) shifted by -1 in __post_init__,
    // evaluated by LambdaLR at step count (epoch - 1).
    const double start = double(m_config.epochs) - 1.0;
    const double end = double(m_config.epochs + m_config.epochs_decay);
    double sample = (double(epoch - 1) - start) / (end - start);
    sample = std::max(0.0, std::min(1.0, sample));
    const double value = initial + sample * (target - initial);
    const double lowest = std::max(0.0, std::min(initial, target));
    const double highest = std::max(initial, target);
    const double clamped = std::min(highest, std::max(lowest, value));
    if (target > initial || highest == 0.0)
        return clamped;
    return initial * (clamped / highest);
}

NetworkLrSchedules make_lr_schedules(const TrainConfig& train)
{
    NetworkLrSchedules s;
    s.generator = LrSchedule(train.generator.learning_rate, "train.generator.learning_rate");
    s.discriminator = train.separate_lr_schedules
        ? LrSchedule(train.discriminator.learning_rate, "train.discriminator.learning_rate")
        : s.generator;
    return s;
}

} // namespace nectar
