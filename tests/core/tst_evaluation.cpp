// SPDX-License-Identifier: Apache-2.0
// The tester's metrics (evaluation/tester.h); whole test runs are in tests/integration/tst_cli.cpp.
#include <QtTest/QtTest>

#include <cmath>

#include <torch/torch.h>

#include "evaluation/tester.h"

using namespace nectar;

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
};

QTEST_GUILESS_MAIN(TestEvaluation)
#include "tst_evaluation.moc"
