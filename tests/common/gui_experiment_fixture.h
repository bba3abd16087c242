// SPDX-License-Identifier: Apache-2.0
#pragma once
// An experiment folder for GUI suites: the checkpoint fixture's epoch-2 files (tests/data/checkpoints) and a
// config copy of its settings (the generator of checkpoint_fixture_models(): crop 16, 4 features, n_downs 1),
// dataset tests/data/tiny.
#include <QDir>
#include <QFile>
#include <QTemporaryDir>

#include "bridge/enginebridge.h"
#include "config/config.h"

namespace testenv {

/// `<tmp>/fixture_v1`, or "" when a file could not be written.
inline QString fixtureExperiment(const QTemporaryDir& tmp)
{
    const QString data = QStringLiteral(NECTAR_TEST_DATA_DIR);
    const QString exp = QDir(tmp.path()).filePath(QStringLiteral("fixture_v1"));
    QDir().mkpath(exp);
    for (const char* part : { "netG", "netD", "trainer" }) {
        const QString name = QStringLiteral("epoch2_%1.pt").arg(QLatin1String(part));
        if (!QFile::copy(data + QStringLiteral("/checkpoints/torch-1.13/") + name, QDir(exp).filePath(name)))
            return {};
    }
    nectar::Config c;
    c.dataloader.dataroot = (data + QStringLiteral("/tiny")).toStdString();
    c.dataloader.load.load_size = 16;
    c.dataloader.load.crop_size = 16;
    c.train.generator.features = 4;
    c.train.generator.n_downs = 1;
    c.common.device = "cpu";
    c.common.num_threads = 1;
    QString error;
    if (!engine::saveConfig(c, QDir(exp).filePath(QStringLiteral("train1_config.json")), &error))
        return {};
    return exp;
}

} // namespace testenv
