// SPDX-License-Identifier: Apache-2.0
#pragma once
/// @file Text pieces for error messages that name a file, a JSON path and a value
/// (shared by the config, preset and spec loaders so all report problems the same way). Every echoed value
/// is bounded (kJsonExcerptChars) without serialising the whole value first.

#include <cmath>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace nectar {

/// Characters of a value that a message echoes at most (detail::json_text).
constexpr std::size_t kJsonExcerptChars = 80;

} // namespace nectar

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

/// `s` cut to at most `max_chars` bytes, ending in "..." when cut, never inside a UTF-8 sequence.
inline std::string bounded_text(std::string_view s, std::size_t max_chars = kJsonExcerptChars)
{
    if (s.size() <= max_chars)
        return std::string(s);
    std::size_t n = max_chars > 3 ? max_chars - 3 : 0;
    while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80)
        --n; // s[n] would start the cut-off part: back off to a lead byte
    return std::string(s.substr(0, n)) + "...";
}

/// `s` with control characters and bytes that are not valid UTF-8 written as \xNN, so that a message never
/// carries a raw NUL, newline or broken sequence (a key or a token echoed from a file).
inline std::string printable(std::string_view s)
{
    static const char* hex = "0123456789ABCDEF";
    std::string out;
    for (std::size_t i = 0; i < s.size();) {
        const auto c = static_cast<unsigned char>(s[i]);
        // Length of a well-formed UTF-8 sequence starting here (RFC 3629), 0 if none.
        std::size_t n = c < 0x80       ? 1
            : (c >= 0xC2 && c <= 0xDF) ? 2
            : (c >= 0xE0 && c <= 0xEF) ? 3
            : (c >= 0xF0 && c <= 0xF4) ? 4
                                       : 0;
        if (n > 1) {
            if (i + n > s.size())
                n = 0;
            for (std::size_t k = 1; n && k < n; ++k)
                if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80)
                    n = 0;
            const auto c1 = n ? static_cast<unsigned char>(s[i + 1]) : 0;
            if (n
                && ((c == 0xE0 && c1 < 0xA0) || (c == 0xED && c1 > 0x9F) || (c == 0xF0 && c1 < 0x90)
                    || (c == 0xF4 && c1 > 0x8F)))
                n = 0; // overlong, surrogate or beyond U+10FFFF
        }
        if (n == 0 || (n == 1 && (c < 0x20 || c == 0x7F))) {
            out += "\\x";
            out += hex[c >> 4];
            out += hex[c & 0xF];
            ++i;
        } else {
            out.append(s.substr(i, n));
            i += n;
        }
    }
    return out;
}

/// A JSON value as compact text, cut to `max_chars` (bounded_text). Walks the value iteratively and stops
/// once the excerpt is full: a 200 MB or 10^5-deep value costs no more than a small one. Strings that are not
/// valid UTF-8 show U+FFFD instead of throwing.
template <class BasicJson> std::string json_text(const BasicJson& v, std::size_t max_chars = kJsonExcerptChars)
{
    const std::size_t full = max_chars + 1; // one byte more than fits tells that the value was cut
    std::string out;
    auto string_text = [&](const std::string& s) {
        out += BasicJson(s.substr(0, full)).dump(-1, ' ', false, BasicJson::error_handler_t::replace);
    };
    struct Frame {
        const BasicJson* node;
        typename BasicJson::const_iterator it;
        bool first;
    };
    std::vector<Frame> stack;
    auto open = [&](const BasicJson& n) {
        if (n.is_object() || n.is_array()) {
            out += n.is_object() ? '{' : '[';
            stack.push_back(Frame { &n, n.cbegin(), true });
        } else if (n.is_string()) {
            string_text(n.template get_ref<const typename BasicJson::string_t&>());
        } else {
            out += n.dump(-1, ' ', false, BasicJson::error_handler_t::replace);
        }
    };
    open(v);
    while (!stack.empty() && out.size() <= full) {
        Frame& f = stack.back();
        if (f.it == f.node->cend()) {
            out += f.node->is_object() ? '}' : ']';
            stack.pop_back();
            continue;
        }
        if (!f.first)
            out += ',';
        f.first = false;
        if (f.node->is_object()) {
            string_text(f.it.key());
            out += ':';
        }
        const BasicJson& child = *f.it;
        ++f.it; // before open(): push_back may move the frame
        open(child);
    }
    return bounded_text(out, max_chars);
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

/// An RFC 6901 JSON Pointer token ('~' -> "~0", '/' -> "~1"), so keys with those characters give valid paths.
inline std::string pointer_token(const std::string& key)
{
    std::string out;
    for (const char ch : key) {
        if (ch == '~')
            out += "~0";
        else if (ch == '/')
            out += "~1";
        else
            out += ch;
    }
    return out;
}

} // namespace nectar::detail
