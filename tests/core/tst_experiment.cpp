// SPDX-License-Identifier: Apache-2.0
// Experiment folders (training/experiment.h): version numbering and per-run config copies.
#include <QTemporaryDir>
#include <QtTest/QtTest>

#include <filesystem>
#include <limits>

#include "config/config.h"
#include "objective/preset.h"
#include "training/experiment.h"
#include "training/run_compare.h"

using namespace nectar;
namespace fs = std::filesystem;

namespace {

/// Removes a folder whose names need not be UTF-8 (QTemporaryDir removes through QString names).
struct RemoveAll {
    std::string path;
    ~RemoveAll()
    {
        std::error_code ec;
        std::filesystem::remove_all(path, ec);
    }
};

} // namespace

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

    void versionsAreRangeChecked()
    {
        // Issue #10, item 8: the next version was computed with int arithmetic (v2147483647 + 1 wrapped to
        // _v-2147483648) and could leave the 1-to-9-digit range that --experiment parses back.
        QTemporaryDir tmp;
        const std::string root = tmp.path().toStdString();
        fs::create_directories(root + "/exp_v1");
        fs::create_directories(root + "/exp_v999999999");
        Config c;
        c.common.output_directory = root;
        c.common.experiment_name = "exp";
        c.common.experiment_version = 1;
        try {
            const auto p = prepare_experiment_dir(c);
            QFAIL(qPrintable(QStringLiteral("expected an error, got version %1").arg(p.version)));
        } catch (const std::runtime_error& e) {
            const QString msg = QString::fromStdString(e.what());
            QVERIFY2(
                msg.contains(QStringLiteral("exp_v999999999")) && msg.contains(QStringLiteral("999999999")), e.what());
        }
        QVERIFY(!fs::exists(root + "/exp_v1000000000"));
        // A version outside the range is refused even without a folder to increment from.
        c.common.experiment_version = std::numeric_limits<int>::max();
        QVERIFY_THROWS_EXCEPTION(std::runtime_error, prepare_experiment_dir(c));
        QCOMPARE(std::distance(fs::directory_iterator(root), fs::directory_iterator()), 2L);
        // parse_experiment_folder reads back what prepare_experiment_dir can write, and nothing larger.
        QCOMPARE(parse_experiment_folder(root + "/exp_v999999999")->version, 999999999);
        QVERIFY(!parse_experiment_folder(root + "/exp_v1000000000"));
    }

    void nonUtf8OutputDirectoryIsByteExact()
    {
        // Issue #10, item 2: the folder must be the bytes given, not a U+FFFD spelling of them.
        QTemporaryDir tmp;
        const std::string out = tmp.path().toStdString() + "/runs\xe9";
        const RemoveAll cleanup { out }; // QTemporaryDir cannot remove names that are not UTF-8
        Config c;
        c.common.output_directory = out;
        c.common.experiment_name = "caf\xe9";
        c.dataloader.dataroot = "/data/d\xe9ta";
        const auto p = prepare_experiment_dir(c);
        QCOMPARE(p.dir, out + "/caf\xe9_v1");
        QVERIFY(fs::is_directory(p.dir));
        const std::string copy = write_config_copy(c, p.dir);
        QCOMPARE(copy, p.dir + "/train1_config.json");
        QVERIFY(fs::is_regular_file(copy));
        QCOMPARE(latest_config_copy_path(p.dir), copy);
        // Read back byte-exact: the copy spells the bytes as \xNN in its (UTF-8) JSON text.
        const Config back = load_config_file(copy);
        QCOMPARE(back.dataloader.dataroot, std::string("/data/d\xe9ta"));
        QCOMPARE(back.common.output_directory, out);
        QCOMPARE(back.common.experiment_name, std::string("caf\xe9"));
        QCOMPARE(parse_experiment_folder(p.dir)->output_directory, out);
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

    // #12: the Review page's Compare: a loss-aware diff of two saved runs with different objectives.
    void diffOfTwoRuns()
    {
        QTemporaryDir tmp;
        const std::string a = tmp.path().toStdString() + "/edges_v1";
        const std::string b = tmp.path().toStdString() + "/edges_v2";
        fs::create_directories(a);
        fs::create_directories(b);
        Config ca;
        ca.dataloader.batch_size = 1;
        Config cb = ca;
        cb.dataloader.batch_size = 4;
        cb.common.experiment_name = "other"; // names the run itself: not a difference
        write_config_copy(ca, a);
        write_config_copy(cb, b);
        Preset pa, pb;
        pa.spec = pb.spec = "pix2pix";
        pa.subspec = "extended";
        pb.subspec = "extended";
        pa.losses["G_L1"].weight = 100.0;
        pb.losses["G_L1"].weight = 50.0;
        pa.losses["G_SOBEL"].weight = 0.0;
        pb.losses["G_SOBEL"].weight = 0.0;
        pb.losses["G_SOBEL"].schedule = Schedule::linear(1, 10, 0.0, 10.0);
        pa.losses["G_GAN"].tags = std::vector<std::string> { "G" };
        pb.losses["G_GAN"].tags = std::vector<std::string> { "G", "D" };
        pa.losses["G_L2"].weight = 1.0; // only in A
        save_preset_file(pa, objective_copy_path(a + "/train1_config.json"));
        save_preset_file(pb, objective_copy_path(b + "/train1_config.json"));
        const RunRecord ra = read_run_record(a);
        const RunRecord rb = read_run_record(b);
        QVERIFY2(ra.warnings.empty(), ra.warnings.empty() ? "" : ra.warnings[0].c_str());
        QCOMPARE(ra.name, std::string("edges_v1"));
        QCOMPARE(ra.functions.at("G_SOBEL"), std::string("Sobel"));
        QCOMPARE(ra.functions.at("G_L1"), std::string("L1"));
        std::vector<std::string> got;
        for (const auto& d : diff_runs(ra, rb))
            got.push_back(d.loss + "|" + d.field + "|" + d.a + "|" + d.b);
        const std::vector<std::string> want {
            "G_GAN|tags|G|G, D",
            "G_L1|weight|100|50",
            "G_L2|loss|present|(absent)",
            "G_SOBEL|schedule|none|linear 0 to 10 over epochs 1-10",
            "|/config/dataloader/batch_size|1|4",
        };
        QCOMPARE(got, want);
        // The same run against itself: no difference. A folder without records (NectarGAN's): warnings only.
        QVERIFY(diff_runs(ra, ra).empty());
        const RunRecord empty = read_run_record(tmp.path().toStdString());
        QVERIFY(!empty.has_objective);
        QVERIFY(!diff_runs(ra, empty).empty());
    }
};

QTEST_GUILESS_MAIN(TestExperiment)
#include "tst_experiment.moc"
