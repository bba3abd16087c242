// SPDX-License-Identifier: Apache-2.0
// nectar-train / nectar-test driven as processes: exit codes 0 / 1 / 2, --print-objective, --list-specs,
// a short real training run, the missing-checkpoint message, the test metrics, nectar-test's modes (split,
// --folder, --input-dir with resize / tile), versioned test folders, Ctrl-C and its bad input.

#include <QDir>
#include <QFile>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest/QtTest>

#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>

#include <sys/wait.h>

#include <nlohmann/json.hpp>

#include "cli_config_fixture.h"

using nlohmann::json;
namespace fs = std::filesystem;

namespace {

struct Result {
    int code = -1;
    QString out, err;
};

Result run(const QString& exe, const QStringList& args, int timeout_ms = 240000)
{
    QProcess p;
    p.start(exe, args);
    if (!p.waitForFinished(timeout_ms)) {
        p.kill();
        p.waitForFinished();
        return {};
    }
    Result r;
    r.code = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -2;
    r.out = QString::fromUtf8(p.readAllStandardOutput());
    r.err = QString::fromUtf8(p.readAllStandardError());
    return r;
}

/// Removes a folder whose names need not be UTF-8 (QTemporaryDir removes through QString names).
struct RemoveAll {
    std::string path;
    ~RemoveAll()
    {
        std::error_code ec;
        std::filesystem::remove_all(path, ec);
    }
};

/// Runs `exe` with arguments passed as raw bytes (QProcess would re-encode them as UTF-8, turning a Latin-1
/// name into another one). stdout and stderr are decoded as UTF-8 for the checks.
Result run_bytes(const std::string& exe, const std::vector<std::string>& args, const std::string& scratch)
{
    auto quote = [](const std::string& s) {
        std::string q = "'";
        for (char c : s)
            q += c == '\'' ? std::string("'\\''") : std::string(1, c);
        return q + "'";
    };
    const std::string out = scratch + "/run.out", err = scratch + "/run.err";
    std::string cmd = "timeout 300 " + quote(exe);
    for (const auto& a : args)
        cmd += " " + quote(a);
    cmd += " >" + quote(out) + " 2>" + quote(err) + " </dev/null";
    const int status = std::system(cmd.c_str());
    auto slurp = [](const std::string& path) {
        std::ifstream in(path, std::ios::binary);
        return QString::fromUtf8(std::string(std::istreambuf_iterator<char>(in), {}).c_str());
    };
    Result r;
    r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -2;
    r.out = slurp(out);
    r.err = slurp(err);
    return r;
}

const QString kTrain = QStringLiteral(NECTAR_TRAIN_EXE);
const QString kTest = QStringLiteral(NECTAR_TEST_EXE);
const std::string kTiny = std::string(NECTAR_TEST_DATA_DIR) + "/tiny";

std::string write_config(const QString& dir, const json& patch = json::object())
{
    return testcli::write_tiny_config(dir, patch);
}

} // namespace

class TestCli : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void badInputExitsTwo_data()
    {
        QTest::addColumn<QStringList>("args");
        QTest::addColumn<QString>("needle");
        QTest::newRow("missing config") << QStringList { QStringLiteral("--config"),
            QStringLiteral("/nonexistent/c.json") }
                                        << QStringLiteral("/nonexistent/c.json");
        QTest::newRow("bad epochs") << QStringList { QStringLiteral("--epochs"), QStringLiteral("abc") }
                                    << QStringLiteral("--epochs");
        QTest::newRow("unknown option") << QStringList { QStringLiteral("--frobnicate") }
                                        << QStringLiteral("frobnicate");
        QTest::newRow("unknown subspec") << QStringList { QStringLiteral("--subspec"), QStringLiteral("extende"),
            QStringLiteral("--print-objective") }
                                         << QStringLiteral("extende");
        QTest::newRow("bad device") << QStringList { QStringLiteral("--device"), QStringLiteral("tpu"),
            QStringLiteral("--dataroot"), QString::fromStdString(kTiny), QStringLiteral("--output"),
            QStringLiteral("/tmp/nectar-cli-none") }
                                    << QStringLiteral("tpu");
        QTest::newRow("missing dataroot") << QStringList { QStringLiteral("--dataroot"),
            QStringLiteral("/nonexistent/data"), QStringLiteral("--output"), QStringLiteral("/tmp/nectar-cli-none") }
                                          << QStringLiteral("/nonexistent/data");
    }

    void badInputExitsTwo()
    {
        QFETCH(QStringList, args);
        QFETCH(QString, needle);
        const Result r = run(kTrain, args);
        QCOMPARE(r.code, 2);
        QVERIFY2(r.err.contains(needle), qPrintable(r.err));
        QVERIFY(r.out.isEmpty());
    }

    void printObjective()
    {
        const Result r = run(
            kTrain, { QStringLiteral("--subspec"), QStringLiteral("extended"), QStringLiteral("--print-objective") });
        QCOMPARE(r.code, 0);
        const json j = json::parse(r.out.toStdString());
        QCOMPARE(j["spec"], "pix2pix");
        QCOMPARE(j["subspec"], "extended");
        std::map<std::string, json> by_name;
        for (const auto& e : j["losses"])
            by_name[e["name"]] = e;
        QCOMPARE(by_name.size(), size_t(7));
        const json& l1 = by_name["G_L1"];
        QCOMPARE(l1["function"], "L1");
        QCOMPARE(l1["weight"].get<double>(), 100.0);
        QCOMPARE(l1["tags"], json::array({ "G" }));
        QCOMPARE(l1["inputs"]["prediction"], "fake");
        QCOMPARE(l1["inputs"]["target"], "real");
        QCOMPARE(l1["schedule"]["schedule"], "none");
        QCOMPARE(by_name["D_fake"]["inputs"]["prediction"], "D_fake");
        QCOMPARE(by_name["D_fake"]["inputs"]["target"], "zeros");
        QCOMPARE(by_name["G_GAN"]["inputs"]["target"], "ones");
    }

    void printObjectiveWithPreset()
    {
        QTemporaryDir tmp;
        const std::string preset = tmp.path().toStdString() + "/p.json";
        std::ofstream(preset) << R"({"format": "nectar-preset", "version": 1, "subspec": "extended",
            "losses": {"G_SOBEL": {"weight": 7.5, "tags": ["G", "edges"]}}})";
        const Result r = run(kTrain,
            { QStringLiteral("--preset"), QString::fromStdString(preset), QStringLiteral("--print-objective") });
        QCOMPARE(r.code, 0);
        // Issue #10 item 1: the losses the preset does not list keep their weight, with a warning each.
        QVERIFY2(r.err.contains(QStringLiteral(
                     "/p.json: /losses: no entry for G_L1; it keeps weight 100 from the spec and the config")),
            qPrintable(r.err));
        QVERIFY2(r.err.contains(QStringLiteral("no entry for D_real; it keeps weight 1 ")), qPrintable(r.err));
        const json j = json::parse(r.out.toStdString());
        QCOMPARE(j["subspec"], "extended");
        bool found = false;
        for (const auto& e : j["losses"])
            if (e["name"] == "G_SOBEL") {
                found = true;
                QCOMPARE(e["weight"].get<double>(), 7.5);
                QCOMPARE(e["tags"], json::array({ "G", "edges" }));
            }
        QVERIFY(found);
        // A bad preset value exits 2 naming the file and key.
        std::ofstream(preset) << R"({"losses": {"G_L1": {"weight": "lots"}}})";
        const Result bad = run(kTrain,
            { QStringLiteral("--preset"), QString::fromStdString(preset), QStringLiteral("--print-objective") });
        QCOMPARE(bad.code, 2);
        QVERIFY2(bad.err.contains(QStringLiteral("/losses/G_L1/weight")), qPrintable(bad.err));
    }

    // Issue #10 items 5, 7 and 8: hostile files exit 2 with a short message naming the file, never a crash,
    // an abort or a 200 MB echo.
    void hostileFilesExitTwo_data()
    {
        QTest::addColumn<QString>("flag");
        QTest::addColumn<QString>("name");
        QTest::addColumn<QByteArray>("content"); // empty: a folder of that name
        QTest::addColumn<QString>("needle");
        const QByteArray deep = QByteArray(100000, '[') + QByteArray(100000, ']');
        QByteArray deepObject = QByteArray("{\"a\":").repeated(100000) + "1" + QByteArray(100000, '}');
        const QByteArray zeros = "[0" + QByteArray(",0").repeated(1600000) + "]"; // 3.2 MB
        const QByteArray chunk = "[0" + QByteArray(",0").repeated(59999) + "]"; // under the element cap
        const QByteArray nested = "[" + chunk + QByteArray("," + chunk).repeated(24) + "]"; // 3 MB
        QTest::newRow("deep config") << QStringLiteral("--config") << QStringLiteral("deep.json")
                                     << QByteArray(R"({"config": {"common": {"x": )" + deep + "}}}")
                                     << QStringLiteral("deep.json: /config/common/x/0/... (");
        QTest::newRow("deep preset") << QStringLiteral("--preset") << QStringLiteral("deep.json")
                                     << QByteArray(R"({"config": )" + deepObject + "}")
                                     << QStringLiteral("deep.json: /config/a/a/a/... (");
        QTest::newRow("config folder") << QStringLiteral("--config") << QStringLiteral("cfg.json") << QByteArray()
                                       << QStringLiteral("cfg.json: is a folder, expected a config file");
        QTest::newRow("preset folder") << QStringLiteral("--preset") << QStringLiteral("p.json") << QByteArray()
                                       << QStringLiteral("p.json: is a folder, expected a preset file");
        QTest::newRow("huge array under an unknown key")
            << QStringLiteral("--config") << QStringLiteral("big.json")
            << QByteArray(R"({"config": {}, "x": )" + zeros + ", \"y\": " + zeros + "}")
            << QStringLiteral("more than the 4 MiB limit for a config file");
        QTest::newRow("huge non-object preset")
            << QStringLiteral("--preset") << QStringLiteral("big.json") << QByteArray(zeros + zeros)
            << QStringLiteral("more than the 4 MiB limit for a preset file");
        QTest::newRow("non-object preset") << QStringLiteral("--preset") << QStringLiteral("array.json") << nested
                                           << QStringLiteral("array.json: /: expected a JSON object, got [[0,0,0");
        QTest::newRow("overflowing lambda")
            << QStringLiteral("--config") << QStringLiteral("inf.json")
            << QByteArray(R"({"config": {"train": {"loss": {"lambda_l1": 1e309}}}})")
            << QStringLiteral("inf.json: /config/train/loss/lambda_l1: number out of range");
    }

    void hostileFilesExitTwo()
    {
        QFETCH(QString, flag);
        QFETCH(QString, name);
        QFETCH(QByteArray, content);
        QFETCH(QString, needle);
        QTemporaryDir tmp;
        const QString file = tmp.filePath(name);
        if (content.isEmpty()) {
            QVERIFY(QDir(tmp.path()).mkdir(name));
        } else {
            QFile f(file);
            QVERIFY(f.open(QIODevice::WriteOnly));
            f.write(content);
        }
        const Result r = run(kTrain, { flag, file, QStringLiteral("--print-objective") });
        QCOMPARE(r.code, 2);
        QVERIFY2(r.err.contains(needle), qPrintable(r.err.left(2000)));
        QVERIFY2(r.err.size() < 1000, qPrintable(QString::number(r.err.size()) + QStringLiteral(" bytes on stderr")));
        QVERIFY(r.out.isEmpty());
    }

    // Issue #10 item 5: a 10^5-deep file in the user spec folder crashed every nectar-train at start; now it is
    // one warning naming the file, and the other specs still list.
    void deepUserSpecIsAWarning()
    {
        QTemporaryDir tmp;
        {
            QFile f(tmp.filePath(QStringLiteral("deep.json")));
            QVERIFY(f.open(QIODevice::WriteOnly));
            f.write(R"({"name": "deep", "subspecs": ["a"], "losses": [)" + QByteArray(100000, '[')
                + QByteArray(100000, ']') + "]}");
        }
        QProcess p;
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert(QStringLiteral("NECTAR_SPECS_DIR"), tmp.path());
        p.setProcessEnvironment(env);
        p.start(kTrain, { QStringLiteral("--list-specs") });
        QVERIFY(p.waitForFinished(60000));
        const QString err = QString::fromUtf8(p.readAllStandardError());
        QCOMPARE(p.exitStatus(), QProcess::NormalExit);
        QCOMPARE(p.exitCode(), 0);
        QVERIFY2(err.contains(QStringLiteral("deep.json: /losses/0/0/0/... ("))
                && err.contains(QStringLiteral("nested deeper than 512")),
            qPrintable(err));
        QVERIFY(QString::fromUtf8(p.readAllStandardOutput()).contains(QStringLiteral("pix2pix")));
    }

    void listSpecs()
    {
        const Result r = run(kTrain, { QStringLiteral("--list-specs") });
        QCOMPARE(r.code, 0);
        QVERIFY2(
            r.out.contains(QStringLiteral("pix2pix")) && r.out.contains(QStringLiteral("extended")), qPrintable(r.out));
    }

    void trainTestAndContinue()
    {
        QTemporaryDir tmp;
        const std::string cfg = write_config(tmp.path());
        const Result r = run(kTrain, { QStringLiteral("--config"), QString::fromStdString(cfg) });
        QVERIFY2(r.code == 0, qPrintable(r.err));
        QVERIFY2(r.err.contains(QStringLiteral("it/s")) && r.err.contains(QStringLiteral("ETA")), qPrintable(r.err));
        QVERIFY2(r.err.contains(QStringLiteral("G: G_GAN")) && r.err.contains(QStringLiteral("D: D_fake")),
            qPrintable(r.err));
        const std::string exp = tmp.path().toStdString() + "/runs/cli_v1";
        QVERIFY(fs::is_regular_file(exp + "/epoch2_netG.pt"));
        QVERIFY(fs::is_regular_file(exp + "/loss_log.json"));

        // Continue from a checkpoint that does not exist: exit 2 listing the ones that do.
        const Result missing = run(kTrain,
            { QStringLiteral("--config"), QString::fromStdString(cfg), QStringLiteral("--continue"),
                QStringLiteral("7"), QStringLiteral("--epochs"), QStringLiteral("5") });
        QCOMPARE(missing.code, 2);
        QVERIFY2(missing.err.contains(QStringLiteral("epochs with a checkpoint: 1, 2")), qPrintable(missing.err));

        // Continue from epoch 2 with a longer plan: runs epochs 3..4 only, writes train2_config.json.
        const Result more = run(kTrain,
            { QStringLiteral("--config"), QString::fromStdString(cfg), QStringLiteral("--continue"),
                QStringLiteral("2"), QStringLiteral("--epochs"), QStringLiteral("3") });
        QVERIFY2(more.code == 0, qPrintable(more.err));
        QVERIFY2(more.err.contains(QStringLiteral("epochs 3..4")), qPrintable(more.err));
        QVERIFY(fs::is_regular_file(exp + "/train2_config.json"));
        QVERIFY(fs::is_regular_file(exp + "/epoch4_netG.pt"));

        // nectar-test on the test split.
        const Result t = run(kTest,
            { QStringLiteral("--experiment"), QString::fromStdString(exp), QStringLiteral("--epoch"),
                QStringLiteral("4") });
        QVERIFY2(t.code == 0, qPrintable(t.err));
        QVERIFY2(t.out.contains(QString::fromStdString(exp + "/test_epoch4_v1")), qPrintable(t.out));
        QVERIFY2(
            t.out.contains(QStringLiteral("mean l1 ")) && t.out.contains(QStringLiteral("ssim ")), qPrintable(t.out));
        QVERIFY2(t.err.contains(QStringLiteral("image 2/2")), qPrintable(t.err));
        std::ifstream in(exp + "/test_epoch4_v1/metrics.json");
        QVERIFY(in.good());
        json m;
        in >> m;
        QCOMPARE(m["count"].get<int>(), 2);
        QCOMPARE(m["images"].size(), size_t(2));
        double l1 = 0;
        for (const auto& e : m["images"]) {
            QVERIFY(e["l1"].get<double>() > 0 && e["l1"].get<double>() < 1);
            QVERIFY(e["psnr_db"].get<double>() > 0);
            l1 += e["l1"].get<double>() / 2;
        }
        QVERIFY(qAbs(m["mean"]["l1"].get<double>() - l1) < 1e-12);
        QVERIFY(fs::is_regular_file(exp + "/test_epoch4_v1/metrics.csv"));
        QImage img(QString::fromStdString(exp + "/test_epoch4_v1/0001.png"));
        QCOMPARE(img.width(), 96);
        // A missing checkpoint in nectar-test is bad input too.
        const Result t2 = run(kTest,
            { QStringLiteral("--experiment"), QString::fromStdString(exp), QStringLiteral("--epoch"),
                QStringLiteral("9") });
        QCOMPARE(t2.code, 2);
        QVERIFY2(t2.err.contains(QStringLiteral("1, 2, 3, 4")), qPrintable(t2.err));

        // Continue with --experiment alone: the experiment's newest config copy (train2: 3 + 1 epochs) is the
        // plan, not the built-in settings (3 + 2 epochs on the sample data), so only epoch 4 runs. Checkpoints
        // after epoch 3 exist: a warning says the log keeps their values.
        const Result again = run(kTrain,
            { QStringLiteral("--experiment"), QString::fromStdString(exp), QStringLiteral("--continue"),
                QStringLiteral("3"), QStringLiteral("--quiet") });
        QVERIFY2(again.code == 0, qPrintable(again.err));
        QVERIFY2(again.err.contains(QStringLiteral("train2_config.json")), qPrintable(again.err));
        QVERIFY2(again.err.contains(QStringLiteral("epochs 4..4")), qPrintable(again.err));
        QVERIFY2(again.err.contains(QStringLiteral("checkpoints up to epoch 4 exist")), qPrintable(again.err));
        std::ifstream c3(exp + "/train3_config.json");
        QVERIFY(c3.good());
        json copy;
        c3 >> copy;
        QCOMPARE(copy["config"]["dataloader"]["dataroot"].get<std::string>(), kTiny);
        // An experiment folder without config copies is refused, naming it.
        const Result empty = run(kTrain,
            { QStringLiteral("--experiment"), tmp.path() + QStringLiteral("/runs"), QStringLiteral("--continue"),
                QStringLiteral("1") });
        QCOMPARE(empty.code, 2);
        QVERIFY2(empty.err.contains(QStringLiteral("train<K>_config.json")), qPrintable(empty.err));
    }

    void testModesAndExitCodes()
    {
        // nectar-test --input-dir (resize, tile), --folder, a second run in a new version, and bad input -> 2.
        QTemporaryDir tmp;
        const json one_epoch = { { "learning_rate", { { "epochs_decay", 0 } } } };
        const std::string cfg = write_config(tmp.path(),
            { { "config", { { "train", { { "generator", one_epoch }, { "discriminator", one_epoch } } } } } });
        const Result train
            = run(kTrain, { QStringLiteral("--config"), QString::fromStdString(cfg), QStringLiteral("--quiet") });
        QVERIFY2(train.code == 0, qPrintable(train.err));
        const QString exp = tmp.path() + QStringLiteral("/runs/cli_v1");
        const std::string inputs = tmp.path().toStdString() + "/inputs";
        fs::create_directories(inputs);
        QImage photo(QString::fromStdString(kTiny + "/val/0001.png"));
        QVERIFY(photo.copy(64, 0, 64, 64).scaled(50, 30).save(QString::fromStdString(inputs + "/photo.png")));
        auto test = [&](QStringList args) {
            return run(kTest,
                QStringList { QStringLiteral("--experiment"), exp, QStringLiteral("--epoch"), QStringLiteral("1") }
                    + args);
        };
        const Result resize = test({ QStringLiteral("--input-dir"), QString::fromStdString(inputs) });
        QVERIFY2(resize.code == 0, qPrintable(resize.err));
        QVERIFY2(resize.out.contains(exp + QStringLiteral("/test_epoch1_v1"))
                && !resize.out.contains(QStringLiteral("mean")),
            qPrintable(resize.out));
        const Result tile = test({ QStringLiteral("--input-dir"), QString::fromStdString(inputs),
            QStringLiteral("--fit"), QStringLiteral("tile"), QStringLiteral("--quiet") });
        QVERIFY2(tile.code == 0, qPrintable(tile.err));
        QVERIFY2(!tile.err.contains(QStringLiteral("image 1/1")), qPrintable(tile.err));
        for (const char* v : { "/test_epoch1_v1", "/test_epoch1_v2" }) {
            const QImage out(exp + QLatin1String(v) + QStringLiteral("/photo.png"));
            QCOMPARE(out.size(), QSize(50, 30)); // the input's size, generated only
        }
        json m;
        std::ifstream(exp.toStdString() + "/test_epoch1_v2/metrics.json") >> m;
        QCOMPARE(m["fit"].get<std::string>(), std::string("tile"));
        QVERIFY(!m["has_targets"].get<bool>());
        const Result folder = test({ QStringLiteral("--folder"), QString::fromStdString(kTiny + "/val") });
        QVERIFY2(folder.code == 0 && folder.out.contains(QStringLiteral("test_epoch1_v3")), qPrintable(folder.err));
        QVERIFY2(folder.out.contains(QStringLiteral("mean l1 ")), qPrintable(folder.out));

        struct Bad {
            QStringList args;
            QString needle;
        };
        const QString empty = tmp.path() + QStringLiteral("/empty");
        QDir().mkpath(empty);
        const std::vector<Bad> bad = {
            { { QStringLiteral("--input-dir"), tmp.path() + QStringLiteral("/nowhere") }, QStringLiteral("/nowhere") },
            { { QStringLiteral("--input-dir"), empty }, QStringLiteral("no images in ") + empty },
            { { QStringLiteral("--folder"), empty }, QStringLiteral("no A|B image pairs in ") + empty },
            { { QStringLiteral("--input-dir"), empty, QStringLiteral("--fit"), QStringLiteral("crop") },
                QStringLiteral("--fit crop") },
            { { QStringLiteral("--fit"), QStringLiteral("tile") }, QStringLiteral("--input-dir only") },
            { { QStringLiteral("--folder"), empty, QStringLiteral("--input-dir"), empty },
                QStringLiteral("exclude each other") },
            { { QStringLiteral("--folder"), empty, QStringLiteral("--split"), QStringLiteral("val") },
                QStringLiteral("--split") },
            { { QStringLiteral("--output"), exp + QStringLiteral("/test_epoch1_v1") }, QStringLiteral("is not empty") },
            { { QStringLiteral("--split"), QStringLiteral("holdout") }, QStringLiteral("holdout") },
        };
        for (const Bad& b : bad) {
            const Result r = test(b.args);
            QVERIFY2(r.code == 2 && r.err.contains(b.needle),
                qPrintable(b.args.join(QLatin1Char(' ')) + QStringLiteral(": ") + r.err));
        }
        const Result no_epoch = test({ QStringLiteral("--epoch"), QStringLiteral("7") });
        QVERIFY2(no_epoch.code == 2 && no_epoch.err.contains(QStringLiteral("epochs with a checkpoint: 1")),
            qPrintable(no_epoch.err));
        // None of the refused runs made a folder.
        QVERIFY(
            !fs::exists(exp.toStdString() + "/test_epoch1_v4") && !fs::exists(exp.toStdString() + "/test_epoch7_v1"));
        const Result help = run(kTest, { QStringLiteral("--help") });
        QCOMPARE(help.code, 0);
        for (const char* o : { "--folder", "--input-dir", "--fit", "tile", "test_epoch<N>_v<K>", "Exit codes" })
            QVERIFY2(help.out.contains(QLatin1String(o)), o);
    }

    void testStopsOnSigint()
    {
        // Ctrl-C after the first image: the run ends cleanly (exit 0) with metrics.json "stopped": true.
        QTemporaryDir tmp;
        const json one_epoch = { { "learning_rate", { { "epochs_decay", 0 } } } };
        const std::string cfg = write_config(tmp.path(),
            { { "config", { { "train", { { "generator", one_epoch }, { "discriminator", one_epoch } } } } } });
        QVERIFY(run(kTrain, { QStringLiteral("--config"), QString::fromStdString(cfg), QStringLiteral("--quiet") }).code
            == 0);
        const std::string exp = tmp.path().toStdString() + "/runs/cli_v1";
        // Many large inputs, tiled: each takes a while, so the signal lands mid-run.
        const std::string inputs = tmp.path().toStdString() + "/inputs";
        fs::create_directories(inputs);
        QImage photo(QString::fromStdString(kTiny + "/val/0001.png"));
        const QImage big = photo.scaled(1024, 512);
        for (int i = 0; i < 40; ++i)
            QVERIFY(big.save(QString::fromStdString(inputs + "/" + std::to_string(1000 + i) + ".png")));
        QProcess p;
        p.start(kTest,
            { QStringLiteral("--experiment"), QString::fromStdString(exp), QStringLiteral("--epoch"),
                QStringLiteral("1"), QStringLiteral("--input-dir"), QString::fromStdString(inputs),
                QStringLiteral("--fit"), QStringLiteral("tile") });
        QVERIFY(p.waitForStarted());
        QString err;
        QElapsedTimer timer;
        timer.start();
        while (!err.contains(QStringLiteral("image 1/40")) && timer.elapsed() < 120000) {
            p.waitForReadyRead(200);
            err += QString::fromUtf8(p.readAllStandardError());
        }
        QVERIFY2(err.contains(QStringLiteral("image 1/40")), qPrintable(err));
        ::kill(static_cast<pid_t>(p.processId()), SIGINT);
        QVERIFY(p.waitForFinished(120000));
        err += QString::fromUtf8(p.readAllStandardError());
        QCOMPARE(p.exitStatus(), QProcess::NormalExit);
        QCOMPARE(p.exitCode(), 0);
        QVERIFY2(err.contains(QStringLiteral("interrupt: stopping after the current image")), qPrintable(err));
        json m;
        std::ifstream(exp + "/test_epoch1_v1/metrics.json") >> m;
        QVERIFY(m["stopped"].get<bool>());
        const int done = m["count"].get<int>();
        QVERIFY2(done >= 1 && done < 40, qPrintable(QString::number(done)));
        int pngs = 0;
        for (const auto& e : fs::directory_iterator(exp + "/test_epoch1_v1"))
            pngs += e.path().extension() == ".png";
        QCOMPARE(pngs, done); // each written image is complete and listed, no more
    }

    void continueUsesRecordedObjective()
    {
        // Trained with G_L1 = 50 (a preset, as the GUI's table is), continued with --experiment: the run's
        // recorded objective, not the config copy's lambda_l1 = 100, unless --spec/--preset replace it.
        QTemporaryDir tmp;
        const json one_epoch = { { "learning_rate", { { "epochs_decay", 0 } } } };
        const std::string cfg = write_config(tmp.path(),
            { { "config", { { "train", { { "generator", one_epoch }, { "discriminator", one_epoch } } } } } });
        const std::string preset = tmp.path().toStdString() + "/p.json";
        std::ofstream(preset) << R"({"format": "nectar-preset", "version": 1, "losses": {"G_L1": {"weight": 50}}})";
        const Result r = run(kTrain,
            { QStringLiteral("--config"), QString::fromStdString(cfg), QStringLiteral("--preset"),
                QString::fromStdString(preset), QStringLiteral("--quiet") });
        QVERIFY2(r.code == 0, qPrintable(r.err));
        const QString exp = tmp.path() + QStringLiteral("/runs/cli_v1");
        QVERIFY(fs::is_regular_file(exp.toStdString() + "/train1_objective.json"));
        auto weight_of = [](const Result& res, const std::string& loss) {
            const json j = json::parse(res.out.toStdString());
            for (const auto& e : j["losses"])
                if (e["name"] == loss)
                    return e["weight"].get<double>();
            return -1.0;
        };
        const Result cont = run(kTrain,
            { QStringLiteral("--experiment"), exp, QStringLiteral("--continue"), QStringLiteral("1"),
                QStringLiteral("--print-objective") });
        QVERIFY2(cont.code == 0, qPrintable(cont.err));
        QCOMPARE(weight_of(cont, "G_L1"), 50.0);
        QVERIFY2(cont.err.contains(QStringLiteral("recorded objective from"))
                && cont.err.contains(QStringLiteral("train1_objective.json")),
            qPrintable(cont.err));
        // --spec chooses the spec's own objective (config lambdas), and says the record is not used.
        const Result spec = run(kTrain,
            { QStringLiteral("--experiment"), exp, QStringLiteral("--continue"), QStringLiteral("1"),
                QStringLiteral("--spec"), QStringLiteral("pix2pix"), QStringLiteral("--print-objective") });
        QVERIFY2(spec.code == 0, qPrintable(spec.err));
        QCOMPARE(weight_of(spec, "G_L1"), 100.0);
        QVERIFY2(
            spec.err.contains(QStringLiteral("not using the experiment's recorded objective")), qPrintable(spec.err));
        // A continued run records the objective it trained again (train2_objective.json).
        const Result more = run(kTrain,
            { QStringLiteral("--experiment"), exp, QStringLiteral("--continue"), QStringLiteral("1"),
                QStringLiteral("--epochs"), QStringLiteral("2"), QStringLiteral("--quiet") });
        QVERIFY2(more.code == 0, qPrintable(more.err));
        std::ifstream in(exp.toStdString() + "/train2_objective.json");
        QVERIFY(in.good());
        json rec;
        in >> rec;
        QCOMPARE(rec["losses"]["G_L1"]["weight"].get<double>(), 50.0);
    }

    void printObjectiveNeedsNoDataset()
    {
        QTemporaryDir tmp;
        const std::string cfg
            = write_config(tmp.path(), { { "config", { { "dataloader", { { "dataroot", "" } } } } } });
        const Result r = run(
            kTrain, { QStringLiteral("--config"), QString::fromStdString(cfg), QStringLiteral("--print-objective") });
        QVERIFY2(r.code == 0, qPrintable(r.err));
        QCOMPARE(json::parse(r.out.toStdString())["spec"].get<std::string>(), std::string("pix2pix"));
        // Training does need one; the error names the config file.
        const Result t = run(kTrain, { QStringLiteral("--config"), QString::fromStdString(cfg) });
        QCOMPARE(t.code, 2);
        QVERIFY2(t.err.contains(QStringLiteral("no dataset")) && t.err.contains(QString::fromStdString(cfg)),
            qPrintable(t.err));
        // An objective that cannot resolve (VGG19 weights missing) is bad input, as when training starts.
        const std::string vgg = write_config(tmp.path(),
            { { "config", { { "train", { { "loss", { { "vgg_weights", "/nonexistent/vgg19.pth" } } } } } } } });
        const Result v = run(kTrain,
            { QStringLiteral("--config"), QString::fromStdString(vgg), QStringLiteral("--subspec"),
                QStringLiteral("basic+vgg"), QStringLiteral("--print-objective") });
        QCOMPARE(v.code, 2);
        QVERIFY2(v.err.contains(QStringLiteral("/nonexistent/vgg19.pth")), qPrintable(v.err));
    }

    void failedStartsLeaveNoRunFolder()
    {
        // A missing dataset and missing VGG19 weights are bad input (exit 2) and leave no cli_v<N>; the next
        // good run is cli_v1 (it was cli_v3 when the folder was created before the checks).
        QTemporaryDir tmp;
        const std::string runs = tmp.path().toStdString() + "/runs";
        const std::string missingData = write_config(tmp.path(),
            { { "config", { { "dataloader", { { "dataroot", tmp.path().toStdString() + "/no-such-data" } } } } } });
        const Result d = run(kTrain, { QStringLiteral("--config"), QString::fromStdString(missingData) });
        QCOMPARE(d.code, 2);
        QVERIFY2(d.err.contains(QStringLiteral("no-such-data")), qPrintable(d.err));
        QVERIFY(!fs::exists(runs + "/cli_v1"));
        const std::string missingVgg = write_config(tmp.path(),
            { { "config",
                { { "train", { { "loss", { { "vgg_weights", tmp.path().toStdString() + "/no-vgg19.pth" } } } } } } } });
        const Result v = run(kTrain,
            { QStringLiteral("--config"), QString::fromStdString(missingVgg), QStringLiteral("--subspec"),
                QStringLiteral("basic+vgg") });
        QCOMPARE(v.code, 2);
        QVERIFY2(v.err.contains(QStringLiteral("no-vgg19.pth")), qPrintable(v.err));
        QVERIFY(!fs::exists(runs + "/cli_v1"));
        QVERIFY(!fs::exists(runs) || fs::is_empty(runs));
        const std::string good = write_config(tmp.path());
        const Result g
            = run(kTrain, { QStringLiteral("--config"), QString::fromStdString(good), QStringLiteral("--quiet") });
        QVERIFY2(g.code == 0, qPrintable(g.err));
        QVERIFY(fs::is_regular_file(runs + "/cli_v1/train1_config.json"));
        QVERIFY(!fs::exists(runs + "/cli_v2"));
    }

    void experimentNamedAfterDataroot()
    {
        QTemporaryDir tmp;
        const Result r = run(kTrain,
            { QStringLiteral("--dataroot"), QString::fromStdString(kTiny), QStringLiteral("--output"),
                tmp.path() + QStringLiteral("/runs"), QStringLiteral("--epochs"), QStringLiteral("1"),
                QStringLiteral("--epochs-decay"), QStringLiteral("0"), QStringLiteral("--quiet") });
        QVERIFY2(r.code == 0, qPrintable(r.err));
        QVERIFY(fs::is_regular_file(tmp.path().toStdString() + "/runs/tiny_v1/train1_config.json"));
    }

    void ctrlCStopsAndSaves()
    {
        QTemporaryDir tmp;
        const std::string cfg = write_config(tmp.path());
        QProcess p;
        p.start(kTrain,
            { QStringLiteral("--config"), QString::fromStdString(cfg), QStringLiteral("--epochs"),
                QStringLiteral("500") });
        QVERIFY(p.waitForStarted());
        QString err;
        QElapsedTimer timer;
        timer.start();
        while (!err.contains(QStringLiteral("epoch 1 done")) && timer.elapsed() < 120000) {
            p.waitForReadyRead(500);
            err += QString::fromUtf8(p.readAllStandardError());
        }
        QVERIFY2(err.contains(QStringLiteral("epoch 1 done")), qPrintable(err));
        ::kill(static_cast<pid_t>(p.processId()), SIGINT);
        QVERIFY(p.waitForFinished(120000));
        err += QString::fromUtf8(p.readAllStandardError());
        QCOMPARE(p.exitStatus(), QProcess::NormalExit);
        QCOMPARE(p.exitCode(), 0);
        QVERIFY2(err.contains(QStringLiteral("stopped")), qPrintable(err));
        const std::string exp = tmp.path().toStdString() + "/runs/cli_v1";
        QVERIFY(fs::is_regular_file(exp + "/loss_log.json"));
        int last = 0;
        for (const auto& e : fs::directory_iterator(exp)) {
            const std::string n = e.path().filename().string();
            if (n.rfind("epoch", 0) == 0 && n.find("_trainer.pt") != std::string::npos)
                last = std::max(last, std::stoi(n.substr(5)));
        }
        QVERIFY(last >= 1 && last < 500);
    }

    void trainingFailureExitsOne()
    {
        // A pair whose header reads but whose pixels are cut fails while training (the scan reads headers
        // only): a failure during training, exit 1, naming the file. (A loss weight large enough to overflow
        // float32 is now refused up front: lambdas are at most 1e6; NaN/Inf losses are tested in tst_trainer.)
        QTemporaryDir tmp;
        const std::string data = tmp.path().toStdString() + "/data";
        fs::create_directories(data + "/train");
        fs::copy_file(kTiny + "/train/0001.png", data + "/train/0001.png");
        std::ifstream good(kTiny + "/train/0002.png", std::ios::binary);
        const std::string bytes((std::istreambuf_iterator<char>(good)), {});
        std::ofstream(data + "/train/0002.png", std::ios::binary) << bytes.substr(0, bytes.size() / 3);
        const std::string cfg = write_config(
            tmp.path(), { { "config", { { "dataloader", { { "dataroot", data }, { "batch_size", 1 } } } } } });
        const Result r = run(kTrain, { QStringLiteral("--config"), QString::fromStdString(cfg) });
        QCOMPARE(r.code, 1);
        QVERIFY2(r.err.contains(QStringLiteral("0002.png")), qPrintable(r.err));
    }

    void outOfRangeSettingsExitTwo_data()
    {
        QTest::addColumn<QString>("patch"); // merged into the tiny config
        QTest::addColumn<QStringList>("flags");
        QTest::addColumn<QString>("needle");
        auto row = [](const char* name, const char* patch, QStringList flags, const char* needle) {
            QTest::newRow(name) << QString::fromUtf8(patch) << flags << QString::fromUtf8(needle);
        };
        // Issue #10, item 8: these trained garbage (exit 1 on a NaN, or exit 0 with nothing trained).
        row("lambda 1e308", R"({"config": {"train": {"loss": {"lambda_l1": 1e308}}}})", {},
            "/config/train/loss/lambda_l1");
        row("learning rate 1e308", R"({"config": {"train": {"generator": {"learning_rate": {"initial": 1e308}}}}})", {},
            "/config/train/generator/learning_rate/initial");
        row("num_workers 100000", R"({"config": {"dataloader": {"num_workers": 100000}}})", {},
            "/config/dataloader/num_workers");
        row("crop and load 100000",
            R"({"config": {"dataloader": {"load": {"load_size": 100000, "crop_size": 100000}}}})", {},
            "/config/dataloader/load/load_size");
        row("epochs overflow", "{}",
            { QStringLiteral("--epochs"), QStringLiteral("2147483647"), QStringLiteral("--epochs-decay"),
                QStringLiteral("1") },
            "/config/train/generator/learning_rate/epochs");
        row("continue epoch overflow", "{}", { QStringLiteral("--continue"), QStringLiteral("2147483647") },
            "/config/train/load/load_epoch");
    }

    void outOfRangeSettingsExitTwo()
    {
        QFETCH(QString, patch);
        QFETCH(QStringList, flags);
        QFETCH(QString, needle);
        QTemporaryDir tmp;
        const std::string cfg = write_config(tmp.path(), json::parse(patch.toStdString()));
        const Result r = run(kTrain, QStringList { QStringLiteral("--config"), QString::fromStdString(cfg) } + flags);
        QCOMPARE(r.code, 2);
        QVERIFY2(r.err.contains(needle), qPrintable(r.err));
        QVERIFY2(!fs::exists(tmp.path().toStdString() + "/runs/cli_v1/epoch1_netG.pt"), "it trained");
    }

    void nonUtf8PathsAreByteExact()
    {
        // Issue #10, item 2: a Latin-1 --dataroot, --output and image name. The old CLI took them through
        // QString: the output went to a folder spelled with U+FFFD and caf\xe9.png was lost.
        QTemporaryDir tmp;
        const std::string base = tmp.path().toStdString();
        const std::string data = base + "/caf\xe9";
        const RemoveAll cleanup { base }; // QTemporaryDir cannot remove names that are not UTF-8
        for (const char* split : { "train", "test" })
            fs::create_directories(data + "/" + split);
        for (const char* f : { "0001.png", "0002.png", "0003.png" })
            fs::copy_file(kTiny + "/train/" + f, data + "/train/" + f);
        fs::copy_file(kTiny + "/train/0004.png", data + "/train/caf\xe9.png");
        fs::copy_file(kTiny + "/test/0001.png", data + "/test/t\xe9st.png");
        const std::string out = base + "/runs\xe9";
        const std::string cfg = write_config(tmp.path(),
            { { "config",
                { { "common", { { "experiment_name", "lat" } } }, { "dataloader", { { "batch_size", 1 } } } } } });

        const Result r = run_bytes(NECTAR_TRAIN_EXE,
            { "--config", cfg, "--dataroot", data, "--output", out, "--epochs", "1", "--epochs-decay", "0", "--quiet" },
            base);
        QVERIFY2(r.code == 0, qPrintable(r.err));
        const std::string exp = out + "/lat_v1";
        QVERIFY2(fs::is_regular_file(exp + "/epoch1_netG.pt"), qPrintable(r.err));
        QVERIFY(fs::is_regular_file(exp + "/train1_config.json"));
        QVERIFY(fs::is_regular_file(exp + "/loss_log.json"));
        QVERIFY(!fs::exists(base + "/runs\xef\xbf\xbd")); // no U+FFFD twin
        QVERIFY2(r.err.contains(QStringLiteral("4 iterations")), qPrintable(r.err)); // caf\xe9.png trained
        QVERIFY2(r.err.contains(QStringLiteral("runs\\xe9/lat_v1")), qPrintable(r.err)); // shown escaped
        QVERIFY2(!r.err.contains(QChar(0xfffd)), qPrintable(r.err));
        // The config copy records the dataroot in its escaped spelling, which reads back to the same bytes:
        // continuing with --experiment alone finds the data.
        json copy;
        std::ifstream(exp + "/train1_config.json") >> copy;
        QCOMPARE(copy["config"]["dataloader"]["dataroot"].get<std::string>(), base + "/caf\\xe9");
        const Result more = run_bytes(NECTAR_TRAIN_EXE,
            { "--experiment", exp, "--continue", "1", "--epochs", "2", "--epochs-decay", "0", "--quiet" }, base);
        QVERIFY2(more.code == 0, qPrintable(more.err));
        QVERIFY(fs::is_regular_file(exp + "/epoch2_netG.pt"));

        // nectar-test: byte-exact --experiment and --output, the image named escaped in metrics.json.
        const std::string test_out = base + "/t\xe9st-out";
        const Result t
            = run_bytes(NECTAR_TEST_EXE, { "--experiment", exp, "--epoch", "2", "--output", test_out }, base);
        QVERIFY2(t.code == 0, qPrintable(t.err));
        QVERIFY(fs::is_regular_file(test_out + "/t\xe9st.png"));
        json metrics;
        std::ifstream(test_out + "/metrics.json") >> metrics;
        QCOMPARE(metrics["count"].get<int>(), 1);
        QCOMPARE(metrics["images"][0]["image"].get<std::string>(), base + "/caf\\xe9/test/t\\xe9st.png");

        // Bad input names the path as given, escaped.
        const Result missing = run_bytes(
            NECTAR_TRAIN_EXE, { "--config", cfg, "--dataroot", data + "/nowhere", "--output", out, "--quiet" }, base);
        QCOMPARE(missing.code, 2);
        QVERIFY2(missing.err.contains(QStringLiteral("caf\\xe9/nowhere")), qPrintable(missing.err));
    }
};

QTEST_GUILESS_MAIN(TestCli)
#include "tst_cli.moc"
