// SPDX-License-Identifier: Apache-2.0
// nectar-toolbox: the Qt Widgets GUI (see README, "The toolbox GUI").
#include <QApplication>

#include "mainwindow.h"
#include "util/allocator.h"

int main(int argc, char* argv[])
{
    nectar::tune_allocator_for_training(); // training runs in this process (worker thread)
    QApplication app(argc, argv);
    QApplication::setOrganizationName(QStringLiteral("NectarToolbox"));
    QApplication::setApplicationName(QStringLiteral("nectar-toolbox"));
    QApplication::setApplicationVersion(QStringLiteral(NECTAR_VERSION));
    MainWindow window;
    window.show();
    return QApplication::exec();
}
