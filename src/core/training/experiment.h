// SPDX-License-Identifier: Apache-2.0
#pragma once
/// @file Experiment folders (NectarGAN `Trainer.build_output_directory` / `export_config`):
/// `output_directory/<experiment_name>_v<N>` with an `examples/` sub-folder.
///
/// Differences from NectarGAN, on purpose: auto-increment picks max(N)+1 over folders named exactly
/// `<experiment_name>_v<N>` compared as numbers (NectarGAN sorts names, so v10 sorts before v9), and every
/// run writes its own config copy `train<K>_config.json` (K = 1 for a fresh run, 2, 3, ... per continue).

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

/// Chooses and creates the experiment folder for a run.
///  - continue_train: uses `<name>_v<experiment_version>`, which must exist (std::runtime_error listing
///    the versions that exist otherwise);
///  - fresh run: `<name>_v<experiment_version>` if free, else with auto_increment_version the next
///    version after the largest existing one, else std::runtime_error naming the folder.
/// An empty output_directory means the current directory. Throws std::runtime_error if a folder
/// cannot be created (naming it).
ExperimentPaths prepare_experiment_dir(const Config& config);

/// Path of the next free `train<K>_config.json` in `experiment_dir` (K = 1, 2, ...).
std::string next_config_copy_path(const std::string& experiment_dir);

/// The newest config copy of an experiment: `train<K>_config.json` with the largest K, or "" when the
/// folder has none (or cannot be read). The settings a continued run should start from.
std::string latest_config_copy_path(const std::string& experiment_dir);

/// Writes the config copy for this run (atomic); returns its path.
std::string write_config_copy(const Config& config, const std::string& experiment_dir);

} // namespace nectar
