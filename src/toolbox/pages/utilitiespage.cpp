// SPDX-License-Identifier: Apache-2.0
#include "pages/utilitiespage.h"
#include "widgets/tooltips.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDir>
#include <QDoubleSpinBox>
#include <QFileDialog>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QListView>
#include <QLocale>
#include <QPlainTextEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QSpinBox>
#include <QSplitter>
#include <QStringListModel>
#include <QTabWidget>
#include <QVBoxLayout>

#include <limits>

#include "bridge/enginebridge.h"
#include "session/backgroundjob.h"
#include "widgets/inlinemessage.h"

namespace {
constexpr int kExportTab = 3;

QLineEdit* pathEdit(QWidget* parent, const QString& name, const QString& placeholder)
{
    auto* e = new QLineEdit(parent);
    e->setObjectName(name);
    e->setPlaceholderText(placeholder);
    return e;
}

/// A form row whose field is a layout: the label gets `buddy`, so its mnemonic works (and shows no '&').
void addRow(QFormLayout* form, const QString& text, QWidget* buddy, QLayout* field)
{
    auto* label = new QLabel(text, buddy->parentWidget());
    label->setBuddy(buddy);
    form->addRow(label, field);
}

QHBoxLayout* row(QWidget* a, QWidget* b)
{
    auto* l = new QHBoxLayout;
    l->addWidget(a, 1);
    l->addWidget(b);
    return l;
}
} // namespace

UtilitiesPage::UtilitiesPage(QWidget* parent)
    : QWidget(parent)
    , m_tabs(new QTabWidget(this))
    , m_writes(new QStringListModel(this))
    , m_tool(new BackgroundJob(this))
    , m_export(new BackgroundJob(this))
{
    qRegisterMetaType<engine::ToolOutcome>();
    qRegisterMetaType<engine::OnnxOutcome>();
    auto* layout = new QVBoxLayout(this);
    m_tabs->setObjectName(QStringLiteral("utilityTabs"));
    m_tabs->addTab(buildPairTab(), tr("&Pair folders"));
    m_tabs->addTab(buildSplitTab(), tr("&Split"));
    m_tabs->addTab(buildCheckTab(), tr("&Check dataset"));
    m_tabs->addTab(buildExportTab(), tr("&ONNX export"));
    layout->addWidget(m_tabs);

    auto* results = new QGroupBox(tr("Dataset tool"), this);
    auto* resultsLayout = new QVBoxLayout(results);
    m_stop = new QPushButton(QIcon(QStringLiteral(":/icons/stop.png")), tr("Stop"), results);
    m_stop->setObjectName(QStringLiteral("toolStop"));
    m_progress = new QProgressBar(results);
    m_progress->setObjectName(QStringLiteral("toolProgress"));
    m_progress->setFormat(tr("%v / %m files"));
    m_progress->setValue(0);
    auto* bar = new QHBoxLayout;
    bar->addWidget(m_stop);
    bar->addWidget(m_progress, 1);
    resultsLayout->addLayout(bar);
    m_message = new InlineMessage(results);
    m_message->setObjectName(QStringLiteral("toolMessage"));
    resultsLayout->addWidget(m_message);
    m_outcome = new QLabel(tr("Dry run lists exactly the files Run writes; nothing is written by a dry run."), results);
    m_outcome->setObjectName(QStringLiteral("toolOutcome"));
    m_outcome->setWordWrap(true);
    resultsLayout->addWidget(m_outcome);
    auto* splitter = new QSplitter(Qt::Horizontal, results);
    m_writesView = new QListView(splitter);
    m_writesView->setObjectName(QStringLiteral("toolWrites"));
    m_writesView->setModel(m_writes);
    m_writesView->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_writesView->setUniformItemSizes(true);
    m_report = new QPlainTextEdit(splitter);
    m_report->setObjectName(QStringLiteral("toolReport"));
    m_report->setReadOnly(true);
    m_report->setPlaceholderText(tr("Files left out (unmatched, unreadable, not images) and the check's report"));
    splitter->addWidget(m_writesView);
    splitter->addWidget(m_report);
    resultsLayout->addWidget(splitter, 1);
    layout->addWidget(results, 1);
    connect(m_tabs, &QTabWidget::currentChanged, results, [results](int i) { results->setVisible(i != kExportTab); });

    connect(m_stop, &QPushButton::clicked, this, &UtilitiesPage::stop);
    connect(m_tool, &BackgroundJob::progress, this, [this](qint64 done, qint64 total) {
        m_progress->setMaximum(static_cast<int>(total));
        m_progress->setValue(static_cast<int>(done));
    });
    connect(m_tool, &BackgroundJob::finished, this, &UtilitiesPage::onToolDone);
    connect(m_tool, &BackgroundJob::failed, this, [this](const QString& error) {
        m_progress->setMaximum(1);
        m_progress->setValue(0);
        m_message->setMessage(error);
        updateButtons();
        Q_EMIT toolFailed(error);
    });
    connect(m_export, &BackgroundJob::finished, this, [this](const QVariant& v) {
        const auto r = v.value<engine::OnnxOutcome>();
        m_onnxResult->setText(tr("Wrote %1: %2 nodes, %3 parameters, %4 bytes (opset %5, %6 × %7, ONNX %8)")
                                  .arg(r.path)
                                  .arg(r.nodes)
                                  .arg(QLocale().toString(r.parameters))
                                  .arg(QLocale().toString(r.bytes))
                                  .arg(r.opset)
                                  .arg(r.height)
                                  .arg(r.width)
                                  .arg(r.onnxVersion));
        m_onnxExport->setEnabled(true);
        Q_EMIT statusMessage(tr("Exported %1").arg(r.path));
        Q_EMIT exportFinished(r.path);
    });
    connect(m_export, &BackgroundJob::failed, this, [this](const QString& error) {
        m_onnxMessage->setMessage(error);
        m_onnxExport->setEnabled(true);
        Q_EMIT exportFailed(error);
    });
    updateButtons();
    widgets::setToolTips(this,
        { { "pairA", tr("Folder of A images") },
            { "pairB", tr("Folder of B images, matched to A by file name without extension") },
            { "pairOutput", tr("Folder that gets one <name>.png per pair (new or empty)") },
            { "pairIntoNonEmpty", tr("Allow an output folder that has files (existing names are still refused)") },
            { "pairDryRun", tr("List exactly what Run would write; write nothing") },
            { "pairRun", tr("Write the pair images") }, { "splitInput", tr("Folder of pair images to split") },
            { "splitOutput", tr("Folder that gets train/, val/ and test/") },
            { "splitTrain", tr("Share of the images for train/") }, { "splitVal", tr("Share of the images for val/") },
            { "splitTest", tr("Share of the images for test/") },
            { "splitSeed", tr("Shuffle seed: the same seed gives the same split") },
            { "splitMove", tr("Move the files instead of copying them") },
            { "splitIntoNonEmpty", tr("Allow an output folder that has files (existing names are still refused)") },
            { "splitDryRun", tr("List exactly what Run would copy or move; write nothing") },
            { "splitRun", tr("Copy (or move) the files into the splits") },
            { "checkRoot", tr("Dataset root with train/, val/ and test/") },
            { "checkRun", tr("Scan the dataset as the training loader does and show the report") },
            { "toolStop", tr("Stop between files; every file written so far is complete") },
            { "toolWrites", tr("The files the last dry run or run lists") },
            { "onnxExperiment", tr("Experiment folder (<name>_v<N>) with the checkpoint") },
            { "onnxEpoch", tr("Checkpoint epoch to export") },
            { "onnxOutput", tr("ONNX file to write (replaced atomically)") },
            { "onnxHeight", tr("Input height in pixels; 0 = the crop size") },
            { "onnxWidth", tr("Input width in pixels; 0 = the crop size") },
            { "onnxDynamicBatch", tr("Symbolic batch dimension instead of 1") },
            { "onnxExport", tr("Export the generator, check it with ONNX's checker, then write it") } });
}

UtilitiesPage::~UtilitiesPage() = default;

QPushButton* UtilitiesPage::browseButton(QLineEdit* edit, bool file)
{
    auto* b = new QPushButton(tr("Browse…"), edit->parentWidget());
    connect(b, &QPushButton::clicked, this, [this, edit, file] {
        const QString start = edit->text().isEmpty() ? QDir::homePath() : edit->text();
        const QString picked = file
            ? QFileDialog::getSaveFileName(this, tr("ONNX model"), start, tr("ONNX models (*.onnx)"))
            : QFileDialog::getExistingDirectory(this, tr("Folder"), start);
        if (!picked.isEmpty())
            edit->setText(picked);
    });
    return b;
}

QWidget* UtilitiesPage::buildPairTab()
{
    auto* w = new QWidget(this);
    auto* form = new QFormLayout(w);
    form->addRow(new QLabel(tr("Two folders of images matched by file name become A|B pair images (one PNG per "
                               "name); unmatched, unreadable and non-image files are listed, never paired."),
        w));
    m_pairA = pathEdit(w, QStringLiteral("pairA"), tr("Folder A (e.g. inputs)"));
    addRow(form, tr("Folder &A:"), m_pairA, row(m_pairA, browseButton(m_pairA, false)));
    m_pairB = pathEdit(w, QStringLiteral("pairB"), tr("Folder B (e.g. targets)"));
    addRow(form, tr("Folder &B:"), m_pairB, row(m_pairB, browseButton(m_pairB, false)));
    m_pairOutput = pathEdit(w, QStringLiteral("pairOutput"), tr("Output folder of pair images"));
    addRow(form, tr("&Output:"), m_pairOutput, row(m_pairOutput, browseButton(m_pairOutput, false)));
    m_pairSize = new QSpinBox(w);
    m_pairSize->setObjectName(QStringLiteral("pairSize"));
    m_pairSize->setRange(0, 8192);
    m_pairSize->setSuffix(tr(" px"));
    m_pairSize->setSpecialValueText(tr("keep (halves must match)"));
    m_pairSize->setToolTip(tr("Resize each half to size × size; 0 keeps the sizes"));
    form->addRow(tr("Si&ze per half:"), m_pairSize);
    m_pairDirection = new QComboBox(w);
    m_pairDirection->setObjectName(QStringLiteral("pairDirection"));
    for (const QString& d : engine::directionNames())
        m_pairDirection->addItem(d, d);
    m_pairDirection->setToolTip(tr("AtoB writes A | B, BtoA writes B | A"));
    form->addRow(tr("&Direction:"), m_pairDirection);
    m_pairIntoNonEmpty = new QCheckBox(tr("Write into an output folder that has files (never overwrites)"), w);
    m_pairIntoNonEmpty->setObjectName(QStringLiteral("pairIntoNonEmpty"));
    form->addRow(m_pairIntoNonEmpty);
    auto* dry = new QPushButton(tr("Dry run"), w);
    dry->setObjectName(QStringLiteral("pairDryRun"));
    auto* run = new QPushButton(tr("Run"), w);
    run->setObjectName(QStringLiteral("pairRun"));
    auto* buttons = new QHBoxLayout;
    buttons->addWidget(dry);
    buttons->addWidget(run);
    buttons->addStretch(1);
    form->addRow(buttons);
    connect(dry, &QPushButton::clicked, this, [this] { runTool(Tool::Pair, true); });
    connect(run, &QPushButton::clicked, this, [this] { runTool(Tool::Pair, false); });
    m_toolButtons << dry << run;
    return w;
}

QWidget* UtilitiesPage::buildSplitTab()
{
    auto* w = new QWidget(this);
    auto* form = new QFormLayout(w);
    form->addRow(new QLabel(tr("A folder of pair images becomes train/, val/ and test/ by ratios, shuffled with a "
                               "seed (the same seed, the same split). Files are copied unless Move is set; "
                               "nothing is overwritten."),
        w));
    m_splitInput = pathEdit(w, QStringLiteral("splitInput"), tr("Folder of A|B pair images"));
    addRow(form, tr("&Input:"), m_splitInput, row(m_splitInput, browseButton(m_splitInput, false)));
    m_splitOutput = pathEdit(w, QStringLiteral("splitOutput"), tr("Dataset root to create"));
    addRow(form, tr("&Output:"), m_splitOutput, row(m_splitOutput, browseButton(m_splitOutput, false)));
    auto ratio = [w](const QString& name, double v) {
        auto* s = new QDoubleSpinBox(w);
        s->setObjectName(name);
        s->setRange(0.0, 1.0);
        s->setSingleStep(0.05);
        s->setDecimals(3);
        s->setValue(v);
        return s;
    };
    const engine::SplitRequest defaults;
    m_splitTrain = ratio(QStringLiteral("splitTrain"), defaults.train);
    m_splitVal = ratio(QStringLiteral("splitVal"), defaults.val);
    m_splitTest = ratio(QStringLiteral("splitTest"), defaults.test);
    auto* ratios = new QHBoxLayout;
    ratios->addWidget(new QLabel(tr("train"), w));
    ratios->addWidget(m_splitTrain);
    ratios->addWidget(new QLabel(tr("val"), w));
    ratios->addWidget(m_splitVal);
    ratios->addWidget(new QLabel(tr("test"), w));
    ratios->addWidget(m_splitTest);
    ratios->addStretch(1);
    addRow(form, tr("&Ratios:"), m_splitTrain, ratios);
    m_splitSeed = new QSpinBox(w);
    m_splitSeed->setObjectName(QStringLiteral("splitSeed"));
    m_splitSeed->setRange(0, std::numeric_limits<int>::max());
    form->addRow(tr("S&eed:"), m_splitSeed);
    m_splitMove = new QCheckBox(tr("Move the files instead of copying them"), w);
    m_splitMove->setObjectName(QStringLiteral("splitMove"));
    form->addRow(m_splitMove);
    m_splitIntoNonEmpty = new QCheckBox(tr("Write into an output folder that has files (never overwrites)"), w);
    m_splitIntoNonEmpty->setObjectName(QStringLiteral("splitIntoNonEmpty"));
    form->addRow(m_splitIntoNonEmpty);
    auto* dry = new QPushButton(tr("Dry run"), w);
    dry->setObjectName(QStringLiteral("splitDryRun"));
    auto* run = new QPushButton(tr("Run"), w);
    run->setObjectName(QStringLiteral("splitRun"));
    auto* buttons = new QHBoxLayout;
    buttons->addWidget(dry);
    buttons->addWidget(run);
    buttons->addStretch(1);
    form->addRow(buttons);
    connect(dry, &QPushButton::clicked, this, [this] { runTool(Tool::Split, true); });
    connect(run, &QPushButton::clicked, this, [this] { runTool(Tool::Split, false); });
    m_toolButtons << dry << run;
    return w;
}

QWidget* UtilitiesPage::buildCheckTab()
{
    auto* w = new QWidget(this);
    auto* form = new QFormLayout(w);
    form->addRow(new QLabel(tr("The data loader's pre-flight scan of train/, val/ and test/: pair counts, bad files "
                               "by kind, the size distribution and images whose width is not twice their height. "
                               "Writes nothing."),
        w));
    m_checkRoot = pathEdit(w, QStringLiteral("checkRoot"), tr("Dataset root with train/ val/ test/"));
    addRow(form, tr("Dataset &root:"), m_checkRoot, row(m_checkRoot, browseButton(m_checkRoot, false)));
    auto* check = new QPushButton(tr("Check"), w);
    check->setObjectName(QStringLiteral("checkRun"));
    auto* buttons = new QHBoxLayout;
    buttons->addWidget(check);
    buttons->addStretch(1);
    form->addRow(buttons);
    connect(check, &QPushButton::clicked, this, [this] { runTool(Tool::Check, false); });
    m_toolButtons << check;
    return w;
}

QWidget* UtilitiesPage::buildExportTab()
{
    auto* w = new QWidget(this);
    auto* form = new QFormLayout(w);
    form->addRow(new QLabel(tr("Writes a saved epoch's generator as an ONNX model (as nectar-export), checked with "
                               "ONNX's own checker before it is written."),
        w));
    m_onnxExperiment = pathEdit(w, QStringLiteral("onnxExperiment"), tr("Experiment folder <name>_v<N>"));
    addRow(form, tr("E&xperiment:"), m_onnxExperiment, row(m_onnxExperiment, browseButton(m_onnxExperiment, false)));
    m_onnxEpoch = new QSpinBox(w);
    m_onnxEpoch->setObjectName(QStringLiteral("onnxEpoch"));
    m_onnxEpoch->setRange(1, 1000000);
    form->addRow(tr("&Epoch:"), m_onnxEpoch);
    m_onnxOutput = pathEdit(w, QStringLiteral("onnxOutput"), tr("model.onnx"));
    addRow(form, tr("&Output file:"), m_onnxOutput, row(m_onnxOutput, browseButton(m_onnxOutput, true)));
    auto side = [w](const QString& name) {
        auto* s = new QSpinBox(w);
        s->setObjectName(name);
        s->setRange(0, 16384);
        s->setSuffix(QStringLiteral(" px"));
        s->setSpecialValueText(QObject::tr("crop size"));
        return s;
    };
    m_onnxHeight = side(QStringLiteral("onnxHeight"));
    m_onnxWidth = side(QStringLiteral("onnxWidth"));
    auto* size = new QHBoxLayout;
    size->addWidget(m_onnxHeight);
    size->addWidget(new QLabel(QStringLiteral("×"), w));
    size->addWidget(m_onnxWidth);
    size->addStretch(1);
    addRow(form, tr("&Height × width:"), m_onnxHeight, size);
    m_onnxOpset = new QSpinBox(w);
    m_onnxOpset->setObjectName(QStringLiteral("onnxOpset"));
    m_onnxOpset->setRange(11, engine::maxOnnxOpset());
    m_onnxOpset->setValue(std::min(engine::OnnxRequest {}.opset, engine::maxOnnxOpset()));
    m_onnxOpset->setToolTip(
        tr("Opset of the default ONNX domain, 11 to %1 (what this ONNX library supports)").arg(engine::maxOnnxOpset()));
    form->addRow(tr("O&pset:"), m_onnxOpset);
    m_onnxDynamicBatch = new QCheckBox(tr("Dynamic batch dimension (\"batch\" instead of 1)"), w);
    m_onnxDynamicBatch->setObjectName(QStringLiteral("onnxDynamicBatch"));
    form->addRow(m_onnxDynamicBatch);
    m_onnxExport = new QPushButton(tr("Export"), w);
    m_onnxExport->setObjectName(QStringLiteral("onnxExport"));
    auto* buttons = new QHBoxLayout;
    buttons->addWidget(m_onnxExport);
    buttons->addStretch(1);
    form->addRow(buttons);
    m_onnxMessage = new InlineMessage(w);
    m_onnxMessage->setObjectName(QStringLiteral("onnxMessage"));
    form->addRow(m_onnxMessage);
    m_onnxResult = new QLabel(w);
    m_onnxResult->setObjectName(QStringLiteral("onnxResult"));
    m_onnxResult->setWordWrap(true);
    m_onnxResult->setTextInteractionFlags(Qt::TextSelectableByMouse);
    form->addRow(m_onnxResult);
    connect(m_onnxExport, &QPushButton::clicked, this, &UtilitiesPage::exportOnnx);
    return w;
}

void UtilitiesPage::setPairRequest(const engine::PairRequest& r)
{
    m_pairA->setText(r.dirA);
    m_pairB->setText(r.dirB);
    m_pairOutput->setText(r.output);
    m_pairSize->setValue(r.size);
    m_pairDirection->setCurrentIndex(m_pairDirection->findData(r.direction));
    m_pairIntoNonEmpty->setChecked(r.intoNonEmpty);
    m_tabs->setCurrentIndex(0);
}

void UtilitiesPage::setSplitRequest(const engine::SplitRequest& r)
{
    m_splitInput->setText(r.input);
    m_splitOutput->setText(r.output);
    m_splitTrain->setValue(r.train);
    m_splitVal->setValue(r.val);
    m_splitTest->setValue(r.test);
    m_splitSeed->setValue(static_cast<int>(r.seed));
    m_splitMove->setChecked(r.move);
    m_splitIntoNonEmpty->setChecked(r.intoNonEmpty);
    m_tabs->setCurrentIndex(1);
}

void UtilitiesPage::setCheckRoot(const QString& dataroot)
{
    m_checkRoot->setText(dataroot);
    m_tabs->setCurrentIndex(2);
}

bool UtilitiesPage::runTool(Tool tool, bool dryRun)
{
    if (m_tool->isRunning())
        return false;
    auto need = [this](QLineEdit* e, const QString& what) {
        if (!e->text().trimmed().isEmpty())
            return true;
        m_message->setMessage(tr("Choose %1.").arg(what));
        e->setFocus();
        return false;
    };
    BackgroundJob::Work work;
    if (tool == Tool::Pair) {
        if (!need(m_pairA, tr("folder A")) || !need(m_pairB, tr("folder B")) || !need(m_pairOutput, tr("the output")))
            return false;
        engine::PairRequest r;
        r.dirA = m_pairA->text().trimmed();
        r.dirB = m_pairB->text().trimmed();
        r.output = m_pairOutput->text().trimmed();
        r.size = m_pairSize->value();
        r.direction = m_pairDirection->currentData().toString();
        r.intoNonEmpty = m_pairIntoNonEmpty->isChecked();
        work = [r, dryRun](
                   const BackgroundJob::Progress& p) { return QVariant::fromValue(engine::pairImages(r, dryRun, p)); };
    } else if (tool == Tool::Split) {
        if (!need(m_splitInput, tr("the input folder")) || !need(m_splitOutput, tr("the output")))
            return false;
        engine::SplitRequest r;
        r.input = m_splitInput->text().trimmed();
        r.output = m_splitOutput->text().trimmed();
        r.train = m_splitTrain->value();
        r.val = m_splitVal->value();
        r.test = m_splitTest->value();
        r.seed = m_splitSeed->value();
        r.move = m_splitMove->isChecked();
        r.intoNonEmpty = m_splitIntoNonEmpty->isChecked();
        work = [r, dryRun](const BackgroundJob::Progress& p) {
            return QVariant::fromValue(engine::splitDataset(r, dryRun, p));
        };
    } else {
        if (!need(m_checkRoot, tr("the dataset root")))
            return false;
        const QString root = m_checkRoot->text().trimmed();
        dryRun = false;
        work = [root](const BackgroundJob::Progress&) { return QVariant::fromValue(engine::checkDataset(root)); };
    }
    m_dryRun = dryRun;
    m_message->setMessage({});
    m_outcome->clear();
    m_writes->setStringList({});
    m_report->clear();
    m_progress->setMaximum(0); // busy until the first file
    m_progress->setValue(0);
    m_tool->start(std::move(work));
    updateButtons();
    return true;
}

void UtilitiesPage::onToolDone(const QVariant& result)
{
    const auto r = result.value<engine::ToolOutcome>();
    m_writes->setStringList(r.writes);
    m_report->setPlainText(r.report.join(QLatin1Char('\n')));
    m_progress->setMaximum(std::max(1, static_cast<int>(r.writes.size())));
    m_progress->setValue(r.stopped ? m_progress->value() : m_progress->maximum());
    QString outcome;
    if (m_dryRun)
        outcome = tr("Dry run: would write %n file(s) (listed); nothing was written.", nullptr,
            static_cast<int>(r.writes.size()));
    else if (r.stopped)
        outcome = tr("Stopped: wrote %n file(s), each complete.", nullptr, static_cast<int>(r.writes.size()));
    else if (!r.writes.isEmpty())
        outcome = tr("Wrote %n file(s).", nullptr, static_cast<int>(r.writes.size()));
    else
        outcome = tr("Done.");
    m_outcome->setText(outcome);
    updateButtons();
    Q_EMIT statusMessage(outcome);
    Q_EMIT toolFinished(m_dryRun, r.stopped);
}

void UtilitiesPage::stop()
{
    m_tool->stop();
}

bool UtilitiesPage::isRunning() const
{
    return m_tool->isRunning();
}

void UtilitiesPage::updateButtons()
{
    const bool running = m_tool->isRunning();
    for (QPushButton* b : m_toolButtons)
        b->setEnabled(!running);
    m_stop->setEnabled(running);
}

QStringList UtilitiesPage::writes() const
{
    return m_writes->stringList();
}

QString UtilitiesPage::reportText() const
{
    return m_report->toPlainText();
}

QString UtilitiesPage::errorText() const
{
    return m_message->message();
}

void UtilitiesPage::setOnnxRequest(const engine::OnnxRequest& r)
{
    m_onnxExperiment->setText(r.experimentDir);
    m_onnxEpoch->setValue(r.epoch);
    m_onnxOutput->setText(r.output);
    m_onnxHeight->setValue(r.height);
    m_onnxWidth->setValue(r.width);
    m_onnxOpset->setValue(r.opset);
    m_onnxDynamicBatch->setChecked(r.dynamicBatch);
    m_tabs->setCurrentIndex(kExportTab);
}

bool UtilitiesPage::exportOnnx()
{
    if (m_export->isRunning())
        return false;
    engine::OnnxRequest r;
    r.experimentDir = m_onnxExperiment->text().trimmed();
    r.epoch = m_onnxEpoch->value();
    r.output = m_onnxOutput->text().trimmed();
    r.height = m_onnxHeight->value();
    r.width = m_onnxWidth->value();
    r.opset = m_onnxOpset->value();
    r.dynamicBatch = m_onnxDynamicBatch->isChecked();
    m_onnxResult->clear();
    if (r.experimentDir.isEmpty() || r.output.isEmpty()) {
        m_onnxMessage->setMessage(tr("Choose the experiment folder and the output file."));
        return false;
    }
    m_onnxMessage->setMessage({});
    m_onnxExport->setEnabled(false);
    m_export->start([r](const BackgroundJob::Progress&) { return QVariant::fromValue(engine::exportOnnx(r)); });
    return true;
}

QString UtilitiesPage::onnxResultText() const
{
    return m_onnxResult->text();
}

QString UtilitiesPage::onnxErrorText() const
{
    return m_onnxMessage->message();
}
