// SPDX-License-Identifier: Apache-2.0
// charts::SeriesStore: compact x runs, min/max pyramid queries and M4 decimation against brute force,
// the smoothed view against a reference EMA, spikes kept at every zoom level, and bytes per point.
#include <QtTest>

#include <cmath>
#include <limits>
#include <random>

#include "charts/seriesstore.h"

using charts::Column;
using charts::SeriesStore;
using View = SeriesStore::View;

namespace {

/// TensorBoard's debiased EMA, in double, the way LossChart computed it before the store.
std::vector<double> referenceEma(const std::vector<double>& y, double w)
{
    std::vector<double> out;
    double ema = 0.0;
    std::int64_t n = 0;
    for (double v : y) {
        if (!std::isfinite(v)) {
            out.push_back(std::numeric_limits<double>::quiet_NaN());
            continue;
        }
        ema = ema * w + (1.0 - w) * v;
        ++n;
        const double debias = w > 0.0 ? 1.0 - std::pow(w, static_cast<double>(n)) : 1.0;
        out.push_back(ema / debias);
    }
    return out;
}

struct Series {
    std::vector<double> x, y;
};

/// A noisy decaying loss with a few NaN/Inf, on iterations with a resume gap (two x runs).
Series noisySeries(int n, std::uint32_t seed)
{
    std::mt19937 rng(seed);
    std::normal_distribution<double> noise(0.0, 0.05);
    Series s;
    for (int i = 0; i < n; ++i) {
        s.x.push_back(i < n / 2 ? i : i + 1000);
        double v = 1.0 / (1.0 + 0.001 * i) + noise(rng);
        if (i % 997 == 13)
            v = std::numeric_limits<double>::quiet_NaN();
        if (i % 1999 == 7)
            v = std::numeric_limits<double>::infinity();
        s.y.push_back(v);
    }
    return s;
}

SeriesStore storeOf(const Series& s, double smoothing)
{
    SeriesStore store(smoothing);
    for (std::size_t i = 0; i < s.x.size(); ++i)
        store.append(s.x[i], s.y[i]);
    return store;
}

bool bruteMinMax(const std::vector<float>& v, std::int64_t b, std::int64_t e, float* mn, float* mx)
{
    *mn = std::numeric_limits<float>::infinity();
    *mx = -*mn;
    for (std::int64_t i = b; i < e; ++i) {
        if (std::isfinite(v[static_cast<std::size_t>(i)])) {
            *mn = std::min(*mn, v[static_cast<std::size_t>(i)]);
            *mx = std::max(*mx, v[static_cast<std::size_t>(i)]);
        }
    }
    return *mn <= *mx;
}

float maxOf(const std::vector<Column>& cols)
{
    float m = -std::numeric_limits<float>::infinity();
    for (const Column& c : cols)
        if (std::isfinite(c.max))
            m = std::max(m, c.max);
    return m;
}

} // namespace

class TestSeriesStore : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void xRunsAndBounds()
    {
        const Series s = noisySeries(5000, 1);
        const SeriesStore store = storeOf(s, 0.6);
        QCOMPARE(store.size(), qint64(5000));
        for (std::size_t i = 0; i < s.x.size(); i += 7)
            QCOMPARE(store.x(static_cast<std::int64_t>(i)), s.x[i]);
        // Bounds against std::lower_bound / upper_bound, inside runs, in the gap and outside.
        for (double q : { -5.0, 0.0, 0.5, 1.0, 2499.0, 2499.5, 2500.0, 3000.0, 3499.0, 3500.0, 5999.0, 6000.0, 7e9 }) {
            const auto lb = std::lower_bound(s.x.begin(), s.x.end(), q) - s.x.begin();
            const auto ub = std::upper_bound(s.x.begin(), s.x.end(), q) - s.x.begin();
            QCOMPARE(store.lowerBound(q), qint64(lb));
            QCOMPARE(store.upperBound(q), qint64(ub));
        }
        // Fractional epochs (iteration / iterations per epoch) stay one run: about no bytes for x.
        SeriesStore epochs;
        for (int i = 0; i < 100000; ++i)
            epochs.append(1.0 + i / 37.0, 1.0);
        QVERIFY(std::abs(epochs.x(99999) - (1.0 + 99999 / 37.0)) < 1e-9);
        // x is rebuilt as x0 + step * k, so it matches a query to ~1e-12, not bit for bit.
        QCOMPARE(epochs.lowerBound(1.0 + 500 / 37.0 - 1e-9), qint64(500));
        QCOMPARE(epochs.upperBound(1.0 + 500 / 37.0 + 1e-9), qint64(501));
        QCOMPARE(epochs.lowerBound(1.0 + 500.5 / 37.0), qint64(501));
        // Repeated and decreasing x: clamped, never going back.
        SeriesStore odd;
        odd.append(5.0, 1.0);
        odd.append(5.0, 2.0);
        odd.append(4.0, 3.0);
        odd.append(9.0, 4.0);
        QCOMPARE(odd.x(2), 5.0);
        QCOMPARE(odd.x(3), 9.0);
        QCOMPARE(odd.lowerBound(5.0), qint64(0));
        QCOMPARE(odd.upperBound(5.0), qint64(3));
    }

    void minMaxMatchesBruteForce()
    {
        const Series s = noisySeries(70000, 2);
        const SeriesStore store = storeOf(s, 0.9);
        std::vector<float> raw, smooth;
        const std::vector<double> ref = referenceEma(s.y, 0.9);
        for (std::size_t i = 0; i < s.y.size(); ++i) {
            raw.push_back(static_cast<float>(s.y[i]));
            smooth.push_back(store.smoothed(static_cast<std::int64_t>(i)));
        }
        std::mt19937 rng(3);
        std::uniform_int_distribution<std::int64_t> pick(0, 70000);
        for (int t = 0; t < 400; ++t) {
            std::int64_t b = pick(rng), e = pick(rng);
            if (t % 4 == 0)
                e = b + t % 37; // short ranges, below one bucket
            if (b > e)
                std::swap(b, e);
            e = std::min<std::int64_t>(e, 70000);
            for (View view : { View::Raw, View::Smoothed }) {
                const auto& v = view == View::Raw ? raw : smooth;
                float mn = 0, mx = 0, bmn = 0, bmx = 0;
                const bool ok = store.minMax(view, b, e, &mn, &mx);
                QCOMPARE(ok, bruteMinMax(v, b, e, &bmn, &bmx));
                if (ok) {
                    QCOMPARE(mn, bmn);
                    QCOMPARE(mx, bmx);
                }
            }
        }
        // Non-finite samples are counted, not lost.
        std::int64_t nonFinite = 0;
        for (double v : s.y)
            nonFinite += std::isfinite(v) ? 0 : 1;
        QCOMPARE(store.nonFiniteCount(), nonFinite);
        QCOMPARE(store.nonFiniteIn(0, 70000), nonFinite);
    }

    // #12: range sums (centred running average) equal a brute-force sum of the finite float32 samples.
    void sumsMatchBruteForce()
    {
        const Series s = noisySeries(70000, 2);
        const SeriesStore store = storeOf(s, 0.6);
        std::vector<double> prefix(1, 0.0);
        for (double v : s.y) {
            const float f = static_cast<float>(v);
            prefix.push_back(prefix.back() + (std::isfinite(f) ? f : 0.0));
        }
        std::mt19937 rng(5);
        std::uniform_int_distribution<std::int64_t> pick(0, 70000);
        for (int t = 0; t < 400; ++t) {
            std::int64_t b = pick(rng), e = pick(rng);
            if (t % 4 == 0)
                e = b + t % 600; // around the 256-sample base bucket
            if (b > e)
                std::swap(b, e);
            e = std::min<std::int64_t>(e, 70000);
            const double want = prefix[static_cast<std::size_t>(e)] - prefix[static_cast<std::size_t>(b)];
            QVERIFY2(std::abs(store.sum(b, e) - want) <= 1e-9 * std::max(1.0, std::abs(want)),
                qPrintable(QStringLiteral("[%1, %2)").arg(b).arg(e)));
        }
        // The mean skips non-finite samples; an all-NaN range has none.
        SeriesStore nan;
        for (double v : { 1.0, std::numeric_limits<double>::quiet_NaN(), 3.0 })
            nan.append(nan.size(), v);
        QCOMPARE(nan.mean(0, 3), 2.0);
        QVERIFY(std::isnan(nan.mean(1, 2)));
        QCOMPARE(nan.mean(-5, 99), 2.0); // clamped to the series
    }

    void smoothedIsTheDebiasedEma()
    {
        const Series s = noisySeries(20000, 4);
        for (double w : { 0.0, 0.6, 0.99 }) {
            SeriesStore store = storeOf(s, 0.3);
            store.setSmoothing(w); // recomputed, as when the user moves the slider
            const std::vector<double> ref = referenceEma(s.y, w);
            for (std::size_t i = 0; i < ref.size(); i += 3) {
                const float got = store.smoothed(static_cast<std::int64_t>(i));
                if (!std::isfinite(ref[i])) {
                    QVERIFY(std::isnan(got));
                    continue;
                }
                QVERIFY2(std::abs(got - ref[i]) <= 1e-5 * std::max(1.0, std::abs(ref[i])),
                    qPrintable(QStringLiteral("w %1 i %2: %3 vs %4").arg(w).arg(i).arg(got).arg(ref[i])));
            }
            // Appending after setSmoothing continues the same EMA.
            SeriesStore grown
                = storeOf(Series { { s.x.begin(), s.x.begin() + 1000 }, { s.y.begin(), s.y.begin() + 1000 } }, w);
            for (std::size_t i = 1000; i < 3000; ++i)
                grown.append(s.x[i], s.y[i]);
            QVERIFY(std::abs(grown.smoothed(2999) - ref[2999]) <= 1e-5);
        }
    }

    void smallSeriesAreNotDecimated()
    {
        const Series s = noisySeries(300, 5);
        const SeriesStore store = storeOf(s, 0.6);
        const auto cols = store.decimate(View::Raw, s.x.front(), s.x.back(), 800);
        QCOMPARE(cols.size(), s.x.size());
        for (std::size_t i = 0; i < cols.size(); ++i) {
            QCOMPARE(cols[i].count, qint64(1));
            QCOMPARE(cols[i].xFirst, s.x[i]);
            const auto v = static_cast<float>(s.y[i]);
            QVERIFY(cols[i].first == v || (std::isnan(v) && std::isnan(cols[i].first)));
        }
    }

    void columnsAggregateExactlyTheirSamples()
    {
        const Series s = noisySeries(100000, 6);
        const SeriesStore store = storeOf(s, 0.6);
        for (auto [x0, x1, w] : { std::tuple { 0.0, 101000.0, 640 }, std::tuple { 20000.0, 20500.0, 97 },
                 std::tuple { 49000.0, 52000.0, 1200 } }) {
            const auto cols = store.decimate(View::Raw, x0, x1, w);
            // Up to 2 samples per column are drawn as they are; beyond that, at most one column per pixel.
            const bool decimated = store.upperBound(x1) - store.lowerBound(x0) > 2 * w;
            QVERIFY(cols.size() <= static_cast<std::size_t>(decimated ? w : 2 * w) + 2);
            // Contiguous, in order, covering [lowerBound(x0) - 1, upperBound(x1) + 1).
            const std::int64_t first = std::max<std::int64_t>(0, store.lowerBound(x0) - 1);
            const std::int64_t end = std::min(store.size(), store.upperBound(x1) + 1);
            std::int64_t next = first;
            for (const Column& c : cols) {
                QCOMPARE(c.begin, next);
                next = c.begin + c.count;
                QCOMPARE(c.xFirst, s.x[static_cast<std::size_t>(c.begin)]);
                QCOMPARE(c.xLast, s.x[static_cast<std::size_t>(next - 1)]);
                std::vector<float> v;
                for (std::int64_t i = c.begin; i < next; ++i)
                    v.push_back(static_cast<float>(s.y[static_cast<std::size_t>(i)]));
                float mn = 0, mx = 0;
                if (bruteMinMax(v, 0, c.count, &mn, &mx)) {
                    QCOMPARE(c.min, mn);
                    QCOMPARE(c.max, mx);
                } else {
                    QVERIFY(std::isnan(c.min));
                }
                // Inside the view, a column spans at most its share of the x range.
                if (!decimated)
                    QCOMPARE(c.count, qint64(1));
                else if (c.xFirst >= x0 && c.xLast <= x1)
                    QVERIFY(c.xLast - c.xFirst <= (x1 - x0) / w + 1.0);
            }
            QCOMPARE(next, end);
        }
    }

    void spikeVisibleAtEveryZoomLevel()
    {
        // One spike among 10^6 noisy points (x = iteration), at every zoom from the whole run down to a
        // few dozen points around it, and for windows that contain it at either edge.
        constexpr int n = 1000000;
        std::mt19937 rng(7);
        std::normal_distribution<double> noise(0.0, 0.05);
        SeriesStore store(0.6);
        const int spikeAt = 612345;
        for (int i = 0; i < n; ++i)
            store.append(i, i == spikeAt ? 25.0 : 1.0 + noise(rng));
        const std::int64_t lb = store.lowerBound(spikeAt);
        QCOMPARE(lb, qint64(spikeAt));
        for (double width = n; width >= 40; width /= 2) {
            for (double offset : { 0.5, 0.01, 0.99 }) {
                const double x0 = std::max(0.0, spikeAt - width * offset);
                const double x1 = x0 + width;
                for (int columns : { 1, 300, 1280 }) {
                    const auto cols = store.decimate(View::Raw, x0, x1, columns);
                    QVERIFY2(maxOf(cols) == 25.0f,
                        qPrintable(QStringLiteral("spike lost: width %1 offset %2 columns %3")
                                       .arg(width)
                                       .arg(offset)
                                       .arg(columns)));
                    QVERIFY(
                        cols.size() <= static_cast<std::size_t>(std::max(columns, static_cast<int>(2 * columns))) + 2);
                }
            }
        }
        // The smoothed view keeps its own extreme (the EMA's peak just after the spike).
        float mn = 0, mx = 0;
        QVERIFY(store.minMax(View::Smoothed, spikeAt, spikeAt + 1, &mn, &mx));
        QCOMPARE(maxOf(store.decimate(View::Smoothed, 0, n, 500)), mx);
    }

    void bytesPerPoint()
    {
        for (int n : { 10000, 100000, 1000000 }) {
            SeriesStore store;
            for (int i = 0; i < n; ++i)
                store.append(i, std::sin(i * 0.01));
            const double perPoint = static_cast<double>(store.memoryBytes()) / n;
            qInfo("%d points: %.2f bytes per point", n, perPoint);
            QVERIFY2(perPoint <= 8.0, qPrintable(QString::number(perPoint)));
        }
    }
};

QTEST_GUILESS_MAIN(TestSeriesStore)
#include "tst_seriesstore.moc"
