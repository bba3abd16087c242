// SPDX-License-Identifier: Apache-2.0
#pragma once
/// @file Testing a trained generator (NectarGAN `scripts/test.py` / `Tester`): runs G of a saved epoch on
/// a split of its dataset, on another dataset folder, or on a folder of input-only images, and writes the
/// images plus per-image metrics into a versioned folder `<experiment>/test_epoch<N>_v<K>` (earlier test
/// runs are kept). nectar-test and the GUI's Testing page are thin layers over run_test().
///
/// Metrics are computed on images scaled to [0, 1] (the generated image clamped to [-1, 1] first, like a
/// saved PNG): L1 = mean |g - t|, MSE = mean (g - t)^2, PSNR = 10 log10(1 / MSE) dB (infinite for identical
/// images, written as null in JSON), SSIM (Wang et al. 2004, "Image Quality Assessment: From Error
/// Visibility to Structural Similarity", eq. 13: 11x11 Gaussian window with sigma 1.5, K1 = 0.01,
/// K2 = 0.03, data range 1, "valid" windows only, mean over windows and channels), and NectarGAN's Sobel
/// and Laplacian structure losses (losses/losses.h, on the [-1, 1] images as in training).
///
/// Folder layout of one test run (`metrics.json` is written last; a stopped run writes it too, with
/// "stopped": true and the images done so far):
/// @verbatim
///   test_epoch<N>_v<K>/
///     <stem>.png         input | generated | target (input-only mode: the generated image alone)
///     metrics.csv        image,output,l1,mse,psnr_db,ssim,sobel,laplacian + a "mean" row (no metric columns
///                        in input-only mode)
///     metrics.json       {"experiment", "epoch", "version", "source", "source_label", "split", "dataroot",
///                         "input_dir", "fit", "count", "stopped", "has_targets", "images": [...], "mean": {...}}
/// @endverbatim
/// In metrics.json, "split" and "dataroot" are set in Split mode, "input_dir" (the folder read) in Folder and
/// InputOnly mode, "fit" in InputOnly mode, null otherwise; an image is {"image", "output"} plus the six metrics
/// when "has_targets"; "psnr_db" null = +inf; "mean" is null when no image has a target (input-only mode, or a
/// run stopped before its first image). Paths are display_path()s (util/paths.h). A run that fails midway
/// (an image that no longer decodes, a full disk) keeps the images written so far but no metrics.json.
///
/// Channels (Folder and InputOnly mode): the model's in_channels is dataloader.load.input_nc. A grayscale
/// image for a 3-channel model is replicated (R = G = B, a note in the warnings); a colour image for a
/// 1-channel model is refused (DataError naming the file, its channels and in_channels), since a model
/// trained on gray inputs says nothing about colour ones. Split mode reads the training data's split as
/// training did (colour converted to luma for a 1-channel model, with a note).

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <torch/types.h>

namespace nectar {

struct Config;

/// Metrics of one generated image against its target. The metric fields are meaningful only when
/// has_target is true (input-only mode has none).
struct ImageMetrics {
    std::string image; ///< the source image's path (the pair image, or the input-only image)
    std::string output; ///< file name of the written image inside the test folder ("<stem>.png")
    bool has_target = true;
    double l1 = 0.0;
    double mse = 0.0;
    double psnr_db = 0.0; ///< dB; +inf when mse == 0
    double ssim = 0.0; ///< in [-1, 1]; 1 for identical images; NaN for images smaller than 11x11 (null in JSON)
    double sobel = 0.0; ///< NectarGAN Sobel loss (L1 of Sobel gradient magnitudes), >= 0
    double laplacian = 0.0; ///< NectarGAN Laplacian loss, >= 0
};

/// The metric names in display order, as used in metrics.csv / metrics.json / the GUI's sort keys:
/// {"l1", "mse", "psnr_db", "ssim", "sobel", "laplacian"}.
const std::vector<std::string>& metric_names();
/// Whether a larger value of that metric is better (psnr_db, ssim) or worse (the others).
bool metric_higher_is_better(const std::string& name);
/// The value of metric `name` of `m`. Throws std::invalid_argument for a name not in metric_names().
double metric_value(const ImageMetrics& m, const std::string& name);

/// SSIM of `x` and `y`: float [C, H, W] or [N, C, H, W] in [0, 1], same shape, H and W >= 11, any device.
/// The mean over windows, channels and batch (Wang et al. 2004 as in the file comment; equals
/// scikit-image's structural_similarity(gaussian_weights=True, sigma=1.5, use_sample_covariance=False,
/// data_range=1)). Throws std::invalid_argument for different shapes or images smaller than 11x11.
double ssim(const torch::Tensor& x, const torch::Tensor& y);

/// `generated`, `target`: float [C, H, W] or [N, C, H, W] in [-1, 1], same shape, any device (the generated
/// image is clamped to [-1, 1] like a saved PNG). Syncs the device once per metric.
ImageMetrics image_metrics(const torch::Tensor& generated, const torch::Tensor& target);

/// What a test run reads.
enum class TestSource {
    Split, ///< `split` of `dataroot` (empty: the experiment's dataloader.dataroot)
    Folder, ///< a folder of A|B pair images (`folder`), e.g. a dataset not used in training
    InputOnly, ///< a folder of plain input images (`folder`) with no target: generated images only
};
/// "split" | "folder" | "input"; throws std::invalid_argument otherwise.
TestSource test_source_from_string(const std::string& s);
std::string to_string(TestSource s);

/// How an input-only image of another size than the model's input is fed to the generator.
enum class InputFit {
    Resize, ///< resized (smooth) to crop_size x crop_size; the generated image is resized back to the
            ///< input's size
    Tile, ///< cut into crop_size x crop_size tiles (the last row / column reflect-padded), each generated,
          ///< then stitched and cropped to the input's size: keeps the full resolution
};
/// "resize" | "tile"; throws std::invalid_argument otherwise.
InputFit input_fit_from_string(const std::string& s);
std::string to_string(InputFit f);

struct TestOptions {
    std::string experiment_dir; ///< <name>_v<N> with epoch<N>_netG.pt
    int epoch = 1; ///< checkpoint epoch
    TestSource source = TestSource::Split;
    std::string split = "test"; ///< Split mode
    std::string dataroot; ///< Split mode; empty: the config's dataloader.dataroot
    std::string folder; ///< Folder and InputOnly modes
    InputFit fit = InputFit::Resize; ///< InputOnly mode
    /// Empty: next_test_dir(experiment_dir, epoch), created by run_test (if a concurrent run takes that K
    /// first, the next K). Else this folder, which must not exist or be empty (DataError otherwise).
    std::string output_dir;
};

/// Progress of a test run: images done and in all, after each image; return false to stop (the images
/// written so far stay, each complete, and metrics.json records them with "stopped": true).
using TestProgress = std::function<bool(std::size_t done, std::size_t total)>;

/// The means are NaN when no image has a target (input-only mode, or no image done).
struct TestResult {
    std::vector<ImageMetrics> images;
    bool has_targets = true; ///< false in input-only mode
    bool stopped = false;
    double mean_l1 = 0.0;
    double mean_mse = 0.0;
    double mean_psnr_db = 0.0; ///< over images with a finite PSNR; +inf when none has one
    double mean_ssim = 0.0;
    double mean_sobel = 0.0;
    double mean_laplacian = 0.0;
    std::string output_dir;
    int epoch = 0;
    int version = 0; ///< K of test_epoch<N>_v<K>; 0 for an explicit output_dir not named that way
    TestSource source = TestSource::Split;
    std::string source_label; ///< "split test of <dataroot>", "folder <dir>" or "input images <dir>"
};

/// Loads the generator of `config` (its train.generator settings) from the checkpoint, runs it in eval
/// mode without augmentation on the source of `options`, and writes the test folder (file comment).
/// `warn` receives dataset and device warnings.
/// Throws CheckpointError (no checkpoint at that epoch: names the file, lists the saved epochs, or a
/// checkpoint of another model size), DataError (missing folder, a folder or split with no images: names
/// it; in Folder / InputOnly mode an image whose channels the model cannot take: names the file, its
/// channels and the model's in_channels; an output_dir that is not empty), std::invalid_argument (settings
/// the generator cannot be built with), std::runtime_error (writing files). Nothing is created when the
/// checks before the first image fail.
TestResult run_test(const Config& config, const TestOptions& options,
    const std::function<void(const std::string&)>& warn = {}, const TestProgress& progress = {});

/// `<experiment_dir>/test_epoch<epoch>_v<K>` with K one more than the largest existing K for that epoch
/// (1 for the first; any entry of that name counts, folder or not). Creates nothing.
std::string next_test_dir(const std::string& experiment_dir, int epoch);

/// Epoch N and version K of a folder name `test_epoch<N>_v<K>` (N, K >= 1, decimal without leading zeros);
/// false for any other name.
bool parse_test_dir_name(const std::string& name, int& epoch, int& version);

/// One earlier test run of an experiment, from its metrics.json.
struct TestRunInfo {
    std::string dir; ///< absolute path of the test folder
    int epoch = 0;
    int version = 0;
    std::size_t count = 0;
    bool stopped = false;
    bool has_targets = true;
    std::string source_label;
};
/// The test folders `test_epoch<N>_v<K>` of an experiment with a readable metrics.json, sorted by epoch then
/// version (folders named otherwise, e.g. an explicit output_dir or the unversioned test_epoch<N> of older
/// builds, are not listed). Folders whose metrics.json is missing or unreadable are left out and named in
/// `skipped` ("<dir>: <why>"). A missing experiment folder gives an empty list.
std::vector<TestRunInfo> list_test_runs(const std::string& experiment_dir, std::vector<std::string>* skipped = nullptr);

/// Reads a test folder's metrics.json back (images with their metrics, the means, the run's facts).
/// The file is ours, so it is read strictly (util/json_read.h): a missing or unknown key, a wrong type, or a
/// "count" that differs from the images is an error. Throws DataError (a std::runtime_error) naming the file
/// and the JSON path for a missing or malformed file.
TestResult load_test_result(const std::string& test_dir);

} // namespace nectar
