// SPDX-License-Identifier: Apache-2.0
// The README's five-minute tour on the real window in a real X server (tests/run-xvfb.sh: Xvfb,
// openbox, xcb platform), as a new user with a fresh HOME: the application set up as nectar-toolbox
// sets it up, driven with QTest key and mouse events on the real widgets. One test function per tour
// step, in tour order; they share the window. Also a responsiveness probe (event-loop lateness of a
// 10 ms timer, idle and while training; page-switch times), printed and written to
// <artifacts>/tour_latency.json, never asserted. Screenshots: <artifacts>/tour_*.png (window) and
// tour_screen_*.png (the X screen, with the window manager's decorations).
#include <QAbstractItemView>
#include <QAbstractSpinBox>
#include <QApplication>
#include <QComboBox>
#include <QDirIterator>
#include <QDoubleSpinBox>
#include <QElapsedTimer>
#include <QEventLoop>
#include <QFileDialog>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLineEdit>
#include <QMenu>
#include <QPointer>
#include <QScreen>
#include <QScrollArea>
#include <QSignalSpy>
#include <QSpinBox>
#include <QTabWidget>
#include <QTableView>
#include <QTemporaryDir>
#include <QTimer>
#include <QtTest>

#include <algorithm>
#include <cmath>
#include <memory>
#include <vector>

#include "application.h"
#include "charts/chartpanel.h"
#include "mainwindow.h"
#include "objective/losstabledelegate.h"
#include "objective/losstablemodel.h"
#include "pages/objectivepage.h"
#include "pages/reviewpage.h"
#include "pages/trainingpage.h"
#include "session/trainingsession.h"
#include "toolbox_test_env.h"
#include "widgets/inlinemessage.h"

namespace {
constexpr int kRunTimeoutMs = 180000;
constexpr int kProbeIdleMs = 5000; // event-loop lateness while idle
constexpr int kProbeTrainingMs = 20000; // ... and while training (issue #11: 20 s)
constexpr int kProbeIntervalMs = 10;
constexpr int kPageSwitches = 30; // per measurement (idle, training)
constexpr int kEpochs = 30; // more than the test trains: it stops the run itself

/// Finds a widget by objectName under `root`; fails the test function when there is none.
#define FIND(var, Type, root, name)                                                                                    \
    auto* var = (root)->findChild<Type*>(QStringLiteral(name));                                                        \
    QVERIFY2(var, "no " #Type " named " name)

/// Runs the real event loop (not QTest::qWait, which sleeps between event batches) until `done`
/// or `ms` passed. True if `done`.
template <class Pred> bool spinUntil(Pred done, int ms)
{
    QElapsedTimer clock;
    clock.start();
    while (!done()) {
        const qint64 left = ms - clock.elapsed();
        if (left <= 0)
            return false;
        QEventLoop loop;
        QTimer::singleShot(std::min<qint64>(left, 5), &loop, &QEventLoop::quit);
        loop.exec();
    }
    return true;
}

void spinFor(int ms)
{
    QEventLoop loop;
    QTimer::singleShot(ms, Qt::PreciseTimer, &loop, &QEventLoop::quit);
    loop.exec();
}

/// Median, p99 and max of durations in nanoseconds, as milliseconds.
QJsonObject stats(std::vector<qint64> ns)
{
    QJsonObject o;
    o[QStringLiteral("samples")] = static_cast<int>(ns.size());
    if (ns.empty())
        return o;
    std::sort(ns.begin(), ns.end());
    auto at = [&](double q) {
        const auto i = static_cast<std::size_t>(std::ceil(q * static_cast<double>(ns.size()))) - 1;
        return static_cast<double>(ns[std::min(i, ns.size() - 1)]) / 1e6;
    };
    o[QStringLiteral("median_ms")] = static_cast<double>(ns[ns.size() / 2]) / 1e6;
    o[QStringLiteral("p99_ms")] = at(0.99);
    o[QStringLiteral("max_ms")] = static_cast<double>(ns.back()) / 1e6;
    return o;
}

QString describe(const QJsonObject& s)
{
    return QStringLiteral("median %1 ms, p99 %2 ms, max %3 ms (%4 samples)")
        .arg(s.value(QStringLiteral("median_ms")).toDouble(), 0, 'f', 2)
        .arg(s.value(QStringLiteral("p99_ms")).toDouble(), 0, 'f', 2)
        .arg(s.value(QStringLiteral("max_ms")).toDouble(), 0, 'f', 2)
        .arg(s.value(QStringLiteral("samples")).toInt());
}

/// Event-loop latency on the GUI thread: a 10 ms single-shot timer re-armed at each timeout measures
/// how late each timeout came (elapsed since arming minus 10 ms).
std::vector<qint64> probeLateness(int durationMs)
{
    std::vector<qint64> lateness;
    QTimer tick;
    tick.setSingleShot(true);
    tick.setTimerType(Qt::PreciseTimer);
    tick.setInterval(kProbeIntervalMs);
    QElapsedTimer since;
    QObject::connect(&tick, &QTimer::timeout, [&] {
        lateness.push_back(std::max<qint64>(0, since.nsecsElapsed() - qint64(kProbeIntervalMs) * 1000000));
        since.restart();
        tick.start();
    });
    since.start();
    tick.start();
    spinFor(durationMs);
    tick.stop();
    return lateness;
}

/// Times "shortcut pressed -> the new page painted": the first paint event of the page (or a child)
/// after arming, plus the rest of that paint pass (a zero timer runs once it is done).
class PaintWatch : public QObject {
public:
    void arm(QWidget* page)
    {
        m_page = page;
        m_done = -1;
        m_clock.start();
    }
    qint64 doneNs() const { return m_done; }

protected:
    bool eventFilter(QObject* o, QEvent* e) override
    {
        if (m_page && e->type() == QEvent::Paint && o->isWidgetType()
            && (o == m_page || m_page->isAncestorOf(static_cast<QWidget*>(o)))) {
            m_page = nullptr;
            QTimer::singleShot(0, this, [this] { m_done = m_clock.nsecsElapsed(); });
        }
        return false;
    }

private:
    QWidget* m_page = nullptr;
    QElapsedTimer m_clock;
    qint64 m_done = -1;
};

/// Sends a key to what has the keyboard focus, as X would (shortcuts see it through the focus widget).
void pressKey(QWidget* window, Qt::Key key, Qt::KeyboardModifiers mods = Qt::NoModifier)
{
    QWidget* focus = QApplication::focusWidget();
    QTest::keyClick(focus ? focus : window, key, mods);
}

/// Picks `text` in a combo box the way a user does: click to open the list, click the entry.
bool chooseInCombo(QComboBox* combo, const QString& text)
{
    const int i = combo->findText(text);
    if (i < 0)
        return false;
    if (combo->currentIndex() == i)
        return true;
    QTest::mouseClick(combo, Qt::LeftButton);
    QAbstractItemView* list = combo->view();
    if (!spinUntil([&] { return list->isVisible(); }, 5000))
        return false;
    // The popup ignores a release within the double-click interval of its opening (the opening click's).
    spinFor(QApplication::doubleClickInterval() + 100);
    const QModelIndex entry = list->model()->index(i, combo->modelColumn(), list->rootIndex());
    list->scrollTo(entry);
    const QPoint at = list->visualRect(entry).center();
    QTest::mouseMove(list->viewport(), at);
    QTest::mouseClick(list->viewport(), Qt::LeftButton, {}, at);
    return spinUntil([&] { return !list->isVisible() && combo->currentIndex() == i; }, 5000);
}

/// Double-clicks a cell, replaces the editor's text with `text` and presses Enter. False if no editor
/// opened or it did not close; the caller checks what the model made of it.
bool typeIntoCell(QTableView* view, const QModelIndex& index, const QString& text)
{
    view->scrollTo(index);
    const QPoint at = view->visualRect(index).center();
    QTest::mouseClick(view->viewport(), Qt::LeftButton, {}, at); // select the row first, as a user does
    QTest::mouseDClick(view->viewport(), Qt::LeftButton, {}, at);
    QPointer<QLineEdit> editor;
    if (!spinUntil(
            [&] {
                editor = qobject_cast<QLineEdit*>(QApplication::focusWidget());
                return editor && view->isAncestorOf(editor);
            },
            5000))
        return false;
    QTest::keyClick(editor, Qt::Key_A, Qt::ControlModifier);
    QTest::keyClicks(editor, text);
    QTest::keyClick(editor, Qt::Key_Return);
    return spinUntil([&] { return !editor || !editor->isVisible(); }, 5000);
}

/// Replaces a spin box's value by typing, as a user does (click, select all, type, Tab).
void typeIntoSpin(QScrollArea* scroll, QSpinBox* spin, int value)
{
    scroll->ensureWidgetVisible(spin);
    QTest::mouseClick(spin, Qt::LeftButton, {}, QPoint(8, spin->height() / 2));
    QTest::keyClick(spin, Qt::Key_A, Qt::ControlModifier);
    QTest::keyClicks(spin, QString::number(value));
    QTest::keyClick(spin, Qt::Key_Tab);
}

/// The shown weight of a loss in the table model.
double weightOf(const LossTableModel* m, const QString& loss)
{
    const int row = m->rowOf(loss);
    return row < 0 ? std::nan("") : m->rows()[static_cast<std::size_t>(row)].weight;
}
} // namespace

class TestTour : public QObject {
    Q_OBJECT
public:
    explicit TestTour(QString home)
        : m_home(std::move(home))
    {
    }

private:
    QString m_home;
    std::unique_ptr<MainWindow> m_window;
    std::unique_ptr<PaintWatch> m_paintWatch = std::make_unique<PaintWatch>();
    QJsonObject m_latency;
    QString m_runDir;
    QString m_presetPath;
    std::vector<LossRow> m_savedRows;

    MainWindow* w() const { return m_window.get(); }
    LossTableModel* table() const { return m_window->objectivePage()->model(); }

    /// The window's picture (QWidget::grab) and the X screen's (with the window manager's frame).
    void screenshots(const QString& name)
    {
        spinFor(200); // let the X server show the last paint
        QVERIFY(testenv::screenshot(w(), QStringLiteral("tour_") + name));
        const QPixmap screen = QGuiApplication::primaryScreen()->grabWindow(0);
        QVERIFY(!screen.isNull());
        QVERIFY(screen.save(QDir(testenv::artifactDir()).filePath(QStringLiteral("tour_screen_%1.png").arg(name))));
    }

    /// Ctrl+1/2/3 round trips, each timed from the key press to the new page painted.
    QJsonObject timePageSwitches()
    {
        auto* pages = w()->findChild<QTabWidget*>(QStringLiteral("pages"));
        std::vector<qint64> ns;
        const Qt::Key keys[] = { Qt::Key_1, Qt::Key_2, Qt::Key_3 };
        int page = pages->currentIndex();
        for (int i = 0; i < kPageSwitches; ++i) {
            page = (page + 1) % 3;
            m_paintWatch->arm(pages->widget(page));
            pressKey(w(), keys[page], Qt::ControlModifier);
            if (spinUntil([&] { return m_paintWatch->doneNs() >= 0; }, 5000) && pages->currentIndex() == page)
                ns.push_back(m_paintWatch->doneNs());
        }
        return stats(ns);
    }

    void writeLatency()
    {
        QFile f(QDir(testenv::artifactDir()).filePath(QStringLiteral("tour_latency.json")));
        QVERIFY(f.open(QIODevice::WriteOnly | QIODevice::Truncate));
        f.write(QJsonDocument(m_latency).toJson());
    }

private Q_SLOTS:
    void initTestCase()
    {
        QCOMPARE(QGuiApplication::platformName(), QStringLiteral("xcb")); // run through tests/run-xvfb.sh
        // The settings are the app's own (fresh HOME), not the other suites' test location.
        QCOMPARE(QCoreApplication::organizationName(), QStringLiteral("NectarToolbox"));
        QVERIFY2(QSettings().fileName().startsWith(m_home), qPrintable(QSettings().fileName()));
        qApp->installEventFilter(m_paintWatch.get());
        m_latency[QStringLiteral("screen")] = QStringLiteral("%1x%2")
                                                  .arg(QGuiApplication::primaryScreen()->size().width())
                                                  .arg(QGuiApplication::primaryScreen()->size().height());
    }

    void cleanupTestCase()
    {
        if (m_window && m_window->session()->isActive()) {
            m_window->session()->stop();
            m_window->session()->waitForIdle(60000);
        }
        m_window.reset();
        writeLatency();
    }

    void windowOpensAtDefaultSize()
    {
        m_window = std::make_unique<MainWindow>();
        w()->show();
        QVERIFY(QTest::qWaitForWindowExposed(w()));
        w()->activateWindow();
        QVERIFY(QTest::qWaitForWindowActive(w()));
        spinFor(300); // the window manager's configure events
        // The window manager placed and sized it: the default size, with its frame around it.
        QCOMPARE(w()->size(), QSize(1280, 860));
        qInfo("window %dx%d at %d,%d; frame %dx%d", w()->width(), w()->height(), w()->x(), w()->y(),
            w()->frameGeometry().width(), w()->frameGeometry().height());
        m_latency[QStringLiteral("window")] = QStringLiteral("%1x%2").arg(w()->width()).arg(w()->height());
        m_latency[QStringLiteral("window_manager_frame")]
            = w()->frameGeometry().size() != w()->size(); // false without a window manager
        QCOMPARE(w()->findChild<QTabWidget*>(QStringLiteral("pages"))->currentIndex(), 0); // opens on Objective
    }

    void freshProfileTrainsSmall()
    {
        // A fresh profile starts with nectar-train's small settings (README "The toolbox GUI"), so the tour
        // needs no preset to show curves within seconds; the full-size defaults are one click away.
        const nectar::Config c = w()->objectivePage()->config();
        QCOMPARE(c.dataloader.load.crop_size, 128);
        QCOMPARE(c.train.generator.features, 32);
        QVERIFY2(QString::fromStdString(c.dataloader.dataroot).endsWith(QStringLiteral("sample-data/photo-colorize")),
            c.dataloader.dataroot.c_str()); // the bundled sample dataset is preselected
        FIND(menu, QMenu, w(), "menuBundledPresets");
        bool quick = false;
        for (QAction* a : menu->actions())
            quick = quick || a->text().contains(QStringLiteral("quick look"));
        QVERIFY(quick);
    }

    void setSmallRun()
    {
        FIND(scroll, QScrollArea, w(), "settingsScroll");
        FIND(epochs, QSpinBox, w(), "epochsSpin");
        FIND(decay, QSpinBox, w(), "decaySpin");
        typeIntoSpin(scroll, epochs, kEpochs);
        typeIntoSpin(scroll, decay, 0);
        const nectar::Config c = w()->objectivePage()->config();
        QCOMPARE(c.train.generator.learning_rate.epochs, kEpochs);
        QCOMPARE(c.train.generator.learning_rate.epochs_decay, 0);
    }

    void pickSpecAndSubspec()
    {
        FIND(spec, QComboBox, w(), "specCombo");
        FIND(subspec, QComboBox, w(), "subspecCombo");
        QVERIFY(chooseInCombo(spec, QStringLiteral("pix2pix")));
        QVERIFY(chooseInCombo(subspec, QStringLiteral("extended")));
        QCOMPARE(w()->objectivePage()->spec(), QStringLiteral("pix2pix"));
        QCOMPARE(w()->objectivePage()->subspec(), QStringLiteral("extended"));
        for (const char* loss : { "G_GAN", "G_L1", "G_SOBEL", "G_LAP", "D_real", "D_fake" })
            QVERIFY2(table()->rowOf(QString::fromLatin1(loss)) >= 0, loss);
        // The preset's settings survive the subspec change.
        QCOMPARE(w()->objectivePage()->config().dataloader.load.crop_size, 128);
        QCOMPARE(w()->objectivePage()->config().train.generator.learning_rate.epochs, kEpochs);
    }

    void editWeight()
    {
        FIND(view, QTableView, w(), "lossTable");
        const QModelIndex cell = table()->index(table()->rowOf(QStringLiteral("G_L1")), LossTableModel::WeightColumn);
        QVERIFY(typeIntoCell(view, cell, QStringLiteral("50")));
        QCOMPARE(weightOf(table(), QStringLiteral("G_L1")), 50.0);
        QCOMPARE(cell.data().toString(), QStringLiteral("50"));
        QVERIFY(w()->objectivePage()->message().isEmpty());
    }

    void scheduleEditorFitsAndTabs()
    {
        // Under a real window manager and fonts: the editor opens inside the table at 1280x860 and Tab moves
        // between its fields instead of leaving it (issue #11 item 3); Escape leaves the row unchanged.
        FIND(view, QTableView, w(), "lossTable");
        const int row = table()->rowOf(QStringLiteral("G_SOBEL"));
        QVERIFY(row >= 0);
        const LossRow before = table()->rows()[static_cast<std::size_t>(row)];
        const QModelIndex cell = table()->index(row, LossTableModel::ScheduleColumn);
        view->scrollTo(cell);
        const QPoint at = view->visualRect(cell).center();
        QTest::mouseClick(view->viewport(), Qt::LeftButton, {}, at);
        QTest::mouseDClick(view->viewport(), Qt::LeftButton, {}, at);
        ScheduleEditor* editor = nullptr;
        QVERIFY(spinUntil(
            [&] {
                editor = view->findChild<ScheduleEditor*>();
                return editor && editor->isVisible() && editor->isAncestorOf(QApplication::focusWidget());
            },
            5000));
        QVERIFY2(view->viewport()->rect().contains(editor->geometry()),
            qPrintable(QStringLiteral("editor %1,%2 %3x%4 outside the viewport %5x%6")
                           .arg(editor->x())
                           .arg(editor->y())
                           .arg(editor->width())
                           .arg(editor->height())
                           .arg(view->viewport()->width())
                           .arg(view->viewport()->height())));
        for (QWidget* field : editor->findChildren<QAbstractSpinBox*>())
            QVERIFY(field->width() >= field->minimumSizeHint().width());
        // Pick a kind with the keyboard (the other fields are disabled while it is "none"); the new schedule
        // starts from the loss's weight, so G_SOBEL at 0 is not silently switched on.
        auto* kind = qobject_cast<QComboBox*>(QApplication::focusWidget());
        QVERIFY(kind && editor->isAncestorOf(kind));
        QTest::keyClick(kind, Qt::Key_Down);
        QVERIFY(kind->currentText() != QStringLiteral("none"));
        for (QDoubleSpinBox* value : editor->findChildren<QDoubleSpinBox*>()) {
            QVERIFY(value->isEnabled());
            QCOMPARE(value->value(), before.weight);
        }
        QSet<QWidget*> visited;
        for (int i = 0; i < 5; ++i) {
            visited.insert(QApplication::focusWidget());
            QTest::keyClick(QApplication::focusWidget(), Qt::Key_Tab);
            QVERIFY(editor->isVisible());
            QVERIFY(editor->isAncestorOf(QApplication::focusWidget()));
        }
        QCOMPARE(visited.size(), 5); // kind, initial, target, start and end epoch
        screenshots(QStringLiteral("objective_schedule_editor"));
        QTest::keyClick(QApplication::focusWidget(), Qt::Key_Escape);
        QVERIFY(spinUntil([&] { return !view->findChild<ScheduleEditor*>() || !editor->isVisible(); }, 5000));
        QVERIFY(table()->rows()[static_cast<std::size_t>(row)] == before);
    }

    void refusedWeightKeepsValue()
    {
        FIND(view, QTableView, w(), "lossTable");
        FIND(message, InlineMessage, w()->objectivePage(), "messageLabel");
        const QModelIndex cell = table()->index(table()->rowOf(QStringLiteral("G_L1")), LossTableModel::WeightColumn);
        QVERIFY(typeIntoCell(view, cell, QStringLiteral("-1")));
        QCOMPARE(weightOf(table(), QStringLiteral("G_L1")), 50.0);
        QCOMPARE(cell.data().toString(), QStringLiteral("50"));
        // The reason is shown above the table, names the loss, and is really on screen.
        QVERIFY2(message->message().startsWith(QStringLiteral("G_L1: ")), qPrintable(message->message()));
        QVERIFY(message->isVisible());
        QVERIFY(message->visibleRegion().boundingRect().height() >= message->fontMetrics().height());
        QVERIFY(message->mapTo(w()->objectivePage(), QPoint(0, 0)).y()
            < view->mapTo(w()->objectivePage(), QPoint(0, 0)).y());
        screenshots(QStringLiteral("objective"));
    }

    void probeIdle()
    {
        const QJsonObject idle = stats(probeLateness(kProbeIdleMs));
        m_latency[QStringLiteral("timer_lateness_idle")] = idle;
        qInfo("event-loop lateness of a %d ms timer, idle %d s: %s", kProbeIntervalMs, kProbeIdleMs / 1000,
            qPrintable(describe(idle)));
        const QJsonObject pages = timePageSwitches();
        m_latency[QStringLiteral("page_switch_idle")] = pages;
        qInfo("page switch (Ctrl+1/2/3 -> page painted), idle: %s", qPrintable(describe(pages)));
        QVERIFY(pages.value(QStringLiteral("samples")).toInt() == kPageSwitches); // every switch was painted
        pressKey(w(), Qt::Key_1, Qt::ControlModifier);
    }

    void startWithF5()
    {
        QSignalSpy started(w()->session(), &TrainingSession::runStarted);
        QSignalSpy progress(w()->session(), &TrainingSession::progress);
        QSignalSpy failed(w()->session(), &TrainingSession::failed);
        pressKey(w(), Qt::Key_F5);
        QCOMPARE(w()->session()->state(), TrainingSession::State::Running);
        QCOMPARE(w()->findChild<QTabWidget*>(QStringLiteral("pages"))->currentIndex(), 1); // Training page
        QVERIFY2(started.wait(kRunTimeoutMs) || started.count() == 1, qPrintable(w()->trainingPage()->errorText()));
        QElapsedTimer firstValues;
        firstValues.start();
        ChartPanel* charts = w()->trainingPage()->charts();
        QVERIFY2(spinUntil([&] { return charts->pointCount(QStringLiteral("G"), QStringLiteral("G_L1")) > 0; },
                     kRunTimeoutMs),
            qPrintable(w()->trainingPage()->errorText()));
        qInfo("first chart values %lld ms after the run started", firstValues.elapsed());
        QCOMPARE(failed.count(), 0);
        QVERIFY(progress.count() > 0);
        QCOMPARE(charts->pointCount(QStringLiteral("D"), QStringLiteral("G_L1")), 0); // tagged G only
        QVERIFY(charts->pointCount(QStringLiteral("D"), QStringLiteral("D_fake")) > 0);
        FIND(speed, QLabel, w()->trainingPage(), "speedLabel");
        QVERIFY2(speed->text().endsWith(QStringLiteral(" it/s")), qPrintable(speed->text()));
        screenshots(QStringLiteral("training_running"));
    }

    void probeWhileTraining()
    {
        QCOMPARE(w()->session()->state(), TrainingSession::State::Running);
        QSignalSpy progress(w()->session(), &TrainingSession::progress);
        const QJsonObject training = stats(probeLateness(kProbeTrainingMs));
        m_latency[QStringLiteral("timer_lateness_training")] = training;
        qInfo("event-loop lateness of a %d ms timer, training %d s (%d progress reports): %s", kProbeIntervalMs,
            kProbeTrainingMs / 1000, static_cast<int>(progress.count()), qPrintable(describe(training)));
        QCOMPARE(w()->session()->state(), TrainingSession::State::Running);
        const QJsonObject pages = timePageSwitches();
        m_latency[QStringLiteral("page_switch_training")] = pages;
        qInfo("page switch (Ctrl+1/2/3 -> page painted), training: %s", qPrintable(describe(pages)));
        pressKey(w(), Qt::Key_2, Qt::ControlModifier);
    }

    void pauseAndResumeWithF6()
    {
        TrainingSession* s = w()->session();
        pressKey(w(), Qt::Key_F6);
        QCOMPARE(s->state(), TrainingSession::State::Paused);
        spinFor(1000); // a report of the iteration that was running may still arrive
        QSignalSpy progress(s, &TrainingSession::progress);
        spinFor(4000);
        QCOMPARE(progress.count(), 0); // paused: no iteration ran
        pressKey(w(), Qt::Key_F6);
        QCOMPARE(s->state(), TrainingSession::State::Running);
        QVERIFY(progress.wait(kRunTimeoutMs) || progress.count() > 0);
    }

    void stopWithShiftF5()
    {
        TrainingSession* s = w()->session();
        QSignalSpy finished(s, &TrainingSession::finished);
        pressKey(w(), Qt::Key_F5, Qt::ShiftModifier);
        QVERIFY(finished.wait(kRunTimeoutMs) || finished.count() == 1);
        QCOMPARE(s->state(), TrainingSession::State::Idle);
        QCOMPARE(finished.first().at(0).toBool(), true); // stopped, not finished
        m_runDir = finished.first().at(1).toString();
        QVERIFY2(m_runDir.startsWith(m_home + QStringLiteral("/nectar-runs/")), qPrintable(m_runDir));
        const QDir run(m_runDir);
        QVERIFY(run.exists(QStringLiteral("loss_log.json")));
        QVERIFY2(!run.entryList({ QStringLiteral("epoch*_netG.pt") }, QDir::Files).isEmpty(),
            qPrintable(run.entryList().join(QLatin1Char(' '))));
        QVERIFY(!run.entryList({ QStringLiteral("epoch*_netD.pt") }, QDir::Files).isEmpty());
        // The run trained the table: G_L1 = 50.
        QFile objective(run.filePath(QStringLiteral("train1_objective.json")));
        QVERIFY(objective.open(QIODevice::ReadOnly));
        const QJsonObject o = QJsonDocument::fromJson(objective.readAll()).object();
        QCOMPARE(o.value(QStringLiteral("subspec")).toString(), QStringLiteral("extended"));
        QCOMPARE(o.value(QStringLiteral("losses"))
                     .toObject()
                     .value(QStringLiteral("G_L1"))
                     .toObject()
                     .value(QStringLiteral("weight"))
                     .toDouble(),
            50.0);
        // No stale numbers: the speed and ETA say the run stopped (issue #11 item 7).
        FIND(speed, QLabel, w()->trainingPage(), "speedLabel");
        FIND(eta, QLabel, w()->trainingPage(), "etaLabel");
        QVERIFY2(!speed->text().contains(QStringLiteral("it/s")) || speed->text().startsWith(QStringLiteral("–")),
            qPrintable(speed->text()));
        QVERIFY2(eta->text().contains(QStringLiteral("stopped")), qPrintable(eta->text()));
        screenshots(QStringLiteral("training_stopped"));
    }

    void reviewTheRun()
    {
        pressKey(w(), Qt::Key_3, Qt::ControlModifier);
        QCOMPARE(w()->findChild<QTabWidget*>(QStringLiteral("pages"))->currentIndex(), 2);
        ReviewPage* review = w()->reviewPage();
        QSignalSpy loaded(review, &ReviewPage::loaded);
        review->openRun(m_runDir);
        QVERIFY2(loaded.wait(60000) || loaded.count() == 1, qPrintable(review->errorText()));
        const int trained = w()->trainingPage()->charts()->pointCount(QStringLiteral("G"), QStringLiteral("G_L1"));
        const int logged = review->charts()->pointCount(QStringLiteral("G"), QStringLiteral("G_L1"));
        QVERIFY2(logged >= trained && trained > 0, qPrintable(QStringLiteral("%1 %2").arg(logged).arg(trained)));
        QVERIFY2(
            review->objectiveSummary().contains(QStringLiteral("extended")), qPrintable(review->objectiveSummary()));
        screenshots(QStringLiteral("review"));
    }

    void savePresetWithCtrlS()
    {
        pressKey(w(), Qt::Key_1, Qt::ControlModifier);
        m_presetPath = QDir(m_home).filePath(QStringLiteral("tour-preset.json"));
        // Ctrl+S opens Qt's file dialog (modal, its own event loop): fill in the name there and press Enter.
        bool typed = false;
        QTimer poll;
        poll.setInterval(50);
        connect(&poll, &QTimer::timeout, this, [&] {
            auto* dialog = qobject_cast<QFileDialog*>(QApplication::activeModalWidget());
            if (!dialog || typed)
                return;
            auto* name = dialog->findChild<QLineEdit*>(QStringLiteral("fileNameEdit"));
            if (!name)
                return;
            typed = true;
            name->setText(m_presetPath);
            QTest::keyClick(name, Qt::Key_Return);
        });
        poll.start();
        pressKey(w(), Qt::Key_S, Qt::ControlModifier);
        poll.stop();
        QVERIFY2(typed, "Ctrl+S opened no file dialog");
        QVERIFY(QFileInfo::exists(m_presetPath));
        QCOMPARE(w()->recentPresets().value(0), m_presetPath);
        m_savedRows = table()->rows();
        QCOMPARE(weightOf(table(), QStringLiteral("G_L1")), 50.0);
    }

    void restartAndLoadRecentPreset()
    {
        w()->close(); // idle: closes at once and saves the window state
        QVERIFY(!w()->isVisible());
        m_window.reset();
        m_window = std::make_unique<MainWindow>(); // the same settings folder: a restart
        w()->show();
        QVERIFY(QTest::qWaitForWindowExposed(w()));
        w()->activateWindow();
        QVERIFY(QTest::qWaitForWindowActive(w()));
        spinFor(300);
        QCOMPARE(w()->size(), QSize(1280, 860)); // restored geometry
        FIND(recent, QMenu, w(), "menuRecentPresets");
        QVERIFY(recent->isEnabled());
        QVERIFY(!recent->actions().isEmpty());
        QAction* first = recent->actions().first();
        QVERIFY2(first->text().endsWith(QStringLiteral("tour-preset.json")), qPrintable(first->text()));
        first->trigger();
        QCOMPARE(w()->objectivePage()->spec(), QStringLiteral("pix2pix"));
        QCOMPARE(w()->objectivePage()->subspec(), QStringLiteral("extended"));
        QVERIFY(table()->rows() == m_savedRows);
        QCOMPARE(weightOf(table(), QStringLiteral("G_L1")), 50.0);
        QCOMPARE(w()->objectivePage()->config().train.generator.learning_rate.epochs, kEpochs); // settings too
        QVERIFY2(w()->objectivePage()->message().isEmpty(), qPrintable(w()->objectivePage()->message()));
    }
};

int main(int argc, char* argv[])
{
    // A new user: HOME and the XDG folders in a fresh temporary folder, set before Qt reads them.
    QTemporaryDir home;
    if (!home.isValid())
        return 2;
    const QDir h(home.path());
    qputenv("HOME", QFile::encodeName(h.path()));
    for (const auto& [var, sub] : { std::pair { "XDG_CONFIG_HOME", ".config" }, { "XDG_DATA_HOME", ".local/share" },
             { "XDG_CACHE_HOME", ".cache" }, { "XDG_STATE_HOME", ".local/state" } }) {
        h.mkpath(QString::fromLatin1(sub));
        qputenv(var, QFile::encodeName(h.filePath(QString::fromLatin1(sub))));
    }
    qunsetenv("NECTAR_SPECS_DIR");
    qunsetenv("TORCH_HOME");
    toolbox::prepareProcess();
    // No platform file dialogs (there are none under plain Xvfb anyway): Qt's own, which the test fills in.
    QCoreApplication::setAttribute(Qt::AA_DontUseNativeDialogs);
    QApplication app(argc, argv);
    toolbox::setupApplication();
    TestTour test(h.path());
    QTEST_SET_MAIN_SOURCE_PATH
    return QTest::qExec(&test, argc, argv);
}

#include "tst_tour.moc"
