// SPDX-License-Identifier: Apache-2.0
#pragma once
// Tooltips by object name, for pages that build their controls in helpers: one table per page keeps every
// control's help in one place (tst_objectivepage checks that every control has one).
#include <QString>
#include <QWidget>

#include <initializer_list>
#include <utility>

namespace widgets {

/// Sets the tooltip of each named child of `root` (names not found are a programming error: Q_ASSERT).
inline void setToolTips(QWidget* root, std::initializer_list<std::pair<const char*, QString>> tips)
{
    for (const auto& [name, tip] : tips) {
        QWidget* w = root->findChild<QWidget*>(QString::fromLatin1(name));
        Q_ASSERT_X(w, "setToolTips", name);
        if (w)
            w->setToolTip(tip);
    }
}

} // namespace widgets
