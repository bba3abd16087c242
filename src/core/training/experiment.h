// SPDX-License-Identifier: Apache-2.0
#pragma once
/// @file Experiment folders (NectarGAN `Trainer.build_output_directory` / `export_config`):
/// `output_directory/<experiment_name>_v<N>` with an `examples/` sub-folder.
///
/// Differences from NectarGAN, on purpose: auto-increment picks max(N)+1 over folders named exactly
/// `<experiment_name>_v<N>` compared as numbers (NectarGAN sorts names, so v10 sorts before v9), and every
/// run writes its own config copy `train<K>_config.json` (K = 1 for a fresh run, 2, 3, ... per continue)
/// and, next to it, the objective it trained, `train<K>_objective.json` (a preset with every loss's
/// weight, tags and schedule; NectarGAN records only the config lambdas).
/// This header is the one place that builds or parses these names.

#include <optional>
#include <string>
#include <vector>

namespace nectar {

struct Config;

struct ExperimentPaths {
    std::string dir; ///< absolute path of the experiment folder
    std::string examples; ///< dir + "/examples"
    int version = 1;
};

/// Versions N of existing folders `<name>_v<N>` in `output_directory`, ascending (numeric order).
std::vector<int> existing_experiment_versions(const std::string& output_directory, const std::string& name);

/// Chooses the experiment folder for a run without creating anything (the checks and the version of
/// prepare_experiment_dir), so a run can check everything else before its folder exists.
///  - continue_train: uses `<name>_v<experiment_version>`, which must exist (std::runtime_error listing
///    the versions that exist otherwise);
///  - fresh run: `<name>_v<experiment_version>` if free, else with auto_increment_version the next
///    version after the largest existing one, else std::runtime_error naming the folder.
/// An empty output_directory means the current directory. Throws std::runtime_error if a folder
/// cannot be created (naming it).
ExperimentPaths plan_experiment_dir(const Config& config);

/// Creates `paths.dir` and its examples/ folder (existing ones are kept). Throws std::runtime_error naming
/// the folder that cannot be created.
void create_experiment_dir(const ExperimentPaths& paths);

/// Chooses and creates the experiment folder for a run: plan_experiment_dir + create_experiment_dir.
ExperimentPaths prepare_experiment_dir(const Config& config);

/// Path of the next free `train<K>_config.json` in `experiment_dir` (K = 1, 2, ...).
std::string next_config_copy_path(const std::string& experiment_dir);

/// The newest config copy of an experiment: `train<K>_config.json` with the largest K, or "" when the
/// folder has none (or cannot be read). The settings a continued run should start from.
std::string latest_config_copy_path(const std::string& experiment_dir);

/// Writes the config copy for this run (atomic); returns its path.
std::string write_config_copy(const Config& config, const std::string& experiment_dir);

/// The objective record of the run whose config copy is `config_copy_path`:
/// `.../train<K>_config.json` -> `.../train<K>_objective.json`. Throws std::invalid_argument for a path
/// not named train<K>_config.json.
std::string objective_copy_path(const std::string& config_copy_path);

/// The newest objective record of an experiment: `train<K>_objective.json` with the largest K, or "" when
/// there is none (runs made before objectives were recorded). What a continued run trains by default.
std::string latest_objective_copy_path(const std::string& experiment_dir);

/// An experiment folder's place: `<output_directory>/<name>_v<version>`.
struct ExperimentFolder {
    std::string output_directory; ///< absolute, normalised
    std::string name;
    int version = 1;
};
/// Splits an experiment folder path (need not exist). std::nullopt when its last component is not named
/// `<name>_v<N>` (N: 1 to 9 digits).
std::optional<ExperimentFolder> parse_experiment_folder(const std::string& dir);

} // namespace nectar
