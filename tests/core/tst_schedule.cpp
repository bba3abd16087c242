// SPDX-License-Identifier: Apache-2.0
// Schedules against NectarGAN's golden values (reference section b_schedules), with the fixes:
// our 1-based epoch e + 1 equals NectarGAN's epoch e (it shifts user epochs one early),
// start == end is a step, each loss has its own schedule, history logs the applied weight.
#include <cmath>
#include <fstream>

#include <QtTest/QtTest>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "losses/loss_manager.h"
#include "reference_data.h"
#include "scheduling/schedule.h"

using namespace nectar;
using nlohmann::json;

namespace {
using testdata::formula;
using testdata::reference;

// Our Schedule for NectarGAN's Schedule(**kwargs); NectarGAN's defaults are start 0, init 1, target 1.
Schedule from_kwargs(const json& kw)
{
    const int start = kw.value("start_epoch", 0);
    const int end = kw.value("end_epoch", 10000000);
    const double init = kw.value("initial_value", 1.0), target = kw.value("target_value", 1.0);
    const std::string kind = kw.value("schedule", "linear");
    return kind == "exponential" ? Schedule::exponential(start, end, init, target)
                                 : Schedule::linear(start, end, init, target);
}

bool close(double a, double b, double rel = 1e-12)
{
    return std::abs(a - b) <= rel * std::max(1.0, std::max(std::abs(a), std::abs(b)));
}
} // namespace

class TestSchedule : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase() { torch::set_num_threads(1); }

    void nectarganValuesShiftedByOneEpoch()
    {
        const json ref = reference()["b_schedules"];
        int checked = 0;
        for (const auto& sc : ref["schedules"]) {
            const std::string name = sc["name"];
            if (name.rfind("default_", 0) == 0 || name.find("degenerate") != std::string::npos)
                continue;
            const Schedule s = from_kwargs(sc["Schedule_kwargs"]);
            const std::string kind = sc["Schedule_kwargs"]["schedule"];
            const json& values = sc["ScheduleDefs." + kind + "(schedule, epoch)"];
            const auto epochs = sc["epochs"].get<std::vector<int>>();
            for (size_t k = 0; k < epochs.size(); ++k) {
                const double ours = s.value_at(epochs[k] + 1);
                const double theirs = values[k];
                if (!close(ours, theirs))
                    QFAIL(qPrintable(QStringLiteral("%1 epoch %2: ours %3, NectarGAN (epoch %4) %5")
                                         .arg(QString::fromStdString(name))
                                         .arg(epochs[k] + 1)
                                         .arg(ours, 0, 'g', 17)
                                         .arg(epochs[k])
                                         .arg(theirs, 0, 'g', 17)));
                ++checked;
            }
        }
        QCOMPARE(checked, 6 * 26);
    }

    void epochsMeanWhatTheySay()
    {
        // "start 10, end 20": initial up to and including epoch 10, target at 20 (NectarGAN: 0.9 at 10, 0 at 19).
        const Schedule s = Schedule::linear(10, 20, 1.0, 0.0);
        QCOMPARE(s.value_at(1), 1.0);
        QCOMPARE(s.value_at(10), 1.0);
        QVERIFY(close(s.value_at(11), 0.9));
        QVERIFY(close(s.value_at(15), 0.5));
        QVERIFY(s.value_at(19) > 0.05);
        QCOMPARE(s.value_at(20), 0.0);
        QCOMPARE(s.value_at(30), 0.0);
        const Schedule e = Schedule::exponential(5, 15, 0.0, 10.0);
        QCOMPARE(e.value_at(5), 1e-9); // zero-value epsilon rule
        QCOMPARE(e.value_at(15), 10.0);
        QVERIFY(close(e.value_at(10), 1e-9 * std::pow(1e10, 0.5)));
        Schedule strict = e;
        strict.allow_zero_weights = false;
        QVERIFY(
            std::isnan(strict.value_at(10)) || strict.value_at(10) == 0.0); // 0 * (10/0)^s: NectarGAN formula unguarded
    }

    void startEqualsEndIsAStep()
    {
        // NectarGAN raises ZeroDivisionError for every epoch of linear_3_3.
        const json ref = reference()["b_schedules"];
        bool found = false;
        for (const auto& sc : ref["schedules"])
            if (sc["name"] == "linear_3_3_degenerate_start_eq_end") {
                found = true;
                QVERIFY(sc["ScheduleDefs.linear(schedule, epoch)"][0].get<std::string>().find("ZeroDivisionError")
                    != std::string::npos);
            }
        QVERIFY(found);
        for (auto s : { Schedule::linear(3, 3, 2.0, 0.5), Schedule::exponential(3, 3, 2.0, 0.5) }) {
            QCOMPARE(s.value_at(1), 2.0);
            QCOMPARE(s.value_at(2), 2.0);
            QCOMPARE(s.value_at(3), 0.5);
            QCOMPARE(s.value_at(4), 0.5);
            QCOMPARE(s.value_at(100), 0.5);
        }
    }

    void lossManagerAppliesAndLogsScheduledWeight()
    {
        const json ref = reference()["b_schedules"];
        const json raw_ref = ref["raw_L1_used_for_compute_loss_xy"];
        const auto x = formula(raw_ref["x"]), y = formula(raw_ref["y"]);
        QCOMPARE(torch::nn::functional::l1_loss(x, y).item<float>(), raw_ref["value"].get<float>());
        for (const auto& sc : ref["schedules"]) {
            const std::string name = sc["name"];
            if (name.find("degenerate") != std::string::npos)
                continue;
            const bool unscheduled = name.rfind("default_", 0) == 0;
            LossManager lm(Config {}, {}, /*enable_logging=*/false);
            torch::nn::L1Loss l1;
            lm.register_loss_fn(
                "L", [l1](const torch::Tensor& a, const torch::Tensor& b) mutable { return l1(a, b); },
                sc["LMLoss_loss_weight_arg"].get<double>(),
                unscheduled ? Schedule {} : from_kwargs(sc["Schedule_kwargs"]));
            const auto epochs = sc["epochs"].get<std::vector<int>>();
            for (size_t k = 0; k < epochs.size(); ++k) {
                const float returned = lm.compute_loss_xy("L", x, y, epochs[k] + 1).item<float>();
                const float expected = sc["compute_loss_xy_returned"][k].get<float>();
                QVERIFY2(returned == expected || close(returned, expected, 1e-6),
                    qPrintable(QStringLiteral("%1 epoch %2: %3 vs %4")
                                   .arg(QString::fromStdString(name))
                                   .arg(epochs[k] + 1)
                                   .arg(returned, 0, 'g', 9)
                                   .arg(expected, 0, 'g', 9)));
            }
            // History logs the weight actually applied (NectarGAN logs the frozen initial value).
            const LMHistory h = lm.history("L");
            QCOMPARE(h.weights.size(), epochs.size());
            for (size_t k = 0; k < epochs.size(); ++k) {
                const double applied = sc["LossManager_weight_loss_current_value"][k];
                QCOMPARE(h.weights[k], float(applied));
                QCOMPARE(h.losses[k], raw_ref["value"].get<float>()); // raw value
            }
            if (name == "linear_10_20_1_to_0") {
                QCOMPARE(sc["history_weight_logged"][15].get<double>(), 1.0); // NectarGAN's frozen weight
                QVERIFY(h.weights[15] < 0.5f); // ours: applied weight
            }
        }
    }

    void ownScheduleForEveryLoss()
    {
        // NectarGAN: A (weight 100) and B (weight 1) share one default Schedule -> both return 1.0.
        const json shared = reference()["b_schedules"]["register_loss_fn_shared_default_schedule"];
        QCOMPARE(shared["A_returned"].get<double>(), 1.0);
        QVERIFY(shared["same_schedule_object"].get<bool>());
        LossManager lm(Config {}, {}, false);
        auto l1 = [](const torch::Tensor& a, const torch::Tensor& b) { return torch::nn::functional::l1_loss(a, b); };
        lm.register_loss_fn("A", l1, 100.0);
        lm.register_loss_fn("B", l1, 1.0);
        const auto ones = torch::ones({ 1, 1, 2, 2 }), zeros = torch::zeros({ 1, 1, 2, 2 });
        QCOMPARE(lm.compute_loss_xy("A", ones, zeros, 1).item<float>(), 100.0f);
        QCOMPARE(lm.compute_loss_xy("B", ones, zeros, 1).item<float>(), 1.0f);
        const auto w = lm.get_loss_weights();
        QCOMPARE(w.at("A"), 100.0);
        QCOMPARE(w.at("B"), 1.0);
        // Two losses registered with copies of one scheduled object stay independent.
        Schedule s = Schedule::linear(1, 3, 4.0, 2.0);
        lm.register_loss_fn("C", l1, 1.0, s);
        lm.register_loss_fn("D", l1, 1.0, s);
        lm.compute_loss_xy("C", ones, zeros, 3);
        QCOMPARE(lm.get_loss_weights().at("C"), 2.0);
        QCOMPARE(lm.get_loss_weights().at("D"), 4.0);
    }

    void validationAndJson()
    {
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, Schedule::linear(5, 3, 1, 0).validate());
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, Schedule::linear(1, 3, -1, 0).validate());
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, Schedule::linear(1, 3, NAN, 0).validate());
        // Weights have a documented maximum, 1e6 (issue #10, item 8: 1e308 trained NaNs).
        QVERIFY(is_valid_weight(1e6));
        QVERIFY(!is_valid_weight(1.000001e6));
        QVERIFY(!is_valid_weight(1e308));
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, Schedule::linear(1, 3, 1, 1e308).validate());
        try {
            Schedule::linear(5, 3, 1, 0).validate();
        } catch (const std::invalid_argument& e) {
            QVERIFY(std::string(e.what()).find("end_epoch") != std::string::npos);
        }
        Schedule custom = Schedule::custom_fn([](const Schedule&, int e) { return 0.5 * e; }, 1, 2, 0, 1);
        QCOMPARE(custom.value_at(4), 2.0);
        QCOMPARE(custom.step(6), 3.0);
        QCOMPARE(custom.current_value, 3.0);
        Schedule no_fn;
        no_fn.kind = Schedule::Kind::Custom;
        QVERIFY_THROWS_EXCEPTION(std::logic_error, no_fn.value_at(1));

        const Schedule s = Schedule::exponential(2, 9, 1.0, 0.01);
        nlohmann::json j = s;
        QCOMPARE(j["schedule"].get<std::string>(), std::string("exponential"));
        const Schedule back = j.get<Schedule>();
        QCOMPARE(back.kind, s.kind);
        QCOMPARE(back.start_epoch, 2);
        QCOMPARE(back.end_epoch, 9);
        QCOMPARE(back.value_at(5), s.value_at(5));
        QCOMPARE(nlohmann::json(Schedule {})["schedule"].get<std::string>(), std::string("none"));
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, (void)nlohmann::json(custom));
        try {
            (void)nlohmann::json { { "schedule", "cosine" } }.get<Schedule>();
            QFAIL("expected an error");
        } catch (const std::invalid_argument& e) {
            QVERIFY(std::string(e.what()).find("linear, exponential") != std::string::npos);
        }
        QCOMPARE(Schedule::kind_from_name("linear"), Schedule::Kind::Linear);
        QCOMPARE(Schedule::kind_names().size(), size_t(4));
    }
};

QTEST_GUILESS_MAIN(TestSchedule)
#include "tst_schedule.moc"
