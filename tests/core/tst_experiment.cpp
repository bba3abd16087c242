// SPDX-License-Identifier: Apache-2.0
// Experiment folders (training/experiment.h): version numbering and per-run config copies.
#include <QTemporaryDir>
#include <QtTest/QtTest>

#include <filesystem>

#include "config/config.h"
#include "training/experiment.h"

using namespace nectar;
namespace fs = std::filesystem;

class TestExperiment : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void experimentVersionsNumericOrder()
    {
        QTemporaryDir tmp;
        const std::string root = tmp.path().toStdString();
        for (int v : { 1, 2, 9 })
            fs::create_directories(root + "/exp_v" + std::to_string(v));
        fs::create_directories(root + "/exp_vx");
        fs::create_directories(root + "/other_v50");
        Config c;
        c.common.output_directory = root;
        c.common.experiment_name = "exp";
        c.common.experiment_version = 1;
        auto p = prepare_experiment_dir(c);
        QCOMPARE(p.version, 10); // after v9 (NectarGAN's string sort would pick v9 + 1 only by luck)
        QVERIFY(fs::is_directory(p.dir));
        QVERIFY(fs::is_directory(p.examples));
        auto p2 = prepare_experiment_dir(c);
        QCOMPARE(p2.version, 11); // v10 > v9 numerically
        const auto versions = existing_experiment_versions(root, "exp");
        QCOMPARE(versions, (std::vector<int> { 1, 2, 9, 10, 11 }));

        c.save.auto_increment_version = false;
        QVERIFY_THROWS_EXCEPTION(std::runtime_error, prepare_experiment_dir(c));

        c.train.load.continue_train = true;
        c.common.experiment_version = 10;
        QCOMPARE(prepare_experiment_dir(c).version, 10);
        c.common.experiment_version = 12;
        try {
            prepare_experiment_dir(c);
            QFAIL("expected an error");
        } catch (const std::runtime_error& e) {
            QVERIFY(QString::fromStdString(e.what()).contains(QStringLiteral("1, 2, 9, 10, 11")));
        }
    }

    void configCopyPerRun()
    {
        QTemporaryDir tmp;
        const std::string dir = tmp.path().toStdString();
        Config c;
        c.dataloader.dataroot = "/somewhere";
        QCOMPARE(write_config_copy(c, dir), dir + "/train1_config.json");
        QCOMPARE(write_config_copy(c, dir), dir + "/train2_config.json");
        const Config back = load_config_file(dir + "/train2_config.json");
        QCOMPARE(back.dataloader.dataroot, std::string("/somewhere"));
    }
};

QTEST_GUILESS_MAIN(TestExperiment)
#include "tst_experiment.moc"
