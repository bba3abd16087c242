// SPDX-License-Identifier: Apache-2.0
#include "charts/losschart.h"

#include <QToolTip>

#include <algorithm>
#include <cmath>
#include <limits>

namespace {
constexpr int kReplotIntervalMs = 33; // <= ~30 replots per second
constexpr int kRangeSamplesPerGraph = 4000;
constexpr int kAntialiasLimit = 100000; // points per line above which lines are drawn aliased

QColor faint(QColor c)
{
    c.setAlpha(70);
    return c;
}
} // namespace

LossChart::LossChart(const QString& title, QWidget* parent)
    : QCustomPlot(parent)
    , m_title(title)
{
    setObjectName(QString(QStringLiteral("chart_") + title));
    setMinimumHeight(220);
    setToolTip(tr("Chart of the losses tagged \"%1\". Hover a line for its value, click a legend entry to "
                  "hide/show it, wheel to zoom, drag to pan, double-click to restore auto-range.")
                   .arg(title));
    plotLayout()->insertRow(0);
    auto* titleElement = new QCPTextElement(this, title, QFont(font().family(), 10, QFont::Bold));
    plotLayout()->addElement(0, 0, titleElement);
    legend->setVisible(true);
    legend->setFont(QFont(font().family(), 8));
    legend->setSelectableParts(QCPLegend::spItems);
    axisRect()->insetLayout()->setInsetAlignment(0, Qt::AlignTop | Qt::AlignRight);
    setInteractions(QCP::iRangeDrag | QCP::iRangeZoom | QCP::iSelectLegend);
    setNoAntialiasingOnDrag(true);
    // Long noisy lines: draw polylines segment-wise (much faster for wide pens) and, past
    // kAntialiasLimit points, without antialiasing (see appendPoints).
    setPlottingHint(QCP::phFastPolylines, true);
    m_replotTimer.setSingleShot(true);
    m_replotTimer.setInterval(kReplotIntervalMs);
    connect(&m_replotTimer, &QTimer::timeout, this, &LossChart::replotNow);
    connect(this, &QCustomPlot::legendClick, this, &LossChart::onLegendClick);
    setMouseTracking(true);
}

LossChart::~LossChart() = default;

void LossChart::addSeries(const QString& key, const QString& label, const QColor& color, Qt::PenStyle style)
{
    if (m_series.contains(key))
        return;
    Series s;
    s.label = label;
    s.raw = addGraph();
    s.raw->setPen(QPen(faint(color), 1));
    s.raw->removeFromLegend();
    s.raw->setAdaptiveSampling(true);
    s.smooth = addGraph();
    QPen pen(color, 1.6);
    pen.setStyle(style);
    s.smooth->setPen(pen);
    s.smooth->setName(label);
    s.smooth->setAdaptiveSampling(true);
    s.marks = addGraph();
    s.marks->setLineStyle(QCPGraph::lsNone);
    s.marks->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssCross, QColor(220, 0, 0), 9));
    s.marks->removeFromLegend();
    applySeriesStyle(s);
    m_series.insert(key, s);
    m_order.append(key);
    scheduleReplot();
}

QStringList LossChart::seriesKeys() const
{
    return m_order;
}

void LossChart::applySeriesStyle(Series& s)
{
    const bool visible = s.smooth->visible();
    s.raw->setVisible(visible && m_smoothing > 0.0);
}

void LossChart::appendPoints(const QString& key, const std::vector<double>& x, const std::vector<double>& y)
{
    auto it = m_series.find(key);
    if (it == m_series.end() || x.empty())
        return;
    Series& s = *it;
    const auto n = static_cast<int>(std::min(x.size(), y.size()));
    QVector<double> keys(n), raw(n), smooth(n);
    QVector<double> markKeys, markValues;
    const double w = m_smoothing;
    for (int i = 0; i < n; ++i) {
        keys[i] = x[i];
        const double v = y[i];
        if (std::isfinite(v)) {
            raw[i] = v;
            s.emaLast = s.emaLast * w + (1.0 - w) * v;
            ++s.emaCount;
            const double debias = w > 0.0 ? 1.0 - std::pow(w, static_cast<double>(s.emaCount)) : 1.0;
            smooth[i] = debias > 0.0 ? s.emaLast / debias : v;
            s.lastFinite = v;
        } else {
            raw[i] = std::numeric_limits<double>::quiet_NaN();
            smooth[i] = raw[i];
            markKeys.append(x[i]);
            markValues.append(s.lastFinite);
            ++s.nonFinite;
        }
    }
    s.raw->addData(keys, raw, /*alreadySorted=*/true);
    s.smooth->addData(keys, smooth, /*alreadySorted=*/true);
    if (!markKeys.isEmpty())
        s.marks->addData(markKeys, markValues, /*alreadySorted=*/true);
    if (s.raw->dataCount() > kAntialiasLimit && s.raw->antialiased()) {
        s.raw->setAntialiased(false);
        s.smooth->setAntialiased(false);
    }
    scheduleReplot();
}

void LossChart::clearSeries(const QString& key)
{
    auto it = m_series.find(key);
    if (it == m_series.end())
        return;
    it->raw->data()->clear();
    it->smooth->data()->clear();
    it->marks->data()->clear();
    it->emaLast = 0.0;
    it->emaCount = 0;
    it->lastFinite = 0.0;
    it->nonFinite = 0;
    scheduleReplot();
}

void LossChart::removeAllSeries()
{
    clearGraphs();
    m_series.clear();
    m_order.clear();
    scheduleReplot();
}

void LossChart::removeSeries(const QString& key)
{
    auto it = m_series.find(key);
    if (it == m_series.end())
        return;
    removeGraph(it->raw);
    removeGraph(it->smooth);
    removeGraph(it->marks);
    m_series.erase(it);
    m_order.removeAll(key);
    scheduleReplot();
}

int LossChart::pointCount(const QString& key) const
{
    auto it = m_series.constFind(key);
    return it == m_series.constEnd() ? 0 : it->raw->dataCount();
}

int LossChart::nonFiniteCount(const QString& key) const
{
    auto it = m_series.constFind(key);
    return it == m_series.constEnd() ? 0 : it->nonFinite;
}

bool LossChart::seriesVisible(const QString& key) const
{
    auto it = m_series.constFind(key);
    return it != m_series.constEnd() && it->smooth->visible();
}

void LossChart::setSeriesVisible(const QString& key, bool visible)
{
    auto it = m_series.find(key);
    if (it == m_series.end())
        return;
    it->smooth->setVisible(visible);
    it->marks->setVisible(visible);
    applySeriesStyle(*it);
    if (auto* item = legend->itemWithPlottable(it->smooth))
        item->setTextColor(visible ? Qt::black : Qt::gray);
    scheduleReplot();
    Q_EMIT seriesVisibilityChanged(key, visible);
}

void LossChart::onLegendClick(QCPLegend*, QCPAbstractLegendItem* item, QMouseEvent*)
{
    auto* plItem = qobject_cast<QCPPlottableLegendItem*>(item);
    if (!plItem)
        return;
    for (auto it = m_series.begin(); it != m_series.end(); ++it) {
        if (it->smooth == plItem->plottable()) {
            setSeriesVisible(it.key(), !it->smooth->visible());
            break;
        }
    }
    legend->setSelectedParts(QCPLegend::spNone);
}

void LossChart::setSmoothing(double weight)
{
    m_smoothing = std::clamp(weight, 0.0, 0.999);
    // Recompute every smoothed line from its raw line (a user action, not per update).
    for (auto& s : m_series) {
        s.emaLast = 0.0;
        s.emaCount = 0;
        QVector<QCPGraphData> out;
        out.reserve(s.raw->dataCount());
        const double w = m_smoothing;
        for (auto p = s.raw->data()->constBegin(); p != s.raw->data()->constEnd(); ++p) {
            double v = p->value;
            if (std::isfinite(v)) {
                s.emaLast = s.emaLast * w + (1.0 - w) * v;
                ++s.emaCount;
                const double debias = w > 0.0 ? 1.0 - std::pow(w, static_cast<double>(s.emaCount)) : 1.0;
                v = s.emaLast / debias;
            }
            out.append(QCPGraphData(p->key, v));
        }
        s.smooth->data()->set(out, /*alreadySorted=*/true);
        applySeriesStyle(s);
    }
    scheduleReplot();
}

void LossChart::setLogScale(bool on)
{
    m_log = on;
    if (on) {
        yAxis->setScaleType(QCPAxis::stLogarithmic);
        yAxis->setTicker(QSharedPointer<QCPAxisTickerLog>(new QCPAxisTickerLog));
    } else {
        yAxis->setScaleType(QCPAxis::stLinear);
        yAxis->setTicker(QSharedPointer<QCPAxisTicker>(new QCPAxisTicker));
    }
    scheduleReplot();
}

void LossChart::setAxisLabels(const QString& x, const QString& y)
{
    xAxis->setLabel(x);
    yAxis->setLabel(y);
    scheduleReplot();
}

void LossChart::setAutoRange(bool on)
{
    m_autoRange = on;
    if (on)
        scheduleReplot();
}

void LossChart::scheduleReplot()
{
    if (!m_replotTimer.isActive())
        m_replotTimer.start();
}

void LossChart::replotNow()
{
    m_replotTimer.stop();
    if (m_autoRange)
        rescale();
    replot(QCustomPlot::rpRefreshHint); // already coalesced by m_replotTimer
}

QCPRange LossChart::robustValueRange(bool* ok) const
{
    std::vector<double> samples;
    for (const auto& s : m_series) {
        if (!s.smooth->visible())
            continue;
        for (const QCPGraph* g : { s.raw, s.smooth }) {
            if (!g->visible() && g != s.smooth)
                continue;
            const int n = g->dataCount();
            const int stride = std::max(1, n / kRangeSamplesPerGraph);
            auto data = g->data();
            for (int i = 0; i < n; i += stride) {
                const double v = (data->constBegin() + i)->value;
                if (std::isfinite(v) && (!m_log || v > 0.0))
                    samples.push_back(v);
            }
            if (n > 0) { // always include the newest point so the live end is on screen
                const double v = (data->constEnd() - 1)->value;
                if (std::isfinite(v) && (!m_log || v > 0.0))
                    samples.push_back(v);
            }
        }
    }
    *ok = !samples.empty();
    if (samples.empty())
        return {};
    double lo, hi;
    if (samples.size() < 200) {
        auto [mn, mx] = std::minmax_element(samples.begin(), samples.end());
        lo = *mn;
        hi = *mx;
    } else {
        const auto k = static_cast<std::ptrdiff_t>(samples.size() * 0.005);
        std::nth_element(samples.begin(), samples.begin() + k, samples.end());
        lo = samples[k];
        const auto kh = static_cast<std::ptrdiff_t>(samples.size()) - 1 - k;
        std::nth_element(samples.begin(), samples.begin() + kh, samples.end());
        hi = samples[kh];
    }
    if (m_log) {
        return { lo / 1.25, hi * 1.25 };
    }
    double margin = (hi - lo) * 0.05;
    if (margin <= 0.0)
        margin = std::max(std::abs(hi) * 0.05, 1e-6);
    return { lo - margin, hi + margin };
}

void LossChart::rescale()
{
    bool ok = false;
    const QCPRange y = robustValueRange(&ok);
    if (ok)
        yAxis->setRange(y);
    double xmin = 0.0, xmax = 0.0;
    bool any = false;
    for (const auto& s : m_series) {
        if (!s.smooth->visible() || s.raw->dataCount() == 0)
            continue;
        const double a = s.raw->data()->constBegin()->key;
        const double b = (s.raw->data()->constEnd() - 1)->key;
        xmin = any ? std::min(xmin, a) : a;
        xmax = any ? std::max(xmax, b) : b;
        any = true;
    }
    if (any)
        xAxis->setRange(xmin, xmax > xmin ? xmax : xmin + 1.0);
}

void LossChart::mousePressEvent(QMouseEvent* event)
{
    if (axisRect()->rect().contains(event->pos()) && legend->selectTest(event->pos(), false) < 0)
        m_autoRange = false; // the user starts dragging
    QCustomPlot::mousePressEvent(event);
}

void LossChart::wheelEvent(QWheelEvent* event)
{
    m_autoRange = false;
    QCustomPlot::wheelEvent(event);
}

void LossChart::mouseDoubleClickEvent(QMouseEvent* event)
{
    QCustomPlot::mouseDoubleClickEvent(event);
    setAutoRange(true);
    replotNow();
}

void LossChart::mouseMoveEvent(QMouseEvent* event)
{
    QCustomPlot::mouseMoveEvent(event);
    if (event->buttons() != Qt::NoButton)
        return;
    const QPointF pos = event->position();
    const double xCoord = xAxis->pixelToCoord(pos.x());
    const Series* best = nullptr;
    double bestDist = 24.0; // pixels
    QCPGraphData bestSmooth, bestRaw;
    for (const auto& s : m_series) {
        if (!s.smooth->visible() || s.smooth->dataCount() == 0)
            continue;
        auto data = s.smooth->data();
        auto it = data->findBegin(xCoord);
        if (it == data->constEnd())
            continue;
        // findBegin returns the point at or before x; the next one may be nearer.
        auto next = it + 1;
        if (next != data->constEnd() && std::abs(next->key - xCoord) < std::abs(it->key - xCoord))
            it = next;
        const double py = yAxis->coordToPixel(it->value);
        const double px = xAxis->coordToPixel(it->key);
        const double d = std::hypot(px - pos.x(), std::isfinite(py) ? py - pos.y() : 0.0);
        if (d < bestDist) {
            bestDist = d;
            best = &s;
            bestSmooth = *it;
            auto r = s.raw->data()->findBegin(it->key, false);
            bestRaw = r != s.raw->data()->constEnd() ? *r : *it;
        }
    }
    if (!best) {
        QToolTip::hideText();
        return;
    }
    QString text = QStringLiteral("<b>%1</b><br>%2: %3<br>%4: %5")
                       .arg(best->label.toHtmlEscaped(), xAxis->label().isEmpty() ? tr("x") : xAxis->label())
                       .arg(bestSmooth.key, 0, 'g', 8)
                       .arg(yAxis->label().isEmpty() ? tr("value") : yAxis->label())
                       .arg(std::isfinite(bestRaw.value) ? QString::number(bestRaw.value, 'g', 6) : tr("non-finite"));
    if (m_smoothing > 0.0)
        text += tr("<br>smoothed: %1").arg(bestSmooth.value, 0, 'g', 6);
    QToolTip::showText(event->globalPosition().toPoint(), text, this);
}
