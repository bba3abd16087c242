// SPDX-License-Identifier: Apache-2.0
// UnetGenerator and PatchGAN against NectarGAN's golden values (tests/data/reference/nectargan_reference.json,
// sections d_unet and e_patchgan): parameter counts, parameter names/shapes, channel maps, output shapes and a
// forward pass with deterministic weights, for every listed config; plus the input-size rule and weight init.
// (Over 600 lines on purpose: both networks are checked against one reference file with shared helpers.)
// Forward passes and gradients run on the test device (test_device.h: NECTAR_TEST_DEVICE, default cpu); the
// oneDNN transposed convolution is CPU code and is tested on the CPU.
#include <cmath>
#include <fstream>

#include <QtTest/QtTest>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "models/conv_transpose.h"
#include "models/model_types.h"
#include "models/patchgan.h"
#include "models/unet.h"

#include "test_device.h"

using nlohmann::json;
using namespace nectar;

namespace {

const json& reference()
{
    static const json j = [] {
        std::ifstream in(NECTAR_TEST_DATA_DIR "/reference/nectargan_reference.json");
        if (!in)
            throw std::runtime_error("cannot open " NECTAR_TEST_DATA_DIR "/reference/nectargan_reference.json");
        return json::parse(in);
    }();
    return j;
}

// The reference generator's closed-form tensors: T[i] = float32(amp * F(a*i + b)), evaluated in double.
torch::Tensor formula(const std::vector<std::int64_t>& shape, const std::string& fn, double a, double b, double amp)
{
    std::int64_t n = 1;
    for (auto s : shape)
        n *= s;
    std::vector<float> v(static_cast<std::size_t>(n));
    for (std::int64_t i = 0; i < n; ++i) {
        const double x = a * static_cast<double>(i) + b;
        v[static_cast<std::size_t>(i)] = static_cast<float>(amp * (fn == "sin" ? std::sin(x) : std::cos(x)));
    }
    return torch::from_blob(v.data(), shape, torch::kFloat32).clone();
}

torch::Tensor formula(const json& d)
{
    return formula(d.at("shape").get<std::vector<std::int64_t>>(), d.at("fn"), d.at("a"), d.at("b"), d.at("amp"));
}

// Fills parameter k (named_parameters order) with float32(0.05 * sin(0.013 * i + (0.7 * k + 0.3))).
void deterministic_fill(torch::nn::Module& m, const json& expected_order)
{
    torch::NoGradGuard g;
    const auto params = m.named_parameters(/*recurse=*/true);
    QCOMPARE(static_cast<std::size_t>(params.size()), expected_order.size());
    for (std::size_t k = 0; k < params.size(); ++k) {
        QCOMPARE(QString::fromStdString(params[k].key()), QString::fromStdString(expected_order[k].get<std::string>()));
        const double bk = 0.7 * static_cast<double>(k) + 0.3;
        params[k].value().copy_(formula(params[k].value().sizes().vec(), "sin", 0.013, bk, 0.05));
    }
}

void compare_summary(const torch::Tensor& out, const json& expected)
{
    QCOMPARE(out.sizes().vec(), expected.at("shape").get<std::vector<std::int64_t>>());
    const double sum = out.to(torch::kFloat64).sum().item<double>();
    const double abs_sum = out.to(torch::kFloat64).abs().sum().item<double>();
    const double esum = expected.at("sum_float64");
    const double eabs = expected.at("abs_sum_float64");
    // Float32 through ~12 conv layers: allow 1e-4 of the absolute mass.
    QVERIFY2(std::abs(sum - esum) <= 1e-4 * eabs + 1e-4,
        qPrintable(QStringLiteral("sum %1 vs reference %2").arg(sum, 0, 'g', 12).arg(esum, 0, 'g', 12)));
    QVERIFY2(std::abs(abs_sum - eabs) <= 1e-4 * eabs + 1e-4,
        qPrintable(QStringLiteral("abs sum %1 vs reference %2").arg(abs_sum, 0, 'g', 12).arg(eabs, 0, 'g', 12)));
    const auto flat = out.reshape({ -1 });
    const auto first = expected.at("first_values").get<std::vector<double>>();
    // Relative: PatchGAN logits reach |5| after 4096-term sums (seen: 6e-5 relative from reduction order).
    for (std::size_t i = 0; i < first.size(); ++i)
        QVERIFY2(std::abs(flat[static_cast<std::int64_t>(i)].item<double>() - first[i])
                < 1e-4 * std::max(1.0, std::abs(first[i])),
            qPrintable(QStringLiteral("value %1: %2 vs %3")
                           .arg(i)
                           .arg(flat[static_cast<std::int64_t>(i)].item<double>())
                           .arg(first[i])));
    const double last = expected.at("last_value");
    QVERIFY(std::abs(flat[-1].item<double>() - last) < 1e-4 * std::max(1.0, std::abs(last)));
    qDebug("forward check: sum %.9g (reference %.9g), abs sum %.9g (reference %.9g)", sum, esum, abs_sum, eabs);
}

UnetOptions unet_from_reference(const json& c)
{
    UnetOptions o;
    o.input_size = c.at("input_size");
    o.in_channels = c.at("in_channels");
    o.features = c.at("features");
    o.n_downs = c.at("n_downs");
    o.use_dropout_layers = c.at("use_dropout_layers");
    o.block_type = unet_block_type_from_string(c.at("block_type"));
    o.upsample_type = upsample_type_from_string(c.at("upconv_type"));
    return o;
}

json state_dict_shapes(torch::nn::Module& m)
{
    json out = json::array();
    for (const auto& p : m.named_parameters(true))
        out.push_back({ p.key(), p.value().sizes().vec() });
    for (const auto& b : m.named_buffers(true))
        out.push_back({ b.key(), b.value().sizes().vec() });
    return out;
}

} // namespace

class TestModels : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void unetMatchesReference_data();
    void unetMatchesReference();
    void residualUnetWorksAtTwiceMinSize_data();
    void residualUnetWorksAtTwiceMinSize();
    void unetRefusesBadInputSizeBeforeBuilding();
    void unetMinSizeBoundary();
    void unetForwardRejectsWrongInput();
    void unetWeightInit();
    void unetOptionsJson();
    void registries();
    void patchganMatchesReference_data();
    void patchganMatchesReference();
    void patchganOptionsAndErrors();
    void oneDnnConvTransposeMatchesTorch_data();
    void oneDnnConvTransposeMatchesTorch();
    void oneDnnConvTransposeModuleKeepsParameters();
    void gradientsOnDeviceMatchFloat64_data();
    void gradientsOnDeviceMatchFloat64();
};

void TestModels::initTestCase()
{
    NECTAR_REQUIRE_TEST_DEVICE();
    QVERIFY(reference().contains("d_unet"));
    QVERIFY(reference().contains("e_patchgan"));
}

void TestModels::unetMatchesReference_data()
{
    QTest::addColumn<int>("index");
    const auto& configs = reference().at("d_unet").at("configs");
    QCOMPARE(configs.size(), std::size_t { 12 });
    for (std::size_t i = 0; i < configs.size(); ++i) {
        const auto& c = configs[i];
        const std::string name = std::to_string(c.at("input_size").get<int>()) + "/"
            + std::to_string(c.at("features").get<int>()) + "/" + std::to_string(c.at("n_downs").get<int>()) + " "
            + c.at("block_type").get<std::string>() + " " + c.at("upconv_type").get<std::string>();
        QTest::newRow(name.c_str()) << static_cast<int>(i);
    }
}

void TestModels::unetMatchesReference()
{
    QFETCH(int, index);
    const json& c = reference().at("d_unet").at("configs")[static_cast<std::size_t>(index)];
    torch::manual_seed(0);
    UnetGenerator g(unet_from_reference(c));

    QCOMPARE(count_parameters(*g), c.at("total_params").get<std::int64_t>());
    QCOMPARE(count_parameters(*g, /*trainable_only=*/true), c.at("trainable_params").get<std::int64_t>());
    const json& per = c.at("params_per_block");
    QCOMPARE(count_parameters(*g->initial_down), per.at("initial_down").get<std::int64_t>());
    QCOMPARE(count_parameters(*g->bottleneck), per.at("bottleneck").get<std::int64_t>());
    QCOMPARE(count_parameters(*g->final_up), per.at("final_up").get<std::int64_t>());
    QCOMPARE(g->downs->size(), per.at("downs").size());
    for (std::size_t i = 0; i < g->downs->size(); ++i)
        QCOMPARE(count_parameters(*g->downs[i]), per.at("downs")[i].get<std::int64_t>());
    QCOMPARE(g->ups->size(), per.at("ups").size());
    for (std::size_t i = 0; i < g->ups->size(); ++i)
        QCOMPARE(count_parameters(*g->ups[i]), per.at("ups")[i].get<std::int64_t>());

    QCOMPARE(json(g->channel_map()), c.at("channel_map"));
    QCOMPARE(state_dict_shapes(*g), c.at("state_dict"));

    json dropout = json::array();
    for (std::size_t i = 0; i < g->ups->size(); ++i)
        dropout.push_back(g->ups[i]->as<UnetBlockImpl>()->options.use_dropout);
    QCOMPARE(dropout, c.at("dropout_on_ups"));

    const auto& dev = testdevice::device();
    g->to(dev);
    g->eval();
    torch::NoGradGuard no_grad;
    const int s = c.at("input_size");
    const auto out = g->forward(torch::zeros({ 1, 3, s, s }, dev));
    QCOMPARE(out.sizes().vec(), c.at("output_shape").get<std::vector<std::int64_t>>());

    if (c.contains("deterministic_forward")) {
        const json& df = c.at("deterministic_forward");
        deterministic_fill(*g, df.at("param_order"));
        const auto x = formula(df.at("input"));
        QVERIFY(
            std::abs(x.to(torch::kFloat64).sum().item<double>() - df.at("input").at("check_sum_float64").get<double>())
            < 1e-9);
        compare_summary(g->forward(x.to(dev)), df.at("output"));
    }
}

void TestModels::residualUnetWorksAtTwiceMinSize_data()
{
    QTest::addColumn<int>("size");
    QTest::addColumn<int>("features");
    QTest::addColumn<int>("n_downs");
    QTest::addColumn<QString>("upsample");
    QTest::newRow("64/16/4 Transposed at 128") << 64 << 16 << 4 << QStringLiteral("Transposed");
    QTest::newRow("64/16/4 Bilinear at 128") << 64 << 16 << 4 << QStringLiteral("Bilinear");
    QTest::newRow("128/8/5 Transposed at 256") << 128 << 8 << 5 << QStringLiteral("Transposed");
}

void TestModels::residualUnetWorksAtTwiceMinSize()
{
    // NectarGAN fails here ("size of tensor a (4) must match ... (2)", d_unet.configs[*].forward_at_2x_input_size).
    QFETCH(int, size);
    QFETCH(int, features);
    QFETCH(int, n_downs);
    QFETCH(QString, upsample);
    UnetOptions o;
    o.input_size = 2 * size;
    o.features = features;
    o.n_downs = n_downs;
    o.block_type = UnetBlockType::ResidualUnetBlock;
    o.upsample_type = upsample_type_from_string(upsample.toStdString());
    UnetGenerator g(o);
    const auto& dev = testdevice::device();
    g->to(dev);
    g->eval();
    torch::NoGradGuard no_grad;
    const auto out = g->forward(torch::randn({ 2, 3, 2 * size, 2 * size }, dev));
    QCOMPARE(out.sizes().vec(), (std::vector<std::int64_t> { 2, 3, 2 * size, 2 * size }));
    QVERIFY(torch::isfinite(out).all().item<bool>());
    // The same model also runs at its minimum size (bottleneck 1x1) and at 3x.
    QCOMPARE(g->forward(torch::randn({ 1, 3, size, size }, dev)).size(2), std::int64_t { size });
    QCOMPARE(g->forward(torch::randn({ 1, 3, 3 * size, 3 * size }, dev)).size(3), std::int64_t { 3 * size });
}

void TestModels::unetRefusesBadInputSizeBeforeBuilding()
{
    UnetOptions o;
    o.features = 8;
    o.n_downs = 6;
    o.input_size = 300;
    // Nothing may be built: the global generator must not have been used by any layer init.
    torch::manual_seed(42);
    const float expected = torch::rand({ 1 }).item<float>();
    torch::manual_seed(42);
    try {
        UnetGenerator g(o);
        QFAIL("input size 300 with n_downs 6 was accepted");
    } catch (const std::invalid_argument& e) {
        const QString msg = QString::fromUtf8(e.what());
        QVERIFY2(msg.contains(QStringLiteral("300")) && msg.contains(QStringLiteral("256"))
                && msg.contains(QStringLiteral("512")) && msg.contains(QStringLiteral("n_downs=6")),
            e.what());
    }
    QCOMPARE(torch::rand({ 1 }).item<float>(), expected);

    const UnetSizeCheck c = check_unet_input_size(96, 4);
    QVERIFY(!c.ok);
    QCOMPARE(c.multiple, 64);
    QCOMPARE(c.lower, 64);
    QCOMPARE(c.upper, 128);
    QVERIFY(check_unet_input_size(192, 4).ok); // any positive multiple, not only powers of two
    const UnetSizeCheck small = check_unet_input_size(100, 5);
    QVERIFY(!small.ok);
    QCOMPARE(small.lower, 0);
    QCOMPARE(small.upper, 128);
    QVERIFY(QString::fromStdString(small.message).contains(QStringLiteral("nearest valid size: 128")));
    QVERIFY(!check_unet_input_size(0, 4).ok);
    QVERIFY(!check_unet_input_size(-64, 4).ok);
    QVERIFY(!check_unet_input_size(64, 0).ok);
}

void TestModels::unetMinSizeBoundary()
{
    for (const auto& c : reference().at("d_unet").at("min_size_boundary").at("cases")) {
        const int n = c.at("n_downs");
        const int m = c.at("min_size");
        QCOMPARE(m, 1 << (n + 2));
        UnetOptions o;
        o.features = 4;
        o.n_downs = n;
        o.input_size = m - 1;
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, UnetGenerator { o });
        o.input_size = m;
        UnetGenerator ok(o); // as NectarGAN: the minimum itself is accepted
        QCOMPARE(ok->options().input_size, m);
    }
}

void TestModels::unetForwardRejectsWrongInput()
{
    UnetOptions o;
    o.input_size = 64;
    o.features = 4;
    o.n_downs = 4;
    UnetGenerator g(o);
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, g->forward(torch::zeros({ 1, 1, 64, 64 })));
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, g->forward(torch::zeros({ 1, 3, 96, 96 })));
    QCOMPARE(g->forward(torch::zeros({ 1, 3, 128, 64 })).sizes().vec(), (std::vector<std::int64_t> { 1, 3, 128, 64 }));

    o.out_channels = 1;
    UnetGenerator gray(o);
    QCOMPARE(gray->forward(torch::zeros({ 1, 3, 64, 64 })).size(1), std::int64_t { 1 });
    QCOMPARE(gray->channel_map().final_up, (std::pair<int, int> { 8, 1 }));
}

void TestModels::unetWeightInit()
{
    torch::manual_seed(3);
    UnetOptions o;
    o.input_size = 64;
    o.features = 16;
    o.n_downs = 4;
    o.block_type = UnetBlockType::ResidualUnetBlock;
    UnetGenerator g(o);
    std::vector<torch::Tensor> weights;
    for (const auto& p : g->named_parameters()) {
        if (p.key().size() >= 4 && p.key().compare(p.key().size() - 4, 4, "bias") == 0)
            QVERIFY2(torch::all(p.value() == 0).item<bool>(), p.key().c_str());
        else
            weights.push_back(p.value().reshape({ -1 }));
    }
    const auto all = torch::cat(weights);
    QVERIFY(all.numel() > 1000000);
    const double mean = all.mean().item<double>();
    const double std = all.std().item<double>();
    QVERIFY2(std::abs(mean) < 1e-3, qPrintable(QString::number(mean)));
    QVERIFY2(std::abs(std - 0.02) < 0.02 * 0.02, qPrintable(QString::number(std))); // N(0, 0.02), not kaiming
}

void TestModels::unetOptionsJson()
{
    UnetOptions o;
    o.input_size = 128;
    o.in_channels = 1;
    o.out_channels = 3;
    o.features = 32;
    o.n_downs = 5;
    o.use_dropout_layers = 2;
    o.block_type = UnetBlockType::ResidualUnetBlock;
    o.upsample_type = UpsampleType::Bilinear;
    const json j = o;
    QCOMPARE(j.at("block_type").get<std::string>(), std::string("ResidualUnetBlock"));
    QCOMPARE(j.at("upsample_type").get<std::string>(), std::string("Bilinear"));
    const auto back = j.get<UnetOptions>();
    QCOMPARE(json(back), j);
    QCOMPARE(back.out_channels.value_or(-1), 3);

    const auto defaults = json::object().get<UnetOptions>();
    QCOMPARE(defaults.input_size, 256);
    QVERIFY(!defaults.out_channels.has_value());
    QCOMPARE(json(defaults).at("out_channels"), json(nullptr));

    try {
        json { { "block_type", "unetblock" } }.get<UnetOptions>();
        QFAIL("lower-case block type accepted");
    } catch (const std::invalid_argument& e) {
        QVERIFY(QString::fromUtf8(e.what()).contains(QStringLiteral("ResidualUnetBlock")));
    }
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, json({ { "upsample_type", "Nearest" } }).get<UnetOptions>());

    o.features = 0;
    o.input_size = 128;
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, validate_unet_options(o));
}

void TestModels::registries()
{
    QCOMPARE(unet_block_type_names(), (std::vector<std::string> { "UnetBlock", "ResidualUnetBlock" }));
    QCOMPARE(upsample_type_names(), (std::vector<std::string> { "Transposed", "Bilinear" }));
    for (const auto& n : unet_block_type_names())
        QCOMPARE(to_string(unet_block_type_from_string(n)), n);
    for (const auto& n : upsample_type_names())
        QCOMPARE(to_string(upsample_type_from_string(n)), n);
}

void TestModels::patchganMatchesReference_data()
{
    QTest::addColumn<int>("index");
    const auto& configs = reference().at("e_patchgan").at("configs");
    QCOMPARE(configs.size(), std::size_t { 4 });
    for (std::size_t i = 0; i < configs.size(); ++i) {
        const auto& c = configs[i];
        const std::string name = "in" + std::to_string(c.at("in_channels").get<int>()) + " base"
            + std::to_string(c.at("base_channels").get<int>()) + " n" + std::to_string(c.at("n_layers").get<int>())
            + " max" + std::to_string(c.at("max_channels").get<int>());
        QTest::newRow(name.c_str()) << static_cast<int>(i);
    }
}

void TestModels::patchganMatchesReference()
{
    QFETCH(int, index);
    const json& c = reference().at("e_patchgan").at("configs")[static_cast<std::size_t>(index)];
    PatchGANOptions o;
    o.in_channels = c.at("in_channels");
    o.base_channels = c.at("base_channels");
    o.n_layers = c.at("n_layers");
    o.max_channels = c.at("max_channels");
    PatchGAN d(o);
    QCOMPARE(count_parameters(*d), c.at("total_params").get<std::int64_t>());
    QCOMPARE(count_parameters(*d, true), c.at("trainable_params").get<std::int64_t>());
    QCOMPARE(state_dict_shapes(*d), c.at("state_dict"));

    const auto& dev = testdevice::device();
    d->to(dev);
    d->eval();
    torch::NoGradGuard no_grad;
    for (const auto& [key, shape] : c.at("output_shapes").items()) {
        const int s = std::stoi(key.substr(0, key.find('x')));
        const auto x = torch::zeros({ 1, o.in_channels, s, s }, dev);
        QCOMPARE(d->forward(x, x).sizes().vec(), shape.get<std::vector<std::int64_t>>());
        QCOMPARE(static_cast<std::int64_t>(patchgan_output_size(o, s)), shape[2].get<std::int64_t>());
    }
    if (c.contains("deterministic_forward")) {
        const json& df = c.at("deterministic_forward");
        deterministic_fill(*d, df.at("param_order"));
        compare_summary(d->forward(formula(df.at("x")).to(dev), formula(df.at("y")).to(dev)), df.at("output"));
    }
}

void TestModels::patchganOptionsAndErrors()
{
    PatchGANOptions o;
    o.in_channels = 1;
    o.n_layers = 4;
    const json j = o;
    QCOMPARE(j, (json { { "in_channels", 1 }, { "base_channels", 64 }, { "n_layers", 4 }, { "max_channels", 512 } }));
    QCOMPARE(json(j.get<PatchGANOptions>()), j);

    PatchGAN d(o);
    QVERIFY_THROWS_EXCEPTION(
        std::invalid_argument, d->forward(torch::zeros({ 1, 3, 64, 64 }), torch::zeros({ 1, 3, 64, 64 })));
    QVERIFY_THROWS_EXCEPTION(
        std::invalid_argument, d->forward(torch::zeros({ 1, 1, 64, 64 }), torch::zeros({ 1, 1, 32, 32 })));
    QCOMPARE(patchgan_output_size(o, 4), -1);
    QVERIFY_THROWS_EXCEPTION(
        std::invalid_argument, d->forward(torch::zeros({ 1, 1, 4, 4 }), torch::zeros({ 1, 1, 4, 4 })));
    o.n_layers = 0;
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, PatchGAN { o });
}

void TestModels::oneDnnConvTransposeMatchesTorch_data()
{
    QTest::addColumn<int>("batch");
    QTest::addColumn<int>("in_channels");
    QTest::addColumn<int>("out_channels");
    QTest::addColumn<int>("size");
    QTest::addColumn<int>("kernel");
    QTest::addColumn<int>("stride");
    QTest::addColumn<int>("padding");
    QTest::addColumn<int>("output_padding");
    QTest::addColumn<bool>("bias");
    // The UNet's up blocks (4x4/2 pad 1, with and without bias) and the residual shortcut (1x1/2, output_padding 1).
    QTest::newRow("up 4x4/2 no bias") << 2 << 16 << 8 << 8 << 4 << 2 << 1 << 0 << false;
    QTest::newRow("final 4x4/2 bias") << 1 << 8 << 3 << 16 << 4 << 2 << 1 << 0 << true;
    QTest::newRow("1x1 bottleneck") << 3 << 32 << 32 << 1 << 4 << 2 << 1 << 0 << false;
    QTest::newRow("residual 1x1/2 op 1") << 2 << 6 << 4 << 5 << 1 << 2 << 0 << 1 << true;
    QTest::newRow("3x3/1 pad 1") << 1 << 4 << 5 << 7 << 3 << 1 << 1 << 0 << true;
}

void TestModels::oneDnnConvTransposeMatchesTorch()
{
    QFETCH(int, batch);
    QFETCH(int, in_channels);
    QFETCH(int, out_channels);
    QFETCH(int, size);
    QFETCH(int, kernel);
    QFETCH(int, stride);
    QFETCH(int, padding);
    QFETCH(int, output_padding);
    QFETCH(bool, bias);
    torch::manual_seed(3);
    auto x = torch::randn({ batch, in_channels, size, size });
    auto w = torch::randn({ in_channels, out_channels, kernel, kernel }) * 0.1;
    auto b = bias ? torch::randn({ out_channels }) : torch::Tensor();
    const std::vector<std::int64_t> st { stride, stride }, pad { padding, padding },
        op { output_padding, output_padding };

    // Reference: ATen's own transposed convolution in float64.
    auto x64 = x.to(torch::kFloat64).requires_grad_(true);
    auto w64 = w.to(torch::kFloat64).requires_grad_(true);
    auto b64 = bias ? b.to(torch::kFloat64).requires_grad_(true) : torch::Tensor();
    auto y64 = torch::conv_transpose2d(x64, w64, b64, st, pad, op);

    x.requires_grad_(true);
    w.requires_grad_(true);
    if (bias)
        b.requires_grad_(true);
    auto y = conv_transpose2d_onednn(x, w, b, st, pad, op);
    QCOMPARE(y.sizes().vec(), y64.sizes().vec());
    QCOMPARE(y.scalar_type(), torch::kFloat32);
    QVERIFY(torch::allclose(y.to(torch::kFloat64), y64.detach(), 1e-4, 1e-5));

    // Same upstream gradient through both; compare every input gradient.
    const auto g = torch::randn(y.sizes());
    y.backward(g);
    y64.backward(g.to(torch::kFloat64));
    QVERIFY(torch::allclose(x.grad().to(torch::kFloat64), x64.grad(), 1e-4, 1e-5));
    QVERIFY(torch::allclose(w.grad().to(torch::kFloat64), w64.grad(), 1e-4, 1e-4));
    if (bias)
        QVERIFY(torch::allclose(b.grad().to(torch::kFloat64), b64.grad(), 1e-4, 1e-4));

    // float64 input takes ATen's path; same values.
    torch::NoGradGuard ng;
    auto y_fallback
        = conv_transpose2d_onednn(x64.detach(), w64.detach(), bias ? b64.detach() : torch::Tensor(), st, pad, op);
    QCOMPARE(y_fallback.scalar_type(), torch::kFloat64);
    QVERIFY(torch::allclose(y_fallback, y64.detach()));
}

void TestModels::oneDnnConvTransposeModuleKeepsParameters()
{
    const auto opts = torch::nn::ConvTranspose2dOptions(8, 4, 4).stride(2).padding(1).bias(false);
    torch::manual_seed(1);
    torch::nn::ConvTranspose2d plain(opts);
    torch::manual_seed(1);
    OneDnnConvTranspose2d fast(opts);
    QCOMPARE(fast->named_parameters().keys(), plain->named_parameters().keys());
    QVERIFY(torch::equal(fast->weight, plain->weight));
    // Found by model code that looks for ConvTranspose2d (weight init).
    torch::nn::Sequential seq(fast);
    QVERIFY(seq[0]->as<torch::nn::ConvTranspose2d>() != nullptr);
    torch::NoGradGuard ng;
    const auto x = torch::randn({ 1, 8, 5, 5 });
    QVERIFY(torch::allclose(seq->forward(x), plain->forward(x), 1e-5, 1e-6));

    // Bad shapes get ATen's own errors, not a wrong result.
    QVERIFY_THROWS_EXCEPTION(c10::Error, fast->forward(torch::randn({ 1, 7, 5, 5 })));
    QVERIFY_THROWS_EXCEPTION(c10::Error,
        conv_transpose2d_onednn(x, fast->weight, torch::Tensor(), { 2, 2 }, { 1, 1 }, /*output_padding=*/ { 2, 2 }));
}

void TestModels::gradientsOnDeviceMatchFloat64_data()
{
    QTest::addColumn<QString>("block");
    QTest::addColumn<QString>("upsample");
    QTest::newRow("UnetBlock Transposed") << QStringLiteral("UnetBlock") << QStringLiteral("Transposed");
    QTest::newRow("ResidualUnetBlock Bilinear") << QStringLiteral("ResidualUnetBlock") << QStringLiteral("Bilinear");
}

void TestModels::gradientsOnDeviceMatchFloat64()
{
    // One pix2pix-style forward and backward (G, then D on the (x, G(x)) pair) with the same weights in
    // float32 on the test device and in float64 on the CPU (ATen's reference path): the generator output,
    // the loss and every parameter's gradient agree, and have the parameter's shape.
    QFETCH(QString, block);
    QFETCH(QString, upsample);
    const auto& dev = testdevice::device();
    UnetOptions uo;
    uo.input_size = 64;
    uo.features = 8;
    uo.n_downs = 3;
    uo.use_dropout_layers = 0; // no random masks: both runs see the same network
    uo.block_type = unet_block_type_from_string(block.toStdString());
    uo.upsample_type = upsample_type_from_string(upsample.toStdString());
    PatchGANOptions po;
    po.base_channels = 8;
    po.n_layers = 2;
    po.max_channels = 32;
    struct Run {
        torch::Tensor fake, loss;
        std::vector<std::pair<std::string, torch::Tensor>> grads; // named_parameters order, G then D
    };
    auto run = [&](const torch::Device& device, torch::ScalarType dtype, Run& r) {
        torch::manual_seed(21); // same weights and inputs in both runs
        UnetGenerator g(uo);
        PatchGAN d(po);
        const auto x = torch::rand({ 2, 3, 64, 64 }) * 2 - 1;
        const auto w = torch::randn({ 2, 3, 64, 64 }); // a non-trivial upstream gradient for G's output
        g->to(device, dtype);
        d->to(device, dtype);
        const auto opts = torch::TensorOptions().device(device).dtype(dtype);
        const auto xd = x.to(opts), wd = w.to(opts);
        r.fake = g->forward(xd);
        r.loss = (r.fake * wd).mean() + d->forward(xd, r.fake).mean();
        r.loss.backward();
        for (auto* m : { static_cast<torch::nn::Module*>(g.get()), static_cast<torch::nn::Module*>(d.get()) })
            for (const auto& p : m->named_parameters()) {
                QVERIFY2(p.value().grad().defined(), p.key().c_str());
                QCOMPARE(p.value().grad().sizes(), p.value().sizes());
                QCOMPARE(p.value().grad().device(), device);
                r.grads.emplace_back(p.key(), p.value().grad().to(torch::kCPU, torch::kFloat64));
            }
        r.fake = r.fake.detach().to(torch::kCPU, torch::kFloat64);
        r.loss = r.loss.detach().to(torch::kCPU, torch::kFloat64);
    };
    Run got, ref;
    run(dev, torch::kFloat32, got);
    run(torch::kCPU, torch::kFloat64, ref);
    if (QTest::currentTestFailed())
        return;
    QCOMPARE(got.grads.size(), ref.grads.size());
    QVERIFY(got.grads.size() > 10);

    QCOMPARE(got.fake.sizes().vec(), (std::vector<std::int64_t> { 2, 3, 64, 64 }));
    const double fake_err = (got.fake - ref.fake).abs().max().item<double>();
    QVERIFY2(fake_err < 3e-5, qPrintable(QStringLiteral("G(x): max difference %1").arg(fake_err)));
    const double loss_err = std::abs(got.loss.item<double>() - ref.loss.item<double>());
    QVERIFY2(loss_err < 1e-6 * std::max(1.0, std::abs(ref.loss.item<double>())),
        qPrintable(QStringLiteral("loss %1 vs %2").arg(got.loss.item<double>()).arg(ref.loss.item<double>())));
    // Gradients: relative to each parameter's own gradient norm, with a floor at the largest gradient's scale
    // (InstanceNorm makes the gradient of a bias right before it zero up to rounding). Float32 on the CPU
    // comes within 3.3e-5 (relative) and G(x) within 1.2e-6; the bounds leave room for cuDNN's algorithms.
    // A wrong gradient is off by O(1).
    double scale = 0;
    for (const auto& [name, g] : ref.grads)
        scale = std::max(scale, g.abs().max().item<double>());
    QVERIFY(scale > 0);
    double worst = 0;
    for (std::size_t i = 0; i < ref.grads.size(); ++i) {
        const auto& [name, g64] = ref.grads[i];
        QCOMPARE(QString::fromStdString(got.grads[i].first), QString::fromStdString(name));
        QVERIFY2(torch::isfinite(got.grads[i].second).all().item<bool>(), name.c_str());
        const double err = (got.grads[i].second - g64).norm().item<double>();
        const double bound = 5e-4 * g64.norm().item<double>() + 5e-6 * scale;
        worst = std::max(worst, err / bound);
        QVERIFY2(err <= bound,
            qPrintable(
                QStringLiteral("%1: |difference| %2 > %3").arg(QString::fromStdString(name)).arg(err).arg(bound)));
    }
    qInfo("float32 on %s vs float64 on the CPU: G(x) max difference %.3g, worst gradient error %.3g of its bound",
        testdevice::name().c_str(), fake_err, worst);
}

QTEST_GUILESS_MAIN(TestModels)
#include "tst_models.moc"
