// SPDX-License-Identifier: Apache-2.0
#pragma once
/// @file The GUI's only door to the engine registries, specs and presets. Plain Qt/value types in,
/// plain value types out; the LibTorch-heavy engine headers stay in enginebridge.cpp.
/// Every vocabulary the GUI shows (spec names, subspecs, loss functions, operands, schedule kinds,
/// block and upsample types, devices) is read from the engine here, never typed in GUI code.

#include <QMap>
#include <QString>
#include <QStringList>

#include <optional>
#include <utility>
#include <vector>

#include "config/config.h"
#include "objective/losstablemodel.h"

namespace engine {

struct SpecSummary {
    QString name;
    QString description;
    QString source; ///< "built-in" or the JSON file
    QStringList subspecs;
};

/// Loads the shipped and user JSON specs into the registry; returns one message per bad file.
QStringList loadSpecDirectories();
QStringList specNames();
/// Throws std::invalid_argument listing the valid names for an unknown spec.
SpecSummary spec(const QString& name);
/// Every loss of spec/subspec with `config` (weights from its lambdas), by name. Each is built once to check
/// that it can be built here: one that cannot (e.g. VGG19 weights missing) is still returned, with the
/// engine's message (which names the file to get and how) in LossRow::unavailable; training with it stays
/// refused at start by the trainer. Throws std::invalid_argument for an unknown spec or subspec.
std::vector<LossRow> buildRows(const QString& spec, const QString& subspec, const nectar::Config& config);
/// Why `row`'s loss cannot be built with `config` here (the engine's message), empty if it can (also for an
/// unknown operand: the model reports that).
QString unavailableReason(const LossRow& row, const nectar::Config& config);
/// The last epoch (1-based) of the run `config` plans (G's constant + decay epochs, as the trainer's LR plan);
/// 0 if the plan is invalid.
int lastEpoch(const nectar::Config& config);
/// G's and D's learning rate at the 1-based `epoch` of `config`'s plan (LrSchedule); {0, 0} if the plan
/// is invalid.
std::pair<double, double> learningRates(const nectar::Config& config, int epoch);

QStringList lossFunctionNames();
QString lossFunctionDescription(const QString& name);
QStringList operandNames();
QStringList blockTypeNames();
QStringList upsampleTypeNames();
/// Directions accepted by the data loader (config dataloader.direction).
QStringList directionNames();

struct DeviceEntry {
    QString id; ///< value for common.device: "auto", "cpu", "cuda:0", ...
    QString label; ///< what the combo shows
    bool enabled = true;
    QString reason; ///< why a disabled entry cannot be used
};
/// "auto", "cpu", and every "cuda:N" LibTorch reports; a disabled "cuda" entry says why when none.
std::vector<DeviceEntry> devices();

/// Folder of the user's JSON specs (created on save).
QString userSpecDirectory();
/// Writes the rows as a one-subspec ("default") JSON spec `name` into the user spec folder and
/// registers it at once. Refuses names of built-in or shipped specs. Returns the file, or an empty
/// string with *error set.
QString saveRowsAsSpec(
    const QString& name, const QString& description, const std::vector<LossRow>& rows, QString* error);

/// A preset as the GUI applies it: the spec choice, the resulting table and (if the file has
/// training settings) the resulting config.
struct PresetContent {
    QString spec;
    QString subspec;
    std::vector<LossRow> rows; ///< by name; a loss that cannot be built here has LossRow::unavailable set
    nectar::Config config; ///< `base` with the preset's spec/subspec and settings merged in
    bool hasSettings = false;
    QStringList warnings; ///< e.g. a loss of the spec the preset does not list (it keeps its weight)
};
/// Loads and fully applies a preset onto `base` without side effects. On any problem (not JSON,
/// unknown spec/subspec/loss, bad value) returns false and *error names the file, the key and the value.
bool loadPreset(const QString& path, const nectar::Config& base, PresetContent* out, QString* error);
/// Writes spec, subspec, every loss's weight/tags/schedule and (if `settings`) the training settings,
/// atomically. The rows must be the spec's losses (a table with added losses must be saved as a spec first).
bool savePreset(const QString& path, const QString& spec, const QString& subspec, const std::vector<LossRow>& rows,
    const nectar::Config* settings, QString* error);
/// Display name stored in a preset file (for menus); empty if unreadable.
QString presetName(const QString& path);
/// Bundled presets (specs/presets/*.json in the source tree or the installed data dir).
QStringList bundledPresets();

/// The bundled sample dataset (resources/sample-data/photo-colorize), source tree or installed copy.
QString sampleDatasetDirectory();

/// Config load/save with the engine's validation; false + *error (naming the file, path and value).
bool loadConfig(const QString& path, nectar::Config* out, QStringList* warnings, QString* error);
bool saveConfig(const nectar::Config& config, const QString& path, QString* error);
/// validate_config; false + *error naming the JSON path and value.
bool validateConfig(const nectar::Config& config, QString* error);

} // namespace engine

namespace engine {
/// The objective a saved run trained, as its newest train<K>_objective.json records it.
struct RunObjective {
    QString file; ///< empty: the run recorded none (NectarGAN's runs, or ours from before 0.1)
    QString spec;
    QString subspec;
    std::vector<LossRow> rows; ///< the spec's losses with the recorded weight, tags and schedule
};
/// Reads the newest objective record of `experimentDir` and builds its rows through the registry.
/// Returns true with an empty `file` when there is none; false with *error naming the file, the JSON
/// path and the value when it cannot be used (unknown spec or loss, bad value).
bool runObjective(const QString& experimentDir, RunObjective* out, QString* error);

/// What "Continue this run" loads into the Objective page.
struct ContinueContent {
    nectar::Config config; ///< the newest config copy, set to continue from `epoch` in the same folder
    int epoch = 0; ///< newest checkpoint epoch
    QString configFile; ///< the config copy it came from
    RunObjective objective; ///< the recorded objective, else (file empty) the spec with the config's lambdas
};
/// Reads an experiment folder of ours for continuing. False with *error (naming the folder) when it is
/// not named <name>_v<N>, has no config copy or no checkpoint, or its files cannot be used.
bool continueRun(const QString& experimentDir, ContinueContent* out, QString* error);

/// Tags of each loss of a saved run: from its recorded objective (train<K>_objective.json), else its
/// config copy (train<K>_config.json, highest K: its spec and subspec built through the registry), else
/// NectarGAN's name prefixes (G_ -> G, D_ -> D, other names untagged). *source says which was used.
/// `known`: the run's record when the caller has read it already (runObjective), so it is not read twice.
QMap<QString, QStringList> runLossTags(
    const QString& experimentDir, const QStringList& lossNames, QString* source, const RunObjective* known = nullptr);
/// The run's newest config copy (train<K>_config.json), empty if it has none.
QString latestConfigCopy(const QString& experimentDir);
/// Batch size from the run's config copy (1 if there is none).
int runBatchSize(const QString& experimentDir);

/// One difference between two runs (nectar::diff_runs): `loss` empty for spec/subspec and settings.
struct RunDifferenceRow {
    QString loss, field, a, b;
};
/// Loss-aware diff of two run folders' newest objective records and config copies
/// (training/run_compare.h): losses first (function, weight, schedule, tags, presence), then settings
/// by JSON path. Files that cannot be read are listed in *warnings (named), never thrown.
QList<RunDifferenceRow> compareRuns(const QString& dirA, const QString& dirB, QStringList* warnings = nullptr);
} // namespace engine
