// SPDX-License-Identifier: Apache-2.0
#include "training/experiment.h"

#include <algorithm>
#include <filesystem>
#include <regex>
#include <stdexcept>

#include "config/config.h"

namespace fs = std::filesystem;

namespace nectar {

namespace {

std::string join_ints(const std::vector<int>& v)
{
    std::string s;
    for (size_t i = 0; i < v.size(); ++i)
        s += (i ? ", " : "") + std::to_string(v[i]);
    return s.empty() ? "none" : s;
}

void make_dir(const fs::path& p)
{
    std::error_code ec;
    fs::create_directories(p, ec);
    if (ec || !fs::is_directory(p))
        throw std::runtime_error("cannot create folder " + p.string() + ": " + ec.message());
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

ExperimentPaths prepare_experiment_dir(const Config& config)
{
    const fs::path root
        = config.common.output_directory.empty() ? fs::current_path() : fs::path(config.common.output_directory);
    const std::string& name = config.common.experiment_name;
    if (name.empty() || name.find('/') != std::string::npos)
        throw std::runtime_error(
            "common.experiment_name = \"" + name + "\": expected a non-empty folder name without '/'");
    const auto versions = existing_experiment_versions(root.string(), name);
    int version = config.common.experiment_version;
    auto dir_of = [&](int v) { return root / (name + "_v" + std::to_string(v)); };

    if (config.train.load.continue_train) {
        if (!fs::is_directory(dir_of(version)))
            throw std::runtime_error("cannot continue training: experiment folder " + dir_of(version).string()
                + " does not exist (common.experiment_version = " + std::to_string(version)
                + "; existing versions of \"" + name + "\" in " + root.string() + ": " + join_ints(versions) + ")");
    } else if (fs::exists(dir_of(version))) {
        if (!config.save.auto_increment_version)
            throw std::runtime_error("experiment folder " + dir_of(version).string()
                + " already exists; raise common.experiment_version or enable "
                  "save.auto_increment_version");
        version = versions.empty() ? version + 1 : std::max(version, versions.back()) + 1;
    }
    ExperimentPaths p;
    p.version = version;
    p.dir = fs::absolute(dir_of(version)).lexically_normal().string();
    p.examples = (fs::path(p.dir) / "examples").string();
    make_dir(p.dir);
    make_dir(p.examples);
    return p;
}

std::string next_config_copy_path(const std::string& experiment_dir)
{
    for (int k = 1;; ++k) {
        const fs::path p = fs::path(experiment_dir) / ("train" + std::to_string(k) + "_config.json");
        if (!fs::exists(p))
            return p.string();
    }
}

std::string latest_config_copy_path(const std::string& experiment_dir)
{
    static const std::regex re("train([0-9]{1,9})_config\\.json");
    long best = -1;
    std::string path;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(experiment_dir, ec)) {
        std::smatch m;
        const std::string name = e.path().filename().string();
        if (std::regex_match(name, m, re) && std::stol(m[1].str()) > best) {
            best = std::stol(m[1].str());
            path = e.path().string();
        }
    }
    return path;
}

std::string write_config_copy(const Config& config, const std::string& experiment_dir)
{
    const std::string path = next_config_copy_path(experiment_dir);
    save_config_file(config, path);
    return path;
}

} // namespace nectar
