// SPDX-License-Identifier: Apache-2.0
#pragma once
/// @file The one way the engine replaces a file: a temp file in the same folder, fsync, rename, fsync of the
/// folder, so a reader or a crash sees the old file or the new one, never half of one. Paths are bytes
/// (POSIX calls; names need not be UTF-8).

#include <cstddef>
#include <string>

namespace nectar {

/// Writes `size` bytes to `path` atomically, creating missing parent folders. `what` names the file in
/// errors ("config file", "preset file", ...). Throws std::runtime_error "<path>: cannot write the <what>:
/// <reason>" (the path as display_path()); the old file, if any, is then unchanged.
void write_file_atomically(const std::string& path, const char* data, std::size_t size, const std::string& what);
inline void write_file_atomically(const std::string& path, const std::string& bytes, const std::string& what)
{
    write_file_atomically(path, bytes.data(), bytes.size(), what);
}

} // namespace nectar
