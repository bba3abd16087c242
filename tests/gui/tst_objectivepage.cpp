// SPDX-License-Identifier: Apache-2.0
// Objective page: spec/subspec switching, presets (round trip, every bad-preset case), config files,
// "Save as spec…" into the user folder.
#include <QAbstractButton>
#include <QAbstractItemModelTester>
#include <QAbstractSlider>
#include <QComboBox>
#include <QLineEdit>
#include <QSpinBox>
#include <QTabBar>
#include <QTableView>
#include <QtTest>

#include "bridge/enginebridge.h"
#include "mainwindow.h"
#include "objective/losstablemodel.h"
#include "pages/objectivepage.h"
#include "pages/settingsform.h"
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
