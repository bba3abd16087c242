// SPDX-License-Identifier: Apache-2.0
#pragma once
/// @file Lists in messages ("expected one of a, b, c"): the one way the engine joins names and numbers.

#include <cstddef>
#include <sstream>
#include <string>
#include <vector>

namespace nectar {

/// `to_text(item)` of each item of `items`, separated by `sep`; with `max_items` > 0 at most that many,
/// then "..., (N more)".
template <class Range, class ToText>
std::string join_mapped(const Range& items, ToText&& to_text, const std::string& sep = ", ", std::size_t max_items = 0)
{
    std::string out;
    std::size_t n = 0;
    for (const auto& item : items) {
        if (max_items > 0 && n == max_items) {
            std::size_t total = 0;
            for ([[maybe_unused]] const auto& _ : items)
                ++total;
            return out + sep + "... (" + std::to_string(total - max_items) + " more)";
        }
        out += (n++ ? sep : std::string()) + std::string(to_text(item));
    }
    return out;
}

/// "a, b, c" (see join_mapped).
inline std::string join(const std::vector<std::string>& items, const std::string& sep = ", ", std::size_t max_items = 0)
{
    return join_mapped(
        items, [](const std::string& s) -> const std::string& { return s; }, sep, max_items);
}

/// "1, 2, 9" (e.g. epochs with a checkpoint), or `none` for an empty list.
inline std::string join_numbers(const std::vector<int>& numbers, const std::string& none = "none")
{
    return numbers.empty() ? none : join_mapped(numbers, [](int v) { return std::to_string(v); });
}

/// "a, b, c", or `none` for an empty list (e.g. a loss's tags in an edit record).
inline std::string join_or(const std::vector<std::string>& items, const std::string& none = "(none)")
{
    return items.empty() ? none : join(items);
}

/// A number as people write it: 6 significant digits, no trailing zeros ("100", "0.5", "1e-09").
inline std::string short_number(double v)
{
    std::ostringstream os;
    os << v;
    return os.str();
}

} // namespace nectar
