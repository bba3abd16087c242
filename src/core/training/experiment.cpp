// SPDX-License-Identifier: Apache-2.0
#include "training/experiment.h"

#include <algorithm>
#include <filesystem>
#include <regex>
#include <stdexcept>

#include "config/config.h"
#include "util/limits.h"
#include "util/paths.h"
#include "util/strings.h"

namespace fs = std::filesystem;

namespace nectar {

namespace {

void make_dir(const fs::path& p)
{
    std::error_code ec;
    fs::create_directories(p, ec);
    if (ec || !fs::is_directory(p))
        throw std::runtime_error("cannot create folder " + display_path(p.string()) + ": " + ec.message());
}

} // namespace

std::vector<int> existing_experiment_versions(const std::string& output_directory, const std::string& name)
{
    std::vector<int> versions;
    const fs::path root = output_directory.empty() ? fs::current_path() : fs::path(output_directory);
    std::error_code ec;
    if (!fs::is_directory(root, ec))
        return versions;
    const std::string prefix = name + "_v";
    for (const auto& entry : fs::directory_iterator(root, ec)) {
        if (!entry.is_directory())
            continue;
        const std::string n = entry.path().filename().string();
        if (n.size() <= prefix.size() || n.compare(0, prefix.size(), prefix) != 0)
            continue;
        const std::string digits = n.substr(prefix.size());
        if (digits.size() > 9
            || !std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; }))
            continue;
        versions.push_back(std::stoi(digits));
    }
    std::sort(versions.begin(), versions.end());
    return versions;
}

ExperimentPaths plan_experiment_dir(const Config& config)
{
    const fs::path root
        = config.common.output_directory.empty() ? fs::current_path() : fs::path(config.common.output_directory);
    const std::string& name = config.common.experiment_name;
    if (name.empty() || name.find('/') != std::string::npos)
        throw std::runtime_error(
            "common.experiment_name = \"" + display_path(name) + "\": expected a non-empty folder name without '/'");
    const auto versions = existing_experiment_versions(root.string(), name);
    int version = config.common.experiment_version;
    auto dir_of = [&](int v) { return root / (name + "_v" + std::to_string(v)); };
    auto shown = [](const fs::path& p) { return display_path(p.string()); };
    // Checked before any arithmetic: a version has 1 to 9 digits, so --experiment can parse the folder back.
    if (version < 0 || version > limits::max_experiment_version)
        throw std::runtime_error("common.experiment_version = " + std::to_string(version) + ": expected 0 to "
            + std::to_string(limits::max_experiment_version));

    if (config.train.load.continue_train) {
        if (!fs::is_directory(dir_of(version)))
            throw std::runtime_error("cannot continue training: experiment folder " + shown(dir_of(version))
                + " does not exist (common.experiment_version = " + std::to_string(version)
                + "; existing versions of \"" + display_path(name) + "\" in " + shown(root) + ": "
                + join_numbers(versions) + ")");
    } else if (fs::exists(dir_of(version))) {
        if (!config.save.auto_increment_version)
            throw std::runtime_error("experiment folder " + shown(dir_of(version))
                + " already exists; raise common.experiment_version or enable "
                  "save.auto_increment_version");
        const int largest = versions.empty() ? version : std::max(version, versions.back());
        if (largest >= limits::max_experiment_version)
            throw std::runtime_error("cannot pick the next version after experiment folder " + shown(dir_of(largest))
                + ": versions go up to " + std::to_string(limits::max_experiment_version)
                + "; choose another common.experiment_name or output_directory");
        version = largest + 1;
    }
    ExperimentPaths p;
    p.version = version;
    p.dir = fs::absolute(dir_of(version)).lexically_normal().string();
    p.examples = (fs::path(p.dir) / "examples").string();
    return p;
}

void create_experiment_dir(const ExperimentPaths& paths)
{
    make_dir(paths.dir);
    make_dir(paths.examples);
}

ExperimentPaths prepare_experiment_dir(const Config& config)
{
    ExperimentPaths p = plan_experiment_dir(config);
    create_experiment_dir(p);
    return p;
}

namespace {

std::string run_file_name(int run, const char* kind)
{
    return "train" + std::to_string(run) + "_" + kind + ".json";
}

/// K of a file named train<K>_<kind>.json, else -1.
long run_of_file(const std::string& file_name, const std::string& kind)
{
    static const std::regex re("train([0-9]{1,9})_([a-z]+)\\.json");
    std::smatch m;
    if (!std::regex_match(file_name, m, re) || m[2].str() != kind)
        return -1;
    return std::stol(m[1].str());
}

/// train<K>_<kind>.json with the largest K in `dir`, or "".
std::string latest_run_file(const std::string& dir, const std::string& kind)
{
    long best = -1;
    std::string path;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(dir, ec)) {
        const long k = run_of_file(e.path().filename().string(), kind);
        if (k > best) {
            best = k;
            path = e.path().string();
        }
    }
    return path;
}

} // namespace

std::string next_config_copy_path(const std::string& experiment_dir)
{
    for (int k = 1;; ++k) {
        const fs::path p = fs::path(experiment_dir) / run_file_name(k, "config");
        if (!fs::exists(p))
            return p.string();
    }
}

std::string latest_config_copy_path(const std::string& experiment_dir)
{
    return latest_run_file(experiment_dir, "config");
}

std::string objective_copy_path(const std::string& config_copy_path)
{
    const fs::path p(config_copy_path);
    const long k = run_of_file(p.filename().string(), "config");
    if (k < 0)
        throw std::invalid_argument(
            "objective_copy_path(" + display_path(config_copy_path) + "): expected a file named train<K>_config.json");
    return (p.parent_path() / run_file_name(static_cast<int>(k), "objective")).string();
}

std::string latest_objective_copy_path(const std::string& experiment_dir)
{
    return latest_run_file(experiment_dir, "objective");
}

std::optional<ExperimentFolder> parse_experiment_folder(const std::string& dir)
{
    fs::path p = fs::absolute(dir).lexically_normal();
    if (!p.has_filename())
        p = p.parent_path(); // "run_v2/"
    static const std::regex re("(.+)_v([0-9]{1,9})");
    std::smatch m;
    const std::string name = p.filename().string();
    if (!std::regex_match(name, m, re))
        return std::nullopt;
    return ExperimentFolder { p.parent_path().string(), m[1].str(), std::stoi(m[2].str()) };
}

std::string write_config_copy(const Config& config, const std::string& experiment_dir)
{
    const std::string path = next_config_copy_path(experiment_dir);
    save_config_file(config, path);
    return path;
}

} // namespace nectar
