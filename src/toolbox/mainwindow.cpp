// SPDX-License-Identifier: Apache-2.0
#include "mainwindow.h"

#include <QCloseEvent>
#include <QDir>
#include <QFile>
#include <QFileDialog>
#include <QFileInfo>
#include <QLabel>
#include <QMessageBox>
#include <QSettings>
#include <QStandardPaths>
#include <QStyle>

#include <algorithm>

#include "bridge/enginebridge.h"
#include "objective/losstablemodel.h"
#include "pages/objectivepage.h"
#include "pages/reviewpage.h"
#include "pages/settingsform.h"
#include "pages/testingpage.h"
#include "pages/trainingpage.h"
#include "pages/utilitiespage.h"
#include "session/trainingsession.h"
#include "ui_mainwindow.h"
#include "util/paths.h"
#include "widgets/wheelguard.h"

// Resources of a static library must be registered explicitly (outside any namespace).
static void initToolboxResources()
{
    Q_INIT_RESOURCE(toolbox);
}

namespace {
constexpr int kMaxRecent = 8;
const QString kRecentKey = QStringLiteral("presets/recent");
} // namespace

MainWindow::MainWindow(QWidget* parent)
    : QMainWindow(parent)
    , ui(std::make_unique<Ui::MainWindow>())
    , m_session(new TrainingSession(this))
    , m_stateLabel(new QLabel(this))
{
    initToolboxResources();
    ui->setupUi(this);
    setWindowIcon(QIcon(QStringLiteral(":/icons/nectar-toolbox.png")));
    setCentralWidget(ui->pages);
    m_objective = new ObjectivePage(ui->pages);
    m_training = new TrainingPage(m_session, ui->pages);
    m_review = new ReviewPage(ui->pages);
    m_testing = new TestingPage(ui->pages);
    m_utilities = new UtilitiesPage(ui->pages);
    ui->pages->addTab(m_objective, QIcon(QStringLiteral(":/icons/objective.png")), tr("&Objective"));
    ui->pages->addTab(m_training, QIcon(QStringLiteral(":/icons/start.png")), tr("&Training"));
    ui->pages->addTab(m_review, QIcon(QStringLiteral(":/icons/review.png")), tr("&Review"));
    ui->pages->addTab(m_testing, style()->standardIcon(QStyle::SP_FileDialogContentsView), tr("Te&sting"));
    ui->pages->addTab(m_utilities, style()->standardIcon(QStyle::SP_DirIcon), tr("&Utilities"));
    m_stateLabel->setToolTip(tr("Training state"));
    statusBar()->addPermanentWidget(m_stateLabel);
    m_confirmStop = [this] {
        return QMessageBox::question(this, tr("Training is running"),
                   tr("Stop the training (a checkpoint is saved) and close?"), QMessageBox::Yes | QMessageBox::No,
                   QMessageBox::No)
            == QMessageBox::Yes;
    };
    m_confirmReplaceTable = [this] {
        return QMessageBox::question(this, tr("Replace the edited loss table?"),
                   tr("The loss table has edits (weights, tags, schedules or losses) that the config's spec and "
                      "lambdas would replace. Load the config and replace the table?"),
                   QMessageBox::Yes | QMessageBox::No, QMessageBox::No)
            == QMessageBox::Yes;
    };

    auto status = [this](const QString& text) { statusBar()->showMessage(text, 10000); };
    connect(m_objective, &ObjectivePage::statusMessage, this, status);
    connect(m_training, &TrainingPage::statusMessage, this, status);
    connect(m_review, &ReviewPage::statusMessage, this, status);
    connect(m_testing, &TestingPage::statusMessage, this, status);
    connect(m_utilities, &UtilitiesPage::statusMessage, this, status);
    connect(m_review, &ReviewPage::continueRequested, this, &MainWindow::continueRun);
    // "Continue this run" is one run: once it has started (its checkpoint loaded), the next Start trains a new
    // run instead of continuing from the same checkpoint again and overwriting what this one writes.
    connect(m_session, &TrainingSession::runStarted, this, [this] {
        nectar::Config next = m_objective->settings()->config();
        if (!next.train.load.continue_train)
            return;
        next.train.load.continue_train = false;
        next.train.load.load_epoch = nectar::Config {}.train.load.load_epoch;
        m_objective->settings()->setConfig(next);
        m_objective->showMessage({});
    });
    connect(m_session, &TrainingSession::stateChanged, this, &MainWindow::onSessionStateChanged);
    connect(m_objective->model(), &LossTableModel::lossEdited, this, &MainWindow::onLossEdited);
    auto closeIfAsked = [this] {
        if (m_closeAfterStop)
            close();
    };
    connect(m_session, &TrainingSession::finished, this, closeIfAsked);
    connect(m_session, &TrainingSession::failed, this, closeIfAsked);
    setupActions();

    QSettings settings;
    restoreGeometry(settings.value(QStringLiteral("window/geometry")).toByteArray());
    restoreState(settings.value(QStringLiteral("window/state")).toByteArray());
    ui->pages->setCurrentIndex(settings.value(QStringLiteral("window/page"), 0).toInt());
    setPresetsIncludeSettings(settings.value(QStringLiteral("presets/includeSettings"), true).toBool());
    rebuildPresetMenus();
    onSessionStateChanged();
    const QStringList specErrors = engine::loadSpecDirectories();
    m_objective->refreshSpecs();
    // A first F5 shows curves within seconds: nectar-train's small model, NectarGAN's full size one click
    // away (settings ▸ Defaults). The last session, if any, replaces this.
    nectar::Config first = SettingsForm::defaults(SettingsForm::Defaults::Quick);
    first.dataloader.dataroot = engine::sampleDatasetDirectory().toStdString();
    first.train.loss = m_objective->config().train.loss;
    m_objective->settings()->setConfig(first);
    restoreSession();
    if (!specErrors.isEmpty()) {
        const QString restored = m_objective->message();
        m_objective->showMessage((restored.isEmpty() ? QString() : QString(restored + QLatin1Char('\n')))
            + tr("Some spec files could not be loaded:\n%1").arg(specErrors.join(QLatin1Char('\n'))));
    }
    m_review->setRunsFolder([this] { return runsFolder(); });
    m_testing->setRunsFolder([this] { return runsFolder(); });
    guardWheelOnValueFields(this, /*onlyInScrollAreas=*/true);
    statusBar()->showMessage(tr("Ready — sample dataset: %1").arg(engine::sampleDatasetDirectory()), 10000);
}

MainWindow::~MainWindow() = default;

void MainWindow::setupActions()
{
    ui->actionStart->setIcon(QIcon(QStringLiteral(":/icons/start.png")));
    ui->actionPause->setIcon(QIcon(QStringLiteral(":/icons/pause.png")));
    ui->actionStop->setIcon(QIcon(QStringLiteral(":/icons/stop.png")));
    connect(ui->actionOpenConfig, &QAction::triggered, this, [this] {
        const QString f = QFileDialog::getOpenFileName(
            this, tr("Open config"), lastPath(QStringLiteral("config")), tr("JSON (*.json)"));
        if (!f.isEmpty())
            loadConfigFile(f);
    });
    connect(ui->actionSaveConfig, &QAction::triggered, this, [this] {
        const QString f = QFileDialog::getSaveFileName(
            this, tr("Save config"), lastPath(QStringLiteral("config")), tr("JSON (*.json)"));
        if (!f.isEmpty())
            saveConfigFile(f);
    });
    connect(ui->actionLoadPreset, &QAction::triggered, this, [this] {
        const QString f = QFileDialog::getOpenFileName(
            this, tr("Load preset"), lastPath(QStringLiteral("preset")), tr("Presets (*.json)"));
        if (!f.isEmpty())
            loadPresetFile(f);
    });
    connect(ui->actionSavePreset, &QAction::triggered, this, [this] {
        const QString f = QFileDialog::getSaveFileName(
            this, tr("Save preset"), lastPath(QStringLiteral("preset")), tr("Presets (*.json)"));
        if (!f.isEmpty())
            savePresetFile(f.endsWith(QStringLiteral(".json")) ? f : QString(f + QStringLiteral(".json")));
    });
    connect(ui->actionPresetSettings, &QAction::toggled, this,
        [](bool on) { QSettings().setValue(QStringLiteral("presets/includeSettings"), on); });
    connect(ui->actionQuit, &QAction::triggered, this, &QWidget::close);
    connect(ui->actionStart, &QAction::triggered, this, &MainWindow::startTraining);
    connect(ui->actionPause, &QAction::triggered, this, [this] {
        if (m_session->state() == TrainingSession::State::Paused)
            m_session->resume();
        else
            m_session->pause();
    });
    connect(ui->actionStop, &QAction::triggered, m_session, &TrainingSession::stop);
    connect(ui->actionOpenRun, &QAction::triggered, this, [this] {
        const QString dir = QFileDialog::getExistingDirectory(this, tr("Open run"), m_review->browseStartFolder());
        if (dir.isEmpty())
            return;
        setLastPath(QStringLiteral("review"), dir);
        showPage(2);
        m_review->openRun(dir);
    });
    connect(ui->actionFollowRun, &QAction::triggered, this, [this] {
        const QString dir = QFileDialog::getExistingDirectory(this, tr("Follow run"), m_review->browseStartFolder());
        if (dir.isEmpty())
            return;
        setLastPath(QStringLiteral("review"), dir);
        showPage(2);
        m_review->followRun(dir);
    });
    connect(ui->actionObjectivePage, &QAction::triggered, this, [this] { showPage(0); });
    connect(ui->actionTrainingPage, &QAction::triggered, this, [this] { showPage(1); });
    connect(ui->actionReviewPage, &QAction::triggered, this, [this] { showPage(2); });
    connect(ui->actionTestingPage, &QAction::triggered, this, [this] { showPage(3); });
    connect(ui->actionUtilitiesPage, &QAction::triggered, this, [this] { showPage(4); });
    connect(ui->actionAbout, &QAction::triggered, this, [this] {
        QMessageBox::about(this, tr("About Nectar Toolbox"),
            tr("<b>Nectar Toolbox %1</b><br>Design pix2pix loss objectives, train them and review runs.<br>"
               "A C++ take on NectarGAN's loss-spec API (Apache-2.0).")
                .arg(QCoreApplication::applicationVersion()));
    });
}

void MainWindow::showPage(int index)
{
    ui->pages->setCurrentIndex(index);
}

QString MainWindow::lastPath(const QString& key) const
{
    return QSettings().value(QString(QStringLiteral("paths/") + key), QDir::homePath()).toString();
}

void MainWindow::setLastPath(const QString& key, const QString& file)
{
    QSettings().setValue(QString(QStringLiteral("paths/") + key), QFileInfo(file).absolutePath());
}

QString MainWindow::runsFolder() const
{
    const std::string out = m_objective->config().common.output_directory;
    if (out.empty())
        return QDir(QStandardPaths::writableLocation(QStandardPaths::HomeLocation))
            .filePath(QStringLiteral("nectar-runs"));
    return QFileInfo(QString::fromStdString(out)).absoluteFilePath();
}

QString MainWindow::sessionFile()
{
    return QDir(QStandardPaths::writableLocation(QStandardPaths::AppConfigLocation))
        .filePath(QStringLiteral("session.json"));
}

bool MainWindow::saveSession()
{
    const QString path = sessionFile();
    const nectar::Config config = m_objective->config();
    // A preset holds the spec's losses only: a hand-added loss (not saved as a spec) is left out, the rest kept.
    std::vector<LossRow> rows;
    QStringList left;
    std::vector<LossRow> declared;
    try {
        declared = engine::buildRows(m_objective->spec(), m_objective->subspec(), config);
    } catch (const std::exception&) {
        declared.clear(); // e.g. +vgg without weights: savePreset names the reason
    }
    for (const LossRow& r : m_objective->model()->rows()) {
        const bool known
            = std::any_of(declared.begin(), declared.end(), [&r](const LossRow& d) { return d.name == r.name; });
        if (known || declared.empty())
            rows.push_back(r);
        else
            left << r.name;
    }
    QString error;
    if (!QDir().mkpath(QFileInfo(path).absolutePath())) {
        error = tr("cannot create the folder %1").arg(QFileInfo(path).absolutePath());
    } else if (engine::savePreset(path, m_objective->spec(), m_objective->subspec(), rows, &config, &error)) {
        if (!left.isEmpty())
            qWarning("nectar-toolbox: the session in %s leaves out %s (not losses of %s / %s; save them as a spec)",
                qPrintable(path), qPrintable(left.join(QStringLiteral(", "))), qPrintable(m_objective->spec()),
                qPrintable(m_objective->subspec()));
        return true;
    }
    QFile::remove(path); // an older session must not come back instead of this one
    qWarning("nectar-toolbox: the session was not saved to %s: %s", qPrintable(path), qPrintable(error));
    return false;
}

void MainWindow::restoreSession()
{
    const QString path = sessionFile();
    if (!QFileInfo::exists(path))
        return;
    engine::PresetContent content;
    QString error;
    if (!engine::loadPreset(path, m_objective->config(), &content, &error)) {
        m_objective->showMessage(tr("The last session was not restored, the defaults are shown: %1").arg(error));
        return;
    }
    m_objective->applyPreset(content);
    if (!content.warnings.isEmpty())
        m_objective->showMessage(
            tr("The last session was restored with warnings: %1").arg(content.warnings.join(QStringLiteral("; "))));
}

bool MainWindow::tableEdited() const
{
    const std::vector<LossRow>& rows = m_objective->model()->rows();
    if (rows.empty())
        return false;
    try {
        return rows != engine::buildRows(m_objective->spec(), m_objective->subspec(), m_objective->config());
    } catch (const std::exception&) {
        return true; // the spec cannot build now: what the table shows is all there is
    }
}

void MainWindow::setPresetsIncludeSettings(bool on)
{
    ui->actionPresetSettings->setChecked(on);
}

QStringList MainWindow::recentPresets() const
{
    return QSettings().value(kRecentKey).toStringList();
}

void MainWindow::addRecentPreset(const QString& path)
{
    QStringList recent = recentPresets();
    const QString abs = path.startsWith(QStringLiteral(":/")) ? path : QFileInfo(path).absoluteFilePath();
    recent.removeAll(abs);
    recent.prepend(abs);
    while (recent.size() > kMaxRecent)
        recent.removeLast();
    QSettings().setValue(kRecentKey, recent);
    rebuildPresetMenus();
}

void MainWindow::rebuildPresetMenus()
{
    ui->menuRecentPresets->clear();
    const QStringList recent = recentPresets();
    for (int i = 0; i < recent.size(); ++i) {
        QAction* a = ui->menuRecentPresets->addAction(
            QStringLiteral("&%1 %2").arg(i + 1).arg(QFileInfo(recent[i]).fileName()));
        a->setToolTip(recent[i]);
        a->setStatusTip(recent[i]);
        const QString path = recent[i];
        connect(a, &QAction::triggered, this, [this, path] { loadPresetFile(path); });
    }
    ui->menuRecentPresets->setEnabled(!recent.isEmpty());
    ui->menuBundledPresets->clear();
    for (const QString& path : engine::bundledPresets()) {
        const QString name = engine::presetName(path);
        QAction* a = ui->menuBundledPresets->addAction(name.isEmpty() ? QFileInfo(path).fileName() : name);
        a->setToolTip(tr("Bundled preset %1").arg(QFileInfo(path).fileName()));
        a->setStatusTip(a->toolTip());
        connect(a, &QAction::triggered, this, [this, path] { loadPresetFile(path); });
    }
    ui->menuBundledPresets->setEnabled(!ui->menuBundledPresets->isEmpty());
}

bool MainWindow::loadPresetFile(const QString& path)
{
    engine::PresetContent content;
    QString error;
    if (!engine::loadPreset(path, m_objective->config(), &content, &error)) {
        m_objective->showMessage(tr("Preset not loaded: %1").arg(error));
        showPage(0);
        return false;
    }
    m_objective->applyPreset(content);
    if (!content.warnings.isEmpty())
        m_objective->showMessage(
            tr("Preset loaded with warnings: %1").arg(content.warnings.join(QStringLiteral("; "))));
    if (!path.startsWith(QStringLiteral(":/")))
        setLastPath(QStringLiteral("preset"), path);
    addRecentPreset(path);
    statusBar()->showMessage(tr("Preset loaded: %1").arg(path), 10000);
    return true;
}

bool MainWindow::continueRun(const QString& experimentDir)
{
    if (m_session->isActive()) {
        // The table drives the running training's live edits: loading another run into it would edit that one.
        m_objective->showMessage(tr("Cannot continue %1 while a run is training: stop it first.").arg(experimentDir));
        return false;
    }
    engine::ContinueContent c;
    QString error;
    if (!engine::continueRun(experimentDir, &c, &error)) {
        m_objective->showMessage(tr("Cannot continue %1: %2").arg(experimentDir, error));
        showPage(0);
        return false;
    }
    engine::PresetContent content;
    content.spec = c.objective.spec;
    content.subspec = c.objective.subspec;
    content.rows = c.objective.rows;
    content.config = c.config;
    content.hasSettings = true;
    m_objective->applyPreset(content);
    const QString from = QFileInfo(c.configFile).fileName();
    m_objective->showMessage(c.objective.file.isEmpty()
            ? tr("Continuing %1 from epoch %2 with the settings of %3. It recorded no objective: the table shows "
                 "the spec %4 / %5 with the config's lambdas.")
                  .arg(experimentDir)
                  .arg(c.epoch)
                  .arg(from, c.objective.spec, c.objective.subspec)
            : tr("Continuing %1 from epoch %2 with the settings of %3 and the objective recorded in %4. Edit the "
                 "table to override it; raise the epochs in the settings to train longer.")
                  .arg(experimentDir)
                  .arg(c.epoch)
                  .arg(from, QFileInfo(c.objective.file).fileName()));
    showPage(0);
    return true;
}

bool MainWindow::savePresetFile(const QString& path)
{
    QString error;
    const nectar::Config config = m_objective->config();
    if (!engine::savePreset(path, m_objective->spec(), m_objective->subspec(), m_objective->model()->rows(),
            ui->actionPresetSettings->isChecked() ? &config : nullptr, &error)) {
        m_objective->showMessage(tr("Preset not saved: %1").arg(error));
        return false;
    }
    setLastPath(QStringLiteral("preset"), path);
    addRecentPreset(path);
    statusBar()->showMessage(tr("Preset saved: %1").arg(path), 10000);
    return true;
}

bool MainWindow::loadConfigFile(const QString& path)
{
    nectar::Config config;
    QStringList warnings;
    QString error;
    if (!engine::loadConfig(path, &config, &warnings, &error)) {
        m_objective->showMessage(tr("Config not loaded: %1").arg(error));
        return false;
    }
    if (tableEdited() && !m_confirmReplaceTable()) {
        statusBar()->showMessage(tr("Config not loaded (the edited loss table is kept): %1").arg(path), 10000);
        return false;
    }
    if (config.dataloader.dataroot.empty()) {
        // NectarGAN's own configs ship with "dataroot": "": the dataset chosen here stays.
        config.dataloader.dataroot = m_objective->config().dataloader.dataroot;
        warnings << tr("%1 has no dataset root (dataloader.dataroot is empty): kept the current one, %2.")
                        .arg(QFileInfo(path).fileName(),
                            QString::fromStdString(nectar::display_path(config.dataloader.dataroot)));
    }
    m_objective->setConfig(config);
    setLastPath(QStringLiteral("config"), path);
    if (!warnings.isEmpty())
        m_objective->showMessage(warnings.join(QLatin1Char('\n')));
    statusBar()->showMessage(tr("Config loaded: %1").arg(path), 10000);
    return true;
}

bool MainWindow::saveConfigFile(const QString& path)
{
    QString error;
    if (!engine::saveConfig(m_objective->config(), path, &error)) {
        m_objective->showMessage(tr("Config not saved: %1").arg(error));
        return false;
    }
    setLastPath(QStringLiteral("config"), path);
    statusBar()->showMessage(tr("Config saved: %1").arg(path), 10000);
    return true;
}

bool MainWindow::startTraining()
{
    if (m_session->isActive())
        return false;
    TrainingJob job;
    job.config = m_objective->config();
    if (job.config.common.output_directory.empty())
        job.config.common.output_directory = runsFolder().toStdString();
    QString error;
    if (!engine::validateConfig(job.config, &error)) {
        m_training->showError(tr("Cannot start: %1").arg(error));
        showPage(1);
        return false;
    }
    job.rows = m_objective->model()->rows();
    job.processes = m_objective->settings()->processes();
    m_training->showError({});
    showPage(1);
    if (!m_session->start(std::move(job)))
        return false;
    statusBar()->clearMessage(); // an old error is stale once a run starts
    saveSession(); // what this run trains survives a crash of the app
    return true;
}

void MainWindow::onSessionStateChanged()
{
    using S = TrainingSession::State;
    const S state = m_session->state();
    ui->actionStart->setEnabled(state == S::Idle);
    ui->actionPause->setEnabled(state == S::Running || state == S::Paused);
    ui->actionStop->setEnabled(state == S::Running || state == S::Paused);
    ui->actionLoadPreset->setEnabled(state == S::Idle);
    ui->menuRecentPresets->setEnabled(state == S::Idle && !recentPresets().isEmpty());
    ui->menuBundledPresets->setEnabled(state == S::Idle && !ui->menuBundledPresets->isEmpty());
    ui->actionOpenConfig->setEnabled(state == S::Idle);
    m_objective->setTrainingActive(state != S::Idle, !m_session->isMultiProcess());
    m_review->setTrainingActive(state != S::Idle);
    m_stateLabel->setText(m_training->stateText());
}

void MainWindow::onLossEdited(const QString& name)
{
    if (!m_session->isActive())
        return;
    const int row = m_objective->model()->rowOf(name);
    if (row < 0)
        return;
    const LossRow& r = m_objective->model()->rows()[static_cast<std::size_t>(row)];
    m_session->setLossWeight(name, r.weight);
    m_session->setLossTags(name, r.tags);
    statusBar()->showMessage(tr("%1: weight %2, tags %3 from the next iteration")
                                 .arg(name)
                                 .arg(r.weight)
                                 .arg(r.tags.join(QStringLiteral(", "))),
        10000);
}

void MainWindow::closeEvent(QCloseEvent* event)
{
    if (m_session->isActive()) {
        if (!m_closeAfterStop) {
            if (!m_confirmStop()) {
                event->ignore();
                return;
            }
            m_closeAfterStop = true;
            m_session->stop();
            statusBar()->showMessage(tr("Stopping the training; the window closes when the checkpoint is saved…"));
        }
        event->ignore(); // closes from the session's finished/failed signal
        return;
    }
    saveSession();
    QSettings settings;
    settings.setValue(QStringLiteral("window/geometry"), saveGeometry());
    settings.setValue(QStringLiteral("window/state"), saveState());
    settings.setValue(QStringLiteral("window/page"), ui->pages->currentIndex());
    QMainWindow::closeEvent(event);
}
