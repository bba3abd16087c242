// SPDX-License-Identifier: Apache-2.0
#pragma once
/// @file Testing a trained generator (NectarGAN `scripts/test.py` / Tester): runs G on a split and writes
/// input | generated | target images plus per-image L1, MSE and PSNR (metrics.csv, metrics.json) with their
/// means. nectar-test is a thin command line over run_test().
///
/// Metrics are computed on images scaled to [0, 1]: L1 = mean |g - t|, MSE = mean (g - t)^2,
/// PSNR = 10 log10(1 / MSE) dB (infinite for identical images, written as null in JSON).

#include <functional>
#include <string>
#include <vector>

#include <torch/types.h>

namespace nectar {

struct Config;

/// Metrics of one generated image against its target.
struct ImageMetrics {
    std::string image; ///< the A image's path
    double l1 = 0.0;
    double mse = 0.0;
    double psnr_db = 0.0; ///< +inf when mse == 0
};
/// `generated`, `target`: float [C, H, W] or [N, C, H, W] in [-1, 1], same shape, any device (the generated
/// image is clamped to [-1, 1] like a saved PNG). Syncs the device (two item() calls).
ImageMetrics image_metrics(const torch::Tensor& generated, const torch::Tensor& target);

struct TestOptions {
    std::string experiment_dir; ///< <name>_v<N> with epoch<N>_netG.pt
    int epoch = 1; ///< checkpoint epoch
    std::string split = "test";
    std::string output_dir; ///< empty: <experiment_dir>/test_epoch<epoch>
};

struct TestResult {
    std::vector<ImageMetrics> images;
    double mean_l1 = 0.0;
    double mean_mse = 0.0;
    double mean_psnr_db = 0.0; ///< over images with a finite PSNR; +inf when none has one
    std::string output_dir;
};

/// Loads the generator of `config` (its train.generator settings) from the checkpoint, runs it on the split
/// in eval mode without augmentation, and writes `<output_dir>/<stem>.png`, metrics.csv and metrics.json
/// (atomic). `warn` receives dataset and device warnings. Throws CheckpointError (missing checkpoint,
/// listing the saved epochs), DataError (bad or empty split), std::runtime_error (files).
TestResult run_test(
    const Config& config, const TestOptions& options, const std::function<void(const std::string&)>& warn = {});

} // namespace nectar
