// SPDX-License-Identifier: Apache-2.0
// Config: NectarGAN default config round trip, defaults, unknown keys, validation messages, lookup, save.
#include <QDir>
#include <QTemporaryDir>
#include <QtTest/QtTest>

#include <cmath>
#include <fstream>
#include <limits>

#include <nlohmann/json.hpp>

#include "config/config.h"

using nlohmann::json;
using namespace nectar;

namespace {

const std::string kDefaultConfig = std::string(NECTAR_TEST_DATA_DIR) + "/reference/nectargan_default_config.json";

json read_json(const std::string& path)
{
    std::ifstream in(path);
    return json::parse(in);
}

void write_text(const std::string& path, const std::string& text)
{
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << text;
}

bool contains(const std::string& haystack, const std::string& needle)
{
    return haystack.find(needle) != std::string::npos;
}

// Every leaf pointer of a JSON document (objects recursed; arrays and scalars are leaves).
void leaves(const json& j, const std::string& prefix, std::vector<std::string>& out)
{
    if (j.is_object() && !j.empty()) {
        for (auto it = j.begin(); it != j.end(); ++it)
            leaves(it.value(), prefix + "/" + it.key(), out);
    } else {
        out.push_back(prefix);
    }
}

} // namespace

class TestConfig : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void nectarganDefaultLoadsWithoutWarnings()
    {
        std::vector<std::string> warnings;
        const Config c = load_config_file(kDefaultConfig, &warnings);
        QVERIFY2(warnings.empty(), warnings.empty() ? "" : warnings.front().c_str());
        QVERIFY(c.unknown.empty());
        // Spot-check that values come from the file, not from coincident defaults.
        QCOMPARE(c.train.loss.lambda_l1, 100.0);
        QCOMPARE(c.dataloader.load.load_size, 286);
        QCOMPARE(c.dataloader.load.crop_size, 256);
        QCOMPARE(c.train.generator.learning_rate.initial, 0.0002);
        QCOMPARE(c.dataloader.augmentations.both.at("h_flip_chance").get<double>(), 0.5);
        QCOMPARE(c.dataloader.augmentations.input.at("grayscale_method").get<std::string>(),
            std::string("weighted_average"));
        QCOMPARE(c.visualizer.visdom.port, 8097);
        QCOMPARE(c.common.gpu_ids, std::vector<int> { 0 });
    }

    void nectarganDefaultRoundTripsExactly()
    {
        const json original = read_json(kDefaultConfig);
        const Config c = config_from_json(original);
        // Default mode: extension keys only when not default -> a NectarGAN file comes back unchanged.
        QCOMPARE(config_to_json(c).dump(), original.dump());

        // Through a saved file as well.
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        const std::string path = dir.filePath(QStringLiteral("saved.json")).toStdString();
        save_config_file(c, path);
        QCOMPARE(read_json(path).dump(), original.dump());

        // Same leaf keys and values, none lost or added.
        std::vector<std::string> a, b;
        leaves(original, "", a);
        leaves(read_json(path), "", b);
        QCOMPARE(a, b);
    }

    void extensionKeysAreSeparable()
    {
        const json original = read_json(kDefaultConfig);
        json full = config_to_json(config_from_json(original), ExtensionKeys::Always);
        for (const std::string& key : config_extension_keys()) {
            const json::json_pointer ptr(key);
            QVERIFY2(full.contains(ptr), key.c_str());
            QVERIFY2(!original.contains(ptr), key.c_str()); // not a NectarGAN key
            full.at(ptr.parent_pointer()).erase(ptr.back());
        }
        QCOMPARE(full.dump(), original.dump());

        // A non-default extension is written in the default mode too, and read back.
        Config c;
        c.train.loss.spec = "lsgan";
        c.common.seed = 7;
        const json j = config_to_json(c);
        QCOMPARE(j.at(json::json_pointer("/config/train/loss/spec")).get<std::string>(), std::string("lsgan"));
        QCOMPARE(j.at(json::json_pointer("/config/common/seed")).get<int>(), 7);
        QVERIFY(!j.contains(json::json_pointer("/config/train/loss/subspec")));
        const Config back = config_from_json(j);
        QCOMPARE(back.train.loss.spec, std::string("lsgan"));
        QCOMPARE(back.common.seed, std::int64_t(7));
    }

    void missingKeysTakeDefaults()
    {
        const json j = { { "config",
            { { "train", { { "loss", { { "lambda_l1", 50 } } } } }, { "dataloader", { { "batch_size", 4 } } } } } };
        std::vector<std::string> warnings;
        const Config c = config_from_json(j, &warnings);
        QVERIFY(warnings.empty());
        QCOMPARE(c.train.loss.lambda_l1, 50.0);
        QCOMPARE(c.dataloader.batch_size, 4);
        const Config d;
        QCOMPARE(c.train.loss.lambda_gan, d.train.loss.lambda_gan);
        QCOMPARE(c.dataloader.load.load_size, 286);
        QVERIFY(c.dataloader.direction == Direction::AtoB);
        QVERIFY(c.train.generator.block_type == UnetBlockType::UnetBlock);
        QCOMPARE(c.save.model_save_rate, 5);

        const Config empty = config_from_json(json { { "config", json::object() } });
        QCOMPARE(config_to_json(empty).dump(), config_to_json(Config {}).dump());

        // The NectarGAN layout is required: a file without "config" is not silently all defaults.
        try {
            config_from_json(json { { "train", json::object() } }, nullptr, "cfg.json");
            QFAIL("expected ConfigError");
        } catch (const ConfigError& e) {
            QVERIFY2(contains(e.what(), "cfg.json: /config: missing"), e.what());
        }
    }

    void unknownKeysKeptAndWarned()
    {
        json j = read_json(kDefaultConfig);
        j["config"]["config_type"] = "pix2pix"; // newer NectarGAN key
        j["config"]["train"]["ema"] = { { "decay", 0.999 } }; // unknown object
        j["config"]["train"]["loss"]["lambda_foo"] = 2.5; // extra loss weight: kept, no warning
        j["config"]["train"]["loss"]["gamma"] = 3; // extra numeric, but not lambda_*: warned
        j["config"]["train"]["loss"]["note"] = "text"; // non-numeric: unknown
        j["comment"] = "top level";

        std::vector<std::string> warnings;
        const Config c = config_from_json(j, &warnings, "exp.json");
        QCOMPARE(c.unknown.size(), std::size_t(4));
        QCOMPARE(c.unknown.at("/config/config_type").get<std::string>(), std::string("pix2pix"));
        QCOMPARE(c.unknown.at("/config/train/ema").at("decay").get<double>(), 0.999);
        QCOMPARE(c.unknown.at("/config/train/loss/note").get<std::string>(), std::string("text"));
        QCOMPARE(c.unknown.at("/comment").get<std::string>(), std::string("top level"));
        QCOMPARE(c.train.loss.extra.at("lambda_foo"), 2.5);
        QCOMPARE(c.train.loss.extra.at("gamma"), 3.0);

        QCOMPARE(warnings.size(), std::size_t(5));
        auto warned = [&](const std::string& path) {
            for (const auto& w : warnings)
                if (contains(w, "exp.json: " + path + ":"))
                    return true;
            return false;
        };
        QVERIFY(warned("/config/config_type"));
        QVERIFY(warned("/config/train/ema"));
        QVERIFY(warned("/config/train/loss/note"));
        QVERIFY(warned("/config/train/loss/gamma"));
        QVERIFY(warned("/comment"));
        QVERIFY(!warned("/config/train/loss/lambda_foo"));

        // Written back unchanged (3 comes back as 3.0: equal as JSON numbers).
        QVERIFY(config_to_json(c) == j);
    }

    void invalidValues_data()
    {
        QTest::addColumn<QString>("patch"); // JSON array of [pointer, value] pairs applied to the default
        QTest::addColumn<QString>("path"); // JSON path the message must name
        QTest::addColumn<QString>("value"); // bad value the message must show
        auto row = [](const char* name, const char* patch, const char* path, const char* value) {
            QTest::newRow(name) << QString::fromUtf8(patch) << QString::fromUtf8(path) << QString::fromUtf8(value);
        };
        row("negative lambda", R"([["/config/train/loss/lambda_l1", -1]])", "/config/train/loss/lambda_l1", "-1");
        row("string lambda", R"([["/config/train/loss/lambda_gan", "100"]])", "/config/train/loss/lambda_gan",
            "\"100\"");
        row("negative extra lambda", R"([["/config/train/loss/lambda_foo", -2.5]])", "/config/train/loss/lambda_foo",
            "-2.5");
        row("crop > load", R"([["/config/dataloader/load/crop_size", 300]])", "/config/dataloader/load/crop_size",
            "300");
        row("unknown direction", R"([["/config/dataloader/direction", "AtoC"]])", "/config/dataloader/direction",
            "\"AtoC\"");
        row("batch size 0", R"([["/config/dataloader/batch_size", 0]])", "/config/dataloader/batch_size", "0");
        row("batch size string", R"([["/config/dataloader/batch_size", "two"]])", "/config/dataloader/batch_size",
            "\"two\"");
        row("batch size fraction", R"([["/config/dataloader/batch_size", 1.5]])", "/config/dataloader/batch_size",
            "1.5");
        row("block type", R"([["/config/train/generator/block_type", "UNetBlock"]])",
            "/config/train/generator/block_type", "\"UNetBlock\"");
        row("upsample type", R"([["/config/train/generator/upsample_type", "Nearest"]])",
            "/config/train/generator/upsample_type", "\"Nearest\"");
        row("both lr epochs 0",
            R"([["/config/train/discriminator/learning_rate/epochs", 0],
                ["/config/train/discriminator/learning_rate/epochs_decay", 0]])",
            "/config/train/discriminator/learning_rate/epochs", "0");
        row("bool as string", R"([["/config/save/save_model", "yes"]])", "/config/save/save_model", "\"yes\"");
        row("gpu id type", R"([["/config/common/gpu_ids", [0, "x"]]])", "/config/common/gpu_ids/1", "\"x\"");
        row("section not object", R"([["/config/train/loss", [1, 2]]])", "/config/train/loss", "[1,2]");
        row("device", R"([["/config/common/device", "gpu"]])", "/config/common/device", "\"gpu\"");
        row("beta1", R"([["/config/train/generator/optimizer/beta1", 1.0]])", "/config/train/generator/optimizer/beta1",
            "1.0");
        row("nonfinite policy", R"([["/config/train/nonfinite_policy", "retry"]])", "/config/train/nonfinite_policy",
            "\"retry\"");
        // The experiment name becomes a folder: a NUL once made nectar-train loop forever looking for a free
        // config-copy name (issue #10, item 6); separators and ".." would write outside the output folder.
        row("experiment name with NUL", R"([["/config/common/experiment_name", "a\u0000b"]])",
            "/config/common/experiment_name", R"("a\u0000b")");
        row("experiment name with separator", R"([["/config/common/experiment_name", "../x"]])",
            "/config/common/experiment_name", R"("../x")");
        row("experiment name dot-dot", R"([["/config/common/experiment_name", ".."]])",
            "/config/common/experiment_name", R"("..")");
        row("int overflow", R"([["/config/save/num_examples", 1e12]])", "/config/save/num_examples", "1000000000000");
        // Documented maximums (issue #10, item 8 and "Integers and ranges"): values that fit an int but would
        // exhaust memory, overflow later arithmetic or train garbage are refused here, naming the setting.
        row("num_workers 100000", R"([["/config/dataloader/num_workers", 100000]])", "/config/dataloader/num_workers",
            "100000");
        row("batch size huge", R"([["/config/dataloader/batch_size", 1000000]])", "/config/dataloader/batch_size",
            "1000000");
        row("load size huge", R"([["/config/dataloader/load/load_size", 100000]])", "/config/dataloader/load/load_size",
            "100000");
        row("crop and load 16384",
            R"([["/config/dataloader/load/load_size", 16384], ["/config/dataloader/load/crop_size", 16384]])",
            "/config/dataloader/load/load_size", "16384");
        row("batch too large for crop",
            R"([["/config/dataloader/load/load_size", 8192], ["/config/dataloader/load/crop_size", 8192],
                ["/config/dataloader/batch_size", 64]])",
            "/config/dataloader/batch_size", "64");
        row("lambda 1e308", R"([["/config/train/loss/lambda_l1", 1e308]])", "/config/train/loss/lambda_l1", "1e+308");
        row("extra lambda 1e308", R"([["/config/train/loss/lambda_foo", 1e308]])", "/config/train/loss/lambda_foo",
            "1e+308");
        row("learning rate 1e308", R"([["/config/train/generator/learning_rate/initial", 1e308]])",
            "/config/train/generator/learning_rate/initial", "1e+308");
        row("lr target 2", R"([["/config/train/discriminator/learning_rate/target", 2]])",
            "/config/train/discriminator/learning_rate/target", "2");
        row("epochs int max", R"([["/config/train/generator/learning_rate/epochs", 2147483647]])",
            "/config/train/generator/learning_rate/epochs", "2147483647");
        row("epochs_decay int max", R"([["/config/train/discriminator/learning_rate/epochs_decay", 2147483647]])",
            "/config/train/discriminator/learning_rate/epochs_decay", "2147483647");
        row("load_epoch int max", R"([["/config/train/load/load_epoch", 2147483647]])", "/config/train/load/load_epoch",
            "2147483647");
        row("experiment_version int max", R"([["/config/common/experiment_version", 2147483647]])",
            "/config/common/experiment_version", "2147483647");
        row("features huge", R"([["/config/train/generator/features", 100000]])", "/config/train/generator/features",
            "100000");
        row("n_downs huge", R"([["/config/train/generator/n_downs", 40]])", "/config/train/generator/n_downs", "40");
        row("num_threads huge", R"([["/config/common/num_threads", 1000000]])", "/config/common/num_threads",
            "1000000");
    }

    void invalidValues()
    {
        QFETCH(QString, patch);
        QFETCH(QString, path);
        QFETCH(QString, value);
        json j = read_json(kDefaultConfig);
        for (const json& p : json::parse(patch.toStdString()))
            j[json::json_pointer(p.at(0).get<std::string>())] = p.at(1);

        // From a JSON value: path and value named.
        try {
            config_from_json(j);
            QFAIL("expected ConfigError");
        } catch (const ConfigError& e) {
            const std::string msg = e.what();
            QVERIFY2(msg.rfind(path.toStdString() + ": ", 0) == 0, msg.c_str());
            QVERIFY2(contains(msg, value.toStdString()), msg.c_str());
        }

        // From a file: the file name comes first.
        QTemporaryDir dir;
        const std::string file = dir.filePath(QStringLiteral("bad_config.json")).toStdString();
        write_text(file, j.dump(4));
        try {
            load_config_file(file);
            QFAIL("expected ConfigError");
        } catch (const ConfigError& e) {
            const std::string msg = e.what();
            QVERIFY2(msg.rfind(file + ": " + path.toStdString() + ": ", 0) == 0, msg.c_str());
            QVERIFY2(contains(msg, value.toStdString()), msg.c_str());
        }
    }

    void nonFiniteValuesNamed()
    {
        // JSON text cannot hold NaN/Inf, but JSON built in code (or a struct) can.
        json j = read_json(kDefaultConfig);
        j["config"]["train"]["loss"]["lambda_sobel"] = std::numeric_limits<double>::quiet_NaN();
        try {
            config_from_json(j);
            QFAIL("expected ConfigError");
        } catch (const ConfigError& e) {
            QVERIFY2(contains(e.what(), "/config/train/loss/lambda_sobel: ") && contains(e.what(), "NaN"), e.what());
        }
        Config c;
        c.train.loss.lambda_vgg = std::numeric_limits<double>::infinity();
        try {
            validate_config(c, "live");
            QFAIL("expected ConfigError");
        } catch (const ConfigError& e) {
            QVERIFY2(
                contains(e.what(), "live: /config/train/loss/lambda_vgg: ") && contains(e.what(), "inf"), e.what());
        }
        // An overflowing literal in a file is read as inf (or rejected): never accepted.
        QTemporaryDir dir;
        const std::string file = dir.filePath(QStringLiteral("inf.json")).toStdString();
        write_text(file, R"({"config": {"train": {"loss": {"lambda_l1": 1e999}}}})");
        QVERIFY_THROWS_EXCEPTION(ConfigError, load_config_file(file));
    }

    void fileErrorsNameTheFile()
    {
        QTemporaryDir dir;
        const std::string bad = dir.filePath(QStringLiteral("syntax.json")).toStdString();
        write_text(bad, "{\"config\": {\"train\": }");
        try {
            load_config_file(bad);
            QFAIL("expected ConfigError");
        } catch (const ConfigError& e) {
            QVERIFY2(
                contains(e.what(), bad + ": /config/train: not valid JSON") && contains(e.what(), "line 1"), e.what());
        }
        const std::string missing = dir.filePath(QStringLiteral("missing.json")).toStdString();
        try {
            load_config_file(missing);
            QFAIL("expected ConfigError");
        } catch (const ConfigError& e) {
            QVERIFY2(contains(e.what(), missing), e.what());
        }
    }

    void dottedNumberLookup()
    {
        json j = read_json(kDefaultConfig);
        j["config"]["train"]["loss"]["lambda_l1"] = 42.5;
        j["config"]["train"]["loss"]["lambda_foo"] = 7;
        j["config"]["train"]["warmup"] = { { "iters", 12 } }; // unknown key, still readable
        const Config c = config_from_json(j);
        QCOMPARE(c.number("train.loss.lambda_l1"), 42.5);
        QCOMPARE(c.number("config.train.loss.lambda_l1"), 42.5);
        QCOMPARE(c.number("dataloader.load.crop_size"), 256.0);
        QCOMPARE(c.number("train.generator.learning_rate.initial"), 0.0002);
        QCOMPARE(c.number("train.loss.lambda_foo"), 7.0);
        QCOMPARE(c.number("train.warmup.iters"), 12.0);
        QCOMPARE(c.number("common.seed"), 0.0); // extension key, written only when non-default

        try {
            c.number("train.loss.lambda_nope");
            QFAIL("expected invalid_argument");
        } catch (const std::invalid_argument& e) {
            QVERIFY2(contains(e.what(), "train.loss.lambda_nope") && contains(e.what(), "not found"), e.what());
        }
        try {
            c.number("common.device");
            QFAIL("expected invalid_argument");
        } catch (const std::invalid_argument& e) {
            QVERIFY2(contains(e.what(), "common.device") && contains(e.what(), "not a number"), e.what());
        }
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, c.number(""));
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, c.number("train.loss"));
    }

    void sectionSerializers()
    {
        LossConfig l;
        l.lambda_l1 = 12.0;
        l.extra["lambda_edge"] = 3.0;
        const json j = l;
        QCOMPARE(j.at("lambda_l1").get<double>(), 12.0);
        QCOMPARE(j.at("lambda_edge").get<double>(), 3.0);
        const LossConfig back = j.get<LossConfig>();
        QCOMPARE(back.lambda_l1, 12.0);
        QCOMPARE(back.extra.at("lambda_edge"), 3.0);

        // Standalone section parse: relative paths; unknown keys have nowhere to go -> error.
        try {
            (void)json { { "epochs", 3 }, { "bogus", true } }.get<LearningRateConfig>();
            QFAIL("expected ConfigError");
        } catch (const ConfigError& e) {
            QVERIFY2(contains(e.what(), "/bogus: unknown key"), e.what());
        }
        const LearningRateConfig lr = json { { "epochs", 3 } }.get<LearningRateConfig>();
        QCOMPARE(lr.epochs, 3);
        QCOMPARE(lr.epochs_decay, 100);

        // Whole-config adl pair.
        Config c;
        c.dataloader.direction = Direction::BtoA;
        const json cj = c;
        QCOMPARE(cj["config"]["dataloader"]["direction"].get<std::string>(), std::string("BtoA"));
        QVERIFY(cj.get<Config>().dataloader.direction == Direction::BtoA);
    }

    void atomicSave()
    {
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        const std::string path = dir.filePath(QStringLiteral("nested/run/config.json")).toStdString();
        Config c;
        c.train.loss.lambda_l1 = 10.0;
        save_config_file(c, path); // creates the folders
        QCOMPARE(load_config_file(path).train.loss.lambda_l1, 10.0);

        c.train.loss.lambda_l1 = 20.0;
        save_config_file(c, path); // replaces
        QCOMPARE(load_config_file(path).train.loss.lambda_l1, 20.0);
        // No temp file is left beside it.
        const QStringList entries = QDir(dir.filePath(QStringLiteral("nested/run")))
                                        .entryList(QDir::Files | QDir::Hidden | QDir::NoDotAndDotDot);
        QCOMPARE(entries, QStringList { QStringLiteral("config.json") });
        // 4-space indent like NectarGAN's export_config.
        std::ifstream in(path);
        std::string first, second;
        std::getline(in, first);
        std::getline(in, second);
        QCOMPARE(first, std::string("{"));
        QVERIFY(second.rfind("    \"config\"", 0) == 0);

        // Failure names the file and leaves the previous content in place.
        const std::string as_dir = dir.filePath(QStringLiteral("nested")).toStdString();
        try {
            save_config_file(c, as_dir);
            QFAIL("expected runtime_error");
        } catch (const std::runtime_error& e) {
            QVERIFY2(contains(e.what(), as_dir), e.what());
        }
        QCOMPARE(load_config_file(path).train.loss.lambda_l1, 20.0);
    }
    // #10 item 1: an overflowing number names the field, not just the file.
    void numberOverflowNamesTheField()
    {
        QTemporaryDir dir;
        const std::string file = dir.filePath(QStringLiteral("inf.json")).toStdString();
        write_text(file, R"({"config": {"train": {"loss": {"lambda_l1": 1e309}}}})");
        try {
            load_config_file(file);
            QFAIL("expected ConfigError");
        } catch (const ConfigError& e) {
            QVERIFY2(contains(e.what(), file + ": /config/train/loss/lambda_l1: number out of range"), e.what());
        }
    }

    // #10 item 5: 10^5-deep nesting (as a section, under an unknown key, in a known object) is an error naming
    // the file and path, never a stack overflow in the error text, the unknown-key copy or the config copy.
    void deepNestingIsAnErrorNotACrash_data()
    {
        QTest::addColumn<QString>("text");
        QTest::addColumn<QString>("path");
        const QString deep = QString(100000, QLatin1Char('[')) + QString(100000, QLatin1Char(']'));
        QTest::newRow("as the config section")
            << QStringLiteral(R"({"config": %1})").arg(deep) << QStringLiteral(": /config/0/0/0/... (");
        QTest::newRow("under an unknown key") << QStringLiteral(R"({"config": {"common": {"x": %1}}})").arg(deep)
                                              << QStringLiteral(": /config/common/x/0/... (");
        QTest::newRow("in augmentations")
            << QStringLiteral(R"({"config": {"dataloader": {"augmentations": {"both": {"a": %1}}}}})").arg(deep)
            << QStringLiteral(": /config/dataloader/augmentations/both/... (");
    }
    void deepNestingIsAnErrorNotACrash()
    {
        QFETCH(QString, text);
        QFETCH(QString, path);
        QTemporaryDir dir;
        const std::string file = dir.filePath(QStringLiteral("deep.json")).toStdString();
        write_text(file, text.toStdString());
        try {
            load_config_file(file);
            QFAIL("expected ConfigError");
        } catch (const ConfigError& e) {
            QVERIFY2(contains(e.what(), file + path.toStdString()), e.what());
            QVERIFY2(contains(e.what(), "nested deeper than 512"), e.what());
            QVERIFY2(std::string(e.what()).size() < 400, e.what());
        }
        // The fuzzers' text entry point throws the same ConfigError.
        QVERIFY_THROWS_EXCEPTION(ConfigError, config_from_text(text.toStdString(), "deep.json"));
    }

    // #10 items 7 and 8: a config over the 4 MiB cap (a huge array under an unknown key) is refused before it
    // is read; a folder given as the config is named as such.
    void oversizedConfigAndFolderAreRefused()
    {
        QTemporaryDir dir;
        const std::string big = dir.filePath(QStringLiteral("big.json")).toStdString();
        std::string text = R"({"config": {"common": {}}, "x": [0)";
        text.reserve(5u << 20);
        while (text.size() < (5u << 20))
            text += ",0";
        write_text(big, text + "]}");
        try {
            load_config_file(big);
            QFAIL("expected ConfigError");
        } catch (const ConfigError& e) {
            QVERIFY2(
                contains(e.what(), big + ": ") && contains(e.what(), "more than the 4 MiB limit for a config file"),
                e.what());
        }
        const std::string folder = dir.filePath(QStringLiteral("cfg.json")).toStdString();
        QVERIFY(QDir().mkpath(QString::fromStdString(folder)));
        try {
            load_config_file(folder);
            QFAIL("expected ConfigError");
        } catch (const ConfigError& e) {
            QCOMPARE(std::string(e.what()), folder + ": is a folder, expected a config file");
        }
    }

    // Unknown keys are kept, but a file with thousands of them gets 20 warning lines and one that counts the rest;
    // a key's path in a warning is bounded and printable.
    void unknownKeyWarningsAreBounded()
    {
        json j = { { "config", { { "common", json::object() } } } };
        for (int i = 0; i < 100; ++i)
            j["config"]["common"]["x" + std::to_string(i)] = i;
        j["config"]["common"][std::string(3000, 'k') + std::string("\n", 1)] = 1;
        std::vector<std::string> warnings;
        const Config c = config_from_text(j.dump(), "many.json", &warnings);
        QCOMPARE(c.unknown.size(), std::size_t(101)); // every key kept for write-back
        QCOMPARE(warnings.size(), std::size_t(21));
        QCOMPARE(warnings.back(), std::string("many.json: /: 81 more warnings like these (unknown keys kept)"));
        for (const std::string& w : warnings)
            QVERIFY2(w.size() < 300 && w.find('\n') == std::string::npos, w.c_str());
    }

    // The fuzzers' entry point lets only ConfigError out, and echoes no value at length.
    void configFromTextThrowsOnlyConfigError_data()
    {
        QTest::addColumn<QString>("text");
        QTest::addColumn<QString>("needle");
        QTest::newRow("not JSON") << QStringLiteral("{") << QStringLiteral("t.json: /: not valid JSON");
        QTest::newRow("not an object") << QStringLiteral("[1, 2]") << QStringLiteral("t.json: /: expected an object");
        QTest::newRow("duplicate key") << QStringLiteral(R"({"config": {"train": {}, "train": {}}})")
                                       << QStringLiteral("t.json: /config/train: duplicate key");
        QTest::newRow("long bad device")
            << QStringLiteral(R"({"config": {"common": {"device": "%1"}}})").arg(QString(60000, QLatin1Char('d')))
            << QStringLiteral("t.json: /config/common/device: expected \"cpu\"");
        QTest::newRow("long bad section")
            << QStringLiteral(R"({"config": {"train": "%1"}})").arg(QString(60000, QLatin1Char('t')))
            << QStringLiteral("t.json: /config/train: expected an object, got string");
        QTest::newRow("huge integer") << QStringLiteral(R"({"config": {"train": {"update_rate": 1e300}}})")
                                      << QStringLiteral("t.json: /config/train/update_rate: expected an integer");
    }
    void configFromTextThrowsOnlyConfigError()
    {
        QFETCH(QString, text);
        QFETCH(QString, needle);
        try {
            config_from_text(text.toStdString(), "t.json");
            QFAIL("expected ConfigError");
        } catch (const ConfigError& e) {
            QVERIFY2(contains(e.what(), needle.toStdString()), e.what());
            QVERIFY2(std::string(e.what()).size() < 300, e.what());
        }
    }
};

QTEST_GUILESS_MAIN(TestConfig)
#include "tst_config.moc"
