// SPDX-License-Identifier: Apache-2.0
// The objective as a whole (objective/objective.h): resolving a spec with a preset into LossSpec values, and
// the run's record of it. Trainer runs that write and continue the record are in tst_trainer and tst_cli.
#include <QDir>
#include <QTemporaryDir>
#include <QtTest/QtTest>

#include <algorithm>
#include <fstream>

#include <nlohmann/json.hpp>

#include "config/config.h"
#include "objective/objective.h"
#include "objective/preset.h"
#include "objective/spec_registry.h"

using namespace nectar;

namespace {

void write_text(const std::string& path, const std::string& text)
{
    std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
}

bool contains(const std::string& haystack, const std::string& needle)
{
    return haystack.find(needle) != std::string::npos;
}

/// The PresetError load_preset_file gives for `text` (written to `name` in `dir`).
std::string preset_error(const QTemporaryDir& dir, const QString& name, const std::string& text)
{
    const std::string file = dir.filePath(name).toStdString();
    write_text(file, text);
    try {
        const Preset p = load_preset_file(file);
        Config c;
        apply_preset_to_config(p, c, file);
    } catch (const PresetError& e) {
        return e.what();
    }
    return "no error";
}

} // namespace

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
    // #10 item 1: a loss of the spec that the preset does not list keeps its weight: a warning names the preset,
    // the loss and the weight; a preset without losses gets one line; a record of every loss gets none.
    void unlistedLossesWarn()
    {
        Config c;
        c.train.loss.subspec = "extended";
        Preset p;
        p.losses["G_L1"].weight = 50.0;
        p.losses["D_real"].weight = 1.0;
        p.losses["D_fake"].weight = 1.0;
        p.losses["G_GAN"].weight = 1.0;
        std::vector<std::string> warnings;
        const Objective o = resolve_objective(c, &p, "p.json", &warnings);
        QCOMPARE(warnings,
            (std::vector<std::string> {
                "p.json: /losses: no entry for G_L2; it keeps weight 0 from the spec and the config",
                "p.json: /losses: no entry for G_SOBEL; it keeps weight 0 from the spec and the config",
                "p.json: /losses: no entry for G_LAP; it keeps weight 0 from the spec and the config" }));
        // The same through the built-loss form the GUI uses.
        auto built = SpecRegistry::instance().build("pix2pix", "extended", c);
        warnings.clear();
        apply_preset_to_losses(p, built, "p.json", &warnings);
        QCOMPARE(warnings.size(), std::size_t(3));
        QCOMPARE(built.at("G_L1").loss_weight, 50.0);
        // No losses at all: one line listing what every loss keeps.
        warnings.clear();
        const Preset settings_only;
        resolve_objective(Config {}, &settings_only, "s.json", &warnings);
        QCOMPARE(warnings,
            (std::vector<std::string> { "s.json: /losses: the preset sets no loss weights; every loss "
                                        "keeps its weight from the spec and the config (G_GAN 1, G_L1 "
                                        "100, D_real 1, D_fake 1)" }));
        // A record lists every loss: nothing to say.
        warnings.clear();
        const Preset record = objective_record(o);
        resolve_objective(c, &record, "record", &warnings);
        QVERIFY(warnings.empty());
        // The bundled presets list every loss of their subspec.
        for (const char* name : { "pix2pix-basic-quick.json", "pix2pix-extended-sharp.json" }) {
            const std::string file = std::string(NECTAR_TEST_DATA_DIR) + "/../../specs/presets/" + name;
            const Preset bundled = load_preset_file(file);
            Config base;
            apply_preset_to_config(bundled, base, file);
            warnings.clear();
            resolve_objective(base, &bundled, file, &warnings);
            QVERIFY2(warnings.empty(), warnings.empty() ? "" : warnings.front().c_str());
        }
    }

    // #10 items 5, 7, 8 and the reading policy, through load_preset_file (the file path nectar-train and the GUI use).
    void hostilePresetFilesAreBoundedErrors()
    {
        QTemporaryDir dir;
        // 10^5-deep "config" used to overflow the stack in the copy / merge.
        std::string deep;
        for (int i = 0; i < 100000; ++i)
            deep += "{\"a\":";
        deep += "1" + std::string(100000, '}');
        std::string e = preset_error(dir, QStringLiteral("deep.json"), R"({"config": )" + deep + "}");
        QVERIFY2(contains(e, "deep.json: /config/a/a/a/") && contains(e, "nested deeper than 512"), e.c_str());
        // Not an object, under the cap: the value is echoed as an 80-character excerpt, not whole.
        std::string chunk = "[0";
        for (int i = 1; i < 60000; ++i)
            chunk += ",0";
        chunk += "]";
        std::string array = "[" + chunk;
        for (int k = 1; k < 25; ++k)
            array += "," + chunk; // 3 MB, 1.5 M numbers in arrays under the element cap
        e = preset_error(dir, QStringLiteral("array.json"), array + "]");
        QVERIFY2(contains(e, "array.json: /: expected a JSON object, got [[0,0,0,"), e.c_str());
        QVERIFY2(e.size() < 300, e.substr(0, 300).c_str());
        // Over the cap (a 200 MB preset was echoed whole to stderr): refused by its size.
        e = preset_error(dir, QStringLiteral("huge.json"), array + "," + array.substr(1) + "]");
        QVERIFY2(contains(e, "huge.json: ") && contains(e, "more than the 4 MiB limit for a preset file"), e.c_str());
        QVERIFY(e.size() < 300);
        // A folder, and a number that overflows a double (named by its path).
        QVERIFY(QDir(dir.path()).mkdir(QStringLiteral("folder.json")));
        try {
            load_preset_file(dir.filePath(QStringLiteral("folder.json")).toStdString());
            QFAIL("expected PresetError");
        } catch (const PresetError& err) {
            QVERIFY2(contains(err.what(), "folder.json: is a folder, expected a preset file"), err.what());
        }
        e = preset_error(dir, QStringLiteral("inf.json"), R"({"losses": {"G_L1": {"weight": 1e309}}})");
        QVERIFY2(contains(e, "inf.json: /losses/G_L1/weight: number out of range"), e.c_str());
        // A misspelt schedule key used to keep its default silently.
        e = preset_error(dir, QStringLiteral("sched.json"),
            R"({"losses": {"G_L1": {"schedule": {"schedule": "linear", "start_epch": 3, "end_epoch": 5}}}})");
        QVERIFY2(contains(e, "sched.json: /losses/G_L1/schedule") && contains(e, "start_epch: unknown key"), e.c_str());
        // Keys echoed in messages are bounded and printable.
        e = preset_error(dir, QStringLiteral("key.json"), "{\"" + std::string(5000, 'k') + "\\u0000\": 1}");
        QVERIFY2(contains(e, "key.json: /kkkk") && contains(e, "unknown key") && e.size() < 400, e.c_str());
    }

    // The fuzzers' entry point lets only PresetError out.
    void presetFromTextThrowsOnlyPresetError()
    {
        for (const std::string text : { std::string("{"), std::string("[]"), std::string(R"({"version": "1"})"),
                 std::string(R"({"losses": {"G": {"tags": [1]}}})"),
                 std::string(R"({"losses": {"G": {"schedule": 5}}})"), std::string(R"({"config": {"config": 5}})"),
                 std::string(R"({"version": 4294967297})"), std::string(R"({"a": 1, "a": 2})") }) {
            try {
                preset_from_text(text, "t.json");
                QFAIL(text.c_str());
            } catch (const PresetError& e) {
                QVERIFY2(contains(e.what(), "t.json: /"), e.what());
            }
        }
        QCOMPARE(preset_from_text(R"({"losses": {"G_L1": {"weight": 3}}})", "t.json").losses.at("G_L1").weight, 3.0);
    }
};

QTEST_GUILESS_MAIN(TestObjective)
#include "tst_objective.moc"
