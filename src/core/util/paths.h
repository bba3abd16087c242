// SPDX-License-Identifier: Apache-2.0
#pragma once
/// @file File names as the OS gives them. On Linux a path is bytes, not text: the engine keeps paths as
/// std::string bytes end to end (std::filesystem, POSIX calls; never a QString, whose UTF-8 decoding turns
/// bytes that are not UTF-8 into U+FFFD and so names another file). Text that shows or records a path
/// (error messages, JSON files) uses display_path(): valid UTF-8 unchanged, every other byte as \xNN.

#include <string>

namespace nectar {

/// True when `s` is well-formed UTF-8 (no overlong forms, surrogates or code points above U+10FFFF).
bool is_valid_utf8(const std::string& s);

/// `path` for messages and JSON: valid UTF-8 sequences unchanged, each byte that is not part of one as
/// "\xNN" (two lowercase hex digits), e.g. Latin-1 "caf\xe9.png" -> the 12 characters `caf\xe9.png`.
/// The result is always valid UTF-8.
std::string display_path(const std::string& path);

/// Inverse of display_path for paths read back from JSON: each "\xNN" with NN in 80..ff becomes that byte
/// (NN below 80 is left as text: display_path never writes it). A UTF-8 path that really contains such a
/// backslash sequence cannot be told apart; Linux file names practically never do.
std::string path_from_display(const std::string& text);

} // namespace nectar
