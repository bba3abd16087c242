// SPDX-License-Identifier: Apache-2.0
#include "util/atomic_file.h"

#include <QDir>
#include <QFileInfo>
#include <QSaveFile>

#include <stdexcept>

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
    if (!file.commit()) // flushes, fsyncs, renames over the old file
        fail(file.errorString().toStdString());
}

} // namespace nectar
