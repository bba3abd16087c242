// SPDX-License-Identifier: Apache-2.0
#pragma once
/// @file Private to config.cpp: the strict reader of one config section (Section). It checks each key's
/// JSON type, names the JSON path of a bad value, and sends keys no field knows to Config::unknown (or
/// fails when there is nowhere to keep them). Not part of the engine's API.

#include <cmath>
#include <cstdint>
#include <limits>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "config/config.h"
#include "util/error_text.h"

namespace nectar::config_detail {

using nlohmann::json;

using detail::json_text;
using detail::located;
using detail::number_text;

using detail::pointer_token;

inline std::string type_name(const json& v)
{
    if (v.is_number_integer())
        return "integer";
    if (v.is_number_float())
        return "number";
    return v.type_name();
}

// Where the unknown keys of a parse go. Without a sink (standalone from_json) an unknown key is an error.
struct ParseContext {
    std::string source;
    json* unknown = nullptr;
    std::vector<std::string>* warnings = nullptr;
    std::size_t warned = 0; ///< warnings given, also those past kMaxWarnings (summed up in one line)
    static constexpr std::size_t kMaxWarnings = 20;

    /// One warning line, the path bounded and printable; past kMaxWarnings only counted (a file with 65,536
    /// unknown keys must not print 65,536 lines).
    void warn(const std::string& path, const std::string& msg)
    {
        if (warnings && warned++ < kMaxWarnings)
            warnings->push_back(located(source, detail::printable(detail::bounded_text(path, 160)), msg));
    }
    /// The line for the warnings past kMaxWarnings, if any.
    void finish_warnings()
    {
        if (warnings && warned > kMaxWarnings)
            warnings->push_back(located(
                source, "/", std::to_string(warned - kMaxWarnings) + " more warnings like these (unknown keys kept)"));
    }
};

class Section {
public:
    Section(const json& j, std::string path, ParseContext& ctx)
        : m_j(j)
        , m_path(std::move(path))
        , m_ctx(ctx)
    {
        if (!j.is_object())
            fail(m_path, "expected an object, got " + type_name(j) + " " + json_text(j));
    }

    [[noreturn]] void fail(const std::string& path, const std::string& msg) const
    {
        throw ConfigError(located(m_ctx.source, path, msg));
    }

    std::string path_of(const std::string& key) const { return m_path + "/" + pointer_token(key); }

    const json* take(const std::string& key)
    {
        auto it = m_j.find(key);
        if (it == m_j.end())
            return nullptr;
        m_seen.insert(key);
        return &*it;
    }

    void get(const std::string& key, std::string& out)
    {
        if (const json* v = take(key)) {
            if (!v->is_string())
                fail(path_of(key), "expected a string, got " + type_name(*v) + " " + json_text(*v));
            out = v->get<std::string>();
        }
    }
    void get(const std::string& key, bool& out)
    {
        if (const json* v = take(key)) {
            if (!v->is_boolean())
                fail(path_of(key), "expected true or false, got " + type_name(*v) + " " + json_text(*v));
            out = v->get<bool>();
        }
    }
    void get(const std::string& key, double& out)
    {
        if (const json* v = take(key)) {
            if (!v->is_number())
                fail(path_of(key), "expected a number, got " + type_name(*v) + " " + json_text(*v));
            out = v->get<double>();
        }
    }
    void get(const std::string& key, std::int64_t& out)
    {
        if (const json* v = take(key))
            out = integer(
                *v, path_of(key), std::numeric_limits<std::int64_t>::min(), std::numeric_limits<std::int64_t>::max());
    }
    void get(const std::string& key, int& out)
    {
        if (const json* v = take(key))
            out = static_cast<int>(
                integer(*v, path_of(key), std::numeric_limits<int>::min(), std::numeric_limits<int>::max()));
    }
    void get(const std::string& key, std::vector<int>& out)
    {
        if (const json* v = take(key)) {
            if (!v->is_array())
                fail(path_of(key), "expected an array of integers, got " + type_name(*v) + " " + json_text(*v));
            std::vector<int> result;
            for (std::size_t i = 0; i < v->size(); ++i)
                result.push_back(static_cast<int>(integer((*v)[i], path_of(key) + "/" + std::to_string(i),
                    std::numeric_limits<int>::min(), std::numeric_limits<int>::max())));
            out = std::move(result);
        }
    }
    /// A choice (config/choices.h) written as its name.
    template <class E> void get_choice(const std::string& key, E& out)
    {
        if (const json* v = take(key)) {
            const auto value = v->is_string() ? choice_from_name<E>(v->get<std::string>()) : std::nullopt;
            if (!value)
                fail(path_of(key),
                    "expected one of " + quoted_choices(choice_names<E>()) + " (got " + json_text(*v) + ")");
            out = *value;
        }
    }
    /// A free-form JSON object kept as is (augmentations).
    void get_object(const std::string& key, json& out)
    {
        if (const json* v = take(key)) {
            if (!v->is_object())
                fail(path_of(key), "expected an object, got " + type_name(*v) + " " + json_text(*v));
            out = *v;
        }
    }

    template <class T> void sub(const std::string& key, T& out);

    /// Keys not read so far, in key order.
    std::vector<std::string> rest() const
    {
        std::vector<std::string> keys;
        for (auto it = m_j.begin(); it != m_j.end(); ++it)
            if (!m_seen.count(it.key()))
                keys.push_back(it.key());
        return keys;
    }

    void keep_unknown(const std::string& key)
    {
        const json* v = take(key);
        const std::string path = path_of(key);
        if (!m_ctx.unknown)
            fail(path, "unknown key (value " + json_text(*v) + ")");
        (*m_ctx.unknown)[path] = *v;
        m_ctx.warn(path, "unknown key, kept and written back unchanged");
    }

    void finish()
    {
        for (const std::string& key : rest())
            keep_unknown(key);
    }

    ParseContext& context() { return m_ctx; }
    const std::string& path() const { return m_path; }

private:
    std::int64_t integer(const json& v, const std::string& path, std::int64_t lo, std::int64_t hi) const
    {
        if (v.is_number_integer()) {
            if (v.is_number_unsigned() && v.get<std::uint64_t>() > static_cast<std::uint64_t>(hi))
                fail(path, "integer out of range (got " + json_text(v) + ")");
            const std::int64_t i = v.get<std::int64_t>();
            if (i < lo || i > hi)
                fail(path, "integer out of range (got " + json_text(v) + ")");
            return i;
        }
        if (v.is_number_float()) {
            // 2.0 is accepted as 2; 2.5 is not.
            const double d = v.get<double>();
            if (std::isfinite(d) && d == std::floor(d) && d >= static_cast<double>(lo) && d <= static_cast<double>(hi))
                return static_cast<std::int64_t>(d);
        }
        fail(path, "expected an integer, got " + type_name(v) + " " + json_text(v));
    }

    const json& m_j;
    std::string m_path;
    ParseContext& m_ctx;
    std::set<std::string> m_seen;
};

} // namespace nectar::config_detail
