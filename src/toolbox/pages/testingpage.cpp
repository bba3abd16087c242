// SPDX-License-Identifier: Apache-2.0
#include "pages/testingpage.h"
#include "widgets/tooltips.h"

#include <QComboBox>
#include <QCoreApplication>
#include <QDir>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QImageReader>
#include <QIntValidator>
#include <QItemSelectionModel>
#include <QLabel>
#include <QLineEdit>
#include <QLocale>
#include <QPointer>
#include <QProgressBar>
#include <QPushButton>
#include <QRegularExpression>
#include <QSettings>
#include <QSortFilterProxyModel>
#include <QSplitter>
#include <QTableView>
#include <QThreadPool>
#include <QToolButton>
#include <QVBoxLayout>

#include <cmath>

#include "pages/testresultsmodel.h"
#include "session/backgroundjob.h"
#include "widgets/inlinemessage.h"
#include "widgets/zoomimageview.h"

namespace {
const QString kRecentKey = QStringLiteral("testing/recentExperiments");
constexpr int kMaxRecent = 8;

/// What a scan of an experiment folder found.
struct ScanResult {
    QString dir;
    QList<int> epochs;
    QList<engine::TestRunEntry> runs;
    QStringList skipped;
};

QString metricText(double v)
{
    if (std::isnan(v))
        return QStringLiteral("—");
    if (std::isinf(v))
        return QStringLiteral("∞");
    return QLocale().toString(v, 'g', 5);
}

QString runLabel(const engine::TestRunEntry& e)
{
    QString s = QCoreApplication::translate(
        "TestingPage", "epoch %1 · v%2 · %3 · %n image(s)", nullptr, static_cast<int>(e.count))
                    .arg(e.epoch)
                    .arg(e.version)
                    .arg(e.sourceLabel);
    if (e.stopped)
        s += QCoreApplication::translate("TestingPage", " (stopped)");
    return s;
}
} // namespace

Q_DECLARE_METATYPE(ScanResult)

TestingPage::TestingPage(QWidget* parent)
    : QWidget(parent)
    , m_model(new TestResultsModel(this))
    , m_proxy(new QSortFilterProxyModel(this))
    , m_test(new BackgroundJob(this))
    , m_scanner(new BackgroundJob(this))
    , m_loader(new BackgroundJob(this))
    , m_known(new BackgroundJob(this))
{
    qRegisterMetaType<engine::TestRunData>();
    auto* layout = new QVBoxLayout(this);

    auto* setup = new QGroupBox(tr("Test a saved epoch"), this);
    auto* form = new QFormLayout(setup);
    m_experiment = new QComboBox(setup);
    m_experiment->setObjectName(QStringLiteral("testExperiment"));
    m_experiment->setEditable(true);
    m_experiment->setInsertPolicy(QComboBox::NoInsert);
    m_experiment->setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Fixed);
    m_experiment->setToolTip(tr("An experiment folder <name>_v<N> with checkpoints (recent ones and those in the "
                                "runs folder are listed)"));
    m_browseExperiment = new QPushButton(tr("Browse…"), setup);
    auto* experimentRow = new QHBoxLayout;
    experimentRow->addWidget(m_experiment, 1);
    experimentRow->addWidget(m_browseExperiment);
    auto* experimentLabel = new QLabel(tr("E&xperiment:"), setup);
    experimentLabel->setBuddy(m_experiment);
    form->addRow(experimentLabel, experimentRow);

    m_epoch = new QComboBox(setup);
    m_epoch->setObjectName(QStringLiteral("testEpoch"));
    m_epoch->setEditable(true);
    m_epoch->setInsertPolicy(QComboBox::NoInsert);
    m_epoch->setValidator(new QIntValidator(1, 1000000, m_epoch));
    m_epoch->setToolTip(tr("The checkpoint epoch (epoch<N>_netG.pt); the list shows the saved ones"));
    form->addRow(tr("&Epoch:"), m_epoch);

    m_source = new QComboBox(setup);
    m_source->setObjectName(QStringLiteral("testSource"));
    m_source->addItem(tr("A split of its dataset"), QStringLiteral("split"));
    m_source->addItem(tr("Another dataset folder (A|B pairs)"), QStringLiteral("folder"));
    m_source->addItem(tr("Input images only (no target)"), QStringLiteral("input"));
    form->addRow(tr("&Source:"), m_source);

    m_split = new QComboBox(setup);
    m_split->setObjectName(QStringLiteral("testSplit"));
    m_split->addItems({ QStringLiteral("test"), QStringLiteral("val"), QStringLiteral("train") });
    form->addRow(tr("S&plit:"), m_split);

    m_folder = new QLineEdit(setup);
    m_folder->setObjectName(QStringLiteral("testFolder"));
    m_folder->setPlaceholderText(tr("Folder of A|B pair images, or of input images"));
    m_browseFolder = new QPushButton(tr("Browse…"), setup);
    auto* folderRow = new QHBoxLayout;
    folderRow->addWidget(m_folder, 1);
    folderRow->addWidget(m_browseFolder);
    auto* folderLabel = new QLabel(tr("&Folder:"), setup);
    folderLabel->setBuddy(m_folder);
    form->addRow(folderLabel, folderRow);

    m_fit = new QComboBox(setup);
    m_fit->setObjectName(QStringLiteral("testFit"));
    m_fit->addItem(tr("Resize to the model's size (and back)"), QStringLiteral("resize"));
    m_fit->addItem(tr("Tile at full resolution"), QStringLiteral("tile"));
    form->addRow(tr("Input &fit:"), m_fit);

    m_run = new QPushButton(QIcon(QStringLiteral(":/icons/start.png")), tr("&Run test"), setup);
    m_run->setObjectName(QStringLiteral("testRun"));
    m_stop = new QPushButton(QIcon(QStringLiteral(":/icons/stop.png")), tr("Stop"), setup);
    m_stop->setObjectName(QStringLiteral("testStop"));
    m_progress = new QProgressBar(setup);
    m_progress->setObjectName(QStringLiteral("testProgress"));
    m_progress->setFormat(tr("%v / %m images"));
    m_progress->setValue(0);
    auto* runRow = new QHBoxLayout;
    runRow->addWidget(m_run);
    runRow->addWidget(m_stop);
    runRow->addWidget(m_progress, 1);
    form->addRow(runRow);
    m_message = new InlineMessage(setup);
    m_message->setObjectName(QStringLiteral("testMessage"));
    form->addRow(m_message);
    layout->addWidget(setup);

    auto* results = new QGroupBox(tr("Results"), this);
    auto* resultsLayout = new QVBoxLayout(results);
    auto* bar = new QHBoxLayout;
    m_version = new QComboBox(results);
    m_version->setObjectName(QStringLiteral("testVersion"));
    m_version->setSizeAdjustPolicy(QComboBox::AdjustToContents);
    m_version->setToolTip(tr("Earlier test runs of this experiment (test_epoch<N>_v<K>)"));
    auto* versionLabel = new QLabel(tr("&Test run:"), results);
    versionLabel->setBuddy(m_version);
    bar->addWidget(versionLabel);
    bar->addWidget(m_version, 1);
    m_sortKey = new QComboBox(results);
    m_sortKey->setObjectName(QStringLiteral("testSortKey"));
    m_sortOrder = new QComboBox(results);
    m_sortOrder->setObjectName(QStringLiteral("testSortOrder"));
    m_sortOrder->addItem(tr("Ascending"), static_cast<int>(Qt::AscendingOrder));
    m_sortOrder->addItem(tr("Descending"), static_cast<int>(Qt::DescendingOrder));
    auto* sortLabel = new QLabel(tr("S&ort by:"), results);
    sortLabel->setBuddy(m_sortKey);
    bar->addWidget(sortLabel);
    bar->addWidget(m_sortKey);
    bar->addWidget(m_sortOrder);
    resultsLayout->addLayout(bar);
    m_summary = new QLabel(tr("No test run yet: choose an experiment and press Run test."), results);
    m_summary->setObjectName(QStringLiteral("testSummary"));
    m_summary->setWordWrap(true);
    m_summary->setTextInteractionFlags(Qt::TextSelectableByMouse);
    resultsLayout->addWidget(m_summary);

    auto* splitter = new QSplitter(Qt::Horizontal, results);
    m_proxy->setSourceModel(m_model);
    m_proxy->setSortRole(TestResultsModel::SortRole);
    m_view = new QTableView(splitter);
    m_view->setObjectName(QStringLiteral("testGallery"));
    m_view->setModel(m_proxy);
    m_view->setSortingEnabled(true);
    m_view->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_view->setSelectionMode(QAbstractItemView::SingleSelection);
    m_view->setIconSize(TestResultsModel::kThumbnailSize);
    m_view->verticalHeader()->setDefaultSectionSize(TestResultsModel::kThumbnailSize.height() + 8);
    m_view->verticalHeader()->hide();
    m_view->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
    m_view->setWordWrap(false);
    auto* detail = new QWidget(splitter);
    auto* detailLayout = new QVBoxLayout(detail);
    detailLayout->setContentsMargins(0, 0, 0, 0);
    m_details = new QLabel(detail);
    m_details->setObjectName(QStringLiteral("testDetails"));
    m_details->setWordWrap(true);
    m_details->setTextInteractionFlags(Qt::TextSelectableByMouse);
    detailLayout->addWidget(m_details);
    auto* zoomBar = new QHBoxLayout;
    auto zoomButton = [&](const QString& text, const QString& tip, const QKeySequence& key) {
        auto* b = new QToolButton(detail);
        b->setText(text);
        b->setToolTip(tip + QStringLiteral(" (") + key.toString(QKeySequence::NativeText) + QLatin1Char(')'));
        b->setShortcut(key);
        zoomBar->addWidget(b);
        return b;
    };
    QToolButton* zoomIn = zoomButton(tr("Zoom in"), tr("Zoom in"), QKeySequence::ZoomIn);
    QToolButton* zoomOut = zoomButton(tr("Zoom out"), tr("Zoom out"), QKeySequence::ZoomOut);
    QToolButton* fit = zoomButton(tr("Fit"), tr("Fit the image to the view"), QKeySequence(Qt::CTRL | Qt::Key_0));
    QToolButton* actual = zoomButton(tr("100 %"), tr("One image pixel per screen pixel"), QKeySequence());
    zoomBar->addStretch(1);
    auto* zoomLabel = new QLabel(detail);
    zoomBar->addWidget(zoomLabel);
    detailLayout->addLayout(zoomBar);
    m_zoom = new ZoomImageView(detail);
    m_zoom->setObjectName(QStringLiteral("testImage"));
    m_zoom->setToolTip(tr("Ctrl+wheel zooms, drag pans"));
    detailLayout->addWidget(m_zoom, 1);
    splitter->addWidget(m_view);
    splitter->addWidget(detail);
    splitter->setStretchFactor(0, 3);
    splitter->setStretchFactor(1, 2);
    splitter->setSizes({ 3000, 2000 }); // 3 : 2 of whatever width the page gets
    resultsLayout->addWidget(splitter, 1);
    layout->addWidget(results, 1);

    connect(zoomIn, &QToolButton::clicked, m_zoom, &ZoomImageView::zoomIn);
    connect(zoomOut, &QToolButton::clicked, m_zoom, &ZoomImageView::zoomOut);
    connect(fit, &QToolButton::clicked, m_zoom, &ZoomImageView::fitToView);
    connect(actual, &QToolButton::clicked, m_zoom, &ZoomImageView::actualSize);
    connect(m_zoom, &ZoomImageView::zoomChanged, zoomLabel,
        [zoomLabel](double z) { zoomLabel->setText(QStringLiteral("%1 %").arg(qRound(z * 100))); });

    connect(m_browseExperiment, &QPushButton::clicked, this, &TestingPage::browseExperiment);
    connect(m_browseFolder, &QPushButton::clicked, this, &TestingPage::browseFolder);
    // A typed path is scanned once editing ends (not at each keystroke); a picked one at once.
    connect(m_experiment->lineEdit(), &QLineEdit::editingFinished, this, [this] {
        if (QDir::cleanPath(m_experiment->currentText()) != m_scanDir)
            scan();
    });
    connect(m_experiment, &QComboBox::activated, this, [this] { scan(); });
    connect(m_source, &QComboBox::currentIndexChanged, this, &TestingPage::updateSourceFields);
    connect(m_run, &QPushButton::clicked, this, &TestingPage::runTest);
    connect(m_stop, &QPushButton::clicked, this, &TestingPage::stop);
    connect(m_version, &QComboBox::activated, this, &TestingPage::showTestRun);
    auto applySortCombos = [this] {
        const QString key = m_sortKey->currentData().toString();
        sortBy(key, static_cast<Qt::SortOrder>(m_sortOrder->currentData().toInt()));
    };
    connect(m_sortKey, &QComboBox::activated, this, applySortCombos);
    connect(m_sortOrder, &QComboBox::activated, this, applySortCombos);
    connect(m_view->horizontalHeader(), &QHeaderView::sortIndicatorChanged, this, &TestingPage::onSortIndicator);
    connect(m_view->selectionModel(), &QItemSelectionModel::selectionChanged, this, &TestingPage::onSelection);

    connect(m_test, &BackgroundJob::progress, this, [this](qint64 done, qint64 total) {
        m_progress->setMaximum(static_cast<int>(total));
        m_progress->setValue(static_cast<int>(done));
        Q_EMIT progress(done, total);
    });
    connect(m_test, &BackgroundJob::finished, this, &TestingPage::onRunDone);
    connect(m_test, &BackgroundJob::failed, this, [this](const QString& error) {
        m_message->setMessage(error);
        updateButtons();
        Q_EMIT runFailed(error);
    });
    connect(m_scanner, &BackgroundJob::finished, this, &TestingPage::onScanned);
    connect(m_scanner, &BackgroundJob::failed, this, [this](const QString& error) {
        m_message->setMessage(error);
        if (m_rescan) {
            m_rescan = false;
            scan();
        }
    });
    connect(m_loader, &BackgroundJob::finished, this, [this](const QVariant& v) {
        const auto run = v.value<engine::TestRunData>();
        if (!m_pendingLoad.isEmpty() && m_pendingLoad != m_loadDir) {
            const QString next = m_pendingLoad;
            m_pendingLoad.clear();
            loadRun(next);
            return;
        }
        m_pendingLoad.clear();
        showRun(run);
        Q_EMIT runLoaded(run.dir);
    });
    connect(m_loader, &BackgroundJob::failed, this, [this](const QString& error) {
        m_pendingLoad.clear();
        m_message->setMessage(error);
    });
    connect(m_known, &BackgroundJob::finished, this, [this](const QVariant& v) {
        const QString typed = m_experiment->currentText();
        QStringList items = QSettings().value(kRecentKey).toStringList();
        for (const QString& d : v.toStringList())
            if (!items.contains(d))
                items.append(d);
        m_experiment->clear();
        m_experiment->addItems(items);
        m_experiment->setCurrentText(typed);
    });

    sortBy(QString(), Qt::AscendingOrder);
    updateSourceFields();
    updateButtons();
    m_experiment->addItems(QSettings().value(kRecentKey).toStringList());
    m_experiment->setCurrentText(QString());
    widgets::setToolTips(this,
        { { "testSource",
              tr("What to test on: a split of the experiment's dataset, another folder of A|B pairs, or "
                 "input-only images (no target, no metrics)") },
            { "testSplit", tr("Split folder of the dataset (test, val or train)") },
            { "testFolder", tr("Folder of A|B pair images, or of plain input images") },
            { "testFit",
                tr("Input-only images: resize to the model's size and back, or cut into tiles at full "
                   "resolution") },
            { "testRun", tr("Run the test into a new folder test_epoch<N>_v<K> (earlier runs are kept)") },
            { "testStop", tr("Stop after the current image; the images done so far are kept") },
            { "testSortKey", tr("Metric to sort the images by") }, { "testSortOrder", tr("Sort direction") },
            { "testGallery",
                tr("One row per image: input | generated | target and its metrics; click a header "
                   "to sort") } });
}

TestingPage::~TestingPage() = default;

void TestingPage::setRunsFolder(std::function<QString()> folder)
{
    m_runsFolder = std::move(folder);
    refreshKnownExperiments();
}

void TestingPage::refreshKnownExperiments()
{
    if (!m_runsFolder || m_known->isRunning())
        return;
    const QString root = m_runsFolder();
    // Known experiments: the runs folder's <name>_v<N> folders that hold a checkpoint.
    m_known->start([root](const BackgroundJob::Progress&) {
        static const QRegularExpression versioned(QStringLiteral("_v[0-9]+$"));
        QStringList out;
        const QDir dir(root);
        for (const QString& name : dir.entryList(QDir::Dirs | QDir::NoDotAndDotDot, QDir::Name)) {
            const QString path = dir.filePath(name);
            if (versioned.match(name).hasMatch() && !engine::checkpointEpochs(path).isEmpty())
                out.append(QDir::cleanPath(path));
        }
        return QVariant(out);
    });
}

void TestingPage::setExperiment(const QString& dir)
{
    m_experiment->setCurrentText(dir);
    scan();
}

QString TestingPage::experiment() const
{
    const QString t = m_experiment->currentText().trimmed();
    return t.isEmpty() ? QString() : QDir::cleanPath(t);
}

QList<int> TestingPage::epochs() const
{
    QList<int> out;
    for (int i = 0; i < m_epoch->count(); ++i)
        out.append(m_epoch->itemData(i).toInt());
    return out;
}

void TestingPage::setEpoch(int epoch)
{
    const int i = m_epoch->findData(epoch);
    if (i >= 0)
        m_epoch->setCurrentIndex(i);
    else
        m_epoch->setCurrentText(QString::number(epoch));
}

void TestingPage::setSource(const QString& source)
{
    const int i = m_source->findData(source);
    if (i >= 0)
        m_source->setCurrentIndex(i);
}

void TestingPage::setSplit(const QString& split)
{
    m_split->setCurrentText(split);
}

void TestingPage::setFolder(const QString& dir)
{
    m_folder->setText(dir);
}

void TestingPage::setFit(const QString& fit)
{
    const int i = m_fit->findData(fit);
    if (i >= 0)
        m_fit->setCurrentIndex(i);
}

void TestingPage::browseExperiment()
{
    QString start = experiment();
    if (start.isEmpty() && m_runsFolder)
        start = m_runsFolder();
    const QString dir = QFileDialog::getExistingDirectory(this, tr("Experiment to test"), start);
    if (!dir.isEmpty())
        setExperiment(dir);
}

void TestingPage::browseFolder()
{
    const QString start = m_folder->text().isEmpty() ? experiment() : m_folder->text();
    const QString dir = QFileDialog::getExistingDirectory(this, tr("Folder of images to test on"), start);
    if (!dir.isEmpty())
        m_folder->setText(dir);
}

void TestingPage::scan()
{
    const QString dir = experiment();
    if (m_scanner->isRunning()) {
        m_rescan = true;
        return;
    }
    m_scanDir = dir;
    if (dir.isEmpty())
        return;
    m_message->setMessage({});
    m_scanner->start([dir](const BackgroundJob::Progress&) {
        ScanResult r;
        r.dir = dir;
        r.epochs = engine::checkpointEpochs(dir);
        r.runs = engine::testRuns(dir, &r.skipped);
        return QVariant::fromValue(r);
    });
}

void TestingPage::onScanned(const QVariant& result)
{
    if (m_rescan) { // the experiment changed meanwhile: this scan is stale
        m_rescan = false;
        scan();
        return;
    }
    const auto r = result.value<ScanResult>();
    const int keep = m_epoch->currentText().toInt();
    m_epoch->clear();
    for (int e : r.epochs)
        m_epoch->addItem(QString::number(e), e);
    if (!r.epochs.isEmpty()) {
        const int i = m_epoch->findData(keep);
        m_epoch->setCurrentIndex(i >= 0 ? i : m_epoch->count() - 1);
    }
    if (r.epochs.isEmpty() && !QFileInfo(r.dir).isDir())
        m_message->setMessage(tr("%1: no such folder").arg(r.dir));
    else if (r.epochs.isEmpty())
        m_message->setMessage(
            tr("%1: no checkpoint (epoch<N>_netG.pt with its netD and trainer files) — train it first").arg(r.dir));
    else if (!r.skipped.isEmpty())
        m_message->setMessage(tr("Test runs left out:\n%1").arg(r.skipped.join(QLatin1Char('\n'))));
    m_runs = r.runs;
    const QString select = m_selectAfterScan;
    m_selectAfterScan.clear();
    fillVersions(select);
    // A run that was just made is shown already; otherwise show the experiment's newest one.
    if (select.isEmpty()) {
        if (!m_runs.isEmpty())
            showTestRun(static_cast<int>(m_runs.size()) - 1);
        else
            showRun({});
    }
    Q_EMIT epochsScanned(r.dir);
}

void TestingPage::fillVersions(const QString& select)
{
    m_version->clear();
    int current = -1;
    for (int i = 0; i < m_runs.size(); ++i) {
        m_version->addItem(runLabel(m_runs.at(i)), m_runs.at(i).dir);
        if (QDir::cleanPath(m_runs.at(i).dir) == QDir::cleanPath(select))
            current = i;
    }
    m_version->setCurrentIndex(current >= 0 ? current : static_cast<int>(m_runs.size()) - 1);
}

void TestingPage::showTestRun(int index)
{
    if (index < 0 || index >= m_runs.size())
        return;
    if (m_version->currentIndex() != index)
        m_version->setCurrentIndex(index);
    loadRun(m_runs.at(index).dir);
}

void TestingPage::loadRun(const QString& dir)
{
    if (m_loader->isRunning()) {
        m_pendingLoad = dir;
        return;
    }
    m_loadDir = dir;
    m_loader->start([dir](const BackgroundJob::Progress&) { return QVariant::fromValue(engine::loadTestRun(dir)); });
}

void TestingPage::showRun(const engine::TestRunData& run)
{
    const int sortColumn = m_view->horizontalHeader()->sortIndicatorSection();
    const QString sortName = sortColumn > 0 && sortColumn - 1 < engine::metricNames().size()
        ? engine::metricNames().at(sortColumn - 1)
        : QString();
    const Qt::SortOrder order = m_view->horizontalHeader()->sortIndicatorOrder();
    m_model->setRun(run);
    m_sortKey->clear();
    m_sortKey->addItem(tr("Image name"), QString());
    if (run.hasTargets) {
        const QStringList names = engine::metricNames(), labels = engine::metricLabels();
        for (int i = 0; i < names.size(); ++i)
            m_sortKey->addItem(labels.at(i), names.at(i));
    }
    sortBy(run.hasTargets ? sortName : QString(), order);
    m_zoom->setImage({});
    m_details->clear();
    if (run.dir.isEmpty()) {
        m_summary->setText(tr("No test run of this experiment yet: press Run test."));
        return;
    }
    QString s = tr("Epoch %1, v%2 · %3 · %n image(s)", nullptr, static_cast<int>(run.images.size()))
                    .arg(run.epoch)
                    .arg(run.version)
                    .arg(run.sourceLabel);
    if (run.stopped)
        s += tr(" · stopped before the end");
    if (run.hasTargets && !run.images.isEmpty()) {
        const QStringList labels = engine::metricLabels();
        QStringList means;
        for (int i = 0; i < run.means.size() && i < labels.size(); ++i)
            means.append(labels.at(i) + QLatin1Char(' ') + metricText(run.means.at(i)));
        s += QLatin1Char('\n') + tr("Mean: ") + means.join(QStringLiteral(" · "));
    } else if (!run.hasTargets) {
        s += QLatin1Char('\n') + tr("Input images only: generated images, no metrics");
    }
    m_summary->setText(s + QLatin1Char('\n') + run.dir);
    if (m_proxy->rowCount() > 0)
        selectImage(0);
}

bool TestingPage::runTest()
{
    if (m_test->isRunning())
        return false;
    engine::TestRequest request;
    request.experimentDir = experiment();
    bool epochOk = false;
    request.epoch = m_epoch->currentText().toInt(&epochOk);
    request.source = m_source->currentData().toString();
    request.split = m_split->currentText();
    request.folder = m_folder->text().trimmed();
    request.fit = m_fit->currentData().toString();
    if (request.experimentDir.isEmpty()) {
        m_message->setMessage(tr("Choose an experiment folder to test."));
        return false;
    }
    if (!epochOk || request.epoch < 1) {
        m_message->setMessage(tr("%1: choose the epoch to test (no checkpoint is listed)").arg(request.experimentDir));
        return false;
    }
    if (request.source != QLatin1String("split") && request.folder.isEmpty()) {
        m_message->setMessage(tr("Choose the folder of images to test on."));
        return false;
    }
    m_message->setMessage({});
    m_progress->setMaximum(0); // busy until the first image is done
    m_progress->setValue(0);
    rememberExperiment(request.experimentDir);
    m_test->start([request](const BackgroundJob::Progress& progress) {
        QStringList warnings;
        engine::TestRunData run = engine::runTest(request, progress, &warnings);
        QVariantList out { QVariant::fromValue(run), warnings };
        return QVariant(out);
    });
    updateButtons();
    Q_EMIT statusMessage(tr("Testing epoch %1 of %2…").arg(request.epoch).arg(request.experimentDir));
    return true;
}

void TestingPage::onRunDone(const QVariant& result)
{
    const QVariantList parts = result.toList();
    const auto run = parts.value(0).value<engine::TestRunData>();
    const QStringList warnings = parts.value(1).toStringList();
    updateButtons();
    m_progress->setMaximum(std::max(1, static_cast<int>(run.images.size())));
    m_progress->setValue(static_cast<int>(run.images.size()));
    if (!warnings.isEmpty())
        m_message->setMessage(warnings.join(QLatin1Char('\n')));
    showRun(run);
    // The version selector lists the new run once the experiment is scanned again.
    m_selectAfterScan = run.dir;
    scan();
    Q_EMIT statusMessage(run.stopped ? tr("Test stopped: %1").arg(run.dir) : tr("Test done: %1").arg(run.dir));
    Q_EMIT runFinished(run.stopped, run.dir);
}

void TestingPage::stop()
{
    m_test->stop();
}

bool TestingPage::isRunning() const
{
    return m_test->isRunning();
}

QString TestingPage::errorText() const
{
    return m_message->message();
}

void TestingPage::updateSourceFields()
{
    const QString source = m_source->currentData().toString();
    m_split->setEnabled(source == QLatin1String("split"));
    m_folder->setEnabled(source != QLatin1String("split"));
    m_browseFolder->setEnabled(source != QLatin1String("split"));
    m_fit->setEnabled(source == QLatin1String("input"));
}

void TestingPage::updateButtons()
{
    const bool running = m_test->isRunning();
    m_run->setEnabled(!running);
    m_stop->setEnabled(running);
}

void TestingPage::sortBy(const QString& name, Qt::SortOrder order)
{
    const int column = name.isEmpty() ? 0 : m_model->metricColumn(name);
    m_view->sortByColumn(column < 0 ? 0 : column, order); // sortIndicatorChanged syncs the combos
    onSortIndicator(column < 0 ? 0 : column, order);
}

void TestingPage::onSortIndicator(int column, Qt::SortOrder order)
{
    const QString name = column > 0 && column - 1 < engine::metricNames().size() && m_model->run().hasTargets
        ? engine::metricNames().at(column - 1)
        : QString();
    const int key = m_sortKey->findData(name);
    if (key >= 0)
        m_sortKey->setCurrentIndex(key);
    m_sortOrder->setCurrentIndex(m_sortOrder->findData(static_cast<int>(order)));
}

void TestingPage::selectImage(int row)
{
    if (row < 0 || row >= m_proxy->rowCount())
        return;
    m_view->selectRow(row);
}

void TestingPage::onSelection()
{
    const QModelIndexList rows = m_view->selectionModel()->selectedRows();
    if (rows.isEmpty()) {
        m_details->clear();
        m_zoom->setImage({});
        return;
    }
    const int row = m_proxy->mapToSource(rows.first()).row();
    const engine::TestImageRow& r = m_model->run().images.at(row);
    QString text = QStringLiteral("<b>%1</b><br>").arg(QFileInfo(r.file).fileName().toHtmlEscaped())
        + tr("source: %1").arg(r.image.toHtmlEscaped());
    const QStringList names = engine::metricNames(), labels = engine::metricLabels();
    for (int i = 0; i < r.metrics.size() && i < labels.size(); ++i)
        text += QStringLiteral("<br>%1: %2 <span style='color:gray'>(%3)</span>")
                    .arg(labels.at(i), metricText(r.metrics.at(i)),
                        engine::metricHigherIsBetter(names.at(i)) ? tr("higher is better") : tr("lower is better"));
    m_details->setText(text);
    // The full image is read off the GUI thread; a later selection wins.
    const quint64 generation = ++m_imageGeneration;
    const QString file = r.file;
    QPointer<TestingPage> self(this);
    QThreadPool::globalInstance()->start([self, generation, file] {
        const QImage image = QImageReader(file).read();
        QMetaObject::invokeMethod(
            QCoreApplication::instance(),
            [self, generation, image] {
                if (self && generation == self->m_imageGeneration)
                    self->m_zoom->setImage(image);
            },
            Qt::QueuedConnection);
    });
}

QString TestingPage::detailsText() const
{
    return m_details->text();
}

QString TestingPage::summaryText() const
{
    return m_summary->text();
}

void TestingPage::rememberExperiment(const QString& dir)
{
    QSettings settings;
    QStringList recent = settings.value(kRecentKey).toStringList();
    recent.removeAll(dir);
    recent.prepend(dir);
    while (recent.size() > kMaxRecent)
        recent.removeLast();
    settings.setValue(kRecentKey, recent);
    if (m_experiment->findText(dir) < 0)
        m_experiment->insertItem(0, dir);
}
