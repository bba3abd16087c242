// SPDX-License-Identifier: Apache-2.0
// Loss log: NectarGAN layout (reference f_loss_log and its example file), reading NectarGAN's log,
// non-finite encoding, and crash safety (a child writing dumps is SIGKILLed, then we reread).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <limits>

#include <poll.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <QTemporaryDir>
#include <QtTest/QtTest>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "config/config.h"
#include "losses/loss_log.h"
#include "losses/loss_log_follower.h"
#include "losses/loss_manager.h"
#include "losses/loss_registry.h"
#include "reference_data.h"

using namespace nectar;
using nlohmann::json;
using ojson = nlohmann::ordered_json;
namespace fs = std::filesystem;

namespace {
using testdata::formula;
using testdata::load_json;
const std::string kRef = std::string(NECTAR_TEST_DATA_DIR) + "/reference/";

// Key structure of a JSON value: objects keep their keys (in order), arrays become their length.
ojson shape_of(const ojson& j)
{
    if (j.is_object()) {
        ojson o = ojson::object();
        for (const auto& [k, v] : j.items())
            o[k] = shape_of(v);
        return o;
    }
    if (j.is_array())
        return "array[" + std::to_string(j.size()) + "]";
    return j.type_name();
}
} // namespace

class TestLossLog : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase() { torch::set_num_threads(1); }

    void reproducesNectarganExample()
    {
        const json f = load_json(kRef + "nectargan_reference.json")["f_loss_log"];
        std::ifstream ein(kRef + "nectargan_loss_log_example.json");
        const ojson example = ojson::parse(ein);
        QTemporaryDir dir;
        const std::string exp = dir.filePath(QStringLiteral("NectarGAN_v1")).toStdString();
        const json& lambdas = f["config_lambdas"];
        LossManager lm(Config {}, exp);
        testdata::register_nectargan_extended(lm, lambdas);
        lm.set_log_metadata("cpu", f["dataroot"], f["dataroot_train_entries"]);
        const auto names = lm.names();
        for (int call = 0; call < 3; ++call)
            for (const auto& name : names) {
                const json& c = f["per_call_values"][name][call];
                const auto x = formula(c["x"]);
                torch::Tensor y;
                if (c["y"].is_string())
                    y = c["y"] == "ones_like(x)" ? torch::ones_like(x) : torch::zeros_like(x);
                else
                    y = formula(c["y"]);
                const float r = lm.compute_loss_xy(name, x, y, 1).item<float>();
                QVERIFY(std::abs(r - c["returned"].get<double>()) <= 1e-5 * std::abs(c["returned"].get<double>()));
            }
        lm.update_loss_log();
        lm.export_base_log();

        std::ifstream oin(exp + "/loss_log.json");
        const ojson ours = ojson::parse(oin);
        // Same structure as NectarGAN's file, plus our raw_loss and wall_time per loss.
        ojson ours_shape = shape_of(ours);
        for (auto& [name, e] : ours_shape["LOSSMANAGER_LOG"]["loss_functions"].items()) {
            QCOMPARE(e["raw_loss"].get<std::string>(), std::string("array[3]"));
            QCOMPARE(e["wall_time"].get<std::string>(), std::string("array[3]"));
            e.erase("raw_loss");
            e.erase("wall_time");
        }
        QCOMPARE(QString::fromStdString(ours_shape.dump()), QString::fromStdString(shape_of(example).dump()));
        const auto& ol = ours["LOSSMANAGER_LOG"];
        const auto& el = example["LOSSMANAGER_LOG"];
        QCOMPARE(ol["device"], el["device"]);
        QCOMPARE(ol["dataroot"], el["dataroot"]);
        QCOMPARE(ol["dataset_length"], el["dataset_length"]);
        QCOMPARE(ol["experiment"], el["experiment"]);
        for (const auto& [name, e] : el["loss_functions"].items()) {
            for (int k = 0; k < 3; ++k) {
                const double want = e["loss"][k];
                QVERIFY(std::abs(ol["loss_functions"][name]["loss"][k].get<double>() - want) <= 1e-5 * std::abs(want));
                QCOMPARE(ol["loss_functions"][name]["weights"][k].get<double>(), e["weights"][k].get<double>());
                QVERIFY(std::abs(ol["loss_functions"][name]["raw_loss"][k].get<double>()
                            - f["per_call_values"][name][k]["raw"].get<double>())
                    <= 1e-5 * f["per_call_values"][name][k]["raw"].get<double>());
            }
        }
    }

    void readsNectarganLog()
    {
        const auto d = LossLog::read(kRef + "nectargan_loss_log_example.json");
        QCOMPARE(d.device, std::string("cpu"));
        QCOMPARE(d.dataroot, std::string("/data/nectargan_ref_losslog/dataroot"));
        QCOMPARE(d.dataset_length, std::int64_t(3));
        QCOMPARE(d.experiment, std::string("NectarGAN_v1"));
        QCOMPARE(
            d.order, (std::vector<std::string> { "G_GAN", "G_L1", "D_real", "D_fake", "G_L2", "G_SOBEL", "G_LAP" }));
        const auto& l1 = d.losses.at("G_L1");
        QVERIFY(l1.raw_derived);
        QCOMPARE(l1.weighted, (std::vector<float> { 69.13671875f, 69.12667846679688f, 69.1954345703125f }));
        QCOMPARE(l1.weights, (std::vector<float> { 100.f, 100.f, 100.f }));
        QVERIFY(std::abs(l1.raw[0] - 0.6913671493530273f) < 1e-7f);
        // A missing file or a wrong layout names the file.
        QVERIFY_THROWS_EXCEPTION(std::runtime_error, LossLog::read("/nonexistent/loss_log.json"));
        QTemporaryDir dir;
        const std::string bad = dir.filePath(QStringLiteral("loss_log.json")).toStdString();
        std::ofstream(bad) << R"({"LOSSMANAGER_LOG": {"loss_functions": {"G": {"loss": [1, "x"]}}}})";
        try {
            LossLog::read(bad);
            QFAIL("expected an error");
        } catch (const std::runtime_error& e) {
            const std::string m = e.what();
            QVERIFY(m.find(bad) != std::string::npos);
            QVERIFY(m.find("/LOSSMANAGER_LOG/loss_functions/G/loss/1") != std::string::npos);
        }
        QVERIFY_THROWS_EXCEPTION(std::runtime_error, LossLog::read(dir.path().toStdString() + "/empty_dir_missing"));
    }

    void nonFiniteRoundTrip()
    {
        const float nan = std::numeric_limits<float>::quiet_NaN(), inf = std::numeric_limits<float>::infinity();
        QCOMPARE(LossLog::encode_value(nan), std::string("null"));
        QCOMPARE(LossLog::encode_value(inf), std::string("\"Infinity\""));
        QCOMPARE(LossLog::encode_value(-inf), std::string("\"-Infinity\""));
        QCOMPARE(LossLog::encode_value(0.5f), std::string("0.5"));
        QTemporaryDir dir;
        const std::string exp = dir.path().toStdString();
        {
            LossLog log(exp);
            log.append({ { "G", { nan, inf, -inf, 1.5f }, { 1.f, 1.f, 2.f, 2.f }, {} } });
            log.export_base_log();
        }
        // Every journal line and the base file are strict JSON.
        std::ifstream jin(exp + "/" + LossLog::kJournalFileName);
        std::string line;
        int lines = 0;
        while (std::getline(jin, line)) {
            QVERIFY(json::accept(line));
            ++lines;
        }
        QCOMPARE(lines, 2); // header + one dump
        std::ifstream bin(exp + "/" + LossLog::kLogFileName);
        const std::string text { std::istreambuf_iterator<char>(bin), std::istreambuf_iterator<char>() };
        QVERIFY(json::accept(text));
        for (const std::string& src : { exp, exp + "/" + LossLog::kLogFileName }) {
            const auto d = LossLog::read(src);
            const auto& s = d.losses.at("G");
            QVERIFY(std::isnan(s.raw[0]) && std::isnan(s.weighted[0]));
            QVERIFY(std::isinf(s.raw[1]) && s.raw[1] > 0);
            QVERIFY(std::isinf(s.raw[2]) && s.raw[2] < 0 && s.weighted[2] < 0);
            QCOMPARE(s.raw[3], 1.5f);
            QCOMPARE(s.weighted[3], 3.0f);
            QVERIFY(!s.raw_derived);
        }
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, LossLog(exp).append({ { "G", { 1.f }, {}, {} } }));
    }

    void survivesSigkill()
    {
        QTemporaryDir dir;
        const std::string exp = dir.path().toStdString() + "/run";
        int pipefd[2];
        QVERIFY(::pipe(pipefd) == 0);
        const pid_t child = ::fork();
        QVERIFY(child >= 0);
        if (child == 0) {
            // Child: dump forever (values 0, 1, 2, ... with 3 losses), export now and then,
            // report each completed dump on the pipe.
            ::close(pipefd[0]);
            try {
                LossLog log(exp);
                for (std::int64_t i = 0;; ++i) {
                    std::vector<float> raw(64), w(64, 0.5f);
                    for (int k = 0; k < 64; ++k)
                        raw[size_t(k)] = float(i * 64 + k);
                    log.append({ { "A", raw, w, {} }, { "B", raw, w, {} }, { "C", { float(i) }, { 1.f }, {} } });
                    if (i % 7 == 0)
                        log.export_base_log();
                    const std::int64_t done = i;
                    if (::write(pipefd[1], &done, sizeof done) != sizeof done)
                        ::_exit(2);
                }
            } catch (...) {
                ::_exit(3);
            }
        }
        ::close(pipefd[1]);
        std::int64_t last = -1, v;
        while (last < 300 && ::read(pipefd[0], &v, sizeof v) == sizeof v)
            last = v;
        ::kill(child, SIGKILL);
        int status = 0;
        ::waitpid(child, &status, 0);
        ::close(pipefd[0]);
        QVERIFY(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
        QVERIFY(last >= 300);

        // Every file parses, and no reported dump is lost.
        std::ifstream bin(exp + "/" + LossLog::kLogFileName);
        const std::string text { std::istreambuf_iterator<char>(bin), std::istreambuf_iterator<char>() };
        QVERIFY(json::accept(text));
        const auto base = LossLog::read(exp + "/" + LossLog::kLogFileName);
        const auto d = LossLog::read(exp);
        const auto& c = d.losses.at("C").raw;
        QVERIFY(std::int64_t(c.size()) >= last + 1);
        for (size_t i = 0; i < c.size(); ++i)
            QCOMPARE(c[i], float(i));
        QCOMPARE(d.losses.at("A").raw.size(), c.size() * 64);
        QCOMPARE(d.losses.at("A").weighted[100], 50.0f);
        QVERIFY(base.losses.at("C").raw.size() <= c.size()); // base: a consistent earlier snapshot
        for (size_t i = 0; i < base.losses.at("C").raw.size(); ++i)
            QCOMPARE(base.losses.at("C").raw[i], float(i));

        // A torn last line (simulated) is skipped, and a new writer starts on a fresh line.
        {
            std::ofstream j(exp + "/" + LossLog::kJournalFileName, std::ios::app);
            j << R"({"dump": 99999, "losses": {"C": {"loss": [1)";
        }
        const auto torn = LossLog::read(exp);
        QCOMPARE(torn.losses.at("C").raw.size(), c.size());
        QCOMPARE(torn.warnings.size(), size_t(1));
        {
            LossLog again(exp);
            again.append({ { "C", { -1.f }, { 1.f }, {} } });
            again.export_base_log();
        }
        const auto resumed = LossLog::read(exp);
        QCOMPARE(resumed.losses.at("C").raw.size(), c.size() + 1);
        QCOMPARE(resumed.losses.at("C").raw.back(), -1.0f);
        QCOMPARE(LossLog::read(exp + "/" + LossLog::kLogFileName).losses.at("C").raw.size(), c.size() + 1);
    }

    // Item 3 (#10): a journal line of valid JSON in the wrong layout, mismatched lengths, a journal that is a
    // directory: bad input naming the file, the line and the JSON path (before: accepted, or a plain
    // runtime_error only at the end of a continued run).
    void badJournalsAreInputErrors_data()
    {
        QTest::addColumn<QString>("text");
        QTest::addColumn<QString>("needle");
        const QString ok = QStringLiteral(R"({"dump": 0, "losses": {"G": {"loss": [1], "weights": [1]}}})") + u'\n';
        QTest::newRow("wrong layout") << ok + QStringLiteral(R"({"values": [1, 2]})") << QStringLiteral("line 2");
        QTest::newRow("losses not an object") << ok + QStringLiteral(R"({"dump": 1, "losses": [1]})")
                                              << QStringLiteral("line 2 /losses: expected an object");
        QTest::newRow("loss/weights lengths")
            << QStringLiteral(R"({"dump": 0, "losses": {"G": {"loss": [1, 2, 3], "weights": [1, 1]}}})")
            << QStringLiteral("line 1 /losses/G: \"loss\" has 3 values but \"weights\" 2");
        QTest::newRow("raw_loss length") << QStringLiteral(
            R"({"dump": 0, "losses": {"G": {"loss": [1], "weights": [1], "raw_loss": [1, 2]}}})")
                                         << QStringLiteral("/losses/G: \"raw_loss\" has 2 values");
        QTest::newRow("unknown key") << QStringLiteral(R"({"dump": 0, "losses": {"G": {"loss": [1], "weigths": [1]}}})")
                                     << QStringLiteral("/losses/G/weigths: unknown key");
        QTest::newRow("damaged, not torn") << QStringLiteral(R"({"dump": 0, "losses": {}}x)") + u'\n' + ok
                                           << QStringLiteral("line 1: /: not valid JSON");
        QTest::newRow("bad resume") << ok + QStringLiteral(R"({"resume": {"epoch": -3}})")
                                    << QStringLiteral("line 2 /resume/epoch: expected an integer");
        QTest::newRow("nested 100000 deep")
            << QString(100000, u'[') + QString(100000, u']') << QStringLiteral("nested deeper than 512");
    }
    void badJournalsAreInputErrors()
    {
        QFETCH(QString, text);
        QFETCH(QString, needle);
        QTemporaryDir dir;
        const std::string file = dir.filePath(QStringLiteral("loss_log.journal.jsonl")).toStdString();
        std::ofstream(file) << text.toStdString();
        try {
            LossLog::read(dir.path().toStdString());
            QFAIL("expected an error");
        } catch (const InputError& e) {
            const std::string m = e.what();
            QVERIFY2(m.find(file) != std::string::npos && m.find(needle.toStdString()) != std::string::npos, e.what());
        }
    }

    void badLogsAreInputErrors()
    {
        QTemporaryDir dir;
        const std::string file = dir.filePath(QStringLiteral("loss_log.json")).toStdString();
        auto expect = [&](const std::string& text, const std::string& needle) {
            std::ofstream(file) << text;
            try {
                LossLog::read(file);
                QFAIL(("expected an error for " + text.substr(0, 60)).c_str());
            } catch (const InputError& e) {
                const std::string m = e.what();
                QVERIFY2(m.find(file) != std::string::npos && m.find(needle) != std::string::npos, e.what());
            }
        };
        // 27 losses for 25 weights were accepted and exported as they were.
        expect(R"({"LOSSMANAGER_LOG": {"loss_functions": {"G": {"loss": [1, 2, 3], "weights": [1, 1]}}}})",
            "/LOSSMANAGER_LOG/loss_functions/G: \"loss\" has 3 values but \"weights\" 2");
        expect(R"({"LOSSMANAGER_LOG": {"loss_functions": {"G": {"loss": [1, 2)", "not valid JSON");
        expect(R"({"LOSSMANAGER_LOG": {"dataset_length": 1e400}})", "");
        expect(std::string(100000, '[') + std::string(100000, ']'), "nested deeper than 512");
        // A directory in place of the journal is named.
        const std::string journal = dir.filePath(QStringLiteral("loss_log.journal.jsonl")).toStdString();
        fs::create_directory(journal);
        try {
            LossLog::read(dir.path().toStdString());
            QFAIL("expected an error");
        } catch (const InputError& e) {
            QVERIFY2(std::string(e.what()).find("is a directory") != std::string::npos, e.what());
        }
        // A FIFO in its place is refused too (opening it used to wait for a writer forever).
        fs::remove(journal);
        QCOMPARE(::mkfifo(journal.c_str(), 0600), 0);
        try {
            LossLog::read(dir.path().toStdString());
            QFAIL("expected an error");
        } catch (const InputError& e) {
            QVERIFY2(std::string(e.what()).find("is not a regular file") != std::string::npos, e.what());
        }
        fs::remove(journal);
        // Unknown keys in NectarGAN's layout are warnings (its format may grow), not lost in silence.
        const auto d = LossLog::parse_log_text(
            R"({"LOSSMANAGER_LOG": {"extra": 1, "loss_functions": {"G": {"loss": [2], "weights": [2]}}}})", "x.json");
        QCOMPARE(d.warnings.size(), size_t(1));
        QVERIFY(d.warnings[0].find("x.json: /LOSSMANAGER_LOG/extra: unknown key") != std::string::npos);
        QCOMPARE(d.losses.at("G").raw, std::vector<float> { 1.f });
    }

    // Item 4 (#10): a resume line supersedes the dumps of epochs after its checkpoint; they stay listed,
    // with the index they had followed.
    void resumeSupersedesLaterEpochs()
    {
        const std::string text = std::string(R"({"header": {"device": "cpu", "dataset_length": 2}})") + "\n"
            + R"({"dump": 0, "epoch": 1, "iteration": 2, "losses": {"G": {"loss": [1, 2], "weights": [1, 1]}}})" + "\n"
            + R"({"dump": 1, "epoch": 2, "iteration": 4, "losses": {"G": {"loss": [3, 4], "weights": [1, 1]}}})" + "\n"
            + R"({"resume": {"epoch": 1, "iteration": 2}})" + "\n"
            + R"({"dump": 0, "epoch": 2, "iteration": 4, "losses": {"G": {"loss": [5, 6], "weights": [1, 1]}}})" + "\n";
        const auto d = LossLog::parse_journal_text(text, "j.jsonl");
        QCOMPARE(d.losses.at("G").weighted, (std::vector<float> { 1, 2, 5, 6 }));
        QCOMPARE(d.superseded.size(), size_t(1));
        const auto& seg = d.superseded[0];
        QCOMPARE(seg.resume_epoch, 1);
        QCOMPARE(seg.resume_iteration, std::int64_t(2));
        QCOMPARE(seg.resume_line, 4);
        QCOMPARE(seg.first_epoch, 2);
        QCOMPARE(seg.last_epoch, 2);
        QCOMPARE(seg.losses.at("G").weighted, (std::vector<float> { 3, 4 }));
        QCOMPARE(seg.start.at("G"), size_t(2));
        QCOMPARE(d.last_epoch, 2);
        QCOMPARE(d.last_iteration, std::int64_t(4));
        // Lines without a position (older journals) are kept.
        const auto old
            = LossLog::parse_journal_text(std::string(R"({"dump": 0, "losses": {"G": {"loss": [1], "weights": [1]}}})")
                    + "\n" + R"({"resume": {"epoch": 1}})" + "\n",
                "old.jsonl");
        QCOMPARE(old.losses.at("G").weighted.size(), size_t(1));
        QVERIFY(old.superseded.empty());
        // A torn line is a warning, wherever it is.
        const auto torn = LossLog::parse_journal_text(std::string(R"({"dump": 0, "losses": {"G": {"loss": [1)") + "\n"
                + R"({"dump": 1, "losses": {"G": {"loss": [7], "weights": [1]}}})",
            "t.jsonl");
        QCOMPARE(torn.losses.at("G").weighted, std::vector<float> { 7 });
        QCOMPARE(torn.warnings.size(), size_t(1));
    }

    // A loss skipped at weight 0 (a schedule from 0) misses whole dumps: its values sit at the iterations
    // they were trained at, not at their index (the share view and edit markers showed them an epoch early).
    void valuesSitAtTheirDumpsIterations()
    {
        const std::string text = std::string(R"({"header": {"device": "cpu", "dataset_length": 3}})") + "\n"
            + R"({"dump": 0, "epoch": 1, "iteration": 3, "losses": {"G_L1": {"loss": [1, 2, 3], "weights": [1, 1, 1]}}})"
            + "\n"
            + R"({"dump": 1, "epoch": 2, "iteration": 6, "losses": {"G_L1": {"loss": [4, 5, 6], "weights": [1, 1, 1]},)"
            + R"( "G_SOBEL": {"loss": [7, 8, 9], "weights": [2, 2, 2]}}})"
            + "\n"
            // A live edit from 0 at iteration 7: the last two iterations of dump 2.
            + R"({"dump": 2, "epoch": 3, "iteration": 9, "losses": {"G_L1": {"loss": [1, 1, 1], "weights": [1, 1, 1]},)"
            + R"( "G_LAP": {"loss": [1, 1], "weights": [1, 1]}}})"
            + "\n"
            // An older line without a position: its values follow the previous ones.
            + R"({"dump": 3, "losses": {"G_SOBEL": {"loss": [1], "weights": [1]}}})" + "\n";
        const auto d = LossLog::parse_journal_text(text, "j.jsonl");
        QCOMPARE(d.losses.at("G_L1").iterations, (std::vector<std::int64_t> { 0, 1, 2, 3, 4, 5, 6, 7, 8 }));
        QCOMPARE(d.losses.at("G_SOBEL").iterations, (std::vector<std::int64_t> { 3, 4, 5, 6 }));
        QCOMPARE(d.losses.at("G_LAP").iterations, (std::vector<std::int64_t> { 7, 8 }));
        // loss_log.json (NectarGAN's layout) has no positions.
        QVERIFY(LossLog::parse_log_text(
            R"({"LOSSMANAGER_LOG": {"loss_functions": {"G": {"loss": [1], "weights": [1]}}}})", "l.json")
                    .losses.at("G")
                    .iterations.empty());
    }

    // #12: a wall time per value and live edits in the journal, both carried into loss_log.json.
    void wallTimesAndEditsRoundTrip()
    {
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        const std::string d = dir.path().toStdString();
        {
            LossLog log(d);
            log.set_position(1, 0);
            log.append({ { "G_L1", { 0.5f, 0.25f }, { 100.0f, 100.0f }, {}, { 1764700000.1234, 1764700001.5 } },
                { "D_real", { 0.7f }, { 1.0f }, {}, {} } });
            LossEdit e;
            e.iteration = 2;
            e.epoch = 1;
            e.wall_time = 1764700002.25;
            e.loss = "G_L1";
            e.field = "weight";
            e.old_value = "100";
            e.new_value = "50";
            e.source = "table";
            log.append_edit(e);
            log.append({ { "G_L1", { 0.125f }, { 50.0f }, {}, { 1764700003.0 } } });
            QVERIFY_THROWS_EXCEPTION(
                std::invalid_argument, log.append_edit(LossEdit { 0, 1, 0.0, "G_L1", "colour", "a", "b", "" }));
            QVERIFY_THROWS_EXCEPTION(std::invalid_argument,
                log.append({ { "G_L1", { 1.0f, 2.0f }, { 1.0f, 1.0f }, {}, { 1.0 } } })); // 2 values, 1 time
            log.export_base_log();
        }
        for (const std::string& path : { d, d + "/" + LossLog::kLogFileName }) {
            const LossLogData r = LossLog::read(path);
            const auto& g = r.losses.at("G_L1");
            QCOMPARE(g.wall_time.size(), size_t(3));
            QCOMPARE(g.wall_time[0], 1764700000.123); // millisecond precision
            QCOMPARE(g.wall_time[1], 1764700001.5);
            QCOMPARE(g.wall_time[2], 1764700003.0);
            QVERIFY(r.losses.at("D_real").wall_time.empty()); // none written: none read
            QCOMPARE(r.edits.size(), size_t(1));
            QCOMPARE(r.edits[0].iteration, std::int64_t(2));
            QCOMPARE(r.edits[0].epoch, 1);
            QCOMPARE(r.edits[0].wall_time, 1764700002.25);
            QCOMPARE(r.edits[0].loss, std::string("G_L1"));
            QCOMPARE(r.edits[0].field, std::string("weight"));
            QCOMPARE(r.edits[0].old_value, std::string("100"));
            QCOMPARE(r.edits[0].new_value, std::string("50"));
            QCOMPARE(r.edits[0].source, std::string("table"));
            QVERIFY2(r.warnings.empty(), r.warnings.empty() ? "" : r.warnings[0].c_str());
        }
        // Bad edit lines are errors naming the line and the key.
        for (const char* bad : { R"({"edit": {"iteration": 1, "loss": "G", "field": "weight", "old": "1"}})",
                 R"({"edit": {"iteration": 1, "loss": "G", "field": "lr", "old": "1", "new": "2"}})",
                 R"({"edit": {"iteration": -1, "loss": "G", "field": "weight", "old": "1", "new": "2"}})",
                 R"({"edit": {"iteration": 1, "loss": "G", "field": "weight", "old": "1", "new": "2", "x": 1}})" }) {
            try {
                LossLog::parse_journal_text(std::string(bad) + "\n", "e.jsonl");
                QFAIL(bad);
            } catch (const LossLogError& e) {
                QVERIFY2(std::string(e.what()).find("e.jsonl: line 1 /edit") != std::string::npos, e.what());
            }
        }
        // Edits of superseded epochs go with their values.
        const std::string text
            = std::string(
                  R"({"dump": 0, "epoch": 1, "iteration": 2, "losses": {"G": {"loss": [1, 2], "weights": [1, 1]}}})")
            + "\n" + R"({"edit": {"iteration": 1, "epoch": 1, "loss": "G", "field": "weight", "old": "1", "new": "2"}})"
            + "\n"
            + R"({"edit": {"iteration": 3, "epoch": 2, "loss": "G", "field": "tags", "old": "G", "new": "G, D"}})"
            + "\n" + R"({"resume": {"epoch": 1, "iteration": 2}})" + "\n";
        const auto sup = LossLog::parse_journal_text(text, "s.jsonl");
        QCOMPARE(sup.edits.size(), size_t(1));
        QCOMPARE(sup.edits[0].iteration, std::int64_t(1));
    }

    // #12: the trainer's LossManager records each value's wall time, and record_edit journals an edit.
    void lossManagerRecordsWallTimes()
    {
        QTemporaryDir dir;
        Config cfg;
        LossManager lm(cfg, dir.path().toStdString());
        LMLoss l;
        l.name = "G_L1";
        l.function = [](const torch::Tensor& x, const torch::Tensor& y) { return (x - y).abs().mean(); };
        l.loss_weight = 2.0;
        l.tags = { "G" };
        lm.register_loss(l);
        const double before
            = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
        for (int i = 0; i < 3; ++i)
            lm.compute_loss_xy("G_L1", torch::ones({ 2 }), torch::zeros({ 2 }), 1);
        lm.record_edit(LossEdit { 3, 1, std::numeric_limits<double>::quiet_NaN(), "G_L1", "weight", "2", "4", "" });
        lm.update_loss_log();
        const double after = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
        const auto r = LossLog::read(dir.path().toStdString());
        const auto& t = r.losses.at("G_L1").wall_time;
        QCOMPARE(t.size(), size_t(3));
        for (double v : t)
            QVERIFY2(v >= before - 0.001 && v <= after + 0.001, std::to_string(v).c_str());
        QVERIFY(t[0] <= t[1] && t[1] <= t[2]);
        QCOMPARE(r.edits.size(), size_t(1));
        QVERIFY(r.edits[0].wall_time >= before - 0.001 && r.edits[0].wall_time <= after + 0.001);
    }

    // #12: the follow mode reads a journal a second process writes (torn last line, then a replacement),
    // from the last offset only, and sees every value exactly once.
    void followerReadsConcurrentWriter()
    {
        QTemporaryDir dir;
        const std::string d = dir.path().toStdString();
        const std::string journal = d + "/" + LossLog::kJournalFileName;
        int ready[2];
        QCOMPARE(::pipe(ready), 0);
        const pid_t pid = ::fork();
        QVERIFY(pid >= 0);
        if (pid == 0) {
            // Child: 40 dumps of 5 values, one torn write in the middle that a later write terminates.
            ::close(ready[0]);
            {
                LossLog log(d);
                float v = 0.0f;
                for (int k = 0; k < 40; ++k) {
                    std::vector<float> raw, w;
                    std::vector<double> t;
                    for (int i = 0; i < 5; ++i) {
                        raw.push_back(v++);
                        w.push_back(1.0f);
                        t.push_back(1000.0 + v);
                    }
                    log.append({ { "G", raw, w, {}, t } });
                    if (k == 20) {
                        // A torn line (a killed writer's prefix), completed by the newline the next writer adds.
                        std::ofstream(journal, std::ios::app) << R"({"dump": 99, "losses": {"G": {"loss": [1)";
                        ::usleep(30000);
                        std::ofstream(journal, std::ios::app) << "\n";
                    }
                    ::usleep(3000);
                }
            }
            const char c = 'x';
            (void)!::write(ready[1], &c, 1);
            ::_exit(0);
        }
        ::close(ready[1]);
        LossLogFollower f(d);
        std::vector<float> seen;
        int polls = 0, tornWarnings = 0;
        bool childDone = false;
        std::uint64_t lastOffset = 0;
        while (true) {
            auto u = f.poll(1 << 10); // small reads: lines are split across polls
            ++polls;
            QVERIFY(!u.reset);
            QVERIFY(f.offset() >= lastOffset);
            lastOffset = f.offset();
            if (u.data.losses.count("G"))
                for (float v : u.data.losses.at("G").raw)
                    seen.push_back(v);
            for (const auto& w : u.data.warnings)
                tornWarnings += w.find("torn") != std::string::npos;
            if (childDone && u.bytes_read == 0)
                break;
            if (!childDone) {
                pollfd p { ready[0], POLLIN, 0 };
                childDone = ::poll(&p, 1, 2) > 0;
            }
        }
        int status = 0;
        ::waitpid(pid, &status, 0);
        QVERIFY(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        QCOMPARE(seen.size(), size_t(200));
        for (size_t i = 0; i < seen.size(); ++i)
            QCOMPARE(seen[i], float(i)); // every value once, in order
        QCOMPARE(tornWarnings, 1);
        QVERIFY(polls > 10);
        QCOMPARE(f.offset(), std::uint64_t(fs::file_size(journal)));

        // Replaced (new inode, e.g. a new run with the same name after a delete): a reset with the new content.
        const std::string tmp = journal + ".new";
        std::ofstream(tmp) << R"({"dump": 0, "losses": {"G": {"loss": [7, 8], "weights": [1, 1]}}})"
                           << "\n";
        fs::rename(tmp, journal);
        auto u = f.poll();
        QVERIFY(u.reset);
        QCOMPARE(u.data.losses.at("G").raw, (std::vector<float> { 7, 8 }));
        // Appended resume line: the continued run supersedes shown values, so the whole file comes again.
        std::ofstream(journal, std::ios::app) << R"({"resume": {"epoch": 0}})"
                                              << "\n"
                                              << R"({"dump": 1, "losses": {"G": {"loss": [9], "weights": [1]}}})"
                                              << "\n";
        u = f.poll();
        QVERIFY(u.reset);
        QCOMPARE(u.data.losses.at("G").raw, (std::vector<float> { 7, 8, 9 }));
        // Nothing new: an empty update that reads nothing.
        u = f.poll();
        QVERIFY(!u.reset && u.bytes_read == 0 && u.data.order.empty());
        // A missing journal is not an error: the run has not written one yet.
        LossLogFollower missing(d + "/nothing-here");
        QVERIFY(!missing.poll().exists);
    }

    // Item 3 (#10): --continue with loss_log.json but no journal kept only the new values (16 -> 8).
    void continueRebuildsJournalFromLog()
    {
        QTemporaryDir dir;
        const std::string exp = dir.path().toStdString();
        {
            LossLog log(exp);
            log.set_position(1, 16);
            log.append({ { "G", std::vector<float>(16, 1.f), std::vector<float>(16, 2.f), {} } });
            log.export_base_log();
        }
        fs::remove(exp + "/" + LossLog::kJournalFileName);
        const auto notes = LossLog::prepare_continue(exp, 1, 16, false);
        QVERIFY(!notes.empty() && notes[0].find("rebuilt it from") != std::string::npos);
        {
            LossLog log(exp);
            log.set_position(2, 24);
            log.append({ { "G", std::vector<float>(8, 3.f), std::vector<float>(8, 1.f), {} } });
            log.export_base_log();
        }
        const auto d = LossLog::read(exp + "/" + LossLog::kLogFileName);
        QCOMPARE(d.losses.at("G").weighted.size(), size_t(24));
        QCOMPARE(d.losses.at("G").weighted.front(), 2.f);
        QCOMPARE(d.losses.at("G").raw.front(), 1.f);
        QCOMPARE(d.losses.at("G").weighted.back(), 3.f);
    }

    void continueRefusesWhatItCannotKeep()
    {
        QTemporaryDir dir;
        const std::string exp = dir.path().toStdString();
        const std::string journal = exp + "/" + LossLog::kJournalFileName;
        const std::string base = exp + "/" + LossLog::kLogFileName;
        auto refused = [&](const std::string& needle) {
            try {
                LossLog::prepare_continue(exp, 1, -1, false);
                QFAIL(("expected a refusal: " + needle).c_str());
            } catch (const LossLogError& e) {
                const std::string m = e.what();
                QVERIFY2(m.find(needle) != std::string::npos && m.find("--new-log") != std::string::npos, e.what());
            }
        };
        // A bad journal line.
        std::ofstream(journal) << R"({"dump": 0, "losses": {"G": {"loss": [1, 2], "weights": [1]}}})"
                               << "\n";
        refused(journal + ": line 1 /losses/G");
        // loss_log.json holds more values than the journal: rewriting it would lose them.
        std::ofstream(journal) << R"({"dump": 0, "losses": {"G": {"loss": [1], "weights": [1]}}})"
                               << "\n";
        std::ofstream(base) << R"({"LOSSMANAGER_LOG": {"loss_functions": {"G": {"loss": [1, 2], "weights": [1, 1]}}}})";
        refused("holds 2 values of G, the journal");
        // Only loss_log.json, truncated.
        fs::remove(journal);
        std::ofstream(base) << R"({"LOSSMANAGER_LOG": {"loss_functions": {"G": {"loss": [1,)";
        refused("is missing and loss_log.json cannot be read");
        QVERIFY(!fs::exists(journal));
        // A journal that is a directory.
        fs::create_directory(journal);
        refused("is a directory");
        // The way out: --new-log moves both aside, deleting nothing.
        const auto notes = LossLog::prepare_continue(exp, 1, -1, true);
        QCOMPARE(notes.size(), size_t(2));
        QVERIFY(fs::is_directory(exp + "/loss_log.journal.old1.jsonl"));
        QVERIFY(fs::is_regular_file(exp + "/loss_log.old1.json"));
        QVERIFY(!fs::exists(journal) && !fs::exists(base));
        // A sound journal with an unreadable loss_log.json: the copy is kept aside, the journal continues.
        std::ofstream(journal) << R"({"dump": 0, "epoch": 1, "losses": {"G": {"loss": [1], "weights": [1]}}})"
                               << "\n";
        std::ofstream(base) << "{";
        const auto kept = LossLog::prepare_continue(exp, 1, -1, false);
        QVERIFY(fs::is_regular_file(exp + "/loss_log.unreadable1.json"));
        QCOMPARE(LossLog::read(base).losses.at("G").weighted, std::vector<float> { 1 });
        QVERIFY(!kept.empty());
    }

    // Item 4 (#10): continuing from an older checkpoint leaves later values out of loss_log.json.
    void continueSupersedesAndExports()
    {
        QTemporaryDir dir;
        const std::string exp = dir.path().toStdString();
        {
            LossLog log(exp);
            for (int e = 1; e <= 3; ++e) {
                log.set_position(e, 2 * e);
                log.append({ { "G", { float(e), float(e) }, { 1.f, 1.f }, {} } });
            }
            log.export_base_log();
        }
        const auto notes = LossLog::prepare_continue(exp, 1, 2, false);
        QVERIFY(std::any_of(notes.begin(), notes.end(),
            [](const std::string& n) { return n.find("epochs 2..3") != std::string::npos; }));
        QCOMPARE(
            LossLog::read(exp + "/" + LossLog::kLogFileName).losses.at("G").weighted, (std::vector<float> { 1, 1 }));
        const auto d = LossLog::read(exp);
        QCOMPARE(d.superseded.size(), size_t(1));
        QCOMPARE(d.superseded[0].losses.at("G").weighted, (std::vector<float> { 2, 2, 3, 3 }));
    }

    // The text entry points (the fuzzers' targets) throw nothing but LossLogError, whatever the bytes:
    // deterministic byte flips, insertions and truncations of a journal and a loss_log.json.
    void mutatedInputsThrowOnlyLossLogErrors()
    {
        const std::string journal = std::string(R"({"header": {"device": "cpu", "dataset_length": 2}})") + "\n"
            + R"({"dump": 0, "epoch": 1, "iteration": 2, "losses": {"G": {"loss": [1, null], "weights": [1, 2], "raw_loss": [1, "Infinity"]}}})"
            + "\n" + R"({"resume": {"epoch": 1, "iteration": 2}})" + "\n";
        std::ifstream in(kRef + "nectargan_loss_log_example.json");
        const std::string log { std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>() };
        const std::string alphabet = "{}[]\":,0123456789.eE-+ntrufalsINF\n\\\x80\xff";
        std::uint32_t rng = 12345;
        auto next = [&] { return rng = rng * 1664525u + 1013904223u; };
        int errors = 0;
        for (int i = 0; i < 4000; ++i) {
            for (const std::string* seed : { &journal, &log }) {
                std::string t = *seed;
                for (int k = 0, n = 1 + int(next() % 4); k < n; ++k) {
                    const size_t at = next() % t.size();
                    const char c = alphabet[next() % alphabet.size()];
                    switch (next() % 3) {
                    case 0:
                        t[at] = c;
                        break;
                    case 1:
                        t.insert(t.begin() + std::ptrdiff_t(at), c);
                        break;
                    default:
                        t.resize(std::max<size_t>(1, at));
                        break;
                    }
                }
                try {
                    if (seed == &journal)
                        LossLog::parse_journal_text(t, "j");
                    else
                        LossLog::parse_log_text(t, "l");
                } catch (const LossLogError&) {
                    ++errors;
                } catch (const std::exception& e) {
                    QFAIL(qPrintable(QStringLiteral("not a LossLogError: %1 for %2")
                                         .arg(QString::fromUtf8(e.what()), QString::fromStdString(t))));
                }
            }
        }
        QVERIFY(errors > 1000); // most mutations are bad input, and every one was reported as such
    }
};

QTEST_GUILESS_MAIN(TestLossLog)
#include "tst_loss_log.moc"
