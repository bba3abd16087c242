// SPDX-License-Identifier: Apache-2.0
#include "pages/objectivepage.h"

#include <QEvent>
#include <QHeaderView>
#include <QInputDialog>
#include <QShortcut>

#include "bridge/enginebridge.h"
#include "objective/losstabledelegate.h"
#include "objective/losstablemodel.h"
#include "pages/settingsform.h"
#include "ui_objectivepage.h"
#include "widgets/inlinemessage.h"

ObjectivePage::ObjectivePage(QWidget* parent)
    : QWidget(parent)
    , ui(std::make_unique<Ui::ObjectivePage>())
    , m_model(new LossTableModel(this))
{
    ui->setupUi(this);
    ui->lossTable->setModel(m_model);
    auto* delegate = new LossTableDelegate(ui->lossTable);
    delegate->setLastEpochSource([this] { return engine::lastEpoch(config()); });
    ui->lossTable->setItemDelegate(delegate);
    ui->lossTable->setEditTriggers(
        QAbstractItemView::DoubleClicked | QAbstractItemView::EditKeyPressed | QAbstractItemView::AnyKeyPressed);
    // Every column as wide as its widest text (after each edit too, so nothing is elided); Inputs takes the rest.
    QHeaderView* header = ui->lossTable->horizontalHeader();
    header->setSectionResizeMode(QHeaderView::ResizeToContents);
    header->setStretchLastSection(true);
    ui->lossTable->verticalHeader()->setVisible(false);
    ui->splitter->setStretchFactor(0, 3);
    ui->splitter->setStretchFactor(1, 2);
    ui->splitter->setSizes({ 740, 540 });

    ui->newFunctionCombo->addItems(engine::lossFunctionNames());
    for (int i = 0; i < ui->newFunctionCombo->count(); ++i)
        ui->newFunctionCombo->setItemData(
            i, engine::lossFunctionDescription(ui->newFunctionCombo->itemText(i)), Qt::ToolTipRole);
    const QStringList operands = engine::operandNames();
    ui->newPredictionCombo->addItems(operands);
    ui->newTargetCombo->addItems(operands);
    ui->newPredictionCombo->setCurrentText(QStringLiteral("fake"));
    ui->newTargetCombo->setCurrentText(QStringLiteral("real"));

    connect(ui->specCombo, &QComboBox::currentIndexChanged, this, &ObjectivePage::onSpecChanged);
    connect(ui->subspecCombo, &QComboBox::currentIndexChanged, this, &ObjectivePage::onSubspecChanged);
    connect(m_model, &LossTableModel::editRejected, this, &ObjectivePage::showMessage);
    connect(m_model, &LossTableModel::dataChanged, this, [this] { showMessage({}); });
    connect(m_model, &LossTableModel::modelReset, this, &ObjectivePage::updateAvailability);
    connect(m_model, &LossTableModel::rowsInserted, this, &ObjectivePage::updateAvailability);
    connect(m_model, &LossTableModel::rowsRemoved, this, &ObjectivePage::updateAvailability);
    connect(ui->addLossButton, &QPushButton::clicked, this, &ObjectivePage::addLoss);
    connect(ui->newNameEdit, &QLineEdit::returnPressed, this, &ObjectivePage::addLoss);
    connect(ui->removeLossButton, &QPushButton::clicked, this, &ObjectivePage::removeLoss);
    connect(ui->saveSpecButton, &QPushButton::clicked, this, &ObjectivePage::saveAsSpec);
    auto* del = new QShortcut(QKeySequence(QKeySequence::Delete), ui->lossTable);
    del->setContext(Qt::WidgetShortcut);
    connect(del, &QShortcut::activated, this, &ObjectivePage::removeLoss);

    nectar::Config initial;
    initial.dataloader.dataroot = engine::sampleDatasetDirectory().toStdString();
    ui->settingsForm->setConfig(initial);
    refreshSpecs();
}

ObjectivePage::~ObjectivePage() = default;

SettingsForm* ObjectivePage::settings() const
{
    return ui->settingsForm;
}

QString ObjectivePage::spec() const
{
    return ui->specCombo->currentText();
}

QString ObjectivePage::subspec() const
{
    return ui->subspecCombo->currentText();
}

void ObjectivePage::refreshSpecs()
{
    const QString current = spec();
    const QString currentSub = subspec();
    {
        const QSignalBlocker block(ui->specCombo);
        ui->specCombo->clear();
        for (const QString& name : engine::specNames()) {
            ui->specCombo->addItem(name);
            const auto info = engine::spec(name);
            ui->specCombo->setItemData(ui->specCombo->count() - 1,
                QString(info.description + QStringLiteral("\n") + info.source), Qt::ToolTipRole);
        }
    }
    const int i = ui->specCombo->findText(current.isEmpty() ? QStringLiteral("pix2pix") : current);
    ui->specCombo->setCurrentIndex(std::max(0, i));
    onSpecChanged();
    if (!currentSub.isEmpty() && ui->subspecCombo->findText(currentSub) >= 0)
        ui->subspecCombo->setCurrentText(currentSub);
}

void ObjectivePage::onSpecChanged()
{
    const QString name = spec();
    QStringList subspecs;
    if (!name.isEmpty()) {
        try {
            const engine::SpecSummary info = engine::spec(name);
            subspecs = info.subspecs;
            ui->descriptionLabel->setText(tr("%1 <span style='color:gray'>(%2)</span>")
                                              .arg(info.description.toHtmlEscaped(), info.source.toHtmlEscaped()));
        } catch (const std::exception& e) {
            showMessage(QString::fromStdString(e.what()));
        }
    }
    {
        const QSignalBlocker block(ui->subspecCombo);
        ui->subspecCombo->clear();
        ui->subspecCombo->addItems(subspecs);
    }
    onSubspecChanged();
}

void ObjectivePage::onSubspecChanged()
{
    if (!m_updating)
        repopulate();
}

void ObjectivePage::repopulate()
{
    showMessage({});
    if (spec().isEmpty() || subspec().isEmpty()) {
        m_model->setRows({});
        return;
    }
    try {
        m_model->setRows(engine::buildRows(spec(), subspec(), config()));
    } catch (const std::exception& e) { // unknown spec or subspec (a loss that cannot be built keeps its row)
        m_model->setRows({});
        showMessage(QString::fromStdString(e.what()));
    }
}

void ObjectivePage::updateAvailability()
{
    QStringList lines;
    for (const LossRow& r : m_model->rows())
        if (!r.unavailable.isEmpty())
            lines.append(tr("%1 (%2): %3").arg(r.name, r.function, r.unavailable));
    if (lines.isEmpty()) {
        ui->availabilityLabel->setMessage({});
        return;
    }
    ui->availabilityLabel->setMessage(
        tr("Unavailable here, so training with this objective is refused at start (the table can still be edited "
           "and saved as a preset or spec):\n%1")
            .arg(lines.join(QLatin1Char('\n'))));
}

void ObjectivePage::recheckAvailability()
{
    const nectar::Config c = config();
    for (int i = 0; i < m_model->rowCount(); ++i) {
        const LossRow& r = m_model->rows()[static_cast<std::size_t>(i)];
        if (!r.unavailable.isEmpty()) // only these: building an available VGG loss loads its weights
            m_model->setUnavailable(i, engine::unavailableReason(r, c));
    }
    updateAvailability();
}

void ObjectivePage::changeEvent(QEvent* event)
{
    QWidget::changeEvent(event);
    if (event->type() == QEvent::ActivationChange && isActiveWindow() && !m_model->unavailableLosses().isEmpty())
        recheckAvailability();
}

QString ObjectivePage::availabilityMessage() const
{
    return ui->availabilityLabel->message();
}

bool ObjectivePage::selectSpec(const QString& specName, const QString& subspecName)
{
    const int i = ui->specCombo->findText(specName);
    if (i < 0) {
        showMessage(
            tr("Unknown spec \"%1\" (known: %2)").arg(specName, engine::specNames().join(QStringLiteral(", "))));
        return false;
    }
    ui->specCombo->setCurrentIndex(i);
    const int j = ui->subspecCombo->findText(subspecName);
    if (j < 0) {
        showMessage(tr("Unknown subspec \"%1\" of %2").arg(subspecName, specName));
        return false;
    }
    ui->subspecCombo->setCurrentIndex(j);
    return true;
}

nectar::Config ObjectivePage::config() const
{
    nectar::Config c = ui->settingsForm->config();
    c.train.loss.spec = spec().toStdString();
    c.train.loss.subspec = subspec().toStdString();
    return c;
}

void ObjectivePage::setConfig(const nectar::Config& config)
{
    ui->settingsForm->setConfig(config);
    selectSpec(QString::fromStdString(config.train.loss.spec), QString::fromStdString(config.train.loss.subspec));
    repopulate(); // lambdas may have changed
}

void ObjectivePage::applyPreset(const engine::PresetContent& preset)
{
    m_updating = true;
    if (preset.hasSettings)
        ui->settingsForm->setConfig(preset.config);
    selectSpec(preset.spec, preset.subspec);
    m_updating = false;
    m_model->setRows(preset.rows);
    showMessage({});
}

void ObjectivePage::showMessage(const QString& text)
{
    ui->messageLabel->setMessage(text);
    if (!text.isEmpty())
        Q_EMIT statusMessage(text);
}

QString ObjectivePage::message() const
{
    return ui->messageLabel->message();
}

void ObjectivePage::setTrainingActive(bool active, bool liveEdits)
{
    for (QWidget* w : std::initializer_list<QWidget*> {
             ui->specCombo, ui->subspecCombo, ui->addGroup, ui->removeLossButton, ui->settingsForm })
        w->setEnabled(!active);
    m_model->setReadOnlyReason(active && !liveEdits
            ? tr("A multi-process run is training: live edits cannot reach its processes (every rank trains "
                 "the same objective). Stop it to change the table.")
            : QString());
}

void ObjectivePage::addLoss()
{
    LossRow row;
    row.name = ui->newNameEdit->text().trimmed();
    row.function = ui->newFunctionCombo->currentText();
    row.prediction = ui->newPredictionCombo->currentText();
    row.target = ui->newTargetCombo->currentText();
    QString error;
    double w = 0.0;
    QStringList tags;
    if (!LossTableModel::parseWeight(ui->newWeightEdit->text(), &w, &error)
        || !LossTableModel::parseTags(ui->newTagsEdit->text(), &tags, &error)) {
        showMessage(error);
        return;
    }
    row.weight = w;
    row.tags = tags;
    row.unavailable = engine::unavailableReason(row, config());
    if (!m_model->addLoss(row, &error)) {
        showMessage(error);
        return;
    }
    showMessage({});
    ui->newNameEdit->clear();
    Q_EMIT statusMessage(tr("Added %1; use \"Save as spec…\" to train with it").arg(row.name));
}

void ObjectivePage::removeLoss()
{
    const QModelIndex current = ui->lossTable->currentIndex();
    if (!current.isValid()) {
        showMessage(tr("Select a loss to remove."));
        return;
    }
    const QString name = m_model->rows()[static_cast<std::size_t>(current.row())].name;
    m_model->removeLoss(current.row());
    Q_EMIT statusMessage(tr("Removed %1").arg(name));
}

void ObjectivePage::saveAsSpec()
{
    bool ok = false;
    const QString name = QInputDialog::getText(this, tr("Save as spec"),
        tr("Spec name (letters, digits, _ . + -); saved in %1:").arg(engine::userSpecDirectory()), QLineEdit::Normal,
        spec() + QStringLiteral("_custom"), &ok);
    if (!ok || name.trimmed().isEmpty())
        return;
    QString error;
    const QString description = tr("Saved from the toolbox (based on %1 / %2)").arg(spec(), subspec());
    const QString path = engine::saveRowsAsSpec(name, description, m_model->rows(), &error);
    if (path.isEmpty()) {
        showMessage(error);
        return;
    }
    const auto rows = m_model->rows();
    refreshSpecs();
    m_updating = true;
    selectSpec(name.trimmed(), QStringLiteral("default"));
    m_updating = false;
    m_model->setRows(rows); // exactly what was saved (the spec stores these weights)
    showMessage({});
    Q_EMIT statusMessage(tr("Spec \"%1\" saved to %2").arg(name.trimmed(), path));
}
