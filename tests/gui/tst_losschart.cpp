// SPDX-License-Identifier: Apache-2.0
// ChartPanel / LossChart: tag grouping, incremental appends, modes, NaN/Inf handling, robust range,
// exports, and a 10^6-point line.
#include <QElapsedTimer>
#include <QFile>
#include <QImage>
#include <QTemporaryDir>
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
        auto last = [c] { return (c->graph(1)->data()->constEnd() - 1); };
        QVERIFY(qFuzzyCompare(last()->value, 20.0)); // iteration 7: raw 2.0 (7 % 7 = 0) x weight 10
        QCOMPARE(last()->key, 7.0);
        panel.setYMode(ChartPanel::YMode::Raw);
        QCOMPARE(c->pointCount(QStringLiteral("0/G_L1")), 8);
        QVERIFY(qFuzzyCompare(last()->value, double(2.0f)));
        panel.setXMode(ChartPanel::XMode::Epochs);
        QCOMPARE(last()->key, 2.0); // iteration 7 of 4 per epoch = end of epoch 2
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
        // Debiased EMA: s1 = 1; s2 = (0.5*0.5 + 0.5*3) / 0.75 = 2.333..; s3 = (0.875 + 2.5)/0.875
        auto it = chart.graph(1)->data()->constBegin();
        QCOMPARE(it->value, 1.0);
        QVERIFY(qFuzzyCompare((it + 1)->value, 1.75 / 0.75));
        QVERIFY(qFuzzyCompare((it + 2)->value, (0.5 * 1.75 + 2.5) / 0.875));
        chart.setSmoothing(0.0); // recomputed from the raw line
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
        QCOMPARE(lines[0], QStringLiteral("run,loss,tags,iteration,epoch,raw,weight,weighted"));
        QCOMPARE(lines[1], QStringLiteral("0,G_L1,G,0,0.5,0.5,100,50"));
        QCOMPARE(lines[2], QStringLiteral("0,G_L1,G,1,1,nan,100,nan"));
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
        QCOMPARE(panel.chart(QStringLiteral("G"))->xAxis->range().upper, double(kTotal - 1));
        panel.grab().save(outDir() + QStringLiteral("/charts_1e6.png"));
    }
};

QTEST_MAIN(TestLossChart)
#include "tst_losschart.moc"
