// SPDX-License-Identifier: Apache-2.0
#pragma once
/// @file The inline error line of a page (like KDE's KMessageWidget, error style): hidden while empty,
/// word-wrapped, selectable so a user can copy a path out of it.

#include <QLabel>

class InlineMessage : public QLabel {
    Q_OBJECT
public:
    explicit InlineMessage(QWidget* parent = nullptr);
    /// Shows `text`; an empty text hides the line.
    void setMessage(const QString& text);
    /// The shown text; empty while hidden.
    QString message() const;
};
