// SPDX-License-Identifier: Apache-2.0
#pragma once
/// @file Editors for the loss table: weight and tags as text (validated by the model), schedule
/// through a small editor listing the engine's schedule kinds.

#include <QStyledItemDelegate>

class QComboBox;
class QDoubleSpinBox;
class QSpinBox;

/// Edits a schedule: kind (from nectar::Schedule::kind_names(), without "custom"), start/end epoch
/// (1-based) and initial/target value.
class ScheduleEditor : public QWidget {
    Q_OBJECT
public:
    explicit ScheduleEditor(QWidget* parent = nullptr);
    ~ScheduleEditor() override;
    void setValue(const QVariantMap& map);
    QVariantMap value() const;

private:
    void updateEnabled();
    QComboBox* m_kind;
    QSpinBox* m_start;
    QSpinBox* m_end;
    QDoubleSpinBox* m_initial;
    QDoubleSpinBox* m_target;
};

class LossTableDelegate : public QStyledItemDelegate {
    Q_OBJECT
public:
    explicit LossTableDelegate(QObject* parent = nullptr);
    ~LossTableDelegate() override;
    QWidget* createEditor(QWidget* parent, const QStyleOptionViewItem& option, const QModelIndex& index) const override;
    void setEditorData(QWidget* editor, const QModelIndex& index) const override;
    void setModelData(QWidget* editor, QAbstractItemModel* model, const QModelIndex& index) const override;
    void updateEditorGeometry(
        QWidget* editor, const QStyleOptionViewItem& option, const QModelIndex& index) const override;
};
