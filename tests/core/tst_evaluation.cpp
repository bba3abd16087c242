// SPDX-License-Identifier: Apache-2.0
// The tester's metrics (evaluation/tester.h); whole test runs are in tests/integration/tst_cli.cpp.
#include <QtTest/QtTest>

#include <cmath>

#include <QTemporaryDir>

#include <torch/torch.h>

#include "config/config.h"
#include "evaluation/tester.h"
#include "models/unet.h"
#include "training/checkpoint.h"

using namespace nectar;

namespace {
Config small_config(int features)
{
    Config c;
    c.dataloader.load.load_size = 32;
    c.dataloader.load.crop_size = 32;
    c.train.generator.features = features;
    c.train.generator.n_downs = 3;
    return c;
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
    }

    void generatedImageIsClampedLikeAPng()
    {
        // 3.0 is saved as white (1.0): against a white target nothing differs.
        const auto m = image_metrics(torch::full({ 1, 3, 2, 2 }, 3.0), torch::ones({ 1, 3, 2, 2 }));
        QCOMPARE(m.l1, 0.0);
        QCOMPARE(m.mse, 0.0);
        QVERIFY(std::isinf(m.psnr_db) && m.psnr_db > 0);
    }

    void checkpointOfAnotherModelSizeIsNamed()
    {
        // Issue #10, item 8: nectar-test on a checkpoint of another model size printed a raw LibTorch shape
        // error (LibTorch's Module::load takes the saved shapes without a check). Now: a CheckpointError that
        // names the file, the parameter, both shapes and the config keys to check.
        QTemporaryDir tmp;
        const std::string dir = tmp.path().toStdString();
        {
            UnetGenerator saved(unet_options_from_config(small_config(8)));
            torch::serialize::OutputArchive ar, model, optim;
            saved->save(model);
            ar.write("model", model);
            ar.write("optimizer", optim);
            ar.save_to(checkpoint_file(dir, 1, "netG"));
        }
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
        // The tester reports it the same way, before it touches any data.
        TestOptions options;
        options.experiment_dir = dir;
        options.epoch = 1;
        QVERIFY_THROWS_EXCEPTION(CheckpointError, run_test(other, options));
    }
};

QTEST_GUILESS_MAIN(TestEvaluation)
#include "tst_evaluation.moc"
