// SPDX-License-Identifier: Apache-2.0
#include "pages/settingsform.h"

#include <QFileDialog>
#include <QHBoxLayout>
#include <QMenu>
#include <QStandardItemModel>
#include <QToolButton>

#include <algorithm>

#include "bridge/enginebridge.h"
#include "ui_settingsform.h"
#include "util/paths.h"
#include "widgets/wheelguard.h"

namespace {

// A path's bytes need not be UTF-8: the fields show them as display_path (\xNN) and read that back, so a
// config's folder names survive a round trip through the form byte for byte.
QString shownPath(const std::string& bytes)
{
    return QString::fromStdString(nectar::display_path(bytes));
}

std::string pathBytes(const QString& text)
{
    return nectar::path_from_display(text.trimmed().toStdString());
}

} // namespace

SettingsForm::SettingsForm(QWidget* parent)
    : QWidget(parent)
    , ui(std::make_unique<Ui::SettingsForm>())
{
    ui->setupUi(this);
    ui->directionCombo->addItems(engine::directionNames());
    ui->blockCombo->addItems(engine::blockTypeNames());
    ui->upsampleCombo->addItems(engine::upsampleTypeNames());
    for (const engine::DeviceEntry& d : engine::devices()) {
        ui->deviceCombo->addItem(d.label, d.id);
        const int i = ui->deviceCombo->count() - 1;
        ui->deviceCombo->setItemData(i, d.enabled ? QString() : d.reason, Qt::ToolTipRole);
        if (!d.enabled) {
            if (auto* model = qobject_cast<QStandardItemModel*>(ui->deviceCombo->model()))
                model->item(i)->setEnabled(false);
        }
    }
    for (QComboBox* c : findChildren<QComboBox*>()) {
        // Long entries (e.g. a disabled device with its reason) must not widen the whole form.
        c->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
        c->setMinimumContentsLength(12);
    }
    // A row of its own above the groups: the two starting points, named by what they cost.
    auto* defaultsButton = new QToolButton(this);
    defaultsButton->setObjectName(QStringLiteral("defaultsButton"));
    defaultsButton->setText(tr("Defaults"));
    defaultsButton->setToolTip(tr("Replace the model, data and epoch settings (the dataset root, output folder, "
                                  "experiment name and device are kept)"));
    defaultsButton->setPopupMode(QToolButton::InstantPopup);
    defaultsButton->setToolButtonStyle(Qt::ToolButtonTextOnly);
    auto* menu = new QMenu(defaultsButton);
    QAction* quick = menu->addAction(tr("Quick look (small model): 128 px, 32 features, 3 + 2 epochs"));
    quick->setObjectName(QStringLiteral("actionQuickDefaults"));
    quick->setToolTip(tr("nectar-train's built-in settings: curves within seconds on a CPU"));
    QAction* full = menu->addAction(tr("NectarGAN full size: 256 px, 64 features, 100 + 100 epochs"));
    full->setObjectName(QStringLiteral("actionFullSizeDefaults"));
    full->setToolTip(tr("NectarGAN's own defaults: hours per epoch on a CPU, meant for a GPU"));
    menu->setToolTipsVisible(true);
    defaultsButton->setMenu(menu);
    connect(quick, &QAction::triggered, this, [this] { applyDefaults(Defaults::Quick); });
    connect(full, &QAction::triggered, this, [this] { applyDefaults(Defaults::FullSize); });
    auto* defaultsRow = new QHBoxLayout;
    defaultsRow->addWidget(defaultsButton);
    defaultsRow->addStretch(1);
    ui->settingsLayout->insertLayout(0, defaultsRow);

    connect(ui->datarootBrowse, &QToolButton::clicked, this, &SettingsForm::browseDataroot);
    connect(ui->outputBrowse, &QToolButton::clicked, this, &SettingsForm::browseOutput);
    for (QSpinBox* s : findChildren<QSpinBox*>())
        connect(s, &QSpinBox::valueChanged, this, &SettingsForm::changed);
    for (QDoubleSpinBox* s : findChildren<QDoubleSpinBox*>())
        connect(s, &QDoubleSpinBox::valueChanged, this, &SettingsForm::changed);
    for (QComboBox* c : findChildren<QComboBox*>())
        connect(c, &QComboBox::currentIndexChanged, this, &SettingsForm::changed);
    for (QLineEdit* l : findChildren<QLineEdit*>())
        connect(l, &QLineEdit::textChanged, this, &SettingsForm::changed);
    guardWheelOnValueFields(this);
    setConfig(nectar::Config {});
}

SettingsForm::~SettingsForm() = default;

nectar::Config SettingsForm::defaults(Defaults which)
{
    nectar::Config c;
    if (which == Defaults::FullSize)
        return c;
    // As nectar-train without --config (src/cli/nectar_train.cpp default_config).
    c.dataloader.load.load_size = 143;
    c.dataloader.load.crop_size = 128;
    c.train.generator.features = 32;
    c.train.generator.n_downs = 5;
    c.train.discriminator.base_channels = 32;
    for (nectar::LearningRateConfig* lr : { &c.train.generator.learning_rate, &c.train.discriminator.learning_rate }) {
        lr->epochs = 3;
        lr->epochs_decay = 2;
    }
    c.save.model_save_rate = 5;
    c.train.update_rate = 5;
    return c;
}

void SettingsForm::applyDefaults(Defaults which)
{
    const nectar::Config shown = config();
    nectar::Config c = defaults(which);
    c.dataloader.dataroot = shown.dataloader.dataroot;
    c.common.output_directory = shown.common.output_directory;
    c.common.experiment_name = shown.common.experiment_name;
    c.common.device = shown.common.device;
    c.train.loss = shown.train.loss; // the objective is the table's, not a settings default
    setConfig(c);
}

void SettingsForm::setConfig(const nectar::Config& c)
{
    m_config = c;
    const QSignalBlocker block(this);
    const auto& dl = c.dataloader;
    ui->datarootEdit->setText(shownPath(dl.dataroot));
    ui->directionCombo->setCurrentText(QString::fromStdString(nectar::choice_name(dl.direction)));
    ui->loadSizeSpin->setValue(dl.load.load_size);
    ui->cropSizeSpin->setValue(dl.load.crop_size);
    ui->batchSizeSpin->setValue(dl.batch_size);
    ui->workersSpin->setValue(dl.num_workers);
    const auto& g = c.train.generator;
    const auto& d = c.train.discriminator;
    ui->epochsSpin->setValue(g.learning_rate.epochs);
    ui->decaySpin->setValue(g.learning_rate.epochs_decay);
    ui->lrGSpin->setValue(g.learning_rate.initial);
    ui->lrDSpin->setValue(d.learning_rate.initial);
    ui->beta1Spin->setValue(g.optimizer.beta1);
    ui->featuresSpin->setValue(g.features);
    ui->nDownsSpin->setValue(g.n_downs);
    ui->blockCombo->setCurrentText(QString::fromStdString(nectar::choice_name(g.block_type)));
    ui->upsampleCombo->setCurrentText(QString::fromStdString(nectar::choice_name(g.upsample_type)));
    ui->dLayersSpin->setValue(d.n_layers);
    ui->dBaseSpin->setValue(d.base_channels);
    ui->dMaxSpin->setValue(d.max_channels);
    const int dev = ui->deviceCombo->findData(QString::fromStdString(c.common.device));
    if (dev >= 0) {
        ui->deviceCombo->setCurrentIndex(dev);
    } else {
        // A device LibTorch does not report here (e.g. a config from a GPU machine): keep it, marked.
        ui->deviceCombo->addItem(tr("%1 (from the config)").arg(QString::fromStdString(c.common.device)),
            QString::fromStdString(c.common.device));
        ui->deviceCombo->setCurrentIndex(ui->deviceCombo->count() - 1);
    }
    ui->outputEdit->setText(shownPath(c.common.output_directory));
    ui->experimentEdit->setText(shownPath(c.common.experiment_name));
    ui->updateRateSpin->setValue(c.train.update_rate);
    ui->saveRateSpin->setValue(c.save.model_save_rate);
    ui->exampleRateSpin->setValue(c.save.example_save_rate);
    ui->seedSpin->setValue(static_cast<int>(std::clamp<std::int64_t>(c.common.seed, -1, 2147483647)));
    Q_EMIT changed();
}

nectar::Config SettingsForm::config() const
{
    nectar::Config c = m_config;
    auto& dl = c.dataloader;
    dl.dataroot = pathBytes(ui->datarootEdit->text());
    dl.direction = nectar::choice_from_name<nectar::Direction>(ui->directionCombo->currentText().toStdString())
                       .value_or(dl.direction);
    dl.load.load_size = ui->loadSizeSpin->value();
    dl.load.crop_size = ui->cropSizeSpin->value();
    dl.batch_size = ui->batchSizeSpin->value();
    dl.num_workers = ui->workersSpin->value();
    for (nectar::LearningRateConfig* lr : { &c.train.generator.learning_rate, &c.train.discriminator.learning_rate }) {
        lr->epochs = ui->epochsSpin->value();
        lr->epochs_decay = ui->decaySpin->value();
    }
    c.train.generator.learning_rate.initial = ui->lrGSpin->value();
    c.train.discriminator.learning_rate.initial = ui->lrDSpin->value();
    c.train.generator.optimizer.beta1 = ui->beta1Spin->value();
    c.train.discriminator.optimizer.beta1 = ui->beta1Spin->value();
    c.train.generator.features = ui->featuresSpin->value();
    c.train.generator.n_downs = ui->nDownsSpin->value();
    c.train.generator.block_type
        = nectar::choice_from_name<nectar::UnetBlockType>(ui->blockCombo->currentText().toStdString())
              .value_or(c.train.generator.block_type);
    c.train.generator.upsample_type
        = nectar::choice_from_name<nectar::UpsampleType>(ui->upsampleCombo->currentText().toStdString())
              .value_or(c.train.generator.upsample_type);
    c.train.discriminator.n_layers = ui->dLayersSpin->value();
    c.train.discriminator.base_channels = ui->dBaseSpin->value();
    c.train.discriminator.max_channels = ui->dMaxSpin->value();
    c.common.device = ui->deviceCombo->currentData().toString().toStdString();
    c.common.output_directory = pathBytes(ui->outputEdit->text());
    c.common.experiment_name = pathBytes(ui->experimentEdit->text());
    c.train.update_rate = ui->updateRateSpin->value();
    c.save.model_save_rate = ui->saveRateSpin->value();
    c.save.example_save_rate = ui->exampleRateSpin->value();
    c.common.seed = ui->seedSpin->value();
    return c;
}

int SettingsForm::processes() const
{
    return ui->processesSpin->value();
}

void SettingsForm::setProcesses(int n)
{
    ui->processesSpin->setValue(n);
}

void SettingsForm::browseDataroot()
{
    const QString dir = QFileDialog::getExistingDirectory(this, tr("Dataset root"), ui->datarootEdit->text());
    if (!dir.isEmpty())
        ui->datarootEdit->setText(dir);
}

void SettingsForm::browseOutput()
{
    const QString dir = QFileDialog::getExistingDirectory(this, tr("Output folder"), ui->outputEdit->text());
    if (!dir.isEmpty())
        ui->outputEdit->setText(dir);
}
