// SPDX-License-Identifier: Apache-2.0
#include "evaluation/tester.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <limits>
#include <map>
#include <memory>
#include <set>
#include <stdexcept>

#include <QtGui/QImage>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "config/config.h"
#include "data/paired_dataset.h"
#include "io/image_io.h"
#include "losses/losses.h"
#include "models/unet.h"
#include "training/checkpoint.h"
#include "training/device.h"
#include "util/atomic_file.h"
#include "util/json_read.h"
#include "util/paths.h"

namespace fs = std::filesystem;

namespace nectar {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

/// metrics.json of a test run: one entry per image, so up to 2^24 images.
JsonLimits metrics_limits()
{
    JsonLimits l;
    l.kind = "test metrics file";
    l.max_bytes = 1ull << 30;
    l.max_elements = 1u << 24;
    l.max_string_bytes = 64u << 10;
    l.max_memory_bytes = 8ull << 30;
    return l;
}

std::string csv_escape(const std::string& s)
{
    if (s.find_first_of(",\"\n\r") == std::string::npos)
        return s;
    std::string out = "\"";
    for (char c : s)
        out += c == '"' ? std::string("\"\"") : std::string(1, c);
    return out + "\"";
}

std::string shape_text(const torch::Tensor& t)
{
    std::string s = "[";
    for (int64_t i = 0; i < t.dim(); ++i)
        s += (i ? ", " : "") + std::to_string(t.size(i));
    return s + "]";
}

torch::Tensor as_batch(const torch::Tensor& t)
{
    return t.dim() == 3 ? t.unsqueeze(0) : t;
}

nlohmann::json number_or_null(double v)
{
    return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr);
}

/// Output file names inside the test folder: "<stem>.png", or "<file name>.png" where two sources share a stem
/// (x.jpg and x.png), with "_<n>" added in the rare case that still collides.
std::vector<std::string> output_names(const std::vector<std::string>& paths)
{
    std::map<std::string, int> stems;
    for (const auto& p : paths)
        ++stems[fs::path(p).stem().string()];
    std::set<std::string> used = { "metrics.json", "metrics.csv" };
    std::vector<std::string> out;
    for (const auto& p : paths) {
        const fs::path f(p);
        std::string base = stems[f.stem().string()] > 1 ? f.filename().string() : f.stem().string();
        std::string name = base + ".png";
        for (int n = 2; used.count(name); ++n)
            name = base + "_" + std::to_string(n) + ".png";
        used.insert(name);
        out.push_back(name);
    }
    return out;
}

/// Reflect-pads the bottom and right of x [N, C, H, W] by (pad_h, pad_w); where the image is smaller than
/// the pad, it mirrors repeatedly (a 1-pixel side replicates).
torch::Tensor pad_bottom_right(torch::Tensor x, int64_t pad_h, int64_t pad_w)
{
    namespace F = torch::nn::functional;
    while (pad_h > 0 || pad_w > 0) {
        const int64_t ph = std::min(pad_h, x.size(2) - 1), pw = std::min(pad_w, x.size(3) - 1);
        if (ph == 0 && pw == 0) {
            x = F::pad(x, F::PadFuncOptions({ 0, pad_w, 0, pad_h }).mode(torch::kReplicate));
            break;
        }
        x = F::pad(x, F::PadFuncOptions({ 0, pw, 0, ph }).mode(torch::kReflect));
        pad_h -= ph;
        pad_w -= pw;
    }
    return x;
}

/// The generator on `image` [C, H, W] by crop x crop tiles (tester.h InputFit::Tile): [C_out, H, W] on the CPU.
torch::Tensor generate_tiled(UnetGenerator& gen, const torch::Tensor& image, int64_t crop, const torch::Device& device)
{
    const int64_t h = image.size(1), w = image.size(2);
    const int64_t rows = (h + crop - 1) / crop, cols = (w + crop - 1) / crop;
    const auto padded = pad_bottom_right(image.unsqueeze(0), rows * crop - h, cols * crop - w);
    torch::Tensor out;
    constexpr int64_t kTilesPerBatch = 8; // bounds memory on large images; instance norm is per tile anyway
    std::vector<std::pair<int64_t, int64_t>> cells;
    for (int64_t r = 0; r < rows; ++r)
        for (int64_t c = 0; c < cols; ++c)
            cells.emplace_back(r, c);
    for (std::size_t first = 0; first < cells.size(); first += kTilesPerBatch) {
        const std::size_t last = std::min(cells.size(), first + kTilesPerBatch);
        std::vector<torch::Tensor> tiles;
        for (std::size_t i = first; i < last; ++i)
            tiles.push_back(padded.slice(2, cells[i].first * crop, (cells[i].first + 1) * crop)
                                .slice(3, cells[i].second * crop, (cells[i].second + 1) * crop));
        const auto fake = gen->forward(torch::cat(tiles).to(device)).to(torch::kCPU, torch::kFloat32);
        if (!out.defined())
            out = torch::empty({ fake.size(1), rows * crop, cols * crop }, torch::kFloat32);
        for (std::size_t i = first; i < last; ++i)
            out.slice(1, cells[i].first * crop, (cells[i].first + 1) * crop)
                .slice(2, cells[i].second * crop, (cells[i].second + 1) * crop)
                .copy_(fake[static_cast<int64_t>(i - first)]);
    }
    return out.slice(1, 0, h).slice(2, 0, w);
}

/// `image` resized (Qt::SmoothTransformation, as the data loader resizes) to width x height.
RgbImage resized(const RgbImage& image, int width, int height)
{
    if (image.width == width && image.height == height)
        return image;
    const QImage q(image.rgb.data(), image.width, image.height, image.width * 3, QImage::Format_RGB888);
    const QImage s = q.scaled(width, height, Qt::IgnoreAspectRatio, Qt::SmoothTransformation)
                         .convertToFormat(QImage::Format_RGB888);
    RgbImage out;
    out.width = width;
    out.height = height;
    out.rgb.resize(static_cast<std::size_t>(width) * height * 3);
    for (int y = 0; y < height; ++y)
        std::memcpy(out.rgb.data() + static_cast<std::size_t>(y) * width * 3, s.constScanLine(y),
            static_cast<std::size_t>(width) * 3);
    return out;
}

std::string abs_text(const std::string& dir)
{
    std::error_code ec;
    const fs::path p = fs::absolute(dir, ec);
    std::string s = (ec ? fs::path(dir) : p).lexically_normal().string();
    if (s.size() > 1 && s.back() == '/')
        s.pop_back();
    return s;
}

/// Creates the run's folder: the next free test_epoch<N>_v<K>, or the explicit output_dir (new or empty).
std::string create_test_dir(const TestOptions& options, int& version)
{
    std::error_code ec;
    if (!options.output_dir.empty()) {
        const fs::path dir(options.output_dir);
        if (fs::exists(dir, ec)) {
            if (!fs::is_directory(dir, ec))
                throw DataError("output folder " + display_path(options.output_dir) + " exists and is not a folder");
            if (!fs::is_empty(dir, ec))
                throw DataError("output folder " + display_path(options.output_dir)
                    + " is not empty: choose a new or empty folder, or leave it out for a new test_epoch"
                    + std::to_string(options.epoch) + "_v<K> folder of the experiment");
        }
        fs::create_directories(dir, ec);
        if (ec)
            throw std::runtime_error(
                "cannot create output folder " + display_path(options.output_dir) + ": " + ec.message());
        int epoch = 0;
        version = 0;
        parse_test_dir_name(dir.filename().string(), epoch, version);
        if (epoch != options.epoch)
            version = 0;
        return options.output_dir;
    }
    // create_directory fails on an existing folder: a concurrent run that took K first makes us take K + 1.
    for (int attempt = 0; attempt < 10000; ++attempt) {
        const std::string dir = next_test_dir(options.experiment_dir, options.epoch);
        if (fs::create_directory(dir, ec)) {
            int epoch = 0;
            parse_test_dir_name(fs::path(dir).filename().string(), epoch, version);
            return dir;
        }
        if (ec && ec != std::errc::file_exists)
            throw std::runtime_error("cannot create test folder " + display_path(dir) + ": " + ec.message());
    }
    throw std::runtime_error("cannot create a test folder in " + display_path(options.experiment_dir));
}

struct Means {
    double l1 = 0, mse = 0, psnr = 0, ssim = 0, sobel = 0, laplacian = 0;
};

void compute_means(TestResult& r)
{
    if (!r.has_targets || r.images.empty()) {
        r.mean_l1 = r.mean_mse = r.mean_psnr_db = r.mean_ssim = r.mean_sobel = r.mean_laplacian = kNaN;
        return;
    }
    Means s;
    std::size_t n_psnr = 0;
    for (const auto& m : r.images) {
        s.l1 += m.l1;
        s.mse += m.mse;
        s.ssim += m.ssim;
        s.sobel += m.sobel;
        s.laplacian += m.laplacian;
        if (std::isfinite(m.psnr_db)) {
            s.psnr += m.psnr_db;
            ++n_psnr;
        }
    }
    const auto n = static_cast<double>(r.images.size());
    r.mean_l1 = s.l1 / n;
    r.mean_mse = s.mse / n;
    r.mean_ssim = s.ssim / n;
    r.mean_sobel = s.sobel / n;
    r.mean_laplacian = s.laplacian / n;
    r.mean_psnr_db = n_psnr ? s.psnr / static_cast<double>(n_psnr) : kInf;
}

std::string csv_number(double v)
{
    if (std::isinf(v))
        return v > 0 ? "inf" : "-inf";
    if (std::isnan(v))
        return "";
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.9g", v);
    return buf;
}

struct RunFacts {
    std::string experiment;
    std::string split, dataroot, input_dir, fit; // empty: null
};

void write_metrics(const TestResult& r, const RunFacts& facts)
{
    std::string csv = r.has_targets ? "image,output,l1,mse,psnr_db,ssim,sobel,laplacian\n" : "image,output\n";
    nlohmann::ordered_json images = nlohmann::ordered_json::array();
    for (const auto& m : r.images) {
        // JSON and CSV are UTF-8 text: names that are not UTF-8 are written as display_path (\xNN).
        nlohmann::ordered_json e = { { "image", display_path(m.image) }, { "output", display_path(m.output) } };
        csv += csv_escape(display_path(m.image)) + "," + csv_escape(display_path(m.output));
        if (r.has_targets) {
            for (const auto& name : metric_names()) {
                const double v = metric_value(m, name);
                e[name] = number_or_null(v);
                csv += "," + csv_number(v);
            }
        }
        csv += "\n";
        images.push_back(std::move(e));
    }
    nlohmann::ordered_json mean = nullptr;
    if (r.has_targets && !r.images.empty()) {
        ImageMetrics means;
        means.l1 = r.mean_l1;
        means.mse = r.mean_mse;
        means.psnr_db = r.mean_psnr_db;
        means.ssim = r.mean_ssim;
        means.sobel = r.mean_sobel;
        means.laplacian = r.mean_laplacian;
        mean = nlohmann::ordered_json::object();
        csv += "mean,";
        for (const auto& name : metric_names()) {
            mean[name] = number_or_null(metric_value(means, name));
            csv += "," + csv_number(metric_value(means, name));
        }
        csv += "\n";
    }
    auto text_or_null = [](const std::string& s) {
        return s.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(display_path(s));
    };
    const nlohmann::ordered_json doc = { { "experiment", display_path(facts.experiment) }, { "epoch", r.epoch },
        { "version", r.version }, { "source", to_string(r.source) }, { "source_label", r.source_label },
        { "split", text_or_null(facts.split) }, { "dataroot", text_or_null(facts.dataroot) },
        { "input_dir", text_or_null(facts.input_dir) }, { "fit", text_or_null(facts.fit) },
        { "count", r.images.size() }, { "stopped", r.stopped }, { "has_targets", r.has_targets }, { "images", images },
        { "mean", mean } };
    write_file_atomically((fs::path(r.output_dir) / "metrics.csv").string(), csv, "metrics file");
    // Last: a folder with metrics.json is a finished (or stopped) run.
    write_file_atomically((fs::path(r.output_dir) / "metrics.json").string(), doc.dump(2) + "\n", "metrics file");
}

/// Strict reader of metrics.json: every error names the file and the JSON path.
class MetricsReader {
public:
    explicit MetricsReader(std::string file)
        : m_file(std::move(file))
    {
    }
    [[noreturn]] void bad(const std::string& where, const std::string& what) const
    {
        throw DataError(display_path(m_file) + ": " + (where.empty() ? "/" : where) + ": " + what);
    }
    void keys(const nlohmann::json& j, const std::vector<std::string>& known, const std::string& where) const
    {
        if (!j.is_object())
            bad(where, "expected an object");
        for (const auto& [k, v] : j.items()) {
            (void)v;
            if (std::find(known.begin(), known.end(), k) == known.end()) {
                std::string list;
                for (const auto& n : known)
                    list += (list.empty() ? "" : ", ") + n;
                bad(where + "/" + k, "unknown key (expected " + list + ")");
            }
        }
        for (const auto& n : known)
            if (!j.contains(n))
                bad(where + "/" + n, "missing key");
    }
    const nlohmann::json& at(const nlohmann::json& j, const std::string& key, const std::string& where) const
    {
        const auto it = j.find(key);
        if (it == j.end())
            bad(where + "/" + key, "missing key");
        return *it;
    }
    std::string text(const nlohmann::json& j, const std::string& key, const std::string& where, bool nullable) const
    {
        const auto& v = at(j, key, where);
        if (nullable && v.is_null())
            return {};
        if (!v.is_string())
            bad(where + "/" + key, nullable ? "expected a string or null" : "expected a string");
        return v.get<std::string>();
    }
    double number(const nlohmann::json& j, const std::string& key, const std::string& where, double null_value) const
    {
        const auto& v = at(j, key, where);
        if (v.is_null())
            return null_value;
        if (!v.is_number())
            bad(where + "/" + key, "expected a number or null");
        return v.get<double>();
    }
    std::int64_t integer(const nlohmann::json& j, const std::string& key, const std::string& where, std::int64_t min,
        std::int64_t max) const
    {
        const auto& v = at(j, key, where);
        if (!v.is_number_integer() || (v.is_number_unsigned() && v.get<std::uint64_t>() > std::uint64_t(max))
            || v.get<std::int64_t>() < min || v.get<std::int64_t>() > max)
            bad(where + "/" + key, "expected an integer from " + std::to_string(min) + " to " + std::to_string(max));
        return v.get<std::int64_t>();
    }
    bool boolean(const nlohmann::json& j, const std::string& key, const std::string& where) const
    {
        const auto& v = at(j, key, where);
        if (!v.is_boolean())
            bad(where + "/" + key, "expected true or false");
        return v.get<bool>();
    }

private:
    std::string m_file;
};

/// The metrics of an image or the means: null is +inf for psnr_db (identical images), NaN for the others (an
/// image too small for SSIM's window).
void read_metrics(const MetricsReader& rd, const nlohmann::json& j, const std::string& where, ImageMetrics& m)
{
    m.l1 = rd.number(j, "l1", where, kNaN);
    m.mse = rd.number(j, "mse", where, kNaN);
    m.psnr_db = rd.number(j, "psnr_db", where, kInf);
    m.ssim = rd.number(j, "ssim", where, kNaN);
    m.sobel = rd.number(j, "sobel", where, kNaN);
    m.laplacian = rd.number(j, "laplacian", where, kNaN);
}

} // namespace

const std::vector<std::string>& metric_names()
{
    static const std::vector<std::string> names = { "l1", "mse", "psnr_db", "ssim", "sobel", "laplacian" };
    return names;
}

bool metric_higher_is_better(const std::string& name)
{
    metric_value(ImageMetrics {}, name); // validates the name
    return name == "psnr_db" || name == "ssim";
}

double metric_value(const ImageMetrics& m, const std::string& name)
{
    if (name == "l1")
        return m.l1;
    if (name == "mse")
        return m.mse;
    if (name == "psnr_db")
        return m.psnr_db;
    if (name == "ssim")
        return m.ssim;
    if (name == "sobel")
        return m.sobel;
    if (name == "laplacian")
        return m.laplacian;
    std::string list;
    for (const auto& n : metric_names())
        list += (list.empty() ? "" : ", ") + n;
    throw std::invalid_argument("unknown metric \"" + name + "\" (expected one of " + list + ")");
}

double ssim(const torch::Tensor& x, const torch::Tensor& y)
{
    if (x.sizes() != y.sizes())
        throw std::invalid_argument("ssim: images of different shapes " + shape_text(x) + " and " + shape_text(y));
    if (x.dim() != 3 && x.dim() != 4)
        throw std::invalid_argument("ssim: expected [C, H, W] or [N, C, H, W], got " + shape_text(x));
    constexpr int64_t kWin = 11;
    if (x.size(-1) < kWin || x.size(-2) < kWin)
        throw std::invalid_argument("ssim: images of " + shape_text(x) + " are smaller than the 11x11 window");
    torch::NoGradGuard no_grad;
    // float64: E[x^2] - mu^2 cancels; in float32 that costs ~1e-6 of SSIM.
    const auto a = as_batch(x).to(torch::kFloat64);
    const auto b = as_batch(y).to(a.device(), torch::kFloat64);
    const int64_t c = a.size(1);
    constexpr double kSigma = 1.5, kC1 = 0.01 * 0.01, kC2 = 0.03 * 0.03; // (K1 L)^2, (K2 L)^2 with L = 1
    const auto opts = torch::TensorOptions().dtype(torch::kFloat64).device(a.device());
    const auto d = torch::arange(kWin, opts) - (kWin - 1) / 2;
    auto g = torch::exp(-(d * d) / (2 * kSigma * kSigma));
    g = g / g.sum();
    const auto w = (g.unsqueeze(1) * g.unsqueeze(0)).expand({ c, 1, kWin, kWin }).contiguous();
    // Depthwise ("groups" = channels) weighted means over each valid window.
    auto mean = [&](const torch::Tensor& t) {
        return torch::nn::functional::conv2d(t, w, torch::nn::functional::Conv2dFuncOptions().groups(c));
    };
    const auto mu_a = mean(a);
    const auto mu_b = mean(b);
    const auto var_a = mean(a * a) - mu_a * mu_a;
    const auto var_b = mean(b * b) - mu_b * mu_b;
    const auto cov = mean(a * b) - mu_a * mu_b;
    const auto ssim_map
        = ((2 * mu_a * mu_b + kC1) * (2 * cov + kC2)) / ((mu_a * mu_a + mu_b * mu_b + kC1) * (var_a + var_b + kC2));
    return ssim_map.mean().item<double>();
}

ImageMetrics image_metrics(const torch::Tensor& generated, const torch::Tensor& target)
{
    if (generated.sizes() != target.sizes())
        throw std::invalid_argument("image_metrics: generated " + shape_text(generated) + " and target "
            + shape_text(target) + " differ in shape");
    torch::NoGradGuard no_grad;
    const auto g11 = as_batch(generated).to(torch::kFloat32).clamp(-1, 1);
    const auto t11 = as_batch(target).to(g11.device(), torch::kFloat32);
    const auto g = (g11 + 1) * 0.5; // [-1, 1] -> [0, 1]
    const auto t = (t11 + 1) * 0.5;
    ImageMetrics m;
    m.l1 = (g - t).abs().mean().item<double>();
    m.mse = (g - t).pow(2).mean().item<double>();
    m.psnr_db = m.mse > 0 ? 10.0 * std::log10(1.0 / m.mse) : kInf;
    m.ssim = g.size(-1) >= 11 && g.size(-2) >= 11 ? ssim(g, t) : kNaN;
    SobelLoss sobel;
    LaplacianLoss laplacian;
    sobel->to(g11.device());
    laplacian->to(g11.device());
    m.sobel = sobel->forward(g11, t11).item<double>();
    m.laplacian = laplacian->forward(g11, t11).item<double>();
    return m;
}

TestSource test_source_from_string(const std::string& s)
{
    if (s == "split")
        return TestSource::Split;
    if (s == "folder")
        return TestSource::Folder;
    if (s == "input")
        return TestSource::InputOnly;
    throw std::invalid_argument("test source \"" + s + "\": expected split, folder or input");
}

std::string to_string(TestSource s)
{
    switch (s) {
    case TestSource::Split:
        return "split";
    case TestSource::Folder:
        return "folder";
    case TestSource::InputOnly:
        return "input";
    }
    return "split";
}

InputFit input_fit_from_string(const std::string& s)
{
    if (s == "resize")
        return InputFit::Resize;
    if (s == "tile")
        return InputFit::Tile;
    throw std::invalid_argument("input fit \"" + s + "\": expected resize or tile");
}

std::string to_string(InputFit f)
{
    return f == InputFit::Tile ? "tile" : "resize";
}

bool parse_test_dir_name(const std::string& name, int& epoch, int& version)
{
    static const std::string prefix = "test_epoch";
    if (name.compare(0, prefix.size(), prefix) != 0)
        return false;
    auto number = [](const std::string& s, std::size_t& pos, int& out) {
        const std::size_t start = pos;
        long long v = 0;
        while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9' && pos - start < 10)
            v = v * 10 + (s[pos++] - '0');
        if (pos == start || s[start] == '0' || v > std::numeric_limits<int>::max())
            return false;
        out = static_cast<int>(v);
        return true;
    };
    std::size_t pos = prefix.size();
    int e = 0, k = 0;
    if (!number(name, pos, e) || name.compare(pos, 2, "_v") != 0)
        return false;
    pos += 2;
    if (!number(name, pos, k) || pos != name.size())
        return false;
    epoch = e;
    version = k;
    return true;
}

std::string next_test_dir(const std::string& experiment_dir, int epoch)
{
    int max_k = 0;
    std::error_code ec;
    for (fs::directory_iterator it(experiment_dir, ec), end; !ec && it != end; it.increment(ec)) {
        int e = 0, k = 0;
        if (parse_test_dir_name(it->path().filename().string(), e, k) && e == epoch)
            max_k = std::max(max_k, k);
    }
    return (fs::path(experiment_dir) / ("test_epoch" + std::to_string(epoch) + "_v" + std::to_string(max_k + 1)))
        .string();
}

TestResult run_test(const Config& config, const TestOptions& options,
    const std::function<void(const std::string&)>& warn, const TestProgress& progress)
{
    auto warning = [&](const std::string& w) {
        if (warn)
            warn(w);
    };
    // Every check comes before the test folder is created: the checkpoint, then the source.
    const DeviceChoice dev = resolve_device(config.common.device);
    if (!dev.message.empty())
        warning(dev.message);
    apply_num_threads(config.common.num_threads);
    const UnetOptions gen_options = unet_options_from_config(config);
    UnetGenerator gen(gen_options);
    gen->to(dev.device);
    load_generator_weights(options.experiment_dir, options.epoch, dev.device, *gen);
    gen->eval();

    TestResult r;
    r.epoch = options.epoch;
    r.source = options.source;
    r.has_targets = options.source != TestSource::InputOnly;
    RunFacts facts;
    facts.experiment = abs_text(options.experiment_dir);
    std::unique_ptr<PairedDataset> pairs;
    std::unique_ptr<ImageFolder> inputs;
    const int nc = config.dataloader.load.input_nc;
    if (options.source == TestSource::Split) {
        DatasetOptions o = dataset_options_from_config(config, options.split);
        if (!options.dataroot.empty())
            o.dataroot = options.dataroot;
        o.train = false;
        o.verify_decode = true; // a file that cannot be decoded is skipped now, not found midway
        pairs = std::make_unique<PairedDataset>(o);
        facts.split = options.split;
        facts.dataroot = o.dataroot;
        r.source_label = "split " + display_path(options.split) + " of " + display_path(o.dataroot);
    } else if (options.source == TestSource::Folder) {
        if (options.folder.empty())
            throw DataError("no folder of A|B pair images given to test on");
        DatasetOptions o = dataset_options_from_config(config, "");
        o.dataroot = options.folder;
        o.split.clear();
        o.train = false;
        o.verify_decode = true;
        o.colour_to_gray = false;
        pairs = std::make_unique<PairedDataset>(o);
        facts.input_dir = options.folder;
        r.source_label = "folder " + display_path(options.folder);
    } else {
        inputs = std::make_unique<ImageFolder>(options.folder, nc, false, true);
        facts.input_dir = options.folder;
        facts.fit = to_string(options.fit);
        r.source_label = "input images " + display_path(options.folder);
    }
    for (const auto& w : pairs ? pairs->warnings() : inputs->warnings())
        warning(w);
    const std::vector<std::string>& paths = pairs ? pairs->paths() : inputs->paths();
    const std::vector<std::string> outputs = output_names(paths);

    r.output_dir = abs_text(create_test_dir(options, r.version));
    const fs::path out_dir(r.output_dir);
    const int64_t crop = gen_options.input_size;

    torch::NoGradGuard no_grad;
    for (std::size_t i = 0; i < paths.size(); ++i) {
        ImageMetrics m;
        m.image = paths[i];
        m.output = outputs[i];
        if (pairs) {
            const Sample s = pairs->get(i);
            const auto fake = gen->forward(s.a.unsqueeze(0).to(dev.device)).to(torch::kCPU, torch::kFloat32)[0];
            const ImageMetrics scores = image_metrics(fake, s.b);
            m.l1 = scores.l1;
            m.mse = scores.mse;
            m.psnr_db = scores.psnr_db;
            m.ssim = scores.ssim;
            m.sobel = scores.sobel;
            m.laplacian = scores.laplacian;
            save_png(hconcat({ tensor_to_rgb(s.a), tensor_to_rgb(fake), tensor_to_rgb(s.b) }),
                (out_dir / m.output).string());
        } else {
            m.has_target = false;
            int width = 0, height = 0;
            RgbImage generated;
            if (options.fit == InputFit::Resize) {
                const auto in = inputs->load(i, static_cast<int>(crop), &width, &height);
                const auto fake = gen->forward(in.unsqueeze(0).to(dev.device)).to(torch::kCPU, torch::kFloat32)[0];
                generated = resized(tensor_to_rgb(fake), width, height);
            } else {
                const auto in = inputs->load(i);
                generated = tensor_to_rgb(generate_tiled(gen, in, crop, dev.device));
            }
            save_png(generated, (out_dir / m.output).string());
        }
        r.images.push_back(std::move(m));
        if (progress && !progress(r.images.size(), paths.size())) {
            r.stopped = r.images.size() < paths.size();
            break;
        }
    }
    compute_means(r);
    write_metrics(r, facts);
    return r;
}

TestResult load_test_result(const std::string& test_dir)
{
    const std::string file = (fs::path(test_dir) / "metrics.json").string();
    const MetricsReader rd(file);
    const nlohmann::json doc = reading_as<DataError>(
        display_path(file), [&] { return read_json_file(file, metrics_limits(), display_path(file)); });
    rd.keys(doc,
        { "experiment", "epoch", "version", "source", "source_label", "split", "dataroot", "input_dir", "fit", "count",
            "stopped", "has_targets", "images", "mean" },
        "");
    TestResult r;
    r.output_dir = abs_text(test_dir);
    (void)rd.text(doc, "experiment", "", false);
    r.epoch = static_cast<int>(rd.integer(doc, "epoch", "", 1, std::numeric_limits<int>::max()));
    r.version = static_cast<int>(rd.integer(doc, "version", "", 0, std::numeric_limits<int>::max()));
    const std::string source = rd.text(doc, "source", "", false);
    try {
        r.source = test_source_from_string(source);
    } catch (const std::invalid_argument& e) {
        rd.bad("/source", e.what());
    }
    r.source_label = rd.text(doc, "source_label", "", false);
    for (const char* k : { "split", "dataroot", "input_dir", "fit" })
        (void)rd.text(doc, k, "", true);
    const auto count = rd.integer(doc, "count", "", 0, std::numeric_limits<std::int64_t>::max());
    r.stopped = rd.boolean(doc, "stopped", "");
    r.has_targets = rd.boolean(doc, "has_targets", "");
    const auto& images = doc.at("images");
    if (!images.is_array())
        rd.bad("/images", "expected an array");
    if (static_cast<std::int64_t>(images.size()) != count)
        rd.bad("/count", std::to_string(count) + " does not match the " + std::to_string(images.size()) + " images");
    const std::vector<std::string> image_keys = r.has_targets
        ? std::vector<std::string> { "image", "output", "l1", "mse", "psnr_db", "ssim", "sobel", "laplacian" }
        : std::vector<std::string> { "image", "output" };
    for (std::size_t i = 0; i < images.size(); ++i) {
        const std::string where = "/images/" + std::to_string(i);
        const auto& e = images[i];
        rd.keys(e, image_keys, where);
        ImageMetrics m;
        m.image = path_from_display(rd.text(e, "image", where, false));
        m.output = path_from_display(rd.text(e, "output", where, false));
        m.has_target = r.has_targets;
        if (r.has_targets)
            read_metrics(rd, e, where, m);
        r.images.push_back(std::move(m));
    }
    const auto& mean = doc.at("mean");
    if (r.has_targets && !r.images.empty()) {
        rd.keys(mean, metric_names(), "/mean");
        ImageMetrics m;
        read_metrics(rd, mean, "/mean", m);
        r.mean_l1 = m.l1;
        r.mean_mse = m.mse;
        r.mean_psnr_db = m.psnr_db;
        r.mean_ssim = m.ssim;
        r.mean_sobel = m.sobel;
        r.mean_laplacian = m.laplacian;
    } else {
        if (!mean.is_null())
            rd.bad("/mean", "expected null (no image with a target)");
        compute_means(r);
    }
    return r;
}

std::vector<TestRunInfo> list_test_runs(const std::string& experiment_dir, std::vector<std::string>* skipped)
{
    std::vector<TestRunInfo> runs;
    std::error_code ec;
    for (fs::directory_iterator it(experiment_dir, ec), end; !ec && it != end; it.increment(ec)) {
        int epoch = 0, version = 0;
        std::error_code type_ec;
        if (!parse_test_dir_name(it->path().filename().string(), epoch, version) || !it->is_directory(type_ec))
            continue;
        const std::string dir = abs_text(it->path().string());
        try {
            if (!fs::exists(it->path() / "metrics.json", type_ec)) {
                if (skipped)
                    skipped->push_back(display_path(dir) + ": no metrics.json (the run did not finish)");
                continue;
            }
            const TestResult r = load_test_result(dir);
            TestRunInfo info;
            info.dir = dir;
            info.epoch = r.epoch;
            info.version = r.version;
            info.count = r.images.size();
            info.stopped = r.stopped;
            info.has_targets = r.has_targets;
            info.source_label = r.source_label;
            runs.push_back(std::move(info));
        } catch (const std::bad_alloc&) {
            throw;
        } catch (const std::exception& e) {
            if (skipped)
                skipped->push_back(display_path(dir) + ": " + e.what());
        }
    }
    std::sort(runs.begin(), runs.end(), [](const TestRunInfo& a, const TestRunInfo& b) {
        return a.epoch != b.epoch ? a.epoch < b.epoch : a.version < b.version;
    });
    return runs;
}

} // namespace nectar
