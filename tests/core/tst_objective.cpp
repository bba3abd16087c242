// SPDX-License-Identifier: Apache-2.0
// The objective as a whole (objective/objective.h): resolving a spec with a preset into LossSpec values, and
// the run's record of it. Trainer runs that write and continue the record are in tst_trainer and tst_cli.
#include <QtTest/QtTest>

#include <algorithm>

#include <nlohmann/json.hpp>

#include "config/config.h"
#include "objective/objective.h"
#include "objective/preset.h"

using namespace nectar;

class TestObjective : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void objectiveResolvesWithoutBuildingAndRecordsRoundTrip()
    {
        // LossSpec values need no function built: a +vgg objective resolves without the VGG19 file.
        Config c;
        c.train.loss.subspec = "extended+vgg";
        c.train.loss.vgg_weights = "/nonexistent/vgg19.pth";
        Preset p;
        p.losses["G_SOBEL"].weight = 5.0;
        p.losses["G_SOBEL"].schedule = Schedule::linear(1, 4, 0.0, 5.0);
        p.losses["G_L1"].tags = std::vector<std::string> { "G", "structure" };
        const Objective o = resolve_objective(c, &p, "p.json");
        QCOMPARE(o.losses.size(), std::size_t(8));
        const auto find = [](const Objective& obj, const std::string& name) {
            return *std::find_if(
                obj.losses.begin(), obj.losses.end(), [&](const LossSpec& l) { return l.name == name; });
        };
        QCOMPARE(find(o, "G_VGG").function, std::string("VGGPerceptual"));
        QCOMPARE(find(o, "G_SOBEL").weight, 5.0);
        QCOMPARE(find(o, "G_L1").tags, (std::vector<std::string> { "G", "structure" }));
        QVERIFY(find(o, "G_GAN").inputs == (LossInputs { Operand::DFake, Operand::Ones }));
        // The record (a preset of every loss) resolves back to the same objective.
        const Preset record = preset_from_json(preset_to_json(objective_record(o)));
        const Objective back = resolve_objective(c, &record, "record");
        QCOMPARE(back.losses.size(), o.losses.size());
        for (const LossSpec& l : o.losses) {
            const LossSpec b = find(back, l.name);
            QCOMPARE(b.function, l.function);
            QCOMPARE(b.weight, l.weight);
            QCOMPARE(b.tags, l.tags);
            QVERIFY(b.inputs == l.inputs);
            QCOMPARE(b.schedule.kind, l.schedule.kind);
            QCOMPARE(b.schedule.value_at(3), l.schedule.value_at(3));
        }
        // A loss the spec does not declare is an error naming the source.
        Preset extra;
        extra.losses["G_NOPE"].weight = 1.0;
        try {
            resolve_objective(c, &extra, "x.json");
            QFAIL("expected PresetError");
        } catch (const PresetError& e) {
            QVERIFY2(QString::fromStdString(e.what()).contains(QStringLiteral("x.json: /losses/G_NOPE")), e.what());
        }
    }

    void presetTyposAreErrors_data()
    {
        QTest::addColumn<QByteArray>("preset");
        QTest::addColumn<QString>("path");
        // Issue #10, item 1: each of these used to train another objective without a word.
        QTest::newRow("top-level typo") << QByteArray(R"({"format": "nectar-preset", "subpsec": "extended"})")
                                        << QStringLiteral("/subpsec");
        QTest::newRow("losses typo") << QByteArray(R"({"loses": {"G_L1": {"weight": 5}}})") << QStringLiteral("/loses");
        QTest::newRow("unknown config section")
            << QByteArray(R"({"config": {"train": {"generatr": {"features": 16}}}})")
            << QStringLiteral("/config/train/generatr");
        QTest::newRow("misspelt lambda") << QByteArray(R"({"config": {"train": {"loss": {"lamda_l1": 5}}}})")
                                         << QStringLiteral("/config/train/loss/lamda_l1");
    }

    void presetTyposAreErrors()
    {
        QFETCH(QByteArray, preset);
        QFETCH(QString, path);
        try {
            const Preset p = preset_from_json(nlohmann::json::parse(preset.toStdString()), "typo.json");
            Config c;
            apply_preset_to_config(p, c, "typo.json");
            QFAIL("expected PresetError");
        } catch (const PresetError& e) {
            const QString m = QString::fromStdString(e.what());
            QVERIFY2(m.startsWith(QStringLiteral("typo.json: ")) && m.contains(path), e.what());
        }
        // A known extra weight (lambda_<name>, for JSON specs) is still accepted.
        const Preset ok
            = preset_from_json(nlohmann::json::parse(R"({"config": {"train": {"loss": {"lambda_foo": 2}}}})"));
        Config c;
        apply_preset_to_config(ok, c, "ok.json");
        QCOMPARE(c.train.loss.extra.at("lambda_foo"), 2.0);
    }
};

QTEST_GUILESS_MAIN(TestObjective)
#include "tst_objective.moc"
