// SPDX-License-Identifier: Apache-2.0
#include "pages/reviewpage.h"

#include <QCheckBox>
#include <QDateTime>
#include <QDialog>
#include <QDialogButtonBox>
#include <QDir>
#include <QDirIterator>
#include <QFileDialog>
#include <QFileInfo>
#include <QHeaderView>
#include <QLabel>
#include <QLocale>
#include <QRegularExpression>
#include <QSettings>
#include <QThread>
#include <QTimer>
#include <QTreeWidgetItem>
#include <QVBoxLayout>

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>

#include "bridge/enginebridge.h"
#include "charts/chartpanel.h"
#include "losses/loss_log.h"
#include "losses/loss_log_follower.h"
#include "ui_reviewpage.h"
#include "widgets/inlinemessage.h"

namespace {

/// Iterations per epoch of a run: each rank's share of the dataset (a data-parallel log records its
/// world size) over the batch size of its config copy.
qint64 iterationsPerEpoch(const nectar::LossLogData& data, const QString& dir)
{
    const qint64 batch = std::max(1, engine::runBatchSize(dir));
    const qint64 world = std::max(1, data.world_size);
    const qint64 perRank = (data.dataset_length + world - 1) / world;
    return (perRank + batch - 1) / batch;
}
constexpr std::size_t kPointsPerSlice = 200000; // charts are filled in slices so the GUI stays live
constexpr std::size_t kFinalValues = 50; // "final loss": mean of a loss's last values (one batch is noisy)

// Overlaid runs' line styles, in turn (run 0 is solid, superseded values dotted).
Qt::PenStyle overlayStyle(int run)
{
    static const Qt::PenStyle styles[] = { Qt::DashLine, Qt::DashDotLine, Qt::DashDotDotLine };
    return styles[(run - 1) % 3];
}

QString styleName(Qt::PenStyle style)
{
    switch (style) {
    case Qt::SolidLine:
        return ReviewPage::tr("solid");
    case Qt::DashLine:
        return ReviewPage::tr("dashed");
    case Qt::DashDotLine:
        return ReviewPage::tr("dash-dot");
    case Qt::DashDotDotLine:
        return ReviewPage::tr("dash-dot-dot");
    default:
        return ReviewPage::tr("dotted");
    }
}

// A slice [from, from + n) of a logged series as a chart chunk: x = the iteration the journal places each
// value at, or (loss_log.json and NectarGAN logs have no iterations) the value index + indexOffset.
nectar::LossSeriesChunk chunkOf(const std::string& name, const nectar::LossSeries& s, std::size_t from, std::size_t n,
    std::size_t indexOffset, const QStringList& tags)
{
    nectar::LossSeriesChunk chunk;
    chunk.name = name;
    for (const QString& t : tags)
        chunk.tags.push_back(t.toStdString());
    chunk.iterations.resize(n);
    const bool placed = s.iterations.size() >= from + n;
    for (std::size_t i = 0; i < n; ++i)
        chunk.iterations[i] = placed ? s.iterations[from + i] : static_cast<std::int64_t>(indexOffset + from + i);
    chunk.raw.assign(
        s.raw.begin() + static_cast<std::ptrdiff_t>(from), s.raw.begin() + static_cast<std::ptrdiff_t>(from + n));
    chunk.weights.assign(n, std::numeric_limits<float>::quiet_NaN());
    for (std::size_t i = 0; i < n && from + i < s.weights.size(); ++i)
        chunk.weights[i] = s.weights[from + i];
    if (s.wall_time.size() >= from + n)
        chunk.wall_time.assign(s.wall_time.begin() + static_cast<std::ptrdiff_t>(from),
            s.wall_time.begin() + static_cast<std::ptrdiff_t>(from + n));
    return chunk;
}
} // namespace

/// Follow mode: the journal follower (used by one poll thread at a time) and what the GUI has shown.
struct ReviewPage::Follow {
    QString dir;
    std::shared_ptr<nectar::LossLogFollower> follower;
    QThread* poller = nullptr;
    std::shared_ptr<nectar::LossLogFollower::Update> update;
    std::shared_ptr<QString> error;
    std::shared_ptr<QMap<QString, QStringList>> newTags;
    QMap<QString, QStringList> tags;
    QMap<QString, std::size_t> counts; // values shown per loss
    bool exists = false;
    bool mapped = false;
    bool objectiveShown = false; // the run's objective record is read with the first values
    std::shared_ptr<Pending> record;
    double lastValueTime = std::numeric_limits<double>::quiet_NaN(); // Unix seconds of the newest value
    qint64 lastArrival = 0; // ms since epoch when values last arrived
};

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
    bool ours = false;
    QString spec; // "spec / subspec" of the recorded objective ("" none) // the folder has a config copy: it can be
                  // continued
    std::size_t nameIndex = 0; // appending progress
    std::size_t offset = 0;
    std::size_t done = 0;
    std::size_t total = 0;
};

ReviewPage::ReviewPage(QWidget* parent)
    : QWidget(parent)
    , ui(std::make_unique<Ui::ReviewPage>())
    , m_sliceTimer(new QTimer(this))
    , m_followTimer(new QTimer(this))
    , m_badgeTimer(new QTimer(this))
{
    ui->setupUi(this);
    connect(m_followTimer, &QTimer::timeout, this, &ReviewPage::pollFollow);
    m_badgeTimer->setInterval(1000);
    connect(m_badgeTimer, &QTimer::timeout, this, &ReviewPage::updateBadge);
    ui->runTable->hide();
    ui->runTable->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
    ui->runTable->horizontalHeader()->setStretchLastSection(true);
    ui->runTable->verticalHeader()->hide();
    connect(ui->runTable, &QTableWidget::itemChanged, this, [this](QTableWidgetItem* item) {
        if (item->column() == 0)
            ui->charts->setRunVisible(item->data(Qt::UserRole).toInt(), item->checkState() == Qt::Checked);
    });
    ui->compareButton->setEnabled(false);
    connect(ui->compareButton, &QPushButton::clicked, this, &ReviewPage::showCompare);
    ui->followCheck->setEnabled(false);
    connect(ui->followCheck, &QCheckBox::toggled, this, [this](bool on) { setFollowing(on); });
    ui->charts->setRunStyle(kSupersededRun, Qt::DotLine);
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
    connect(ui->overlayButton, &QPushButton::clicked, this, [this] { browse(-1); });
    connect(ui->clearOverlayButton, &QPushButton::clicked, this, [this] {
        int run = -1;
        if (auto* item = ui->runTable->item(ui->runTable->currentRow(), 0))
            run = item->data(Qt::UserRole).toInt();
        if (run <= 0 && m_runDirs.size() > 1)
            run = m_runDirs.lastKey();
        if (run > 0)
            removeRun(run);
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
            // Where they were trained (their dumps' iterations), else right after the kept values they followed.
            const std::size_t start = seg.start.count(name) ? seg.start.at(name) : 0;
            ui->charts->appendChunk(
                chunkOf(name, s, 0, s.raw.size(), start, m_supersededTags.value(QString::fromStdString(name))),
                kSupersededRun);
        }
    }
}

ReviewPage::~ReviewPage()
{
    if (m_reader)
        m_reader->wait(); // LossLog::read cannot be interrupted; it only reads
    if (m_follow && m_follow->poller)
        m_follow->poller->wait(); // one poll reads at most 64 MiB
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
    const QString dir = QFileDialog::getExistingDirectory(this, run == 0 ? tr("Open run") : tr("Add run"), start);
    if (dir.isEmpty())
        return;
    settings.setValue(QStringLiteral("paths/review"), QFileInfo(dir).absolutePath());
    openRun(dir, run);
}

void ReviewPage::openRun(const QString& dir, int run)
{
    if (isLoading())
        return;
    if (run < 0)
        run = nextRun();
    if (run == 0)
        setFollowing(false);
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
        const bool recordRead = engine::runObjective(p->dir, &p->objective, &p->objectiveError);
        if (recordRead && !p->objective.file.isEmpty())
            p->spec = p->objective.spec + QStringLiteral(" / ") + p->objective.subspec;
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
        startOver(p.dir);
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
        removeRun(p.run);
        ui->charts->setRunLabel(p.run, QFileInfo(p.dir).fileName());
        ui->charts->setRunStyle(p.run, overlayStyle(p.run));
    }
    m_runDirs.insert(p.run, p.dir);
    addRunRow(p);
    for (const auto& e : p.data.edits)
        ui->charts->addEdit(e, p.run);
    // Fractional epochs need iterations per epoch: dataset length / world size / batch size of the run.
    if (p.data.dataset_length > 0) {
        const qint64 ipe = iterationsPerEpoch(p.data, p.dir);
        ui->charts->setEpochMapping(ipe, 1, p.run);
        if (p.run == 0)
            ui->charts->setEpochMapping(ipe, 1, kSupersededRun);
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
        ui->charts->appendChunk(chunkOf(name, s, p.offset, n, 0, p.tags.value(QString::fromStdString(name))), p.run);
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
    ui->clearOverlayButton->setEnabled(m_runDirs.size() > 1);
    ui->compareButton->setEnabled(m_runDirs.size() > 1);
    ui->followCheck->setEnabled(true);
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

void ReviewPage::startOver(const QString& dir)
{
    // Chart run styles survive ChartPanel::clear(): the superseded one set in the constructor stays.
    m_emptyHint->hide();
    ui->splitter->show();
    ui->charts->clear();
    ui->runTable->setRowCount(0);
    m_runDirs.clear();
    m_runDir = dir;
}

int ReviewPage::nextRun() const
{
    int run = 1;
    while (m_runDirs.contains(run))
        ++run;
    return run;
}

QList<int> ReviewPage::runs() const
{
    QList<int> out;
    for (int r = 0; r < ui->runTable->rowCount(); ++r)
        out.append(ui->runTable->item(r, 0)->data(Qt::UserRole).toInt());
    return out;
}

QStringList ReviewPage::runRow(int run) const
{
    for (int r = 0; r < ui->runTable->rowCount(); ++r) {
        if (ui->runTable->item(r, 0)->data(Qt::UserRole).toInt() != run)
            continue;
        QStringList cells;
        for (int c = 1; c < ui->runTable->columnCount(); ++c)
            cells.append(ui->runTable->item(r, c) ? ui->runTable->item(r, c)->text() : QString());
        return cells;
    }
    return {};
}

void ReviewPage::addRunRow(const Pending& p)
{
    // Started: the first value's wall time (our logs); iterations: values of the longest loss; final loss
    // per tag: the sum over the tag's losses of the mean of their last values (weighted, as optimised).
    double started = std::numeric_limits<double>::quiet_NaN();
    std::size_t values = 0;
    QMap<QString, double> finals;
    for (const auto& [name, s] : p.data.losses) {
        values = std::max(values, s.raw.size());
        for (double t : s.wall_time) {
            if (std::isfinite(t)) {
                started = std::isfinite(started) ? std::min(started, t) : t;
                break;
            }
        }
        double sum = 0.0;
        int n = 0;
        for (std::size_t i = s.weighted.size() > kFinalValues ? s.weighted.size() - kFinalValues : 0;
             i < s.weighted.size(); ++i)
            if (std::isfinite(s.weighted[i])) {
                sum += s.weighted[i];
                ++n;
            }
        if (n == 0)
            continue;
        QStringList tags = p.tags.value(QString::fromStdString(name));
        if (tags.isEmpty())
            tags.append(ChartPanel::untaggedTitle());
        for (const QString& t : tags)
            finals[t] += sum / n;
    }
    QStringList finalText;
    for (auto it = finals.cbegin(); it != finals.cend(); ++it)
        finalText.append(QStringLiteral("%1 %2").arg(it.key(), QString::number(it.value(), 'g', 4)));
    const int row = ui->runTable->rowCount();
    const QSignalBlocker block(ui->runTable);
    ui->runTable->insertRow(row);
    auto* show = new QTableWidgetItem;
    show->setFlags(Qt::ItemIsUserCheckable | Qt::ItemIsEnabled | Qt::ItemIsSelectable);
    show->setCheckState(ui->charts->runVisible(p.run) ? Qt::Checked : Qt::Unchecked);
    show->setData(Qt::UserRole, p.run);
    ui->runTable->setItem(row, 0, show);
    const QStringList cells { QFileInfo(p.dir).fileName(), p.spec.isEmpty() ? tr("(not recorded)") : p.spec,
        std::isfinite(started) ? QLocale().toString(
            QDateTime::fromMSecsSinceEpoch(static_cast<qint64>(started * 1000.0)), QLocale::ShortFormat)
                               : tr("(no timestamps)"),
        QLocale().toString(static_cast<qulonglong>(values)), finalText.join(QStringLiteral(" · ")),
        styleName(ui->charts->runStyle(p.run)) };
    for (int c = 0; c < cells.size(); ++c) {
        auto* item = new QTableWidgetItem(cells[c]);
        if (c == 0)
            item->setToolTip(p.dir);
        ui->runTable->setItem(row, c + 1, item);
    }
    ui->runTable->show();
}

void ReviewPage::removeRun(int run)
{
    if (run <= 0)
        return;
    ui->charts->clearRun(run);
    m_runDirs.remove(run);
    for (int r = ui->runTable->rowCount() - 1; r >= 0; --r)
        if (ui->runTable->item(r, 0)->data(Qt::UserRole).toInt() == run)
            ui->runTable->removeRow(r);
    ui->clearOverlayButton->setEnabled(m_runDirs.size() > 1);
    ui->compareButton->setEnabled(m_runDirs.size() > 1);
}

QList<engine::RunDifferenceRow> ReviewPage::compareRuns(int runA, int runB) const
{
    if (!m_runDirs.contains(runA) || !m_runDirs.contains(runB))
        return {};
    return engine::compareRuns(m_runDirs.value(runA), m_runDirs.value(runB));
}

void ReviewPage::showCompare()
{
    QList<int> picked;
    for (const QModelIndex& i : ui->runTable->selectionModel()->selectedRows())
        picked.append(ui->runTable->item(i.row(), 0)->data(Qt::UserRole).toInt());
    const QList<int> all = runs();
    if (picked.size() != 2) {
        if (all.size() < 2)
            return;
        picked = { all[0], all[1] };
    }
    std::sort(picked.begin(), picked.end());
    const QString a = QFileInfo(m_runDirs.value(picked[0])).fileName();
    const QString b = QFileInfo(m_runDirs.value(picked[1])).fileName();
    QStringList warnings;
    const auto rows = engine::compareRuns(m_runDirs.value(picked[0]), m_runDirs.value(picked[1]), &warnings);
    auto* dialog = new QDialog(this);
    dialog->setObjectName(QStringLiteral("compareDialog"));
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    dialog->setWindowTitle(tr("Compare %1 and %2").arg(a, b));
    auto* layout = new QVBoxLayout(dialog);
    auto* summary = new QLabel(rows.isEmpty()
            ? tr("The two runs trained the same objective with the same settings.")
            : tr("%n difference(s): losses first, then settings.", nullptr, static_cast<int>(rows.size())),
        dialog);
    layout->addWidget(summary);
    auto* tree = new QTreeWidget(dialog);
    tree->setObjectName(QStringLiteral("compareTree"));
    tree->setHeaderLabels({ tr("Loss"), tr("What"), a, b });
    tree->setRootIsDecorated(false);
    for (const auto& r : rows)
        new QTreeWidgetItem(tree, { r.loss.isEmpty() ? tr("(setting)") : r.loss, r.field, r.a, r.b });
    for (int c = 0; c < 4; ++c)
        tree->resizeColumnToContents(c);
    layout->addWidget(tree);
    if (!warnings.isEmpty()) {
        auto* w = new QLabel(warnings.join(QLatin1Char('\n')), dialog);
        w->setWordWrap(true);
        layout->addWidget(w);
    }
    auto* buttons = new QDialogButtonBox(QDialogButtonBox::Close, dialog);
    connect(buttons, &QDialogButtonBox::rejected, dialog, &QDialog::close);
    layout->addWidget(buttons);
    dialog->resize(760, 420);
    dialog->show();
}

void ReviewPage::followRun(const QString& dir, int intervalMs)
{
    if (isLoading())
        return;
    setFollowing(false);
    showError({});
    startOver(dir);
    ui->runTable->hide();
    m_runDirs.insert(0, dir);
    m_superseded.clear();
    ui->supersededCheck->setEnabled(false);
    ui->pathLabel->setText(dir);
    ui->overlayButton->setEnabled(true);
    ui->followCheck->setEnabled(true);
    ui->continueButton->setEnabled(false);
    m_canContinue = false;
    scanExamples(dir);
    setFollowing(true, intervalMs);
}

bool ReviewPage::following() const
{
    return m_followTimer->isActive();
}

void ReviewPage::setFollowing(bool on, int intervalMs)
{
    {
        const QSignalBlocker block(ui->followCheck);
        ui->followCheck->setChecked(on);
    }
    if (!on) {
        m_followTimer->stop();
        m_badgeTimer->stop();
        ui->followBadge->clear();
        return;
    }
    if (m_runDir.isEmpty() || following())
        return;
    if (m_follow && m_follow->poller)
        m_follow->poller->wait();
    m_follow = std::make_unique<Follow>();
    m_follow->dir = m_runDir;
    m_follow->follower = std::make_shared<nectar::LossLogFollower>(m_runDir.toStdString());
    m_followTotal = 0;
    // The follower reads the journal from its first line: what was loaded is replaced, not doubled.
    ui->charts->clearRun(0);
    ui->charts->clearRun(kSupersededRun);
    m_followTimer->setInterval(intervalMs);
    m_followTimer->start();
    m_badgeTimer->start();
    pollFollow();
}

void ReviewPage::pollFollow()
{
    Follow* f = m_follow.get();
    if (!f || f->poller || isLoading())
        return;
    f->update = std::make_shared<nectar::LossLogFollower::Update>();
    f->error = std::make_shared<QString>();
    f->newTags = std::make_shared<QMap<QString, QStringList>>();
    auto follower = f->follower;
    auto update = f->update;
    auto error = f->error;
    auto newTags = f->newTags;
    const QString dir = f->dir;
    const QMap<QString, QStringList> known = f->tags;
    std::shared_ptr<Pending> record;
    if (!f->objectiveShown) {
        record = std::make_shared<Pending>();
        record->dir = dir;
    }
    f->record = record;
    f->poller = QThread::create([follower, update, error, newTags, dir, known, record] {
        try {
            *update = follower->poll();
        } catch (const std::exception& e) {
            *error = QString::fromStdString(e.what());
            return;
        }
        // Tags of losses seen for the first time (reads the run's objective record: off the GUI thread).
        QStringList names;
        for (const auto& n : update->data.order)
            if (!known.contains(QString::fromStdString(n)))
                names.append(QString::fromStdString(n));
        if (!names.isEmpty()) {
            QString source;
            *newTags = engine::runLossTags(dir, names, &source);
        }
        // The run's objective record and config copy exist once it trains: read them with its first values.
        if (record && !update->data.order.empty()) {
            if (engine::runObjective(dir, &record->objective, &record->objectiveError)
                && !record->objective.file.isEmpty())
                record->spec = record->objective.spec + QStringLiteral(" / ") + record->objective.subspec;
            record->ours = !engine::latestConfigCopy(dir).isEmpty();
        }
    });
    connect(f->poller, &QThread::finished, this, &ReviewPage::applyFollow);
    f->poller->start();
}

void ReviewPage::applyFollow()
{
    Follow* f = m_follow.get();
    if (!f)
        return;
    f->poller->deleteLater();
    f->poller = nullptr;
    if (!f->error->isEmpty()) {
        showError(tr("Following stopped: %1").arg(*f->error));
        setFollowing(false);
        return;
    }
    if (!following())
        return;
    const auto& u = *f->update;
    f->exists = u.exists;
    for (auto it = f->newTags->cbegin(); it != f->newTags->cend(); ++it)
        f->tags.insert(it.key(), it.value());
    if (u.reset) {
        ui->charts->clearRun(0);
        ui->charts->clearRun(kSupersededRun);
        f->counts.clear();
        f->mapped = false;
        m_followTotal = 0;
    }
    if (!f->mapped && u.data.dataset_length > 0) {
        ui->charts->setEpochMapping(iterationsPerEpoch(u.data, f->dir), 1, 0);
        f->mapped = true;
    }
    bool any = false;
    for (const auto& name : u.data.order) {
        const nectar::LossSeries& s = u.data.losses.at(name);
        if (s.raw.empty())
            continue;
        const QString qname = QString::fromStdString(name);
        std::size_t& shown = f->counts[qname];
        ui->charts->appendChunk(chunkOf(name, s, 0, s.raw.size(), shown, f->tags.value(qname)), 0);
        shown += s.raw.size();
        m_followTotal += static_cast<qint64>(s.raw.size());
        any = true;
        for (auto t = s.wall_time.rbegin(); t != s.wall_time.rend(); ++t)
            if (std::isfinite(*t)) {
                f->lastValueTime = std::isfinite(f->lastValueTime) ? std::max(f->lastValueTime, *t) : *t;
                break;
            }
    }
    for (const auto& e : u.data.edits)
        ui->charts->addEdit(e, 0);
    if (any)
        f->lastArrival = QDateTime::currentMSecsSinceEpoch();
    if (f->record && !u.data.order.empty() && !f->objectiveShown) {
        f->objectiveShown = true;
        showObjective(*f->record);
    }
    for (const auto& w : u.data.warnings)
        Q_EMIT statusMessage(QString::fromStdString(w));
    updateBadge();
}

QString ReviewPage::followBadge() const
{
    return ui->followBadge->text();
}

void ReviewPage::updateBadge()
{
    const Follow* f = m_follow.get();
    if (!f || !following()) {
        ui->followBadge->clear();
        return;
    }
    QString text;
    if (!f->exists) {
        text = tr("● following: waiting for %1").arg(QString::fromLatin1(nectar::LossLog::kJournalFileName));
    } else if (f->lastArrival == 0) {
        text = tr("● following: no values yet");
    } else {
        const double now = QDateTime::currentMSecsSinceEpoch() / 1000.0;
        const double last = std::isfinite(f->lastValueTime) ? f->lastValueTime : f->lastArrival / 1000.0;
        const qint64 age = std::max<qint64>(0, static_cast<qint64>(now - last));
        text = age < 120 ? tr("● following: last value %1 s ago").arg(age)
                         : tr("● following: last value %1 min ago").arg(age / 60);
    }
    ui->followBadge->setText(text);
    ui->followBadge->setStyleSheet(
        QStringLiteral("color: %1;").arg(f->exists ? QStringLiteral("#2a7a2a") : QStringLiteral("#a06000")));
}
