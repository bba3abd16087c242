// SPDX-License-Identifier: Apache-2.0
// Review page and superseded values (#10, item 4): a run continued from an older checkpoint (or killed between a
// journal append and its checkpoint) keeps the later values in its journal as a superseded segment; the page
// plots only the kept ones, so no epoch past the plan, and shows the others on request.
#include <QCheckBox>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QtTest>

#include <fstream>

#include "charts/chartpanel.h"
#include "pages/reviewpage.h"
#include "toolbox_test_env.h"

class TestReviewPage : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase() { testenv::isolate(m_scratch); }

    void supersededValuesOnRequest()
    {
        QTemporaryDir dir;
        // 2 iterations per epoch, a plan of 2 epochs: epoch 2 logged twice, the first time before the resume.
        std::ofstream(dir.filePath(QStringLiteral("loss_log.journal.jsonl")).toStdString())
            << R"({"header": {"device": "cpu", "dataset_length": 2}})"
            << "\n"
            << R"({"dump": 0, "epoch": 1, "iteration": 2, "losses": {"G_L1": {"loss": [1, 1], "weights": [1, 1]}}})"
            << "\n"
            << R"({"dump": 1, "epoch": 2, "iteration": 4, "losses": {"G_L1": {"loss": [9, 9], "weights": [1, 1]}}})"
            << "\n"
            << R"({"resume": {"epoch": 1, "iteration": 2}})"
            << "\n"
            << R"({"dump": 0, "epoch": 2, "iteration": 4, "losses": {"G_L1": {"loss": [2, 2], "weights": [1, 1]}}})"
            << "\n";
        ReviewPage page;
        QSignalSpy loaded(&page, &ReviewPage::loaded);
        page.openRun(dir.path());
        QVERIFY(loaded.wait(20000));
        ChartPanel* charts = page.charts();
        // Only the kept values (before #10 all 6 were plotted: 3 epochs for a plan of 2).
        QCOMPARE(charts->storedCount(QStringLiteral("G_L1")), qint64(4));
        QCOMPARE(charts->storedCount(QStringLiteral("G_L1"), ReviewPage::kSupersededRun), qint64(0));
        QCOMPARE(page.supersededCount(), std::size_t(2));
        auto* check = page.findChild<QCheckBox*>(QStringLiteral("supersededCheck"));
        QVERIFY(check && check->isEnabled());
        page.setShowSuperseded(true);
        QCOMPARE(charts->storedCount(QStringLiteral("G_L1"), ReviewPage::kSupersededRun), qint64(2));
        page.resize(1100, 700);
        QVERIFY(testenv::screenshot(&page, QStringLiteral("review_superseded")));
        page.setShowSuperseded(false);
        QCOMPARE(charts->storedCount(QStringLiteral("G_L1"), ReviewPage::kSupersededRun), qint64(0));
        QCOMPARE(charts->storedCount(QStringLiteral("G_L1")), qint64(4));
    }

private:
    QTemporaryDir m_scratch;
};

QTEST_MAIN(TestReviewPage)
#include "tst_reviewpage.moc"
