// SPDX-License-Identifier: Apache-2.0
#pragma once
/// @file Text pieces for error messages that name a file, a JSON path and a value
/// (shared by the config and spec loaders so both report problems the same way).

#include <cmath>
#include <string>

#include <nlohmann/json.hpp>

namespace nectar::detail {

/// "<source>: <path>: <msg>"; the source is left out when empty, an empty path reads "/".
inline std::string located(const std::string& source, const std::string& path, const std::string& msg)
{
    std::string out;
    if (!source.empty())
        out += source + ": ";
    out += path.empty() ? std::string("/") : path;
    return out + ": " + msg;
}

/// A JSON value as text, cut to 80 characters.
inline std::string json_text(const nlohmann::json& v)
{
    std::string s = v.dump();
    return s.size() > 80 ? s.substr(0, 77) + "..." : s;
}

/// nlohmann writes NaN/Inf as null; error messages must show the real value.
inline std::string number_text(double v)
{
    if (std::isnan(v))
        return "NaN";
    if (std::isinf(v))
        return v > 0 ? "inf" : "-inf";
    return nlohmann::json(v).dump();
}

} // namespace nectar::detail
