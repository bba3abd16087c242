// SPDX-License-Identifier: Apache-2.0
// FusedAdam (training/fused_adam.h) against torch::optim::Adam, on the test device.
#include <QtTest/QtTest>

#include <torch/torch.h>

#include "training/fused_adam.h"
#include "util/torch_compat.h"

#include "test_device.h"

using namespace nectar;

class TestFusedAdam : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void initTestCase() { NECTAR_REQUIRE_TEST_DEVICE(); }

    void fusedAdamMatchesTorchAdam_data()
    {
        QTest::addColumn<double>("weight_decay");
        QTest::addColumn<bool>("amsgrad");
        QTest::newRow("single-pass kernel") << 0.0 << false; // the path every pix2pix parameter takes
        QTest::newRow("ATen ops: weight decay") << 0.01 << false;
        QTest::newRow("ATen ops: amsgrad") << 0.0 << true;
    }

    void fusedAdamMatchesTorchAdam()
    {
        QFETCH(double, weight_decay);
        QFETCH(bool, amsgrad);
        // 70001 elements: a tail that no vector width divides, and several parallel_for chunks. On CUDA every
        // row takes the ATen-ops path (the single-pass kernel is CPU code), as the trainer does there.
        torch::manual_seed(5);
        const auto& dev = testdevice::device();
        std::vector<torch::Tensor> a { torch::randn({ 70001 }).to(dev), torch::randn({ 3, 5 }).to(dev) }, b;
        for (const auto& t : a)
            b.push_back(t.clone());
        for (auto& t : a)
            t.requires_grad_(true);
        for (auto& t : b)
            t.requires_grad_(true);
        const auto opts
            = torch::optim::AdamOptions(2e-3).betas({ 0.5, 0.999 }).weight_decay(weight_decay).amsgrad(amsgrad);
        FusedAdam fused(a, opts);
        torch::optim::Adam plain(b, opts);
        for (int step = 0; step < 6; ++step) {
            for (std::size_t k = 0; k < a.size(); ++k) {
                const auto g = torch::randn(a[k].sizes()).to(dev) * (step % 2 ? 10.0 : 0.01);
                a[k].mutable_grad() = g.clone();
                b[k].mutable_grad() = g.clone();
            }
            fused.step();
            plain.step();
        }
        for (std::size_t k = 0; k < a.size(); ++k) {
            QVERIFY(!torch::equal(a[k], torch::zeros_like(a[k]))); // moved
            QVERIFY2(torch::allclose(a[k], b[k], 1e-5, 1e-7),
                qPrintable(
                    QStringLiteral("param %1: max diff %2").arg(k).arg((a[k] - b[k]).abs().max().item<double>())));
            // Same state layout as torch::optim::Adam (checkpoints interchange).
            const auto key = compat::optimizer_state_key(a[k]);
            const auto& st = static_cast<torch::optim::AdamParamState&>(*fused.state().at(key));
            const auto key_b = compat::optimizer_state_key(b[k]);
            const auto& st_b = static_cast<torch::optim::AdamParamState&>(*plain.state().at(key_b));
            QCOMPARE(st.step(), st_b.step());
            QVERIFY(torch::allclose(st.exp_avg_sq(), st_b.exp_avg_sq(), 1e-5, 1e-9));
        }
    }
};

QTEST_GUILESS_MAIN(TestFusedAdam)
#include "tst_fused_adam.moc"
