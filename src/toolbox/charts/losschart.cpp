// SPDX-License-Identifier: Apache-2.0
#include "charts/losschart.h"

#include <QToolTip>

#include <algorithm>
#include <cmath>
#include <limits>

namespace {
constexpr int kReplotIntervalMs = 33; // <= ~30 replots per second
constexpr int kRangeSamplesPerGraph = 4000;

QColor faint(QColor c)
{
    c.setAlpha(70);
    return c;
}

/// QCustomPlot's ticker with steps rounded to whole numbers (no "2.5" on an iteration axis).
class IntegerTicker : public QCPAxisTicker {
protected:
    double getTickStep(const QCPRange& range) override
    {
        const double step = QCPAxisTicker::getTickStep(range);
        return step < 1.0 ? 1.0 : std::floor(step);
    }
    int getSubTickCount(double tickStep) override
    {
        return std::clamp(static_cast<int>(tickStep) - 1, 0, QCPAxisTicker::getSubTickCount(tickStep));
    }
};
} // namespace

LossChart::LossChart(const QString& title, QWidget* parent)
    : QCustomPlot(parent)
    , m_title(title)
{
    setObjectName(QString(QStringLiteral("chart_") + title));
    setMinimumHeight(190); // two rows of charts fit the Training page at 1280x860 without scrolling
    setToolTip(tr("Chart of the losses tagged \"%1\". Hover a line for its value, click a legend entry to "
                  "hide/show it, wheel to zoom, drag to pan, double-click to restore auto-range.")
                   .arg(title));
    plotLayout()->insertRow(0);
    auto* titleElement = new QCPTextElement(this, title, QFont(font().family(), 10, QFont::Bold));
    plotLayout()->addElement(0, 0, titleElement);
    legend->setVisible(true);
    legend->setFont(QFont(font().family(), 8));
    legend->setSelectableParts(QCPLegend::spItems);
    // The legend sits below the plot, never over the newest data: a row of entries that wraps.
    plotLayout()->addElement(2, 0, legend);
    plotLayout()->setRowStretchFactor(2, 0.001);
    legend->setFillOrder(QCPLayoutGrid::foColumnsFirst);
    legend->setWrap(4);
    legend->setBorderPen(Qt::NoPen);
    legend->setMargins(QMargins(4, 0, 4, 2));
    setInteractions(QCP::iRangeDrag | QCP::iRangeZoom | QCP::iSelectLegend);
    setNoAntialiasingOnDrag(true);
    // Noisy lines: draw polylines segment-wise (much faster for wide pens).
    setPlottingHint(QCP::phFastPolylines, true);
    m_replotTimer.setSingleShot(true);
    m_replotTimer.setInterval(kReplotIntervalMs);
    connect(&m_replotTimer, &QTimer::timeout, this, &LossChart::replotNow);
    connect(this, &QCustomPlot::legendClick, this, &LossChart::onLegendClick);
    // Every replot (ours, or QCustomPlot's own while the user drags or zooms) draws freshly decimated points.
    // After the layout of each replot (so with this replot's pixel width), before drawing.
    connect(this, &QCustomPlot::afterLayout, this, &LossChart::updateDrawnData);
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
    s.raw->setAntialiased(false); // faint and behind: antialiasing would triple its drawing cost unseen
    s.raw->removeFromLegend();
    s.raw->setAdaptiveSampling(false); // the points are already decimated to the pixel columns
    s.smooth = addGraph();
    QPen pen(color, 1.6);
    pen.setStyle(style);
    s.smooth->setPen(pen);
    s.smooth->setName(label);
    s.smooth->setAdaptiveSampling(false);
    s.store = std::make_shared<charts::SeriesStore>(m_smoothing);
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
    s.raw->setVisible(visible && !m_stackedShare && m_smoothing > 0.0 && m_smoothingKind != SmoothingKind::Band);
    s.marks->setVisible(visible && !m_stackedShare); // their y is a loss value, not a share
    if (!m_stackedShare) {
        s.smooth->setBrush(Qt::NoBrush);
        s.smooth->setChannelFillGraph(nullptr);
    }
    const bool band = visible && !m_stackedShare && m_smoothingKind == SmoothingKind::Band;
    if (band && !s.bandLow) {
        s.bandLow = addGraph();
        s.bandHigh = addGraph();
        QColor fill = s.smooth->pen().color();
        fill.setAlpha(55);
        for (QCPGraph* g : { s.bandLow, s.bandHigh }) {
            g->setPen(Qt::NoPen);
            g->removeFromLegend();
            g->setAdaptiveSampling(false);
            g->setAntialiased(false);
        }
        s.bandHigh->setBrush(fill);
        s.bandHigh->setChannelFillGraph(s.bandLow);
    }
    if (s.bandLow) {
        s.bandLow->setVisible(band);
        s.bandHigh->setVisible(band);
    }
}

std::int64_t LossChart::windowFor(double weight)
{
    return std::max<std::int64_t>(1, std::llround(1.0 / (1.0 - std::clamp(weight, 0.0, 0.999))));
}

void LossChart::setSmoothingKind(SmoothingKind kind)
{
    m_smoothingKind = kind;
    for (auto& s : m_series)
        applySeriesStyle(s);
    m_dataChanged = true;
    scheduleReplot();
}

int LossChart::bandPointCount(const QString& key) const
{
    auto it = m_series.constFind(key);
    return it == m_series.constEnd() || !it->bandHigh || !it->bandHigh->visible() ? 0 : it->bandHigh->dataCount();
}

std::vector<charts::Column> LossChart::visibleColumns(
    const charts::SeriesStore& store, charts::SeriesStore::View view, const QCPRange& range, int width) const
{
    if (!(m_logX && range.lower > 0.0 && range.upper > range.lower))
        return store.decimate(view, range.lower, range.upper, width);
    // Pixel columns have equal log width: decimate octave by octave, each at its finest density.
    std::vector<charts::Column> out;
    const double span = std::log(range.upper / range.lower);
    for (double a = range.lower; a < range.upper; a *= 2.0) {
        const double b = std::min(a * 2.0, range.upper);
        const int cols = std::max(1, static_cast<int>(std::ceil(width * (b - a) / (a * span))));
        for (const charts::Column& c : store.decimate(view, a, b, cols))
            if (out.empty() || c.begin >= out.back().begin + out.back().count)
                out.push_back(c);
    }
    return out;
}

void LossChart::appendPoints(const QString& key, const std::vector<double>& x, const std::vector<double>& y)
{
    auto it = m_series.find(key);
    if (it == m_series.end() || x.empty())
        return;
    Series& s = *it;
    const std::size_t n = std::min(x.size(), y.size());
    QVector<double> markKeys, markValues;
    for (std::size_t i = 0; i < n; ++i) {
        s.store->append(x[i], y[i]);
        if (std::isfinite(y[i])) {
            s.lastFinite = y[i];
        } else {
            markKeys.append(x[i]);
            markValues.append(s.lastFinite);
        }
    }
    if (!markKeys.isEmpty())
        s.marks->addData(markKeys, markValues, /*alreadySorted=*/true);
    m_dataChanged = true;
    scheduleReplot();
}

void LossChart::clearSeries(const QString& key)
{
    auto it = m_series.find(key);
    if (it == m_series.end())
        return;
    it->store->clear();
    it->raw->data()->clear();
    it->smooth->data()->clear();
    it->marks->data()->clear();
    if (it->bandLow) {
        it->bandLow->data()->clear();
        it->bandHigh->data()->clear();
    }
    it->lastFinite = 0.0;
    m_dataChanged = true;
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
    if (it->bandLow) {
        removeGraph(it->bandLow);
        removeGraph(it->bandHigh);
    }
    m_series.erase(it);
    m_order.removeAll(key);
    scheduleReplot();
}

int LossChart::pointCount(const QString& key) const
{
    auto it = m_series.constFind(key);
    return it == m_series.constEnd() ? 0 : static_cast<int>(it->store->size());
}

const charts::SeriesStore* LossChart::store(const QString& key) const
{
    auto it = m_series.constFind(key);
    return it == m_series.constEnd() ? nullptr : it->store.get();
}

int LossChart::drawnPointCount(const QString& key, bool smoothed) const
{
    auto it = m_series.constFind(key);
    return it == m_series.constEnd() ? 0 : (smoothed ? it->smooth : it->raw)->dataCount();
}

int LossChart::nonFiniteCount(const QString& key) const
{
    auto it = m_series.constFind(key);
    return it == m_series.constEnd() ? 0 : static_cast<int>(it->store->nonFiniteCount());
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
    m_dataChanged = true;
    if (auto* item = legend->itemWithPlottable(it->smooth))
        item->setTextColor(visible && !it->store->empty() ? Qt::black : Qt::gray);
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
    // Recompute every smoothed pyramid from the stored samples (a user action, not per update).
    for (auto& s : m_series) {
        s.store->setSmoothing(m_smoothing);
        applySeriesStyle(s);
    }
    m_dataChanged = true;
    scheduleReplot();
}

void LossChart::setLogScale(bool on)
{
    m_log = on;
    applyYScale();
}

void LossChart::applyYScale()
{
    if (m_log && !m_stackedShare) {
        yAxis->setScaleType(QCPAxis::stLogarithmic);
        yAxis->setTicker(QSharedPointer<QCPAxisTickerLog>(new QCPAxisTickerLog));
    } else {
        yAxis->setScaleType(QCPAxis::stLinear);
        yAxis->setTicker(QSharedPointer<QCPAxisTicker>(new QCPAxisTicker));
    }
    scheduleReplot();
}

void LossChart::setStackedShare(bool on)
{
    if (on == m_stackedShare)
        return;
    m_stackedShare = on;
    applyYScale(); // shares are 0..100 %: linear
    for (auto& s : m_series)
        applySeriesStyle(s);
    m_share = {};
    m_dataChanged = true;
    scheduleReplot();
}

void LossChart::setShareKeys(const QStringList& keys)
{
    if (keys == m_shareKeys)
        return;
    m_shareKeys = keys;
    m_dataChanged = true;
    scheduleReplot();
}

void LossChart::setXKind(XKind kind)
{
    m_xKind = kind;
    if (m_logX) {
        xAxis->setTicker(QSharedPointer<QCPAxisTickerLog>(new QCPAxisTickerLog));
    } else if (kind == XKind::Integer) {
        xAxis->setTicker(QSharedPointer<QCPAxisTicker>(new IntegerTicker));
    } else if (kind == XKind::DateTime) {
        auto t = QSharedPointer<QCPAxisTickerDateTime>(new QCPAxisTickerDateTime);
        t->setDateTimeFormat(QStringLiteral("hh:mm:ss\nd MMM"));
        xAxis->setTicker(t);
    } else if (kind == XKind::Duration) {
        auto t = QSharedPointer<QCPAxisTickerTime>(new QCPAxisTickerTime);
        t->setTimeFormat(QStringLiteral("%h:%m:%s"));
        xAxis->setTicker(t);
    } else {
        xAxis->setTicker(QSharedPointer<QCPAxisTicker>(new QCPAxisTicker));
    }
    scheduleReplot();
}

void LossChart::setLogX(bool on)
{
    m_logX = on;
    xAxis->setScaleType(on ? QCPAxis::stLogarithmic : QCPAxis::stLinear);
    setXKind(m_xKind);
    m_dataChanged = true;
    if (m_autoRange)
        scheduleReplot();
}

void LossChart::setMarkers(const std::vector<Marker>& markers)
{
    for (QCPItemStraightLine* item : m_markerItems)
        removeItem(item);
    m_markerItems.clear();
    m_markers = markers;
    QPen pen(QColor(90, 90, 90, 200), 1, Qt::DashLine);
    for (const Marker& m : m_markers) {
        auto* line = new QCPItemStraightLine(this);
        line->setPen(pen);
        line->setSelectable(false);
        line->point1->setTypeY(QCPItemPosition::ptAxisRectRatio);
        line->point2->setTypeY(QCPItemPosition::ptAxisRectRatio);
        line->point1->setCoords(m.x, 0.0);
        line->point2->setCoords(m.x, 1.0);
        m_markerItems.push_back(line);
    }
    scheduleReplot();
}

QString LossChart::markerTextAt(double px) const
{
    QStringList texts;
    for (const Marker& m : m_markers) {
        const double mx = xAxis->coordToPixel(m.x);
        if (std::isfinite(mx) && std::abs(mx - px) <= 4.0)
            texts.append(m.text);
    }
    return texts.join(QStringLiteral("<br>"));
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
    using View = charts::SeriesStore::View;
    std::vector<double> samples;
    for (const auto& s : m_series) {
        if (!s.smooth->visible())
            continue;
        const charts::SeriesStore& st = *s.store;
        const std::int64_t n = st.size();
        const std::int64_t stride = std::max<std::int64_t>(1, n / kRangeSamplesPerGraph);
        for (View view : { View::Raw, View::Smoothed }) {
            if (view == View::Raw && !s.raw->visible())
                continue;
            auto take = [&](float v) {
                if (std::isfinite(v) && (!m_log || v > 0.0f))
                    samples.push_back(v);
            };
            for (std::int64_t i = 0; i < n; i += stride)
                take(st.at(view, i));
            if (n > 0) // always include the newest point so the live end is on screen
                take(st.at(view, n - 1));
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
    if (m_stackedShare) {
        yAxis->setRange(0.0, 100.0);
    } else {
        bool ok = false;
        const QCPRange y = robustValueRange(&ok);
        if (ok)
            yAxis->setRange(y);
    }
    double xmin = 0.0, xmax = 0.0;
    bool any = false;
    for (auto it = m_series.cbegin(); it != m_series.cend(); ++it) {
        const Series& s = it.value();
        if (!s.smooth->visible() || s.store->empty())
            continue;
        if (m_stackedShare && !m_shareKeys.isEmpty() && !m_shareKeys.contains(it.key()))
            continue;
        // Log x: iteration 0 cannot be shown; start at the first positive x.
        const double a = m_logX ? s.store->x(std::min(s.store->size() - 1, s.store->upperBound(0.0))) : s.store->x(0);
        const double b = s.store->x(s.store->size() - 1);
        if (m_logX && !(a > 0.0))
            continue;
        xmin = any ? std::min(xmin, a) : a;
        xmax = any ? std::max(xmax, b) : b;
        any = true;
    }
    if (any)
        xAxis->setRange(xmin, xmax > xmin ? xmax : xmin + 1.0);
}

namespace {
/// The polyline points of decimated columns: a column of one sample is that sample; a wider one is its
/// first value, its min and max (in the order that joins first to last), its last value, and a NaN gap if
/// it holds a non-finite sample.
void appendColumnPoints(const std::vector<charts::Column>& cols, QVector<QCPGraphData>* out)
{
    out->clear();
    out->reserve(static_cast<int>(cols.size()) * 4);
    for (const charts::Column& c : cols) {
        if (c.count == 1) {
            out->append(QCPGraphData(c.xFirst, c.first));
            continue;
        }
        const double mid = 0.5 * (c.xFirst + c.xLast);
        out->append(QCPGraphData(c.xFirst, c.first));
        if (std::isfinite(c.min)) {
            // Extremes that are the first or last value need no point of their own (a smoothed line is
            // mostly monotone within a column: two points instead of four, half the drawing).
            const bool rising = !(c.last < c.first);
            for (const float v : { rising ? c.min : c.max, rising ? c.max : c.min })
                if (v != c.first && v != c.last)
                    out->append(QCPGraphData(mid, v));
        }
        if (c.nonFinite > 0)
            out->append(QCPGraphData(mid, std::numeric_limits<double>::quiet_NaN()));
        out->append(QCPGraphData(c.xLast, c.last));
    }
}
} // namespace

void LossChart::updateDrawnData()
{
    const QCPRange range = xAxis->range();
    const int width = std::max(1, axisRect()->width());
    if (!m_dataChanged && width == m_drawnWidth && range == m_drawnRange)
        return;
    m_dataChanged = false;
    m_drawnWidth = width;
    m_drawnRange = range;
    using View = charts::SeriesStore::View;
    QVector<QCPGraphData> points;
    for (auto& s : m_series) {
        // A loss with no values (e.g. at weight 0, so never computed) has no line: its entry is greyed.
        const QString name = s.store->empty() ? tr("%1 (no values)").arg(s.label) : s.label;
        if (s.smooth->name() != name)
            s.smooth->setName(name);
        if (auto* item = legend->itemWithPlottable(s.smooth))
            item->setTextColor(s.store->empty() || !s.smooth->visible() ? Qt::gray : Qt::black);
        if (m_stackedShare) {
            s.raw->data()->clear();
            continue; // updateShareData draws the stack
        }
        for (auto [graph, view] : { std::pair { s.raw, View::Raw }, std::pair { s.smooth, View::Smoothed } }) {
            if (!graph->visible()) {
                graph->data()->clear();
                continue;
            }
            if (graph == s.smooth && m_smoothingKind != SmoothingKind::Ema) {
                // Centred average (and band) per pixel column, over the window around the samples it covers.
                const charts::SeriesStore& st = *s.store;
                const std::int64_t half = windowFor(m_smoothing) / 2;
                const auto cols = visibleColumns(st, View::Raw, range, width);
                points.clear();
                QVector<QCPGraphData> lows, highs;
                const bool band = m_smoothingKind == SmoothingKind::Band;
                for (const charts::Column& c : cols) {
                    const std::int64_t b = c.begin - half;
                    const std::int64_t e = c.begin + c.count + half;
                    const double x = c.count == 1 ? c.xFirst : 0.5 * (c.xFirst + c.xLast);
                    points.append(QCPGraphData(x, st.mean(b, e)));
                    if (band) {
                        float lo = 0.0f, hi = 0.0f;
                        const bool any = st.minMax(View::Raw, b, e, &lo, &hi);
                        const double nan = std::numeric_limits<double>::quiet_NaN();
                        lows.append(QCPGraphData(x, any ? lo : nan));
                        highs.append(QCPGraphData(x, any ? hi : nan));
                    }
                }
                graph->data()->set(points, true);
                if (band && s.bandLow) {
                    s.bandLow->data()->set(lows, true);
                    s.bandHigh->data()->set(highs, true);
                }
                continue;
            }
            appendColumnPoints(visibleColumns(*s.store, view, range, width), &points);
            graph->data()->set(points, /*alreadySorted=*/true);
        }
        if (s.bandLow && m_smoothingKind != SmoothingKind::Band) {
            s.bandLow->data()->clear();
            s.bandHigh->data()->clear();
        }
    }
    if (m_stackedShare)
        updateShareData(range, width);
}

void LossChart::updateShareData(const QCPRange& range, int width)
{
    m_share = {};
    std::vector<Series*> stack;
    for (const QString& key : std::as_const(m_order)) {
        Series& s = m_series[key];
        const bool inStack = m_shareKeys.isEmpty() || m_shareKeys.contains(key);
        if (!inStack || !s.smooth->visible() || s.store->empty()) {
            s.smooth->data()->clear();
            s.smooth->setBrush(Qt::NoBrush);
            s.smooth->setChannelFillGraph(nullptr);
            if (auto* item = legend->itemWithPlottable(s.smooth); item && !inStack)
                item->setTextColor(Qt::gray);
            continue;
        }
        stack.push_back(&s);
        m_share.keys.append(key);
    }
    if (stack.empty())
        return;
    // Columns: one per sample of the densest series when it has fewer visible samples than 2-px columns,
    // else of equal width (equal log width on a log x axis).
    const bool logX = m_logX && range.lower > 0.0 && range.upper > range.lower;
    const std::int64_t target = std::max(1, width / 2);
    const charts::SeriesStore* ref = nullptr;
    std::int64_t refBegin = 0, refEnd = 0;
    for (const Series* s : stack) {
        const std::int64_t b = s->store->lowerBound(range.lower), e = s->store->upperBound(range.upper);
        if (!ref || e - b > refEnd - refBegin) {
            ref = s->store.get();
            refBegin = b;
            refEnd = e;
        }
    }
    std::vector<double>& xs = m_share.x;
    std::vector<double> edges;
    if (refEnd - refBegin <= target) {
        for (std::int64_t i = refBegin; i < refEnd; ++i)
            xs.push_back(ref->x(i));
        if (xs.empty())
            return;
        edges.push_back(std::min(range.lower, xs.front()));
        for (std::size_t j = 0; j + 1 < xs.size(); ++j)
            edges.push_back(0.5 * (xs[j] + xs[j + 1]));
        edges.push_back(std::max(range.upper, xs.back()));
    } else {
        for (std::int64_t j = 0; j <= target; ++j) {
            const double t = static_cast<double>(j) / static_cast<double>(target);
            edges.push_back(logX ? range.lower * std::pow(range.upper / range.lower, t)
                                 : range.lower + (range.upper - range.lower) * t);
        }
        for (std::int64_t j = 0; j < target; ++j)
            xs.push_back(logX ? std::sqrt(edges[j] * edges[j + 1]) : 0.5 * (edges[j] + edges[j + 1]));
    }
    const std::size_t cols = xs.size();
    const std::int64_t half = windowFor(m_smoothing) / 2;
    m_share.mean.assign(stack.size(), std::vector<double>(cols, 0.0));
    m_share.share.assign(stack.size(), std::vector<double>(cols, 0.0));
    for (std::size_t k = 0; k < stack.size(); ++k) {
        const charts::SeriesStore& st = *stack[k]->store;
        const double first = st.x(0), last = st.x(st.size() - 1);
        const double spacing = st.size() > 1 ? (last - first) / static_cast<double>(st.size() - 1) : 0.0;
        for (std::size_t j = 0; j < cols; ++j) {
            const double a = edges[j], b = edges[j + 1];
            const bool lastCol = j + 1 == cols;
            if (a > last || (lastCol ? b < first : b <= first))
                continue; // before its first or after its last value: not part of the total there
            std::int64_t bi = st.lowerBound(a);
            std::int64_t ei = lastCol ? st.upperBound(b) : st.lowerBound(b);
            if (ei <= bi) { // no sample in the column: the nearest one, unless that is across a gap
                const std::int64_t right = std::min(bi, st.size() - 1), left = std::max<std::int64_t>(0, bi - 1);
                bi = std::abs(st.x(left) - xs[j]) <= std::abs(st.x(right) - xs[j]) ? left : right;
                if (std::abs(st.x(bi) - xs[j]) > std::max(b - a, 2.0 * spacing))
                    continue;
                ei = bi + 1;
            }
            const double m = st.mean(bi - half, ei + half);
            m_share.mean[k][j] = std::isfinite(m) ? m : 0.0;
        }
    }
    const double nan = std::numeric_limits<double>::quiet_NaN();
    std::vector<double> top(cols, 0.0);
    for (std::size_t j = 0; j < cols; ++j) {
        double total = 0.0;
        for (std::size_t k = 0; k < stack.size(); ++k)
            total += std::max(0.0, m_share.mean[k][j]);
        for (std::size_t k = 0; k < stack.size(); ++k)
            m_share.share[k][j] = total > 0.0 ? 100.0 * std::max(0.0, m_share.mean[k][j]) / total : nan;
    }
    QVector<QCPGraphData> points;
    for (std::size_t k = 0; k < stack.size(); ++k) {
        points.clear();
        points.reserve(static_cast<int>(cols));
        for (std::size_t j = 0; j < cols; ++j) {
            top[j] += m_share.share[k][j];
            points.append(QCPGraphData(xs[j], top[j]));
        }
        QCPGraph* g = stack[k]->smooth;
        g->data()->set(points, /*alreadySorted=*/true);
        QColor fill = g->pen().color();
        fill.setAlpha(120);
        g->setBrush(fill);
        // Each area fills down to the one below it; the bottom one to 0 %.
        g->setChannelFillGraph(k == 0 ? nullptr : stack[k - 1]->smooth);
    }
}

QString LossChart::shareTipAt(double px) const
{
    const auto& xs = m_share.x;
    if (xs.empty())
        return {};
    const double x = xAxis->pixelToCoord(px);
    std::size_t j = static_cast<std::size_t>(std::lower_bound(xs.begin(), xs.end(), x) - xs.begin());
    if (j == xs.size() || (j > 0 && std::abs(xs[j - 1] - x) < std::abs(xs[j] - x)))
        j = j == 0 ? 0 : j - 1;
    if (std::abs(xAxis->coordToPixel(xs[j]) - px) > 24.0)
        return {};
    const QString xLabel = xAxis->label().isEmpty() ? tr("x") : xAxis->label();
    QString text = tr("<b>Share of the weighted total</b><br>%1: %2").arg(xLabel).arg(xs[j], 0, 'g', 8);
    for (int k = static_cast<int>(m_share.keys.size()) - 1; k >= 0; --k) { // top of the stack first
        const Series& s = m_series[m_share.keys[k]];
        const double share = m_share.share[k][j];
        text += QStringLiteral("<br><span style=\"color:%1\">■</span> %2: %3 (mean %4)")
                    .arg(s.smooth->pen().color().name(), s.label.toHtmlEscaped(),
                        std::isfinite(share) ? QString::number(share, 'f', 1) + QStringLiteral(" %") : tr("–"),
                        QString::number(m_share.mean[k][j], 'g', 4));
    }
    if (const std::int64_t w = windowFor(m_smoothing); w > 1)
        text += tr("<br>means over each column's samples, widened by %1 samples").arg(w);
    return text;
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

bool LossChart::event(QEvent* event)
{
    // The usage tooltip (setToolTip) would replace the value tooltip after the hover delay.
    if (event->type() == QEvent::ToolTip && !m_valueTip.isEmpty()) {
        QToolTip::showText(static_cast<QHelpEvent*>(event)->globalPos(), m_valueTip, this);
        return true;
    }
    return QCustomPlot::event(event);
}

void LossChart::mouseMoveEvent(QMouseEvent* event)
{
    QCustomPlot::mouseMoveEvent(event);
    if (event->buttons() != Qt::NoButton)
        return;
    using View = charts::SeriesStore::View;
    const QPointF pos = event->position();
    if (const QString edits = markerTextAt(pos.x()); !edits.isEmpty()) {
        m_valueTip = edits;
        QToolTip::showText(event->globalPosition().toPoint(), edits, this);
        return;
    }
    if (m_stackedShare) {
        m_valueTip = shareTipAt(pos.x());
        if (m_valueTip.isEmpty())
            QToolTip::hideText();
        else
            QToolTip::showText(event->globalPosition().toPoint(), m_valueTip, this);
        return;
    }
    const bool ema = m_smoothingKind == SmoothingKind::Ema;
    const View view = m_smoothing > 0.0 && ema ? View::Smoothed : View::Raw;
    // The samples under the pointer's pixel column (or the nearest one), per visible line.
    const double xa = xAxis->pixelToCoord(pos.x() - 0.5);
    const double xb = xAxis->pixelToCoord(pos.x() + 0.5);
    const Series* best = nullptr;
    charts::Column bestCol, bestRaw;
    double bestDist = 24.0; // pixels
    for (const auto& s : m_series) {
        const charts::SeriesStore& st = *s.store;
        if (!s.smooth->visible() || st.empty())
            continue;
        std::int64_t b = st.lowerBound(std::min(xa, xb));
        std::int64_t e = st.upperBound(std::max(xa, xb));
        if (e <= b) { // no sample in this column: the nearest one
            const std::int64_t right = std::min(b, st.size() - 1);
            const std::int64_t left = std::max<std::int64_t>(0, b - 1);
            const double xc = xAxis->pixelToCoord(pos.x());
            b = std::abs(st.x(left) - xc) <= std::abs(st.x(right) - xc) ? left : right;
            e = b + 1;
        }
        const charts::Column c = st.column(view, b, e);
        const double px = xAxis->coordToPixel(0.5 * (c.xFirst + c.xLast));
        double dy = 0.0;
        const float lo = c.count == 1 ? c.first : c.min;
        const float hi = c.count == 1 ? c.first : c.max;
        if (std::isfinite(lo) && std::isfinite(hi)) {
            const double p1 = yAxis->coordToPixel(lo), p2 = yAxis->coordToPixel(hi);
            if (std::isfinite(p1) && std::isfinite(p2))
                dy = pos.y() < std::min(p1, p2) ? std::min(p1, p2) - pos.y()
                                                : (pos.y() > std::max(p1, p2) ? pos.y() - std::max(p1, p2) : 0.0);
        }
        const double d = std::hypot(px - pos.x(), dy);
        if (d < bestDist) {
            bestDist = d;
            best = &s;
            bestCol = c;
            bestRaw = view == View::Raw ? c : st.column(View::Raw, b, e);
        }
    }
    if (!best) {
        m_valueTip.clear();
        QToolTip::hideText();
        return;
    }
    const QString xLabel = xAxis->label().isEmpty() ? tr("x") : xAxis->label();
    const QString yLabel = yAxis->label().isEmpty() ? tr("value") : yAxis->label();
    auto num = [](double v) { return std::isfinite(v) ? QString::number(v, 'g', 6) : tr("non-finite"); };
    QString text = QStringLiteral("<b>%1</b><br>").arg(best->label.toHtmlEscaped());
    if (bestCol.count == 1) {
        text += QStringLiteral("%1: %2<br>%3: %4")
                    .arg(xLabel)
                    .arg(bestCol.xFirst, 0, 'g', 8)
                    .arg(yLabel, num(bestRaw.first));
        if (m_smoothing > 0.0 && ema)
            text += tr("<br>smoothed: %1").arg(num(bestCol.first));
    } else {
        // One pixel column aggregates many samples: say so, with their range, instead of one of them.
        text += tr("%1 samples, %2 %3 – %4<br>%5: min %6, max %7")
                    .arg(QLocale().toString(static_cast<qlonglong>(bestCol.count)), xLabel)
                    .arg(bestCol.xFirst, 0, 'g', 8)
                    .arg(bestCol.xLast, 0, 'g', 8)
                    .arg(yLabel, num(bestRaw.min), num(bestRaw.max));
        if (m_smoothing > 0.0 && ema)
            text += tr("<br>smoothed: min %1, max %2").arg(num(bestCol.min), num(bestCol.max));
        if (bestRaw.nonFinite > 0)
            text += tr("<br>%1 non-finite").arg(bestRaw.nonFinite);
    }
    if (!ema) {
        const std::int64_t w = windowFor(m_smoothing);
        const std::int64_t b = bestCol.begin - w / 2, e = bestCol.begin + bestCol.count + w / 2;
        text += tr("<br>centred average over %1 samples: %2").arg(w).arg(num(best->store->mean(b, e)));
        float lo = 0.0f, hi = 0.0f;
        if (m_smoothingKind == SmoothingKind::Band && best->store->minMax(View::Raw, b, e, &lo, &hi))
            text += tr("<br>band: %1 – %2").arg(num(lo), num(hi));
    }
    m_valueTip = text;
    QToolTip::showText(event->globalPosition().toPoint(), text, this);
}
