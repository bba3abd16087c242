// SPDX-License-Identifier: Apache-2.0
// Loss modules against NectarGAN's golden values (reference section a_losses), the loss-function
// registry, and the VGG19 state-dict loader on generated fixtures (zip and legacy torch.save). The loss
// modules run on the test device (test_device.h: NECTAR_TEST_DEVICE, default cpu); the references stay on the CPU.
#include <cmath>
#include <cstring>
#include <fstream>

#include <QTemporaryDir>
#include <QtTest/QtTest>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "config/config.h"
#include "io/torch_pickle.h"
#include "losses/loss_registry.h"
#include "losses/losses.h"
#include "reference_data.h"
#include "test_device.h"

using namespace nectar;
using nlohmann::json;
namespace F = torch::nn::functional;

namespace {
using testdata::formula;
using testdata::reference;

void check_inputs(const torch::Tensor& t, const json& check)
{
    const auto flat = t.flatten();
    for (size_t k = 0; k < 4; ++k)
        QCOMPARE(flat[int64_t(k)].item<float>(), check["check_first_values"][k].get<float>());
    QCOMPARE(flat[-1].item<float>(), check["check_last_value"].get<float>());
    const double sum = t.to(torch::kFloat64).sum().item<double>();
    QVERIFY(std::abs(sum - check["check_sum_float64"].get<double>()) < 1e-9);
}

/// Relative 1e-5 on every device: NectarGAN's float32 values lie within 1e-7 of the float64 recomputation in
/// the reference file, so a float32 result summed in another order (CUDA) keeps a 100x margin.
void expect_close(float got, const json& expected, const std::string& what)
{
    const double e = expected["value"];
    QVERIFY2(std::abs(got - e) <= 1e-5 * std::abs(e),
        qPrintable(QStringLiteral("%1: got %2, expected %3")
                       .arg(QString::fromStdString(what))
                       .arg(got, 0, 'g', 9)
                       .arg(e, 0, 'g', 9)));
}

std::map<std::string, torch::Tensor> fake_vgg_state(int64_t seed)
{
    torch::manual_seed(uint64_t(seed));
    const std::vector<std::tuple<int, int, int>> convs = { { 0, 3, 64 }, { 2, 64, 64 }, { 5, 64, 128 }, { 7, 128, 128 },
        { 10, 128, 256 }, { 12, 256, 256 }, { 14, 256, 256 } };
    std::map<std::string, torch::Tensor> s;
    for (auto [i, in, out] : convs) {
        s["features." + std::to_string(i) + ".weight"] = torch::randn({ out, in, 3, 3 }) * std::sqrt(2.0 / (9.0 * in));
        s["features." + std::to_string(i) + ".bias"] = torch::randn({ out }) * 0.01;
    }
    s["classifier.0.bias"] = torch::randn({ 8 }); // extra keys are ignored, as in a real file
    return s;
}

// Writes `tensors` (float32) in torch.save's LEGACY format (what torchvision's vgg19-dcbb9e9d.pth
// uses): pickles of magic, protocol, sys_info, OrderedDict of tensors, storage keys; raw storages.
void write_legacy(const std::map<std::string, torch::Tensor>& tensors, const std::string& path)
{
    std::string o;
    auto unicode = [&](const std::string& s) {
        o += 'X';
        const uint32_t n = uint32_t(s.size());
        o.append(reinterpret_cast<const char*>(&n), 4);
        o += s;
    };
    auto lit = [&](const char* bytes, size_t n) { o.append(bytes, n); };
    auto binint = [&](int32_t v) {
        o += 'J';
        o.append(reinterpret_cast<const char*>(&v), 4);
    };
    // magic number (LONG1, 10 bytes), protocol 1001, sys_info {}
    o += "\x80\x02\x8a\x0a";
    o += std::string("\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19", 10);
    o += '.';
    o += "\x80\x02M\xe9\x03.";
    lit("\x80\x02}q\x00.", 6);
    // the state dict
    lit("\x80\x02", 2);
    lit("ccollections\nOrderedDict\nq\x00)Rq\x01(", 32);
    int key = 0;
    std::vector<std::string> keys;
    for (const auto& [name, t] : tensors) {
        unicode(name);
        o += "ctorch._utils\n_rebuild_tensor_v2\n(";
        o += "(";
        unicode("storage");
        o += "ctorch\nFloatStorage\n";
        keys.push_back(std::to_string(900000 + key++));
        unicode(keys.back());
        unicode("cpu");
        binint(int32_t(t.numel()));
        o += "Nt"; // view_metadata None, end pid tuple
        o += "Q"; // BINPERSID
        binint(0); // storage offset
        o += "(";
        for (auto s : t.sizes())
            binint(int32_t(s));
        o += "t(";
        for (auto s : t.strides())
            binint(int32_t(s));
        o += "t\x89"; // requires_grad False
        o += "ccollections\nOrderedDict\n)R"; // backward hooks
        o += "tR";
    }
    o += "u";
    o += "}"; // real state dicts carry _metadata, applied by BUILD
    unicode("_metadata");
    o += "Nsb";
    o += ".";
    o += "\x80\x02](";
    for (const auto& k : keys)
        unicode(k);
    o += "e.";
    size_t idx = 0;
    for (const auto& [name, t] : tensors) {
        (void)name;
        (void)idx;
        const int64_t n = t.numel();
        o.append(reinterpret_cast<const char*>(&n), 8);
        const auto c = t.contiguous();
        o.append(static_cast<const char*>(c.data_ptr()), size_t(n) * 4);
    }
    std::ofstream(path, std::ios::binary).write(o.data(), std::streamsize(o.size()));
}

// Independent VGG forward with F::conv2d on the fixture tensors.
torch::Tensor manual_vgg_loss(const std::map<std::string, torch::Tensor>& s, torch::Tensor a, torch::Tensor b)
{
    auto conv = [&](const torch::Tensor& x, int i) {
        const std::string k = "features." + std::to_string(i);
        return torch::relu(
            F::conv2d(x, s.at(k + ".weight"), F::Conv2dFuncOptions().padding(1).bias(s.at(k + ".bias"))));
    };
    auto pool = [](const torch::Tensor& x) { return F::max_pool2d(x, F::MaxPool2dFuncOptions(2).stride(2)); };
    a = a.slice(1, 0, 3);
    b = b.slice(1, 0, 3);
    torch::Tensor loss = torch::zeros({});
    a = conv(conv(a, 0), 2), b = conv(conv(b, 0), 2);
    loss = loss + F::l1_loss(a, b);
    a = conv(conv(pool(a), 5), 7), b = conv(conv(pool(b), 5), 7);
    loss = loss + F::l1_loss(a, b);
    a = conv(conv(conv(pool(a), 10), 12), 14), b = conv(conv(conv(pool(b), 10), 12), 14);
    return loss + F::l1_loss(a, b);
}
} // namespace

class TestLosses : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase()
    {
        NECTAR_REQUIRE_TEST_DEVICE();
        torch::set_num_threads(1);
    }

    void nectarganLossValues()
    {
        const json a = reference()["a_losses"];
        auto& reg = LossFunctionRegistry::instance();
        const Config cfg;
        auto l1 = reg.create("L1", cfg), mse = reg.create("MSE", cfg), bce = reg.create("BCEWithLogits", cfg);
        auto sobel = reg.create("Sobel", cfg), lap = reg.create("Laplacian", cfg);
        QVERIFY(l1.module && sobel.module);
        const auto& dev = testdevice::device();
        for (auto* f : { &l1, &mse, &bce, &sobel, &lap })
            if (f->module)
                f->module->to(dev); // Sobel's and Laplacian's kernels are buffers

        QCOMPARE(int(a["cases"].size()), 3);
        for (const auto& c : a["cases"]) {
            const auto shape = c["shape"].get<std::vector<int64_t>>();
            const auto x_cpu = formula(shape, a["inputs"]["x"]), y_cpu = formula(shape, a["inputs"]["y"]);
            check_inputs(x_cpu, c["x_check"]);
            check_inputs(y_cpu, c["y_check"]);
            const auto x = x_cpu.to(dev), y = y_cpu.to(dev);
            const std::string tag = c["shape"].dump();
            expect_close(l1.function(x, y).item<float>(), c["L1"], "L1 " + tag);
            expect_close(mse.function(x, y).item<float>(), c["MSE"], "MSE " + tag);
            expect_close(
                bce.function(x, torch::ones_like(x)).item<float>(), c["BCEWithLogits_x_vs_ones"], "BCE1 " + tag);
            expect_close(
                bce.function(x, torch::zeros_like(x)).item<float>(), c["BCEWithLogits_x_vs_zeros"], "BCE0 " + tag);
            expect_close(sobel.function(x, y).item<float>(), c["Sobel_fake_x_real_y"], "Sobel " + tag);
            expect_close(sobel.function(y, x).item<float>(), c["Sobel_fake_y_real_x"], "Sobel yx " + tag);
            expect_close(lap.function(x, y).item<float>(), c["Laplacian_fake_x_real_y"], "Laplacian " + tag);
            expect_close(lap.function(y, x).item<float>(), c["Laplacian_fake_y_real_x"], "Laplacian yx " + tag);
            // The modules also work on float64 inputs (same formula, closer to the exact value).
            const double exact = c["float64_recomputation_from_same_float32_inputs"]["Sobel_fake_x_real_y"];
            SobelLoss s64; // a float64 reference check: on the CPU
            s64->to(torch::kFloat64);
            QVERIFY(std::abs(s64(x_cpu.to(torch::kFloat64), y_cpu.to(torch::kFloat64)).item<double>() - exact) < 1e-9);
        }
    }

    void structureLossesHaveGradients()
    {
        const auto& dev = testdevice::device();
        auto x = torch::randn({ 1, 3, 8, 8 }, torch::TensorOptions().device(dev).requires_grad(true));
        auto y = torch::randn({ 1, 3, 8, 8 }, dev);
        SobelLoss s;
        LaplacianLoss l;
        s->to(dev);
        l->to(dev);
        (s(x, y) + l(x, y)).backward();
        QVERIFY(x.grad().defined());
        QVERIFY(x.grad().abs().sum().item<float>() > 0);
        QCOMPARE(s(x, y).dim(), int64_t(0));
    }

    void registry()
    {
        auto& reg = LossFunctionRegistry::instance();
        for (const char* n : { "L1", "MSE", "BCEWithLogits", "Sobel", "Laplacian", "VGGPerceptual" })
            QVERIFY2(reg.contains(n), n);
        QVERIFY(!reg.entry("Sobel").description.empty());
        try {
            reg.create("L3", Config {});
            QFAIL("expected an error");
        } catch (const std::invalid_argument& e) {
            const std::string m = e.what();
            QVERIFY(m.find("\"L3\"") != std::string::npos);
            QVERIFY(m.find("Laplacian") != std::string::npos && m.find("VGGPerceptual") != std::string::npos);
        }
        QVERIFY_THROWS_EXCEPTION(
            std::invalid_argument, reg.add({ "L1", "dup", [](const Config&) { return LossFunction {}; } }));
        QVERIFY_THROWS_EXCEPTION(
            std::invalid_argument, reg.add({ "", "noname", [](const Config&) { return LossFunction {}; } }));
    }

    void stateDictZipRoundTrip()
    {
        QTemporaryDir dir;
        const auto state = fake_vgg_state(1);
        const std::string path = dir.filePath(QStringLiteral("fixture.pth")).toStdString();
        save_torch_state_dict(state, path);
        // torch::pickle_save writes the zip format; LibTorch's own pickle_load reads it back too.
        std::ifstream in(path, std::ios::binary);
        std::vector<char> bytes { std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>() };
        QCOMPARE(bytes[0], 'P');
        QCOMPARE(bytes[1], 'K');
        QVERIFY(torch::pickle_load(bytes).isGenericDict());
        const auto back = load_torch_state_dict(path);
        QCOMPARE(back.size(), state.size());
        for (const auto& [k, v] : state)
            QVERIFY2(torch::equal(back.at(k), v), k.c_str());
    }

    void stateDictLegacyFormat()
    {
        QTemporaryDir dir;
        auto state = fake_vgg_state(2);
        const std::string path = dir.filePath(QStringLiteral("legacy.pth")).toStdString();
        write_legacy(state, path);
        const auto back = load_torch_state_dict(path);
        QCOMPARE(back.size(), state.size());
        for (const auto& [k, v] : state) {
            QVERIFY2(back.count(k), k.c_str());
            QCOMPARE(back.at(k).sizes(), v.sizes());
            QVERIFY2(torch::equal(back.at(k), v), k.c_str());
        }
        // Corrupt files give errors naming the file.
        const std::string bad = dir.filePath(QStringLiteral("bad.pth")).toStdString();
        std::ofstream(bad) << "not a checkpoint";
        try {
            load_torch_state_dict(bad);
            QFAIL("expected an error");
        } catch (const std::runtime_error& e) {
            QVERIFY(std::string(e.what()).find(bad) != std::string::npos);
        }
    }

    void vggPerceptualOnFixture()
    {
        QTemporaryDir dir;
        const auto state = fake_vgg_state(3);
        const std::string path = dir.filePath(QStringLiteral("vgg.pth")).toStdString();
        save_torch_state_dict(state, path);
        VGGPerceptualLoss vgg(path);
        vgg->train(true);
        QVERIFY(!vgg->is_training());
        for (const auto& p : vgg->parameters())
            QVERIFY(!p.requires_grad());
        QCOMPARE(vgg->parameters().size(), size_t(14));
        torch::manual_seed(7);
        auto fake = torch::rand({ 2, 4, 16, 16 }).mul(2).sub(1);
        auto real = torch::rand({ 2, 4, 16, 16 }).mul(2).sub(1);
        const auto expected = manual_vgg_loss(state, fake, real); // float32 on the CPU
        const auto& dev = testdevice::device();
        vgg->to(dev);
        fake = fake.to(dev).requires_grad_(true);
        const auto got = vgg(fake, real.to(dev));
        QCOMPARE(got.dim(), int64_t(0));
        // CPU: the same ATen convolutions as the reference, 1e-5. CUDA: seven float32 convolutions through
        // whatever algorithm cuDNN picks (Winograd and FFT variants round differently; TF32 is off), 5e-5.
        const double tol = testdevice::is_cuda() ? 5e-5 : 1e-5;
        const double rel = std::abs(got.item<double>() - expected.item<double>()) / std::abs(expected.item<double>());
        qInfo("VGGPerceptual on %s vs float32 on the CPU: relative difference %.3g", testdevice::name().c_str(), rel);
        QVERIFY2(rel <= tol,
            qPrintable(
                QStringLiteral("%1 vs %2").arg(got.item<float>(), 0, 'g', 9).arg(expected.item<float>(), 0, 'g', 9)));
        got.backward();
        QVERIFY(fake.grad().defined());
        QCOMPARE(fake.grad().slice(1, 3, 4).abs().sum().item<float>(), 0.0f); // only RGB is used

        // Wrong shapes / missing keys name the key.
        auto broken = state;
        broken.erase("features.12.weight");
        save_torch_state_dict(broken, path);
        try {
            VGGPerceptualLoss v(path);
            QFAIL("expected an error");
        } catch (const std::runtime_error& e) {
            QVERIFY(std::string(e.what()).find("features.12.weight") != std::string::npos);
        }
    }

    void vggWeightsSearchAndMissingError()
    {
        QTemporaryDir torch_home, home;
        const QByteArray old_th = qgetenv("TORCH_HOME"), old_home = qgetenv("HOME");
        qputenv("TORCH_HOME", torch_home.path().toUtf8());
        qputenv("HOME", home.path().toUtf8());
        Config cfg;
        try {
            LossFunctionRegistry::instance().create("VGGPerceptual", cfg);
            QFAIL("expected an error: no weights anywhere");
        } catch (const std::runtime_error& e) {
            const std::string m = e.what();
            QVERIFY(
                m.find(torch_home.path().toStdString() + "/hub/checkpoints/vgg19-dcbb9e9d.pth") != std::string::npos);
            QVERIFY(m.find(home.path().toStdString() + "/.cache/torch/hub/checkpoints/vgg19-dcbb9e9d.pth")
                != std::string::npos);
            QVERIFY(m.find("https://download.pytorch.org/models/vgg19-dcbb9e9d.pth") != std::string::npos);
            QVERIFY(m.find("train.loss.vgg_weights") != std::string::npos);
        }
        cfg.train.loss.vgg_weights = "/nonexistent/vgg.pth";
        try {
            find_vgg19_weights(cfg.train.loss.vgg_weights);
            QFAIL("expected an error");
        } catch (const std::runtime_error& e) {
            QVERIFY(std::string(e.what()).find("/nonexistent/vgg.pth") != std::string::npos);
        }
        // Found in the torch hub cache under TORCH_HOME.
        QDir(torch_home.path()).mkpath(QStringLiteral("hub/checkpoints"));
        const std::string cached = torch_home.path().toStdString() + "/hub/checkpoints/vgg19-dcbb9e9d.pth";
        write_legacy(fake_vgg_state(4), cached);
        QCOMPARE(find_vgg19_weights(), cached);
        cfg.train.loss.vgg_weights.clear();
        auto f = LossFunctionRegistry::instance().create("VGGPerceptual", cfg);
        QVERIFY(f.module);
        const auto x = torch::rand({ 1, 3, 8, 8 });
        QCOMPARE(f.function(x, x).item<float>(), 0.0f);
        qputenv("TORCH_HOME", old_th);
        qputenv("HOME", old_home);
    }
};

QTEST_GUILESS_MAIN(TestLosses)
#include "tst_losses.moc"
