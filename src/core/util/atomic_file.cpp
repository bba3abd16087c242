// SPDX-License-Identifier: Apache-2.0
#include "util/atomic_file.h"

#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <stdexcept>

#include <fcntl.h>
#include <unistd.h>

#include "util/paths.h"
#include "util/test_hooks.h"
#include "util/unique_fd.h"

namespace fs = std::filesystem;

namespace nectar {

void write_file_atomically(const std::string& path, const char* data, std::size_t size, const std::string& what)
{
    // POSIX calls on the path's bytes: a QString (QSaveFile) would re-encode a name that is not UTF-8.
    auto fail = [&](const std::string& reason) {
        throw std::runtime_error(display_path(path) + ": cannot write the " + what + ": " + reason);
    };
    const fs::path target(path);
    const fs::path dir = target.has_parent_path() ? target.parent_path() : fs::path(".");
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) {
        fs::create_directories(dir, ec);
        if (ec || !fs::is_directory(dir))
            fail("cannot create the folder " + display_path(dir.string()) + (ec ? ": " + ec.message() : ""));
    }
    // A fresh name next to the target; O_EXCL never reuses another writer's file, and the kernel applies
    // the umask to 0666 (mkstemp's 0600 would make configs private).
    static std::atomic<unsigned> counter { 0 };
    std::string tmp_name;
    UniqueFd file;
    for (int attempt = 0; file.fd < 0; ++attempt) {
        tmp_name = path + ".tmp" + std::to_string(::getpid()) + "-" + std::to_string(counter.fetch_add(1));
        file.fd = ::open(tmp_name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (file.fd < 0 && (errno != EEXIST || attempt > 100))
            fail(std::strerror(errno));
    }
    auto fail_and_remove = [&](const std::string& reason) {
        ::unlink(tmp_name.c_str());
        fail(reason);
    };
    for (std::size_t done = 0; done < size;) {
        const ssize_t n = ::write(file.fd, data + done, size - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            fail_and_remove(std::strerror(errno));
        done += static_cast<std::size_t>(n);
    }
    if (::fsync(file.fd) != 0)
        fail_and_remove(std::strerror(errno));
    test_kill_point("during-write:" + what);
    const int close_rc = ::close(file.fd);
    file.fd = -1;
    if (close_rc != 0)
        fail_and_remove(std::strerror(errno));
    if (::rename(tmp_name.c_str(), path.c_str()) != 0)
        fail_and_remove(std::strerror(errno));
    sync_folder(dir.string()); // the rename itself is durable only once the folder is synced
}

namespace {
void sync_path(const std::string& path, int flags, const char* what)
{
    UniqueFd f { ::open(path.c_str(), flags | O_CLOEXEC) };
    if (f.fd < 0)
        throw std::runtime_error(
            "cannot open the " + std::string(what) + " " + display_path(path) + " to sync it: " + std::strerror(errno));
    int rc;
    do
        rc = ::fsync(f.fd);
    while (rc != 0 && errno == EINTR);
    // EINVAL: the file system cannot sync this kind of file (nothing to wait for).
    if (rc != 0 && errno != EINVAL)
        throw std::runtime_error(
            "cannot fsync the " + std::string(what) + " " + display_path(path) + ": " + std::strerror(errno));
}
} // namespace

void sync_file(const std::string& path)
{
    sync_path(path, O_RDONLY, "file");
}

void sync_folder(const std::string& dir)
{
    sync_path(dir.empty() ? std::string(".") : dir, O_RDONLY | O_DIRECTORY, "folder");
}

} // namespace nectar
