// SPDX-License-Identifier: Apache-2.0
#include "pages/reviewpage.h"

#include <QCheckBox>
#include <QDir>
#include <QDirIterator>
#include <QFileDialog>
#include <QFileInfo>
#include <QHeaderView>
#include <QLabel>
#include <QRegularExpression>
#include <QSettings>
#include <QThread>
#include <QTimer>
#include <QTreeWidgetItem>

#include <cmath>
#include <limits>

#include "bridge/enginebridge.h"
#include "charts/chartpanel.h"
#include "losses/loss_log.h"
#include "ui_reviewpage.h"
#include "widgets/inlinemessage.h"

namespace {
constexpr std::size_t kPointsPerSlice = 200000; // charts are filled in slices so the GUI stays live
}

/// A log read on the reader thread, then handed to the GUI thread.
struct ReviewPage::Pending {
    QString dir;
    int run = 0;
    nectar::LossLogData data;
    QString error;
    QMap<QString, QStringList> tags;
    QString tagSource;
    engine::RunObjective objective; // run 0 only
    QString objectiveError;
    bool ours = false; // the folder has a config copy: it can be continued
    std::size_t nameIndex = 0; // appending progress
    std::size_t offset = 0;
    std::size_t done = 0;
    std::size_t total = 0;
};

ReviewPage::ReviewPage(QWidget* parent)
    : QWidget(parent)
    , ui(std::make_unique<Ui::ReviewPage>())
    , m_sliceTimer(new QTimer(this))
{
    ui->setupUi(this);
    // Until a run is opened the page says what it is for instead of showing empty charts.
    m_emptyHint = new QLabel(tr("No run open. Open a run folder (Ctrl+R, or Open run… above): one of ours from "
                                "the runs folder or a NectarGAN experiment folder, to see its loss curves, "
                                "example images by epoch and the objective it trained."),
        this);
    m_emptyHint->setObjectName(QStringLiteral("emptyHint"));
    m_emptyHint->setAlignment(Qt::AlignCenter);
    m_emptyHint->setWordWrap(true);
    m_emptyHint->setMargin(24);
    m_emptyHint->setSizePolicy(QSizePolicy::Preferred, QSizePolicy::Expanding);
    QFont hintFont = m_emptyHint->font();
    hintFont.setPointSizeF(hintFont.pointSizeF() * 1.2);
    m_emptyHint->setFont(hintFont);
    ui->pageLayout->insertWidget(ui->pageLayout->indexOf(ui->splitter), m_emptyHint, 1);
    ui->splitter->hide();
    ui->loadProgress->hide();
    ui->splitter->setStretchFactor(0, 4);
    ui->splitter->setStretchFactor(1, 1);
    m_sliceTimer->setInterval(0);
    connect(m_sliceTimer, &QTimer::timeout, this, &ReviewPage::appendSlice);
    connect(ui->openButton, &QPushButton::clicked, this, [this] { browse(0); });
    connect(ui->overlayButton, &QPushButton::clicked, this, [this] { browse(1); });
    connect(ui->clearOverlayButton, &QPushButton::clicked, this, [this] {
        ui->charts->clearRun(1);
        ui->pathLabel->setText(m_runDir);
    });
    connect(ui->epochCombo, &QComboBox::currentTextChanged, this, &ReviewPage::showEpoch);
    connect(ui->imageCombo, &QComboBox::currentIndexChanged, this, [this](int i) {
        const QString file = ui->imageCombo->itemData(i).toString();
        if (file.isEmpty())
            return;
        const QPixmap p(file);
        m_shownImage = file;
        ui->exampleImage->setPixmap(p.isNull()
                ? QPixmap()
                : p.scaledToHeight(std::max(128, std::min(p.height(), 384)), Qt::SmoothTransformation));
    });
    connect(ui->charts, &ChartPanel::statusMessage, this, &ReviewPage::statusMessage);
    ui->pathLabel->setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Preferred);
    ui->imageCombo->setSizeAdjustPolicy(QComboBox::AdjustToContents);
    ui->overlayButton->setEnabled(false);
    ui->clearOverlayButton->setEnabled(false);
    ui->continueButton->setEnabled(false);
    connect(ui->continueButton, &QPushButton::clicked, this, [this] {
        if (!m_runDir.isEmpty())
            Q_EMIT continueRequested(m_runDir);
    });
    ui->objectiveLabel->setText(tr("Open a run to see the objective it trained."));
    ui->objectiveTree->header()->setSectionResizeMode(QHeaderView::ResizeToContents);
    ui->supersededCheck->setEnabled(false);
    connect(ui->supersededCheck, &QCheckBox::toggled, this, [this](bool on) {
        ui->charts->clearRun(kSupersededRun);
        if (on)
            plotSuperseded();
        ui->charts->replotAll();
    });
}

std::size_t ReviewPage::supersededCount() const
{
    std::size_t n = 0;
    for (const auto& seg : m_superseded)
        for (const auto& [name, s] : seg.losses)
            n += s.raw.size();
    return n;
}

void ReviewPage::setShowSuperseded(bool show)
{
    ui->supersededCheck->setChecked(show);
}

void ReviewPage::plotSuperseded()
{
    for (const auto& seg : m_superseded) {
        for (const auto& name : seg.order) {
            const nectar::LossSeries& s = seg.losses.at(name);
            nectar::LossSeriesChunk chunk;
            chunk.name = name;
            for (const QString& t : m_supersededTags.value(QString::fromStdString(name)))
                chunk.tags.push_back(t.toStdString());
            // Where they were plotted before the resume: right after the kept values they had followed.
            const std::size_t start = seg.start.count(name) ? seg.start.at(name) : 0;
            for (std::size_t i = 0; i < s.raw.size(); ++i)
                chunk.iterations.push_back(static_cast<std::int64_t>(start + i));
            chunk.raw = s.raw;
            chunk.weights = s.weights;
            ui->charts->appendChunk(chunk, kSupersededRun);
        }
    }
}

ReviewPage::~ReviewPage()
{
    if (m_reader)
        m_reader->wait(); // LossLog::read cannot be interrupted; it only reads
}

ChartPanel* ReviewPage::charts() const
{
    return ui->charts;
}

bool ReviewPage::isLoading() const
{
    return m_reader != nullptr || m_sliceTimer->isActive();
}

QString ReviewPage::errorText() const
{
    return ui->messageLabel->message();
}

void ReviewPage::showError(const QString& text)
{
    ui->messageLabel->setMessage(text);
}

QString ReviewPage::browseStartFolder() const
{
    const QString last = QSettings().value(QStringLiteral("paths/review")).toString();
    if (!last.isEmpty() && QFileInfo(last).isDir())
        return last;
    const QString runs = m_runsFolder ? m_runsFolder() : QString();
    if (!runs.isEmpty() && QFileInfo(runs).isDir())
        return runs;
    return QDir::homePath();
}

QString ReviewPage::emptyHint() const
{
    return m_emptyHint->isHidden() ? QString() : m_emptyHint->text();
}

void ReviewPage::browse(int run)
{
    QSettings settings;
    const QString start = browseStartFolder();
    const QString dir = QFileDialog::getExistingDirectory(this, run == 0 ? tr("Open run") : tr("Overlay run"), start);
    if (dir.isEmpty())
        return;
    settings.setValue(QStringLiteral("paths/review"), QFileInfo(dir).absolutePath());
    openRun(dir, run);
}

void ReviewPage::openRun(const QString& dir, int run)
{
    if (isLoading())
        return;
    showError({});
    m_pending = std::make_unique<Pending>();
    m_pending->dir = dir;
    m_pending->run = run;
    ui->loadProgress->setRange(0, 0); // busy while the file is parsed
    ui->loadProgress->show();
    Pending* p = m_pending.get();
    m_reader = QThread::create([p] {
        try {
            p->data = nectar::LossLog::read(p->dir.toStdString());
        } catch (const std::exception& e) {
            p->error = QString::fromStdString(e.what());
            return;
        }
        // Tags and the recorded objective build specs (a VGG loss reads its weights): off the GUI thread too.
        QStringList names;
        for (const auto& n : p->data.order)
            names.append(QString::fromStdString(n));
        const bool recordRead = p->run == 0 && engine::runObjective(p->dir, &p->objective, &p->objectiveError);
        p->tags = engine::runLossTags(p->dir, names, &p->tagSource, recordRead ? &p->objective : nullptr);
        p->ours = !engine::latestConfigCopy(p->dir).isEmpty();
    });
    connect(m_reader, &QThread::finished, this, &ReviewPage::onReadDone);
    m_reader->start();
    Q_EMIT statusMessage(tr("Reading %1…").arg(dir));
}

void ReviewPage::onReadDone()
{
    m_reader->deleteLater();
    m_reader = nullptr;
    Pending& p = *m_pending;
    if (!p.error.isEmpty()) {
        ui->loadProgress->hide();
        showError(p.error);
        Q_EMIT failed(p.error);
        m_pending.reset();
        return;
    }
    const QString& tagSource = p.tagSource;
    if (p.run == 0) {
        m_emptyHint->hide();
        ui->splitter->show();
        ui->charts->clear();
        m_runDir = p.dir;
        m_superseded = p.data.superseded;
        m_supersededTags = p.tags;
        const QSignalBlocker block(ui->supersededCheck);
        ui->supersededCheck->setChecked(false);
        ui->supersededCheck->setEnabled(!m_superseded.empty());
        ui->supersededCheck->setText(m_superseded.empty()
                ? tr("Show superseded values")
                : tr("Show %n superseded value(s)", nullptr, static_cast<int>(supersededCount())));
        ui->charts->setRunLabel(kSupersededRun, tr("superseded"));
        ui->pathLabel->setText(p.dir);
        scanExamples(p.dir);
        showObjective(p);
    } else {
        ui->charts->clearRun(p.run);
        ui->charts->setRunLabel(p.run, QFileInfo(p.dir).fileName());
        ui->pathLabel->setText(tr("%1  +  %2 (dashed)").arg(m_runDir, p.dir));
    }
    // Fractional epochs need iterations per epoch: dataset length / batch size of the run.
    if (p.data.dataset_length > 0) {
        const int batch = engine::runBatchSize(p.dir);
        ui->charts->setEpochMapping((p.data.dataset_length + batch - 1) / batch, 1, p.run);
        if (p.run == 0)
            ui->charts->setEpochMapping((p.data.dataset_length + batch - 1) / batch, 1, kSupersededRun);
    }
    for (const auto& [name, s] : p.data.losses)
        p.total += s.raw.size();
    ui->loadProgress->setRange(0, 1000);
    ui->loadProgress->setValue(0);
    QStringList notes;
    for (const auto& w : p.data.warnings)
        notes.append(QString::fromStdString(w));
    Q_EMIT statusMessage(
        notes.isEmpty() ? tagSource : QString(tagSource + QStringLiteral("; ") + notes.join(QStringLiteral("; "))));
    m_sliceTimer->start();
}

void ReviewPage::appendSlice()
{
    Pending& p = *m_pending;
    std::size_t budget = kPointsPerSlice;
    while (budget > 0 && p.nameIndex < p.data.order.size()) {
        const std::string& name = p.data.order[p.nameIndex];
        const nectar::LossSeries& s = p.data.losses.at(name);
        const std::size_t n = std::min(budget, s.raw.size() - p.offset);
        nectar::LossSeriesChunk chunk;
        chunk.name = name;
        for (const QString& t : p.tags.value(QString::fromStdString(name)))
            chunk.tags.push_back(t.toStdString());
        chunk.iterations.resize(n);
        for (std::size_t i = 0; i < n; ++i)
            chunk.iterations[i] = static_cast<std::int64_t>(p.offset + i);
        chunk.raw.assign(s.raw.begin() + p.offset, s.raw.begin() + p.offset + n);
        chunk.weights.assign(n, std::numeric_limits<float>::quiet_NaN());
        for (std::size_t i = 0; i < n && p.offset + i < s.weights.size(); ++i)
            chunk.weights[i] = s.weights[p.offset + i];
        ui->charts->appendChunk(chunk, p.run);
        p.offset += n;
        p.done += n;
        budget -= n;
        if (p.offset >= s.raw.size()) {
            ++p.nameIndex;
            p.offset = 0;
        }
    }
    ui->loadProgress->setValue(p.total ? static_cast<int>(1000.0 * p.done / p.total) : 1000);
    if (p.nameIndex < p.data.order.size())
        return;
    m_sliceTimer->stop();
    ui->loadProgress->hide();
    ui->charts->replotAll();
    ui->overlayButton->setEnabled(true);
    ui->clearOverlayButton->setEnabled(true);
    const QString dir = p.dir;
    const int run = p.run;
    Q_EMIT statusMessage(tr("Loaded %1 values of %2 losses from %3").arg(p.total).arg(p.data.order.size()).arg(dir));
    m_pending.reset();
    Q_EMIT loaded(dir, run);
}

void ReviewPage::showObjective(const Pending& p)
{
    ui->objectiveTree->clear();
    const engine::RunObjective& o = p.objective;
    const bool ours = p.ours;
    m_canContinue = ours;
    ui->continueButton->setEnabled(m_canContinue && !m_trainingActive);
    if (!p.objectiveError.isEmpty()) {
        ui->objectiveLabel->setText(tr("The recorded objective cannot be used: %1").arg(p.objectiveError));
        return;
    }
    if (o.file.isEmpty()) {
        ui->objectiveLabel->setText(ours
                ? tr("This run recorded no objective (made before runs recorded it): its losses came from the "
                     "spec in its config copy with the config's lambdas.")
                : tr("No objective recorded (not a Nectar Toolbox run)."));
        return;
    }
    ui->objectiveLabel->setText(tr("%1 / %2, recorded in %3").arg(o.spec, o.subspec, QFileInfo(o.file).fileName()));
    for (const LossRow& r : o.rows) {
        const bool scheduled = r.schedule.active();
        auto* item = new QTreeWidgetItem(ui->objectiveTree,
            { r.name, scheduled ? tr("%1 (scheduled)").arg(r.weight) : QString::number(r.weight),
                r.tags.join(QStringLiteral(", ")),
                scheduled ? LossTableModel::scheduleText(r.schedule) : tr("constant") });
        item->setToolTip(0, tr("%1(%2, %3)").arg(r.function, r.prediction, r.target));
    }
}

void ReviewPage::setTrainingActive(bool active)
{
    m_trainingActive = active;
    ui->continueButton->setEnabled(m_canContinue && !m_trainingActive);
}

QString ReviewPage::objectiveSummary() const
{
    return ui->objectiveLabel->text();
}

void ReviewPage::scanExamples(const QString& dir)
{
    m_examples.clear();
    const QRegularExpression re(QStringLiteral("epoch_?(\\d+)"), QRegularExpression::CaseInsensitiveOption);
    QDirIterator it(
        dir, { QStringLiteral("*.png"), QStringLiteral("*.jpg") }, QDir::Files, QDirIterator::Subdirectories);
    while (it.hasNext()) {
        const QString file = it.next();
        const auto m = re.match(QFileInfo(file).fileName());
        if (m.hasMatch())
            m_examples[m.captured(1).toInt()].append(file);
    }
    const QSignalBlocker block(ui->epochCombo);
    ui->epochCombo->clear();
    for (auto e = m_examples.cbegin(); e != m_examples.cend(); ++e)
        ui->epochCombo->addItem(QString::number(e.key()));
    ui->examplesGroup->setTitle(m_examples.isEmpty() ? tr("Example images (none saved)") : tr("Example images"));
    if (ui->epochCombo->count() > 0) {
        ui->epochCombo->setCurrentIndex(ui->epochCombo->count() - 1);
        showEpoch(ui->epochCombo->currentText());
    } else {
        ui->imageCombo->clear();
        ui->exampleImage->clear();
        m_shownImage.clear();
    }
}

QStringList ReviewPage::exampleEpochs() const
{
    QStringList out;
    for (int i = 0; i < ui->epochCombo->count(); ++i)
        out.append(ui->epochCombo->itemText(i));
    return out;
}

void ReviewPage::showEpoch(const QString& epoch)
{
    QStringList files = m_examples.value(epoch.toInt());
    files.sort();
    ui->imageCombo->clear();
    for (const QString& f : files)
        ui->imageCombo->addItem(QFileInfo(f).fileName(), f);
}
