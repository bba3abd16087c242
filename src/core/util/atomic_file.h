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
/// <reason>" (the path as display_path()); the old file, if any, is then unchanged. Test builds may stop
/// the process before the rename (NECTAR_TEST_KILL_AT=during-write:<what>, util/test_hooks.h).
void write_file_atomically(const std::string& path, const char* data, std::size_t size, const std::string& what);
inline void write_file_atomically(const std::string& path, const std::string& bytes, const std::string& what)
{
    write_file_atomically(path, bytes.data(), bytes.size(), what);
}

} // namespace nectar

namespace nectar {

/// fsync of a written file (e.g. a temp file before its rename). Throws std::runtime_error naming it.
void sync_file(const std::string& path);
/// fsync of a folder, so renames and new entries in it are on disk. Throws std::runtime_error naming it.
void sync_folder(const std::string& dir);

} // namespace nectar
