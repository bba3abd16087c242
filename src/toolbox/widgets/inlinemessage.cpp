// SPDX-License-Identifier: Apache-2.0
#include "widgets/inlinemessage.h"

InlineMessage::InlineMessage(QWidget* parent)
    : QLabel(parent)
{
    setWordWrap(true);
    setTextInteractionFlags(Qt::TextSelectableByMouse);
    setStyleSheet(QStringLiteral("InlineMessage { color: #b00020; background: #fdecea; border: 1px solid #f5c2c0; "
                                 "padding: 4px; }"));
    hide();
}

void InlineMessage::setMessage(const QString& text)
{
    setText(text);
    setVisible(!text.isEmpty());
}

QString InlineMessage::message() const
{
    return isHidden() ? QString() : text();
}
