// SPDX-License-Identifier: Apache-2.0
// Data-parallel training on c10d (Gloo, loopback): the torchrun environment, the sharded epoch order, and
// nectar-train --nproc-per-node driven as processes: equivalence with one process at the global batch,
// the run's files, resume across world sizes, a killed rank, Ctrl-C, and the settings refused with exit 2.

#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QProcess>
#include <QRegularExpression>
#include <QTemporaryDir>
#include <QtTest/QtTest>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <tuple>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "cli_config_fixture.h"
#include "config/config.h"
#include "data/data_loader.h"
#include "distributed/dist_settings.h"
#include "losses/loss_log.h"
#include "models/patchgan.h"
#include "models/unet.h"
#include "training/checkpoint.h"
#include "training/fused_adam.h"
#include "util/error.h"

using nlohmann::json;
namespace fs = std::filesystem;
using namespace nectar;

namespace {

const QString kTrain = QStringLiteral(NECTAR_TRAIN_EXE);

struct Result {
    int code = -1; ///< -2: crashed, -1: timed out
    QString err;
    double seconds = 0;
};

Result run(const QStringList& args, int timeout_ms = 240000, const QProcessEnvironment& env = {})
{
    QProcess p;
    if (!env.isEmpty())
        p.setProcessEnvironment(env);
    QElapsedTimer t;
    t.start();
    p.start(kTrain, args);
    Result r;
    if (!p.waitForFinished(timeout_ms)) {
        p.kill();
        p.waitForFinished();
        r.err = QString::fromUtf8(p.readAllStandardError());
        return r;
    }
    r.code = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -2;
    r.err = QString::fromUtf8(p.readAllStandardError());
    r.seconds = t.elapsed() / 1000.0;
    return r;
}

/// A socket listening on a port the kernel picks (on every address), closed on destruction.
struct Listener {
    int fd = -1;
    int port = 0;
    Listener()
    {
        fd = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in a {};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_ANY);
        socklen_t len = sizeof a;
        if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 && ::listen(fd, 4) == 0
            && ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0)
            port = ntohs(a.sin_port);
    }
    ~Listener() { ::close(fd); }
};

/// A port nobody listens on now (the kernel's pick).
int free_port()
{
    return Listener().port;
}

QString num(int v)
{
    return QString::number(v);
}

/// Tiny models, no dropout, no augmentation beyond the per-item crop, fixed seed: a run whose result
/// depends only on which samples each step sees. 64 px: at 32 px the deepest InstanceNorm normalises
/// 2 x 2 values, and rounding-level differences decide the sign of a quarter of that layer's gradients.
std::string config(const QString& dir, int batch, const json& extra = json::object())
{
    json patch = { { "config",
        { { "common", { { "seed", 7 }, { "num_threads", 1 } } },
            { "dataloader",
                { { "batch_size", batch }, { "num_workers", 0 },
                    { "load", { { "load_size", 72 }, { "crop_size", 64 } } } } },
            { "train", { { "update_rate", 1 }, { "generator", { { "use_dropout_layers", 0 } } } } } } } };
    patch.merge_patch(extra);
    return testcli::write_tiny_config(dir, patch);
}

/// A run far longer than any test waits (100000 epochs, no checkpoint or example until its end).
std::string long_run_config(const QString& dir, int update_rate = 1)
{
    return config(dir, 2,
        { { "config",
            { { "train",
                  { { "update_rate", update_rate }, { "generator", { { "learning_rate", { { "epochs", 100000 } } } } },
                      { "discriminator", { { "learning_rate", { { "epochs", 100000 } } } } } } },
                { "save", { { "model_save_rate", 100000 }, { "example_save_rate", 100000 } } } } } });
}

/// Starts nectar-train --nproc-per-node 2 on `config` (a free port) in `p`, with `extra` arguments.
void start_two_ranks(QProcess& p, const std::string& config, const QStringList& extra = {})
{
    p.start(kTrain,
        QStringList { QStringLiteral("--config"), QString::fromStdString(config), QStringLiteral("--quiet"),
            QStringLiteral("--nproc-per-node"), QStringLiteral("2"), QStringLiteral("--master-port"), num(free_port()) }
            + extra);
}

struct Nets {
    UnetGenerator g { nullptr };
    PatchGAN d { nullptr };
};

Nets load_nets(const std::string& config_path, const std::string& dir, int epoch)
{
    const Config c = load_config_file(config_path);
    Nets n { UnetGenerator(unet_options_from_config(c)), PatchGAN(patchgan_options_from_config(c)) };
    FusedAdam og(n.g->parameters()), od(n.d->parameters());
    load_checkpoint(dir, epoch, torch::kCPU, *n.g, og, *n.d, od);
    return n;
}

/// Largest ||a - b|| / ||b|| (Frobenius) over the tensors of two modules (matched by name); `where` gets
/// its name. Per tensor, not per element: Adam's first steps move every weight by about lr * sign(grad),
/// so a gradient at float-rounding level flips a few elements by 2 lr in any two runs whose sums are
/// ordered differently (two single-process runs with 1 and 2 threads differ so too).
double max_relative_difference(torch::nn::Module& a, torch::nn::Module& b, std::string* where = nullptr)
{
    const auto pa = a.named_parameters();
    const auto pb = b.named_parameters();
    double worst = 0;
    for (const auto& item : pb) {
        const auto& x = pa[item.key()];
        const auto& y = item.value();
        const double d = (x - y).norm().item<double>() / std::max(1e-12, y.norm().item<double>());
        if (d > worst && where)
            *where = item.key();
        worst = std::max(worst, d);
    }
    return worst;
}

std::string only_experiment(const QString& runs)
{
    const QStringList dirs = QDir(runs).entryList(QDir::Dirs | QDir::NoDotAndDotDot);
    return dirs.size() == 1 ? (runs + QLatin1Char('/') + dirs.first()).toStdString() : std::string();
}

/// Pids of the launcher's workers by rank (from /proc: children whose environment has RANK=<r>).
std::map<int, pid_t> worker_pids(qint64 launcher)
{
    std::map<int, pid_t> out;
    std::ifstream children("/proc/" + std::to_string(launcher) + "/task/" + std::to_string(launcher) + "/children");
    pid_t pid;
    while (children >> pid) {
        std::ifstream env("/proc/" + std::to_string(pid) + "/environ", std::ios::binary);
        std::string var;
        while (std::getline(env, var, '\0'))
            if (var.rfind("RANK=", 0) == 0)
                out[std::stoi(var.substr(5))] = pid;
    }
    return out;
}

} // namespace

class TestDistributed : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void settingsComeFromTorchrunsEnvironment()
    {
        std::map<std::string, std::string> env { { "RANK", "3" }, { "WORLD_SIZE", "4" }, { "LOCAL_RANK", "1" },
            { "LOCAL_WORLD_SIZE", "2" }, { "MASTER_ADDR", "node0" }, { "MASTER_PORT", "29400" },
            { "TORCHELASTIC_USE_AGENT_STORE", "True" }, { "NECTAR_COLLECTIVE_TIMEOUT", "60" } };
        const auto get = [&](const char* n) -> const char* {
            const auto it = env.find(n);
            return it == env.end() ? nullptr : it->second.c_str();
        };
        auto s = dist_settings_from_env(get);
        QVERIFY(s.has_value());
        QCOMPARE(s->rank, 3);
        QCOMPARE(s->world_size, 4);
        QCOMPARE(s->local_rank, 1);
        QCOMPARE(s->local_world_size, 2);
        QCOMPARE(s->master_addr, std::string("node0"));
        QCOMPARE(s->master_port, 29400);
        QVERIFY(s->agent_store);
        QCOMPARE(s->collective_timeout.count(), std::int64_t(60000));
        QCOMPARE(s->rendezvous_timeout.count(), std::int64_t(300000)); // the default: 5 minutes

        const auto expect_error = [&](const char* needle) {
            try {
                dist_settings_from_env(get);
                QFAIL(qPrintable(QStringLiteral("no error; expected one naming ") + QLatin1String(needle)));
            } catch (const InputError& e) {
                QVERIFY2(QString::fromUtf8(e.what()).contains(QLatin1String(needle)), e.what());
            }
        };
        env["RANK"] = "4";
        expect_error("rank 4"); // outside the world
        env["RANK"] = "x";
        expect_error("RANK=x");
        env.erase("RANK");
        expect_error("RANK");
        env["RANK"] = "0";
        env["NECTAR_DIST_BACKEND"] = "mpi";
        expect_error("mpi");
        env.clear();
        QVERIFY(!dist_settings_from_env(get).has_value()); // no WORLD_SIZE: a single process
    }

    // torch.utils.data.DistributedSampler's rule: pad to a multiple of the world size from the start of
    // the epoch's permutation, then rank r takes positions r, r + W, ...
    void shardsSplitEachEpochsOrder()
    {
        Config c;
        c.dataloader.dataroot = std::string(NECTAR_TEST_DATA_DIR) + "/tiny";
        c.dataloader.batch_size = 1;
        c.dataloader.load.load_size = 36;
        c.dataloader.load.crop_size = 32;
        c.common.seed = 11;
        const auto order_of = [&](int rank, int world, int epoch) {
            auto loader = make_data_loader(c, "train");
            if (world > 1)
                loader->set_shard(rank, world);
            loader->begin_epoch(epoch);
            std::vector<std::string> paths;
            while (auto b = loader->next())
                paths.push_back(b->paths.at(0));
            return paths;
        };
        for (int epoch : { 1, 2 }) {
            const auto all = order_of(0, 1, epoch);
            QCOMPARE(all.size(), std::size_t(8));
            std::vector<std::string> padded = all;
            padded.push_back(all[0]); // 8 samples on 3 ranks: 9 positions
            std::multiset<std::string> seen;
            for (int r = 0; r < 3; ++r) {
                const auto mine = order_of(r, 3, epoch);
                QCOMPARE(mine.size(), std::size_t(3));
                for (std::size_t i = 0; i < mine.size(); ++i)
                    QCOMPARE(mine[i], padded[r + 3 * i]);
                seen.insert(mine.begin(), mine.end());
            }
            for (const auto& p : all)
                QVERIFY(seen.count(p) >= 1); // every sample is seen in the epoch
        }
        QVERIFY(order_of(0, 1, 1) != order_of(0, 1, 2)); // one permutation per epoch
        auto loader = make_data_loader(c, "train");
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, loader->set_shard(2, 2));
    }

    // 2 ranks x batch 2 take the same optimisation steps as 1 rank x batch 4 on the same samples (mean-reduced
    // losses, InstanceNorm, no dropout); the averaged loss values equal the single process's; the run has one
    // log (world size recorded), one set of checkpoints, and dataset_length is the whole set. The checkpoints
    // then continue on the other world size: 2 -> 1 and 1 -> 2, and still match.
    void twoRanksTrainAsOneRankAtTheGlobalBatch()
    {
        QTemporaryDir tmp;
        const QString one = tmp.path() + QStringLiteral("/one"), two = tmp.path() + QStringLiteral("/two");
        QDir().mkpath(one);
        QDir().mkpath(two);
        const std::string c1 = config(one, 4), c2 = config(two, 2);
        const Result r1 = run({ QStringLiteral("--config"), QString::fromStdString(c1), QStringLiteral("--quiet") });
        QVERIFY2(r1.code == 0, qPrintable(r1.err));
        const Result r2 = run({ QStringLiteral("--config"), QString::fromStdString(c2), QStringLiteral("--quiet"),
            QStringLiteral("--nproc-per-node"), QStringLiteral("2"), QStringLiteral("--master-port"),
            num(free_port()) });
        QVERIFY2(r2.code == 0, qPrintable(r2.err));
        QVERIFY2(r2.err.contains(QStringLiteral("rank 0 of 2 processes, gloo")), qPrintable(r2.err));
        const std::string e1 = only_experiment(one + QStringLiteral("/runs"));
        const std::string e2 = only_experiment(two + QStringLiteral("/runs"));
        QVERIFY2(!e2.empty(), "the 2-rank run made more or fewer than one experiment folder");

        for (int epoch : { 1, 2 }) {
            Nets a = load_nets(c1, e1, epoch), b = load_nets(c2, e2, epoch);
            std::string wg, wd;
            const double dg = max_relative_difference(*a.g, *b.g, &wg), dd = max_relative_difference(*a.d, *b.d, &wd);
            QVERIFY2(dg <= 1e-5 && dd <= 1e-5,
                qPrintable(QStringLiteral("epoch %1: G differs by %2 (%3), D by %4 (%5) (relative)")
                               .arg(epoch)
                               .arg(dg)
                               .arg(QString::fromStdString(wg))
                               .arg(dd)
                               .arg(QString::fromStdString(wd))));
        }
        // Averaged across ranks at the update rate: the logged batch means are the global batch's.
        const LossLogData l1 = LossLog::read(e1), l2 = LossLog::read(e2);
        QCOMPARE(l2.world_size, 2);
        QCOMPARE(l2.backend, std::string("gloo"));
        QCOMPARE(l2.devices, (std::vector<std::string> { "cpu", "cpu" }));
        QCOMPARE(l2.dataset_length, std::int64_t(8));
        QCOMPARE(l1.world_size, 0); // a single-process log has no world keys
        for (const auto& [name, s] : l1.losses) {
            const auto& t = l2.losses.at(name);
            QCOMPARE(t.raw.size(), s.raw.size()); // 2 epochs x 2 iterations: no value per rank
            QCOMPARE(t.raw.size(), std::size_t(4));
            for (std::size_t i = 0; i < s.raw.size(); ++i)
                QVERIFY2(std::abs(t.raw[i] - s.raw[i]) <= 1e-5 * std::max(1.0f, std::abs(s.raw[i])),
                    qPrintable(QString::fromStdString(name)
                        + QStringLiteral(" value %1: %2 vs %3").arg(i).arg(t.raw[i]).arg(s.raw[i])));
        }
        const QStringList files = QDir(QString::fromStdString(e2)).entryList(QDir::Files);
        QCOMPARE(files.filter(QRegularExpression(QStringLiteral("^epoch\\d+_netG\\.pt$"))).size(), 2);
        QCOMPARE(files.filter(QRegularExpression(QStringLiteral("^train\\d+_config\\.json$"))).size(), 1);
        QVERIFY(files.contains(QStringLiteral("loss_log.json")));
        QCOMPARE(QDir(two + QStringLiteral("/runs")).entryList(QDir::Dirs | QDir::NoDotAndDotDot).size(), 1);

        // Resume across world sizes: the 2-rank checkpoint of epoch 1 on 1 rank (batch 4), the 1-rank one
        // on 2 ranks (batch 2). Both land next to the straight runs' epoch 2: within 1e-4, not 1e-5, because
        // the two epoch-1 checkpoints differ by rounding (~1e-6) and Adam's second epoch amplifies that
        // (1- and 2-thread single-process runs differ by 3e-5 here); starting over or from the wrong epoch
        // would be off by ~1e-2.
        Nets want1 = load_nets(c1, e1, 2), want2 = load_nets(c2, e2, 2);
        const Result back
            = run({ QStringLiteral("--experiment"), QString::fromStdString(e2), QStringLiteral("--continue"),
                QStringLiteral("1"), QStringLiteral("--batch-size"), QStringLiteral("4"), QStringLiteral("--quiet") });
        QVERIFY2(back.code == 0, qPrintable(back.err));
        const Result up = run({ QStringLiteral("--experiment"), QString::fromStdString(e1),
            QStringLiteral("--continue"), QStringLiteral("1"), QStringLiteral("--batch-size"), QStringLiteral("2"),
            QStringLiteral("--quiet"), QStringLiteral("--nproc-per-node"), QStringLiteral("2"),
            QStringLiteral("--master-port"), num(free_port()) });
        QVERIFY2(up.code == 0, qPrintable(up.err));
        Nets got1 = load_nets(c1, e2, 2), got2 = load_nets(c2, e1, 2);
        for (const auto& [got, want, what] :
            { std::tuple { &got1, &want1, "2 -> 1 rank" }, { &got2, &want2, "1 -> 2 ranks" } }) {
            std::string wg, wd;
            const double dg = max_relative_difference(*got->g, *want->g, &wg);
            const double dd = max_relative_difference(*got->d, *want->d, &wd);
            QVERIFY2(dg <= 1e-4 && dd <= 1e-4,
                qPrintable(QStringLiteral("%1: G differs by %2 (%3), D by %4 (%5)")
                               .arg(QLatin1String(what))
                               .arg(dg)
                               .arg(QString::fromStdString(wg))
                               .arg(dd)
                               .arg(QString::fromStdString(wd))));
        }
        // The continued 2-rank run appended to the 1-rank log, and says so in its header.
        const LossLogData resumed = LossLog::read(e1);
        QCOMPARE(resumed.world_size, 2);
        QCOMPARE(resumed.losses.at("G_L1").raw.size(), std::size_t(4));
    }

    void killedRankEndsTheJob()
    {
        QTemporaryDir tmp;
        const std::string c = long_run_config(tmp.path());
        QProcess p;
        start_two_ranks(p, c, { QStringLiteral("--collective-timeout"), QStringLiteral("60") });
        QVERIFY(p.waitForStarted());
        QString err;
        QTRY_VERIFY_WITH_TIMEOUT(
            (err += QString::fromUtf8(p.readAllStandardError())).contains(QStringLiteral("epoch 3 done")), 120000);
        const auto pids = worker_pids(p.processId());
        QVERIFY2(pids.count(1) == 1, "rank 1's process not found under the launcher");
        QElapsedTimer t;
        t.start();
        ::kill(pids.at(1), SIGKILL);
        QVERIFY2(p.waitForFinished(90000), "the job did not end within 90 s of a rank's death");
        err += QString::fromUtf8(p.readAllStandardError());
        QCOMPARE(p.exitStatus(), QProcess::NormalExit);
        QCOMPARE(p.exitCode(), 1);
        QVERIFY2(err.contains(QStringLiteral("rank 1 failed (killed by signal 9")), qPrintable(err.right(2000)));
        QVERIFY(t.elapsed() < 90000);
        // Rank 0 left on its own (its collective failed), not by the launcher's SIGKILL.
        QVERIFY2(!err.contains(QStringLiteral("rank 0: killed by signal 9")), qPrintable(err.right(2000)));
    }

    void interruptStopsEveryRankAtTheSameIteration()
    {
        QTemporaryDir tmp;
        const std::string c = long_run_config(tmp.path(), 3);
        QProcess p;
        start_two_ranks(p, c);
        QVERIFY(p.waitForStarted());
        QString err;
        QTRY_VERIFY_WITH_TIMEOUT(
            (err += QString::fromUtf8(p.readAllStandardError())).contains(QStringLiteral("epoch 2 done")), 120000);
        ::kill(static_cast<pid_t>(p.processId()), SIGINT);
        QVERIFY(p.waitForFinished(120000));
        err += QString::fromUtf8(p.readAllStandardError());
        QCOMPARE(p.exitStatus(), QProcess::NormalExit);
        QVERIFY2(p.exitCode() == 0, qPrintable(err.right(2000)));
        const QRegularExpression done(
            QStringLiteral("^(\\[rank (\\d)\\] )?stopped: (\\d+) iterations"), QRegularExpression::MultilineOption);
        std::map<int, int> stopped_at;
        for (auto m = done.globalMatch(err); m.hasNext();) {
            const auto match = m.next();
            stopped_at[match.captured(2).isEmpty() ? 0 : match.captured(2).toInt()] = match.captured(3).toInt();
        }
        QVERIFY2(stopped_at.size() == 2, qPrintable(err.right(2000)));
        QCOMPARE(stopped_at[0], stopped_at[1]);
        QVERIFY(stopped_at[0] >= 4);
        // Rank 0 saved the checkpoint of the stopped epoch, and it loads.
        const std::string dir = only_experiment(tmp.path() + QStringLiteral("/runs"));
        const auto epochs = list_checkpoint_epochs(dir);
        QCOMPARE(epochs.size(), std::size_t(1));
        const Nets n = load_nets(c, dir, epochs.front());
        QVERIFY(n.g);
        const LossLogData log = LossLog::read(dir);
        QCOMPARE(log.losses.at("G_L1").raw.size(), std::size_t(stopped_at[0]));
    }

    // A NaN on one rank is decided on all: with "skip" both ranks skip that step (rank 0, whose own loss
    // was finite, skips too, and the run ends normally instead of hanging in mismatched collectives); with
    // "stop" every rank stops and the job fails.
    void nonFiniteLossOnOneRankDecidesForAll()
    {
        QTemporaryDir tmp;
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        // Rank 1's 3rd generator step = epoch 2, iteration 1 (2 iterations per epoch).
        env.insert(QStringLiteral("NECTAR_TEST_NONFINITE_AT"), QStringLiteral("generator-loss:rank1:3"));
        const auto launch = [&](const char* policy, const QString& sub) {
            QDir().mkpath(tmp.path() + sub);
            const std::string c
                = config(tmp.path() + sub, 2, { { "config", { { "train", { { "nonfinite_policy", policy } } } } } });
            return run({ QStringLiteral("--config"), QString::fromStdString(c), QStringLiteral("--quiet"),
                           QStringLiteral("--nproc-per-node"), QStringLiteral("2"), QStringLiteral("--master-port"),
                           num(free_port()) },
                120000, env);
        };
        const Result skip = launch("skip", QStringLiteral("/skip"));
        QVERIFY2(skip.code == 0, qPrintable(skip.err));
        QVERIFY2(skip.err.contains(QStringLiteral(
                     "non-finite generator loss on another rank at epoch 2, iteration 1: optimizer step skipped")),
            qPrintable(skip.err));
        QVERIFY2(skip.err.contains(QStringLiteral("1 optimizer step(s) skipped")), qPrintable(skip.err));

        const Result stop = launch("stop", QStringLiteral("/stop"));
        QCOMPARE(stop.code, 1);
        QVERIFY2(stop.err.contains(QStringLiteral("non-finite generator loss")), qPrintable(stop.err));
        QVERIFY2(
            stop.err.contains(QStringLiteral("every rank stopped before the optimizer step")), qPrintable(stop.err));
        // The checkpoint of epoch 1 stays; none for the failed epoch 2.
        const auto epochs = list_checkpoint_epochs(only_experiment(tmp.path() + QStringLiteral("/stop/runs")));
        QCOMPARE(epochs, std::vector<int> { 1 });
    }

    void badSettingsExitTwo()
    {
        QTemporaryDir tmp;
        const std::string c = config(tmp.path(), 2);
        const QStringList base { QStringLiteral("--config"), QString::fromStdString(c), QStringLiteral("--quiet") };

        Result r = run(base + QStringList { QStringLiteral("--nproc-per-node"), QStringLiteral("0") });
        QCOMPARE(r.code, 2);
        QVERIFY2(r.err.contains(QStringLiteral("--nproc-per-node 0")), qPrintable(r.err));

        Listener busy;
        QVERIFY(busy.port > 0);
        r = run(base
            + QStringList { QStringLiteral("--nproc-per-node"), QStringLiteral("2"), QStringLiteral("--master-port"),
                num(busy.port) });
        QCOMPARE(r.code, 2);
        QVERIFY2(r.err.contains(QStringLiteral("port ") + num(busy.port)), qPrintable(r.err));
        QVERIFY2(!r.err.contains(QStringLiteral("launching")), "workers were started despite the port in use");

        // Rendezvous timeout: rank 1 never comes.
        const int port = free_port();
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert(QStringLiteral("WORLD_SIZE"), QStringLiteral("2"));
        env.insert(QStringLiteral("MASTER_ADDR"), QStringLiteral("127.0.0.1"));
        env.insert(QStringLiteral("MASTER_PORT"), num(port));
        env.insert(QStringLiteral("RANK"), QStringLiteral("0"));
        r = run(base + QStringList { QStringLiteral("--rendezvous-timeout"), QStringLiteral("2") }, 60000, env);
        QCOMPARE(r.code, 2);
        QVERIFY2(r.err.contains(QStringLiteral("rank(s) 1 of world size 2 did not arrive")), qPrintable(r.err));

        // Mismatched configs: the two ranks are started by hand (torchrun-style) with different epochs.
        const int port2 = free_port();
        env.insert(QStringLiteral("MASTER_PORT"), num(port2));
        QProcess r0, r1;
        QProcessEnvironment env1 = env;
        env1.insert(QStringLiteral("RANK"), QStringLiteral("1"));
        r0.setProcessEnvironment(env);
        r1.setProcessEnvironment(env1);
        r0.start(kTrain, base + QStringList { QStringLiteral("--rendezvous-timeout"), QStringLiteral("60") });
        r1.start(kTrain,
            base
                + QStringList { QStringLiteral("--epochs"), QStringLiteral("3"), QStringLiteral("--rendezvous-timeout"),
                    QStringLiteral("60") });
        QVERIFY(r0.waitForFinished(90000));
        QVERIFY(r1.waitForFinished(90000));
        for (QProcess* proc : { &r0, &r1 }) {
            const QString e = QString::fromUtf8(proc->readAllStandardError());
            QCOMPARE(proc->exitCode(), 2);
            QVERIFY2(e.contains(QStringLiteral("settings differ")), qPrintable(e));
        }
        QVERIFY2(!QDir(tmp.path() + QStringLiteral("/runs")).exists()
                || QDir(tmp.path() + QStringLiteral("/runs")).entryList(QDir::Dirs | QDir::NoDotAndDotDot).isEmpty(),
            "a refused job left an experiment folder");
    }
};

QTEST_GUILESS_MAIN(TestDistributed)
#include "tst_distributed.moc"
