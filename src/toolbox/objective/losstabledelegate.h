// SPDX-License-Identifier: Apache-2.0
#pragma once
/// @file Editors for the loss table: weight and tags as text (validated by the model), schedule
/// through a small two-line editor listing the engine's schedule kinds.

#include <QFrame>
#include <QStyledItemDelegate>

#include <functional>

class QComboBox;
class QDoubleSpinBox;
class QSpinBox;

/// Edits a schedule: kind (from nectar::Schedule::kind_names(), without "custom"), initial/target value
/// and start/end epoch (1-based), each with a label, on two lines so that it fits next to the settings.
/// Tab / Shift+Tab cycle through the fields (kind, initial, target, start, end) without leaving the
/// editor; the delegate commits on Enter or when the focus leaves the editor, Escape cancels.
class ScheduleEditor : public QFrame {
    Q_OBJECT
public:
    explicit ScheduleEditor(QWidget* parent = nullptr);
    ~ScheduleEditor() override;
    /// Shows `schedule` (ScheduleRole map). For schedule "none" the fields are pre-filled with what a newly
    /// chosen kind should start from: initial = target = `weight` (the loss's current λ, so a loss at 0
    /// stays at 0) and epochs 1 … `lastEpoch` (the run's last epoch; <= 0: unknown, the map's epochs).
    void setValue(const QVariantMap& schedule, double weight, int lastEpoch);
    QVariantMap value() const;
    /// The fields in Tab order: kind, initial, target, start, end.
    QList<QWidget*> fields() const;
    /// Moves the focus to the next (previous) enabled field, wrapping around.
    void focusField(bool next);
    /// The view has closed the editor (it is deleted later): focus changes no longer commit it.
    void setClosed() { m_closed = true; }

Q_SIGNALS:
    /// The focus went to a widget outside the editor (the delegate then commits and closes it).
    void focusLeft();

protected:
    bool focusNextPrevChild(bool next) override;

private:
    void updateEnabled();
    void onFocusChanged(QWidget* old, QWidget* now);
    QComboBox* m_kind;
    QDoubleSpinBox* m_initial;
    QDoubleSpinBox* m_target;
    QSpinBox* m_start;
    QSpinBox* m_end;
    bool m_closed = false;
};

class LossTableDelegate : public QStyledItemDelegate {
    Q_OBJECT
public:
    explicit LossTableDelegate(QObject* parent = nullptr);
    ~LossTableDelegate() override;
    /// Where the schedule editor gets the run's last epoch for its pre-filled end epoch (<= 0: unknown).
    void setLastEpochSource(std::function<int()> source) { m_lastEpoch = std::move(source); }
    QWidget* createEditor(QWidget* parent, const QStyleOptionViewItem& option, const QModelIndex& index) const override;
    void setEditorData(QWidget* editor, const QModelIndex& index) const override;
    void setModelData(QWidget* editor, QAbstractItemModel* model, const QModelIndex& index) const override;
    void destroyEditor(QWidget* editor, const QModelIndex& index) const override;
    /// The schedule editor is anchored at its cell at its full size hint, moved left/up as far as needed
    /// to stay inside the view's viewport; the other editors fill their cell.
    void updateEditorGeometry(
        QWidget* editor, const QStyleOptionViewItem& option, const QModelIndex& index) const override;

protected:
    bool eventFilter(QObject* object, QEvent* event) override;

private:
    std::function<int()> m_lastEpoch;
};
