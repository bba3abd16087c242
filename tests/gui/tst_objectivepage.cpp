// SPDX-License-Identifier: Apache-2.0
// Objective page: spec/subspec switching, presets (round trip, every bad-preset case), config files,
// "Save as spec…" into the user folder.
#include <QAbstractButton>
#include <QAbstractItemModelTester>
#include <QAbstractSlider>
#include <QComboBox>
#include <QHeaderView>
#include <QLineEdit>
#include <QPointer>
#include <QPushButton>
#include <QSignalSpy>
#include <QSpinBox>
#include <QTabBar>
#include <QTableView>
#include <QtTest>

#include "bridge/enginebridge.h"
#include "mainwindow.h"
#include "objective/losstabledelegate.h"
#include "objective/losstablemodel.h"
#include "pages/objectivepage.h"
#include "pages/settingsform.h"
#include "session/trainingsession.h"
#include "toolbox_test_env.h"

namespace {
QStringList names(const LossTableModel* m)
{
    QStringList out;
    for (const LossRow& r : m->rows())
        out.append(r.name);
    out.sort();
    return out;
}
void writeFile(const QString& path, const QByteArray& text)
{
    QFile f(path);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write(text);
}
/// The main window at the default size (ui/mainwindow.ui), shown and active, as a user first sees it.
void showAtDefaultSize(MainWindow& w, QSize size = { 1280, 860 })
{
    w.resize(size);
    w.show();
    QVERIFY(QTest::qWaitForWindowExposed(&w));
    w.activateWindow();
    QVERIFY(QTest::qWaitForWindowActive(&w));
    QCoreApplication::processEvents();
}
QTableView* lossTable(MainWindow& w)
{
    return w.objectivePage()->findChild<QTableView*>(QStringLiteral("lossTable"));
}
/// Opens the schedule editor of `loss` as a double-click would.
ScheduleEditor* openScheduleEditor(MainWindow& w, const QString& loss)
{
    QTableView* view = lossTable(w);
    LossTableModel* m = w.objectivePage()->model();
    const QModelIndex i = m->index(m->rowOf(loss), LossTableModel::ScheduleColumn);
    view->scrollTo(i);
    view->setCurrentIndex(i);
    view->edit(i);
    QCoreApplication::processEvents();
    return view->viewport()->findChild<ScheduleEditor*>();
}
/// Environment variables set for one scope (restored after).
struct ScopedEnv {
    QByteArray name, old;
    bool had;
    ScopedEnv(const char* n, const QByteArray& value)
        : name(n)
        , old(qgetenv(n))
        , had(qEnvironmentVariableIsSet(n))
    {
        qputenv(n, value);
    }
    ~ScopedEnv()
    {
        if (had)
            qputenv(name.constData(), old);
        else
            qunsetenv(name.constData());
    }
};
} // namespace

class TestObjectivePage : public QObject {
    Q_OBJECT
private:
    QTemporaryDir m_scratch;

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_scratch.isValid());
        testenv::isolate(m_scratch);
    }

    void registryDrivenLists()
    {
        MainWindow w;
        auto* spec = w.objectivePage()->findChild<QComboBox*>(QStringLiteral("specCombo"));
        QVERIFY(spec);
        QStringList shown;
        for (int i = 0; i < spec->count(); ++i)
            shown.append(spec->itemText(i));
        QCOMPARE(shown, engine::specNames());
        QVERIFY(shown.contains(QStringLiteral("pix2pix")));
        auto* fn = w.objectivePage()->findChild<QComboBox*>(QStringLiteral("newFunctionCombo"));
        QCOMPARE(fn->count(), engine::lossFunctionNames().size());
        auto* dev = w.objectivePage()->findChild<QComboBox*>(QStringLiteral("deviceCombo"));
        QCOMPARE(dev->itemData(0).toString(), QStringLiteral("auto"));
        QCOMPARE(dev->itemData(1).toString(), QStringLiteral("cpu"));
        // The bundled sample dataset is preselected.
        const QString root = QString::fromStdString(w.objectivePage()->config().dataloader.dataroot);
        QVERIFY2(root.endsWith(QStringLiteral("resources/sample-data/photo-colorize")), qPrintable(root));
        QVERIFY(QDir(root + QStringLiteral("/train")).exists());
    }

    void everyControlHasATooltip()
    {
        MainWindow w;
        QStringList missing;
        for (QWidget* c : w.findChildren<QWidget*>()) {
            if (!(qobject_cast<QAbstractButton*>(c) || qobject_cast<QComboBox*>(c) || qobject_cast<QAbstractSpinBox*>(c)
                    || qobject_cast<QLineEdit*>(c) || qobject_cast<QAbstractSlider*>(c)
                    || qobject_cast<QAbstractItemView*>(c)))
                continue;
            if (c->objectName().isEmpty() || c->objectName().startsWith(QStringLiteral("qt_"))
                || qobject_cast<QTabBar*>(c->parentWidget())) // QTabBar's own scroll arrows
                continue;
            if (c->toolTip().isEmpty())
                missing.append(c->objectName());
        }
        QVERIFY2(missing.isEmpty(), qPrintable(missing.join(QStringLiteral(", "))));
    }

    void specSwitchingRepopulates()
    {
        MainWindow w;
        ObjectivePage* page = w.objectivePage();
        QAbstractItemModelTester tester(page->model(), QAbstractItemModelTester::FailureReportingMode::QtTest);
        QVERIFY(page->selectSpec(QStringLiteral("pix2pix"), QStringLiteral("basic")));
        QCOMPARE(names(page->model()),
            QStringList({ QStringLiteral("D_fake"), QStringLiteral("D_real"), QStringLiteral("G_GAN"),
                QStringLiteral("G_L1") }));
        auto* subspec = page->findChild<QComboBox*>(QStringLiteral("subspecCombo"));
        subspec->setCurrentText(QStringLiteral("extended")); // as a user would
        QCOMPARE(page->model()->rowCount(), 7);
        QVERIFY(names(page->model()).contains(QStringLiteral("G_SOBEL")));
        const int l1 = page->model()->rowOf(QStringLiteral("G_L1"));
        QCOMPARE(page->model()->rows()[l1].weight, 100.0); // lambda_l1 of the default config
        QCOMPARE(page->model()->rows()[l1].tags, QStringList { QStringLiteral("G") });
        subspec->setCurrentText(QStringLiteral("basic"));
        QCOMPARE(page->model()->rowCount(), 4);
        QVERIFY(!page->selectSpec(QStringLiteral("nope"), QStringLiteral("basic")));
        QVERIFY(page->message().contains(QStringLiteral("nope")));
    }

    void invalidEditShowsInlineMessage()
    {
        MainWindow w;
        ObjectivePage* page = w.objectivePage();
        QVERIFY(page->selectSpec(QStringLiteral("pix2pix"), QStringLiteral("basic")));
        const int row = page->model()->rowOf(QStringLiteral("G_L1"));
        QVERIFY(!page->model()->setData(page->model()->index(row, LossTableModel::WeightColumn), QStringLiteral("-5")));
        QVERIFY(page->message().contains(QStringLiteral("-5")));
        QCOMPARE(page->model()->rows()[row].weight, 100.0);
    }

    void presetRoundTrip()
    {
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("round.json"));
        std::vector<LossRow> saved;
        {
            MainWindow w;
            ObjectivePage* page = w.objectivePage();
            QVERIFY(page->selectSpec(QStringLiteral("pix2pix"), QStringLiteral("extended")));
            LossTableModel* m = page->model();
            QVERIFY(m->setData(m->index(m->rowOf(QStringLiteral("G_L1")), LossTableModel::WeightColumn), 50.0));
            QVERIFY(m->setData(m->index(m->rowOf(QStringLiteral("G_L2")), LossTableModel::TagsColumn),
                QStringLiteral("G, structure")));
            QVERIFY(m->setData(m->index(m->rowOf(QStringLiteral("G_SOBEL")), LossTableModel::ScheduleColumn),
                QVariantMap { { QStringLiteral("schedule"), QStringLiteral("exponential") },
                    { QStringLiteral("start_epoch"), 2 }, { QStringLiteral("end_epoch"), 9 },
                    { QStringLiteral("initial_value"), 0.5 }, { QStringLiteral("target_value"), 20.0 } }));
            page->findChild<QSpinBox*>(QStringLiteral("batchSizeSpin"))->setValue(7);
            w.setPresetsIncludeSettings(true);
            QVERIFY2(w.savePresetFile(path), qPrintable(page->message()));
            saved = m->rows();
            QVERIFY(QFile::exists(path));
            QCOMPARE(w.recentPresets().first(), QFileInfo(path).absoluteFilePath());
        }
        MainWindow w2; // a fresh window, as after a restart
        ObjectivePage* page = w2.objectivePage();
        QVERIFY(page->selectSpec(QStringLiteral("pix2pix"), QStringLiteral("basic")));
        page->findChild<QSpinBox*>(QStringLiteral("batchSizeSpin"))->setValue(1);
        QVERIFY2(w2.loadPresetFile(path), qPrintable(page->message()));
        QCOMPARE(page->spec(), QStringLiteral("pix2pix"));
        QCOMPARE(page->subspec(), QStringLiteral("extended"));
        QCOMPARE(page->model()->rows().size(), saved.size());
        QVERIFY(page->model()->rows() == saved);
        QCOMPARE(page->config().dataloader.batch_size, 7);
        testenv::screenshot(&w2, QStringLiteral("page_objective"));
    }

    void badPresets_data()
    {
        QTest::addColumn<QByteArray>("content");
        QTest::addColumn<QStringList>("mustMention");
        QTest::newRow("not json") << QByteArray("{\"format\": \"nectar-preset\", oops")
                                  << QStringList { QStringLiteral("JSON") };
        QTest::newRow("unknown spec") << QByteArray(
            R"({"format":"nectar-preset","version":1,"spec":"pix3pix","subspec":"basic"})")
                                      << QStringList { QStringLiteral("/spec"), QStringLiteral("pix3pix") };
        QTest::newRow("unknown subspec") << QByteArray(
            R"({"format":"nectar-preset","version":1,"spec":"pix2pix","subspec":"extendd"})")
                                         << QStringList { QStringLiteral("/subspec"), QStringLiteral("extendd") };
        QTest::newRow("negative weight") << QByteArray(
            R"({"format":"nectar-preset","version":1,"spec":"pix2pix","subspec":"basic","losses":{"G_L1":{"weight":-1}}})")
                                         << QStringList { QStringLiteral("/losses/G_L1/weight"), QStringLiteral("-1") };
        QTest::newRow("weight not a number") << QByteArray(
            R"({"format":"nectar-preset","version":1,"spec":"pix2pix","subspec":"basic","losses":{"G_L1":{"weight":"lots"}}})")
                                             << QStringList { QStringLiteral("/losses/G_L1/weight"),
                                                    QStringLiteral("lots") };
        QTest::newRow("unknown loss") << QByteArray(
            R"({"format":"nectar-preset","version":1,"spec":"pix2pix","subspec":"basic","losses":{"G_FOO":{"weight":1}}})")
                                      << QStringList { QStringLiteral("/losses/G_FOO") };
        QTest::newRow("bad schedule") << QByteArray(
            R"({"format":"nectar-preset","version":1,"spec":"pix2pix","subspec":"basic","losses":{"G_L1":{"schedule":{"schedule":"linear","start_epoch":9,"end_epoch":2,"initial_value":1,"target_value":2}}}})")
                                      << QStringList { QStringLiteral("/losses/G_L1/schedule") };
        QTest::newRow("bad config value") << QByteArray(
            R"({"format":"nectar-preset","version":1,"spec":"pix2pix","subspec":"basic","config":{"dataloader":{"batch_size":0}}})")
                                          << QStringList { QStringLiteral("batch_size"), QStringLiteral("0") };
        QTest::newRow("wrong format") << QByteArray(R"({"format":"something-else"})")
                                      << QStringList { QStringLiteral("/format") };
    }
    void badPresets()
    {
        QFETCH(QByteArray, content);
        QFETCH(QStringList, mustMention);
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("bad.json"));
        writeFile(path, content);
        MainWindow w;
        ObjectivePage* page = w.objectivePage();
        QVERIFY(page->selectSpec(QStringLiteral("pix2pix"), QStringLiteral("extended")));
        LossTableModel* m = page->model();
        QVERIFY(m->setData(m->index(m->rowOf(QStringLiteral("G_L1")), LossTableModel::WeightColumn), 42.0));
        const auto before = m->rows();
        const int batch = page->config().dataloader.batch_size;
        QVERIFY(!w.loadPresetFile(path));
        const QString msg = page->message();
        QVERIFY2(msg.contains(path), qPrintable(msg));
        for (const QString& s : mustMention)
            QVERIFY2(msg.contains(s), qPrintable(QStringLiteral("'%1' not in: %2").arg(s, msg)));
        QVERIFY(m->rows() == before); // nothing changed
        QCOMPARE(page->subspec(), QStringLiteral("extended"));
        QCOMPARE(page->config().dataloader.batch_size, batch);
        QVERIFY(w.recentPresets().isEmpty() || !w.recentPresets().contains(QFileInfo(path).absoluteFilePath()));
    }

    void missingPresetFile()
    {
        MainWindow w;
        QVERIFY(!w.loadPresetFile(QStringLiteral("/nonexistent/p.json")));
        QVERIFY(w.objectivePage()->message().contains(QStringLiteral("/nonexistent/p.json")));
    }

    void bundledPresetsLoad()
    {
        const QStringList bundled = engine::bundledPresets();
        QVERIFY(bundled.size() >= 2);
        for (const QString& p : bundled) {
            MainWindow w;
            QVERIFY2(w.loadPresetFile(p), qPrintable(w.objectivePage()->message()));
            QVERIFY2(w.objectivePage()->message().isEmpty(), qPrintable(w.objectivePage()->message()));
        }
    }

    // Issue #10 item 1: a loss the preset leaves out keeps its weight; the page says so inline.
    void presetLeavingOutALossWarns()
    {
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("partial.json"));
        writeFile(path,
            R"({"format":"nectar-preset","version":1,"spec":"pix2pix","subspec":"extended","losses":{"G_L1":{"weight":50},"G_GAN":{"weight":1},"D_real":{"weight":1},"D_fake":{"weight":1},"G_L2":{"weight":1},"G_LAP":{"weight":1}}})");
        MainWindow w;
        QVERIFY(w.loadPresetFile(path));
        const QString msg = w.objectivePage()->message();
        QVERIFY2(
            msg.contains(path + QStringLiteral(": /losses: no entry for G_SOBEL; it keeps weight 0")), qPrintable(msg));
        QCOMPARE(w.objectivePage()->model()->rows().size(), std::size_t(7));
    }

    void recordedObjectiveReadsWithoutBuilding()
    {
        // A run's record is shown (Review page, Continue) from LossSpec values over the run's own config:
        // a +vgg objective needs no VGG19 file for that, and the run's vgg_weights setting is what it keeps.
        QTemporaryDir tmp;
        const QString dir = tmp.filePath(QStringLiteral("vgg_v1"));
        QVERIFY(QDir().mkpath(dir));
        writeFile(dir + QStringLiteral("/train1_config.json"),
            R"({"config": {"train": {"loss": {"subspec": "extended+vgg", "vgg_weights": "/nonexistent/vgg19.pth"}}}})");
        writeFile(dir + QStringLiteral("/train1_objective.json"),
            R"({"format": "nectar-preset", "version": 1, "spec": "pix2pix", "subspec": "extended+vgg",
                "losses": {"G_VGG": {"weight": 2.5}}})");
        engine::RunObjective o;
        QString error;
        QVERIFY2(engine::runObjective(dir, &o, &error), qPrintable(error));
        QCOMPARE(o.subspec, QStringLiteral("extended+vgg"));
        QCOMPARE(o.rows.size(), std::size_t(8));
        const auto vgg = std::find_if(
            o.rows.begin(), o.rows.end(), [](const LossRow& r) { return r.name == QStringLiteral("G_VGG"); });
        QVERIFY(vgg != o.rows.end());
        QCOMPARE(vgg->weight, 2.5);
        QCOMPARE(vgg->function, QStringLiteral("VGGPerceptual"));
    }

    void configFileRoundTrip()
    {
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("cfg.json"));
        MainWindow w;
        ObjectivePage* page = w.objectivePage();
        QVERIFY(page->selectSpec(QStringLiteral("pix2pix"), QStringLiteral("extended")));
        page->findChild<QSpinBox*>(QStringLiteral("epochsSpin"))->setValue(17);
        QVERIFY2(w.saveConfigFile(path), qPrintable(page->message()));
        MainWindow w2;
        QVERIFY2(w2.loadConfigFile(path), qPrintable(w2.objectivePage()->message()));
        QCOMPARE(w2.objectivePage()->config().train.generator.learning_rate.epochs, 17);
        QCOMPARE(w2.objectivePage()->subspec(), QStringLiteral("extended"));
        // NectarGAN's own default config loads unchanged.
        const QString nectargan = QStringLiteral(NECTAR_TEST_DATA_DIR "/reference/nectargan_default_config.json");
        QVERIFY2(w2.loadConfigFile(nectargan), qPrintable(w2.objectivePage()->message()));
        QCOMPARE(w2.objectivePage()->config().dataloader.load.crop_size, 256);
    }

    // Issue #11 item 3: at 1280×860 the schedule editor lies inside the table with every field at its full
    // width; Tab/Shift+Tab move between its fields; Enter commits; Escape cancels.
    void scheduleEditorFitsAndKeepsTab()
    {
        MainWindow w;
        ObjectivePage* page = w.objectivePage();
        QVERIFY(page->selectSpec(QStringLiteral("pix2pix"), QStringLiteral("extended")));
        showAtDefaultSize(w);
        LossTableModel* m = page->model();
        QTableView* view = lossTable(w);
        const int sobel = m->rowOf(QStringLiteral("G_SOBEL"));
        QCOMPARE(m->rows()[sobel].weight, 0.0); // the spec's default: off
        // Every row (the last one is where an editor would run off the bottom).
        for (const LossRow& r : std::vector<LossRow>(m->rows())) {
            QPointer<ScheduleEditor> editor = openScheduleEditor(w, r.name);
            QVERIFY2(editor && editor->isVisible(), qPrintable(r.name));
            const QRect area = view->viewport()->rect();
            QVERIFY2(area.contains(editor->geometry()),
                qPrintable(QStringLiteral("%1: editor %2,%3 %4×%5 outside the viewport %6×%7")
                               .arg(r.name)
                               .arg(editor->x())
                               .arg(editor->y())
                               .arg(editor->width())
                               .arg(editor->height())
                               .arg(area.width())
                               .arg(area.height())));
            for (QWidget* f : editor->fields()) {
                QVERIFY2(f->width() >= f->sizeHint().width(),
                    qPrintable(QStringLiteral("%1: %2 is %3 px wide, needs %4")
                                   .arg(r.name, QString::fromLatin1(f->metaObject()->className()))
                                   .arg(f->width())
                                   .arg(f->sizeHint().width())));
                QVERIFY(editor->rect().contains(f->geometry()));
            }
            QTest::keyClick(QApplication::focusWidget(), Qt::Key_Escape);
            QTRY_VERIFY(!editor);
        }

        QPointer<ScheduleEditor> editor = openScheduleEditor(w, QStringLiteral("G_SOBEL"));
        QVERIFY(editor);
        const QList<QWidget*> fields = editor->fields();
        auto focusedField = [&]() -> int {
            for (int i = 0; i < fields.size(); ++i)
                if (fields[i] == QApplication::focusWidget() || fields[i]->isAncestorOf(QApplication::focusWidget()))
                    return i;
            return -1;
        };
        QCOMPARE(focusedField(), 0); // the kind first
        // Choosing a kind starts from the loss's weight (0) over the run's epochs.
        auto* kind = qobject_cast<QComboBox*>(fields[0]);
        kind->setCurrentText(QStringLiteral("linear"));
        const nectar::Config c = page->config();
        const int last = c.train.generator.learning_rate.epochs + c.train.generator.learning_rate.epochs_decay;
        QCOMPARE(editor->value().value(QStringLiteral("initial_value")).toDouble(), 0.0);
        QCOMPARE(editor->value().value(QStringLiteral("target_value")).toDouble(), 0.0);
        QCOMPARE(editor->value().value(QStringLiteral("start_epoch")).toInt(), 1);
        QCOMPARE(editor->value().value(QStringLiteral("end_epoch")).toInt(), last);
        testenv::screenshot(&w, QStringLiteral("objective_schedule_editor"));
        for (int expected : { 1, 2, 3, 4, 0 }) { // kind → initial → target → start → end → kind
            QTest::keyClick(QApplication::focusWidget(), Qt::Key_Tab);
            QVERIFY(editor && editor->isVisible());
            QCOMPARE(focusedField(), expected);
        }
        QTest::keyClick(QApplication::focusWidget(), Qt::Key_Backtab, Qt::ShiftModifier);
        QCOMPARE(focusedField(), 4);
        QTest::keyClick(QApplication::focusWidget(), Qt::Key_Tab, Qt::ShiftModifier); // Shift+Tab as some send it
        QCOMPARE(focusedField(), 3);
        QCOMPARE(m->rows()[sobel].schedule.kind, nectar::Schedule::Kind::None); // nothing committed yet
        // Type a target in its field, Enter: committed, the editor closes, the table has the focus back.
        QTest::keyClick(QApplication::focusWidget(), Qt::Key_Backtab, Qt::ShiftModifier);
        QCOMPARE(focusedField(), 2);
        QTest::keyClick(QApplication::focusWidget(), Qt::Key_A, Qt::ControlModifier);
        QTest::keyClicks(QApplication::focusWidget(), QStringLiteral("5"));
        QTest::keyClick(QApplication::focusWidget(), Qt::Key_Return);
        QTRY_VERIFY(!editor);
        const nectar::Schedule& s = m->rows()[sobel].schedule;
        QCOMPARE(s.kind, nectar::Schedule::Kind::Linear);
        QCOMPARE(s.initial_value, 0.0);
        QCOMPARE(s.target_value, 5.0);
        QCOMPARE(s.end_epoch, last);
        QCOMPARE(QApplication::focusWidget(), static_cast<QWidget*>(view));

        // Escape: nothing changes.
        editor = openScheduleEditor(w, QStringLiteral("G_SOBEL"));
        QVERIFY(editor);
        qobject_cast<QComboBox*>(editor->fields()[0])->setCurrentText(QStringLiteral("none"));
        QTest::keyClick(QApplication::focusWidget(), Qt::Key_Escape);
        QTRY_VERIFY(!editor);
        QCOMPARE(m->rows()[sobel].schedule.kind, nectar::Schedule::Kind::Linear);

        // The focus leaving the editor (a click elsewhere) commits it, as the other cells' editors do.
        editor = openScheduleEditor(w, QStringLiteral("G_SOBEL"));
        QVERIFY(editor);
        qobject_cast<QComboBox*>(editor->fields()[0])->setCurrentText(QStringLiteral("none"));
        page->findChild<QLineEdit*>(QStringLiteral("newNameEdit"))->setFocus(Qt::MouseFocusReason);
        QTRY_VERIFY(!editor);
        QCOMPARE(m->rows()[sobel].schedule.kind, nectar::Schedule::Kind::None);
        QCOMPARE(m->index(sobel, LossTableModel::WeightColumn).data().toString(), QStringLiteral("0"));
    }

    // Issue #11 item 4 through the page: the refusal is shown inline and names the way out.
    void scheduledWeightEditShowsWhy()
    {
        MainWindow w;
        ObjectivePage* page = w.objectivePage();
        QVERIFY(page->selectSpec(QStringLiteral("pix2pix"), QStringLiteral("extended")));
        LossTableModel* m = page->model();
        const int l1 = m->rowOf(QStringLiteral("G_L1"));
        QVERIFY(m->setData(m->index(l1, LossTableModel::ScheduleColumn),
            LossTableModel::scheduleToMap(nectar::Schedule::linear(1, 4, 100.0, 10.0)), LossTableModel::ScheduleRole));
        QVERIFY(!m->setData(m->index(l1, LossTableModel::WeightColumn), QStringLiteral("50")));
        QVERIFY2(page->message().contains(QStringLiteral("G_L1")) && page->message().contains(QStringLiteral("none")),
            qPrintable(page->message()));
        QCOMPARE(m->rows()[l1].weight, 100.0);
    }

    // Issue #11 item 9: at 1280×860 and larger, no cell text is elided and "Add a loss" shows whole names.
    void tableColumnsAndAddFormShowWholeTexts_data()
    {
        QTest::addColumn<QSize>("size");
        QTest::newRow("1280x860") << QSize(1280, 860);
        QTest::newRow("1920x1080") << QSize(1920, 1080);
    }
    void tableColumnsAndAddFormShowWholeTexts()
    {
        QFETCH(QSize, size);
        MainWindow w;
        ObjectivePage* page = w.objectivePage();
        QVERIFY(page->selectSpec(QStringLiteral("pix2pix"), QStringLiteral("extended")));
        showAtDefaultSize(w, size);
        LossTableModel* m = page->model();
        // Edits after the table was filled make cells wider: scheduled weights, a long schedule, long tags.
        QVERIFY(m->setData(m->index(m->rowOf(QStringLiteral("G_SOBEL")), LossTableModel::ScheduleColumn),
            LossTableModel::scheduleToMap(nectar::Schedule::exponential(12, 150, 0.25, 12.5)),
            LossTableModel::ScheduleRole));
        QVERIFY(m->setData(m->index(m->rowOf(QStringLiteral("G_L1")), LossTableModel::ScheduleColumn),
            LossTableModel::scheduleToMap(nectar::Schedule::linear(1, 100, 100.125, 10.0)),
            LossTableModel::ScheduleRole));
        QVERIFY(m->setData(
            m->index(m->rowOf(QStringLiteral("G_L2")), LossTableModel::TagsColumn), QStringLiteral("G, structure")));
        QCoreApplication::processEvents();
        QTableView* view = lossTable(w);
        const QFontMetrics fm = view->fontMetrics();
        for (int c = 0; c < LossTableModel::ColumnCount; ++c) {
            const int width = view->horizontalHeader()->sectionSize(c);
            for (int r = 0; r < m->rowCount(); ++r) {
                const QString text = m->index(r, c).data().toString();
                QVERIFY2(
                    width >= fm.horizontalAdvance(text) + 2 * view->style()->pixelMetric(QStyle::PM_FocusFrameHMargin),
                    qPrintable(QStringLiteral("column %1 is %2 px, \"%3\" needs %4")
                                   .arg(c)
                                   .arg(width)
                                   .arg(text)
                                   .arg(fm.horizontalAdvance(text))));
            }
            QVERIFY2(width >= static_cast<QAbstractItemView*>(view)->sizeHintForColumn(c),
                qPrintable(QStringLiteral("column %1: %2 < %3")
                               .arg(c)
                               .arg(width)
                               .arg(static_cast<QAbstractItemView*>(view)->sizeHintForColumn(c))));
        }
        auto* fn = page->findChild<QComboBox*>(QStringLiteral("newFunctionCombo"));
        fn->setCurrentText(QStringLiteral("BCEWithLogits"));
        int longest = 0;
        for (int i = 0; i < fn->count(); ++i)
            longest = std::max(longest, fn->fontMetrics().horizontalAdvance(fn->itemText(i)));
        QVERIFY2(fn->width() >= fn->sizeHint().width() && fn->width() > longest,
            qPrintable(QStringLiteral("function box %1 px, hint %2, longest name %3")
                           .arg(fn->width())
                           .arg(fn->sizeHint().width())
                           .arg(longest)));
        for (const char* name : { "newPredictionCombo", "newTargetCombo" }) {
            auto* c = page->findChild<QComboBox*>(QLatin1String(name));
            QVERIFY2(c->width() >= c->sizeHint().width(), name);
        }
        testenv::screenshot(&w, QStringLiteral("objective_table_%1x%2").arg(size.width()).arg(size.height()));
    }

    // Issue #11 item 5 through the page: clearing the tags, or adding a loss without G or D, is refused inline.
    void lossWithoutGOrDIsRefusedWhereEdited()
    {
        MainWindow w;
        ObjectivePage* page = w.objectivePage();
        QVERIFY(page->selectSpec(QStringLiteral("pix2pix"), QStringLiteral("extended")));
        LossTableModel* m = page->model();
        const int l2 = m->rowOf(QStringLiteral("G_L2"));
        QVERIFY(!m->setData(m->index(l2, LossTableModel::TagsColumn), QString()));
        QVERIFY2(
            page->message().contains(QStringLiteral("G_L2")) && page->message().contains(QStringLiteral("weight to 0")),
            qPrintable(page->message()));
        QCOMPARE(m->rows()[l2].tags, QStringList { QStringLiteral("G") });
        const int before = m->rowCount();
        page->findChild<QLineEdit*>(QStringLiteral("newNameEdit"))->setText(QStringLiteral("G_EDGES"));
        page->findChild<QLineEdit*>(QStringLiteral("newTagsEdit"))->setText(QStringLiteral("edges"));
        page->findChild<QPushButton*>(QStringLiteral("addLossButton"))->click();
        QCOMPARE(m->rowCount(), before);
        QVERIFY2(page->message().contains(QStringLiteral("G_EDGES"))
                && page->message().contains(QStringLiteral("trains nothing")),
            qPrintable(page->message()));
        page->findChild<QLineEdit*>(QStringLiteral("newTagsEdit"))->setText(QStringLiteral("edges, G"));
        page->findChild<QPushButton*>(QStringLiteral("addLossButton"))->click();
        QCOMPARE(m->rowCount(), before + 1);
        // Every bundled spec and preset tags each loss with G or D, so they all still load.
        for (const QString& spec : engine::specNames())
            for (const QString& sub : engine::spec(spec).subspecs)
                for (const LossRow& r : engine::buildRows(spec, sub, page->config())) {
                    QString error;
                    QVERIFY2(LossTableModel::checkTrainingTags(r.name, r.tags, &error),
                        qPrintable(spec + QLatin1Char('/') + sub + QStringLiteral(": ") + error));
                }
    }

    // Issue #11 item 8: without VGG19 weights the +vgg table still lists every loss; G_VGG is greyed with the
    // engine's message (naming the curl command) in its tooltip and above the table, stays editable, a +vgg
    // preset loads and saves, and training is still refused at start with the same message.
    void vggTableShowsEveryLossWithoutWeights()
    {
        QTemporaryDir home;
        const ScopedEnv h("HOME", home.path().toLocal8Bit());
        const ScopedEnv t("TORCH_HOME", home.filePath(QStringLiteral("torch")).toLocal8Bit());
        MainWindow w;
        ObjectivePage* page = w.objectivePage();
        nectar::Config c = page->config();
        c.train.loss.vgg_weights.clear();
        c.train.loss.subspec = "extended+vgg";
        testenv::useTinyModel(c);
        c.common.output_directory = home.filePath(QStringLiteral("runs")).toStdString();
        page->setConfig(c);
        QCOMPARE(page->subspec(), QStringLiteral("extended+vgg"));
        LossTableModel* m = page->model();
        QCOMPARE(m->rowCount(), 8);
        QCOMPARE(m->unavailableLosses(), QStringList { QStringLiteral("G_VGG") });
        const int vgg = m->rowOf(QStringLiteral("G_VGG"));
        const QString reason = m->rows()[vgg].unavailable;
        QVERIFY2(
            reason.contains(QStringLiteral("curl")) && reason.contains(QStringLiteral("vgg19")), qPrintable(reason));
        QVERIFY(m->index(vgg, LossTableModel::NameColumn).data(Qt::ToolTipRole).toString().contains(reason));
        QVERIFY2(page->availabilityMessage().contains(QStringLiteral("G_VGG"))
                && page->availabilityMessage().contains(QStringLiteral("curl")),
            qPrintable(page->availabilityMessage()));
        QVERIFY(page->message().isEmpty()); // not an error of an edit
        QVERIFY(m->setData(m->index(vgg, LossTableModel::WeightColumn), 2.5));
        QVERIFY(!page->availabilityMessage().isEmpty()); // an edit does not hide it
        showAtDefaultSize(w);
        testenv::screenshot(&w, QStringLiteral("objective_vgg_unavailable"));

        // A +vgg preset saves and loads without the weights (it used to fail on building G_VGG).
        const QString preset = home.filePath(QStringLiteral("vgg.json"));
        QVERIFY2(w.savePresetFile(preset), qPrintable(page->message()));
        QVERIFY(page->selectSpec(QStringLiteral("pix2pix"), QStringLiteral("basic")));
        QVERIFY(page->availabilityMessage().isEmpty());
        QVERIFY2(w.loadPresetFile(preset), qPrintable(page->message()));
        QCOMPARE(m->rowCount(), 8);
        QCOMPARE(m->rows()[m->rowOf(QStringLiteral("G_VGG"))].weight, 2.5);
        QCOMPARE(m->unavailableLosses(), QStringList { QStringLiteral("G_VGG") });

        // Training it is refused at start by the trainer, with the engine's message.
        QSignalSpy failed(w.session(), &TrainingSession::failed);
        QVERIFY(w.startTraining());
        QVERIFY(failed.wait(120000));
        const QString error = failed.first().first().toString();
        QVERIFY2(error.contains(QStringLiteral("VGG19")) && error.contains(QStringLiteral("curl")), qPrintable(error));
        QTRY_COMPARE(w.session()->state(), TrainingSession::State::Idle);

        // A file appears where the engine looks (here a broken one): the table checks again, edits kept.
        QVERIFY(QDir().mkpath(home.filePath(QStringLiteral("torch/hub/checkpoints"))));
        writeFile(home.filePath(QStringLiteral("torch/hub/checkpoints/vgg19-dcbb9e9d.pth")), "not a checkpoint");
        page->recheckAvailability();
        const QString now = m->rows()[m->rowOf(QStringLiteral("G_VGG"))].unavailable;
        QVERIFY2(!now.isEmpty() && now != reason && !now.contains(QStringLiteral("curl")), qPrintable(now));
        QVERIFY2(page->availabilityMessage().contains(now), qPrintable(page->availabilityMessage()));
        QCOMPARE(m->rows()[m->rowOf(QStringLiteral("G_VGG"))].weight, 2.5);
    }

    void saveAsSpecAppearsAtOnce()
    {
        MainWindow w;
        ObjectivePage* page = w.objectivePage();
        QVERIFY(page->selectSpec(QStringLiteral("pix2pix"), QStringLiteral("basic")));
        LossRow extra;
        extra.name = QStringLiteral("G_L2");
        extra.function = QStringLiteral("MSE");
        extra.weight = 3.0;
        extra.tags = { QStringLiteral("G") };
        extra.prediction = QStringLiteral("fake");
        extra.target = QStringLiteral("real");
        QString error;
        QVERIFY(page->model()->addLoss(extra, &error));
        QVERIFY(!page->model()->addLoss(extra, &error)); // duplicate refused
        QVERIFY(error.contains(QStringLiteral("G_L2")));
        const QString file = engine::saveRowsAsSpec(
            QStringLiteral("my_spec"), QStringLiteral("test spec"), page->model()->rows(), &error);
        QVERIFY2(!file.isEmpty(), qPrintable(error));
        QVERIFY(file.startsWith(engine::userSpecDirectory()));
        page->refreshSpecs();
        auto* spec = page->findChild<QComboBox*>(QStringLiteral("specCombo"));
        QVERIFY(spec->findText(QStringLiteral("my_spec")) >= 0);
        QVERIFY(page->selectSpec(QStringLiteral("my_spec"), QStringLiteral("default")));
        QCOMPARE(page->model()->rowCount(), 5);
        QCOMPARE(page->model()->rows()[page->model()->rowOf(QStringLiteral("G_L2"))].weight, 3.0);
        // Built-in names are refused.
        QVERIFY(engine::saveRowsAsSpec(QStringLiteral("pix2pix"), {}, page->model()->rows(), &error).isEmpty());
        QVERIFY(error.contains(QStringLiteral("pix2pix")));
        // A new window (next start) finds it in the user folder.
        MainWindow w2;
        QVERIFY(
            w2.objectivePage()->findChild<QComboBox*>(QStringLiteral("specCombo"))->findText(QStringLiteral("my_spec"))
            >= 0);
    }
};

QTEST_MAIN(TestObjectivePage)
#include "tst_objectivepage.moc"
