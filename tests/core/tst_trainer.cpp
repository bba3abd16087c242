// SPDX-License-Identifier: Apache-2.0
// Pix2pixTrainer on the tiny dataset with tiny models: full runs, overfitting, resume equivalence,
// checkpoints, presets, spec-driven losses, disabled losses and non-finite handling. Everything that trains
// runs on the test device (test_device.h: NECTAR_TEST_DEVICE, default cpu).

#include <QTemporaryDir>
#include <QtTest/QtTest>

#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "checkpoint_fixture.h"
#include "config/config.h"
#include "data/paired_dataset.h"
#include "losses/loss_log.h"
#include "losses/loss_manager.h"
#include "objective/objective.h"
#include "objective/preset.h"
#include "objective/spec_registry.h"
#include "training/checkpoint.h"
#include "training/experiment.h"
#include "training/pix2pix_trainer.h"
#include "util/torch_compat.h"

#include "test_device.h"

using namespace nectar;
namespace fs = std::filesystem;

namespace {

const std::string kTiny = std::string(NECTAR_TEST_DATA_DIR) + "/tiny";

/// Tiny models on 32 px crops of the tiny set: a few milliseconds per iteration. On the test device
/// (NECTAR_TEST_DEVICE; on CUDA with float16 autocast and the per-network loss scalers).
Config tiny_config(const std::string& out, int epochs, int decay)
{
    Config c;
    c.common.device = testdevice::name();
    c.common.output_directory = out;
    c.common.experiment_name = "tiny";
    c.common.num_threads = 2;
    c.common.seed = 7;
    c.dataloader.dataroot = kTiny;
    c.dataloader.num_workers = 0;
    c.dataloader.batch_size = 2;
    c.dataloader.load.load_size = 36;
    c.dataloader.load.crop_size = 32;
    c.train.generator.features = 8;
    c.train.generator.n_downs = 3;
    c.train.discriminator.base_channels = 8;
    c.train.discriminator.n_layers = 2;
    c.train.discriminator.max_channels = 32;
    for (auto* lr : { &c.train.generator.learning_rate, &c.train.discriminator.learning_rate }) {
        lr->epochs = epochs;
        lr->epochs_decay = decay;
    }
    c.train.update_rate = 1;
    c.save.model_save_rate = 1;
    c.save.example_save_rate = 1;
    return c;
}

/// Collects every per-iteration raw value by loss name (in iteration order).
struct Recorder : TrainingObserver {
    std::map<std::string, std::vector<float>> raw;
    std::map<std::string, std::vector<std::int64_t>> iters;
    std::map<std::string, bool> enabled;
    std::vector<EpochSummary> epochs;
    std::vector<std::string> messages;
    int images = 0;
    bool finished = false, stopped = false;
    TrainingControl* stop_after_epoch_control = nullptr;
    int stop_after_epoch = -1;

    RunInfo info;
    void on_run_started(const RunInfo& i) override { info = i; }
    void on_progress(const ProgressReport& r) override
    {
        for (const auto& c : r.losses) {
            enabled[c.name] = c.enabled;
            raw[c.name].insert(raw[c.name].end(), c.raw.begin(), c.raw.end());
            iters[c.name].insert(iters[c.name].end(), c.iterations.begin(), c.iterations.end());
        }
        if (r.example_generated && !r.example_generated->empty())
            ++images;
    }
    void on_epoch_end(const EpochSummary& s) override
    {
        epochs.push_back(s);
        if (stop_after_epoch_control && s.epoch == stop_after_epoch)
            stop_after_epoch_control->request_stop();
    }
    void on_message(MessageLevel, const std::string& m) override { messages.push_back(m); }
    void on_run_finished(bool s) override
    {
        finished = true;
        stopped = s;
    }
};

} // namespace

class TestTrainer : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void initTestCase() { NECTAR_REQUIRE_TEST_DEVICE(); }

    void twoEpochRun()
    {
        QTemporaryDir tmp;
        Recorder rec;
        Pix2pixTrainer t(tiny_config(tmp.path().toStdString(), 1, 1), &rec);
        const TrainResult r = t.run();
        QCOMPARE(t.device().str(), testdevice::name()); // no fallback to the CPU
        QVERIFY(!r.stopped);
        QCOMPARE(r.last_epoch_completed, 2);
        QCOMPARE(r.iterations, 8); // 8 pairs / batch 2 * 2 epochs
        QVERIFY(rec.finished && !rec.stopped);
        const std::string dir = r.experiment_dir;
        QCOMPARE(fs::path(dir).filename().string(), std::string("tiny_v1"));
        QCOMPARE(list_checkpoint_epochs(dir), (std::vector<int> { 1, 2 }));
        QVERIFY(fs::is_regular_file(dir + "/examples/epoch1_1.png"));
        QVERIFY(fs::is_regular_file(dir + "/examples/epoch2_1.png"));
        QImage ex(QString::fromStdString(dir + "/examples/epoch2_1.png"));
        QCOMPARE(ex.width(), 3 * 32); // input | generated | target
        QCOMPARE(ex.height(), 32);
        QVERIFY(fs::is_regular_file(dir + "/train1_config.json"));
        QCOMPARE(load_config_file(dir + "/train1_config.json").train.generator.features, 8);
        // Losses: finite, one value per iteration, for exactly the spec's losses.
        QCOMPARE(rec.raw.size(), size_t(4));
        for (const auto& [name, v] : rec.raw) {
            QCOMPARE(v.size(), size_t(8));
            for (float x : v)
                QVERIFY2(std::isfinite(x), name.c_str());
        }
        QVERIFY(rec.images > 0);
        QCOMPARE(rec.epochs.size(), size_t(2));
        QVERIFY(rec.epochs[1].lr_g < rec.epochs[0].lr_g); // 1 constant + 1 decay epoch
        // The log: NectarGAN layout with weighted values, 8 per loss, finite.
        std::ifstream in(dir + "/loss_log.json");
        QVERIFY(in.good());
        nlohmann::json log;
        in >> log;
        QCOMPARE(log["LOSSMANAGER_LOG"]["device"].get<std::string>(), testdevice::name());
        const auto& fns = log["LOSSMANAGER_LOG"]["loss_functions"];
        for (const char* n : { "G_GAN", "G_L1", "D_real", "D_fake" }) {
            QVERIFY2(fns.contains(n), n);
            QCOMPARE(fns[n]["loss"].size(), size_t(8));
            for (const auto& v : fns[n]["loss"])
                QVERIFY(v.is_number() && std::isfinite(v.get<double>()));
        }
        // G_L1 is logged weighted (x100), the observer sees raw values.
        QVERIFY(qAbs(fns["G_L1"]["loss"][7].get<double>() - 100.0 * rec.raw["G_L1"][7])
            < 1e-3 * fns["G_L1"]["loss"][7].get<double>());
        // #12: the plan the weights chart draws ahead: one weight per epoch, from iteration 0.
        QCOMPARE(rec.info.first_iteration, std::int64_t(0));
        QCOMPARE(rec.info.planned_weights.at("G_L1"), (std::vector<double> { 100.0, 100.0 }));
        QCOMPARE(rec.info.planned_weights.size(), size_t(4));
        QCOMPARE(fns["G_L1"]["wall_time"].size(), size_t(8)); // a wall time per value
    }

    void overfitOnePair()
    {
        // One fixed pair, 40 iterations: G_L1 must fall clearly.
        Config c = tiny_config({}, 1, 0);
        c.train.update_rate = 1;
        c.train.generator.learning_rate.initial = 1e-3; // a tiny model memorising one pair
        c.train.discriminator.learning_rate.initial = 1e-3;
        PairedDataset ds(dataset_options_from_config(c, "train"));
        const Sample s = ds.get(0, 1);
        const auto x = s.a.unsqueeze(0).to(testdevice::device()), y = s.b.unsqueeze(0).to(testdevice::device());
        Recorder rec;
        Pix2pixTrainer t(c, &rec, nullptr, nullptr, Pix2pixTrainer::Mode::Benchmark);
        t.setup();
        t.on_epoch_start(1);
        for (int i = 0; i < 40; ++i)
            t.train_step(x, y, i);
        const auto& l1 = rec.raw["G_L1"];
        QCOMPARE(l1.size(), size_t(40));
        double first = 0, last = 0;
        for (int i = 0; i < 5; ++i) {
            first += l1[i] / 5.0;
            last += l1[35 + i] / 5.0;
        }
        qInfo("G_L1 (raw) first 5 mean %.4f, last 5 mean %.4f", first, last);
        QVERIFY2(last < 0.7 * first, qPrintable(QStringLiteral("%1 -> %2").arg(first).arg(last)));
    }

    void resumeEquivalence()
    {
        QTemporaryDir tmp;
        const std::string root = tmp.path().toStdString();
        // Run A: 4 epochs straight.
        Recorder a;
        {
            Config c = tiny_config(root + "/a", 2, 2);
            Pix2pixTrainer t(c, &a);
            t.run();
        }
        // Run B: the same plan, stopped after epoch 2, then continued from its checkpoint.
        Recorder b1, b2;
        std::string dir_b;
        {
            TrainingControl control;
            b1.stop_after_epoch_control = &control;
            b1.stop_after_epoch = 2;
            Pix2pixTrainer t(tiny_config(root + "/b", 2, 2), &b1, &control);
            const TrainResult r = t.run();
            QVERIFY(r.stopped);
            QCOMPARE(r.last_epoch_completed, 2);
            dir_b = r.experiment_dir;
            QCOMPARE(list_checkpoint_epochs(dir_b), (std::vector<int> { 1, 2 }));
            // The stop came between epochs: loss_log.json must still be exported with every value so far.
            std::ifstream in(dir_b + "/loss_log.json");
            QVERIFY(in.good());
            const auto log = nlohmann::json::parse(in)["LOSSMANAGER_LOG"]["loss_functions"];
            QCOMPARE(log["G_L1"]["loss"].size(), size_t(8));
            QCOMPARE(log["D_fake"]["weights"].size(), size_t(8));
        }
        {
            Config c = tiny_config(root + "/b", 2, 2);
            c.train.load.continue_train = true;
            c.train.load.load_epoch = 2;
            Pix2pixTrainer t(c, &b2);
            const TrainResult r = t.run();
            QCOMPARE(r.first_epoch, 3);
            QCOMPARE(r.last_epoch_completed, 4);
            QCOMPARE(r.iterations, 8); // only the remaining 2 epochs
            QCOMPARE(r.experiment_dir, dir_b);
            QVERIFY(fs::is_regular_file(dir_b + "/train2_config.json"));
        }
        // CPU: 1e-4. CUDA: 1e-3, because cuDNN's and ATen's CUDA backward kernels (reflection padding among
        // them) accumulate with atomics, and a last-bit difference can flip a float16 rounding under autocast;
        // a lost optimizer, scaler or RNG state moves these values by far more.
        const float tol = testdevice::is_cuda() ? 1e-3f : 1e-4f;
        float max_diff = 0.0f;
        for (const auto& [name, va] : a.raw) {
            QCOMPARE(va.size(), size_t(16));
            const auto& v1 = b1.raw[name];
            const auto& v2 = b2.raw[name];
            QCOMPARE(v1.size(), size_t(8));
            QCOMPARE(v2.size(), size_t(8));
            for (size_t i = 0; i < 8; ++i) {
                max_diff = std::max({ max_diff, qAbs(va[i] - v1[i]), qAbs(va[8 + i] - v2[i]) });
                QVERIFY2(qAbs(va[i] - v1[i]) <= tol,
                    qPrintable(QStringLiteral("%1 it %2").arg(QString::fromStdString(name)).arg(i)));
                QVERIFY2(qAbs(va[8 + i] - v2[i]) <= tol * std::max(1.0f, qAbs(va[8 + i])),
                    qPrintable(QStringLiteral("%1 it %2: %3 vs %4")
                                   .arg(QString::fromStdString(name))
                                   .arg(8 + i)
                                   .arg(va[8 + i])
                                   .arg(v2[i])));
            }
            QCOMPARE(b2.iters[name].front(), std::int64_t(8)); // global iteration continues
        }
        qInfo("straight vs resumed run on %s: largest loss difference %g", testdevice::name().c_str(), max_diff);
    }

    void missingCheckpointListsEpochs()
    {
        QTemporaryDir tmp;
        Config c = tiny_config(tmp.path().toStdString(), 1, 1);
        c.save.model_save_rate = 2; // only the last epoch (2)
        Pix2pixTrainer t(c);
        const std::string dir = t.run().experiment_dir;
        QCOMPARE(list_checkpoint_epochs(dir), (std::vector<int> { 2 }));
        c.train.load.continue_train = true;
        c.train.load.load_epoch = 1;
        Pix2pixTrainer again(c);
        try {
            again.setup();
            QFAIL("expected CheckpointError");
        } catch (const CheckpointError& e) {
            const QString msg = QString::fromStdString(e.what());
            QVERIFY2(msg.contains(QStringLiteral("epoch1_netG.pt")), e.what());
            QVERIFY2(msg.contains(QStringLiteral("epochs with a checkpoint: 2")), e.what());
        }
    }

    void checkpointRoundTripAndNanGuard()
    {
        QTemporaryDir tmp;
        const std::string dir = tmp.path().toStdString();
        Config c = tiny_config({}, 1, 0);
        Pix2pixTrainer t(c, nullptr, nullptr, nullptr, Pix2pixTrainer::Mode::Benchmark);
        t.setup();
        t.on_epoch_start(1);
        auto x = (torch::rand({ 1, 3, 32, 32 }) * 2 - 1).to(testdevice::device());
        t.train_step(x, x, 0);
        FusedAdam og(t.generator().parameters()), od(t.discriminator().parameters());
        CheckpointState st;
        st.epoch = 3;
        st.global_iteration = 42;
        capture_rng_state(st, testdevice::device());
        save_checkpoint(dir, st, t.generator(), og, t.discriminator(), od);
        const auto before = fs::last_write_time(checkpoint_file(dir, 3, "netG"));
        const auto ref = t.generate(x);

        // A second trainer loads it: identical generator output, state restored.
        Pix2pixTrainer u(c, nullptr, nullptr, nullptr, Pix2pixTrainer::Mode::Benchmark);
        u.setup();
        FusedAdam og2(u.generator().parameters()), od2(u.discriminator().parameters());
        const auto back = load_checkpoint(dir, 3, testdevice::device(), u.generator(), og2, u.discriminator(), od2);
        QCOMPARE(back.epoch, 3);
        QCOMPARE(back.global_iteration, std::int64_t(42));
        QVERIFY(back.rng_cpu.defined());
        QCOMPARE(back.rng_cuda.defined(), testdevice::is_cuda());
        QVERIFY(torch::equal(u.generate(x), ref));

        // NaN weights are never written over a good checkpoint.
        {
            torch::NoGradGuard ng;
            t.generator().parameters()[0].fill_(std::numeric_limits<float>::quiet_NaN());
        }
        QVERIFY(!module_is_finite(t.generator()));
        QVERIFY_THROWS_EXCEPTION(CheckpointError, save_checkpoint(dir, st, t.generator(), og, t.discriminator(), od));
        QVERIFY(fs::last_write_time(checkpoint_file(dir, 3, "netG")) == before);
        QVERIFY(!fs::exists(checkpoint_file(dir, 3, "netG") + ".tmp"));
    }

    // Issue #10: the JSON metadata inside epoch<N>_trainer.pt goes through the strict reader (depth 512 and its
    // caps), so a corrupt or hostile checkpoint is a CheckpointError naming the file and path.
    void checkpointMetadataIsReadStrictly()
    {
        QTemporaryDir tmp;
        const std::string dir = tmp.path().toStdString();
        Config c = tiny_config({}, 1, 0);
        Pix2pixTrainer t(c, nullptr, nullptr, nullptr, Pix2pixTrainer::Mode::Benchmark);
        t.setup();
        FusedAdam og(t.generator().parameters()), od(t.discriminator().parameters());
        CheckpointState st;
        st.epoch = 1;
        nlohmann::json deep = nlohmann::json::array();
        for (int i = 0; i < 600; ++i) {
            nlohmann::json outer = nlohmann::json::array();
            outer.push_back(std::move(deep));
            deep = std::move(outer);
        }
        st.extra = nlohmann::json { { "deep", std::move(deep) } };
        save_checkpoint(dir, st, t.generator(), og, t.discriminator(), od);
        try {
            load_checkpoint(dir, 1, testdevice::device(), t.generator(), og, t.discriminator(), od);
            QFAIL("expected CheckpointError");
        } catch (const CheckpointError& e) {
            const std::string msg = e.what();
            QVERIFY2(msg.find("epoch1_trainer.pt: extra: /deep/0/0/0/... (") != std::string::npos, e.what());
            QVERIFY2(msg.find("nested deeper than 512") != std::string::npos, e.what());
        }
    }

    // Checkpoints written by LibTorch 1.13 (Debian 12) and 2.6 (Debian 13) load on the LibTorch this
    // build uses: weights and every parameter's Adam state, matched by position (LibTorch 2.x's own
    // optimizer loader misreads 1.13's hex state keys).
    void checkpointsLoadAcrossLibTorchVersions()
    {
        const fs::path root = fs::path(NECTAR_TEST_DATA_DIR) / "checkpoints";
        int loaded = 0;
        for (const auto* version : { "torch-1.13", "torch-2.6" }) {
            const std::string dir = (root / version).string();
            std::ifstream in(dir + "/expected.json");
            QVERIFY2(in, qPrintable(QString::fromStdString(dir + "/expected.json missing")));
            const auto expected = nlohmann::json::parse(in);
            auto m = testdata::checkpoint_fixture_models();
            FusedAdam og(m.generator->parameters()), od(m.discriminator->parameters());
            const auto st = load_checkpoint(dir, 2, torch::kCPU, *m.generator, og, *m.discriminator, od);
            QCOMPARE(st.epoch, 2);
            QCOMPARE(st.global_iteration, std::int64_t(10));
            QCOMPARE(st.extra.value("written_by", ""), std::string("make_checkpoint_fixture"));
            for (const auto& [part, opt] : { std::pair<std::string, FusedAdam*> { "netG", &og }, { "netD", &od } }) {
                const auto got = testdata::checkpoint_fixture_summary(*opt);
                const auto& want = expected.at(part);
                QCOMPARE(got.size(), want.size());
                int with_state = 0;
                for (std::size_t i = 0; i < got.size(); ++i) {
                    const QString where
                        = QStringLiteral("%1 %2 param %3").arg(version, QString::fromStdString(part)).arg(i);
                    QVERIFY2(std::abs(got[i]["param_sum"].get<double>() - want[i]["param_sum"].get<double>()) < 1e-5,
                        qPrintable(where + QStringLiteral(": weights")));
                    QVERIFY2(got[i]["state"].is_null() == want[i]["state"].is_null(),
                        qPrintable(where + QStringLiteral(": state presence")));
                    if (want[i]["state"].is_null())
                        continue;
                    ++with_state;
                    QCOMPARE(got[i]["state"]["step"].get<std::int64_t>(), want[i]["state"]["step"].get<std::int64_t>());
                    for (const auto* key : { "exp_avg_sum", "exp_avg_sq_sum" })
                        QVERIFY2(std::abs(got[i]["state"][key].get<double>() - want[i]["state"][key].get<double>())
                                < 1e-6 * (1 + std::abs(want[i]["state"][key].get<double>())),
                            qPrintable(where + QStringLiteral(": ") + QLatin1String(key)));
                }
                QVERIFY(with_state > 1); // position matters: several distinct states were matched
            }
            // The loaded state is usable: one more step moves the weights and stays finite.
            for (auto& p : m.generator->parameters())
                p.mutable_grad() = torch::ones_like(p);
            const auto before = m.generator->parameters()[0].clone();
            og.step();
            QVERIFY(!torch::equal(before, m.generator->parameters()[0]));
            QVERIFY(module_is_finite(*m.generator));
            ++loaded;
        }
        QCOMPARE(loaded, 2);
    }

    void nonFiniteLossStops()
    {
        Config c = tiny_config({}, 1, 0);
        Pix2pixTrainer t(c, nullptr, nullptr, nullptr, Pix2pixTrainer::Mode::Benchmark);
        t.setup();
        t.on_epoch_start(1);
        {
            torch::NoGradGuard ng;
            for (auto& p : t.generator().parameters())
                p.fill_(std::numeric_limits<float>::quiet_NaN());
        }
        auto x = (torch::rand({ 1, 3, 32, 32 }) * 2 - 1).to(testdevice::device());
        try {
            t.train_step(x, x, 0);
            QFAIL("expected NonFiniteLossError");
        } catch (const NonFiniteLossError& e) {
            // The D step runs first; D(x, fake) is NaN, D(x, real) is not.
            QCOMPARE(e.loss, std::string("D_fake"));
            QCOMPARE(e.tags, std::vector<std::string> { "D" });
            QCOMPARE(e.epoch, 1);
            QCOMPARE(e.iteration, std::int64_t(1));
            QVERIFY(QString::fromStdString(e.what()).contains(QStringLiteral("D_fake")));
        }
        // Policy "skip": the step is skipped, the discriminator keeps finite weights.
        c.train.nonfinite_policy = NonFinitePolicy::Skip;
        Recorder rec;
        Pix2pixTrainer s(c, &rec, nullptr, nullptr, Pix2pixTrainer::Mode::Benchmark);
        s.setup();
        s.on_epoch_start(1);
        {
            torch::NoGradGuard ng;
            for (auto& p : s.generator().parameters())
                p.fill_(std::numeric_limits<float>::quiet_NaN());
        }
        s.train_step(x, x, 0);
        QVERIFY(module_is_finite(s.discriminator()));
        QVERIFY(!rec.messages.empty());
    }

    void zeroWeightLossIsDisabled()
    {
        Config c = tiny_config({}, 1, 0);
        c.train.loss.subspec = "extended";
        c.train.loss.lambda_sobel = 2.0; // G_L2 and G_LAP stay 0
        Recorder rec;
        Pix2pixTrainer t(c, &rec, nullptr, nullptr, Pix2pixTrainer::Mode::Benchmark);
        t.setup();
        t.on_epoch_start(1);
        auto x = (torch::rand({ 1, 3, 32, 32 }) * 2 - 1).to(testdevice::device());
        for (int i = 0; i < 2; ++i)
            t.train_step(x, x, i);
        QVERIFY(rec.enabled.count("G_L2"));
        QVERIFY(!rec.enabled["G_L2"]);
        QVERIFY(rec.raw["G_L2"].empty()); // no fake zeros
        QVERIFY(!rec.enabled["G_LAP"]);
        QVERIFY(rec.enabled["G_SOBEL"]);
        QCOMPARE(rec.raw["G_SOBEL"].size(), size_t(2));
    }

    void jsonSpecWithExtraLossTrains()
    {
        QTemporaryDir tmp;
        const std::string file = tmp.path().toStdString() + "/extra_spec.json";
        std::ofstream(file) << R"({
          "schema_version": 1, "name": "test-extra", "description": "pix2pix + an extra MSE on the input",
          "subspecs": ["basic"],
          "losses": [
            {"name": "G_GAN", "function": "BCEWithLogits", "weight": 1.0, "tags": ["G"], "inputs": ["D_fake", "ones"]},
            {"name": "G_L1", "function": "L1", "weight": 100.0, "tags": ["G"], "inputs": ["fake", "real"]},
            {"name": "G_IN", "function": "MSE", "weight": 3.0, "tags": ["G"], "inputs": ["fake", "input"]},
            {"name": "D_real", "function": "BCEWithLogits", "weight": 1.0, "tags": ["D"], "inputs": ["D_real", "ones"]},
            {"name": "D_fake", "function": "BCEWithLogits", "weight": 1.0, "tags": ["D"], "inputs": ["D_fake", "zeros"]}
          ]})";
        SpecRegistry::instance().load_file(file);
        Config c = tiny_config({}, 1, 0);
        c.train.loss.spec = "test-extra";
        Recorder rec;
        Pix2pixTrainer t(c, &rec, nullptr, nullptr, Pix2pixTrainer::Mode::Benchmark);
        t.setup();
        t.on_epoch_start(1);
        auto x = (torch::rand({ 1, 3, 32, 32 }) * 2 - 1).to(testdevice::device());
        auto y = (torch::rand({ 1, 3, 32, 32 }) * 2 - 1).to(testdevice::device());
        t.train_step(x, y, 0);
        QCOMPARE(rec.raw["G_IN"].size(), size_t(1));
        // G_IN = MSE(G(x), x), recomputed from the generator state before the step is not available,
        // but the value must be a plausible MSE of tanh outputs vs inputs in [-1, 1].
        QVERIFY(rec.raw["G_IN"][0] > 0.0f && rec.raw["G_IN"][0] < 4.0f);
        const auto w = t.loss_manager().get_loss_weights({}, -1);
        QCOMPARE(w.at("G_IN"), 3.0);
    }

    void reportsShowTheLoggedValues()
    {
        // One history: the values observers (the GUI's charts) get are the loss log's measured raw values,
        // bit for bit, not raw values derived as weighted / weight (which round differently, e.g. for G_L1 at 100).
        QTemporaryDir tmp;
        Recorder rec;
        Pix2pixTrainer t(tiny_config(tmp.path().toStdString(), 2, 0), &rec);
        const TrainResult r = t.run();
        const LossLogData log = LossLog::read(r.experiment_dir);
        QCOMPARE(rec.raw.size(), std::size_t(4));
        for (const auto& [name, values] : rec.raw) {
            const auto& logged = log.losses.at(name);
            QVERIFY(!logged.raw_derived);
            QCOMPARE(values.size(), logged.raw.size());
            for (std::size_t i = 0; i < values.size(); ++i)
                QVERIFY2(values[i] == logged.raw[i],
                    qPrintable(QStringLiteral("%1[%2]: reported %3, logged %4")
                                   .arg(QString::fromStdString(name))
                                   .arg(i)
                                   .arg(values[i], 0, 'g', 9)
                                   .arg(logged.raw[i], 0, 'g', 9)));
        }
        QCOMPARE(rec.iters.at("G_L1"), (std::vector<std::int64_t> { 0, 1, 2, 3, 4, 5, 6, 7 }));
    }

    void failedStartsLeaveNoRunFolder()
    {
        // Every pre-flight check runs before the experiment folder exists: a missing dataset, missing VGG19
        // weights or a crop too small for D leave no <name>_v<N>, and the next good run gets v1 (it got v4
        // after three failed starts when the folder was created first).
        QTemporaryDir tmp;
        const std::string out = tmp.path().toStdString();
        auto fails = [&](Config c, const std::string& expected) {
            Pix2pixTrainer t(std::move(c));
            try {
                t.setup();
            } catch (const std::exception& e) {
                QVERIFY2(std::string(e.what()).find(expected) != std::string::npos, e.what());
                return;
            }
            QFAIL("setup() did not throw");
        };
        Config missingData = tiny_config(out, 1, 0);
        missingData.dataloader.dataroot = out + "/no-such-dataset";
        fails(missingData, "no-such-dataset");
        QVERIFY(existing_experiment_versions(out, "tiny").empty());
        QVERIFY(!fs::exists(out + "/tiny_v1"));

        Config missingVgg = tiny_config(out, 1, 0);
        missingVgg.train.loss.subspec = "basic+vgg";
        missingVgg.train.loss.vgg_weights = out + "/no-vgg19.pth";
        fails(missingVgg, "no-vgg19.pth");
        QVERIFY(existing_experiment_versions(out, "tiny").empty());

        Config tooSmall = tiny_config(out, 1, 0);
        tooSmall.dataloader.load.load_size = 8;
        tooSmall.dataloader.load.crop_size = 8;
        tooSmall.train.discriminator.n_layers = 3;
        fails(tooSmall, "input size 8");
        QVERIFY(existing_experiment_versions(out, "tiny").empty());
        QVERIFY(fs::is_empty(out)); // nothing at all was written

        Pix2pixTrainer good(tiny_config(out, 1, 0));
        const TrainResult r = good.run();
        QCOMPARE(fs::path(r.experiment_dir).filename().string(), std::string("tiny_v1"));
        QVERIFY(fs::is_regular_file(r.experiment_dir + "/train1_config.json"));
        QVERIFY(fs::is_directory(r.experiment_dir + "/examples"));
        // And a failure after a good run does not take v2 either.
        fails(missingData, "no-such-dataset");
        QCOMPARE(existing_experiment_versions(out, "tiny"), (std::vector<int> { 1 }));
    }

    void firstReportAfterTheFirstIteration()
    {
        // A chart gets its first values after iteration 1, not after `update_rate` iterations; then every
        // update_rate iterations (and at each epoch end).
        struct Reports : TrainingObserver {
            std::vector<std::vector<std::int64_t>> iterations; // G_L1's per report
            void on_progress(const ProgressReport& r) override
            {
                for (const auto& c : r.losses)
                    if (c.name == "G_L1")
                        iterations.push_back(c.iterations);
            }
        } rec;
        QTemporaryDir tmp;
        Config c = tiny_config(tmp.path().toStdString(), 2, 0); // 4 iterations per epoch
        c.train.update_rate = 3;
        Pix2pixTrainer t(c, &rec);
        t.run();
        const std::vector<std::vector<std::int64_t>> expected {
            { 0 }, // after the first iteration
            { 1, 2, 3 }, // 3 later
            {}, // epoch 1's end (nothing new)
            { 4, 5, 6 }, { 7 }, // epoch 2's end
        };
        QCOMPARE(rec.iterations, expected);
    }

    void runRecordsItsObjective()
    {
        // The objective a run trains (here a preset's G_L1 = 50 over the config's lambda_l1 = 100, then a live
        // edit) is written next to the config copy, and reads back as a preset.
        QTemporaryDir tmp;
        Config c = tiny_config(tmp.path().toStdString(), 1, 0);
        Preset p;
        p.name = "table";
        p.losses["G_L1"].weight = 50.0;
        p.losses["G_GAN"].schedule = Schedule::linear(1, 3, 0.0, 1.0);
        TrainingControl control;
        control.set_loss_tags("D_fake", { "D", "fake" }); // applied before the first iteration
        const Objective objective = resolve_objective(c, &p, "table");
        Pix2pixTrainer t(c, nullptr, &control, &objective);
        t.setup();
        const std::string record = t.experiment_dir() + "/train1_objective.json";
        QCOMPARE(latest_objective_copy_path(t.experiment_dir()), record);
        const Preset before = load_preset_file(record);
        QCOMPARE(before.spec, std::string("pix2pix"));
        QCOMPARE(before.subspec, std::string("basic"));
        QCOMPARE(before.losses.size(), std::size_t(4));
        QCOMPARE(*before.losses.at("G_L1").weight, 50.0);
        QCOMPARE(*before.losses.at("D_real").weight, 1.0);
        QCOMPARE(before.losses.at("G_GAN").schedule->end_epoch, 3);
        QCOMPARE(*before.losses.at("D_fake").tags, (std::vector<std::string> { "D" }));
        t.run();
        const Preset after = load_preset_file(record);
        QCOMPARE(*after.losses.at("D_fake").tags, (std::vector<std::string> { "D", "fake" }));
        QCOMPARE(*after.losses.at("G_L1").weight, 50.0);
        // The config copy still says what the config said: the record is what was trained.
        QCOMPARE(load_config_file(t.experiment_dir() + "/train1_config.json").train.loss.lambda_l1, 100.0);
        // Built from the record, the objective is the one trained.
        Config back = load_config_file(t.experiment_dir() + "/train1_config.json");
        apply_preset_to_config(after, back, record);
        auto losses = SpecRegistry::instance().build(back.train.loss.spec, back.train.loss.subspec, back);
        apply_preset_to_losses(after, losses, record);
        QCOMPARE(losses.at("G_L1").weight_at(1), 50.0);
        QCOMPARE(losses.at("G_GAN").weight_at(1), 0.0);
    }

    void presetAppliesAndReportsErrors()
    {
        QTemporaryDir tmp;
        const std::string file = tmp.path().toStdString() + "/p.json";
        Preset p;
        p.name = "sharp";
        p.spec = "pix2pix";
        p.subspec = "extended";
        p.losses["G_SOBEL"].weight = 5.0;
        p.losses["G_SOBEL"].schedule = Schedule::linear(1, 4, 0.0, 5.0);
        p.losses["G_L1"].tags = std::vector<std::string> { "G", "structure" };
        p.config = { { "train", { { "generator", { { "features", 16 } } } } } };
        save_preset_file(p, file);
        const Preset q = load_preset_file(file);
        QCOMPARE(preset_to_json(q), preset_to_json(p));

        Config c;
        apply_preset_to_config(q, c, file);
        QCOMPARE(c.train.loss.subspec, std::string("extended"));
        QCOMPARE(c.train.generator.features, 16);
        auto losses = SpecRegistry::instance().build(c.train.loss.spec, c.train.loss.subspec, c);
        apply_preset_to_losses(q, losses, file);
        QCOMPARE(losses.at("G_SOBEL").weight_at(1), 0.0);
        QCOMPARE(losses.at("G_SOBEL").weight_at(4), 5.0);
        QCOMPARE(losses.at("G_L1").tags, (std::vector<std::string> { "G", "structure" }));

        // Errors name the file, the JSON path and the value.
        std::ofstream(file) << R"({"format": "nectar-preset", "losses": {"G_L1": {"weight": -3}}})";
        try {
            load_preset_file(file);
            QFAIL("expected PresetError");
        } catch (const PresetError& e) {
            const QString m = QString::fromStdString(e.what());
            QVERIFY2(m.contains(QString::fromStdString(file)) && m.contains(QStringLiteral("/losses/G_L1/weight"))
                    && m.contains(QStringLiteral("-3")),
                e.what());
        }
        Preset unknown;
        unknown.losses["G_NOPE"].weight = 1.0;
        try {
            apply_preset_to_losses(unknown, losses, "x.json");
            QFAIL("expected PresetError");
        } catch (const PresetError& e) {
            QVERIFY2(QString::fromStdString(e.what()).contains(QStringLiteral("G_SOBEL")), e.what());
        }
    }
};

QTEST_GUILESS_MAIN(TestTrainer)
#include "tst_trainer.moc"
