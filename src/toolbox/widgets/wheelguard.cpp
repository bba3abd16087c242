// SPDX-License-Identifier: Apache-2.0
#include "widgets/wheelguard.h"

#include <QAbstractScrollArea>
#include <QAbstractSpinBox>
#include <QComboBox>
#include <QCoreApplication>
#include <QEvent>
#include <QObject>
#include <QWheelEvent>

namespace {

constexpr const char* kGuarded = "nectarWheelGuarded";

class WheelGuard : public QObject {
public:
    using QObject::QObject;

protected:
    bool eventFilter(QObject* watched, QEvent* event) override
    {
        if (event->type() != QEvent::Wheel)
            return false;
        auto* field = qobject_cast<QWidget*>(watched);
        if (!field || field->hasFocus())
            return false;
        // Not focused: the wheel scrolls the panel around the field, as if the field were not there.
        if (QAbstractScrollArea* area = scrollAreaOf(field))
            QCoreApplication::sendEvent(area->viewport(), event);
        return true;
    }

public:
    static QAbstractScrollArea* scrollAreaOf(QWidget* field)
    {
        for (QWidget* w = field->parentWidget(); w; w = w->parentWidget())
            if (auto* area = qobject_cast<QAbstractScrollArea*>(w))
                return area;
        return nullptr;
    }
};

void guard(QWidget* field, QObject* filter, bool onlyInScrollAreas)
{
    if (field->property(kGuarded).toBool() || (onlyInScrollAreas && !WheelGuard::scrollAreaOf(field)))
        return;
    field->setProperty(kGuarded, true);
    field->setFocusPolicy(Qt::StrongFocus);
    field->installEventFilter(filter);
}

} // namespace

void guardWheelOnValueFields(QWidget* root, bool onlyInScrollAreas)
{
    if (!root)
        return;
    auto* filter = new WheelGuard(root); // lives as long as the fields under root
    if (qobject_cast<QAbstractSpinBox*>(root) || qobject_cast<QComboBox*>(root))
        guard(root, filter, onlyInScrollAreas);
    for (QAbstractSpinBox* s : root->findChildren<QAbstractSpinBox*>())
        guard(s, filter, onlyInScrollAreas);
    for (QComboBox* c : root->findChildren<QComboBox*>())
        guard(c, filter, onlyInScrollAreas);
}
