// SPDX-License-Identifier: Apache-2.0
#include "specs/spec_registry.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>

#include <QCoreApplication>
#include <QStandardPaths>

#include "config/config.h"
#include "specs/pix2pix.h"
#include "specs/spec_definition.h"

namespace nectar {

namespace fs = std::filesystem;

namespace {

std::string join(const std::vector<std::string>& items)
{
    std::string out;
    for (const auto& s : items)
        out += (out.empty() ? "" : ", ") + s;
    return out;
}

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
    static SpecRegistry registry = [] {
        SpecRegistry r;
        r.add(pix2pix_spec_info());
        return r;
    }();
    return registry;
}

void SpecRegistry::add(SpecInfo info, bool replace)
{
    if (info.name.empty())
        throw std::invalid_argument("SpecRegistry::add: the spec name is empty");
    if (!info.build)
        throw std::invalid_argument("SpecRegistry::add: spec \"" + info.name + "\" has no build function");
    if (info.subspecs.empty())
        throw std::invalid_argument("SpecRegistry::add: spec \"" + info.name + "\" declares no subspecs");
    auto it = m_specs.find(info.name);
    if (it != m_specs.end() && !replace)
        throw std::invalid_argument("Spec \"" + info.name + "\" is already registered (from " + it->second.source +
                                    ")");
    m_specs[info.name] = std::move(info);
}

bool SpecRegistry::contains(const std::string& name) const { return m_specs.count(name) > 0; }

std::vector<std::string> SpecRegistry::names() const
{
    std::vector<std::string> out;
    for (const auto& [name, info] : m_specs)
        out.push_back(name);
    return out;
}

const SpecInfo& SpecRegistry::info(const std::string& name) const
{
    auto it = m_specs.find(name);
    if (it == m_specs.end())
        throw std::invalid_argument("Unknown loss spec \"" + name + "\"; registered specs: " + join(names()));
    return it->second;
}

std::map<std::string, LMLoss> SpecRegistry::build(const std::string& spec, const std::string& subspec,
                                                  const Config& config) const
{
    const SpecInfo& i = info(spec);
    if (std::find(i.subspecs.begin(), i.subspecs.end(), subspec) == i.subspecs.end())
        throw std::invalid_argument("Unknown subspec \"" + subspec + "\" for spec \"" + spec +
                                    "\"; valid subspecs: " + join(i.subspecs));
    return i.build(config, subspec);
}

void SpecRegistry::load_file(const std::string& path, bool replace)
{
    SpecDefinition def = load_spec_file(path);
    auto it = m_specs.find(def.name);
    if (it != m_specs.end()) {
        SpecInfo& existing = it->second;
        if (existing.source == "built-in") {
            if (std::find(existing.declared_in.begin(), existing.declared_in.end(), path) ==
                existing.declared_in.end())
                existing.declared_in.push_back(path);
            return;
        }
        if (!replace && existing.source != path)
            throw SpecError(path + ": /name: spec \"" + def.name + "\" is already registered from " +
                            existing.source);
    }
    m_specs[def.name] = def.to_info(path);
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
            continue;  // the user folder is optional
        auto p = load_directory(dir, true);
        problems.insert(problems.end(), p.begin(), p.end());
    }
    return problems;
}

} // namespace nectar
