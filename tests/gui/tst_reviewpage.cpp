// SPDX-License-Identifier: Apache-2.0
// Review page and superseded values (#10, item 4): a run continued from an older checkpoint (or killed between a
// journal append and its checkpoint) keeps the later values in its journal as a superseded segment; the page
// plots only the kept ones, so no epoch past the plan, and shows the others on request.
#include <QCheckBox>
#include <QDateTime>
#include <QDialog>
#include <QPushButton>
#include <QSignalSpy>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QTreeWidget>
#include <QtTest>

#include <fstream>

#include "charts/chartpanel.h"
#include "charts/losschart.h"
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

    // #12: three runs overlaid (run table: spec, start, iterations, final loss per tag, line style,
    // show/hide), two diffed (Compare), and a run's recorded live edit drawn as a marker.
    void threeRunsOverlaidAndCompared()
    {
        QTemporaryDir root;
        const auto makeRun = [&](const QString& name, double g_l1_weight, int batch, double t0, bool edit) {
            const QString dir = root.filePath(name);
            QDir().mkpath(dir);
            std::ofstream(QDir(dir).filePath(QStringLiteral("train1_config.json")).toStdString())
                << R"({"config": {"dataloader": {"batch_size": )" << batch << "}}}\n";
            std::ofstream(QDir(dir).filePath(QStringLiteral("train1_objective.json")).toStdString())
                << R"({"format": "nectar-preset", "version": 1, "spec": "pix2pix", "subspec": "basic", "losses": {)"
                << R"("G_GAN": {"weight": 1, "tags": ["G"]}, "G_L1": {"weight": )" << g_l1_weight
                << R"(, "tags": ["G"]}, "D_real": {"weight": 0.5, "tags": ["D"]}, "D_fake": {"weight": 0.5, "tags": ["D"]}}})"
                << "\n";
            std::ofstream j(QDir(dir).filePath(QStringLiteral("loss_log.journal.jsonl")).toStdString());
            j << R"({"header": {"device": "cpu", "dataset_length": 4}})"
              << "\n";
            const double w = g_l1_weight;
            const double raw = 2.0 / w; // weighted G_L1 = 2
            for (int d = 0; d < 2; ++d) {
                auto times = [&] {
                    std::string out;
                    for (int i = 0; i < 3; ++i)
                        out += (i ? "," : "") + std::to_string(t0 + 3 * d + i);
                    return "[" + out + "]";
                }();
                j << R"({"dump": )" << d << R"(, "epoch": )" << d + 1 << R"(, "iteration": )" << 3 * (d + 1)
                  << R"(, "losses": {"G_GAN": {"loss": [1, 1, 1], "weights": [1, 1, 1], "raw_loss": [1, 1, 1], "wall_time": )"
                  << times << R"(}, "G_L1": {"loss": [2, 2, 2], "weights": [)" << w << "," << w << "," << w
                  << R"(], "raw_loss": [)" << raw << "," << raw << "," << raw << R"(], "wall_time": )" << times
                  << R"(}, "D_real": {"loss": [0.5, 0.5, 0.5], "weights": [0.5, 0.5, 0.5], "wall_time": )" << times
                  << R"(}, "D_fake": {"loss": [0.25, 0.25, 0.25], "weights": [0.5, 0.5, 0.5], "wall_time": )" << times
                  << "}}}\n";
                if (edit && d == 0)
                    j << R"({"edit": {"iteration": 3, "epoch": 2, "wall_time": )" << t0 + 3
                      << R"(, "loss": "G_L1", "field": "weight", "old": "100", "new": "80"}})"
                      << "\n";
            }
            return dir;
        };
        const QString a = makeRun(QStringLiteral("a_v1"), 100, 2, 1764700000.0, true);
        const QString b = makeRun(QStringLiteral("b_v1"), 50, 4, 1764800000.0, false);
        const QString c = makeRun(QStringLiteral("c_v1"), 100, 2, 1764900000.0, false);
        ReviewPage page;
        page.resize(1400, 900);
        page.show();
        QSignalSpy loaded(&page, &ReviewPage::loaded);
        page.openRun(a);
        QVERIFY(loaded.wait(20000));
        page.openRun(b, -1);
        QVERIFY(loaded.wait(20000));
        page.openRun(c, -1);
        QVERIFY(loaded.wait(20000));
        QCOMPARE(page.runs(), (QList<int> { 0, 1, 2 }));
        const QStringList rowA = page.runRow(0);
        QCOMPARE(rowA.value(0), QStringLiteral("a_v1"));
        QCOMPARE(rowA.value(1), QStringLiteral("pix2pix / basic"));
        QVERIFY2(
            rowA.value(2) != QStringLiteral("(no timestamps)") && !rowA.value(2).isEmpty(), qPrintable(rowA.value(2)));
        QCOMPARE(rowA.value(3), QStringLiteral("6"));
        QCOMPARE(rowA.value(4), QStringLiteral("D 0.75 · G 3"));
        QCOMPARE(rowA.value(5), QStringLiteral("solid"));
        QCOMPARE(page.runRow(1).value(5), QStringLiteral("dashed"));
        QCOMPARE(page.runRow(2).value(5), QStringLiteral("dash-dot"));
        ChartPanel* charts = page.charts();
        LossChart* g = charts->chart(QStringLiteral("G"));
        QVERIFY(g);
        QCOMPARE(g->seriesKeys().size(), 6); // 2 G losses x 3 runs
        for (int run : { 0, 1, 2 })
            QCOMPARE(charts->pointCount(QStringLiteral("G"), QStringLiteral("G_L1"), run), 6);
        // Aligned by time since start: every run starts at 0 s.
        charts->setXMode(ChartPanel::XMode::RunTime);
        for (int run : { 0, 1, 2 })
            QCOMPARE(g->store(QString::number(run) + QStringLiteral("/G_L1"))->x(0), 0.0);
        charts->setXMode(ChartPanel::XMode::Iterations);
        // Run a's recorded edit is a marker on G and on the weights chart once shown.
        QCOMPARE(g->markers().size(), std::size_t(1));
        QCOMPARE(charts->chart(QStringLiteral("D"))->markers().size(), std::size_t(0));
        // The table's checkbox hides a run.
        auto* table = page.findChild<QTableWidget*>(QStringLiteral("runTable"));
        QVERIFY(table && table->isVisible());
        table->item(1, 0)->setCheckState(Qt::Unchecked);
        QVERIFY(!g->seriesVisible(QStringLiteral("1/G_L1")));
        table->item(1, 0)->setCheckState(Qt::Checked);
        QVERIFY(g->seriesVisible(QStringLiteral("1/G_L1")));
        // Compare a and b: the loss that differs, then the setting.
        QStringList diff;
        for (const auto& r : page.compareRuns(0, 1))
            diff.append(r.loss + QLatin1Char('|') + r.field + QLatin1Char('|') + r.a + QLatin1Char('|') + r.b);
        QCOMPARE(diff,
            QStringList(
                { QStringLiteral("G_L1|weight|100|50"), QStringLiteral("|/config/dataloader/batch_size|2|4") }));
        QVERIFY(page.compareRuns(0, 2).isEmpty()); // same objective and settings
        charts->replotAll();
        QVERIFY(testenv::screenshot(&page, QStringLiteral("review_three_runs")));
        table->selectRow(0);
        table->selectionModel()->select(
            table->model()->index(1, 0), QItemSelectionModel::Select | QItemSelectionModel::Rows);
        auto* compare = page.findChild<QPushButton*>(QStringLiteral("compareButton"));
        QVERIFY(compare && compare->isEnabled());
        compare->click();
        auto* dialog = page.findChild<QDialog*>(QStringLiteral("compareDialog"));
        QVERIFY(dialog);
        auto* tree = dialog->findChild<QTreeWidget*>(QStringLiteral("compareTree"));
        QVERIFY(tree);
        QCOMPARE(tree->topLevelItemCount(), 2);
        QCOMPARE(tree->topLevelItem(0)->text(0), QStringLiteral("G_L1"));
        QCOMPARE(tree->headerItem()->text(2), QStringLiteral("a_v1"));
        QVERIFY(testenv::screenshot(dialog, QStringLiteral("review_compare")));
        dialog->close();
        // Remove the middle run: its lines and its row go.
        page.removeRun(1);
        QCOMPARE(page.runs(), (QList<int> { 0, 2 }));
        QCOMPARE(g->seriesKeys().size(), 4);
    }

    // #12: Follow reads a journal that grows after the run was opened (only the new lines), tolerates a torn
    // last line, shows every value once and says how old the newest value is.
    void followAppendsOnlyNewLines()
    {
        QTemporaryDir dir;
        const std::string journal = dir.filePath(QStringLiteral("loss_log.journal.jsonl")).toStdString();
        auto dump = [](int d, double t) {
            return std::string(R"({"dump": )") + std::to_string(d)
                + R"(, "losses": {"G_L1": {"loss": [1, 2], "weights": [1, 1], "wall_time": [)" + std::to_string(t) + ","
                + std::to_string(t) + "]}}}\n";
        };
        const double now = QDateTime::currentMSecsSinceEpoch() / 1000.0;
        std::ofstream(journal) << dump(0, now - 30);
        ReviewPage page;
        page.resize(1100, 700);
        page.show();
        QSignalSpy loaded(&page, &ReviewPage::loaded);
        page.openRun(dir.path());
        QVERIFY(loaded.wait(20000));
        page.setFollowing(true, 50);
        QVERIFY(page.following());
        QTRY_COMPARE_WITH_TIMEOUT(page.followedValues(), qint64(2), 5000);
        QCOMPARE(page.charts()->storedCount(QStringLiteral("G_L1")), qint64(2)); // the follow replaced the load
        QTRY_VERIFY2_WITH_TIMEOUT(
            page.followBadge().contains(QStringLiteral("s ago")), qPrintable(page.followBadge()), 3000);
        std::ofstream(journal, std::ios::app) << dump(1, now - 1) << R"({"dump": 2, "losses": {"G_L1": {"loss": [3)";
        QTRY_COMPARE_WITH_TIMEOUT(page.followedValues(), qint64(4), 5000);
        QTest::qWait(200);
        QCOMPARE(page.followedValues(), qint64(4)); // the torn tail is held back
        std::ofstream(journal, std::ios::app) << "]\n" << dump(3, now); // completed as garbage: skipped, then more
        QTRY_COMPARE_WITH_TIMEOUT(page.followedValues(), qint64(6), 5000);
        QCOMPARE(page.charts()->storedCount(QStringLiteral("G_L1")), qint64(6));
        page.setFollowing(false);
        QVERIFY(page.followBadge().isEmpty());
    }

private:
    QTemporaryDir m_scratch;
};

QTEST_MAIN(TestReviewPage)
#include "tst_reviewpage.moc"
