// SPDX-License-Identifier: Apache-2.0
#pragma once
/// @file Value fields that ignore the mouse wheel unless focused, so scrolling a panel over them scrolls the
/// panel instead of changing epochs or channel counts on the way (the usual fix: Qt::StrongFocus plus an
/// event filter).

class QWidget;

/// For every spin box (QAbstractSpinBox) and combo box in `root` (and `root` itself): focus by click or Tab
/// only (Qt::StrongFocus), and a wheel event while the field has no focus goes to the scroll area the
/// field sits in (or nowhere when there is none). Fields created later are not covered; calling it again
/// for a root covers them, and a field is never guarded twice. With `onlyInScrollAreas`, only fields inside a
/// scroll area are guarded (elsewhere the wheel cannot be meant for anything else).
void guardWheelOnValueFields(QWidget* root, bool onlyInScrollAreas = false);
