// SPDX-License-Identifier: Apache-2.0
#include "objective/losstabledelegate.h"

#include <QComboBox>
#include <QDoubleSpinBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QSpinBox>

#include "objective/losstablemodel.h"
#include "scheduling/schedule.h"

ScheduleEditor::ScheduleEditor(QWidget* parent)
    : QWidget(parent)
    , m_kind(new QComboBox(this))
    , m_start(new QSpinBox(this))
    , m_end(new QSpinBox(this))
    , m_initial(new QDoubleSpinBox(this))
    , m_target(new QDoubleSpinBox(this))
{
    setAutoFillBackground(true);
    for (const std::string& k : nectar::Schedule::kind_names()) {
        if (nectar::Schedule::kind_from_name(k) != nectar::Schedule::Kind::Custom)
            m_kind->addItem(QString::fromStdString(k));
    }
    m_kind->setToolTip(tr("Schedule kind: none uses the fixed weight"));
    for (QSpinBox* s : { m_start, m_end }) {
        s->setRange(1, 100000);
    }
    m_start->setToolTip(tr("Start epoch (1-based): the initial value holds up to and including it"));
    m_end->setToolTip(tr("End epoch (1-based, ≥ start): the target value is reached here"));
    for (QDoubleSpinBox* s : { m_initial, m_target }) {
        s->setRange(0.0, 1e9);
        s->setDecimals(6);
    }
    m_initial->setToolTip(tr("Weight up to the start epoch"));
    m_target->setToolTip(tr("Weight from the end epoch on"));
    auto* layout = new QHBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->setSpacing(2);
    layout->addWidget(m_kind);
    layout->addWidget(m_initial);
    layout->addWidget(new QLabel(QStringLiteral("→"), this));
    layout->addWidget(m_target);
    layout->addWidget(new QLabel(tr("ep"), this));
    layout->addWidget(m_start);
    layout->addWidget(new QLabel(QStringLiteral("–"), this));
    layout->addWidget(m_end);
    connect(m_kind, &QComboBox::currentIndexChanged, this, &ScheduleEditor::updateEnabled);
    updateEnabled();
}

ScheduleEditor::~ScheduleEditor() = default;

void ScheduleEditor::updateEnabled()
{
    const bool active
        = m_kind->currentText() != QString::fromStdString(nectar::Schedule::kind_name(nectar::Schedule::Kind::None));
    for (QWidget* w : std::initializer_list<QWidget*> { m_start, m_end, m_initial, m_target })
        w->setEnabled(active);
}

void ScheduleEditor::setValue(const QVariantMap& map)
{
    m_kind->setCurrentText(map.value(QStringLiteral("schedule")).toString());
    m_start->setValue(map.value(QStringLiteral("start_epoch"), 1).toInt());
    m_end->setValue(map.value(QStringLiteral("end_epoch"), 1).toInt());
    m_initial->setValue(map.value(QStringLiteral("initial_value"), 1.0).toDouble());
    m_target->setValue(map.value(QStringLiteral("target_value"), 1.0).toDouble());
    updateEnabled();
}

QVariantMap ScheduleEditor::value() const
{
    QVariantMap m;
    m.insert(QStringLiteral("schedule"), m_kind->currentText());
    m.insert(QStringLiteral("start_epoch"), m_start->value());
    m.insert(QStringLiteral("end_epoch"), m_end->value());
    m.insert(QStringLiteral("initial_value"), m_initial->value());
    m.insert(QStringLiteral("target_value"), m_target->value());
    return m;
}

LossTableDelegate::LossTableDelegate(QObject* parent)
    : QStyledItemDelegate(parent)
{
}

LossTableDelegate::~LossTableDelegate() = default;

QWidget* LossTableDelegate::createEditor(
    QWidget* parent, const QStyleOptionViewItem& option, const QModelIndex& index) const
{
    switch (index.column()) {
    case LossTableModel::WeightColumn: {
        // Free text so that a bad value reaches the model's validation and its message.
        auto* edit = new QLineEdit(parent);
        edit->setToolTip(tr("Weight λ: a finite number ≥ 0"));
        return edit;
    }
    case LossTableModel::TagsColumn: {
        auto* edit = new QLineEdit(parent);
        edit->setToolTip(tr("Comma-separated tags, e.g. \"G\" or \"G, structure\"; empty = untagged"));
        return edit;
    }
    case LossTableModel::ScheduleColumn:
        return new ScheduleEditor(parent);
    default:
        return QStyledItemDelegate::createEditor(parent, option, index);
    }
}

void LossTableDelegate::setEditorData(QWidget* editor, const QModelIndex& index) const
{
    if (auto* e = qobject_cast<ScheduleEditor*>(editor))
        e->setValue(index.data(LossTableModel::ScheduleRole).toMap());
    else if (auto* l = qobject_cast<QLineEdit*>(editor))
        l->setText(index.data(Qt::DisplayRole).toString());
    else
        QStyledItemDelegate::setEditorData(editor, index);
}

void LossTableDelegate::setModelData(QWidget* editor, QAbstractItemModel* model, const QModelIndex& index) const
{
    if (auto* e = qobject_cast<ScheduleEditor*>(editor))
        model->setData(index, e->value(), LossTableModel::ScheduleRole);
    else if (auto* l = qobject_cast<QLineEdit*>(editor))
        model->setData(index, l->text(), Qt::EditRole);
    else
        QStyledItemDelegate::setModelData(editor, model, index);
}

void LossTableDelegate::updateEditorGeometry(
    QWidget* editor, const QStyleOptionViewItem& option, const QModelIndex& index) const
{
    QRect r = option.rect;
    if (index.column() == LossTableModel::ScheduleColumn)
        r.setWidth(std::max(r.width(), editor->sizeHint().width()));
    editor->setGeometry(r);
}
