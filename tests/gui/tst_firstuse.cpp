// SPDX-License-Identifier: Apache-2.0
// What a new user meets first (issue 11): the fresh profile's quick defaults and the time to the first chart
// value, the empty pages' hints, Start/Pause/Stop shown once, the wheel over unfocused fields, the Open-run
// folder, loading a NectarGAN config over an edited table, and the last session restored at the next start.
#include <QAction>
#include <QElapsedTimer>
#include <QFile>
#include <QPushButton>
#include <QScrollArea>
#include <QScrollBar>
#include <QSignalSpy>
#include <QSpinBox>
#include <QThread>
#include <QToolBar>
#include <QtTest>

#include "bridge/enginebridge.h"
#include "charts/chartpanel.h"
#include "mainwindow.h"
#include "objective/losstablemodel.h"
#include "pages/objectivepage.h"
#include "pages/reviewpage.h"
#include "pages/settingsform.h"
#include "pages/trainingpage.h"
#include "session/trainingsession.h"
#include "toolbox_test_env.h"

namespace {

constexpr int kRunTimeoutMs = 180000;

LossTableModel* table(MainWindow& w)
{
    return w.objectivePage()->model();
}

bool setWeight(MainWindow& w, const QString& loss, const QString& value)
{
    LossTableModel* m = table(w);
    return m->setData(m->index(m->rowOf(loss), LossTableModel::WeightColumn), value);
}

double weight(MainWindow& w, const QString& loss)
{
    LossTableModel* m = table(w);
    const int row = m->rowOf(loss);
    return row < 0 ? std::nan("") : m->rows()[static_cast<std::size_t>(row)].weight;
}

/// A wheel notch (up) over the middle of `target`, as the window system delivers it.
void wheelUp(QWidget* target)
{
    const QPointF pos(target->width() / 2.0, target->height() / 2.0);
    QWheelEvent ev(pos, target->mapToGlobal(pos), QPoint(), QPoint(0, 120), Qt::NoButton, Qt::NoModifier,
        Qt::NoScrollPhase, false);
    QApplication::sendEvent(target, &ev);
}

} // namespace

class TestFirstUse : public QObject {
    Q_OBJECT
private:
    QTemporaryDir m_scratch;
    QString m_sampleRun; // the run sampleDatasetShowsCurvesWithinSeconds trained

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_scratch.isValid());
        testenv::isolate(m_scratch);
    }

    void init() { QFile::remove(MainWindow::sessionFile()); }

    void freshProfileStartsSmallWithFullSizeOneClickAway()
    {
        MainWindow w;
        const nectar::Config c = w.objectivePage()->config();
        // nectar-train's built-in settings, not NectarGAN's 256 px / 64 features / 100 + 100 epochs.
        QCOMPARE(c.dataloader.load.load_size, 143);
        QCOMPARE(c.dataloader.load.crop_size, 128);
        QCOMPARE(c.train.generator.features, 32);
        QCOMPARE(c.train.generator.n_downs, 5);
        QCOMPARE(c.train.discriminator.base_channels, 32);
        QCOMPARE(c.train.generator.learning_rate.epochs, 3);
        QCOMPARE(c.train.discriminator.learning_rate.epochs_decay, 2);
        QCOMPARE(c.train.update_rate, 5);
        QCOMPARE(QString::fromStdString(c.dataloader.dataroot), engine::sampleDatasetDirectory());

        auto* full = w.findChild<QAction*>(QStringLiteral("actionFullSizeDefaults"));
        QVERIFY(full);
        QVERIFY(full->text().contains(QStringLiteral("NectarGAN full size")));
        // The choice keeps where the data and runs are.
        nectar::Config where = c;
        where.common.output_directory = m_scratch.filePath(QStringLiteral("elsewhere")).toStdString();
        where.common.experiment_name = "mine";
        w.objectivePage()->settings()->setConfig(where);
        full->trigger();
        const nectar::Config f = w.objectivePage()->config();
        QCOMPARE(f.dataloader.load.load_size, 286);
        QCOMPARE(f.dataloader.load.crop_size, 256);
        QCOMPARE(f.train.generator.features, 64);
        QCOMPARE(f.train.generator.n_downs, 6);
        QCOMPARE(f.train.generator.learning_rate.epochs, 100);
        QCOMPARE(f.train.update_rate, 50);
        QCOMPARE(f.dataloader.dataroot, c.dataloader.dataroot);
        QCOMPARE(f.common.output_directory, where.common.output_directory);
        QCOMPARE(f.common.experiment_name, std::string("mine"));
        w.findChild<QAction*>(QStringLiteral("actionQuickDefaults"))->trigger();
        QCOMPARE(w.objectivePage()->config().dataloader.load.crop_size, 128);
        QCOMPARE(w.objectivePage()->config().train.generator.features, 32);
    }

    void emptyPagesShowHints()
    {
        MainWindow w;
        w.resize(1280, 860);
        w.show();
        QVERIFY(QTest::qWaitForWindowExposed(&w));
        QVERIFY2(
            w.trainingPage()->emptyHint().contains(QStringLiteral("F5")), qPrintable(w.trainingPage()->emptyHint()));
        QVERIFY(w.reviewPage()->emptyHint().contains(QStringLiteral("Ctrl+R")));
        w.showPage(1);
        QVERIFY(!w.trainingPage()->charts()->isVisible()); // not an empty grey box
        QVERIFY(testenv::screenshot(&w, QStringLiteral("page_training_empty")));
        w.showPage(2);
        QVERIFY(!w.reviewPage()->charts()->isVisible());
        QVERIFY(testenv::screenshot(&w, QStringLiteral("page_review_empty")));
        w.showPage(0);
        QVERIFY(testenv::screenshot(&w, QStringLiteral("page_objective_settings_1280x860")));
    }

    void startPauseStopShownOnce()
    {
        MainWindow w;
        // The page has no buttons of its own; the window's actions (toolbar, Training menu) keep the keys.
        for (const char* name : { "startButton", "pauseButton", "stopButton" })
            QVERIFY2(!w.trainingPage()->findChild<QPushButton*>(QString::fromLatin1(name)), name);
        for (QAbstractButton* b : w.trainingPage()->findChildren<QAbstractButton*>())
            QVERIFY2(!b->text().contains(QStringLiteral("Start")) && !b->text().contains(QStringLiteral("Pause")),
                qPrintable(b->text()));
        const QList<QToolBar*> bars = w.findChildren<QToolBar*>();
        QCOMPARE(bars.size(), 1);
        const QList<QAction*> onBar = bars.first()->actions();
        const QList<std::pair<const char*, QKeySequence>> keys { { "actionStart", QKeySequence(Qt::Key_F5) },
            { "actionPause", QKeySequence(Qt::Key_F6) }, { "actionStop", QKeySequence(Qt::SHIFT | Qt::Key_F5) } };
        for (const auto& [name, key] : keys) {
            auto* a = w.findChild<QAction*>(QString::fromLatin1(name));
            QVERIFY2(a && onBar.contains(a), name);
            QCOMPARE(a->shortcut(), key);
        }
    }

    void sampleDatasetShowsCurvesWithinSeconds()
    {
        // Item 1's measure: F5 on a fresh profile (quick defaults, bundled sample) to the first chart value.
        MainWindow w;
        w.resize(1280, 860);
        w.show();
        nectar::Config c = w.objectivePage()->config();
        c.common.output_directory = m_scratch.filePath(QStringLiteral("sample-runs")).toStdString();
        w.objectivePage()->settings()->setConfig(c);
        QSignalSpy progress(w.session(), &TrainingSession::progress);
        QElapsedTimer timer;
        timer.start();
        QVERIFY(w.findChild<QAction*>(QStringLiteral("actionStart"))->isEnabled());
        w.findChild<QAction*>(QStringLiteral("actionStart"))->trigger(); // what F5 does
        QVERIFY(w.session()->isActive());
        QVERIFY(w.trainingPage()->emptyHint().isEmpty()); // hidden at start
        ChartPanel* charts = w.trainingPage()->charts();
        QTRY_VERIFY_WITH_TIMEOUT(charts->pointCount(QStringLiteral("G"), QStringLiteral("G_L1")) >= 1, kRunTimeoutMs);
        const qint64 ms = timer.elapsed();
        qInfo("F5 to the first chart value (sample dataset, quick defaults, %d threads): %lld ms",
            QThread::idealThreadCount(), static_cast<long long>(ms));
        // The first report comes after the first iteration, not after update_rate (5) of them.
        QVERIFY(!progress.isEmpty());
        const auto first = progress.first().first().value<nectar::ProgressReport>();
        QCOMPARE(first.global_iteration, std::int64_t(1));
        QSignalSpy finished(w.session(), &TrainingSession::finished);
        w.session()->stop();
        QVERIFY(finished.wait(kRunTimeoutMs) || finished.count() == 1);
        m_sampleRun = finished.first().at(1).toString();
        QVERIFY(QFileInfo(m_sampleRun).isDir());
    }

    void openRunStartsInTheRunsFolder()
    {
        MainWindow w;
        const QString runs = m_scratch.filePath(QStringLiteral("my-runs"));
        QVERIFY(QDir().mkpath(runs));
        nectar::Config c = w.objectivePage()->config();
        c.common.output_directory = runs.toStdString();
        w.objectivePage()->settings()->setConfig(c);
        QCOMPARE(w.runsFolder(), runs);
        QCOMPARE(w.reviewPage()->browseStartFolder(), runs); // not $HOME
        // A folder a run was opened from before wins.
        const QString before = m_scratch.filePath(QStringLiteral("reviewed"));
        QVERIFY(QDir().mkpath(before));
        QSettings().setValue(QStringLiteral("paths/review"), before);
        QCOMPARE(w.reviewPage()->browseStartFolder(), before);
        QSettings().remove(QStringLiteral("paths/review"));
        // Opening a run hides the Review page's hint.
        if (!m_sampleRun.isEmpty()) {
            QSignalSpy loaded(w.reviewPage(), &ReviewPage::loaded);
            w.reviewPage()->openRun(m_sampleRun);
            QVERIFY(loaded.wait(60000) || loaded.count() == 1);
            QVERIFY(w.reviewPage()->emptyHint().isEmpty());
        }
    }

    void wheelChangesOnlyAFocusedField()
    {
        MainWindow w;
        w.resize(1280, 860);
        w.show();
        w.activateWindow();
        QVERIFY(QTest::qWaitForWindowActive(&w));
        auto* epochs = w.findChild<QSpinBox*>(QStringLiteral("epochsSpin"));
        auto* direction = w.findChild<QComboBox*>(QStringLiteral("directionCombo"));
        auto* scroll = w.findChild<QScrollArea*>(QStringLiteral("settingsScroll"));
        QVERIFY(epochs && direction && scroll);
        QCOMPARE(epochs->focusPolicy(), Qt::StrongFocus);
        QVERIFY(!epochs->hasFocus());
        const int value = epochs->value();
        const int index = direction->currentIndex();
        QScrollBar* bar = scroll->verticalScrollBar();
        bar->setValue(bar->maximum());
        const int scrolled = bar->value();
        wheelUp(epochs);
        wheelUp(direction);
        QCOMPARE(epochs->value(), value);
        QCOMPARE(direction->currentIndex(), index);
        if (bar->maximum() > 0) // the panel scrolled instead
            QVERIFY2(bar->value() < scrolled, qPrintable(QStringLiteral("%1 -> %2").arg(scrolled).arg(bar->value())));
        epochs->setFocus(Qt::MouseFocusReason);
        QTRY_VERIFY(epochs->hasFocus());
        wheelUp(epochs);
        QCOMPARE(epochs->value(), value + 1);
    }

    void loadingAConfigAsksBeforeReplacingAnEditedTable()
    {
        // A NectarGAN config with lambda_l1 10 and "dataroot": "" (as NectarGAN ships them).
        nectar::Config file;
        file.dataloader.dataroot = "";
        file.train.loss.lambda_l1 = 10.0;
        const QString path = m_scratch.filePath(QStringLiteral("nectargan.json"));
        QString error;
        QVERIFY2(engine::saveConfig(file, path, &error), qPrintable(error));

        MainWindow w;
        int asked = 0;
        bool answer = false;
        w.setReplaceTableConfirmation([&] {
            ++asked;
            return answer;
        });
        const std::string dataroot = w.objectivePage()->config().dataloader.dataroot;
        QVERIFY(!dataroot.empty());
        QVERIFY(!w.tableEdited());
        QVERIFY(w.loadConfigFile(path)); // nothing edited: no question
        QCOMPARE(asked, 0);
        QCOMPARE(weight(w, QStringLiteral("G_L1")), 10.0);
        QCOMPARE(w.objectivePage()->config().dataloader.dataroot, dataroot); // kept, with a note
        QVERIFY2(w.objectivePage()->message().contains(QStringLiteral("dataroot"))
                && w.objectivePage()->message().contains(QString::fromStdString(dataroot)),
            qPrintable(w.objectivePage()->message()));

        QVERIFY(setWeight(w, QStringLiteral("G_L1"), QStringLiteral("50")));
        QVERIFY(w.tableEdited());
        QVERIFY(!w.loadConfigFile(path)); // declined: the table stays
        QCOMPARE(asked, 1);
        QCOMPARE(weight(w, QStringLiteral("G_L1")), 50.0);
        answer = true;
        QVERIFY(w.loadConfigFile(path));
        QCOMPARE(asked, 2);
        QCOMPARE(weight(w, QStringLiteral("G_L1")), 10.0);
    }

    void lastSessionIsRestored()
    {
        std::vector<LossRow> rows;
        nectar::Config settings;
        {
            MainWindow w;
            QVERIFY(w.objectivePage()->selectSpec(QStringLiteral("pix2pix"), QStringLiteral("extended")));
            QVERIFY(setWeight(w, QStringLiteral("G_L1"), QStringLiteral("50")));
            LossTableModel* m = table(w);
            QVERIFY(m->setData(
                m->index(m->rowOf(QStringLiteral("G_SOBEL")), LossTableModel::TagsColumn), QStringLiteral("G, edges")));
            nectar::Schedule s = nectar::Schedule::linear(2, 6, 0.5, 4.0);
            QVERIFY(m->setData(m->index(m->rowOf(QStringLiteral("G_LAP")), LossTableModel::ScheduleColumn),
                LossTableModel::scheduleToMap(s)));
            nectar::Config c = w.objectivePage()->config();
            c.train.generator.learning_rate.epochs = 7;
            c.dataloader.batch_size = 3;
            c.common.experiment_name = "restored";
            w.objectivePage()->settings()->setConfig(c);
            rows = m->rows();
            settings = w.objectivePage()->config();
            QVERIFY(w.close());
        }
        QVERIFY(QFileInfo::exists(MainWindow::sessionFile()));
        {
            MainWindow again;
            QCOMPARE(again.objectivePage()->spec(), QStringLiteral("pix2pix"));
            QCOMPARE(again.objectivePage()->subspec(), QStringLiteral("extended"));
            QVERIFY(table(again)->rows() == rows);
            QCOMPARE(weight(again, QStringLiteral("G_L1")), 50.0);
            const nectar::Config c = again.objectivePage()->config();
            QCOMPARE(c.train.generator.learning_rate.epochs, 7);
            QCOMPARE(c.dataloader.batch_size, 3);
            QCOMPARE(c.common.experiment_name, std::string("restored"));
            QCOMPARE(c.dataloader.dataroot, settings.dataloader.dataroot);
            QVERIFY2(again.objectivePage()->message().isEmpty(), qPrintable(again.objectivePage()->message()));
        }
        // A broken file is reported inline and the defaults are used.
        {
            QFile f(MainWindow::sessionFile());
            QVERIFY(f.open(QIODevice::WriteOnly | QIODevice::Truncate));
            f.write("{\"format\": \"nectar-preset\", \"spec\": ");
        }
        MainWindow broken;
        QVERIFY2(broken.objectivePage()->message().contains(QStringLiteral("not restored"))
                && broken.objectivePage()->message().contains(QStringLiteral("session.json")),
            qPrintable(broken.objectivePage()->message()));
        QCOMPARE(broken.objectivePage()->config().dataloader.load.crop_size, 128);
        QCOMPARE(broken.objectivePage()->config().train.generator.learning_rate.epochs, 3);
        QVERIFY(!table(broken)->rows().empty());
    }
};

QTEST_MAIN(TestFirstUse)
#include "tst_firstuse.moc"
