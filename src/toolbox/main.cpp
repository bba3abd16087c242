// SPDX-License-Identifier: Apache-2.0
// nectar-toolbox: the Qt Widgets GUI (see README, "The toolbox GUI").
#include <QApplication>

#include "application.h"
#include "mainwindow.h"

int main(int argc, char* argv[])
{
    toolbox::prepareProcess();
    QApplication app(argc, argv);
    toolbox::setupApplication();
    MainWindow window;
    window.show();
    return QApplication::exec();
}
