// SPDX-License-Identifier: Apache-2.0
#include "util/paths.h"

#include <cstdint>

namespace nectar {

namespace {

/// Length of the well-formed UTF-8 sequence at s[i] (1 to 4), or 0 if none starts there (RFC 3629 table).
std::size_t utf8_sequence_length(const std::string& s, std::size_t i)
{
    const auto at = [&](std::size_t k) { return static_cast<std::uint8_t>(s[k]); };
    const std::uint8_t b = at(i);
    if (b < 0x80)
        return 1;
    std::size_t n = 0;
    std::uint8_t lo = 0x80, hi = 0xbf; // range of the second byte
    if (b >= 0xc2 && b <= 0xdf)
        n = 2;
    else if (b >= 0xe0 && b <= 0xef) {
        n = 3;
        if (b == 0xe0)
            lo = 0xa0; // no overlong forms
        if (b == 0xed)
            hi = 0x9f; // no surrogates
    } else if (b >= 0xf0 && b <= 0xf4) {
        n = 4;
        if (b == 0xf0)
            lo = 0x90;
        if (b == 0xf4)
            hi = 0x8f; // <= U+10FFFF
    } else {
        return 0;
    }
    if (i + n > s.size())
        return 0;
    if (at(i + 1) < lo || at(i + 1) > hi)
        return 0;
    for (std::size_t k = 2; k < n; ++k)
        if (at(i + k) < 0x80 || at(i + k) > 0xbf)
            return 0;
    return n;
}

int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

} // namespace

bool is_valid_utf8(const std::string& s)
{
    for (std::size_t i = 0; i < s.size();) {
        const std::size_t n = utf8_sequence_length(s, i);
        if (n == 0)
            return false;
        i += n;
    }
    return true;
}

std::string display_path(const std::string& path)
{
    static const char digits[] = "0123456789abcdef";
    std::string out;
    out.reserve(path.size());
    for (std::size_t i = 0; i < path.size();) {
        const std::size_t n = utf8_sequence_length(path, i);
        if (n > 0) {
            out.append(path, i, n);
            i += n;
            continue;
        }
        const auto b = static_cast<std::uint8_t>(path[i++]);
        out += "\\x";
        out += digits[b >> 4];
        out += digits[b & 0xf];
    }
    return out;
}

std::string path_from_display(const std::string& text)
{
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '\\' && i + 3 < text.size() && text[i + 1] == 'x') {
            const int h = hex_value(text[i + 2]), l = hex_value(text[i + 3]);
            if (h >= 8 && l >= 0) {
                out += static_cast<char>(h * 16 + l);
                i += 3;
                continue;
            }
        }
        out += text[i];
    }
    return out;
}

} // namespace nectar
