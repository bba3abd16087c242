// SPDX-License-Identifier: Apache-2.0
#include "objective/spec_registry.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>

#include <QCoreApplication>
#include <QStandardPaths>

#include <nlohmann/json.hpp>

#include "config/config.h"
#include "objective/pix2pix.h"
#include "objective/spec_definition.h"
#include "util/error_text.h"
#include "util/strings.h"

namespace nectar {

namespace fs = std::filesystem;

namespace {

bool is_dir(const fs::path& p)
{
    std::error_code ec;
    return !p.empty() && fs::is_directory(p, ec);
}

fs::path executable_dir()
{
    if (QCoreApplication::instance())
        return fs::path(QCoreApplication::applicationDirPath().toStdString());
    std::error_code ec;
    const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
    return ec ? fs::path() : exe.parent_path();
}

} // namespace

SpecRegistry& SpecRegistry::instance()
{
    // Never destroyed: specs may still be used from other static destructors / threads at exit.
    static SpecRegistry* registry = [] {
        auto* r = new SpecRegistry;
        r->add(pix2pix_spec_info());
        return r;
    }();
    return *registry;
}

void SpecRegistry::add(SpecInfo info, bool replace)
{
    if (info.name.empty())
        throw std::invalid_argument("SpecRegistry::add: the spec name is empty");
    if (!info.losses)
        throw std::invalid_argument("SpecRegistry::add: spec \"" + info.name + "\" has no build function");
    if (info.subspecs.empty())
        throw std::invalid_argument("SpecRegistry::add: spec \"" + info.name + "\" declares no subspecs");
    std::lock_guard<std::mutex> lock(m_mutex);
    auto it = m_specs.find(info.name);
    if (it != m_specs.end()) {
        if (!replace)
            throw std::invalid_argument(
                "Spec \"" + info.name + "\" is already registered (from " + it->second->source + ")");
        m_retired.push_back(it->second);
    }
    m_loaded.erase(info.name);
    const std::string name = info.name;
    m_specs[name] = std::make_shared<const SpecInfo>(std::move(info));
}

bool SpecRegistry::contains(const std::string& name) const
{
    std::lock_guard<std::mutex> lock(m_mutex);
    return m_specs.count(name) > 0;
}

std::vector<std::string> SpecRegistry::names() const
{
    std::lock_guard<std::mutex> lock(m_mutex);
    std::vector<std::string> out;
    for (const auto& [name, info] : m_specs)
        out.push_back(name);
    return out;
}

const SpecInfo& SpecRegistry::info(const std::string& name) const
{
    std::lock_guard<std::mutex> lock(m_mutex);
    auto it = m_specs.find(name);
    if (it == m_specs.end()) {
        std::vector<std::string> valid;
        for (const auto& kv : m_specs)
            valid.push_back(kv.first);
        throw std::invalid_argument("Unknown loss spec \"" + detail::printable(detail::bounded_text(name))
            + "\"; registered specs: " + join(valid));
    }
    return *it->second;
}

std::map<std::string, LMLoss> SpecRegistry::build(
    const std::string& spec, const std::string& subspec, const Config& config) const
{
    // Outside the registry's lock: building may load VGG19 weights.
    return build_losses(loss_specs(spec, subspec, config), config);
}

std::vector<LossSpec> SpecRegistry::loss_specs(
    const std::string& spec, const std::string& subspec, const Config& config) const
{
    std::shared_ptr<const SpecInfo> entry;
    {
        std::lock_guard<std::mutex> lock(m_mutex);
        auto it = m_specs.find(spec);
        if (it != m_specs.end())
            entry = it->second;
    }
    if (!entry)
        (void)info(spec); // throws, listing the registered specs
    if (std::find(entry->subspecs.begin(), entry->subspecs.end(), subspec) == entry->subspecs.end())
        throw std::invalid_argument("Unknown subspec \"" + detail::printable(detail::bounded_text(subspec))
            + "\" for spec \"" + detail::printable(detail::bounded_text(spec))
            + "\"; valid subspecs: " + join(entry->subspecs));
    return entry->losses(config, subspec);
}

void SpecRegistry::load_file(const std::string& path, bool replace)
{
    SpecDefinition def = load_spec_file(path); // file I/O and validation outside the lock
    const std::string fingerprint = path + "\n" + nlohmann::json(def).dump();
    std::lock_guard<std::mutex> lock(m_mutex);
    auto it = m_specs.find(def.name);
    if (it != m_specs.end()) {
        const SpecInfo& existing = *it->second;
        if (existing.source == "built-in") {
            if (std::find(existing.declared_in.begin(), existing.declared_in.end(), path)
                == existing.declared_in.end()) {
                auto updated = std::make_shared<SpecInfo>(existing);
                updated->declared_in.push_back(path);
                m_retired.push_back(it->second);
                it->second = std::move(updated);
            }
            return;
        }
        if (auto loaded = m_loaded.find(def.name); loaded != m_loaded.end() && loaded->second == fingerprint)
            return; // same file, unchanged
        if (!replace && existing.source != path)
            throw SpecError(path + ": /name: spec \"" + def.name + "\" is already registered from " + existing.source);
        m_retired.push_back(it->second);
    }
    m_specs[def.name] = std::make_shared<const SpecInfo>(def.to_info(path));
    m_loaded[def.name] = fingerprint;
}

std::vector<std::string> SpecRegistry::load_directory(const std::string& dir, bool replace)
{
    std::vector<std::string> problems;
    if (!is_dir(dir)) {
        problems.push_back(dir + ": spec folder not found");
        return problems;
    }
    std::vector<fs::path> files;
    std::error_code ec;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
        std::error_code fec;
        if (it->path().extension() == ".json" && it->is_regular_file(fec))
            files.push_back(it->path());
    }
    if (ec)
        problems.push_back(dir + ": cannot list the spec folder: " + ec.message());
    // Sorted, so that which file wins a name clash does not depend on the file system.
    std::sort(files.begin(), files.end());
    for (const fs::path& file : files) {
        try {
            load_file(file.string(), replace);
        } catch (const std::exception& e) {
            problems.emplace_back(e.what());
        }
    }
    return problems;
}

std::vector<std::string> SpecRegistry::default_directories()
{
    std::vector<std::string> dirs;
    std::vector<fs::path> shipped;
    const fs::path exe = executable_dir();
    if (!exe.empty()) {
        shipped.push_back(exe / "specs");
        shipped.push_back(exe.parent_path() / "share" / "nectar-toolbox" / "specs");
    }
#ifdef NECTAR_SPECS_SOURCE_DIR
    shipped.emplace_back(NECTAR_SPECS_SOURCE_DIR);
#endif
#ifdef NECTAR_SPECS_INSTALL_DIR
    shipped.emplace_back(NECTAR_SPECS_INSTALL_DIR);
#endif
    for (const fs::path& p : shipped) {
        if (is_dir(p)) {
            dirs.push_back(p.lexically_normal().string());
            break;
        }
    }
    const std::string user = user_spec_directory();
    if (std::find(dirs.begin(), dirs.end(), user) == dirs.end())
        dirs.push_back(user);
    return dirs;
}

std::string SpecRegistry::user_spec_directory()
{
    if (const char* env = std::getenv("NECTAR_SPECS_DIR"); env && *env)
        return env;
    const QString base = QStandardPaths::writableLocation(QStandardPaths::GenericDataLocation);
    return (fs::path(base.toStdString()) / "nectar-toolbox" / "specs").string();
}

std::vector<std::string> SpecRegistry::load_default_directories()
{
    std::vector<std::string> problems;
    const std::string user = user_spec_directory();
    for (const std::string& dir : default_directories()) {
        if (dir == user && !is_dir(dir))
            continue; // the user folder is optional
        auto p = load_directory(dir, true);
        problems.insert(problems.end(), p.begin(), p.end());
    }
    return problems;
}

} // namespace nectar
