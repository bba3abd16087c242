// SPDX-License-Identifier: Apache-2.0
#include "util/atomic_file.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QSaveFile>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include <fcntl.h>
#include <unistd.h>

#include "util/test_hooks.h"

namespace nectar {

void write_file_atomically(const std::string& path, const char* data, std::size_t size, const std::string& what)
{
    const QString qpath = QString::fromStdString(path);
    const QFileInfo info(qpath);
    auto fail = [&](const std::string& reason) {
        throw std::runtime_error(path + ": cannot write the " + what + ": " + reason);
    };
    if (!info.absoluteDir().exists() && !QDir().mkpath(info.absolutePath()))
        fail("cannot create the folder " + info.absolutePath().toStdString());
    QSaveFile file(qpath);
    if (!file.open(QIODevice::WriteOnly))
        fail(file.errorString().toStdString());
    if (file.write(data, static_cast<qint64>(size)) != static_cast<qint64>(size)) {
        file.cancelWriting();
        fail(file.errorString().toStdString());
    }
    test_kill_point("during-write:" + what);
    if (!file.commit()) // flushes, fsyncs, renames over the old file
        fail(file.errorString().toStdString());
    sync_folder(QFile::encodeName(info.absolutePath()).toStdString()); // the rename itself
}

namespace {
void sync_path(const std::string& path, int flags, const char* what)
{
    const int fd = ::open(path.c_str(), flags | O_CLOEXEC);
    if (fd < 0)
        throw std::runtime_error(
            "cannot open the " + std::string(what) + " " + path + " to sync it: " + std::strerror(errno));
    int rc;
    do
        rc = ::fsync(fd);
    while (rc != 0 && errno == EINTR);
    const int err = errno;
    ::close(fd);
    // EINVAL: the file system cannot sync this kind of file (nothing to wait for).
    if (rc != 0 && err != EINVAL)
        throw std::runtime_error("cannot fsync the " + std::string(what) + " " + path + ": " + std::strerror(err));
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
