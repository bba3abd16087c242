// SPDX-License-Identifier: Apache-2.0
#pragma once
/// @file Loss specs: named objectives that map (config, subspec) to named LMLoss entries
/// (NectarGAN `nectargan.losses.pix2pix_objective`). Built-in specs are C++ functions; more are
/// declared as JSON files under specs/ and a user folder (format: objective/spec_definition.h).
/// Thread-safe: the GUI may list specs while a training thread (re)loads the spec folders. A reference
/// returned by info() stays valid for the registry's lifetime, even if the spec is replaced later.

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include "losses/lm_types.h"
#include "objective/loss_spec.h"
#include "util/error.h"

namespace nectar {

struct Config;

/// (config, subspec) -> the losses it declares, in declaration order, with weights resolved against the config
/// (no functions built: see build_loss). Throws std::invalid_argument for an unknown subspec.
using SpecFn = std::function<std::vector<LossSpec>(const Config&, const std::string& subspec)>;

struct SpecInfo {
    std::string name;
    std::string description;
    std::vector<std::string> subspecs; ///< matched exactly
    std::string source; ///< "built-in" or the JSON file path
    SpecFn losses;
    /// For a built-in spec: JSON files that declare a spec of the same name (e.g. specs/pix2pix.json).
    /// They were parsed and validated but do not replace the C++ spec (see load_file()).
    std::vector<std::string> declared_in;
};

class SpecRegistry {
public:
    /// Process-wide registry with the built-in specs (pix2pix).
    static SpecRegistry& instance();

    /// Adds or (replace = true) replaces a spec. Throws std::invalid_argument on a duplicate name.
    void add(SpecInfo info, bool replace = false);
    bool contains(const std::string& name) const;
    std::vector<std::string> names() const;
    /// Throws std::invalid_argument listing the valid spec names.
    const SpecInfo& info(const std::string& name) const;
    /// The losses spec/subspec declares (LossSpec values, nothing built); an unknown spec or subspec is a
    /// std::invalid_argument listing the valid ones.
    std::vector<LossSpec> loss_specs(const std::string& spec, const std::string& subspec, const Config& config) const;
    /// loss_specs() built (build_losses): functions and modules created (a VGG loss loads its weights).
    std::map<std::string, LMLoss> build(
        const std::string& spec, const std::string& subspec, const Config& config) const;

    /// Loads every *.json spec in `dir` (non-recursive). Invalid files do not stop the others:
    /// each problem is returned as one message naming the file, the JSON path and the problem.
    std::vector<std::string> load_directory(const std::string& dir, bool replace = true);
    /// Loads one JSON spec file; throws SpecError naming the file, the JSON path and the problem.
    /// `replace` lets a file replace a spec loaded from another file (the user folder is loaded after
    /// the shipped one, so a user file overrides a shipped spec of the same name). Built-in (C++)
    /// specs are never replaced by a file: a valid file with a built-in's name is recorded in that
    /// spec's SpecInfo::declared_in instead (specs/pix2pix.json is the declarative twin of the C++
    /// pix2pix spec; tests check that both build the same losses). With replace = false a clash with
    /// another file's spec is a SpecError.
    void load_file(const std::string& path, bool replace = true);

    /// Directories searched by load_default_directories(): the first existing shipped specs folder
    /// (next to the executable: <exe dir>/specs or <exe dir>/../share/nectar-toolbox/specs; then the
    /// source tree's specs/ (NECTAR_SPECS_SOURCE_DIR); then the install dir NECTAR_SPECS_INSTALL_DIR),
    /// then the user folder (see user_spec_directory()), which may not exist yet.
    static std::vector<std::string> default_directories();
    /// User spec folder: $NECTAR_SPECS_DIR if set, else ~/.local/share/nectar-toolbox/specs.
    static std::string user_spec_directory();
    /// Loads default_directories() in order (a missing user folder is skipped); returns the problems.
    std::vector<std::string> load_default_directories();

private:
    mutable std::mutex m_mutex;
    std::map<std::string, std::shared_ptr<const SpecInfo>> m_specs;
    /// Replaced entries stay alive, so a reference from info() never dangles.
    std::vector<std::shared_ptr<const SpecInfo>> m_retired;
    /// name -> "<file>\n<definition JSON>" of file-loaded specs: reloading an unchanged file is a no-op.
    std::map<std::string, std::string> m_loaded;
};

class SpecError : public InputError {
public:
    using InputError::InputError;
};

} // namespace nectar
