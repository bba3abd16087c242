// SPDX-License-Identifier: Apache-2.0
#pragma once
/// @file Loss-weight schedules (NectarGAN `nectargan.scheduling`: Schedule, ScheduleDefs).

#include <functional>
#include <limits>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "util/limits.h"

namespace nectar {

/// The rule for every loss weight (lambda) and scheduled weight value: a number in [0, 1e6]
/// (limits::max_loss_weight: larger weights only overflow float32 losses). Written once, here; specs,
/// presets, the LossManager, schedules and the GUI's table all call it.
inline bool is_valid_weight(double w)
{
    return w >= 0.0 && w <= limits::max_loss_weight; // false for NaN and +inf
}

/// A loss-weight schedule over training epochs.
///
/// Epochs are 1-based and mean what they say (fixes NectarGAN's one-epoch shift):
/// the value is `initial_value` for every epoch <= `start_epoch`, moves towards
/// `target_value` after it and equals `target_value` from `end_epoch` on.
/// `start_epoch == end_epoch` is a step at that epoch: initial_value before it, target_value from it on
/// (NectarGAN divides by zero).
/// Kind::None means "no schedule: the loss uses its own loss_weight".
struct Schedule {
    enum class Kind { None, Linear, Exponential, Custom };
    /// Custom schedule: returns the weight for a 1-based epoch.
    using Fn = std::function<double(const Schedule&, int epoch)>;

    Kind kind = Kind::None;
    int start_epoch = 1; ///< epochs (1-based)
    int end_epoch = 1; ///< epochs (1-based), >= start_epoch
    double initial_value = 1.0;
    double target_value = 1.0;
    double current_value = 1.0; ///< last value computed by step()
    bool allow_zero_weights = true; ///< exponential: replace 0 by 1e-9 (NectarGAN rule)
    Fn custom; ///< used when kind == Custom

    static Schedule linear(int start_epoch, int end_epoch, double initial_value, double target_value);
    static Schedule exponential(int start_epoch, int end_epoch, double initial_value, double target_value);
    static Schedule custom_fn(Fn fn, int start_epoch, int end_epoch, double initial_value, double target_value);

    bool active() const { return kind != Kind::None; }
    /// Pure: the weight at a 1-based epoch. Throws std::logic_error for Custom without a function.
    double value_at(int epoch) const;
    /// Sets current_value = value_at(epoch) and returns it.
    double step(int epoch);

    /// Throws std::invalid_argument naming the bad field when epochs are unordered,
    /// values are negative or non-finite.
    void validate() const;

    /// Short display text, e.g. "linear 100 to 0 over epochs 1-50"; "none" for Kind::None.
    std::string describe() const;

    /// Registry of kind names ("none", "linear", "exponential", "custom") for GUIs and JSON.
    static std::vector<std::string> kind_names();
    static std::string kind_name(Kind kind);
    /// Throws std::invalid_argument listing the valid names.
    static Kind kind_from_name(const std::string& name);
};

/// JSON: {"schedule": "linear", "start_epoch": .., "end_epoch": .., "initial_value": .., "target_value": ..};
/// Kind::None serialises as {"schedule": "none"}. Custom schedules cannot be serialised (throws).
void to_json(nlohmann::json& j, const Schedule& s);
void from_json(const nlohmann::json& j, Schedule& s);

} // namespace nectar
