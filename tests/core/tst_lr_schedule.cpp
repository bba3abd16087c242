// SPDX-License-Identifier: Apache-2.0
// Learning-rate schedule of the pix2pix trainer against NectarGAN's c_lr_schedule, and experiment folders.

#include <QtTest/QtTest>

#include <fstream>

#include <nlohmann/json.hpp>

#include "config/config.h"
#include "scheduling/lr_schedule.h"

using namespace nectar;

class TestLrSchedule : public QObject {
    Q_OBJECT

private:
    nlohmann::json m_ref;

private Q_SLOTS:
    void initTestCase()
    {
        std::ifstream in(std::string(NECTAR_TEST_DATA_DIR) + "/reference/nectargan_reference.json");
        QVERIFY(in.good());
        in >> m_ref;
        QVERIFY(m_ref.contains("c_lr_schedule"));
    }

    void matchesReference_data()
    {
        QTest::addColumn<QString>("key");
        QTest::newRow("default_100_100") << QStringLiteral("default_100_100");
        QTest::newRow("epochs3_decay4") << QStringLiteral("epochs3_decay4");
    }

    void matchesReference()
    {
        QFETCH(QString, key);
        const auto& r = m_ref["c_lr_schedule"][key.toStdString()];
        LearningRateConfig c;
        c.epochs = r["config"]["epochs"];
        c.epochs_decay = r["config"]["epochs_decay"];
        c.initial = r["config"]["initial"];
        c.target = r["config"]["target"];
        const LrSchedule s(c);
        const auto lrs = r["lr_during_epoch"].get<std::vector<double>>();
        QCOMPARE(s.total_epochs(), int(lrs.size()));
        QCOMPARE(s.total_epochs(), r["n_epochs_trained"].get<int>());
        for (size_t k = 0; k < lrs.size(); ++k) {
            const double got = s.lr_at(int(k) + 1);
            if (got != lrs[k]) // bit-exact: same double operations as NectarGAN
                QFAIL(qPrintable(
                    QStringLiteral("epoch %1: %2 != %3").arg(k + 1).arg(got, 0, 'g', 17).arg(lrs[k], 0, 'g', 17)));
        }
        QCOMPARE(s.lr_at(s.total_epochs() + 1), r["lr_after_training"].get<double>());
    }

    void zeroDecayIsConstant()
    {
        LearningRateConfig c;
        c.epochs = 5;
        c.epochs_decay = 0;
        const LrSchedule s(c);
        QCOMPARE(s.total_epochs(), 5);
        for (int e = 1; e <= 5; ++e)
            QVERIFY(s.lr_at(e) == 0.0002);
    }

    void zeroConstantEpochsDecaysFromTheStart()
    {
        LearningRateConfig c;
        c.epochs = 0;
        c.epochs_decay = 4;
        const LrSchedule s(c);
        QCOMPARE(s.total_epochs(), 4);
        double prev = 1.0;
        for (int e = 1; e <= 4; ++e) {
            const double lr = s.lr_at(e);
            QVERIFY(std::isfinite(lr));
            QVERIFY(lr < prev);
            QVERIFY(lr > 0.0);
            prev = lr;
        }
        // initial * (1 - e / (decay + 1))
        QVERIFY(qAbs(s.lr_at(1) - 0.0002 * (1.0 - 1.0 / 5.0)) < 1e-18);
    }

    void bothZeroIsAnError()
    {
        LearningRateConfig c;
        c.epochs = 0;
        c.epochs_decay = 0;
        try {
            LrSchedule s(c, "train.generator.learning_rate");
            QFAIL("expected std::invalid_argument");
        } catch (const std::invalid_argument& e) {
            QVERIFY(QString::fromStdString(e.what()).contains(QStringLiteral("train.generator.learning_rate.epochs")));
        }
    }

    void negativeValuesAreErrors()
    {
        LearningRateConfig c;
        c.epochs_decay = -1;
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, LrSchedule { c });
        LearningRateConfig d;
        d.initial = std::nan("");
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, LrSchedule { d });
    }

    void separateSchedules()
    {
        TrainConfig t;
        t.generator.learning_rate = { 2, 2, 0.0002, 0.0 };
        t.discriminator.learning_rate = { 1, 1, 0.001, 0.0 };
        t.separate_lr_schedules = false;
        auto shared = make_lr_schedules(t);
        QVERIFY(shared.discriminator.lr_at(1) == 0.0002);
        QVERIFY(shared.discriminator.lr_at(3) == shared.generator.lr_at(3));
        t.separate_lr_schedules = true;
        auto separate = make_lr_schedules(t);
        QVERIFY(separate.discriminator.lr_at(1) == 0.001);
        QVERIFY(separate.discriminator.lr_at(2) < 0.001);
        QCOMPARE(separate.total_epochs(), 4); // the generator's plan
    }
};

QTEST_GUILESS_MAIN(TestLrSchedule)
#include "tst_lr_schedule.moc"
