// SPDX-License-Identifier: Apache-2.0
// LibTorch headers come first and without Qt's `slots` keyword macro (ATen has a slots() method).
#pragma push_macro("slots")
#undef slots
#include <torch/cuda.h>

#include "losses/lm_types.h"
#include "losses/loss_registry.h"
#include "models/model_types.h"
#include "objective/objective.h"
#include "objective/preset.h"
#include "objective/spec_definition.h"
#include "objective/spec_registry.h"
#include "scheduling/lr_schedule.h"
#include "training/checkpoint.h"
#include "training/experiment.h"
#include "training/run_compare.h"
#pragma pop_macro("slots")

#include "bridge/enginebridge.h"
#include "bridge/enginebridge_p.h"

#include <QCoreApplication>
#include <QDir>
#include <QFileInfo>
#include <QTemporaryFile>

#include <algorithm>

#include <nlohmann/json.hpp>

namespace engine {
namespace {

QString q(const std::string& s)
{
    return QString::fromStdString(s);
}

QStringList qlist(const std::vector<std::string>& v)
{
    QStringList out;
    out.reserve(static_cast<int>(v.size()));
    for (const auto& s : v)
        out.append(q(s));
    return out;
}

std::vector<std::string> slist(const QStringList& l)
{
    std::vector<std::string> out;
    for (const QString& s : l)
        out.push_back(s.toStdString());
    return out;
}

LossRow rowFromSpec(const nectar::LossSpec& l)
{
    LossRow r;
    r.name = q(l.name);
    r.function = q(l.function);
    r.weight = l.weight;
    r.tags = qlist(l.tags);
    r.schedule = l.schedule;
    r.prediction = q(nectar::operand_name(l.inputs.prediction));
    r.target = q(nectar::operand_name(l.inputs.target));
    return r;
}

/// Rows by name (the engine's loss map order), each built once to see whether it can be built here: a loss
/// that cannot (e.g. VGG19 weights missing) keeps its row with the engine's message in LossRow::unavailable.
std::vector<LossRow> rowsWithAvailability(std::vector<nectar::LossSpec> specs, const nectar::Config& config)
{
    std::sort(specs.begin(), specs.end(),
        [](const nectar::LossSpec& a, const nectar::LossSpec& b) { return a.name < b.name; });
    std::vector<LossRow> rows;
    for (const nectar::LossSpec& l : specs) {
        LossRow r = rowFromSpec(l);
        try {
            (void)nectar::build_loss(l, config);
        } catch (const std::exception& e) {
            r.unavailable = q(e.what());
        }
        rows.push_back(std::move(r));
    }
    return rows;
}

QString withSource(const QString& path, const QString& message)
{
    return message.contains(path) ? message : QString(path + QStringLiteral(": ") + message);
}

/// First existing directory among the source tree and the installed data dir.
QString dataPath(const QString& relativeToSource, const QString& relativeToInstall)
{
    const QStringList candidates {
        QString::fromUtf8(NECTAR_SOURCE_DIR) + QLatin1Char('/') + relativeToSource,
        QString::fromUtf8(NECTAR_DATA_INSTALL_DIR) + QLatin1Char('/') + relativeToInstall,
        QCoreApplication::applicationDirPath() + QStringLiteral("/../share/nectar-toolbox/") + relativeToInstall,
    };
    for (const QString& c : candidates)
        if (QFileInfo(c).isDir())
            return QDir::cleanPath(c);
    return {};
}

/// Engine readers take file paths: a preset bundled in the Qt resources (":/presets/...") is copied
/// to a temporary file first. Returns the path to read.
QString readablePath(const QString& path, QTemporaryFile& tmp)
{
    if (!path.startsWith(QStringLiteral(":/")))
        return path;
    QFile in(path);
    if (!in.open(QIODevice::ReadOnly) || !tmp.open())
        return path;
    tmp.write(in.readAll());
    tmp.flush();
    return tmp.fileName();
}

} // namespace

std::map<std::string, nectar::LMLoss> lossesFromRows(const std::vector<LossRow>& rows)
{
    std::map<std::string, nectar::LMLoss> out;
    for (const LossRow& r : rows) {
        nectar::LMLoss l;
        l.name = r.name.toStdString();
        l.function_name = r.function.toStdString();
        l.loss_weight = r.weight;
        l.schedule = r.schedule;
        l.tags = slist(r.tags);
        l.inputs.prediction = nectar::operand_from_name(r.prediction.toStdString());
        l.inputs.target = nectar::operand_from_name(r.target.toStdString());
        out.emplace(l.name, std::move(l));
    }
    return out;
}

nectar::Preset presetFromRows(const QString& spec, const QString& subspec, const std::vector<LossRow>& rows)
{
    return nectar::preset_from_losses(spec.toStdString(), subspec.toStdString(), lossesFromRows(rows));
}

QStringList loadSpecDirectories()
{
    return qlist(nectar::SpecRegistry::instance().load_default_directories());
}

QStringList specNames()
{
    return qlist(nectar::SpecRegistry::instance().names());
}

SpecSummary spec(const QString& name)
{
    const nectar::SpecInfo& info = nectar::SpecRegistry::instance().info(name.toStdString());
    return { q(info.name), q(info.description), q(info.source), qlist(info.subspecs) };
}

std::vector<LossRow> buildRows(const QString& spec, const QString& subspec, const nectar::Config& config)
{
    return rowsWithAvailability(
        nectar::SpecRegistry::instance().loss_specs(spec.toStdString(), subspec.toStdString(), config), config);
}

QString unavailableReason(const LossRow& row, const nectar::Config& config)
{
    nectar::LossSpec l;
    l.name = row.name.toStdString();
    l.function = row.function.toStdString();
    l.weight = row.weight;
    l.schedule = row.schedule;
    try {
        (void)nectar::build_loss(l, config);
    } catch (const std::exception& e) {
        return q(e.what());
    }
    return {};
}

int lastEpoch(const nectar::Config& config)
{
    try {
        return nectar::make_lr_schedules(config.train).total_epochs();
    } catch (const std::exception&) {
        return 0; // an invalid plan: the settings form says why
    }
}

std::pair<double, double> learningRates(const nectar::Config& config, int epoch)
{
    try {
        const auto lr = nectar::make_lr_schedules(config.train);
        return { lr.generator.lr_at(epoch), lr.discriminator.lr_at(epoch) };
    } catch (const std::exception&) {
        return { 0.0, 0.0 };
    }
}

QStringList lossFunctionNames()
{
    return qlist(nectar::LossFunctionRegistry::instance().names());
}

QString lossFunctionDescription(const QString& name)
{
    const auto& reg = nectar::LossFunctionRegistry::instance();
    return reg.contains(name.toStdString()) ? q(reg.entry(name.toStdString()).description) : QString();
}

QStringList operandNames()
{
    return qlist(nectar::operand_names());
}

QStringList blockTypeNames()
{
    return qlist(nectar::unet_block_type_names());
}

QStringList upsampleTypeNames()
{
    return qlist(nectar::upsample_type_names());
}

QStringList directionNames()
{
    return qlist(nectar::choice_names<nectar::Direction>());
}

std::vector<DeviceEntry> devices()
{
    std::vector<DeviceEntry> out;
    out.push_back({ QStringLiteral("auto"), QCoreApplication::translate("engine", "auto (CUDA if available, else CPU)"),
        true, {} });
    out.push_back({ QStringLiteral("cpu"), QStringLiteral("cpu"), true, {} });
    const auto count = torch::cuda::is_available() ? torch::cuda::device_count() : 0;
    for (std::size_t i = 0; i < count; ++i) {
        const QString id = QStringLiteral("cuda:%1").arg(i);
        out.push_back({ id, id, true, {} });
    }
    if (count == 0) {
        const QString reason = QCoreApplication::translate(
            "engine", "LibTorch reports no CUDA device (CPU-only LibTorch build, no driver or no GPU)");
        out.push_back({ QStringLiteral("cuda"),
            QCoreApplication::translate("engine", "cuda (unavailable: no CUDA device)"), false, reason });
    }
    return out;
}

QString userSpecDirectory()
{
    return q(nectar::SpecRegistry::user_spec_directory());
}

QString saveRowsAsSpec(
    const QString& name, const QString& description, const std::vector<LossRow>& rows, QString* error)
{
    auto& registry = nectar::SpecRegistry::instance();
    const QString trimmed = name.trimmed();
    const QString dir = userSpecDirectory();
    const QString path = QDir(dir).filePath(trimmed + QStringLiteral(".json"));
    if (registry.contains(trimmed.toStdString())) {
        const QString source = q(registry.info(trimmed.toStdString()).source);
        if (QFileInfo(source).absoluteFilePath() != QFileInfo(path).absoluteFilePath()) {
            *error
                = QCoreApplication::translate("engine", "A spec named \"%1\" already exists (%2); choose another name.")
                      .arg(trimmed, source);
            return {};
        }
    }
    try {
        const nectar::SpecDefinition def = nectar::SpecDefinition::from_losses(
            trimmed.toStdString(), description.toStdString(), lossesFromRows(rows));
        if (!QDir().mkpath(dir)) {
            *error = QCoreApplication::translate("engine", "Could not create the spec folder %1").arg(dir);
            return {};
        }
        nectar::save_spec_file(def, path.toStdString());
        registry.add(def.to_info(path.toStdString()), /*replace=*/true);
    } catch (const std::exception& e) {
        *error = q(e.what());
        return {};
    }
    return path;
}

bool loadPreset(const QString& path, const nectar::Config& base, PresetContent* out, QString* error)
{
    QTemporaryFile tmp;
    const QString readable = readablePath(path, tmp);
    try {
        const std::string p = path.toStdString();
        nectar::Preset preset;
        try {
            preset = nectar::load_preset_file(readable.toStdString());
        } catch (const std::exception& e) {
            // Name the user's file (not the temporary copy of a bundled preset).
            throw std::runtime_error(q(e.what()).replace(readable, path).toStdString());
        }
        nectar::Config config = base;
        nectar::apply_preset_to_config(preset, config, p);
        auto& registry = nectar::SpecRegistry::instance();
        const std::string& specName = config.train.loss.spec;
        if (!registry.contains(specName)) {
            *error = QCoreApplication::translate("engine", "%1: /spec: unknown spec \"%2\" (known: %3)")
                         .arg(path, q(specName), specNames().join(QStringLiteral(", ")));
            return false;
        }
        const auto& subspecs = registry.info(specName).subspecs;
        const std::string& subspec = config.train.loss.subspec;
        if (std::find(subspecs.begin(), subspecs.end(), subspec) == subspecs.end()) {
            *error = QCoreApplication::translate(
                "engine", "%1: /subspec: unknown subspec \"%2\" of spec \"%3\" (valid: %4)")
                         .arg(path, q(subspec), q(specName), qlist(subspecs).join(QStringLiteral(", ")));
            return false;
        }
        auto losses = registry.loss_specs(specName, subspec, config);
        std::vector<std::string> warnings;
        nectar::apply_preset_to_specs(preset, losses, p, &warnings);
        PresetContent content;
        content.warnings = qlist(warnings);
        content.spec = q(specName);
        content.subspec = q(subspec);
        content.rows = rowsWithAvailability(std::move(losses), config);
        content.config = config;
        content.hasSettings = !preset.config.empty();
        *out = std::move(content);
        return true;
    } catch (const std::exception& e) {
        *error = withSource(path, q(e.what()));
        return false;
    }
}

bool savePreset(const QString& path, const QString& spec, const QString& subspec, const std::vector<LossRow>& rows,
    const nectar::Config* settings, QString* error)
{
    try {
        // Only the spec's own losses can be overridden by a preset.
        const auto& registry = nectar::SpecRegistry::instance();
        const auto declared
            = registry.loss_specs(spec.toStdString(), subspec.toStdString(), settings ? *settings : nectar::Config {});
        for (const LossRow& r : rows) {
            if (std::none_of(declared.begin(), declared.end(),
                    [&](const nectar::LossSpec& l) { return l.name == r.name.toStdString(); })) {
                *error = QCoreApplication::translate(
                    "engine", "Loss \"%1\" is not part of %2 / %3: save the objective as a spec first.")
                             .arg(r.name, spec, subspec);
                return false;
            }
        }
        nectar::Preset preset
            = nectar::preset_from_losses(spec.toStdString(), subspec.toStdString(), lossesFromRows(rows));
        preset.name = QFileInfo(path).completeBaseName().toStdString();
        if (settings) {
            nlohmann::json j = nectar::config_to_json(*settings);
            preset.config = j.contains("config") ? j["config"] : j;
        }
        nectar::save_preset_file(preset, path.toStdString());
        return true;
    } catch (const std::exception& e) {
        *error = withSource(path, q(e.what()));
        return false;
    }
}

QString presetName(const QString& path)
{
    try {
        QTemporaryFile tmp;
        const nectar::Preset p = nectar::load_preset_file(readablePath(path, tmp).toStdString());
        return p.name.empty() ? QFileInfo(path).completeBaseName() : q(p.name);
    } catch (const std::exception&) {
        return {};
    }
}

QStringList bundledPresets()
{
    const QString dir = QStringLiteral(":/presets");
    QStringList out;
    for (const QString& f : QDir(dir).entryList({ QStringLiteral("*.json") }, QDir::Files, QDir::Name))
        out.append(QDir(dir).filePath(f));
    return out;
}

QString sampleDatasetDirectory()
{
    return dataPath(
        QStringLiteral("resources/sample-data/photo-colorize"), QStringLiteral("sample-data/photo-colorize"));
}

bool loadConfig(const QString& path, nectar::Config* out, QStringList* warnings, QString* error)
{
    try {
        std::vector<std::string> w;
        *out = nectar::load_config_file(path.toStdString(), &w);
        if (warnings)
            *warnings = qlist(w);
        return true;
    } catch (const std::exception& e) {
        *error = withSource(path, q(e.what()));
        return false;
    }
}

bool saveConfig(const nectar::Config& config, const QString& path, QString* error)
{
    try {
        nectar::validate_config(config, path.toStdString());
        nectar::save_config_file(config, path.toStdString());
        return true;
    } catch (const std::exception& e) {
        *error = withSource(path, q(e.what()));
        return false;
    }
}

bool validateConfig(const nectar::Config& config, QString* error)
{
    try {
        nectar::validate_config(config);
        return true;
    } catch (const std::exception& e) {
        *error = q(e.what());
        return false;
    }
}

} // namespace engine

namespace engine {

QString latestConfigCopy(const QString& experimentDir)
{
    return q(nectar::latest_config_copy_path(experimentDir.toStdString()));
}

namespace {
/// The record `file` over `base` (the run's settings), resolved to LossSpec values: nothing is built (a VGG
/// loss loads no weights just to be shown, and the run's vgg_weights setting is kept).
bool readRecord(const QString& file, nectar::Config base, RunObjective* out, QString* error)
{
    RunObjective result;
    result.file = file;
    if (!result.file.isEmpty()) {
        try {
            const std::string file = result.file.toStdString();
            const nectar::Preset preset = nectar::load_preset_file(file);
            nectar::apply_preset_to_config(preset, base, file);
            const nectar::Objective o = nectar::resolve_objective(base, &preset, file);
            result.spec = q(o.spec);
            result.subspec = q(o.subspec);
            for (const nectar::LossSpec& l : o.losses)
                result.rows.push_back(rowFromSpec(l));
            std::sort(result.rows.begin(), result.rows.end(),
                [](const LossRow& a, const LossRow& b) { return a.name < b.name; });
        } catch (const std::exception& e) {
            *error = withSource(result.file, q(e.what()));
            return false;
        }
    }
    *out = std::move(result);
    return true;
}
} // namespace

bool runObjective(const QString& experimentDir, RunObjective* out, QString* error)
{
    const QString file = q(nectar::latest_objective_copy_path(experimentDir.toStdString()));
    if (file.isEmpty()) {
        *out = RunObjective {};
        return true;
    }
    try {
        const QString copy = latestConfigCopy(experimentDir);
        return readRecord(
            file, copy.isEmpty() ? nectar::Config {} : nectar::load_config_file(copy.toStdString()), out, error);
    } catch (const std::exception& e) {
        *error = withSource(file, q(e.what()));
        return false;
    }
}

bool continueRun(const QString& experimentDir, ContinueContent* out, QString* error)
{
    try {
        const std::string dir = experimentDir.toStdString();
        const auto folder = nectar::parse_experiment_folder(dir);
        if (!folder)
            throw std::runtime_error(dir + ": expected an experiment folder named <name>_v<N>");
        ContinueContent c;
        c.configFile = latestConfigCopy(experimentDir);
        if (c.configFile.isEmpty())
            throw std::runtime_error(dir + ": no train<K>_config.json in it (not an experiment folder of ours?)");
        const auto epochs = nectar::list_checkpoint_epochs(dir);
        if (epochs.empty())
            throw std::runtime_error(dir + ": no checkpoint (epoch<N>_netG.pt) to continue from");
        c.epoch = *std::max_element(epochs.begin(), epochs.end());
        c.config = nectar::load_config_file(c.configFile.toStdString());
        c.config.common.output_directory = folder->output_directory;
        c.config.common.experiment_name = folder->name;
        c.config.common.experiment_version = folder->version;
        c.config.train.load.continue_train = true;
        c.config.train.load.load_epoch = c.epoch;
        if (!readRecord(
                q(nectar::latest_objective_copy_path(dir)), c.config, &c.objective, error)) // the copy read above
            return false;
        if (c.objective.file.isEmpty()) {
            c.objective.spec = q(c.config.train.loss.spec);
            c.objective.subspec = q(c.config.train.loss.subspec);
            c.objective.rows = buildRows(c.objective.spec, c.objective.subspec, c.config);
        } else {
            c.config.train.loss.spec = c.objective.spec.toStdString();
            c.config.train.loss.subspec = c.objective.subspec.toStdString();
        }
        nectar::validate_config(c.config);
        *out = std::move(c);
        return true;
    } catch (const std::exception& e) {
        *error = q(e.what());
        return false;
    }
}

QMap<QString, QStringList> runLossTags(
    const QString& experimentDir, const QStringList& lossNames, QString* source, const RunObjective* known)
{
    QMap<QString, QStringList> out;
    RunObjective read;
    QString ignored;
    const RunObjective* recorded = known ? known : (runObjective(experimentDir, &read, &ignored) ? &read : nullptr);
    if (recorded && !recorded->file.isEmpty()) {
        for (const LossRow& row : recorded->rows)
            out.insert(row.name, row.tags);
        if (std::all_of(lossNames.begin(), lossNames.end(), [&](const QString& n) { return out.contains(n); })) {
            if (source)
                *source = QCoreApplication::translate("engine", "tags from %1 (spec %2 / %3)")
                              .arg(QFileInfo(recorded->file).fileName(), recorded->spec, recorded->subspec);
            return out;
        }
        out.clear();
    }
    const QString file = latestConfigCopy(experimentDir);
    if (!file.isEmpty()) {
        try {
            const nectar::Config config = nectar::load_config_file(file.toStdString());
            const auto losses = nectar::SpecRegistry::instance().loss_specs(
                config.train.loss.spec, config.train.loss.subspec, config);
            for (const QString& name : lossNames) {
                auto it = std::find_if(losses.begin(), losses.end(),
                    [&](const nectar::LossSpec& l) { return l.name == name.toStdString(); });
                if (it == losses.end())
                    throw std::runtime_error("loss not in spec");
                out.insert(name, qlist(it->tags));
            }
            if (source)
                *source = QCoreApplication::translate("engine", "tags from %1 (spec %2 / %3)")
                              .arg(QFileInfo(file).fileName(), q(config.train.loss.spec), q(config.train.loss.subspec));
            return out;
        } catch (const std::exception&) {
            out.clear(); // fall back to the prefixes below
        }
    }
    for (const QString& name : lossNames) {
        if (name.startsWith(QStringLiteral("G_")))
            out.insert(name, { QStringLiteral("G") });
        else if (name.startsWith(QStringLiteral("D_")))
            out.insert(name, { QStringLiteral("D") });
        else
            out.insert(name, {});
    }
    if (source)
        *source = QCoreApplication::translate("engine", "tags from the G_/D_ name prefixes (no usable config copy)");
    return out;
}

int runBatchSize(const QString& experimentDir)
{
    const QString file = latestConfigCopy(experimentDir);
    if (file.isEmpty())
        return 1;
    try {
        return std::max(1, nectar::load_config_file(file.toStdString()).dataloader.batch_size);
    } catch (const std::exception&) {
        return 1;
    }
}

QList<RunDifferenceRow> compareRuns(const QString& dirA, const QString& dirB, QStringList* warnings)
{
    const nectar::RunRecord a = nectar::read_run_record(dirA.toStdString());
    const nectar::RunRecord b = nectar::read_run_record(dirB.toStdString());
    if (warnings) {
        for (const auto* r : { &a, &b })
            for (const auto& w : r->warnings)
                warnings->append(QString::fromStdString(w));
    }
    QList<RunDifferenceRow> out;
    for (const auto& d : nectar::diff_runs(a, b))
        out.append({ QString::fromStdString(d.loss), QString::fromStdString(d.field), QString::fromStdString(d.a),
            QString::fromStdString(d.b) });
    return out;
}

} // namespace engine
