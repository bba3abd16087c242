// SPDX-License-Identifier: Apache-2.0
#include "charts/chartpanel.h"

#include <QFileDialog>
#include <QPainter>
#include <QSaveFile>
#include <QTextStream>

#include <algorithm>
#include <cmath>
#include <iterator>
#include <limits>

#include "charts/losschart.h"
#include "ui_chartpanel.h"

namespace {
// Distinct line colours, strong enough to tell from the faint raw lines: Tableau 10 without its pink and
// grey, then darker ones.
const QColor kPalette[] = {
    QColor(31, 119, 180), // blue
    QColor(255, 127, 14), // orange
    QColor(44, 160, 44), // green
    QColor(214, 39, 40), // red
    QColor(148, 103, 189), // purple
    QColor(140, 86, 75), // brown
    QColor(23, 190, 207), // cyan
    QColor(188, 189, 34), // olive
    QColor(0, 0, 128), // navy
    QColor(128, 0, 0), // maroon
    QColor(0, 110, 90), // dark teal
    QColor(90, 60, 0), // dark olive
};
// NectarGAN's loss names get fixed, distinct colours; any other name hashes into the palette.
const struct {
    const char* name;
    int colour;
} kKnownLosses[] = {
    { "G_GAN", 0 },
    { "G_L1", 1 },
    { "G_SOBEL", 2 },
    { "D_real", 3 },
    { "G_LAP", 4 },
    { "G_VGG", 5 },
    { "D_fake", 6 },
    { "G_L2", 7 },
};
constexpr int kChartColumns = 2;

LossChart::XKind xKindFor(ChartPanel::XMode mode)
{
    switch (mode) {
    case ChartPanel::XMode::Iterations:
        return LossChart::XKind::Integer;
    case ChartPanel::XMode::WallTime:
        return LossChart::XKind::DateTime;
    case ChartPanel::XMode::RunTime:
        return LossChart::XKind::Duration;
    case ChartPanel::XMode::Epochs:
        break;
    }
    return LossChart::XKind::Number;
}
} // namespace

QColor ChartPanel::colorFor(const QString& lossName)
{
    for (const auto& k : kKnownLosses)
        if (lossName == QLatin1String(k.name))
            return kPalette[k.colour];
    // FNV-1a over the UTF-8 bytes: the same name has the same colour in every run, page and session.
    std::uint32_t h = 2166136261u;
    for (const char c : lossName.toUtf8()) {
        h ^= static_cast<unsigned char>(c);
        h *= 16777619u;
    }
    return kPalette[h % std::size(kPalette)];
}

QString ChartPanel::untaggedTitle()
{
    return QStringLiteral("untagged");
}

QString ChartPanel::weightsTitle()
{
    return tr("weights");
}

ChartPanel::ChartPanel(QWidget* parent)
    : QWidget(parent)
    , ui(std::make_unique<Ui::ChartPanel>())
{
    ui->setupUi(this);
    connect(ui->xAxisCombo, &QComboBox::currentIndexChanged, this,
        [this](int i) { setXMode(static_cast<XMode>(std::clamp(i, 0, 3))); });
    connect(ui->logXCheck, &QCheckBox::toggled, this, &ChartPanel::setLogX);
    connect(ui->smoothingKindCombo, &QComboBox::currentIndexChanged, this, &ChartPanel::setSmoothingKind);
    connect(ui->valueCombo, &QComboBox::currentIndexChanged, this,
        [this](int i) { setYMode(static_cast<YMode>(std::clamp(i, 0, 2))); });
    connect(ui->logCheck, &QCheckBox::toggled, this, &ChartPanel::setLogScale);
    connect(ui->smoothingSlider, &QSlider::valueChanged, this, [this](int v) { setSmoothing(v / 100.0); });
    connect(ui->weightsCheck, &QCheckBox::toggled, this, &ChartPanel::setShowWeights);
    connect(ui->exportPngButton, &QToolButton::clicked, this, &ChartPanel::onExportPng);
    connect(ui->exportCsvButton, &QToolButton::clicked, this, &ChartPanel::onExportCsv);
}

ChartPanel::~ChartPanel() = default;

QString ChartPanel::seriesKey(int run, const QString& name)
{
    return QString::number(run) + QLatin1Char('/') + name;
}

void ChartPanel::clear()
{
    for (LossChart* c : std::as_const(m_charts))
        delete c;
    m_charts.clear();
    m_chartOrder.clear();
    m_series.clear();
    m_seriesOrder.clear();
    m_epochMapping.clear();
    m_edits.clear();
    m_plans.clear();
    m_planEnd.clear();
    m_runStart.clear();
    m_runsWithoutTimes.clear();
    m_hiddenRuns.clear();
}

void ChartPanel::clearRun(int run)
{
    const QStringList keys = m_seriesOrder;
    for (const QString& key : keys) {
        if (m_series.constFind(key)->run != run)
            continue;
        for (LossChart* c : std::as_const(m_charts))
            c->removeSeries(key);
        m_series.remove(key);
        m_seriesOrder.removeAll(key);
    }
    for (const QString& title : QStringList(m_chartOrder)) {
        LossChart* c = m_charts.value(title);
        if (c->seriesKeys().isEmpty()) {
            delete c;
            m_charts.remove(title);
            m_chartOrder.removeAll(title);
        }
    }
    m_epochMapping.remove(run);
    m_edits.remove(run);
    m_runStart.remove(run);
    m_runsWithoutTimes.remove(run);
    m_hiddenRuns.remove(run);
    relayout();
    updateShareKeys();
    updateMarkers();
    updateAxisLabels();
}

void ChartPanel::setEpochMapping(qint64 iterationsPerEpoch, int firstEpoch, int run)
{
    m_epochMapping.insert(run, { std::max<qint64>(1, iterationsPerEpoch), firstEpoch });
    if (m_xMode == XMode::Epochs)
        rebuildAll();
}

void ChartPanel::setRunLabel(int run, const QString& label)
{
    m_runLabels.insert(run, label);
}

double ChartPanel::xFor(const Series& s, std::size_t j) const
{
    switch (m_xMode) {
    case XMode::WallTime:
        return s.times[j];
    case XMode::RunTime:
        return s.times[j] - m_runStart.value(s.run, s.times[j]);
    case XMode::Iterations:
    case XMode::Epochs:
        break;
    }
    return xForIteration(s.run, static_cast<double>(s.iterations[j]));
}

double ChartPanel::xForEdit(int run, const nectar::LossEdit& e) const
{
    switch (m_xMode) {
    case XMode::WallTime:
        return e.wall_time;
    case XMode::RunTime:
        return e.wall_time - m_runStart.value(run, std::numeric_limits<double>::quiet_NaN());
    case XMode::Iterations:
    case XMode::Epochs:
        break;
    }
    // At the first value the edit applied to, in every mode that counts iterations.
    return xForIteration(run, static_cast<double>(e.iteration));
}

double ChartPanel::xForIteration(int run, double iteration) const
{
    if (m_xMode == XMode::Epochs) {
        const auto mapping = m_epochMapping.value(run, { 1, 1 });
        return mapping.second - 1 + (iteration + 1) / static_cast<double>(mapping.first);
    }
    return iteration;
}

void ChartPanel::setPlannedWeights(
    const QString& loss, qint64 firstIteration, qint64 iterationsPerEpoch, const std::vector<double>& weights)
{
    auto& steps = m_plans[loss];
    steps.clear();
    for (std::size_t k = 0; k < weights.size(); ++k)
        steps.emplace_back(firstIteration + static_cast<qint64>(k) * iterationsPerEpoch, weights[k]);
    m_planEnd.insert(loss, firstIteration + static_cast<qint64>(weights.size()) * iterationsPerEpoch - 1);
    updatePlans();
}

void ChartPanel::updatePlans()
{
    LossChart* chart = m_charts.value(weightsTitle());
    if (!chart)
        return;
    for (auto it = m_plans.cbegin(); it != m_plans.cend(); ++it) {
        const QString key = planKey(it.key());
        if (!chart->hasSeries(key))
            chart->addSeries(key, tr("%1 planned").arg(it.key()), colorFor(it.key()), Qt::DashLine);
        chart->clearSeries(key);
        if (m_xMode != XMode::Iterations && m_xMode != XMode::Epochs)
            continue; // the future has no wall time
        std::vector<double> xs, ys;
        const auto& steps = it.value();
        const qint64 end = m_planEnd.value(it.key());
        for (std::size_t k = 0; k < steps.size(); ++k) {
            const qint64 last = k + 1 < steps.size() ? steps[k + 1].first - 1 : end;
            if (last < steps[k].first)
                continue;
            // Step ends at the next epoch's first iteration, so the line is a staircase.
            xs.push_back(xForIteration(0, static_cast<double>(steps[k].first)));
            ys.push_back(steps[k].second);
            xs.push_back(xForIteration(0, static_cast<double>(k + 1 < steps.size() ? last + 1 : last)));
            ys.push_back(steps[k].second);
        }
        chart->appendPoints(key, xs, ys);
    }
}

void ChartPanel::setRunStyle(int run, Qt::PenStyle style)
{
    m_runStyles.insert(run, style);
}

Qt::PenStyle ChartPanel::runStyle(int run) const
{
    return m_runStyles.value(run, run == 0 ? Qt::SolidLine : Qt::DashLine);
}

void ChartPanel::setRunVisible(int run, bool visible)
{
    if (visible)
        m_hiddenRuns.remove(run);
    else
        m_hiddenRuns.insert(run);
    for (const QString& key : std::as_const(m_seriesOrder)) {
        if (m_series.constFind(key)->run != run)
            continue;
        for (LossChart* c : std::as_const(m_charts))
            if (c->hasSeries(key))
                c->setSeriesVisible(key, visible);
    }
    updateShareKeys();
    updateMarkers();
}

void ChartPanel::addEdit(const nectar::LossEdit& edit, int run)
{
    m_edits[run].push_back(edit);
    const QString loss = QString::fromStdString(edit.loss);
    auto plan = m_plans.find(loss);
    if (run == 0 && edit.field == "weight" && plan != m_plans.end()) {
        // A live weight replaces the rest of the plan (and any schedule) from the edit on.
        bool ok = false;
        const double w = QString::fromStdString(edit.new_value).toDouble(&ok);
        if (ok) {
            auto& steps = *plan;
            while (!steps.empty() && steps.back().first >= edit.iteration)
                steps.pop_back();
            steps.emplace_back(edit.iteration, w);
            updatePlans();
        }
    }
    updateMarkers();
}

const std::vector<nectar::LossEdit>& ChartPanel::edits(int run) const
{
    static const std::vector<nectar::LossEdit> none;
    const auto it = m_edits.constFind(run);
    return it == m_edits.constEnd() ? none : *it;
}

bool ChartPanel::hasWallTimes(int run) const
{
    return !m_runsWithoutTimes.contains(run);
}

void ChartPanel::updateMarkers()
{
    QMap<QString, std::vector<LossChart::Marker>> perChart;
    for (auto it = m_edits.cbegin(); it != m_edits.cend(); ++it) {
        const int run = it.key();
        if (m_hiddenRuns.contains(run))
            continue;
        for (const nectar::LossEdit& e : it.value()) {
            const double x = xForEdit(run, e);
            if (!std::isfinite(x))
                continue;
            const QString loss = QString::fromStdString(e.loss);
            QString text = tr("iteration %1: <b>%2</b> %3 %4 → %5")
                               .arg(e.iteration)
                               .arg(loss.toHtmlEscaped(), QString::fromStdString(e.field),
                                   QString::fromStdString(e.old_value).toHtmlEscaped(),
                                   QString::fromStdString(e.new_value).toHtmlEscaped());
            if (run > 0)
                text = m_runLabels.value(run, tr("run %1").arg(run + 1)).toHtmlEscaped() + QStringLiteral(": ") + text;
            QStringList charts;
            const auto s = m_series.constFind(seriesKey(run, loss));
            if (s != m_series.constEnd())
                charts = chartsFor(*s);
            else
                charts.append(weightsTitle());
            if (!charts.contains(weightsTitle()))
                charts.append(weightsTitle());
            for (const QString& c : charts)
                perChart[c].push_back({ x, text });
        }
    }
    for (auto it = m_charts.cbegin(); it != m_charts.cend(); ++it)
        it.value()->setMarkers(perChart.value(it.key()));
}

QStringList ChartPanel::chartsFor(const Series& s) const
{
    QStringList out = s.tags;
    if (out.isEmpty())
        out.append(untaggedTitle());
    if (m_showWeights)
        out.append(weightsTitle());
    return out;
}

LossChart* ChartPanel::ensureChart(const QString& title)
{
    if (auto* c = m_charts.value(title))
        return c;
    auto* chart = new LossChart(title, ui->chartsContainer);
    chart->setSmoothing(title == weightsTitle() ? 0.0 : m_smoothing);
    if (title != weightsTitle())
        chart->setSmoothingKind(static_cast<LossChart::SmoothingKind>(m_smoothingKind));
    chart->setLogScale(m_log && title != weightsTitle());
    chart->setXKind(xKindFor(m_xMode));
    chart->setLogX(m_logX);
    chart->setStackedShare(m_yMode == YMode::Share && title != weightsTitle());
    m_charts.insert(title, chart);
    // Tag charts in order of appearance; "untagged" and the weight history stay last.
    int pos = m_chartOrder.size();
    if (title != untaggedTitle() && title != weightsTitle()) {
        for (int i = 0; i < m_chartOrder.size(); ++i) {
            if (m_chartOrder[i] == untaggedTitle() || m_chartOrder[i] == weightsTitle()) {
                pos = i;
                break;
            }
        }
    } else if (title == untaggedTitle() && m_chartOrder.contains(weightsTitle())) {
        pos = m_chartOrder.indexOf(weightsTitle());
    }
    m_chartOrder.insert(pos, title);
    relayout();
    updateAxisLabels();
    updateMarkers();
    return chart;
}

void ChartPanel::relayout()
{
    auto* grid = ui->chartsLayout;
    for (LossChart* c : std::as_const(m_charts))
        grid->removeWidget(c);
    const int n = static_cast<int>(m_chartOrder.size());
    for (int i = 0; i < n; ++i) {
        // A chart alone in the last row takes the whole row instead of leaving a blank cell.
        const bool alone = i == n - 1 && i % kChartColumns == 0;
        grid->addWidget(
            m_charts.value(m_chartOrder[i]), i / kChartColumns, i % kChartColumns, 1, alone ? kChartColumns : 1);
    }
}

void ChartPanel::updateAxisLabels()
{
    QString x = m_xMode == XMode::Iterations ? tr("iteration")
        : m_xMode == XMode::Epochs           ? tr("epoch")
        : m_xMode == XMode::WallTime         ? tr("wall time")
                                             : tr("time since the run started");
    if ((m_xMode == XMode::WallTime || m_xMode == XMode::RunTime) && !m_runsWithoutTimes.isEmpty())
        x += tr(" (runs without timestamps, e.g. NectarGAN logs, are not shown)");
    const QString y = m_yMode == YMode::Weighted ? tr("weighted loss (loss × λ)")
        : m_yMode == YMode::Raw                  ? tr("raw loss")
                                                 : tr("share of tag (%)");
    for (auto it = m_charts.cbegin(); it != m_charts.cend(); ++it)
        it.value()->setAxisLabels(x, it.key() == weightsTitle() ? tr("weight λ") : y);
}

void ChartPanel::addToChart(LossChart* chart, const QString& key, const Series& s, std::size_t from)
{
    if (!chart->hasSeries(key)) {
        QString label = s.name;
        if (s.run > 0)
            label = m_runLabels.value(s.run, tr("run %1").arg(s.run + 1)) + QStringLiteral(": ") + s.name;
        chart->addSeries(key, label, s.color, runStyle(s.run));
        if (m_hiddenRuns.contains(s.run))
            chart->setSeriesVisible(key, false);
    }
    const bool weights = chart->title() == weightsTitle();
    const std::size_t n = s.raw.size() - from;
    std::vector<double> xs, ys;
    xs.reserve(n);
    ys.reserve(n);
    for (std::size_t i = 0; i < n; ++i) {
        const std::size_t j = from + i;
        const double x = xFor(s, j);
        if (!std::isfinite(x))
            continue; // no wall time: not on the time axes
        xs.push_back(x);
        if (weights)
            ys.push_back(s.weights[j]);
        else if (m_yMode != YMode::Raw) // the share view stacks weighted values
            ys.push_back(static_cast<double>(s.raw[j]) * static_cast<double>(s.weights[j]));
        else
            ys.push_back(s.raw[j]);
    }
    chart->appendPoints(key, xs, ys);
}

void ChartPanel::appendChunk(const nectar::LossSeriesChunk& chunk, int run)
{
    const QString name = QString::fromStdString(chunk.name);
    const QString key = seriesKey(run, name);
    QStringList tags;
    for (const auto& t : chunk.tags)
        tags.append(QString::fromStdString(t));
    auto it = m_series.find(key);
    const bool added = it == m_series.end();
    if (added) {
        Series s;
        s.run = run;
        s.name = name;
        s.tags = tags;
        s.color = colorFor(name);
        it = m_series.insert(key, s);
        m_seriesOrder.append(key);
    }
    Series& s = *it;
    const bool retagged = tags != s.tags;
    if (retagged) {
        // Live tag edit: the loss leaves the charts of removed tags and joins new ones with its history.
        const QStringList before = chartsFor(s);
        s.tags = tags;
        const QStringList after = chartsFor(s);
        for (const QString& t : before) {
            if (!after.contains(t))
                if (auto* c = m_charts.value(t))
                    c->removeSeries(key);
        }
        for (const QString& t : after) {
            if (!before.contains(t))
                addToChart(ensureChart(t), key, s, 0);
        }
    }
    const std::size_t from = s.raw.size();
    const std::size_t n = std::min({ chunk.iterations.size(), chunk.raw.size(), chunk.weights.size() });
    s.iterations.insert(s.iterations.end(), chunk.iterations.begin(), chunk.iterations.begin() + n);
    s.raw.insert(s.raw.end(), chunk.raw.begin(), chunk.raw.begin() + n);
    s.weights.insert(s.weights.end(), chunk.weights.begin(), chunk.weights.begin() + n);
    const bool timed = chunk.wall_time.size() >= n;
    if (timed)
        s.times.insert(s.times.end(), chunk.wall_time.begin(), chunk.wall_time.begin() + n);
    else
        s.times.resize(s.raw.size(), std::numeric_limits<double>::quiet_NaN());
    if (n > 0 && (!timed || !std::isfinite(chunk.wall_time[0]))) {
        if (!m_runsWithoutTimes.contains(run)) {
            m_runsWithoutTimes.insert(run);
            updateAxisLabels();
        }
    }
    if (timed && n > 0 && std::isfinite(chunk.wall_time[0])) {
        auto start = m_runStart.find(run);
        if (start == m_runStart.end() || chunk.wall_time[0] < *start) {
            const bool moved = start != m_runStart.end();
            m_runStart.insert(run, chunk.wall_time[0]);
            if (moved && m_xMode == XMode::RunTime) {
                rebuildAll(); // an earlier start (another loss's first value) shifts the run
                return;
            }
        }
    }
    for (const QString& title : chartsFor(s))
        addToChart(ensureChart(title), key, s, from);
    if (added || retagged)
        updateShareKeys();
}

QStringList ChartPanel::chartTitles() const
{
    return m_chartOrder;
}

LossChart* ChartPanel::chart(const QString& title) const
{
    return m_charts.value(title);
}

QStringList ChartPanel::lossNames(int run) const
{
    QStringList out;
    for (const QString& key : m_seriesOrder) {
        const Series& s = *m_series.constFind(key);
        if (s.run == run)
            out.append(s.name);
    }
    return out;
}

int ChartPanel::pointCount(const QString& chartTitle, const QString& loss, int run) const
{
    const LossChart* c = m_charts.value(chartTitle);
    return c ? c->pointCount(seriesKey(run, loss)) : 0;
}

qint64 ChartPanel::storedCount(const QString& loss, int run) const
{
    auto it = m_series.constFind(seriesKey(run, loss));
    return it == m_series.constEnd() ? 0 : static_cast<qint64>(it->raw.size());
}

void ChartPanel::rebuildAll()
{
    for (LossChart* c : std::as_const(m_charts)) {
        for (const QString& key : c->seriesKeys())
            c->clearSeries(key);
    }
    for (const QString& key : m_seriesOrder) {
        const Series& s = m_series[key];
        for (const QString& title : chartsFor(s))
            addToChart(ensureChart(title), key, s, 0);
    }
    updateAxisLabels();
    updateMarkers();
    updatePlans();
    updateShareKeys();
}

void ChartPanel::setXMode(XMode mode)
{
    if (mode == m_xMode)
        return;
    m_xMode = mode;
    const QSignalBlocker block(ui->xAxisCombo);
    ui->xAxisCombo->setCurrentIndex(static_cast<int>(mode));
    for (LossChart* c : std::as_const(m_charts)) {
        c->setXKind(xKindFor(mode));
        c->setAutoRange(true);
    }
    rebuildAll();
}

void ChartPanel::setLogX(bool on)
{
    m_logX = on;
    const QSignalBlocker block(ui->logXCheck);
    ui->logXCheck->setChecked(on);
    for (LossChart* c : std::as_const(m_charts)) {
        c->setLogX(on);
        c->setAutoRange(true);
    }
}

void ChartPanel::setYMode(YMode mode)
{
    if (mode == m_yMode)
        return;
    const bool sameValues = (mode == YMode::Raw) == (m_yMode == YMode::Raw); // weighted <-> share
    m_yMode = mode;
    const QSignalBlocker block(ui->valueCombo);
    ui->valueCombo->setCurrentIndex(static_cast<int>(mode));
    for (auto it = m_charts.cbegin(); it != m_charts.cend(); ++it) {
        it.value()->setStackedShare(mode == YMode::Share && it.key() != weightsTitle());
        it.value()->setAutoRange(true);
    }
    updateShareKeys();
    ui->smoothingKindCombo->setEnabled(mode != YMode::Share); // shares are means over a window
    setSmoothing(m_smoothing); // the share view widens by a window: the label says how many samples
    if (sameValues)
        updateAxisLabels();
    else
        rebuildAll();
}

void ChartPanel::updateShareKeys()
{
    if (m_yMode != YMode::Share)
        return;
    for (auto it = m_charts.cbegin(); it != m_charts.cend(); ++it) {
        if (it.key() == weightsTitle())
            continue;
        // A stack mixes one run's losses only: this chart's first visible run.
        auto runOf = [this](const QString& key) {
            const auto s = m_series.constFind(key);
            return s == m_series.constEnd() ? -1 : s->run;
        };
        const QStringList all = it.value()->seriesKeys();
        int run = -1;
        for (const QString& key : all) {
            const int r = runOf(key);
            if (r >= 0 && !m_hiddenRuns.contains(r) && (run < 0 || r < run))
                run = r;
        }
        QStringList keys;
        for (const QString& key : all)
            if (runOf(key) == run)
                keys.append(key);
        it.value()->setShareKeys(keys);
    }
}

void ChartPanel::setLogScale(bool on)
{
    m_log = on;
    const QSignalBlocker block(ui->logCheck);
    ui->logCheck->setChecked(on);
    for (auto it = m_charts.cbegin(); it != m_charts.cend(); ++it)
        it.value()->setLogScale(on && it.key() != weightsTitle());
}

void ChartPanel::setSmoothing(double weight)
{
    m_smoothing = weight;
    ui->smoothingValue->setText(m_smoothingKind == 0 && m_yMode != YMode::Share ? QString::number(weight, 'f', 2)
            : LossChart::windowFor(weight) == 1                                 ? tr("1 sample")
                                                : tr("%1 samples").arg(LossChart::windowFor(weight)));
    const QSignalBlocker block(ui->smoothingSlider);
    ui->smoothingSlider->setValue(static_cast<int>(std::lround(weight * 100)));
    for (auto it = m_charts.cbegin(); it != m_charts.cend(); ++it)
        if (it.key() != weightsTitle())
            it.value()->setSmoothing(weight);
}

void ChartPanel::setSmoothingKind(int kind)
{
    m_smoothingKind = std::clamp(kind, 0, 2);
    const QSignalBlocker block(ui->smoothingKindCombo);
    ui->smoothingKindCombo->setCurrentIndex(m_smoothingKind);
    for (auto it = m_charts.cbegin(); it != m_charts.cend(); ++it)
        if (it.key() != weightsTitle())
            it.value()->setSmoothingKind(static_cast<LossChart::SmoothingKind>(m_smoothingKind));
    setSmoothing(m_smoothing); // the label shows the weight or the window
}

void ChartPanel::setShowWeights(bool on)
{
    if (on == m_showWeights)
        return;
    m_showWeights = on;
    const QSignalBlocker block(ui->weightsCheck);
    ui->weightsCheck->setChecked(on);
    if (!on) {
        if (LossChart* c = m_charts.take(weightsTitle())) {
            m_chartOrder.removeAll(weightsTitle());
            delete c;
            relayout();
        }
        return;
    }
    for (const QString& key : m_seriesOrder)
        addToChart(ensureChart(weightsTitle()), key, m_series[key], 0);
    ensureChart(weightsTitle());
    updatePlans();
}

void ChartPanel::replotAll()
{
    for (LossChart* c : std::as_const(m_charts))
        c->replotNow();
}

bool ChartPanel::exportPng(const QString& path, QString* error)
{
    for (LossChart* c : std::as_const(m_charts))
        c->replot(QCustomPlot::rpImmediateRefresh); // the picture must show the current data
    const QPixmap pix = ui->chartsContainer->grab();
    QSaveFile file(path);
    if (pix.isNull() || !file.open(QIODevice::WriteOnly) || !pix.save(&file, "PNG") || !file.commit()) {
        if (error)
            *error = tr("Could not write %1: %2").arg(path, file.errorString());
        return false;
    }
    return true;
}

bool ChartPanel::exportCsv(const QString& path, QString* error) const
{
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly | QIODevice::Text)) {
        if (error)
            *error = tr("Could not write %1: %2").arg(path, file.errorString());
        return false;
    }
    QTextStream out(&file);
    out << "run,loss,tags,iteration,epoch,raw,weight,weighted,wall_time\n";
    auto num = [](double v) {
        return std::isfinite(v)
            ? QString::number(v, 'g', 9)
            : (std::isnan(v) ? QStringLiteral("nan") : (v > 0 ? QStringLiteral("inf") : QStringLiteral("-inf")));
    };
    for (const QString& key : m_seriesOrder) {
        const Series& s = *m_series.constFind(key);
        const auto mapping = m_epochMapping.value(s.run, { 1, 1 });
        for (std::size_t i = 0; i < s.raw.size(); ++i) {
            const double epoch = mapping.second - 1 + static_cast<double>(s.iterations[i] + 1) / mapping.first;
            out << s.run << ',' << s.name << ',' << s.tags.join(QLatin1Char(';')) << ',' << s.iterations[i] << ','
                << num(epoch) << ',' << num(s.raw[i]) << ',' << num(s.weights[i]) << ','
                << num(static_cast<double>(s.raw[i]) * s.weights[i]) << ','
                << (i < s.times.size() && std::isfinite(s.times[i]) ? QString::number(s.times[i], 'f', 3) : QString())
                << '\n';
        }
    }
    out.flush();
    if (!file.commit()) {
        if (error)
            *error = tr("Could not write %1: %2").arg(path, file.errorString());
        return false;
    }
    return true;
}

QString ChartPanel::withSuffix(const QString& path, const QString& suffix)
{
    return path.endsWith(QLatin1Char('.') + suffix, Qt::CaseInsensitive) ? path
                                                                         : QString(path + QLatin1Char('.') + suffix);
}

void ChartPanel::onExportPng()
{
    QString path = QFileDialog::getSaveFileName(this, tr("Export charts as PNG"), QString(), tr("PNG images (*.png)"));
    if (path.isEmpty())
        return;
    path = withSuffix(path, QStringLiteral("png"));
    QString error;
    Q_EMIT statusMessage(exportPng(path, &error) ? tr("Charts saved to %1").arg(path) : error);
}

void ChartPanel::onExportCsv()
{
    QString path = QFileDialog::getSaveFileName(this, tr("Export series as CSV"), QString(), tr("CSV files (*.csv)"));
    if (path.isEmpty())
        return;
    path = withSuffix(path, QStringLiteral("csv"));
    QString error;
    Q_EMIT statusMessage(exportCsv(path, &error) ? tr("Series saved to %1").arg(path) : error);
}
