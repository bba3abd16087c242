// SPDX-License-Identifier: Apache-2.0
#pragma once
// Shared set-up for the GUI tests: isolated QSettings and user spec folder, artifact folder.
#include <QCoreApplication>
#include <QDir>
#include <QSettings>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QWidget>

#include <qcustomplot.h>

#include "config/config.h"

namespace testenv {

/// Call first in initTestCase(): settings go to Qt's test location, under an application name of this
/// process's own (suites run in parallel, e.g. a suite and its _x11 twin, must not share a profile),
/// and are cleared; the user spec folder is a fresh temporary folder (NECTAR_SPECS_DIR).
inline void isolate(QTemporaryDir& scratch)
{
    QStandardPaths::setTestModeEnabled(true);
    QCoreApplication::setOrganizationName(QStringLiteral("NectarToolboxTest"));
    QCoreApplication::setApplicationName(
        QStringLiteral("nectar-toolbox-test-%1").arg(QCoreApplication::applicationPid()));
    QSettings().clear();
    // The last session (MainWindow::sessionFile) of an earlier test run must not be restored.
    QDir(QStandardPaths::writableLocation(QStandardPaths::AppConfigLocation)).removeRecursively();
    QDir(scratch.path()).mkpath(QStringLiteral("user-specs"));
    qputenv("NECTAR_SPECS_DIR", QDir(scratch.path()).filePath(QStringLiteral("user-specs")).toLocal8Bit());
}

inline QString artifactDir()
{
    const QString dir
        = qEnvironmentVariable("NECTAR_TEST_OUTPUT_DIR", QDir::temp().filePath(QStringLiteral("nectar-gui-artifacts")));
    QDir().mkpath(dir);
    return dir;
}

/// Saves a screenshot of `w` (rendered with QWidget::grab) as <artifacts>/<name>.png.
inline bool screenshot(QWidget* w, const QString& name)
{
    // Pending replots and layout requests first, so the picture shows the current state.
    QCoreApplication::processEvents();
    for (QCustomPlot* plot : w->findChildren<QCustomPlot*>())
        plot->replot(QCustomPlot::rpImmediateRefresh);
    QCoreApplication::processEvents();
    return w->grab().save(QDir(artifactDir()).filePath(name + QStringLiteral(".png")));
}

/// The tiny dataset (tests/data/tiny) and a tiny UNet/PatchGAN on the CPU: a run of a few iterations in
/// seconds. The caller sets epochs, batch size, rates and folders.
inline void useTinyModel(nectar::Config& c)
{
    c.dataloader.dataroot = NECTAR_TEST_DATA_DIR "/tiny";
    c.dataloader.load.load_size = 32;
    c.dataloader.load.crop_size = 32;
    c.dataloader.num_workers = 0;
    c.train.generator.features = 4;
    c.train.generator.n_downs = 2;
    c.train.discriminator.n_layers = 2;
    c.train.discriminator.base_channels = 4;
    c.train.discriminator.max_channels = 8;
    c.common.device = "cpu";
}

} // namespace testenv
