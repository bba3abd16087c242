// SPDX-License-Identifier: Apache-2.0
// Loss-weight schedules: NectarGAN `scheduling/schedules.py` (ScheduleDefs.linear / exponential)
// with 1-based epochs that mean what they say and a step for start == end.
#include "scheduling/schedule.h"

#include <algorithm>
#include <cmath>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "util/error_text.h"
#include "util/strings.h"

namespace nectar {
namespace {

constexpr double kZeroEpsilon = 1e-9; // NectarGAN's replacement for 0 in exponential schedules

// Progress s in [0, 1]. NectarGAN: s = clamp((epoch - start') / (end' - start')) with
// start' = start - 1, end' = end - 1 evaluated at the 1-based epoch, i.e. one epoch early.
// Ours evaluates the same expression with the user's start/end, so our epoch e + 1 equals
// NectarGAN's epoch e. start == end: a step AT that epoch (initial before it, target from it
// on, since the target is reached at end_epoch); NectarGAN divides by zero there.
double progress(const Schedule& s, int epoch)
{
    if (s.end_epoch == s.start_epoch)
        return epoch >= s.end_epoch ? 1.0 : 0.0;
    const double t = double(epoch - s.start_epoch) / double(s.end_epoch - s.start_epoch);
    return std::clamp(t, 0.0, 1.0);
}

double clamp_between(double v, double a, double b)
{
    // NectarGAN clamps to [max(0, min(init, target)), max(init, target)].
    const double lo = std::max(0.0, std::min(a, b));
    const double hi = std::max(a, b);
    return std::clamp(v, lo, hi);
}

} // namespace

Schedule Schedule::linear(int start_epoch, int end_epoch, double initial_value, double target_value)
{
    Schedule s;
    s.kind = Kind::Linear;
    s.start_epoch = start_epoch;
    s.end_epoch = end_epoch;
    s.initial_value = initial_value;
    s.target_value = target_value;
    s.current_value = initial_value;
    return s;
}

Schedule Schedule::exponential(int start_epoch, int end_epoch, double initial_value, double target_value)
{
    Schedule s = linear(start_epoch, end_epoch, initial_value, target_value);
    s.kind = Kind::Exponential;
    return s;
}

Schedule Schedule::custom_fn(Fn fn, int start_epoch, int end_epoch, double initial_value, double target_value)
{
    Schedule s = linear(start_epoch, end_epoch, initial_value, target_value);
    s.kind = Kind::Custom;
    s.custom = std::move(fn);
    return s;
}

double Schedule::value_at(int epoch) const
{
    switch (kind) {
    case Kind::None:
        return current_value;
    case Kind::Linear: {
        const double s = progress(*this, epoch);
        const double v = initial_value + s * (target_value - initial_value);
        return clamp_between(v, initial_value, target_value);
    }
    case Kind::Exponential: {
        double init = initial_value, target = target_value;
        if ((init == 0.0 || target == 0.0) && allow_zero_weights) {
            init = std::max(init, kZeroEpsilon);
            target = std::max(target, kZeroEpsilon);
        }
        const double s = progress(*this, epoch);
        const double v = init * std::pow(target / init, s);
        return clamp_between(v, init, target);
    }
    case Kind::Custom:
        if (!custom)
            throw std::logic_error("Schedule: kind is \"custom\" but no function is set");
        return custom(*this, epoch);
    }
    return current_value;
}

double Schedule::step(int epoch)
{
    current_value = value_at(epoch);
    return current_value;
}

void Schedule::validate() const
{
    auto fail = [](const std::string& field, const std::string& why) {
        throw std::invalid_argument("Schedule: " + field + " " + why);
    };
    if (kind == Kind::None)
        return;
    if (start_epoch < 0)
        fail("start_epoch", "must be >= 0, got " + std::to_string(start_epoch));
    if (end_epoch < start_epoch)
        fail("end_epoch",
            "must be >= start_epoch (" + std::to_string(start_epoch) + "), got " + std::to_string(end_epoch));
    auto check_value = [&](const char* field, double v) {
        if (!is_valid_weight(v)) {
            std::ostringstream os;
            os << "must be a number in [0, 1e6], got " << v;
            fail(field, os.str());
        }
    };
    check_value("initial_value", initial_value);
    check_value("target_value", target_value);
    if (kind == Kind::Custom && !custom)
        fail("custom", "function is not set");
}

std::string Schedule::describe() const
{
    if (!active())
        return "none";
    return kind_name(kind) + " " + short_number(initial_value) + " to " + short_number(target_value) + " over epochs "
        + std::to_string(start_epoch) + "-" + std::to_string(end_epoch);
}

std::vector<std::string> Schedule::kind_names()
{
    return { "none", "linear", "exponential", "custom" };
}

std::string Schedule::kind_name(Kind kind)
{
    switch (kind) {
    case Kind::None:
        return "none";
    case Kind::Linear:
        return "linear";
    case Kind::Exponential:
        return "exponential";
    case Kind::Custom:
        return "custom";
    }
    return "none";
}

Schedule::Kind Schedule::kind_from_name(const std::string& name)
{
    if (name == "none")
        return Kind::None;
    if (name == "linear")
        return Kind::Linear;
    if (name == "exponential")
        return Kind::Exponential;
    if (name == "custom")
        return Kind::Custom;
    throw std::invalid_argument("Unknown schedule \"" + detail::printable(detail::bounded_text(name))
        + "\"; valid schedules: none, linear, exponential, custom");
}

void to_json(nlohmann::json& j, const Schedule& s)
{
    if (s.kind == Schedule::Kind::Custom)
        throw std::invalid_argument("A custom schedule (C++ function) cannot be written to JSON");
    if (s.kind == Schedule::Kind::None) {
        j = nlohmann::json { { "schedule", "none" } };
        return;
    }
    j = nlohmann::json { { "schedule", Schedule::kind_name(s.kind) }, { "start_epoch", s.start_epoch },
        { "end_epoch", s.end_epoch }, { "initial_value", s.initial_value }, { "target_value", s.target_value } };
    if (!s.allow_zero_weights)
        j["allow_zero_weights"] = false;
}

void from_json(const nlohmann::json& j, Schedule& s)
{
    if (!j.is_object())
        throw std::invalid_argument("schedule: expected an object, got " + detail::json_text(j));
    // A misspelt key ("start_epch") would silently keep its default.
    static const std::vector<std::string> known { "schedule", "start_epoch", "end_epoch", "initial_value",
        "target_value", "allow_zero_weights" };
    for (auto it = j.begin(); it != j.end(); ++it)
        if (std::find(known.begin(), known.end(), it.key()) == known.end())
            throw std::invalid_argument("schedule/" + detail::printable(detail::bounded_text(it.key()))
                + ": unknown key (expected one of " + join(known) + ")");
    Schedule out;
    auto str = [&](const char* key, const std::string& def) {
        if (!j.contains(key))
            return def;
        if (!j.at(key).is_string())
            throw std::invalid_argument(
                std::string("schedule/") + key + ": expected a string, got " + detail::json_text(j.at(key)));
        return j.at(key).get<std::string>();
    };
    auto num = [&](const char* key, double def) {
        if (!j.contains(key))
            return def;
        if (!j.at(key).is_number())
            throw std::invalid_argument(
                std::string("schedule/") + key + ": expected a number, got " + detail::json_text(j.at(key)));
        return j.at(key).get<double>();
    };
    auto integer = [&](const char* key, int def) {
        if (!j.contains(key))
            return def;
        if (!j.at(key).is_number_integer())
            throw std::invalid_argument(
                std::string("schedule/") + key + ": expected an integer epoch, got " + detail::json_text(j.at(key)));
        return j.at(key).get<int>();
    };
    out.kind = Schedule::kind_from_name(str("schedule", "none"));
    if (out.kind == Schedule::Kind::Custom)
        throw std::invalid_argument("schedule: \"custom\" schedules can only be set from C++");
    out.start_epoch = integer("start_epoch", 1);
    out.end_epoch = integer("end_epoch", out.start_epoch);
    out.initial_value = num("initial_value", 1.0);
    out.target_value = num("target_value", 1.0);
    if (j.contains("allow_zero_weights")) {
        if (!j.at("allow_zero_weights").is_boolean())
            throw std::invalid_argument("schedule/allow_zero_weights: expected true or false, got "
                + detail::json_text(j.at("allow_zero_weights")));
        out.allow_zero_weights = j.at("allow_zero_weights").get<bool>();
    }
    out.current_value = out.initial_value;
    out.validate();
    s = std::move(out);
}

} // namespace nectar
