// SPDX-License-Identifier: Apache-2.0
// ChartPanel / LossChart: tag grouping, incremental appends, modes, NaN/Inf handling, robust range,
// exports, and a 10^6-point line.
#include <QElapsedTimer>
#include <QFile>
#include <QImage>
#include <QTemporaryDir>
#include <QToolTip>
#include <QtTest>

#include <cmath>

#include "charts/chartpanel.h"
#include "charts/losschart.h"

namespace {
nectar::LossSeriesChunk chunk(const std::string& name, std::vector<std::string> tags, std::int64_t from, int n,
    float raw = 2.0f, float weight = 10.0f)
{
    nectar::LossSeriesChunk c;
    c.name = name;
    c.tags = std::move(tags);
    for (int i = 0; i < n; ++i) {
        c.iterations.push_back(from + i);
        c.raw.push_back(raw + 0.01f * static_cast<float>(i % 7));
        c.weights.push_back(weight);
    }
    return c;
}
QString outDir()
{
    const QString dir = qEnvironmentVariable("NECTAR_TEST_OUTPUT_DIR", QDir::tempPath());
    QDir().mkpath(dir);
    return dir;
}
} // namespace

class TestLossChart : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void groupsByTag()
    {
        ChartPanel panel;
        panel.appendChunk(chunk("G_GAN", { "G" }, 0, 5));
        panel.appendChunk(chunk("D_real", { "D" }, 0, 5));
        panel.appendChunk(chunk("G_SOBEL", { "G", "edges" }, 0, 5));
        panel.appendChunk(chunk("X", {}, 0, 3));
        QCOMPARE(panel.chartTitles(),
            QStringList(
                { QStringLiteral("G"), QStringLiteral("D"), QStringLiteral("edges"), ChartPanel::untaggedTitle() }));
        QCOMPARE(panel.pointCount(QStringLiteral("G"), QStringLiteral("G_GAN")), 5);
        QCOMPARE(panel.pointCount(QStringLiteral("D"), QStringLiteral("G_GAN")), 0);
        QCOMPARE(panel.pointCount(QStringLiteral("G"), QStringLiteral("G_SOBEL")), 5);
        QCOMPARE(panel.pointCount(QStringLiteral("edges"), QStringLiteral("G_SOBEL")), 5);
        QCOMPARE(panel.pointCount(ChartPanel::untaggedTitle(), QStringLiteral("X")), 3);
        // Incremental append keeps earlier points.
        panel.appendChunk(chunk("G_GAN", { "G" }, 5, 4));
        QCOMPARE(panel.pointCount(QStringLiteral("G"), QStringLiteral("G_GAN")), 9);
        QCOMPARE(panel.storedCount(QStringLiteral("G_GAN")), qint64(9));
        // Weight history chart shows every loss.
        panel.setShowWeights(true);
        QCOMPARE(panel.pointCount(ChartPanel::weightsTitle(), QStringLiteral("D_real")), 5);
        QCOMPARE(panel.chartTitles().last(), ChartPanel::weightsTitle());

        // Five charts in two columns: the fifth takes the whole last row, no blank cell beside it.
        panel.resize(900, 900);
        panel.show();
        QVERIFY(QTest::qWaitForWindowExposed(&panel));
        LossChart* last = panel.chart(ChartPanel::weightsTitle());
        LossChart* first = panel.chart(QStringLiteral("G"));
        QVERIFY(last && first);
        QVERIFY2(last->width() > first->width() * 3 / 2,
            qPrintable(QStringLiteral("%1 vs %2").arg(last->width()).arg(first->width())));
    }

    void liveTagChangeMovesSeries()
    {
        ChartPanel panel;
        panel.appendChunk(chunk("G_L1", { "G" }, 0, 4));
        panel.appendChunk(chunk("G_L1", { "D" }, 4, 2)); // tags edited during training
        QCOMPARE(panel.pointCount(QStringLiteral("G"), QStringLiteral("G_L1")), 0);
        QCOMPARE(panel.pointCount(QStringLiteral("D"), QStringLiteral("G_L1")), 6);
    }

    void weightedRawAndEpochModes()
    {
        ChartPanel panel;
        panel.setSmoothing(0.0);
        panel.setEpochMapping(4, 1);
        panel.appendChunk(chunk("G_L1", { "G" }, 0, 8, 2.0f, 10.0f));
        LossChart* c = panel.chart(QStringLiteral("G"));
        QVERIFY(c);
        const QString key = QStringLiteral("0/G_L1");
        auto last = [c, key] {
            const charts::SeriesStore* st = c->store(key);
            return QCPGraphData(st->x(st->size() - 1), st->smoothed(st->size() - 1));
        };
        QVERIFY(qFuzzyCompare(last().value, 20.0)); // iteration 7: raw 2.0 (7 % 7 = 0) x weight 10
        QCOMPARE(last().key, 7.0);
        panel.setYMode(ChartPanel::YMode::Raw);
        QCOMPARE(c->pointCount(key), 8);
        QVERIFY(qFuzzyCompare(last().value, double(2.0f)));
        panel.setXMode(ChartPanel::XMode::Epochs);
        QCOMPARE(last().key, 2.0); // iteration 7 of 4 per epoch = end of epoch 2
        QCOMPARE(c->store(key)->x(0), 0.25);
        // What is drawn is what is stored (8 points fit in any plot width undecimated).
        c->replotNow();
        QCOMPARE(c->drawnPointCount(key), 8);
        QCOMPARE(c->graph(1)->data()->constBegin()->key, 0.25);
        QVERIFY(c->yAxis->label().contains(QStringLiteral("raw")));
    }

    void nonFiniteMarkedNotBreakingAxes()
    {
        ChartPanel panel;
        panel.setSmoothing(0.0);
        auto c = chunk("G_L1", { "G" }, 0, 300, 1.0f, 1.0f);
        c.raw[100] = std::numeric_limits<float>::quiet_NaN();
        c.raw[200] = std::numeric_limits<float>::infinity();
        c.raw[250] = 1e9f; // one outlier
        panel.appendChunk(c);
        LossChart* chart = panel.chart(QStringLiteral("G"));
        QCOMPARE(chart->nonFiniteCount(QStringLiteral("0/G_L1")), 2);
        QCOMPARE(chart->pointCount(QStringLiteral("0/G_L1")), 300);
        chart->replotNow();
        const QCPRange y = chart->yAxis->range();
        QVERIFY(std::isfinite(y.lower) && std::isfinite(y.upper));
        QVERIFY2(y.upper < 10.0, qPrintable(QString::number(y.upper))); // the outlier does not flatten the line
        QVERIFY(y.lower < 1.0 && y.upper > 1.06);
        QCOMPARE(chart->xAxis->range().upper, 299.0);
    }

    void legendToggle()
    {
        ChartPanel panel;
        panel.appendChunk(chunk("G_GAN", { "G" }, 0, 5));
        LossChart* chart = panel.chart(QStringLiteral("G"));
        QVERIFY(chart->seriesVisible(QStringLiteral("0/G_GAN")));
        chart->setSeriesVisible(QStringLiteral("0/G_GAN"), false);
        QVERIFY(!chart->seriesVisible(QStringLiteral("0/G_GAN")));
        bool ok = true;
        chart->robustValueRange(&ok);
        QVERIFY(!ok); // hidden lines do not drive the range
    }

    void smoothingIsTensorBoardEma()
    {
        LossChart chart(QStringLiteral("t"));
        chart.addSeries(QStringLiteral("a"), QStringLiteral("a"), Qt::red);
        chart.setSmoothing(0.5);
        chart.appendPoints(QStringLiteral("a"), { 0, 1, 2 }, { 1.0, 3.0, 5.0 });
        chart.replotNow();
        // Debiased EMA: s1 = 1; s2 = (0.5*0.5 + 0.5*3) / 0.75 = 2.333..; s3 = (0.875 + 2.5)/0.875
        auto it = chart.graph(1)->data()->constBegin();
        QCOMPARE(it->value, 1.0);
        QVERIFY(qFuzzyCompare(float((it + 1)->value), float(1.75 / 0.75)));
        QVERIFY(qFuzzyCompare(float((it + 2)->value), float((0.5 * 1.75 + 2.5) / 0.875)));
        chart.setSmoothing(0.0); // recomputed from the raw line
        chart.replotNow();
        QCOMPARE((chart.graph(1)->data()->constBegin() + 1)->value, 3.0);
    }

    void exports()
    {
        ChartPanel panel;
        panel.resize(900, 600);
        panel.setEpochMapping(2, 1);
        auto c = chunk("G_L1", { "G" }, 0, 3, 0.5f, 100.0f);
        c.raw[1] = std::numeric_limits<float>::quiet_NaN();
        panel.appendChunk(c);
        panel.appendChunk(chunk("D_fake", { "D" }, 0, 3, 0.7f, 1.0f));
        panel.show();
        panel.replotAll();
        QTemporaryDir dir;
        QString error;
        const QString csv = dir.filePath(QStringLiteral("s.csv"));
        QVERIFY2(panel.exportCsv(csv, &error), qPrintable(error));
        QFile f(csv);
        QVERIFY(f.open(QIODevice::ReadOnly));
        const QStringList lines = QString::fromUtf8(f.readAll()).split(QLatin1Char('\n'), Qt::SkipEmptyParts);
        QCOMPARE(lines.size(), 7);
        QCOMPARE(lines[0], QStringLiteral("run,loss,tags,iteration,epoch,raw,weight,weighted,wall_time"));
        QCOMPARE(lines[1], QStringLiteral("0,G_L1,G,0,0.5,0.5,100,50,"));
        QCOMPARE(lines[2], QStringLiteral("0,G_L1,G,1,1,nan,100,nan,"));
        const QString png = outDir() + QStringLiteral("/charts_export.png");
        QVERIFY2(panel.exportPng(png, &error), qPrintable(error));
        QImage img(png);
        QVERIFY(!img.isNull());
        QVERIFY(img.width() > 100);
        QVERIFY(!panel.exportCsv(QStringLiteral("/nonexistent-dir/x.csv"), &error));
        QVERIFY(error.contains(QStringLiteral("/nonexistent-dir/x.csv")));
    }

    void millionPointsPerLine()
    {
        ChartPanel panel;
        panel.resize(1000, 700);
        panel.show();
        constexpr int kTotal = 1000000;
        constexpr int kChunk = 50000;
        for (int from = 0; from < kTotal; from += kChunk) {
            panel.appendChunk(chunk("G_L1", { "G" }, from, kChunk, 1.0f, 1.0f));
            panel.appendChunk(chunk("D_real", { "D" }, from, kChunk, 0.7f, 1.0f));
        }
        QCOMPARE(panel.pointCount(QStringLiteral("G"), QStringLiteral("G_L1")), kTotal);
        QCOMPARE(panel.pointCount(QStringLiteral("D"), QStringLiteral("D_real")), kTotal);
        QElapsedTimer t;
        t.start();
        panel.replotAll();
        QCoreApplication::processEvents();
        qInfo("replot of 2 charts x 10^6 points (x2 lines each): %lld ms", static_cast<long long>(t.elapsed()));
        LossChart* g = panel.chart(QStringLiteral("G"));
        QCOMPARE(g->xAxis->range().upper, double(kTotal - 1));
        // Only the decimated points reach QCustomPlot: at most 4 per pixel column (+ the edge neighbours).
        const int drawn = g->drawnPointCount(QStringLiteral("0/G_L1"));
        QVERIFY2(drawn > 0 && drawn <= 4 * g->axisRect()->width() + 8, qPrintable(QString::number(drawn)));
        panel.grab().save(outDir() + QStringLiteral("/charts_1e6.png"));
    }

    void coloursFollowTheLossName()
    {
        ChartPanel a, b;
        a.appendChunk(chunk("G_L1", { "G" }, 0, 3));
        a.appendChunk(chunk("G_GAN", { "G" }, 0, 3));
        b.appendChunk(chunk("my_loss", { "G" }, 0, 3));
        b.appendChunk(chunk("G_GAN", { "G" }, 0, 3));
        b.appendChunk(chunk("G_L1", { "G" }, 0, 3));
        auto pen = [](ChartPanel& p, const QString& loss) {
            LossChart* c = p.chart(QStringLiteral("G"));
            for (int i = 0; i < c->graphCount(); ++i)
                if (c->graph(i)->name() == loss)
                    return c->graph(i)->pen().color();
            return QColor();
        };
        // The same loss has the same colour whatever the order it arrived in (was: table order).
        QCOMPARE(pen(a, QStringLiteral("G_L1")), pen(b, QStringLiteral("G_L1")));
        QCOMPARE(pen(a, QStringLiteral("G_GAN")), pen(b, QStringLiteral("G_GAN")));
        QCOMPARE(pen(a, QStringLiteral("G_L1")), ChartPanel::colorFor(QStringLiteral("G_L1")));
        // NectarGAN's losses all differ from each other.
        QSet<QRgb> seen;
        for (const char* n : { "G_GAN", "G_L1", "G_L2", "G_SOBEL", "G_LAP", "G_VGG", "D_real", "D_fake" })
            seen.insert(ChartPanel::colorFor(QString::fromLatin1(n)).rgb());
        QCOMPARE(seen.size(), 8);
        QCOMPARE(ChartPanel::colorFor(QStringLiteral("my_loss")), ChartPanel::colorFor(QStringLiteral("my_loss")));
    }

    void exportNamesGetTheirSuffix()
    {
        QCOMPARE(ChartPanel::withSuffix(QStringLiteral("/tmp/charts"), QStringLiteral("png")),
            QStringLiteral("/tmp/charts.png"));
        QCOMPARE(
            ChartPanel::withSuffix(QStringLiteral("/tmp/c.PNG"), QStringLiteral("png")), QStringLiteral("/tmp/c.PNG"));
        QCOMPARE(ChartPanel::withSuffix(QStringLiteral("/tmp/s"), QStringLiteral("csv")), QStringLiteral("/tmp/s.csv"));
    }

    // #12: wall-time and time-since-start axes from the per-value timestamps; runs without any are left out
    // of them and the axis says so; the same loss keeps its colour in every run; runs can be hidden.
    void timeAxesAndRuns()
    {
        ChartPanel panel;
        panel.resize(1000, 600);
        auto a = chunk("G_L1", { "G" }, 0, 4, 1.0f, 1.0f);
        a.wall_time = { 1000.0, 1001.0, 1003.0, 1010.0 }; // a pause before the last value
        panel.appendChunk(a);
        auto b = chunk("G_L1", { "G" }, 0, 4, 2.0f, 1.0f);
        b.wall_time = { 5000.0, 5002.0, 5004.0, 5006.0 };
        panel.setRunLabel(1, QStringLiteral("other"));
        panel.setRunStyle(1, Qt::DashDotLine);
        panel.appendChunk(b, 1);
        panel.appendChunk(chunk("G_L1", { "G" }, 0, 4, 3.0f, 1.0f), 2); // NectarGAN-like: no timestamps
        panel.show();
        LossChart* g = panel.chart(QStringLiteral("G"));
        QVERIFY(g);
        const charts::SeriesStore* sa = g->store(QStringLiteral("0/G_L1"));
        QCOMPARE(sa->x(3), 3.0); // iterations
        panel.setXMode(ChartPanel::XMode::WallTime);
        sa = g->store(QStringLiteral("0/G_L1"));
        QCOMPARE(sa->size(), std::int64_t(4));
        QCOMPARE(sa->x(3), 1010.0);
        QCOMPARE(g->xKind(), LossChart::XKind::DateTime);
        QCOMPARE(g->pointCount(QStringLiteral("2/G_L1")), 0); // no wall times: not on a time axis
        QVERIFY2(g->xAxis->label().contains(QStringLiteral("without timestamps")), qPrintable(g->xAxis->label()));
        panel.setXMode(ChartPanel::XMode::RunTime);
        // Runs aligned by their own start: both begin at 0 s.
        QCOMPARE(g->store(QStringLiteral("0/G_L1"))->x(0), 0.0);
        QCOMPARE(g->store(QStringLiteral("1/G_L1"))->x(0), 0.0);
        QCOMPARE(g->store(QStringLiteral("1/G_L1"))->x(3), 6.0);
        QCOMPARE(g->xKind(), LossChart::XKind::Duration);
        QVERIFY(panel.hasWallTimes(0) && panel.hasWallTimes(1) && !panel.hasWallTimes(2));
        // Same loss, same colour in every run; the run's own line style.
        QCOMPARE(g->graph(1)->pen().color(), g->graph(4)->pen().color());
        QCOMPARE(g->graph(4)->pen().style(), Qt::DashDotLine);
        panel.setRunVisible(1, false);
        QVERIFY(!g->seriesVisible(QStringLiteral("1/G_L1")));
        QVERIFY(g->seriesVisible(QStringLiteral("0/G_L1")));
        panel.setRunVisible(1, true);
        QVERIFY(g->seriesVisible(QStringLiteral("1/G_L1")));
        panel.replotAll();
        QVERIFY(panel.grab().save(outDir() + QStringLiteral("/charts_time_since_start.png")));
    }

    // #12: log x keeps every spike too (decimation by octaves) and starts at the first positive x.
    void logXKeepsSpikes()
    {
        LossChart chart(QStringLiteral("G"));
        chart.resize(900, 500);
        chart.setSmoothing(0.0);
        chart.addSeries(QStringLiteral("a"), QStringLiteral("a"), Qt::blue);
        constexpr int kN = 200000;
        std::vector<double> x(kN), y(kN, 1.0);
        for (int i = 0; i < kN; ++i)
            x[i] = i;
        for (int spike : { 3, 170, 9000, 123457 })
            y[spike] = 50.0 + spike % 7;
        chart.appendPoints(QStringLiteral("a"), x, y);
        chart.setLogX(true);
        chart.replotNow();
        QCOMPARE(chart.xAxis->scaleType(), QCPAxis::stLogarithmic);
        QCOMPARE(chart.xAxis->range().lower, 1.0); // x = 0 cannot be shown on a log axis
        QVERIFY(chart.drawnPointCount(QStringLiteral("a")) < 4 * 2 * 900);
        QVERIFY(chart.drawnPointCount(QStringLiteral("a")) > 100);
        QVector<double> drawn; // smoothing 0: the smoothed line is the raw one
        for (auto it = chart.graph(1)->data()->constBegin(); it != chart.graph(1)->data()->constEnd(); ++it)
            drawn.append(it->value);
        for (int spike : { 3, 170, 9000, 123457 })
            QVERIFY2(drawn.contains(50.0 + spike % 7), qPrintable(QString::number(spike)));
        chart.setLogX(false);
        chart.replotNow();
        QCOMPARE(chart.xAxis->scaleType(), QCPAxis::stLinear);
    }

    // #12: live objective edits become vertical markers on the loss's charts and the weights chart; hover
    // gives the change; they follow the x axis mode.
    void editsAreMarkers()
    {
        ChartPanel panel;
        panel.resize(1000, 600);
        panel.setShowWeights(true);
        auto g = chunk("G_L1", { "G" }, 0, 10, 1.0f, 100.0f);
        for (int i = 0; i < 10; ++i)
            g.wall_time.push_back(2000.0 + 2 * i);
        panel.appendChunk(g);
        panel.appendChunk(chunk("D_real", { "D" }, 0, 10, 0.5f, 1.0f));
        nectar::LossEdit e;
        e.iteration = 6;
        e.epoch = 1;
        e.wall_time = 2011.0;
        e.loss = "G_L1";
        e.field = "weight";
        e.old_value = "100";
        e.new_value = "50";
        panel.addEdit(e);
        panel.show();
        panel.replotAll();
        LossChart* gc = panel.chart(QStringLiteral("G"));
        LossChart* dc = panel.chart(QStringLiteral("D"));
        LossChart* wc = panel.chart(ChartPanel::weightsTitle());
        QVERIFY(gc && dc && wc);
        QCOMPARE(gc->markers().size(), std::size_t(1));
        QCOMPARE(wc->markers().size(), std::size_t(1));
        QCOMPARE(dc->markers().size(), std::size_t(0)); // D_real was not edited
        QCOMPARE(gc->markers()[0].x, 6.0);
        const QString tip = gc->markerTextAt(gc->xAxis->coordToPixel(6.0) + 2);
        QVERIFY2(tip.contains(QStringLiteral("G_L1")) && tip.contains(QStringLiteral("100 → 50")), qPrintable(tip));
        QVERIFY(gc->markerTextAt(gc->xAxis->coordToPixel(2.0)).isEmpty());
        panel.setXMode(ChartPanel::XMode::RunTime);
        QCOMPARE(gc->markers()[0].x, 11.0); // seconds after the first value
        panel.setXMode(ChartPanel::XMode::Iterations);
        QVERIFY(panel.grab().save(outDir() + QStringLiteral("/charts_edit_marker.png")));
        panel.clear();
        QVERIFY(panel.edits().empty());
    }

    // #12: the centred running average and the min/max band, next to the EMA.
    void averageAndBandViews()
    {
        LossChart chart(QStringLiteral("G"));
        chart.resize(900, 500);
        chart.addSeries(QStringLiteral("a"), QStringLiteral("a"), Qt::blue);
        std::vector<double> x, y;
        for (int i = 0; i < 60; ++i) {
            x.push_back(i);
            y.push_back(i % 2 ? 2.0 : 0.0);
        }
        y[30] = 40.0;
        chart.appendPoints(QStringLiteral("a"), x, y);
        chart.setSmoothing(0.75); // window 4: [i - 2, i + 3)
        QCOMPARE(LossChart::windowFor(0.75), std::int64_t(4));
        chart.setSmoothingKind(LossChart::SmoothingKind::Average);
        chart.replotNow();
        QCOMPARE(chart.drawnPointCount(QStringLiteral("a")), 60); // one column per sample here
        for (auto it = chart.graph(1)->data()->constBegin(); it != chart.graph(1)->data()->constEnd(); ++it) {
            const int i = static_cast<int>(it->key);
            double sum = 0;
            int n = 0;
            for (int j = std::max(0, i - 2); j < std::min(60, i + 3); ++j, ++n)
                sum += y[j];
            QCOMPARE(it->value, sum / n); // centred: no lag, unlike the EMA
        }
        QCOMPARE(chart.bandPointCount(QStringLiteral("a")), 0);
        QVERIFY(chart.graph(0)->visible()); // the faint raw line stays behind the average
        chart.setSmoothingKind(LossChart::SmoothingKind::Band);
        chart.replotNow();
        QCOMPARE(chart.bandPointCount(QStringLiteral("a")), 60);
        QVERIFY(!chart.graph(0)->visible()); // the band replaces the raw line
        double top = 0;
        for (auto it = chart.graph(4)->data()->constBegin(); it != chart.graph(4)->data()->constEnd(); ++it)
            top = std::max(top, it->value);
        QCOMPARE(top, 40.0); // the spike stays visible in the band
        QVERIFY(chart.savePng(outDir() + QStringLiteral("/chart_band.png"), 900, 500));
        chart.setSmoothingKind(LossChart::SmoothingKind::Ema);
        chart.replotNow();
        QCOMPARE(chart.bandPointCount(QStringLiteral("a")), 0);
        QVERIFY(chart.graph(0)->visible());
    }

    // #12: the planned weights (schedules evaluated per epoch) are drawn dashed in the weights chart, and a
    // live weight edit replaces the rest of the plan.
    void plannedWeightsAheadOfApplied()
    {
        ChartPanel panel;
        panel.resize(900, 500);
        panel.setEpochMapping(4, 1);
        panel.appendChunk(chunk("G_SOBEL", { "G" }, 0, 3, 1.0f, 0.0f));
        panel.setPlannedWeights(QStringLiteral("G_SOBEL"), 0, 4, { 0.0, 5.0, 10.0 }); // 3 epochs of 4 iterations
        panel.setShowWeights(true);
        LossChart* w = panel.chart(ChartPanel::weightsTitle());
        QVERIFY(w);
        const charts::SeriesStore* plan = w->store(ChartPanel::planKey(QStringLiteral("G_SOBEL")));
        QVERIFY(plan);
        QCOMPARE(plan->size(), std::int64_t(6)); // a staircase: two points per epoch
        QCOMPARE(plan->x(2), 4.0);
        QCOMPARE(static_cast<double>(plan->value(2)), 5.0);
        QCOMPARE(plan->x(5), 11.0);
        QCOMPARE(static_cast<double>(plan->value(5)), 10.0);
        QCOMPARE(w->graph(4)->pen().style(), Qt::DashLine);
        nectar::LossEdit e;
        e.iteration = 6;
        e.loss = "G_SOBEL";
        e.field = "weight";
        e.old_value = "5";
        e.new_value = "2";
        panel.addEdit(e);
        plan = w->store(ChartPanel::planKey(QStringLiteral("G_SOBEL")));
        QCOMPARE(plan->size(), std::int64_t(6)); // epoch 1, epoch 2 up to iteration 5, then 2 to the end
        QCOMPARE(plan->x(4), 6.0);
        QCOMPARE(static_cast<double>(plan->value(5)), 2.0);
        QCOMPARE(plan->x(5), 11.0);
        panel.setXMode(ChartPanel::XMode::Epochs);
        plan = w->store(ChartPanel::planKey(QStringLiteral("G_SOBEL")));
        QCOMPARE(plan->x(5), 3.0); // epoch axis: iteration 11 of 4 per epoch ends epoch 3
        panel.setXMode(ChartPanel::XMode::WallTime);
        QCOMPARE(w->store(ChartPanel::planKey(QStringLiteral("G_SOBEL")))->size(), std::int64_t(0));
    }

    void iterationTicksAreIntegers()
    {
        LossChart chart(QStringLiteral("G"));
        chart.resize(800, 400);
        chart.addSeries(QStringLiteral("a"), QStringLiteral("a"), Qt::blue);
        chart.appendPoints(QStringLiteral("a"), { 0, 1, 2, 3 }, { 1, 2, 3, 4 });
        chart.setIntegerX(true);
        chart.replotNow();
        const QVector<double> ticks = chart.xAxis->tickVector();
        QVERIFY(ticks.size() >= 2);
        for (double t : ticks)
            QCOMPARE(t, std::round(t)); // was 0, 0.5, 1, ... on a 4-iteration run
        chart.setIntegerX(false);
        chart.replotNow();
        bool fractional = false;
        for (double t : chart.xAxis->tickVector())
            fractional = fractional || t != std::round(t);
        QVERIFY(fractional); // epochs keep fractional ticks
    }

    void legendGreysLossesWithoutValues()
    {
        LossChart chart(QStringLiteral("G"));
        chart.addSeries(QStringLiteral("0/G_L1"), QStringLiteral("G_L1"), Qt::blue);
        chart.addSeries(QStringLiteral("0/G_SOBEL"), QStringLiteral("G_SOBEL"), Qt::green);
        chart.appendPoints(QStringLiteral("0/G_L1"), { 0, 1 }, { 1, 2 });
        chart.replotNow();
        QCOMPARE(chart.graph(1)->name(), QStringLiteral("G_L1"));
        QCOMPARE(chart.graph(4)->name(), QStringLiteral("G_SOBEL (no values)"));
        QCOMPARE(chart.legend->itemWithPlottable(chart.graph(4))->textColor(), QColor(Qt::gray));
        QCOMPARE(chart.legend->itemWithPlottable(chart.graph(1))->textColor(), QColor(Qt::black));
        // The legend is below the plot, not inside it over the data.
        QVERIFY(!chart.axisRect()->rect().intersects(chart.legend->outerRect()));
        chart.appendPoints(QStringLiteral("0/G_SOBEL"), { 0 }, { 3 });
        chart.replotNow();
        QCOMPARE(chart.graph(4)->name(), QStringLiteral("G_SOBEL"));
        QCOMPARE(chart.legend->itemWithPlottable(chart.graph(4))->textColor(), QColor(Qt::black));
    }

    void drawnLinesKeepSpikesAtEveryZoom()
    {
        // A single spike among 10^6 samples reaches the drawn points whatever the zoom, including zooms
        // set by the user (QCustomPlot's own replot re-decimates through beforeReplot).
        LossChart chart(QStringLiteral("G"));
        chart.resize(900, 500);
        chart.show();
        chart.addSeries(QStringLiteral("a"), QStringLiteral("a"), Qt::blue);
        chart.setSmoothing(0.0);
        constexpr int n = 1000000, spikeAt = 345678;
        std::vector<double> x(n), y(n);
        for (int i = 0; i < n; ++i) {
            x[static_cast<std::size_t>(i)] = i;
            y[static_cast<std::size_t>(i)] = 1.0 + 0.01 * ((i * 7) % 13);
        }
        y[spikeAt] = 40.0;
        chart.appendPoints(QStringLiteral("a"), x, y);
        chart.replotNow();
        auto drawnMax = [&chart] {
            double m = -1;
            for (auto it = chart.graph(1)->data()->constBegin(); it != chart.graph(1)->data()->constEnd(); ++it)
                m = std::max(m, it->value);
            return m;
        };
        QCOMPARE(drawnMax(), 40.0);
        for (double width = n; width >= 20; width /= 3) {
            chart.setAutoRange(false);
            chart.xAxis->setRange(spikeAt - width * 0.3, spikeAt + width * 0.7);
            chart.replot(); // QCustomPlot's own path, as after a drag
            QVERIFY2(drawnMax() == 40.0, qPrintable(QString::number(width)));
            QVERIFY(chart.graph(1)->dataCount() <= 4 * chart.axisRect()->width() + 8);
        }
        // Away from the spike it is not drawn (decimation is by the visible range, not a global sample).
        chart.xAxis->setRange(0, 1000);
        chart.replot();
        QVERIFY(drawnMax() < 2.0);
    }

    void tooltipSaysWhenAColumnAggregates()
    {
        LossChart chart(QStringLiteral("G"));
        chart.resize(600, 400);
        chart.show();
        QVERIFY(QTest::qWaitForWindowExposed(&chart));
        chart.addSeries(QStringLiteral("a"), QStringLiteral("G_L1"), Qt::blue);
        chart.setSmoothing(0.0);
        std::vector<double> x, y;
        for (int i = 0; i < 100000; ++i) {
            x.push_back(i);
            y.push_back(i % 2 ? 3.0 : 1.0);
        }
        chart.appendPoints(QStringLiteral("a"), x, y);
        chart.replotNow();
        const QPoint at(
            static_cast<int>(chart.xAxis->coordToPixel(50000)), static_cast<int>(chart.yAxis->coordToPixel(2.0)));
        QMouseEvent move(QEvent::MouseMove, at, chart.mapToGlobal(at), Qt::NoButton, Qt::NoButton, Qt::NoModifier);
        QCoreApplication::sendEvent(&chart, &move);
        QString tip = QToolTip::text();
        QVERIFY2(tip.contains(QStringLiteral(" samples")) && tip.contains(QStringLiteral("min 1"))
                && tip.contains(QStringLiteral("max 3")),
            qPrintable(tip));
        // The hover-delay tooltip event keeps the value tooltip instead of the chart's usage text.
        QHelpEvent help(QEvent::ToolTip, at, chart.mapToGlobal(at));
        QCoreApplication::sendEvent(&chart, &help);
        QCOMPARE(QToolTip::text(), tip);
        // Zoomed in to single samples, it names the one sample.
        chart.setAutoRange(false);
        chart.xAxis->setRange(49990, 50010);
        chart.replot();
        const QPoint one(
            static_cast<int>(chart.xAxis->coordToPixel(50001)), static_cast<int>(chart.yAxis->coordToPixel(3.0)));
        QMouseEvent move2(QEvent::MouseMove, one, chart.mapToGlobal(one), Qt::NoButton, Qt::NoButton, Qt::NoModifier);
        QCoreApplication::sendEvent(&chart, &move2);
        tip = QToolTip::text();
        QVERIFY2(!tip.contains(QStringLiteral("samples")) && tip.contains(QStringLiteral("50001")), qPrintable(tip));
    }

    // #12 item 7: each loss's share of its tag's total weighted loss, stacked; one run per stack.
    void shareViewStacksEachLossOfATag()
    {
        auto exact = [](const std::string& name, std::int64_t from, int n, float raw, float weight) {
            nectar::LossSeriesChunk c;
            c.name = name;
            c.tags = { "G" };
            for (int i = 0; i < n; ++i) {
                c.iterations.push_back(from + i);
                c.raw.push_back(raw);
                c.weights.push_back(weight);
            }
            return c;
        };
        ChartPanel panel;
        panel.resize(1000, 600);
        panel.setSmoothing(0.0); // no widening: each column's own samples
        panel.appendChunk(exact("G_GAN", 0, 1000, 1.0f, 1.0f));
        panel.appendChunk(exact("G_L1", 0, 500, 0.03f, 100.0f)); // weighted 3 ...
        panel.appendChunk(exact("G_L1", 500, 500, 0.01f, 100.0f)); // ... then 1 (a live weight edit)
        panel.appendChunk(exact("G_SOBEL", 600, 400, 0.5f, 4.0f)); // weight 0 (not computed) before 600
        panel.appendChunk(exact("G_L1", 0, 1000, 5.0f, 1.0f), 1); // an overlaid run: not in run 0's stack
        panel.setYMode(ChartPanel::YMode::Share);
        panel.setLogScale(true); // does not apply to shares
        panel.show();
        QVERIFY(QTest::qWaitForWindowExposed(&panel));
        panel.replotAll();
        LossChart* g = panel.chart(QStringLiteral("G"));
        QVERIFY(g && g->stackedShare());
        QCOMPARE(g->yAxis->scaleType(), QCPAxis::stLinear);
        QVERIFY2(g->yAxis->label().contains(QStringLiteral("share")), qPrintable(g->yAxis->label()));
        const QStringList stacked { QStringLiteral("0/G_GAN"), QStringLiteral("0/G_L1"), QStringLiteral("0/G_SOBEL") };
        QCOMPARE(g->shareKeys(), stacked);
        struct Span {
            double from, until; // x range (columns within 10 of either end are skipped: they straddle it)
            std::vector<double> share; // per stacked key, %
        };
        auto check = [&](const std::vector<Span>& spans) {
            const auto& sc = g->shareColumns();
            QVERIFY(sc.x.size() > 100 && sc.x.size() <= static_cast<std::size_t>(g->axisRect()->width()));
            int checked = 0;
            for (std::size_t j = 0; j < sc.x.size(); ++j) {
                for (const Span& span : spans) {
                    if (sc.x[j] < span.from + 10.0 || sc.x[j] > span.until - 10.0)
                        continue;
                    double total = 0.0;
                    for (std::size_t k = 0; k < span.share.size(); ++k) {
                        QVERIFY2(std::abs(sc.share[k][j] - span.share[k]) < 1e-3,
                            qPrintable(QStringLiteral("x %1, %2: share %3, expected %4")
                                           .arg(sc.x[j])
                                           .arg(sc.keys[k])
                                           .arg(sc.share[k][j])
                                           .arg(span.share[k])));
                        total += sc.share[k][j];
                    }
                    QVERIFY(std::abs(total - 100.0) < 1e-3);
                    ++checked;
                }
            }
            QVERIFY2(checked > 100, qPrintable(QString::number(checked)));
        };
        // GAN 1 : L1 3, then 1 : 1, then 1 : 1 : SOBEL 2.
        QCOMPARE(g->shareColumns().keys, stacked);
        check({ { 0, 500, { 25, 75, 0 } }, { 500, 600, { 50, 50, 0 } }, { 600, 1000, { 25, 25, 50 } } });
        // The top of the stack is 100 % everywhere; the overlaid run draws nothing in the share view.
        const QCPGraph* top = g->graph(7); // G_SOBEL's line (raw, line, marks per series)
        QVERIFY(top->dataCount() > 100);
        for (auto it = top->data()->constBegin(); it != top->data()->constEnd(); ++it)
            QVERIFY2(std::abs(it->value - 100.0) < 1e-3, qPrintable(QString::number(it->key)));
        QVERIFY(top->channelFillGraph() == g->graph(4) && g->graph(4)->channelFillGraph() == g->graph(1));
        QCOMPARE(g->drawnPointCount(QStringLiteral("1/G_L1")), 0);
        // The tooltip lists each loss's share at the pointer.
        const QPoint at(static_cast<int>(g->xAxis->coordToPixel(250)), static_cast<int>(g->yAxis->coordToPixel(50)));
        QMouseEvent move(QEvent::MouseMove, at, g->mapToGlobal(at), Qt::NoButton, Qt::NoButton, Qt::NoModifier);
        QCoreApplication::sendEvent(g, &move);
        QVERIFY2(QToolTip::text().contains(QStringLiteral("G_L1: 75.0 %")), qPrintable(QToolTip::text()));
        QVERIFY(panel.grab().save(outDir() + QStringLiteral("/charts_share.png")));
        // A loss hidden from the legend leaves the stack and the total.
        g->setSeriesVisible(QStringLiteral("0/G_SOBEL"), false);
        g->replotNow();
        QCOMPARE(g->shareColumns().keys, stacked.mid(0, 2));
        check({ { 0, 500, { 25, 75 } }, { 500, 1000, { 50, 50 } } });
        g->setSeriesVisible(QStringLiteral("0/G_SOBEL"), true);
        // Hiding run 0 stacks the next visible run.
        panel.setRunVisible(0, false);
        QCOMPARE(g->shareKeys(), QStringList { QStringLiteral("1/G_L1") });
        panel.setRunVisible(0, true);
        QCOMPARE(g->shareKeys(), stacked);
        // Back to lines: no fill, weighted values; from raw values the share view stacks weighted ones again.
        panel.setYMode(ChartPanel::YMode::Raw);
        QVERIFY(!g->stackedShare());
        QCOMPARE(g->graph(1)->brush().style(), Qt::NoBrush);
        QCOMPARE(static_cast<double>(g->store(QStringLiteral("0/G_L1"))->value(0)), static_cast<double>(0.03f));
        panel.setYMode(ChartPanel::YMode::Share);
        QCOMPARE(
            static_cast<double>(g->store(QStringLiteral("0/G_L1"))->value(0)), static_cast<double>(0.03f * 100.0f));
    }

    // With fewer samples than columns the share is per sample; a loss counts 0 outside its own x range, and
    // the smoothing window widens each column's mean.
    void shareOfFewSamplesIsPerSample()
    {
        LossChart chart(QStringLiteral("G"));
        chart.resize(800, 400);
        chart.addSeries(QStringLiteral("a"), QStringLiteral("a"), Qt::blue);
        chart.addSeries(QStringLiteral("b"), QStringLiteral("b"), Qt::red);
        chart.appendPoints(QStringLiteral("a"), { 0, 1, 2, 3, 4, 5 }, { 1, 1, 1, 1, 0, 1 });
        chart.appendPoints(QStringLiteral("b"), { 2, 3, 4, 5 }, { 3, 1, 0, 7 });
        chart.setSmoothing(0.0);
        chart.setStackedShare(true);
        chart.replotNow();
        const auto& sc = chart.shareColumns();
        QCOMPARE(sc.x, (std::vector<double> { 0, 1, 2, 3, 4, 5 }));
        const std::vector<double> a { 100, 100, 25, 50, 0, 12.5 }, b { 0, 0, 75, 50, 0, 87.5 };
        for (std::size_t j = 0; j < 6; ++j) {
            if (j == 4) { // total 0: no share (a gap), not a division by zero
                QVERIFY(std::isnan(sc.share[0][j]) && std::isnan(sc.share[1][j]));
                continue;
            }
            QCOMPARE(sc.share[0][j], a[j]);
            QCOMPARE(sc.share[1][j], b[j]);
        }
        chart.setSmoothing(0.75); // window 4: column j averages samples [j - 2, j + 3) of each loss
        chart.replotNow();
        // At x = 3: a's samples 1..5 -> mean (1+1+1+0+1)/5 = 0.8; b's (index 1 = x 3) 0..3 -> (3+1+0+7)/4 = 2.75.
        QCOMPARE(chart.shareColumns().share[0][3], 100.0 * 0.8 / (0.8 + 2.75));
    }
};

QTEST_MAIN(TestLossChart)
#include "tst_losschart.moc"
