// SPDX-License-Identifier: Apache-2.0
/// nectar-test: runs a trained generator on the test split (NectarGAN `scripts/test.py` / Tester) and writes
/// input | generated | target images plus per-image L1, MSE and PSNR (CSV and JSON) with their means.
/// Metrics are computed on images scaled to [0, 1]: L1 = mean |g - t|, MSE = mean (g - t)^2,
/// PSNR = 10 log10(1 / MSE) dB (infinite for identical images, written as null in JSON).
/// Exit codes: 0 success, 1 failure while testing, 2 bad input.

#include <cmath>
#include <filesystem>
#include <fstream>
#include <iostream>

#include <QCommandLineParser>
#include <QCoreApplication>
#include <torch/torch.h>

#include "cli_common.h"
#include "config/config.h"
#include "data/data_loader.h"
#include "data/paired_dataset.h"
#include "io/image_io.h"
#include "models/unet.h"
#include "training/checkpoint.h"
#include "training/device.h"

namespace fs = std::filesystem;
using namespace nectar;
using namespace nectar::cli;

namespace {

std::string csv_escape(const std::string& s)
{
    if (s.find_first_of(",\"\n") == std::string::npos)
        return s;
    std::string out = "\"";
    for (char c : s)
        out += c == '"' ? std::string("\"\"") : std::string(1, c);
    return out + "\"";
}

void write_atomic(const std::string& path, const std::string& text)
{
    const std::string tmp = path + ".tmp";
    {
        std::ofstream out(tmp, std::ios::trunc);
        out << text;
        if (!out)
            throw std::runtime_error("cannot write " + tmp);
    }
    fs::rename(tmp, path);
}

} // namespace

int main(int argc, char** argv)
{
    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName(QStringLiteral("nectar-test"));
    return guarded("nectar-test", [&]() -> int {
        QCommandLineParser p;
        p.setApplicationDescription(QStringLiteral("Run a trained generator on the test split and score it."));
        p.addHelpOption();
        p.addOption({ QStringLiteral("experiment"), QStringLiteral("Experiment folder (<name>_v<N>)."),
            QStringLiteral("DIR") });
        p.addOption({ QStringLiteral("epoch"), QStringLiteral("Checkpoint epoch to load."), QStringLiteral("N") });
        p.addOption({ QStringLiteral("dataroot"), QStringLiteral("Dataset folder (default: the experiment's)."),
            QStringLiteral("DIR") });
        p.addOption(
            { QStringLiteral("split"), QStringLiteral("Split to run on (default test)."), QStringLiteral("NAME") });
        p.addOption({ QStringLiteral("output"), QStringLiteral("Output folder (default <experiment>/test_epoch<N>)."),
            QStringLiteral("DIR") });
        p.addOption({ QStringLiteral("device"),
            QStringLiteral("cpu | cuda | cuda:N | auto (default: the experiment's)."), QStringLiteral("D") });
        if (!p.parse(app.arguments()))
            throw UsageError(p.errorText().toStdString() + " (see --help)");
        if (p.isSet(QStringLiteral("help"))) {
            std::cout << p.helpText().toStdString();
            return kExitOk;
        }
        if (!p.isSet(QStringLiteral("experiment")) || !p.isSet(QStringLiteral("epoch")))
            throw UsageError("--experiment DIR and --epoch N are required (see --help)");
        const std::string exp = p.value(QStringLiteral("experiment")).toStdString();
        bool ok = false;
        const int epoch = p.value(QStringLiteral("epoch")).toInt(&ok);
        if (!ok || epoch < 1)
            throw UsageError(
                "--epoch " + p.value(QStringLiteral("epoch")).toStdString() + ": expected an integer >= 1");
        const std::string cfg_path = experiment_config_copy(exp);
        Config config = load_config_file(cfg_path);
        if (p.isSet(QStringLiteral("dataroot")))
            config.dataloader.dataroot = p.value(QStringLiteral("dataroot")).toStdString();
        if (p.isSet(QStringLiteral("device")))
            config.common.device = p.value(QStringLiteral("device")).toStdString();
        const std::string split
            = p.isSet(QStringLiteral("split")) ? p.value(QStringLiteral("split")).toStdString() : "test";
        const std::string out_dir = p.isSet(QStringLiteral("output"))
            ? p.value(QStringLiteral("output")).toStdString()
            : (fs::path(exp) / ("test_epoch" + std::to_string(epoch))).string();

        const DeviceChoice dev = resolve_device(config.common.device);
        if (!dev.message.empty())
            std::cerr << "warning: " << dev.message << "\n";
        apply_num_threads(config.common.num_threads);
        UnetGenerator gen(unet_options_from_config(config));
        gen->to(dev.device);
        load_generator_weights(exp, epoch, dev.device, *gen);
        gen->eval();

        auto opts = dataset_options_from_config(config, split);
        opts.train = false;
        auto dataset = std::make_shared<PairedDataset>(opts);
        for (const auto& w : dataset->warnings())
            std::cerr << "warning: " << w << "\n";
        DataLoader loader(dataset, 1, false, 0, 0);
        fs::create_directories(out_dir);

        return guarded(
            "nectar-test",
            [&]() -> int {
                torch::NoGradGuard no_grad;
                nlohmann::json images = nlohmann::json::array();
                std::string csv = "image,l1,mse,psnr_db\n";
                double sum_l1 = 0, sum_mse = 0, sum_psnr = 0;
                std::int64_t n = 0, n_psnr = 0;
                loader.begin_epoch(0);
                while (auto b = loader.next()) {
                    auto fake = gen->forward(b->a.to(dev.device)).to(torch::kCPU, torch::kFloat32);
                    // [-1, 1] -> [0, 1]; the generated image is clamped like a saved PNG would be.
                    auto g = (fake.clamp(-1, 1) + 1) * 0.5;
                    auto t = (b->b + 1) * 0.5;
                    const double l1 = (g - t).abs().mean().item<double>();
                    const double mse = (g - t).pow(2).mean().item<double>();
                    const double psnr = mse > 0 ? 10.0 * std::log10(1.0 / mse) : INFINITY;
                    const std::string stem = fs::path(b->paths.at(0)).stem().string();
                    save_png(hconcat({ tensor_to_rgb(b->a[0]), tensor_to_rgb(fake[0]), tensor_to_rgb(b->b[0]) }),
                        (fs::path(out_dir) / (stem + ".png")).string());
                    nlohmann::json e = { { "image", b->paths.at(0) }, { "l1", l1 }, { "mse", mse } };
                    e["psnr_db"] = std::isfinite(psnr) ? nlohmann::json(psnr) : nlohmann::json(nullptr);
                    images.push_back(e);
                    char line[128];
                    std::snprintf(line, sizeof line, ",%.8g,%.8g,%.6g\n", l1, mse, psnr);
                    csv += csv_escape(b->paths.at(0)) + line;
                    sum_l1 += l1;
                    sum_mse += mse;
                    if (std::isfinite(psnr)) {
                        sum_psnr += psnr;
                        ++n_psnr;
                    }
                    ++n;
                }
                if (n == 0)
                    throw DataError("no images in split \"" + split + "\" of " + config.dataloader.dataroot);
                nlohmann::json mean = { { "l1", sum_l1 / n }, { "mse", sum_mse / n } };
                mean["psnr_db"] = n_psnr ? nlohmann::json(sum_psnr / n_psnr) : nlohmann::json(nullptr);
                char line[160];
                std::snprintf(line, sizeof line, "mean,%.8g,%.8g,%.6g\n", sum_l1 / n, sum_mse / n,
                    n_psnr ? sum_psnr / n_psnr : INFINITY);
                csv += line;
                nlohmann::json doc = { { "experiment", fs::absolute(exp).string() }, { "epoch", epoch },
                    { "split", split }, { "dataroot", config.dataloader.dataroot }, { "count", n },
                    { "metric_range", "images scaled to [0, 1]; PSNR in dB with peak 1" }, { "images", images },
                    { "mean", mean } };
                write_atomic((fs::path(out_dir) / "metrics.csv").string(), csv);
                write_atomic((fs::path(out_dir) / "metrics.json").string(), doc.dump(2) + "\n");
                std::cout << "tested " << n << " images: mean L1 " << sum_l1 / n << ", MSE " << sum_mse / n << ", PSNR "
                          << (n_psnr ? sum_psnr / n_psnr : INFINITY) << " dB -> " << out_dir << std::endl;
                return kExitOk;
            },
            kExitTrainingFailure);
    });
}
