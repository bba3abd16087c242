// SPDX-License-Identifier: Apache-2.0
#include "application.h"

#include <QApplication>

#include "util/allocator.h"

namespace toolbox {

void prepareProcess() noexcept
{
    nectar::tune_allocator_for_training();
}

void setupApplication()
{
    QApplication::setOrganizationName(QStringLiteral("NectarToolbox"));
    QApplication::setApplicationName(QStringLiteral("nectar-toolbox"));
    QApplication::setApplicationVersion(QStringLiteral(NECTAR_VERSION));
}

} // namespace toolbox
