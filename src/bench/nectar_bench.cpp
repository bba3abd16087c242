// SPDX-License-Identifier: Apache-2.0
/// nectar-bench: times full pix2pix training iterations (D step + G step, exactly Pix2pixTrainer::train_step)
/// on random tensors and prints one JSON line per config:
///   {"crop", "features", "n_downs", "batch", "subspec", "block", "upsample", "threads", "device", "steps",
///    "median_s_per_iter", "mean_s_per_iter", "it_per_s", "images_per_s", "peak_rss_mib", "peak_cuda_mib",
///    "phases_s_per_iter": {"G_forward", "D_forward", "D_backward", "D_optimizer", "G_loss_forward",
///                          "G_backward", "G_optimizer"}}
/// With no config flags it runs the suite of issue 3 at 2 threads (compare with NectarGAN's figures in
/// tests/data/reference/README of the shared reference: same ATen 1.13.1). peak_rss_mib is the process peak
/// (getrusage), so within a suite it can only grow. peak_cuda_mib is the CUDA caching allocator's peak of
/// allocated memory during that config (warm-up and timed steps; reset per config, as
/// torch.cuda.max_memory_allocated after reset_peak_memory_stats), null on the CPU or when this build's
/// LibTorch has no CUDA (NECTAR_HAVE_C10_CUDA, set by src/bench/CMakeLists.txt).
/// This is a benchmark, not a test: it asserts nothing about time.

#include <algorithm>
#include <chrono>
#include <iostream>
#include <vector>

#include <sys/resource.h>

#include <torch/csrc/autograd/profiler_legacy.h>
#include <torch/torch.h> // before Qt: its `slots` macro breaks ATen headers
#if NECTAR_HAVE_C10_CUDA
#include <c10/cuda/CUDACachingAllocator.h>
#endif

#include <QCommandLineParser>
#include <QCoreApplication>

#include "config/config.h"
#include "training/pix2pix_trainer.h"
#include "util/allocator.h"

using namespace nectar;

namespace {

struct BenchConfig {
    int crop = 256, features = 64, n_downs = 6, batch = 1;
    std::string subspec = "basic";
    std::string block = "UnetBlock";
    std::string upsample = "Transposed";
    int threads = 2;
};

double peak_rss_mib()
{
    rusage u {};
    getrusage(RUSAGE_SELF, &u);
    return static_cast<double>(u.ru_maxrss) / 1024.0; // ru_maxrss is in KiB on Linux
}

/// Starts a new peak for peak_cuda_mib() on a CUDA device (no-op otherwise).
void reset_peak_cuda(const torch::Device& device)
{
#if NECTAR_HAVE_C10_CUDA
    if (device.is_cuda())
        c10::cuda::CUDACachingAllocator::resetPeakStats(device.index());
#else
    (void)device;
#endif
}

/// Peak allocated CUDA memory since reset_peak_cuda, in MiB; null on the CPU or without c10_cuda.
nlohmann::json peak_cuda_mib(const torch::Device& device)
{
#if NECTAR_HAVE_C10_CUDA
    if (device.is_cuda()) {
        // allocated_bytes[0] is the aggregate over the small and large pools (StatType::AGGREGATE) in
        // LibTorch 1.13 and 2.x alike.
        const auto stats = c10::cuda::CUDACachingAllocator::getDeviceStats(device.index());
        return static_cast<double>(stats.allocated_bytes[0].peak) / (1024.0 * 1024.0);
    }
#else
    (void)device;
#endif
    return nullptr;
}

nlohmann::json run_one(
    const BenchConfig& b, int steps, int warmup, const std::string& device, const std::string& profile_path)
{
    Config c;
    c.common.device = device;
    c.common.num_threads = b.threads;
    c.common.seed = 0;
    c.dataloader.load.crop_size = b.crop;
    c.dataloader.load.load_size = b.crop;
    c.dataloader.batch_size = b.batch;
    c.train.generator.features = b.features;
    c.train.generator.n_downs = b.n_downs;
    c.train.generator.block_type = parse_choice<UnetBlockType>(b.block, "--block");
    c.train.generator.upsample_type = parse_choice<UpsampleType>(b.upsample, "--upsample");
    c.train.loss.subspec = b.subspec;
    if (b.subspec.rfind("extended", 0) == 0) {
        // Same lambdas as NectarGAN's extended runs in the reference figures: every structure loss active.
        c.train.loss.lambda_l2 = 1.0;
        c.train.loss.lambda_sobel = 1.0;
        c.train.loss.lambda_laplacian = 1.0;
    }
    c.train.nonfinite_policy = NonFinitePolicy::Ignore; // no per-iteration host sync (as NectarGAN)
    Pix2pixTrainer trainer(c, nullptr, nullptr, nullptr, Pix2pixTrainer::Mode::Benchmark);
    trainer.setup();
    reset_peak_cuda(trainer.device()); // this config's peak, models and optimizer state included
    trainer.on_epoch_start(1);
    const auto opts = torch::TensorOptions().dtype(torch::kFloat32).device(trainer.device());
    auto x = torch::rand({ b.batch, 3, b.crop, b.crop }, opts) * 2 - 1;
    auto y = torch::rand({ b.batch, 3, b.crop, b.crop }, opts) * 2 - 1;
    for (int i = 0; i < warmup; ++i)
        trainer.train_step(x, y, i);
    if (!profile_path.empty()) {
        // One extra untimed step under ATen's profiler: a chrome://tracing file naming every kernel that ran.
        torch::autograd::profiler::RecordProfile guard(profile_path);
        trainer.train_step(x, y, warmup);
    }
    trainer.reset_phase_timers();
    std::vector<double> times;
    for (int i = 0; i < steps; ++i) {
        const auto t0 = std::chrono::steady_clock::now();
        trainer.train_step(x, y, i);
        if (trainer.device().is_cuda())
            torch::cuda::synchronize();
        times.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    }
    std::vector<double> sorted = times;
    std::sort(sorted.begin(), sorted.end());
    const double median = sorted.size() % 2 ? sorted[sorted.size() / 2]
                                            : 0.5 * (sorted[sorted.size() / 2 - 1] + sorted[sorted.size() / 2]);
    double mean = 0;
    for (double t : times)
        mean += t / times.size();
    nlohmann::json j;
    j["crop"] = b.crop;
    j["features"] = b.features;
    j["n_downs"] = b.n_downs;
    j["batch"] = b.batch;
    j["subspec"] = b.subspec;
    j["block"] = b.block;
    j["upsample"] = b.upsample;
    j["threads"] = torch::get_num_threads();
    j["device"] = trainer.device().str();
    j["steps"] = steps;
    j["median_s_per_iter"] = median;
    j["mean_s_per_iter"] = mean;
    j["it_per_s"] = 1.0 / median;
    j["images_per_s"] = b.batch / median;
    j["peak_rss_mib"] = peak_rss_mib();
    j["peak_cuda_mib"] = peak_cuda_mib(trainer.device());
    j["phases_s_per_iter"] = trainer.phase_seconds();
    return j;
}

} // namespace

int main(int argc, char** argv)
{
    tune_allocator_for_training(); // as nectar-train and nectar-toolbox do
    QCoreApplication app(argc, argv);
    QCommandLineParser p;
    p.setApplicationDescription(QStringLiteral("Time pix2pix training iterations on random tensors."));
    p.addHelpOption();
    auto add = [&](const char* name, const char* desc, const char* value) {
        p.addOption(
            QCommandLineOption(QString::fromLatin1(name), QString::fromLatin1(desc), QString::fromLatin1(value)));
    };
    add("crop", "Image size (pixels).", "N");
    add("features", "Generator features.", "N");
    add("n-downs", "Generator downsampling blocks.", "N");
    add("batch", "Batch size.", "N");
    add("subspec", "pix2pix subspec (basic, extended, ...).", "NAME");
    add("block", "UnetBlock | ResidualUnetBlock.", "NAME");
    add("upsample", "Transposed | Bilinear.", "NAME");
    add("threads", "Intra-op threads (default 2).", "N");
    add("steps", "Timed iterations (default: 10, 3 for crop >= 256).", "N");
    add("warmup", "Untimed iterations first (default 2).", "N");
    add("device", "cpu | cuda | cuda:N | auto (default cpu).", "D");
    add("profile", "Write a chrome://tracing profile of one extra step after warm-up (one config only).", "FILE");
    if (!p.parse(app.arguments())) {
        std::cerr << "nectar-bench: error: " << p.errorText().toStdString() << std::endl;
        return 2;
    }
    if (p.isSet(QStringLiteral("help"))) {
        std::cout << p.helpText().toStdString();
        return 0;
    }
    try {
        auto integer = [&](const char* name, int def) {
            const QString n = QString::fromLatin1(name);
            if (!p.isSet(n))
                return def;
            bool ok = false;
            const int v = p.value(n).toInt(&ok);
            if (!ok || v < 0)
                throw std::invalid_argument(
                    std::string("--") + name + " " + p.value(n).toStdString() + ": expected an integer >= 0");
            return v;
        };
        const bool single = p.isSet(QStringLiteral("crop")) || p.isSet(QStringLiteral("features"))
            || p.isSet(QStringLiteral("n-downs")) || p.isSet(QStringLiteral("batch"))
            || p.isSet(QStringLiteral("subspec")) || p.isSet(QStringLiteral("block"))
            || p.isSet(QStringLiteral("upsample"));
        std::vector<BenchConfig> configs;
        if (single) {
            BenchConfig b;
            b.crop = integer("crop", b.crop);
            b.features = integer("features", b.features);
            b.n_downs = integer("n-downs", b.n_downs);
            b.batch = integer("batch", b.batch);
            if (p.isSet(QStringLiteral("subspec")))
                b.subspec = p.value(QStringLiteral("subspec")).toStdString();
            if (p.isSet(QStringLiteral("block")))
                b.block = p.value(QStringLiteral("block")).toStdString();
            if (p.isSet(QStringLiteral("upsample")))
                b.upsample = p.value(QStringLiteral("upsample")).toStdString();
            configs.push_back(b);
        } else {
            configs = { { 256, 64, 6, 1, "basic" }, { 128, 32, 5, 1, "basic" }, { 128, 32, 5, 4, "extended" },
                { 64, 16, 4, 8, "basic" } };
        }
        const int threads = integer("threads", 2);
        const int warmup = integer("warmup", 2);
        const std::string device
            = p.isSet(QStringLiteral("device")) ? p.value(QStringLiteral("device")).toStdString() : "cpu";
        const std::string profile = p.value(QStringLiteral("profile")).toStdString();
        if (!profile.empty() && configs.size() != 1)
            throw std::invalid_argument("--profile " + profile + ": profiles one config; pick it with --crop etc.");
        for (auto& b : configs) {
            b.threads = threads;
            const int steps = std::max(1, integer("steps", b.crop >= 256 ? 3 : 10));
            std::cout << run_one(b, steps, warmup, device, profile).dump() << std::endl;
        }
    } catch (const std::exception& e) {
        std::cerr << "nectar-bench: error: " << e.what() << std::endl;
        return 2;
    }
    return 0;
}
