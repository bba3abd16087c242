// SPDX-License-Identifier: Apache-2.0
// The tester (evaluation/tester.h): its metrics against independent values (SSIM against scikit-image's, see
// packaging/reference/make_ssim_reference.py; a whole run on tests/data/tiny against metrics computed here with
// plain loops in double), input-only mode (resize, tile), versioned test folders, the metrics.json round trip,
// stop, and each bad input's message. nectar-test as a process is in tests/integration/tst_cli.cpp.
#include <QtTest/QtTest>

#include <cmath>
#include <filesystem>
#include <fstream>

#include <QtCore/QTemporaryDir>
#include <QtGui/QImage>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "checkpoint_fixture.h"
#include "config/config.h"
#include "data/paired_dataset.h"
#include "evaluation/tester.h"
#include "io/image_io.h"
#include "models/unet.h"
#include "training/checkpoint.h"

using namespace nectar;
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

const std::string kData = NECTAR_TEST_DATA_DIR;
const std::string kTiny = kData + "/tiny";

Config small_config(int features)
{
    Config c;
    c.dataloader.load.load_size = 32;
    c.dataloader.load.crop_size = 32;
    c.train.generator.features = features;
    c.train.generator.n_downs = 3;
    return c;
}

/// The settings of the checkpoint fixture's generator (tests/common/checkpoint_fixture.h) on tests/data/tiny.
Config fixture_config(int input_nc = 3)
{
    Config c;
    c.dataloader.dataroot = kTiny;
    c.dataloader.load.input_nc = input_nc;
    c.dataloader.load.load_size = 16;
    c.dataloader.load.crop_size = 16;
    c.train.generator.features = 4;
    c.train.generator.n_downs = 1;
    c.common.device = "cpu";
    c.common.num_threads = 1;
    return c;
}

/// An experiment folder holding the fixture's epoch-2 checkpoint.
std::string fixture_experiment(const QTemporaryDir& tmp)
{
    const fs::path exp = fs::path(tmp.path().toStdString()) / "exp_v1";
    fs::create_directories(exp);
    for (const char* part : { "netG", "netD", "trainer" })
        fs::copy_file(fs::path(kData) / "checkpoints/torch-1.13" / ("epoch2_" + std::string(part) + ".pt"),
            exp / ("epoch2_" + std::string(part) + ".pt"));
    return exp.string();
}

/// A fresh generator of `config` saved as epoch 1 of `dir` (G only, as load_generator_weights reads it).
void save_generator(const Config& config, const std::string& dir)
{
    fs::create_directories(dir);
    UnetGenerator g(unet_options_from_config(config));
    torch::serialize::OutputArchive ar, model, optim;
    g->save(model);
    ar.write("model", model);
    ar.write("optimizer", optim);
    ar.save_to(checkpoint_file(dir, 1, "netG"));
}

UnetGenerator fixture_generator(const Config& config, const std::string& exp)
{
    UnetGenerator g(unet_options_from_config(config));
    load_generator_weights(exp, 2, torch::kCPU, *g);
    g->eval();
    return g;
}

std::vector<std::string> test_dirs(const std::string& exp)
{
    std::vector<std::string> out;
    for (const auto& e : fs::directory_iterator(exp))
        if (e.path().filename().string().rfind("test_", 0) == 0)
            out.push_back(e.path().filename().string());
    std::sort(out.begin(), out.end());
    return out;
}

void save_qimage(const QImage& img, const std::string& path)
{
    QVERIFY(img.save(QString::fromStdString(path)));
}

/// A colour test pattern of w x h.
QImage pattern(int w, int h, int seed)
{
    QImage img(w, h, QImage::Format_RGB888);
    for (int y = 0; y < h; ++y)
        for (int x = 0; x < w; ++x)
            img.setPixel(x, y, qRgb((x * 37 + seed * 11) % 256, (y * 53 + x * 7) % 256, (x * y + seed * 29) % 256));
    return img;
}

QImage read_png(const std::string& path)
{
    QImage img(QString::fromStdString(path));
    return img.convertToFormat(QImage::Format_RGB888);
}

bool same_pixels(const QImage& a, const QImage& b)
{
    if (a.size() != b.size())
        return false;
    for (int y = 0; y < a.height(); ++y)
        if (std::memcmp(a.constScanLine(y), b.constScanLine(y), static_cast<std::size_t>(a.width()) * 3) != 0)
            return false;
    return true;
}

QImage to_qimage(const RgbImage& r)
{
    return QImage(r.rgb.data(), r.width, r.height, r.width * 3, QImage::Format_RGB888).copy();
}

// ---- Metrics in plain double loops, independent of tester.cpp's tensor code ----

struct Plain {
    int c, h, w;
    std::vector<double> v; // [c][h][w]
    double at(int ch, int y, int x) const { return v[(static_cast<std::size_t>(ch) * h + y) * w + x]; }
};

Plain plain(const torch::Tensor& chw, bool clamp)
{
    const auto t = chw.to(torch::kFloat64).contiguous();
    Plain p { static_cast<int>(t.size(0)), static_cast<int>(t.size(1)), static_cast<int>(t.size(2)), {} };
    const double* d = t.data_ptr<double>();
    p.v.assign(d, d + t.numel());
    if (clamp)
        for (auto& x : p.v)
            x = std::min(1.0, std::max(-1.0, x));
    return p;
}

/// Wang et al. 2004 on [0, 1] values: Gaussian 11x11 (sigma 1.5), valid windows, population moments.
double plain_ssim(const Plain& a, const Plain& b, double sigma = 1.5)
{
    double g[11], sum = 0;
    for (int i = 0; i < 11; ++i)
        sum += g[i] = std::exp(-(i - 5.0) * (i - 5.0) / (2 * sigma * sigma));
    double total = 0;
    int n = 0;
    for (int ch = 0; ch < a.c; ++ch)
        for (int y0 = 0; y0 + 11 <= a.h; ++y0)
            for (int x0 = 0; x0 + 11 <= a.w; ++x0) {
                double ma = 0, mb = 0, aa = 0, bb = 0, ab = 0;
                for (int i = 0; i < 11; ++i)
                    for (int j = 0; j < 11; ++j) {
                        const double wgt = g[i] * g[j] / (sum * sum);
                        const double va = (a.at(ch, y0 + i, x0 + j) + 1) / 2, vb = (b.at(ch, y0 + i, x0 + j) + 1) / 2;
                        ma += wgt * va;
                        mb += wgt * vb;
                        aa += wgt * va * va;
                        bb += wgt * vb * vb;
                        ab += wgt * va * vb;
                    }
                const double c1 = 1e-4, c2 = 9e-4;
                total += ((2 * ma * mb + c1) * (2 * (ab - ma * mb) + c2))
                    / ((ma * ma + mb * mb + c1) * (aa - ma * ma + bb - mb * mb + c2));
                ++n;
            }
    return total / n;
}

/// NectarGAN's Sobel / Laplacian losses (losses/losses.h) on [-1, 1] values: channel-mean gray, zero padding 1.
double plain_structure(const Plain& a, const Plain& b, bool sobel)
{
    auto gray = [](const Plain& p, int y, int x) {
        if (y < 0 || x < 0 || y >= p.h || x >= p.w)
            return 0.0;
        double s = 0;
        for (int ch = 0; ch < p.c; ++ch)
            s += p.at(ch, y, x);
        return s / p.c;
    };
    auto response = [&](const Plain& p, int y, int x) {
        if (!sobel)
            return gray(p, y - 1, x) + gray(p, y + 1, x) + gray(p, y, x - 1) + gray(p, y, x + 1) - 4 * gray(p, y, x);
        const double gx = gray(p, y - 1, x - 1) - gray(p, y - 1, x + 1) + 2 * gray(p, y, x - 1) - 2 * gray(p, y, x + 1)
            + gray(p, y + 1, x - 1) - gray(p, y + 1, x + 1);
        const double gy = gray(p, y - 1, x - 1) + 2 * gray(p, y - 1, x) + gray(p, y - 1, x + 1) - gray(p, y + 1, x - 1)
            - 2 * gray(p, y + 1, x) - gray(p, y + 1, x + 1);
        return std::sqrt(gx * gx + gy * gy + 1e-6);
    };
    double s = 0;
    for (int y = 0; y < a.h; ++y)
        for (int x = 0; x < a.w; ++x)
            s += std::abs(response(a, y, x) - response(b, y, x));
    return s / (a.h * a.w);
}

bool near(double a, double b, double tol)
{
    return std::abs(a - b) <= tol * std::max(1.0, std::abs(b));
}

template <class Fn> std::string error_of(Fn&& fn)
{
    try {
        fn();
    } catch (const std::exception& e) {
        return e.what();
    }
    return "(no error)";
}

} // namespace

class TestEvaluation : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void metricsOnImagesScaledToUnitRange()
    {
        // generated 0 -> 0.5, target 0.5 -> 0.75 in [0, 1]: L1 0.25, MSE 0.0625, PSNR 10 log10(16) dB.
        const auto m = image_metrics(torch::zeros({ 3, 4, 4 }), torch::full({ 3, 4, 4 }, 0.5));
        QCOMPARE(m.l1, 0.25);
        QCOMPARE(m.mse, 0.0625);
        QVERIFY(std::abs(m.psnr_db - 10.0 * std::log10(16.0)) < 1e-9);
        QVERIFY(std::isnan(m.ssim)); // 4x4 is smaller than SSIM's window
    }

    void generatedImageIsClampedLikeAPng()
    {
        // 3.0 is saved as white (1.0): against a white target nothing differs.
        const auto m = image_metrics(torch::full({ 1, 3, 12, 12 }, 3.0), torch::ones({ 1, 3, 12, 12 }));
        QCOMPARE(m.l1, 0.0);
        QCOMPARE(m.mse, 0.0);
        QVERIFY(std::isinf(m.psnr_db) && m.psnr_db > 0);
        QVERIFY(std::abs(m.ssim - 1.0) < 1e-12);
    }

    void metricNamesAndOrder()
    {
        QCOMPARE(metric_names(), (std::vector<std::string> { "l1", "mse", "psnr_db", "ssim", "sobel", "laplacian" }));
        QVERIFY(metric_higher_is_better("ssim") && metric_higher_is_better("psnr_db"));
        QVERIFY(!metric_higher_is_better("l1") && !metric_higher_is_better("laplacian"));
        ImageMetrics m;
        m.sobel = 0.25;
        QCOMPARE(metric_value(m, "sobel"), 0.25);
        QVERIFY(error_of([] { metric_value(ImageMetrics {}, "psnr"); }).find("l1, mse") != std::string::npos);
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, test_source_from_string("folders"));
        QCOMPARE(to_string(input_fit_from_string("tile")), std::string("tile"));
    }

    void ssimMatchesScikitImage()
    {
        // Reference values by scikit-image (packaging/reference/make_ssim_reference.py), within 1e-5.
        std::ifstream in(kData + "/reference/ssim_reference.json");
        QVERIFY(in.good());
        const json ref = json::parse(in);
        QVERIFY(ref["cases"].size() >= 6);
        for (const auto& c : ref["cases"]) {
            const auto shape = c["shape"].get<std::vector<int64_t>>();
            auto tensor = [&](const json& values) {
                std::vector<float> v;
                for (const auto& x : values)
                    v.push_back(static_cast<float>(x.get<int>()) / 255.0f);
                return torch::tensor(v).reshape(shape);
            };
            const double ours = ssim(tensor(c["x"]), tensor(c["y"]));
            const double expected = c["ssim"].get<double>();
            QVERIFY2(std::abs(ours - expected) < 1e-5,
                qPrintable(QString::fromStdString(c["name"].get<std::string>())
                    + QStringLiteral(": ours %1, scikit-image %2").arg(ours, 0, 'g', 12).arg(expected, 0, 'g', 12)));
        }
        QVERIFY(error_of([] {
            ssim(torch::zeros({ 3, 16, 16 }), torch::zeros({ 3, 16, 17 }));
        }).find("[3, 16, 17]")
            != std::string::npos);
        QVERIFY(error_of([] {
            ssim(torch::zeros({ 3, 10, 16 }), torch::zeros({ 3, 10, 16 }));
        }).find("11x11")
            != std::string::npos);
    }

    void checkpointOfAnotherModelSizeIsNamed()
    {
        // Issue #10, item 8: nectar-test on a checkpoint of another model size printed a raw LibTorch shape
        // error (LibTorch's Module::load takes the saved shapes without a check). Now: a CheckpointError that
        // names the file, the parameter, both shapes and the config keys to check.
        QTemporaryDir tmp;
        const std::string dir = tmp.path().toStdString();
        save_generator(small_config(8), dir);
        UnetGenerator same(unet_options_from_config(small_config(8)));
        load_generator_weights(dir, 1, torch::kCPU, *same); // the right size loads

        const Config other = small_config(16);
        UnetGenerator bigger(unet_options_from_config(other));
        try {
            load_generator_weights(dir, 1, torch::kCPU, *bigger);
            QFAIL("a checkpoint of 8 features loaded into a generator of 16");
        } catch (const CheckpointError& e) {
            const std::string msg = e.what();
            QVERIFY2(msg.find(checkpoint_file(dir, 1, "netG")) != std::string::npos, e.what());
            QVERIFY2(msg.find("[8, 3, 4, 4]") != std::string::npos, e.what()); // saved shape
            QVERIFY2(msg.find("[16, 3, 4, 4]") != std::string::npos, e.what()); // expected shape
            QVERIFY2(msg.find("train.generator.features") != std::string::npos, e.what());
        }
        // The tester reports it the same way, before it touches any data or creates a folder.
        TestOptions options;
        options.experiment_dir = dir;
        options.epoch = 1;
        QVERIFY_THROWS_EXCEPTION(CheckpointError, run_test(other, options));
        QVERIFY(test_dirs(dir).empty());
    }

    void runOnTinySetMatchesIndependentMetrics()
    {
        QTemporaryDir tmp;
        const std::string exp = fixture_experiment(tmp);
        const Config config = fixture_config();
        TestOptions options;
        options.experiment_dir = exp;
        options.epoch = 2;
        const TestResult r = run_test(config, options);
        QCOMPARE(r.images.size(), std::size_t(2));
        QCOMPARE(r.version, 1);
        QVERIFY(r.has_targets && !r.stopped);
        QCOMPARE(r.output_dir, exp + "/test_epoch2_v1");

        // Independently: the same generator on the loader's samples, metrics in double loops.
        UnetGenerator g = fixture_generator(config, exp);
        DatasetOptions o = dataset_options_from_config(config, "test");
        const PairedDataset data(o);
        double mean[6] = {};
        for (std::size_t i = 0; i < 2; ++i) {
            const Sample s = data.get(i);
            torch::NoGradGuard no_grad;
            const auto fake = g->forward(s.a.unsqueeze(0))[0];
            const Plain pf = plain(fake, true), pt = plain(s.b, false);
            double l1 = 0, mse = 0;
            for (std::size_t k = 0; k < pf.v.size(); ++k) {
                const double d = (pf.v[k] - pt.v[k]) / 2; // on [0, 1]
                l1 += std::abs(d);
                mse += d * d;
            }
            l1 /= static_cast<double>(pf.v.size());
            mse /= static_cast<double>(pf.v.size());
            const double expected[6] = { l1, mse, 10 * std::log10(1 / mse), plain_ssim(pf, pt),
                plain_structure(pf, pt, true), plain_structure(pf, pt, false) };
            const ImageMetrics& m = r.images[i];
            QCOMPARE(m.image, data.path(i));
            QCOMPARE(m.output, fs::path(data.path(i)).stem().string() + ".png");
            for (std::size_t k = 0; k < metric_names().size(); ++k) {
                QVERIFY2(near(metric_value(m, metric_names()[k]), expected[k], 1e-5),
                    qPrintable(QStringLiteral("image %1 %2: tester %3, expected %4")
                                   .arg(i)
                                   .arg(QString::fromStdString(metric_names()[k]))
                                   .arg(metric_value(m, metric_names()[k]), 0, 'g', 10)
                                   .arg(expected[k], 0, 'g', 10)));
                mean[k] += expected[k] / 2;
            }
            // The PNG: input | generated | target, each the 8-bit image of its tensor.
            const QImage png = read_png(r.output_dir + "/" + m.output);
            QCOMPARE(png.size(), QSize(48, 16));
            QVERIFY(same_pixels(png.copy(0, 0, 16, 16), to_qimage(tensor_to_rgb(s.a))));
            QVERIFY(same_pixels(png.copy(16, 0, 16, 16), to_qimage(tensor_to_rgb(fake))));
            QVERIFY(same_pixels(png.copy(32, 0, 16, 16), to_qimage(tensor_to_rgb(s.b))));
        }
        QVERIFY(near(r.mean_l1, mean[0], 1e-5) && near(r.mean_mse, mean[1], 1e-5));
        QVERIFY(near(r.mean_psnr_db, mean[2], 1e-5) && near(r.mean_ssim, mean[3], 1e-5));
        QVERIFY(near(r.mean_sobel, mean[4], 1e-5) && near(r.mean_laplacian, mean[5], 1e-5));
        QVERIFY(r.mean_ssim > -1 && r.mean_ssim < 1 && r.mean_sobel > 0);

        // metrics.csv: a row per image and the means.
        std::ifstream csv(r.output_dir + "/metrics.csv");
        std::string header, line, last;
        std::getline(csv, header);
        QCOMPARE(header, std::string("image,output,l1,mse,psnr_db,ssim,sobel,laplacian"));
        int rows = 0;
        for (; std::getline(csv, line); ++rows)
            last = line;
        QCOMPARE(rows, 3);
        QVERIFY2(last.rfind("mean,,", 0) == 0, last.c_str());

        // The same pairs read as a folder (Folder mode) give the same values.
        TestOptions folder = options;
        folder.source = TestSource::Folder;
        folder.folder = kTiny + "/test";
        const TestResult f = run_test(config, folder);
        QCOMPARE(f.version, 2);
        QCOMPARE(f.source_label, "folder " + kTiny + "/test");
        for (std::size_t i = 0; i < 2; ++i)
            QCOMPARE(f.images[i].l1, r.images[i].l1);
    }

    void inputOnlyResizeAndTile()
    {
        QTemporaryDir tmp;
        const std::string exp = fixture_experiment(tmp);
        const Config config = fixture_config();
        const std::string in = tmp.path().toStdString() + "/inputs";
        fs::create_directories(in);
        save_qimage(pattern(40, 24, 1), in + "/wide.png"); // not a multiple of the crop size: padded tiles
        save_qimage(pattern(16, 16, 2), in + "/crop.png"); // exactly the crop size
        save_qimage(pattern(32, 32, 3), in + "/four.png"); // 2 x 2 tiles, no padding
        save_qimage(pattern(7, 5, 4), in + "/tiny.png"); // smaller than a tile: mirrored more than once
        save_qimage(pattern(20, 18, 5).convertToFormat(QImage::Format_Grayscale8), in + "/gray.png");
        std::vector<std::string> warnings;
        TestOptions options;
        options.experiment_dir = exp;
        options.epoch = 2;
        options.source = TestSource::InputOnly;
        options.folder = in;
        const TestResult resized = run_test(config, options, [&](const std::string& w) { warnings.push_back(w); });
        options.fit = InputFit::Tile;
        const TestResult tiled = run_test(config, options);
        QCOMPARE(resized.images.size(), std::size_t(5));
        QVERIFY(!resized.has_targets && std::isnan(resized.mean_l1));
        bool gray_noted = false;
        for (const auto& w : warnings)
            gray_noted
                = gray_noted || (w.find("grayscale") != std::string::npos && w.find("gray.png") != std::string::npos);
        QVERIFY(gray_noted); // accepted for a 3-channel model, replicated

        for (const auto* r : { &resized, &tiled }) {
            for (const auto& m : r->images) {
                const QImage src(QString::fromStdString(m.image));
                const QImage out = read_png(r->output_dir + "/" + m.output);
                QVERIFY2(out.size() == src.size(), qPrintable(QString::fromStdString(m.output)));
            }
        }
        // Input of the crop size: the tile run is the resize run.
        QVERIFY(same_pixels(read_png(resized.output_dir + "/crop.png"), read_png(tiled.output_dir + "/crop.png")));
        QVERIFY(!same_pixels(read_png(resized.output_dir + "/four.png"), read_png(tiled.output_dir + "/four.png")));
        // A tile is the generator on that crop of the input.
        UnetGenerator g = fixture_generator(config, exp);
        const ImageFolder folder(in, 3);
        std::size_t four = 0;
        while (fs::path(folder.path(four)).filename() != "four.png")
            ++four;
        const auto image = folder.load(four);
        torch::NoGradGuard no_grad;
        const auto tile = g->forward(image.slice(1, 16, 32).slice(2, 0, 16).unsqueeze(0))[0];
        QVERIFY(
            same_pixels(read_png(tiled.output_dir + "/four.png").copy(0, 16, 16, 16), to_qimage(tensor_to_rgb(tile))));

        // metrics.json of an input-only run: no metrics, no means, the fit recorded.
        json doc;
        std::ifstream(tiled.output_dir + "/metrics.json") >> doc;
        QCOMPARE(doc["fit"].get<std::string>(), std::string("tile"));
        QCOMPARE(doc["source"].get<std::string>(), std::string("input"));
        QVERIFY(doc["mean"].is_null() && !doc["has_targets"].get<bool>());
        QCOMPARE(doc["images"][0].size(), std::size_t(2)); // image, output
        const TestResult back = load_test_result(tiled.output_dir);
        QVERIFY(!back.has_targets && back.images.size() == 5 && !back.images[0].has_target);
    }

    void versionedFoldersKeepEarlierRuns()
    {
        QTemporaryDir tmp;
        const std::string exp = fixture_experiment(tmp);
        const Config config = fixture_config();
        TestOptions options;
        options.experiment_dir = exp;
        options.epoch = 2;
        QCOMPARE(next_test_dir(exp, 2), exp + "/test_epoch2_v1");
        const TestResult first = run_test(config, options);
        std::string first_json;
        {
            std::ifstream in(first.output_dir + "/metrics.json");
            first_json.assign(std::istreambuf_iterator<char>(in), {});
        }
        options.split = "val";
        const TestResult second = run_test(config, options);
        QCOMPARE(first.output_dir, exp + "/test_epoch2_v1");
        QCOMPARE(second.output_dir, exp + "/test_epoch2_v2");
        QCOMPARE(second.version, 2);
        std::string again;
        {
            std::ifstream in(first.output_dir + "/metrics.json");
            again.assign(std::istreambuf_iterator<char>(in), {});
        }
        QCOMPARE(again, first_json); // the first run is kept as it was
        QVERIFY(fs::is_regular_file(first.output_dir + "/0001.png"));
        // Any entry of that name counts; other epochs and names do not.
        std::ofstream(exp + "/test_epoch2_v7") << "x";
        fs::create_directories(exp + "/test_epoch3_v9");
        fs::create_directories(exp + "/test_epoch2_v08");
        QCOMPARE(next_test_dir(exp, 2), exp + "/test_epoch2_v8");
        QCOMPARE(next_test_dir(exp, 3), exp + "/test_epoch3_v10");
        QCOMPARE(next_test_dir(exp, 1), exp + "/test_epoch1_v1");
        int e = 0, k = 0;
        QVERIFY(parse_test_dir_name("test_epoch12_v3", e, k) && e == 12 && k == 3);
        QVERIFY(!parse_test_dir_name("test_epoch12", e, k) && !parse_test_dir_name("test_epoch1_v0", e, k)
            && !parse_test_dir_name("test_epoch1_v2x", e, k));
        // An explicit output folder: new or empty only.
        options.output_dir = first.output_dir;
        const std::string msg = error_of([&] { run_test(config, options); });
        QVERIFY2(msg.find("is not empty") != std::string::npos && msg.find(first.output_dir) != std::string::npos,
            msg.c_str());
    }

    void listAndLoadRoundTrip()
    {
        QTemporaryDir tmp;
        const std::string exp = fixture_experiment(tmp);
        const Config config = fixture_config();
        TestOptions options;
        options.experiment_dir = exp;
        options.epoch = 2;
        const TestResult a = run_test(config, options);
        options.split = "val";
        const TestResult b = run_test(config, options);
        fs::create_directories(exp + "/test_epoch2_v3"); // a run that never finished
        fs::create_directories(exp + "/not_a_test");
        std::vector<std::string> skipped;
        const auto runs = list_test_runs(exp, &skipped);
        QCOMPARE(runs.size(), std::size_t(2));
        QCOMPARE(runs[0].version, 1);
        QCOMPARE(runs[1].version, 2);
        QCOMPARE(runs[1].dir, b.output_dir);
        QCOMPARE(runs[1].source_label, "split val of " + kTiny);
        QCOMPARE(runs[0].count, std::size_t(2));
        QCOMPARE(skipped.size(), std::size_t(1));
        QVERIFY2(skipped[0].find("test_epoch2_v3: no metrics.json") != std::string::npos, skipped[0].c_str());

        const TestResult back = load_test_result(a.output_dir);
        QCOMPARE(back.epoch, 2);
        QCOMPARE(back.version, 1);
        QCOMPARE(back.source_label, a.source_label);
        QCOMPARE(back.output_dir, a.output_dir);
        QCOMPARE(back.images.size(), a.images.size());
        for (std::size_t i = 0; i < a.images.size(); ++i) {
            QCOMPARE(back.images[i].image, a.images[i].image);
            QCOMPARE(back.images[i].output, a.images[i].output);
            for (const auto& name : metric_names())
                QCOMPARE(metric_value(back.images[i], name), metric_value(a.images[i], name)); // exact
        }
        QCOMPARE(back.mean_ssim, a.mean_ssim);
        QCOMPARE(back.mean_psnr_db, a.mean_psnr_db);
        QCOMPARE(list_test_runs(tmp.path().toStdString() + "/nowhere").size(), std::size_t(0));
    }

    void malformedMetricsFileIsNamed_data()
    {
        QTest::addColumn<QString>("edit");
        QTest::addColumn<QString>("needle");
        QTest::newRow("unknown key") << "extra"
                                     << "/extra: unknown key";
        QTest::newRow("wrong type") << "l1"
                                    << "/images/1/l1: expected a number";
        QTest::newRow("count") << "count"
                               << "/count: 5 does not match the 2 images";
        QTest::newRow("missing key") << "missing"
                                     << "/images/0/ssim: missing key";
        QTest::newRow("not JSON") << "text"
                                  << "metrics.json";
    }

    void malformedMetricsFileIsNamed()
    {
        QFETCH(QString, edit);
        QFETCH(QString, needle);
        QTemporaryDir tmp;
        const std::string exp = fixture_experiment(tmp);
        TestOptions options;
        options.experiment_dir = exp;
        options.epoch = 2;
        const TestResult r = run_test(fixture_config(), options);
        const std::string file = r.output_dir + "/metrics.json";
        json doc;
        std::ifstream(file) >> doc;
        if (edit == QLatin1String("extra"))
            doc["extra"] = 1;
        else if (edit == QLatin1String("l1"))
            doc["images"][1]["l1"] = "0.5";
        else if (edit == QLatin1String("count"))
            doc["count"] = 5;
        else if (edit == QLatin1String("missing"))
            doc["images"][0].erase("ssim");
        if (edit == QLatin1String("text"))
            std::ofstream(file) << "{\"count\": 2,";
        else
            std::ofstream(file) << doc.dump();
        const std::string msg = error_of([&] { load_test_result(r.output_dir); });
        QVERIFY2(
            msg.find(file) != std::string::npos && msg.find(needle.toStdString()) != std::string::npos, msg.c_str());
        std::vector<std::string> skipped;
        QVERIFY(list_test_runs(exp, &skipped).empty());
        QCOMPARE(skipped.size(), std::size_t(1));
        QVERIFY2(skipped[0].find(needle.toStdString()) != std::string::npos, skipped[0].c_str());
    }

    void stopAfterKImages()
    {
        QTemporaryDir tmp;
        const std::string exp = fixture_experiment(tmp);
        TestOptions options;
        options.experiment_dir = exp;
        options.epoch = 2;
        options.split = "train"; // 8 pairs
        std::vector<std::size_t> seen;
        const TestResult r = run_test(fixture_config(), options, {}, [&](std::size_t done, std::size_t total) {
            seen.push_back(done);
            return !(done == 3 && total == 8);
        });
        QCOMPARE(seen, (std::vector<std::size_t> { 1, 2, 3 }));
        QVERIFY(r.stopped);
        QCOMPARE(r.images.size(), std::size_t(3));
        int pngs = 0;
        for (const auto& e : fs::directory_iterator(r.output_dir))
            pngs += e.path().extension() == ".png";
        QCOMPARE(pngs, 3);
        const TestResult back = load_test_result(r.output_dir);
        QVERIFY(back.stopped);
        QCOMPARE(back.images.size(), std::size_t(3));
        QVERIFY(list_test_runs(exp).at(0).stopped);
        // Stopping after the last image is no stop.
        const TestResult all
            = run_test(fixture_config(), options, {}, [](std::size_t done, std::size_t total) { return done < total; });
        QVERIFY(!all.stopped && all.images.size() == 8);
    }

    void badInputGivesItsMessageAndNoFolder()
    {
        QTemporaryDir tmp;
        const std::string exp = fixture_experiment(tmp);
        const std::string base = tmp.path().toStdString();
        TestOptions options;
        options.experiment_dir = exp;
        options.epoch = 5;
        // No checkpoint at that epoch: names the file and lists the saved epochs.
        std::string msg = error_of([&] { run_test(fixture_config(), options); });
        QVERIFY2(msg.find("epoch5_netG.pt") != std::string::npos && msg.find(": 2") != std::string::npos, msg.c_str());
        options.epoch = 2;
        // A missing folder, an empty one, a folder without a usable image, a missing split.
        fs::create_directories(base + "/empty");
        fs::create_directories(base + "/notes");
        std::ofstream(base + "/notes/readme.txt") << "no images here";
        struct Case {
            TestSource source;
            std::string folder, split, needle;
        };
        const std::vector<Case> cases = {
            { TestSource::InputOnly, base + "/nowhere", "", "image folder not found: " + base + "/nowhere" },
            { TestSource::InputOnly, base + "/empty", "", "no images in " + base + "/empty" },
            { TestSource::InputOnly, base + "/notes", "", "1 non-image" },
            { TestSource::Folder, base + "/nowhere", "", "dataset folder not found: " + base + "/nowhere" },
            { TestSource::Folder, base + "/empty", "", "no A|B image pairs in " + base + "/empty" },
            { TestSource::Split, "", "holdout", kTiny + "/holdout" },
        };
        for (const Case& c : cases) {
            options.source = c.source;
            options.folder = c.folder;
            options.split = c.split.empty() ? "test" : c.split;
            msg = error_of([&] { run_test(fixture_config(), options); });
            QVERIFY2(msg.find(c.needle) != std::string::npos, msg.c_str());
            QVERIFY_THROWS_EXCEPTION(DataError, run_test(fixture_config(), options));
        }
        QVERIFY(test_dirs(exp).empty());

        // A colour image for a 1-channel model: refused in Folder and InputOnly mode, naming file and channels.
        const Config gray = fixture_config(1);
        const std::string gray_exp = base + "/gray_v1";
        save_generator(gray, gray_exp);
        fs::create_directories(base + "/mixed");
        save_qimage(pattern(16, 16, 1).convertToFormat(QImage::Format_Grayscale8), base + "/mixed/a.png");
        save_qimage(pattern(16, 16, 2), base + "/mixed/b.png");
        TestOptions g;
        g.experiment_dir = gray_exp;
        g.epoch = 1;
        g.source = TestSource::InputOnly;
        g.folder = base + "/mixed";
        msg = error_of([&] { run_test(gray, g); });
        QVERIFY2(msg.find(base + "/mixed/b.png has 3 channels") != std::string::npos
                && msg.find("takes 1 channel") != std::string::npos,
            msg.c_str());
        g.source = TestSource::Folder;
        g.folder = kTiny + "/test"; // RGB pairs
        msg = error_of([&] { run_test(gray, g); });
        QVERIFY2(msg.find(kTiny + "/test/0001.png has 3 channels") != std::string::npos, msg.c_str());
        QVERIFY(test_dirs(gray_exp).empty());
        // A grayscale-only folder is fine for it.
        fs::remove(base + "/mixed/b.png");
        g.source = TestSource::InputOnly;
        g.folder = base + "/mixed";
        QCOMPARE(run_test(gray, g).images.size(), std::size_t(1));
    }
};

QTEST_GUILESS_MAIN(TestEvaluation)
#include "tst_evaluation.moc"
