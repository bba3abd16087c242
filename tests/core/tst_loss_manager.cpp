// SPDX-License-Identifier: Apache-2.0
// LossManager: NectarGAN's weighted values for pix2pix "extended" (reference a_losses.
// loss_manager_weighted), registration errors, tag queries, precision, print formats,
// history buffer auto-dump, batched sync and thread-safe weight edits.
#include <atomic>
#include <cmath>
#include <fstream>
#include <thread>

#include <QTemporaryDir>
#include <QtTest/QtTest>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "config/config.h"
#include "losses/loss_log.h"
#include "losses/loss_manager.h"
#include "losses/loss_registry.h"
#include "reference_data.h"

using namespace nectar;
using nlohmann::json;

namespace {
using testdata::formula;
using testdata::reference;
inline LossFn make(const std::string& type)
{
    return testdata::make_loss(type);
}

std::map<std::string, torch::Tensor> run_extended(LossManager& lm, const torch::Tensor& x, const torch::Tensor& y)
{
    std::map<std::string, torch::Tensor> r;
    r["G_GAN"] = lm.compute_loss_xy("G_GAN", x, torch::ones_like(x), 1);
    r["G_L1"] = lm.compute_loss_xy("G_L1", x, y, 1);
    r["D_real"] = lm.compute_loss_xy("D_real", x, torch::ones_like(x), 1);
    r["D_fake"] = lm.compute_loss_xy("D_fake", x, torch::zeros_like(x), 1);
    r["G_L2"] = lm.compute_loss_xy("G_L2", x, y, 1);
    r["G_SOBEL"] = lm.compute_loss_xy("G_SOBEL", x, y, 1);
    r["G_LAP"] = lm.compute_loss_xy("G_LAP", x, y, 1);
    return r;
}

std::vector<std::string> keys(const std::map<std::string, double>& m)
{
    std::vector<std::string> k;
    for (const auto& [n, v] : m)
        k.push_back(n);
    return k;
}
} // namespace

class TestLossManager : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase() { torch::set_num_threads(1); }

    void nectarganWeightedValues()
    {
        const json a = reference()["a_losses"];
        const json lmw = a["loss_manager_weighted"];
        const auto shape = lmw["shape"].get<std::vector<int64_t>>();
        const auto x = formula(shape, a["inputs"]["x"]), y = formula(shape, a["inputs"]["y"]);
        LossManager lm(Config {}, {}, false);
        testdata::register_nectargan_extended(lm, lmw["config_lambdas"]);
        auto xg = x.clone().requires_grad_(true);
        const auto returned = run_extended(lm, xg, y);
        const auto values = lm.get_loss_values({}, -1);
        const auto raw = lm.get_raw_loss_values();
        const auto weights = lm.get_loss_weights({}, -1);
        for (const auto& [name, res] : lmw["results"].items()) {
            const double expected = res["returned"]["value"];
            const float got = returned.at(name).item<float>();
            QVERIFY2(std::abs(got - expected) <= 1e-5 * std::abs(expected),
                qPrintable(QStringLiteral("%1: %2 vs %3")
                               .arg(QString::fromStdString(name))
                               .arg(got, 0, 'g', 9)
                               .arg(expected, 0, 'g', 9)));
            QVERIFY(returned.at(name).requires_grad()); // autograd intact
            // NectarGAN's logged value is weighted; ours: get_loss_values (weighted) and raw x weight.
            QVERIFY(std::abs(values.at(name) - res["history_losses_last"].get<double>()) <= 1e-5 * std::abs(expected));
            QCOMPARE(weights.at(name), res["weight"].get<double>());
            QVERIFY(std::abs(float(raw.at(name)) * float(weights.at(name)) - expected) <= 1e-5 * std::abs(expected));
            const LMHistory h = lm.history(name);
            QCOMPARE(h.weights.back(), res["history_weights_last"].get<float>());
            const auto map = lm.get_loss_tensors().at(name);
            QCOMPARE(map.dim(), int64_t(res["last_loss_map_shape"].size()));
            QVERIFY(!map.requires_grad());
            // Detached without a copy: same storage as the returned tensor.
            QCOMPARE(map.data_ptr(), returned.at(name).data_ptr());
        }
        QCOMPARE(values.at("G_L1"), double(returned.at("G_L1").item<float>()));
    }

    void registrationErrors()
    {
        LossManager lm(Config {}, {}, false);
        lm.register_loss_fn("G_L1", make("L1"), 100.0, {}, { "G" });
        try {
            lm.register_loss_fn("G_L1", make("L1"));
            QFAIL("expected an error");
        } catch (const std::invalid_argument& e) {
            QVERIFY(std::string(e.what()).find("G_L1") != std::string::npos);
        }
        lm.register_loss_fn("D_real", make("BCEWithLogits"), 1.0, {}, { "D" });
        try {
            lm.compute_loss_xy("G_L2", torch::zeros({ 1 }), torch::zeros({ 1 }), 1);
            QFAIL("expected an error");
        } catch (const std::invalid_argument& e) {
            const std::string m = e.what();
            QVERIFY(m.find("\"G_L2\"") != std::string::npos);
            QVERIFY(m.find("G_L1, D_real") != std::string::npos);
        }
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, lm.register_loss_fn("", make("L1")));
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, lm.register_loss_fn("X", LossFn {}));
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, lm.register_loss_fn("X", make("L1"), -1.0));
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, lm.register_loss_fn("X", make("L1"), NAN));
        QVERIFY_THROWS_EXCEPTION(
            std::invalid_argument, lm.register_loss_fn("X", make("L1"), 1.0, Schedule::linear(5, 2, 1, 0)));
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, lm.set_loss_weight("nope", 1.0));
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, lm.set_loss_weight("G_L1", -2.0));
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, lm.set_tags("nope", {}));
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, lm.history("nope"));
        QCOMPARE(lm.names(), (std::vector<std::string> { "G_L1", "D_real" }));
        // Never computed: NaN (NectarGAN raises IndexError).
        QVERIFY(std::isnan(lm.get_loss_values().at("G_L1")));
    }

    void tagQueriesAndPrecision()
    {
        const json a = reference()["a_losses"];
        const json lmw = a["loss_manager_weighted"];
        const auto shape = lmw["shape"].get<std::vector<int64_t>>();
        const auto x = formula(shape, a["inputs"]["x"]), y = formula(shape, a["inputs"]["y"]);
        LossManager lm(Config {}, {}, false);
        testdata::register_nectargan_extended(lm, lmw["config_lambdas"]);
        run_extended(lm, x, y);
        QCOMPARE(keys(lm.get_loss_values({ "D" })), (std::vector<std::string> { "D_fake", "D_real" }));
        QCOMPARE(lm.get_loss_values({ "G" }).size(), size_t(5));
        QCOMPARE(lm.get_loss_values({ "G", "D" }).size(), size_t(7));
        QCOMPARE(lm.get_loss_values({ "nope" }).size(), size_t(0));
        QCOMPARE(lm.get_loss_tensors({ "D" }).size(), size_t(2));
        QCOMPARE(lm.get_loss_weights({ "G" }).at("G_L1"), 100.0);
        QCOMPARE(lm.get_loss_values({}, 2).at("G_L1"), 69.32);
        QCOMPARE(lm.get_loss_values({}, 4).at("G_L1"), 69.3226);
        QCOMPARE(lm.get_loss_values({}, 0).at("G_L1"), 69.0);
        QCOMPARE(lm.get_loss_values({}, 3).at("G_LAP"), 0.104);
        auto reg = lm.get_registered_losses({ "D" }, true);
        QCOMPARE(reg.size(), size_t(2));
        QVERIFY(reg.at("D_real").history.losses.empty());
        QVERIFY(!reg.at("D_real").last_loss_map.defined());
        auto full = lm.get_registered_losses({ "D" }, false);
        QCOMPARE(full.at("D_real").history.losses.size(), size_t(1));
        QVERIFY(full.at("D_real").has_tag("D"));
        lm.set_tags("G_L1", { "D", "extra" });
        QCOMPARE(lm.get_loss_values({ "extra" }).size(), size_t(1));
        QCOMPARE(lm.get_loss_values({ "D" }).size(), size_t(3));
    }

    void printFormats()
    {
        const json a = reference()["a_losses"];
        const json lmw = a["loss_manager_weighted"];
        const auto shape = lmw["shape"].get<std::vector<int64_t>>();
        const auto x = formula(shape, a["inputs"]["x"]), y = formula(shape, a["inputs"]["y"]);
        LossManager lm(Config {}, {}, false);
        testdata::register_nectargan_extended(lm, lmw["config_lambdas"]);
        run_extended(lm, x, y);
        // NectarGAN: f'(epoch: {epoch}, iters: {iter}) Loss:' + f' {name}: {round(v, p)}' in registration order.
        QCOMPARE(QString::fromStdString(lm.print_losses(1, 5)),
            QStringLiteral("(epoch: 1, iters: 5) Loss: G_GAN: 0.74 G_L1: 69.32 D_real: 0.74 D_fake: 0.74 "
                           "G_L2: 1.81 G_SOBEL: 2.45 G_LAP: 0.1"));
        QCOMPARE(QString::fromStdString(lm.print_losses(3, 120, 3)),
            QStringLiteral("(epoch: 3, iters: 120) Loss: G_GAN: 0.742 G_L1: 69.323 D_real: 0.742 D_fake: 0.743 "
                           "G_L2: 1.812 G_SOBEL: 2.445 G_LAP: 0.104"));
        QCOMPARE(QString::fromStdString(lm.print_weights()),
            QStringLiteral(
                "Loss weights: G_GAN: 1.0 G_L1: 100.0 D_real: 1.0 D_fake: 1.0 G_L2: 2.5 G_SOBEL: 3.0 G_LAP: 0.5"));
        // Python float repr for tiny / huge values.
        LossManager small(Config {}, {}, false);
        auto one = [](const torch::Tensor&, const torch::Tensor&) { return torch::ones({}); };
        small.register_loss_fn("tiny", one, 1.0, Schedule::exponential(1, 2, 1.0, 1e-9));
        // Weights stop at 1e6 (limits::max_loss_weight), below Python's switch to exponents (1e16).
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, small.register_loss_fn("too_big", one, 1e17));
        small.register_loss_fn("huge", one, 1e6);
        small.compute_loss_xy("tiny", {}, {}, 5);
        small.compute_loss_xy("huge", {}, {}, 5);
        QCOMPARE(QString::fromStdString(small.print_weights(12)),
            QStringLiteral("Loss weights: tiny: 1e-09 huge: 1000000.0"));
        QCOMPARE(QString::fromStdString(small.print_losses(5, 0, 2)),
            QStringLiteral("(epoch: 5, iters: 0) Loss: tiny: 0.0 huge: 1000000.0"));
    }

    void zeroWeightStillComputable()
    {
        LossManager lm(Config {}, {}, false);
        lm.register_loss_fn("Z", make("L1"), 0.0);
        const auto r = lm.compute_loss_xy("Z", torch::ones({ 2, 2 }), torch::zeros({ 2, 2 }), 1);
        QCOMPARE(r.item<float>(), 0.0f);
        QCOMPARE(lm.get_raw_loss_values().at("Z"), 1.0);
        QCOMPARE(lm.history("Z").weights.at(0), 0.0f);
    }

    void batchedSync()
    {
        LossManager lm(Config {}, {}, false);
        lm.set_sync_interval(1000);
        lm.register_loss_fn("L", make("L1"));
        for (int i = 0; i < 10; ++i)
            lm.compute_loss_xy("L", torch::full({ 3 }, float(i)), torch::zeros({ 3 }), 1);
        const auto h = lm.history("L"); // syncs the 10 pending values at once
        QCOMPARE(h.losses.size(), size_t(10));
        for (int i = 0; i < 10; ++i)
            QCOMPARE(h.losses[size_t(i)], float(i));
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, lm.set_sync_interval(0));
    }

    void bufferAutoDumpAndTrim()
    {
        QTemporaryDir dir;
        const std::string exp = dir.filePath(QStringLiteral("exp")).toStdString();
        {
            LossManager lm(Config {}, exp, true, /*history_buffer_size=*/5);
            lm.register_loss_fn("A", make("L1"), 2.0);
            lm.register_loss_fn("B", make("L1"), 1.0);
            for (int i = 0; i < 12; ++i) {
                lm.compute_loss_xy("A", torch::full({ 2 }, float(i)), torch::zeros({ 2 }), 1);
                if (i % 2 == 0)
                    lm.compute_loss_xy("B", torch::full({ 2 }, float(i)), torch::zeros({ 2 }), 1);
            }
            // A reached 5 and 10 values: two automatic dumps, without update_loss_log().
            const auto logged = LossLog::read(exp);
            QCOMPARE(logged.losses.at("A").raw.size(), size_t(10));
            QCOMPARE(logged.losses.at("A").weighted.at(9), 18.0f);
            QCOMPARE(logged.losses.at("B").raw.size(), size_t(5)); // B's values so far went along
            QVERIFY(lm.history("A").losses.size() < 5); // in-memory history was emptied
            lm.update_loss_log();
            lm.export_base_log();
        }
        const auto all = LossLog::read(exp);
        QCOMPARE(all.losses.at("A").raw.size(), size_t(12));
        QCOMPARE(all.losses.at("B").raw.size(), size_t(6));
        for (int i = 0; i < 12; ++i)
            QCOMPARE(all.losses.at("A").raw[size_t(i)], float(i));
        const auto base = LossLog::read(exp + "/loss_log.json");
        QCOMPARE(base.losses.at("A").weighted, all.losses.at("A").weighted);

        // Logging disabled: nothing written, history trimmed to at most the buffer size.
        const std::string exp2 = dir.filePath(QStringLiteral("nolog")).toStdString();
        LossManager off(Config {}, exp2, false, 4);
        off.register_loss_fn("A", make("L1"));
        for (int i = 0; i < 11; ++i) {
            off.compute_loss_xy("A", torch::full({ 1 }, float(i)), torch::zeros({ 1 }), 1);
            QVERIFY(off.history("A").losses.size() <= 4);
        }
        QCOMPARE(off.history("A").losses.back(), 10.0f);
        off.update_loss_log();
        off.export_base_log();
        QVERIFY(!QFileInfo::exists(QString::fromStdString(exp2)));
    }

    void weightEditsFromAnotherThread()
    {
        LossManager lm(Config {}, {}, false);
        lm.register_loss_fn("A", make("L1"), 1.0, Schedule::linear(1, 100, 5.0, 0.0), { "G" });
        const auto x = torch::ones({ 4 }), y = torch::zeros({ 4 });
        std::atomic<bool> stop { false };
        std::thread editor([&] {
            int k = 0;
            while (!stop.load()) {
                lm.set_loss_weight("A", double(k % 7));
                lm.set_tags("A", k % 2 ? std::vector<std::string> { "G" } : std::vector<std::string> { "G", "x" });
                ++k;
            }
        });
        for (int i = 0; i < 3000; ++i)
            lm.compute_loss_xy("A", x, y, 1);
        stop = true;
        editor.join();
        for (float w : lm.history("A").weights)
            QVERIFY(w == 5.0f || (w >= 0.0f && w <= 6.0f && w == std::floor(w)));
        // The edit overrides the schedule and applies from the next call.
        lm.set_loss_weight("A", 3.0);
        QCOMPARE(lm.compute_loss_xy("A", x, y, 50).item<float>(), 3.0f);
        QCOMPARE(lm.get_loss_weights().at("A"), 3.0);
        QVERIFY(!lm.get_registered_losses({}, true).at("A").schedule.active());
    }

    void metadataInLog()
    {
        QTemporaryDir dir;
        const std::string exp = dir.filePath(QStringLiteral("NectarGAN_v3")).toStdString();
        Config cfg;
        cfg.dataloader.dataroot = "/data/facades";
        LossManager lm(cfg, exp);
        lm.register_loss_fn("G_L1", make("L1"), 100.0);
        lm.set_log_metadata("cuda:0", "/data/facades", 400);
        lm.compute_loss_xy("G_L1", torch::ones({ 2 }), torch::zeros({ 2 }), 1);
        lm.update_loss_log();
        lm.export_base_log();
        const auto d = LossLog::read(exp);
        QCOMPARE(d.device, std::string("cuda:0"));
        QCOMPARE(d.dataroot, std::string("/data/facades"));
        QCOMPARE(d.dataset_length, std::int64_t(400));
        QCOMPARE(d.experiment, std::string("NectarGAN_v3"));
        QCOMPARE(d.losses.at("G_L1").weighted.at(0), 100.0f);
    }
};

QTEST_GUILESS_MAIN(TestLossManager)
#include "tst_loss_manager.moc"
