// SPDX-License-Identifier: Apache-2.0
#include "objective/losstabledelegate.h"

#include <QApplication>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QGridLayout>
#include <QKeyEvent>
#include <QLabel>
#include <QLineEdit>
#include <QPointer>
#include <QSpinBox>

#include "objective/losstablemodel.h"
#include "scheduling/schedule.h"
#include "util/limits.h"

ScheduleEditor::ScheduleEditor(QWidget* parent)
    : QFrame(parent)
    , m_kind(new QComboBox(this))
    , m_initial(new QDoubleSpinBox(this))
    , m_target(new QDoubleSpinBox(this))
    , m_start(new QSpinBox(this))
    , m_end(new QSpinBox(this))
{
    setFrameStyle(QFrame::StyledPanel | QFrame::Raised);
    setAutoFillBackground(true);
    for (const std::string& k : nectar::Schedule::kind_names()) {
        if (nectar::Schedule::kind_from_name(k) != nectar::Schedule::Kind::Custom)
            m_kind->addItem(QString::fromStdString(k));
    }
    m_kind->setToolTip(tr("Schedule kind: none uses the fixed weight λ"));
    for (QSpinBox* s : { m_start, m_end })
        s->setRange(1, 100000);
    m_start->setToolTip(tr("Start epoch (1-based): the initial value holds up to and including it"));
    m_end->setToolTip(tr("End epoch (1-based, ≥ start): the target value is reached here"));
    for (QDoubleSpinBox* s : { m_initial, m_target }) {
        s->setRange(0.0, nectar::limits::max_loss_weight);
        s->setDecimals(6);
    }
    m_initial->setToolTip(tr("Weight up to the start epoch"));
    m_target->setToolTip(tr("Weight from the end epoch on"));

    auto* layout = new QGridLayout(this);
    layout->setContentsMargins(6, 4, 6, 4);
    layout->setHorizontalSpacing(4);
    layout->setVerticalSpacing(2);
    auto label = [this](const QString& text, QWidget* buddy) {
        auto* l = new QLabel(text, this);
        l->setBuddy(buddy);
        l->setAlignment(Qt::AlignRight | Qt::AlignVCenter);
        return l;
    };
    layout->addWidget(label(tr("&Kind"), m_kind), 0, 0);
    layout->addWidget(m_kind, 0, 1);
    layout->addWidget(label(tr("&Initial"), m_initial), 0, 2);
    layout->addWidget(m_initial, 0, 3);
    layout->addWidget(label(tr("&Target"), m_target), 0, 4);
    layout->addWidget(m_target, 0, 5);
    auto* keys = new QLabel(tr("Enter applies, Esc cancels"), this);
    keys->setEnabled(false); // a hint, drawn greyed
    layout->addWidget(keys, 1, 0, 1, 2);
    layout->addWidget(label(tr("&Start epoch"), m_start), 1, 2);
    layout->addWidget(m_start, 1, 3);
    layout->addWidget(label(tr("&End epoch"), m_end), 1, 4);
    layout->addWidget(m_end, 1, 5);
    setFocusProxy(m_kind);
    QWidget* previous = m_kind;
    for (QWidget* w : fields()) {
        if (w != m_kind)
            setTabOrder(previous, w);
        previous = w;
    }

    connect(m_kind, &QComboBox::currentIndexChanged, this, &ScheduleEditor::updateEnabled);
    connect(qApp, &QApplication::focusChanged, this, &ScheduleEditor::onFocusChanged);
    updateEnabled();
}

ScheduleEditor::~ScheduleEditor() = default;

QList<QWidget*> ScheduleEditor::fields() const
{
    return { m_kind, m_initial, m_target, m_start, m_end };
}

void ScheduleEditor::updateEnabled()
{
    const bool active
        = m_kind->currentText() != QString::fromStdString(nectar::Schedule::kind_name(nectar::Schedule::Kind::None));
    for (QWidget* w : std::initializer_list<QWidget*> { m_start, m_end, m_initial, m_target })
        w->setEnabled(active);
}

void ScheduleEditor::setValue(const QVariantMap& schedule, double weight, int lastEpoch)
{
    const QString kind = schedule.value(QStringLiteral("schedule")).toString();
    m_kind->setCurrentText(kind);
    m_start->setValue(schedule.value(QStringLiteral("start_epoch"), 1).toInt());
    m_end->setValue(schedule.value(QStringLiteral("end_epoch"), 1).toInt());
    m_initial->setValue(schedule.value(QStringLiteral("initial_value"), weight).toDouble());
    m_target->setValue(schedule.value(QStringLiteral("target_value"), weight).toDouble());
    if (kind == QString::fromStdString(nectar::Schedule::kind_name(nectar::Schedule::Kind::None))) {
        // What choosing a kind starts from: the weight in use now, over the whole run.
        m_initial->setValue(weight);
        m_target->setValue(weight);
        if (lastEpoch > 0) {
            m_start->setValue(1);
            m_end->setValue(lastEpoch);
        }
    }
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

void ScheduleEditor::focusField(bool next)
{
    const QList<QWidget*> all = fields();
    int at = 0;
    for (int i = 0; i < all.size(); ++i)
        if (all[i] == QApplication::focusWidget() || all[i]->isAncestorOf(QApplication::focusWidget()))
            at = i;
    for (int step = 1; step <= all.size(); ++step) {
        QWidget* w = all[((at + (next ? step : -step)) % all.size() + all.size()) % all.size()];
        if (w->isEnabled()) {
            w->setFocus(next ? Qt::TabFocusReason : Qt::BacktabFocusReason);
            return;
        }
    }
}

bool ScheduleEditor::focusNextPrevChild(bool next)
{
    if (!isVisible()) // closing: Qt moves the focus out of a hidden editor through here
        return QFrame::focusNextPrevChild(next);
    // Tab in a field reaches here (QWidget::focusNextPrevChild asks the parent): stay in the editor.
    focusField(next);
    return true;
}

void ScheduleEditor::onFocusChanged(QWidget* /*old*/, QWidget* now)
{
    if (!now || !isVisible())
        return; // the application lost focus, or the editor is closing
    // The kind's popup list is a separate window whose parent chain leads back here.
    for (QWidget* w = now; w; w = w->parentWidget()) {
        if (w == this)
            return;
        if (fields().contains(w)) {
            // hasFocus() follows the proxy: the view then takes the focus back when it closes the editor.
            setFocusProxy(w);
            return;
        }
    }
    // Checked once events settle: when the view closes the editor itself (Enter, Escape, another cell) it moves
    // the focus first and destroys the editor after; only a focus that left an open editor commits it.
    // Posted to the application, not to the editor: closeEditor() delivers the editor's posted events before
    // it destroys the editor.
    QMetaObject::invokeMethod(
        qApp,
        [self = QPointer<ScheduleEditor>(this)] {
            if (!self || self->m_closed || !self->isVisible())
                return;
            for (QWidget* w = QApplication::focusWidget(); w; w = w->parentWidget())
                if (w == self)
                    return;
            Q_EMIT self->focusLeft();
        },
        Qt::QueuedConnection);
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
        edit->setToolTip(tr("Weight λ: a finite number ≥ 0 (0 switches the loss off)"));
        return edit;
    }
    case LossTableModel::TagsColumn: {
        auto* edit = new QLineEdit(parent);
        edit->setToolTip(tr(
            "Comma-separated tags with G (generator step) or D (discriminator step), e.g. \"G\" or \"G, structure\""));
        return edit;
    }
    case LossTableModel::ScheduleColumn: {
        auto* editor = new ScheduleEditor(parent);
        connect(editor, &ScheduleEditor::focusLeft, this, [this, editor] {
            Q_EMIT const_cast<LossTableDelegate*>(this)->commitData(editor);
            Q_EMIT const_cast<LossTableDelegate*>(this)->closeEditor(editor, NoHint);
        });
        return editor;
    }
    default:
        return QStyledItemDelegate::createEditor(parent, option, index);
    }
}

void LossTableDelegate::setEditorData(QWidget* editor, const QModelIndex& index) const
{
    if (auto* e = qobject_cast<ScheduleEditor*>(editor)) {
        e->setValue(index.data(LossTableModel::ScheduleRole).toMap(), index.data(LossTableModel::WeightRole).toDouble(),
            m_lastEpoch ? m_lastEpoch() : 0);
    } else if (auto* l = qobject_cast<QLineEdit*>(editor)) {
        // The value itself, not the cell's text ("5 (scheduled)", "(none)").
        if (index.column() == LossTableModel::WeightColumn)
            l->setText(QString::number(index.data(LossTableModel::WeightRole).toDouble(), 'g', 8));
        else if (index.column() == LossTableModel::TagsColumn)
            l->setText(index.data(LossTableModel::TagsRole).toStringList().join(QStringLiteral(", ")));
        else
            l->setText(index.data(Qt::EditRole).toString());
    } else {
        QStyledItemDelegate::setEditorData(editor, index);
    }
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
    if (index.column() != LossTableModel::ScheduleColumn || !editor->parentWidget()) {
        editor->setGeometry(option.rect);
        return;
    }
    const QSize hint = editor->sizeHint();
    QRect r(option.rect.topLeft(), QSize(std::max(hint.width(), option.rect.width()), hint.height()));
    const QRect area = editor->parentWidget()->rect(); // the viewport
    if (r.right() > area.right())
        r.moveRight(area.right());
    if (r.bottom() > area.bottom())
        r.moveBottom(area.bottom());
    r.moveLeft(std::max(r.left(), area.left()));
    r.moveTop(std::max(r.top(), area.top()));
    editor->setGeometry(r);
}

void LossTableDelegate::destroyEditor(QWidget* editor, const QModelIndex& index) const
{
    if (auto* e = qobject_cast<ScheduleEditor*>(editor))
        e->setClosed();
    QStyledItemDelegate::destroyEditor(editor, index);
}

bool LossTableDelegate::eventFilter(QObject* object, QEvent* event)
{
    // QStyledItemDelegate commits and closes on Tab; in the schedule editor Tab moves between its fields.
    if (auto* e = qobject_cast<ScheduleEditor*>(object); e && event->type() == QEvent::KeyPress) {
        const auto* key = static_cast<QKeyEvent*>(event);
        if (key->key() == Qt::Key_Tab || key->key() == Qt::Key_Backtab) {
            e->focusField(key->key() == Qt::Key_Tab && !(key->modifiers() & Qt::ShiftModifier));
            return true;
        }
    }
    return QStyledItemDelegate::eventFilter(object, event);
}
