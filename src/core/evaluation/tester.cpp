// SPDX-License-Identifier: Apache-2.0
#include "evaluation/tester.h"

#include <cmath>
#include <cstdio>
#include <filesystem>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "config/config.h"
#include "data/data_loader.h"
#include "data/paired_dataset.h"
#include "io/image_io.h"
#include "models/unet.h"
#include "training/checkpoint.h"
#include "training/device.h"
#include "util/atomic_file.h"
#include "util/paths.h"

namespace fs = std::filesystem;

namespace nectar {

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

} // namespace

ImageMetrics image_metrics(const torch::Tensor& generated, const torch::Tensor& target)
{
    const auto g = (generated.to(torch::kFloat32).clamp(-1, 1) + 1) * 0.5; // [-1, 1] -> [0, 1]
    const auto t = (target.to(generated.device(), torch::kFloat32) + 1) * 0.5;
    ImageMetrics m;
    m.l1 = (g - t).abs().mean().item<double>();
    m.mse = (g - t).pow(2).mean().item<double>();
    m.psnr_db = m.mse > 0 ? 10.0 * std::log10(1.0 / m.mse) : INFINITY;
    return m;
}

TestResult run_test(
    const Config& config, const TestOptions& options, const std::function<void(const std::string&)>& warn)
{
    auto warning = [&](const std::string& w) {
        if (warn)
            warn(w);
    };
    const DeviceChoice dev = resolve_device(config.common.device);
    if (!dev.message.empty())
        warning(dev.message);
    apply_num_threads(config.common.num_threads);
    UnetGenerator gen(unet_options_from_config(config));
    gen->to(dev.device);
    load_generator_weights(options.experiment_dir, options.epoch, dev.device, *gen);
    gen->eval();

    auto opts = dataset_options_from_config(config, options.split);
    opts.train = false;
    auto dataset = std::make_shared<PairedDataset>(opts);
    for (const auto& w : dataset->warnings())
        warning(w);
    DataLoader loader(dataset, 1, false, 0, 0);

    TestResult r;
    r.output_dir = options.output_dir.empty()
        ? (fs::path(options.experiment_dir) / ("test_epoch" + std::to_string(options.epoch))).string()
        : options.output_dir;
    fs::create_directories(r.output_dir);

    torch::NoGradGuard no_grad;
    nlohmann::json images = nlohmann::json::array();
    std::string csv = "image,l1,mse,psnr_db\n";
    double sum_psnr = 0;
    std::size_t n_psnr = 0;
    loader.begin_epoch(0);
    while (auto b = loader.next()) {
        const auto fake = gen->forward(b->a.to(dev.device)).to(torch::kCPU, torch::kFloat32);
        ImageMetrics m = image_metrics(fake, b->b);
        m.image = b->paths.at(0);
        const std::string stem = fs::path(m.image).stem().string();
        save_png(hconcat({ tensor_to_rgb(b->a[0]), tensor_to_rgb(fake[0]), tensor_to_rgb(b->b[0]) }),
            (fs::path(r.output_dir) / (stem + ".png")).string());
        // JSON and CSV are UTF-8 text: names that are not UTF-8 are written as display_path (\xNN).
        nlohmann::json e = { { "image", display_path(m.image) }, { "l1", m.l1 }, { "mse", m.mse } };
        e["psnr_db"] = std::isfinite(m.psnr_db) ? nlohmann::json(m.psnr_db) : nlohmann::json(nullptr);
        images.push_back(e);
        char line[128];
        std::snprintf(line, sizeof line, ",%.8g,%.8g,%.6g\n", m.l1, m.mse, m.psnr_db);
        csv += csv_escape(display_path(m.image)) + line;
        r.mean_l1 += m.l1;
        r.mean_mse += m.mse;
        if (std::isfinite(m.psnr_db)) {
            sum_psnr += m.psnr_db;
            ++n_psnr;
        }
        r.images.push_back(std::move(m));
    }
    if (r.images.empty())
        throw DataError("no images in split \"" + display_path(options.split) + "\" of "
            + display_path(config.dataloader.dataroot));
    const auto n = static_cast<double>(r.images.size());
    r.mean_l1 /= n;
    r.mean_mse /= n;
    r.mean_psnr_db = n_psnr ? sum_psnr / static_cast<double>(n_psnr) : INFINITY;
    nlohmann::json mean = { { "l1", r.mean_l1 }, { "mse", r.mean_mse } };
    mean["psnr_db"] = n_psnr ? nlohmann::json(r.mean_psnr_db) : nlohmann::json(nullptr);
    char line[160];
    std::snprintf(line, sizeof line, "mean,%.8g,%.8g,%.6g\n", r.mean_l1, r.mean_mse, r.mean_psnr_db);
    csv += line;
    const nlohmann::json doc = { { "experiment", display_path(fs::absolute(options.experiment_dir).string()) },
        { "epoch", options.epoch }, { "split", display_path(options.split) },
        { "dataroot", display_path(config.dataloader.dataroot) }, { "count", r.images.size() },
        { "metric_range", "images scaled to [0, 1]; PSNR in dB with peak 1" }, { "images", images }, { "mean", mean } };
    write_file_atomically((fs::path(r.output_dir) / "metrics.csv").string(), csv, "metrics file");
    write_file_atomically((fs::path(r.output_dir) / "metrics.json").string(), doc.dump(2) + "\n", "metrics file");
    return r;
}

} // namespace nectar
