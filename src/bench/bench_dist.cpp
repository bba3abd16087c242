// SPDX-License-Identifier: Apache-2.0
/// nectar-bench-dist: data-parallel scaling on this machine. For each global batch B it times full
/// training iterations (Pix2pixTrainer::train_step on random tensors, as nectar-bench) three ways, each in
/// fresh processes, back to back:
///   single    1 process  x N threads, batch B;
///   parallel  N processes x 1 thread, batch B / N each, Gloo on loopback, allreduce overlapped with backward;
///   serial    the same without overlap (every bucket starts after backward), which measures the whole
///             allreduce time per step.
/// It prints one JSON line per global batch: it/s of each, efficiency = parallel it/s / single it/s, the
/// allreduce seconds per step (serial's wait), the seconds still exposed with overlap (parallel's wait),
/// and the fraction the overlap hid. Defaults: 128 px, features 32, n_downs 5, N = 2, B = 2 and 8.
/// On a machine with several GPUs, --device cuda runs one process per GPU on NCCL: the multi-GPU figure
/// (the single run then uses one GPU at batch B). A benchmark, not a test: it asserts nothing about time.

#include <algorithm>
#include <chrono>
#include <iostream>
#include <optional>
#include <vector>

#include <torch/torch.h> // before Qt: its `slots` macro breaks ATen headers

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QProcess>
#include <QProcessEnvironment>

#include "config/config.h"
#include "distributed/dist_context.h"
#include "distributed/dist_settings.h"
#include "training/pix2pix_trainer.h"
#include "util/allocator.h"

using namespace nectar;

namespace {

struct Options {
    int crop = 128, features = 32, n_downs = 5;
    int nproc = 2;
    std::vector<int> global_batches { 2, 8 };
    int steps = 10, warmup = 2;
    std::string device = "cpu";
};

double median(std::vector<double> v)
{
    std::sort(v.begin(), v.end());
    return v.size() % 2 ? v[v.size() / 2] : 0.5 * (v[v.size() / 2 - 1] + v[v.size() / 2]);
}

/// One timed run in this process (a worker): prints its JSON line on stdout when it is rank 0 (or alone).
int worker(const Options& o, int batch, int threads, bool overlap)
{
    Config c;
    c.common.device = o.device;
    c.common.num_threads = threads;
    c.common.seed = 0;
    c.dataloader.load.crop_size = o.crop;
    c.dataloader.load.load_size = o.crop;
    c.dataloader.batch_size = batch;
    c.train.generator.features = o.features;
    c.train.generator.n_downs = o.n_downs;
    c.train.nonfinite_policy = NonFinitePolicy::Ignore; // no per-iteration host sync
    std::optional<DistSettings> s = dist_settings_from_env();
    std::unique_ptr<DistContext> ctx;
    torch::Device device = torch::kCPU;
    if (o.device != "cpu")
        device = torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(s ? s->local_rank : 0));
    if (s) {
        ctx = std::make_unique<DistContext>(*s, "bench", resolve_dist_backend(DistBackend::Auto, device), device);
        c.common.device = device.str();
    }
    Pix2pixTrainer trainer(c, nullptr, nullptr, nullptr, Pix2pixTrainer::Mode::Benchmark);
    trainer.set_distributed(ctx.get());
    trainer.set_allreduce_overlap(overlap);
    trainer.setup();
    trainer.on_epoch_start(1);
    torch::manual_seed(1 + (s ? s->rank : 0)); // each rank its own batch
    const auto opts = torch::TensorOptions().dtype(torch::kFloat32).device(trainer.device());
    auto x = torch::rand({ batch, 3, o.crop, o.crop }, opts) * 2 - 1;
    auto y = torch::rand({ batch, 3, o.crop, o.crop }, opts) * 2 - 1;
    for (int i = 0; i < o.warmup; ++i)
        trainer.train_step(x, y, i);
    trainer.reset_phase_timers();
    std::vector<double> times;
    for (int i = 0; i < o.steps; ++i) {
        const auto t0 = std::chrono::steady_clock::now();
        trainer.train_step(x, y, i);
        if (trainer.device().is_cuda())
            torch::cuda::synchronize();
        times.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    }
    if (s && s->rank != 0)
        return 0;
    const auto phases = trainer.phase_seconds();
    const auto phase = [&](const char* k) {
        const auto it = phases.find(k);
        return it == phases.end() ? 0.0 : it->second;
    };
    nlohmann::json j;
    j["median_s_per_iter"] = median(times);
    j["allreduce_wait_s_per_iter"] = phase("G_allreduce") + phase("D_allreduce");
    j["backward_s_per_iter"] = phase("G_backward") + phase("D_backward");
    j["threads"] = torch::get_num_threads();
    j["device"] = trainer.device().str();
    std::cout << j.dump() << std::endl;
    return 0;
}

QStringList worker_args(const Options& o, int batch, int threads, bool overlap)
{
    return { QStringLiteral("--worker"), QStringLiteral("--crop"), QString::number(o.crop),
        QStringLiteral("--features"), QString::number(o.features), QStringLiteral("--n-downs"),
        QString::number(o.n_downs), QStringLiteral("--batch"), QString::number(batch), QStringLiteral("--threads"),
        QString::number(threads), QStringLiteral("--steps"), QString::number(o.steps), QStringLiteral("--warmup"),
        QString::number(o.warmup), QStringLiteral("--device"), QString::fromStdString(o.device),
        QStringLiteral("--overlap"), QString::number(overlap ? 1 : 0) };
}

/// Runs `nproc` workers (1: a plain process) and returns rank 0's JSON line.
nlohmann::json spawn(const Options& o, int nproc, int batch, int threads, bool overlap, int port)
{
    std::optional<RendezvousHost> host;
    if (nproc > 1)
        host.emplace("127.0.0.1", port);
    std::vector<std::unique_ptr<QProcess>> procs;
    for (int r = 0; r < nproc; ++r) {
        auto p = std::make_unique<QProcess>();
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        if (nproc > 1) {
            env.insert(QStringLiteral("RANK"), QString::number(r));
            env.insert(QStringLiteral("LOCAL_RANK"), QString::number(r));
            env.insert(QStringLiteral("WORLD_SIZE"), QString::number(nproc));
            env.insert(QStringLiteral("LOCAL_WORLD_SIZE"), QString::number(nproc));
            env.insert(QStringLiteral("MASTER_ADDR"), QStringLiteral("127.0.0.1"));
            env.insert(QStringLiteral("MASTER_PORT"), QString::number(port));
            env.insert(QStringLiteral("TORCHELASTIC_USE_AGENT_STORE"), QStringLiteral("True"));
        } else {
            env.remove(QStringLiteral("WORLD_SIZE"));
        }
        p->setProcessEnvironment(env);
        p->setProcessChannelMode(QProcess::ForwardedErrorChannel);
        p->start(QCoreApplication::applicationFilePath(), worker_args(o, batch, threads, overlap));
        procs.push_back(std::move(p));
    }
    nlohmann::json out;
    for (int r = 0; r < nproc; ++r) {
        auto& p = procs[static_cast<std::size_t>(r)];
        p->waitForFinished(-1);
        if (p->exitStatus() != QProcess::NormalExit || p->exitCode() != 0)
            throw std::runtime_error(
                "worker " + std::to_string(r) + " failed (exit " + std::to_string(p->exitCode()) + ")");
        if (r == 0)
            out = nlohmann::json::parse(p->readAllStandardOutput().toStdString());
    }
    return out;
}

} // namespace

int main(int argc, char** argv)
{
    tune_allocator_for_training();
    QCoreApplication app(argc, argv);
    QCommandLineParser p;
    p.setApplicationDescription(
        QStringLiteral("Data-parallel scaling: N processes x 1 thread against 1 process x N threads."));
    p.addHelpOption();
    auto add = [&](const char* name, const char* desc, const char* value = nullptr) {
        p.addOption(value
                ? QCommandLineOption(QString::fromLatin1(name), QString::fromLatin1(desc), QString::fromLatin1(value))
                : QCommandLineOption(QString::fromLatin1(name), QString::fromLatin1(desc)));
    };
    add("nproc-per-node", "Processes (default 2).", "N");
    add("global-batch", "Comma-separated global batch sizes (default 2,8; each a multiple of N).", "LIST");
    add("crop", "Image size (default 128).", "N");
    add("features", "Generator features (default 32).", "N");
    add("n-downs", "Generator downsampling blocks (default 5).", "N");
    add("steps", "Timed iterations per run (default 10).", "N");
    add("warmup", "Untimed iterations first (default 2).", "N");
    add("device", "cpu (default) | cuda: one GPU per process (NCCL).", "D");
    add("master-port", "Loopback port of the rendezvous (default 29511).", "PORT");
    add("worker", "(internal) one timed run.");
    add("batch", "(internal) per-process batch.", "N");
    add("threads", "(internal) threads of a worker.", "N");
    add("overlap", "(internal) 1 = overlap the allreduce with backward.", "0|1");
    if (!p.parse(app.arguments())) {
        std::cerr << "nectar-bench-dist: error: " << p.errorText().toStdString() << std::endl;
        return 2;
    }
    if (p.isSet(QStringLiteral("help"))) {
        std::cout << p.helpText().toStdString();
        return 0;
    }
    try {
        const auto integer = [&](const char* name, int def, int min) {
            const QString n = QString::fromLatin1(name);
            if (!p.isSet(n))
                return def;
            bool ok = false;
            const int v = p.value(n).toInt(&ok);
            if (!ok || v < min)
                throw std::invalid_argument(std::string("--") + name + " " + p.value(n).toStdString()
                    + ": expected an integer >= " + std::to_string(min));
            return v;
        };
        Options o;
        o.crop = integer("crop", o.crop, 1);
        o.features = integer("features", o.features, 1);
        o.n_downs = integer("n-downs", o.n_downs, 1);
        o.nproc = integer("nproc-per-node", o.nproc, 2);
        o.steps = integer("steps", o.steps, 1);
        o.warmup = integer("warmup", o.warmup, 0);
        if (p.isSet(QStringLiteral("device")))
            o.device = p.value(QStringLiteral("device")).toStdString();
        if (p.isSet(QStringLiteral("worker")))
            return worker(o, integer("batch", 1, 1), integer("threads", 1, 1), integer("overlap", 1, 0) != 0);
        if (p.isSet(QStringLiteral("global-batch"))) {
            o.global_batches.clear();
            for (const QString& b : p.value(QStringLiteral("global-batch")).split(QLatin1Char(','))) {
                bool ok = false;
                const int v = b.toInt(&ok);
                if (!ok || v < o.nproc || v % o.nproc != 0)
                    throw std::invalid_argument("--global-batch " + b.toStdString() + ": expected a multiple of "
                        + std::to_string(o.nproc) + " (the processes)");
                o.global_batches.push_back(v);
            }
        }
        const int port = integer("master-port", 29511, 1);
        const bool gpu = o.device != "cpu";
        for (int batch : o.global_batches) {
            // Back to back, fresh processes each: the single run, then overlapped, then serial.
            const auto single = spawn(o, 1, batch, gpu ? 1 : o.nproc, true, port);
            const auto overlapped = spawn(o, o.nproc, batch / o.nproc, 1, true, port);
            const auto serial = spawn(o, o.nproc, batch / o.nproc, 1, false, port);
            const double t1 = single["median_s_per_iter"], tn = overlapped["median_s_per_iter"];
            const double allreduce = serial["allreduce_wait_s_per_iter"];
            const double exposed = overlapped["allreduce_wait_s_per_iter"];
            nlohmann::json j;
            j["crop"] = o.crop;
            j["features"] = o.features;
            j["n_downs"] = o.n_downs;
            j["global_batch"] = batch;
            j["processes"] = o.nproc;
            j["device"] = o.device;
            j["single_it_per_s"] = 1.0 / t1;
            j["single_threads"] = single["threads"];
            j["parallel_it_per_s"] = 1.0 / tn;
            j["serial_it_per_s"] = 1.0 / static_cast<double>(serial["median_s_per_iter"]);
            j["efficiency"] = t1 / tn;
            j["allreduce_s_per_step"] = allreduce;
            j["exposed_allreduce_s_per_step"] = exposed;
            j["overlapped_fraction"] = allreduce > 0 ? std::clamp(1.0 - exposed / allreduce, 0.0, 1.0) : 0.0;
            std::cout << j.dump() << std::endl;
        }
    } catch (const std::exception& e) {
        std::cerr << "nectar-bench-dist: error: " << e.what() << std::endl;
        return 2;
    }
    return 0;
}
