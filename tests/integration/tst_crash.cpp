// SPDX-License-Identifier: Apache-2.0
// Crash and resume (#10): the real nectar-train SIGKILLs itself at a chosen point (NECTAR_TEST_KILL_AT, see
// util/test_hooks.h), is continued from its last checkpoint, and the loss log then holds exactly one value per
// iteration of the plan for every loss, the values logged after that checkpoint kept in the journal as a
// superseded segment. Also: --continue refuses a journal it cannot continue before training (exit 2), shows
// torn lines, and --new-log is the way out.

#include <QProcess>
#include <QTemporaryDir>
#include <QtTest/QtTest>

#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "cli_config_fixture.h"

#include "losses/loss_log.h"
#include "training/checkpoint.h"

using nlohmann::json;
using namespace nectar;
namespace fs = std::filesystem;

namespace {

struct Result {
    bool crashed = false;
    int code = -1;
    QString err;
};

Result run(const QStringList& args, const QString& kill_at = {})
{
    QProcess p;
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    if (!kill_at.isEmpty())
        env.insert(QStringLiteral("NECTAR_TEST_KILL_AT"), kill_at);
    p.setProcessEnvironment(env);
    p.start(QStringLiteral(NECTAR_TRAIN_EXE), args);
    Result r;
    if (!p.waitForFinished(300000)) {
        p.kill();
        p.waitForFinished();
        return r;
    }
    r.crashed = p.exitStatus() == QProcess::CrashExit;
    r.code = p.exitCode();
    r.err = QString::fromUtf8(p.readAllStandardError());
    return r;
}

/// Tiny models on tests/data/tiny: 8 pairs in batches of 4 = 2 iterations per epoch, 3 epochs, a checkpoint
/// every epoch, journal dumps every epoch.
QString write_config(const QString& dir)
{
    const json plan = { { "epochs", 2 }, { "epochs_decay", 1 } };
    return QString::fromStdString(testcli::write_tiny_config(dir,
        { { "config",
            { { "common", { { "experiment_name", "crash" } } },
                { "train",
                    { { "generator", { { "learning_rate", plan } } },
                        { "discriminator", { { "learning_rate", plan } } } } },
                { "save", { { "save_examples", false } } } } } }));
}

constexpr size_t kPlanValues = 3 * 2; // epochs x iterations per epoch

void verify_one_value_per_iteration(const std::string& exp)
{
    const auto d = LossLog::read(exp + "/" + LossLog::kLogFileName);
    QVERIFY(d.order.size() >= 3);
    for (const auto& name : d.order) {
        QVERIFY2(d.losses.at(name).weighted.size() == kPlanValues,
            qPrintable(QString::fromStdString(name) + QStringLiteral(": ")
                + QString::number(d.losses.at(name).weighted.size())));
        QCOMPARE(d.losses.at(name).weights.size(), kPlanValues);
        QCOMPARE(d.losses.at(name).raw.size(), kPlanValues);
    }
}

} // namespace

class TestCrash : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void killedRunResumesWithOneValuePerIteration_data()
    {
        QTest::addColumn<QString>("kill_at");
        QTest::addColumn<int>("last_checkpoint");
        // The journal has epoch 2's values, the checkpoint of epoch 2 does not exist yet.
        QTest::newRow("after a journal append") << QStringLiteral("after-journal-append:2") << 1;
        // Epoch 2's network files are in place, its trainer file is not: no checkpoint 2.
        QTest::newRow("during a checkpoint write") << QStringLiteral("during-checkpoint-write:2") << 1;
        // The run's last epoch is journaled, loss_log.json half written, checkpoint 3 not saved.
        QTest::newRow("during the log export") << QStringLiteral("during-write:loss log:1") << 2;
    }
    void killedRunResumesWithOneValuePerIteration()
    {
        QFETCH(QString, kill_at);
        QFETCH(int, last_checkpoint);
        QTemporaryDir tmp;
        const QString cfg = write_config(tmp.path());
        const std::string exp = tmp.path().toStdString() + "/runs/crash_v1";
        const Result killed = run({ QStringLiteral("--config"), cfg, QStringLiteral("--quiet") }, kill_at);
        QVERIFY2(killed.crashed, qPrintable(killed.err));
        const auto epochs = list_checkpoint_epochs(exp);
        QVERIFY(!epochs.empty());
        QCOMPARE(epochs.back(), last_checkpoint);
        const auto before = LossLog::read(exp);
        QCOMPARE(before.losses.begin()->second.weighted.size(), size_t(last_checkpoint + 1) * 2);

        const Result resumed = run({ QStringLiteral("--config"), cfg, QStringLiteral("--continue"),
            QString::number(last_checkpoint), QStringLiteral("--quiet") });
        QVERIFY2(resumed.code == 0 && !resumed.crashed, qPrintable(resumed.err));
        QVERIFY2(resumed.err.contains(QStringLiteral("superseded segment")), qPrintable(resumed.err));
        verify_one_value_per_iteration(exp);
        // The journal keeps the values logged after the checkpoint, marked as superseded.
        const auto journal = LossLog::read(exp);
        QCOMPARE(journal.superseded.size(), size_t(1));
        const auto& seg = journal.superseded[0];
        QCOMPARE(seg.resume_epoch, last_checkpoint);
        QCOMPARE(seg.first_epoch, last_checkpoint + 1);
        QCOMPARE(seg.last_epoch, last_checkpoint + 1);
        for (const auto& [name, s] : seg.losses) {
            QCOMPARE(s.weighted.size(), size_t(2));
            QCOMPARE(seg.start.at(name), size_t(last_checkpoint) * 2);
            // The superseded values are the killed run's, which the log's kept values no longer show.
            QCOMPARE(s.weighted,
                std::vector<float>(before.losses.at(name).weighted.end() - 2, before.losses.at(name).weighted.end()));
        }
        QCOMPARE(journal.losses.begin()->second.weighted.size(), kPlanValues);
        QCOMPARE(list_checkpoint_epochs(exp).back(), 3);
    }

    void continueRefusesABadJournalBeforeTraining()
    {
        QTemporaryDir tmp;
        const QString cfg = write_config(tmp.path());
        const std::string exp = tmp.path().toStdString() + "/runs/crash_v1";
        const Result first = run({ QStringLiteral("--config"), cfg, QStringLiteral("--quiet") });
        QVERIFY2(first.code == 0, qPrintable(first.err));
        const std::string journal = exp + "/" + LossLog::kJournalFileName;
        // Valid JSON in the wrong layout: before, the whole remaining plan trained, then exit 1 at the end.
        std::ofstream(journal, std::ios::app) << R"({"dump": 9, "losses": {"G_GAN": {"loss": [1, 2], "weights": [1]}}})"
                                              << "\n";
        const QStringList cont { QStringLiteral("--config"), cfg, QStringLiteral("--continue"), QStringLiteral("2"),
            QStringLiteral("--epochs"), QStringLiteral("3"), QStringLiteral("--quiet") };
        const Result refused = run(cont);
        QCOMPARE(refused.code, 2);
        QVERIFY2(refused.err.contains(QString::fromStdString(journal)) && refused.err.contains(QStringLiteral("line "))
                && refused.err.contains(QStringLiteral("/losses/G_GAN"))
                && refused.err.contains(QStringLiteral("--new-log")),
            qPrintable(refused.err));
        QVERIFY(!fs::exists(exp + "/epoch4_trainer.pt")); // nothing trained
        // The way out keeps the old files.
        const Result fresh = run(cont + QStringList { QStringLiteral("--new-log") });
        QVERIFY2(fresh.code == 0, qPrintable(fresh.err));
        QVERIFY(fs::is_regular_file(exp + "/loss_log.journal.old1.jsonl"));
        QVERIFY(fs::is_regular_file(exp + "/loss_log.old1.json"));
        QCOMPARE(LossLog::read(exp + "/loss_log.old1.json").losses.at("G_GAN").weighted.size(), kPlanValues);
        QCOMPARE(LossLog::read(exp + "/" + LossLog::kLogFileName).losses.at("G_GAN").weighted.size(), size_t(4));
        // A torn last line (a kill mid-append) is skipped, and --continue says so.
        std::ofstream(journal, std::ios::app) << R"({"dump": 9, "losses": {"G_GAN": {"loss": [1,)";
        const Result torn = run({ QStringLiteral("--config"), cfg, QStringLiteral("--continue"), QStringLiteral("3"),
            QStringLiteral("--epochs"), QStringLiteral("4"), QStringLiteral("--quiet") });
        QVERIFY2(torn.code == 0, qPrintable(torn.err));
        QVERIFY2(torn.err.contains(QStringLiteral("skipped torn journal line")), qPrintable(torn.err));
        QCOMPARE(LossLog::read(exp + "/" + LossLog::kLogFileName).losses.at("G_GAN").weighted.size(), size_t(6));
    }
};

QTEST_GUILESS_MAIN(TestCrash)
#include "tst_crash.moc"
