// SPDX-License-Identifier: Apache-2.0
// The Testing page: its results model and sort proxy (QAbstractItemModelTester; every metric sorted both
// ways on a fixture test folder whose metrics.json this test writes), the version selector reading another
// test run, a real test run of the checkpoint fixture (tests/common/checkpoint_fixture.h, written by
// make_checkpoint_fixture) on tests/data/tiny through the worker with progress and stop, the inline errors
// (an epoch without checkpoint, a folder with no images), and a screenshot (<artifacts>/testing_page.png).
#include <QAbstractItemModelTester>
#include <QDir>
#include <QFile>
#include <QImage>
#include <QSignalSpy>
#include <QSortFilterProxyModel>
#include <QTableView>
#include <QTemporaryDir>
#include <QtTest>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <vector>

#include <nlohmann/json.hpp>

#include "bridge/enginebridge.h"
#include "bridge/evaluationbridge.h"
#include "gui_experiment_fixture.h"
#include "pages/testingpage.h"
#include "pages/testresultsmodel.h"
#include "toolbox_test_env.h"
#include "widgets/zoomimageview.h"

namespace {
constexpr int kRunTimeoutMs = 120000;
const QString kData = QStringLiteral(NECTAR_TEST_DATA_DIR);

/// One fixture image: its name and the six metrics in engine::metricNames() order (PSNR +inf = null in JSON).
struct FixtureImage {
    QString name;
    std::vector<double> metrics;
};

/// Writes <exp>/test_epoch<epoch>_v<version>/ with a three-panel PNG per image and its metrics.json in the
/// Tester's layout (evaluation/tester.h). Returns the folder.
QString writeTestRun(const QString& exp, int epoch, int version, const std::vector<FixtureImage>& images)
{
    const QString dir = QDir(exp).filePath(QStringLiteral("test_epoch%1_v%2").arg(epoch).arg(version));
    QDir().mkpath(dir);
    const QStringList names = engine::metricNames();
    nlohmann::json list = nlohmann::json::array();
    std::vector<double> sums(names.size(), 0.0);
    int hue = 0;
    for (const FixtureImage& im : images) {
        QImage png(48, 16, QImage::Format_RGB32);
        png.fill(QColor::fromHsv((hue += 70) % 360, 200, 220));
        png.save(QDir(dir).filePath(im.name + QStringLiteral(".png")));
        nlohmann::json e = { { "image", (kData + QStringLiteral("/tiny/test/") + im.name).toStdString() + ".png" },
            { "output", im.name.toStdString() + ".png" } };
        for (int i = 0; i < names.size(); ++i) {
            const double v = im.metrics.at(i);
            e[names.at(i).toStdString()] = std::isinf(v) ? nlohmann::json(nullptr) : nlohmann::json(v);
            sums[i] += std::isinf(v) ? 0.0 : v;
        }
        list.push_back(e);
    }
    nlohmann::json mean = nlohmann::json::object();
    for (int i = 0; i < names.size(); ++i)
        mean[names.at(i).toStdString()] = sums[i] / static_cast<double>(images.size());
    const nlohmann::json doc = { { "experiment", exp.toStdString() }, { "epoch", epoch }, { "version", version },
        { "source", "split" }, { "source_label", "split test of fixture" }, { "split", "test" },
        { "dataroot", (kData + QStringLiteral("/tiny")).toStdString() }, { "input_dir", nullptr }, { "fit", nullptr },
        { "count", images.size() }, { "stopped", false }, { "has_targets", true }, { "images", list },
        { "mean", mean } };
    QFile f(QDir(dir).filePath(QStringLiteral("metrics.json")));
    if (!f.open(QIODevice::WriteOnly))
        return {};
    f.write(QByteArray::fromStdString(doc.dump(2)));
    return dir;
}

const double kInf = std::numeric_limits<double>::infinity();
// l1, mse, psnr_db, ssim, sobel, laplacian: each metric orders the three images differently.
const std::vector<FixtureImage> kRun1 = {
    { QStringLiteral("a"), { 0.10, 0.020, 17.0, 0.50, 0.30, 0.05 } },
    { QStringLiteral("b"), { 0.30, 0.010, kInf, 0.90, 0.10, 0.20 } },
    { QStringLiteral("c"), { 0.20, 0.030, 15.2, 0.70, 0.20, 0.10 } },
};
const std::vector<FixtureImage> kRun2 = {
    { QStringLiteral("d"), { 0.40, 0.050, 13.0, 0.20, 0.40, 0.30 } },
    { QStringLiteral("e"), { 0.05, 0.001, 30.0, 0.95, 0.05, 0.01 } },
};

/// File names of the proxy's rows, top to bottom.
QStringList shownOrder(const QSortFilterProxyModel& proxy)
{
    QStringList out;
    for (int r = 0; r < proxy.rowCount(); ++r)
        out.append(proxy.index(r, 0).data().toString());
    return out;
}

} // namespace

class TestTestingPage : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase() { testenv::isolate(m_scratch); }

    void modelSortsEachMetricBothWays()
    {
        QTemporaryDir tmp;
        const QString run = writeTestRun(QDir(tmp.path()).filePath(QStringLiteral("m_v1")), 1, 1, kRun1);
        QVERIFY(!run.isEmpty());
        TestResultsModel model;
        QSortFilterProxyModel proxy;
        proxy.setSourceModel(&model);
        proxy.setSortRole(TestResultsModel::SortRole);
        QAbstractItemModelTester modelTester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
        QAbstractItemModelTester proxyTester(&proxy, QAbstractItemModelTester::FailureReportingMode::QtTest);
        model.setRun(engine::loadTestRun(run));
        QCOMPARE(model.rowCount(), 3);
        QCOMPARE(model.columnCount(), 1 + static_cast<int>(engine::metricNames().size()));
        const QStringList names = engine::metricNames();
        for (int m = 0; m < names.size(); ++m) {
            // The expected order, from the values this test wrote (ties: none).
            std::vector<FixtureImage> sorted = kRun1;
            std::sort(sorted.begin(), sorted.end(),
                [m](const FixtureImage& x, const FixtureImage& y) { return x.metrics[m] < y.metrics[m]; });
            QStringList ascending;
            for (const auto& im : sorted)
                ascending.append(im.name + QStringLiteral(".png"));
            QStringList descending = ascending;
            std::reverse(descending.begin(), descending.end());
            const int column = model.metricColumn(names.at(m));
            QCOMPARE(column, m + 1);
            proxy.sort(column, Qt::AscendingOrder);
            QCOMPARE(shownOrder(proxy), ascending);
            proxy.sort(column, Qt::DescendingOrder);
            QCOMPARE(shownOrder(proxy), descending);
        }
        // PSNR of identical images is +inf: shown as such and sorted as the largest.
        proxy.sort(model.metricColumn(QStringLiteral("psnr_db")), Qt::DescendingOrder);
        QCOMPARE(proxy.index(0, model.metricColumn(QStringLiteral("psnr_db"))).data().toString(), QStringLiteral("∞"));
        // The thumbnail arrives from the thread pool.
        QVERIFY(!model.index(0, 0).data(Qt::DecorationRole).isValid());
        QTRY_VERIFY_WITH_TIMEOUT(model.hasThumbnail(0), 5000);
        QVERIFY(!model.index(0, 0).data(Qt::DecorationRole).value<QPixmap>().isNull());
    }

    void versionSelectorLoadsTheOtherRun()
    {
        QTemporaryDir tmp;
        const QString exp = QDir(tmp.path()).filePath(QStringLiteral("v_v1"));
        const QString run1 = writeTestRun(exp, 3, 1, kRun1);
        const QString run2 = writeTestRun(exp, 3, 2, kRun2);
        TestingPage page;
        QAbstractItemModelTester proxyTester(page.proxy(), QAbstractItemModelTester::FailureReportingMode::QtTest);
        QSignalSpy scanned(&page, &TestingPage::epochsScanned);
        QSignalSpy loaded(&page, &TestingPage::runLoaded);
        page.setExperiment(exp);
        QVERIFY(scanned.wait(10000));
        QCOMPARE(page.testRuns().size(), 2);
        QCOMPARE(page.testRuns().at(1).version, 2);
        QVERIFY(loaded.count() == 1 || loaded.wait(10000)); // the newest run is shown first
        QCOMPARE(page.model()->rowCount(), 2);
        QCOMPARE(QDir::cleanPath(page.model()->run().dir), QDir::cleanPath(run2));
        page.showTestRun(0);
        QVERIFY(loaded.wait(10000));
        QCOMPARE(QDir::cleanPath(loaded.last().at(0).toString()), QDir::cleanPath(run1));
        QCOMPARE(page.model()->rowCount(), 3);
        page.sortBy(QStringLiteral("ssim"), Qt::DescendingOrder); // b 0.9, c 0.7, a 0.5
        QCOMPARE(shownOrder(*page.proxy()),
            QStringList({ QStringLiteral("b.png"), QStringLiteral("c.png"), QStringLiteral("a.png") }));
        page.selectImage(0);
        QVERIFY2(page.detailsText().contains(QStringLiteral("b.png")), qPrintable(page.detailsText()));
        QVERIFY2(page.detailsText().contains(QStringLiteral("SSIM: 0.9")), qPrintable(page.detailsText()));
        QVERIFY(page.summaryText().contains(QStringLiteral("v1")));
    }

    void realRunWithProgressStopAndErrors()
    {
        QTemporaryDir tmp;
        const QString exp = testenv::fixtureExperiment(tmp);
        QVERIFY(!exp.isEmpty());
        TestingPage page;
        page.resize(1200, 820);
        page.show();
        QSignalSpy scanned(&page, &TestingPage::epochsScanned);
        page.setExperiment(exp);
        QVERIFY(scanned.wait(10000));
        QCOMPARE(page.epochs(), QList<int>({ 2 }));
        QVERIFY(page.testRuns().isEmpty());

        // The tiny set's test split (2 pairs) through the worker.
        QSignalSpy progress(&page, &TestingPage::progress);
        QSignalSpy finished(&page, &TestingPage::runFinished);
        QSignalSpy failed(&page, &TestingPage::runFailed);
        page.setSource(QStringLiteral("split"));
        page.setSplit(QStringLiteral("test"));
        QVERIFY(page.runTest());
        QVERIFY(page.isRunning());
        QVERIFY2(finished.wait(kRunTimeoutMs), qPrintable(page.errorText()));
        QCOMPARE(failed.count(), 0);
        QCOMPARE(finished.last().at(0).toBool(), false);
        QVERIFY(progress.count() >= 1);
        QCOMPARE(progress.last().at(0).toLongLong(), qint64(2));
        QCOMPARE(progress.last().at(1).toLongLong(), qint64(2));
        QCOMPARE(page.model()->rowCount(), 2);
        QCOMPARE(page.model()->columnCount(), 1 + static_cast<int>(engine::metricNames().size()));
        const QString run1 = finished.last().at(1).toString();
        QCOMPARE(QFileInfo(run1).fileName(), QStringLiteral("test_epoch2_v1"));
        QVERIFY(QFileInfo::exists(page.model()->index(0, 0).data(TestResultsModel::FileRole).toString()));
        QTRY_COMPARE_WITH_TIMEOUT(page.testRuns().size(), 1, 10000); // the version selector lists it
        // Metrics shown are the engine's (read back from the run's metrics.json).
        const engine::TestRunData back = engine::loadTestRun(run1);
        const int l1 = page.model()->metricColumn(QStringLiteral("l1"));
        for (int r = 0; r < 2; ++r)
            QCOMPARE(page.model()->index(r, l1).data(TestResultsModel::SortRole).toDouble(), back.images[r].metrics[0]);
        page.sortBy(QStringLiteral("l1"), Qt::AscendingOrder);
        page.selectImage(0);
        QTRY_VERIFY_WITH_TIMEOUT(!page.imageView()->image().isNull(), 5000);
        QCOMPARE(page.imageView()->image().width(), 3 * page.imageView()->image().height()); // input|generated|target
        QVERIFY(page.detailsText().contains(QStringLiteral("L1")));
        page.imageView()->zoomIn();
        QVERIFY(!page.imageView()->fitted());
        page.imageView()->fitToView();
        QTRY_VERIFY_WITH_TIMEOUT(page.model()->hasThumbnail(0) && page.model()->hasThumbnail(1), 5000);
        QVERIFY(testenv::screenshot(&page, QStringLiteral("testing_page")));

        // Stop: asked before the first image is done, the run ends after it (the train split has 8).
        page.setSplit(QStringLiteral("train"));
        QVERIFY(page.runTest());
        page.stop();
        QVERIFY2(finished.wait(kRunTimeoutMs), qPrintable(page.errorText()));
        QCOMPARE(finished.last().at(0).toBool(), true);
        QCOMPARE(page.model()->rowCount(), 1);
        QVERIFY(page.model()->run().stopped);
        QTRY_COMPARE_WITH_TIMEOUT(page.testRuns().size(), 2, 10000);

        // No checkpoint at that epoch: the engine's message, inline, naming the file.
        page.setSplit(QStringLiteral("test"));
        page.setEpoch(7);
        QVERIFY(page.runTest());
        QVERIFY(failed.wait(kRunTimeoutMs));
        QVERIFY2(page.errorText().contains(QStringLiteral("epoch7")), qPrintable(page.errorText()));
        QCOMPARE(page.errorText(), failed.last().at(0).toString());

        // A folder with no images: named.
        const QString empty = QDir(tmp.path()).filePath(QStringLiteral("no-images"));
        QVERIFY(QDir().mkpath(empty));
        page.setEpoch(2);
        page.setSource(QStringLiteral("folder"));
        page.setFolder(empty);
        QVERIFY(page.runTest());
        QVERIFY(failed.wait(kRunTimeoutMs));
        QVERIFY2(page.errorText().contains(QStringLiteral("no-images")), qPrintable(page.errorText()));
        QCOMPARE(QDir(exp).entryList({ QStringLiteral("test_*") }, QDir::Dirs).size(), 2); // failed: no folder
        QCOMPARE(finished.count(), 2);
    }

private:
    QTemporaryDir m_scratch;
};

QTEST_MAIN(TestTestingPage)
#include "tst_testingpage.moc"
