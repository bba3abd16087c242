// SPDX-License-Identifier: Apache-2.0
// Loss log: NectarGAN layout (reference f_loss_log and its example file), reading NectarGAN's log,
// non-finite encoding, and crash safety (a child writing dumps is SIGKILLed, then we reread).
#include <algorithm>
#include <cmath>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <limits>

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <QTemporaryDir>
#include <QtTest/QtTest>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "config/config.h"
#include "losses/loss_log.h"
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
        // Same structure as NectarGAN's file, plus our raw_loss per loss.
        ojson ours_shape = shape_of(ours);
        for (auto& [name, e] : ours_shape["LOSSMANAGER_LOG"]["loss_functions"].items()) {
            QCOMPARE(e["raw_loss"].get<std::string>(), std::string("array[3]"));
            e.erase("raw_loss");
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
