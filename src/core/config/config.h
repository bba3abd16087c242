// SPDX-License-Identifier: Apache-2.0
#pragma once
/// @file Typed training configuration mirroring NectarGAN's config JSON
/// (`nectargan/config/default.json`, `config_manager.py` GROUP_SCHEMA): one struct per section. Choices are
/// enums (config/choices.h) written as their names; config.cpp names every key once, in one field table
/// per section that drives reading, writing and validation.
/// NectarGAN files load unchanged (missing keys take these defaults) and save back with the same keys.
/// Keys this product adds live in the same sections and are documented below.

#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "config/choices.h"
#include "util/error.h"

namespace nectar {

struct CommonConfig {
    std::string device = "cpu"; ///< "cpu" | "cuda" | "cuda:N" | "auto"
    std::vector<int> gpu_ids { 0 };
    std::string output_directory;
    std::string experiment_name = "NectarGAN";
    int experiment_version = 1;
    // --- product extensions ---
    int num_threads = 0; ///< intra-op threads; 0 = number of cores
    std::int64_t seed = 0; ///< < 0: non-deterministic
};

struct LoadConfig {
    int input_nc = 3;
    int load_size = 286; ///< pixels, each half resized to this before cropping
    int crop_size = 256; ///< pixels, <= load_size
};

/// Augmentations applied identically to input and target ("both"), or to the input only.
/// Values are kept as JSON so that keys we do not implement are preserved and reported once.
struct AugmentationsConfig {
    nlohmann::json both = nlohmann::json::object();
    nlohmann::json input = nlohmann::json::object();
    nlohmann::json target = nlohmann::json::object();
};

struct DataloaderConfig {
    std::string dataroot;
    Direction direction = Direction::AtoB; ///< "AtoB" | "BtoA" in files
    int batch_size = 1;
    int num_workers = 0; ///< 0 = decode in the training thread
    LoadConfig load;
    AugmentationsConfig augmentations;
};

struct LearningRateConfig {
    int epochs = 100; ///< epochs at constant LR
    int epochs_decay = 100; ///< epochs of linear decay to `target`
    double initial = 0.0002;
    double target = 0.0;
};

struct OptimizerConfig {
    double beta1 = 0.5;
};

struct GeneratorConfig {
    int features = 64;
    int n_downs = 6;
    UnetBlockType block_type = UnetBlockType::UnetBlock; ///< "UnetBlock" | "ResidualUnetBlock" in files
    UpsampleType upsample_type = UpsampleType::Transposed; ///< "Transposed" | "Bilinear" in files
    /// Product extension: ups (from the deepest) with Dropout(0.5), NectarGAN's UnetGenerator
    /// `use_dropout_layers` (3, not in its config). 0 makes training deterministic per sample, e.g. for
    /// comparing a data-parallel run with a single-process one.
    int use_dropout_layers = 3;
    LearningRateConfig learning_rate;
    OptimizerConfig optimizer;
};

struct DiscriminatorConfig {
    int n_layers = 3;
    int base_channels = 64;
    int max_channels = 512;
    LearningRateConfig learning_rate;
    OptimizerConfig optimizer;
};

struct TrainLoadConfig {
    bool continue_train = false;
    int load_epoch = 1;
};

/// Loss weights (lambdas) read by the pix2pix spec; other keys (for JSON specs) are kept in `extra`.
struct LossConfig {
    double lambda_gan = 1.0;
    double lambda_l1 = 100.0;
    double lambda_l2 = 0.0;
    double lambda_sobel = 0.0;
    double lambda_laplacian = 0.0;
    double lambda_vgg = 0.0;
    // --- product extensions ---
    std::string spec = "pix2pix"; ///< loss spec name in the SpecRegistry
    std::string subspec = "basic";
    std::string vgg_weights; ///< path to torchvision's vgg19-dcbb9e9d.pth; empty = search the torch hub cache
    std::map<std::string, double> extra; ///< further numeric keys (e.g. lambda_foo for JSON specs)
};

struct TrainConfig {
    bool separate_lr_schedules = false;
    TrainLoadConfig load;
    GeneratorConfig generator;
    DiscriminatorConfig discriminator;
    LossConfig loss;
    // --- product extensions ---
    NonFinitePolicy nonfinite_policy = NonFinitePolicy::Stop; ///< "stop" | "skip" | "ignore" (training/nonfinite.h)
    int log_dump_rate = 1; ///< epochs between loss_log.json dumps
    int update_rate = 50; ///< iterations between progress reports to observers
    int history_buffer_size = 50000; ///< values buffered per loss before an automatic log dump
};

struct SaveConfig {
    bool save_model = true;
    int model_save_rate = 5; ///< epochs
    bool auto_increment_version = true;
    bool save_examples = true;
    int example_save_rate = 1; ///< epochs
    int num_examples = 1;
};

struct VisdomConfig {
    bool enable = false;
    std::string env_name = "main";
    std::string server = "http://localhost";
    int port = 8097;
    int image_size = 400;
    int update_frequency = 40;
};

struct VisualizerConfig {
    VisdomConfig visdom;
};

/// The whole config. JSON form: {"config": {"common": .., "dataloader": .., "train": .., "save": .., "visualizer":
/// ..}}.
struct Config {
    CommonConfig common;
    DataloaderConfig dataloader;
    TrainConfig train;
    SaveConfig save;
    VisualizerConfig visualizer;
    /// Keys found in the file that no struct field knows, by JSON pointer ("/config/foo/bar"); written back on save.
    nlohmann::json unknown = nlohmann::json::object();

    /// Looks up a numeric config value by dotted key, e.g. "train.loss.lambda_l1"
    /// (also "train.loss.<extra key>"). Throws std::invalid_argument naming the key.
    double number(const std::string& dotted_key) const;
};

/// Error in a config file or value. what() names the file (if any), the JSON path and the bad value.
class ConfigError : public InputError {
public:
    using InputError::InputError;
};

/// Which product-extension keys (see config_extension_keys()) config_to_json writes.
enum class ExtensionKeys {
    NonDefault, ///< only those that differ from the defaults: a NectarGAN file saves back unchanged
    Always ///< all of them (a complete, self-describing file)
};

/// JSON pointers of the keys this product adds to NectarGAN's layout (e.g. "/config/train/loss/spec").
/// train.loss `extra` keys are not listed: they are written whenever present.
const std::vector<std::string>& config_extension_keys();

/// Parses {"config": {...}} (the NectarGAN layout) and validates it (validate_config).
/// Missing keys take defaults; unknown keys go to Config::unknown and are reported through `warnings`
/// (one line each); unknown NUMERIC keys under train.loss go to LossConfig::extra instead (usable as
/// spec weights; a warning only when the name does not start with "lambda_").
/// Throws ConfigError "<source>: <JSON path>: <problem> (got <value>)" for a wrong JSON type or a bad value.
Config config_from_json(
    const nlohmann::json& j, std::vector<std::string>* warnings = nullptr, const std::string& source = {});
/// Writes the NectarGAN layout including unknown keys and (per `ext`) product extensions.
/// Keys come out in alphabetical order (nlohmann::json objects are sorted); the values are NectarGAN's.
nlohmann::json config_to_json(const Config& c, ExtensionKeys ext = ExtensionKeys::NonDefault);
/// Throws ConfigError naming the JSON path and value: negative / non-finite lambdas, crop_size > load_size,
/// batch_size < 1, both LR epochs 0, a bad device, ... (an unknown choice name is an error when the file is
/// read: the enums cannot hold one).
void validate_config(const Config& c, const std::string& source = {});
/// Parses a config document from text with the strict reader (util/json_read.h, json_limits::config(): 4 MiB,
/// depth 512, ...) and then config_from_json. `source` names the file in messages. Throws only ConfigError
/// for bad input, "<source>: <JSON path>: <problem>" (a syntax error or limit also gives line, column and byte).
/// The fuzzers' entry point.
Config config_from_text(std::string_view text, const std::string& source, std::vector<std::string>* warnings = nullptr);
/// Reads and validates a config file (config_from_text). Throws ConfigError naming the file: missing, a folder,
/// not a regular file, unreadable, larger than 4 MiB (refused before it is read), or bad content.
Config load_config_file(const std::string& path, std::vector<std::string>* warnings = nullptr);
/// Atomic write (QSaveFile: temp file + rename), 4-space indent like NectarGAN's export_config.
/// Throws std::runtime_error naming the file.
void save_config_file(const Config& c, const std::string& path, ExtensionKeys ext = ExtensionKeys::NonDefault);

/// Per-section nlohmann serializers. to_json writes every field (extensions included).
/// A standalone from_json (e.g. `j.get<LossConfig>()`) starts from the defaults, reads the keys it knows,
/// and throws ConfigError (JSON path relative to the section, e.g. "/lambda_l1") for a wrong type or an
/// unknown key; config_from_json instead keeps unknown keys in Config::unknown. Values are not range-checked
/// here: validate_config does that.
void to_json(nlohmann::json& j, const CommonConfig& c);
void from_json(const nlohmann::json& j, CommonConfig& c);
void to_json(nlohmann::json& j, const LoadConfig& c);
void from_json(const nlohmann::json& j, LoadConfig& c);
void to_json(nlohmann::json& j, const AugmentationsConfig& c);
void from_json(const nlohmann::json& j, AugmentationsConfig& c);
void to_json(nlohmann::json& j, const DataloaderConfig& c);
void from_json(const nlohmann::json& j, DataloaderConfig& c);
void to_json(nlohmann::json& j, const LearningRateConfig& c);
void from_json(const nlohmann::json& j, LearningRateConfig& c);
void to_json(nlohmann::json& j, const OptimizerConfig& c);
void from_json(const nlohmann::json& j, OptimizerConfig& c);
void to_json(nlohmann::json& j, const GeneratorConfig& c);
void from_json(const nlohmann::json& j, GeneratorConfig& c);
void to_json(nlohmann::json& j, const DiscriminatorConfig& c);
void from_json(const nlohmann::json& j, DiscriminatorConfig& c);
void to_json(nlohmann::json& j, const TrainLoadConfig& c);
void from_json(const nlohmann::json& j, TrainLoadConfig& c);
void to_json(nlohmann::json& j, const LossConfig& c);
void from_json(const nlohmann::json& j, LossConfig& c);
void to_json(nlohmann::json& j, const TrainConfig& c);
void from_json(const nlohmann::json& j, TrainConfig& c);
void to_json(nlohmann::json& j, const SaveConfig& c);
void from_json(const nlohmann::json& j, SaveConfig& c);
void to_json(nlohmann::json& j, const VisdomConfig& c);
void from_json(const nlohmann::json& j, VisdomConfig& c);
void to_json(nlohmann::json& j, const VisualizerConfig& c);
void from_json(const nlohmann::json& j, VisualizerConfig& c);
/// Same as config_to_json(c, ExtensionKeys::Always) / config_from_json(j).
void to_json(nlohmann::json& j, const Config& c);
void from_json(const nlohmann::json& j, Config& c);

} // namespace nectar
