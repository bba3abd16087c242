// SPDX-License-Identifier: Apache-2.0
#pragma once
/// @file Declarative loss specs: the JSON file format under specs/ and the user spec folder, and the
/// value type the GUI's "Save as spec…" writes. Free of LibTorch types, so GUI headers may include it.
///
/// File format (schema_version 1), e.g. specs/pix2pix.json:
/// @code
/// {
///   "schema_version": 1,
///   "name": "pix2pix",                        // [A-Za-z0-9_.+-]+
///   "description": "one line for the GUI",
///   "subspecs": ["basic", "extended"],        // matched exactly, at least one
///   "losses": [
///     {"name": "G_GAN", "function": "BCEWithLogits",   // LossFunctionRegistry name
///      "weight": "train.loss.lambda_gan",              // number, config key, or {"key": .., "default": ..}
///      "tags": ["G"], "inputs": ["D_fake", "ones"],    // operands: input real fake D_fake D_real ones zeros
///      "schedule": {"schedule": "linear", "start_epoch": 1, "end_epoch": 10,
///                   "initial_value": 0, "target_value": 1},   // optional (Schedule JSON)
///      "subspecs": ["extended"]}                       // optional: omitted = every subspec
///   ]
/// }
/// @endcode
/// Unknown keys are errors (typos must not be ignored). A config-key weight must name a numeric key
/// of the default Config (e.g. "train.loss.lambda_l1"), unless the object form gives a "default",
/// which is used when the key is absent (for extra keys like "train.loss.lambda_foo").

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "scheduling/schedule.h"

namespace nectar {

struct Config;
struct LMLoss;
struct LossSpec;
struct SpecInfo;

/// A loss weight: a fixed number or a numeric config value looked up when the spec is built.
struct SpecWeight {
    double value = 1.0; ///< the weight when `key` is empty; the fallback when `has_default`
    std::string key; ///< dotted config key, e.g. "train.loss.lambda_l1" (see Config::number)
    bool has_default = false; ///< `key` absent from the config -> `value` (else an error)

    /// Throws std::invalid_argument naming the key if it is missing (and no default) or not a number.
    double resolve(const Config& config) const;
    bool operator==(const SpecWeight& o) const
    {
        return value == o.value && key == o.key && has_default == o.has_default;
    }
};

/// One loss of a declarative spec.
struct SpecLossDefinition {
    std::string name; ///< unique within each subspec, e.g. "G_L1"
    std::string function; ///< LossFunctionRegistry name, e.g. "L1"
    SpecWeight weight;
    std::vector<std::string> tags; ///< e.g. {"G"}
    Schedule schedule; ///< Kind::None: constant weight
    std::string prediction = "fake"; ///< first operand (see operand_names())
    std::string target = "real"; ///< second operand
    std::vector<std::string> subspecs; ///< empty = every subspec of the spec

    bool in_subspec(const std::string& subspec) const;
};

/// A whole declarative spec (one JSON file).
struct SpecDefinition {
    static constexpr int kSchemaVersion = 1;

    std::string name;
    std::string description;
    std::vector<std::string> subspecs;
    std::vector<SpecLossDefinition> losses;

    /// Checks names, subspec lists, functions (against LossFunctionRegistry), weights (finite >= 0;
    /// config keys must exist in the default Config unless a default is given), operands, schedules.
    /// Throws SpecError "<source>: <JSON path>: <problem>", e.g. "my.json: /losses/2/function: ...".
    void validate(const std::string& source = {}) const;

    /// The losses of `subspec` with functions created by LossFunctionRegistry and weights resolved
    /// against `config`. Throws std::invalid_argument for an unknown subspec (listing the valid ones)
    /// or an unresolvable weight key; std::runtime_error from a loss factory (e.g. VGG19 weights missing).
    std::map<std::string, LMLoss> build(const Config& config, const std::string& subspec) const;
    /// The losses of `subspec` as LossSpec values (weights resolved; nothing built). Same errors as build()
    /// except the loss factories'.
    std::vector<LossSpec> loss_specs(const Config& config, const std::string& subspec) const;

    /// Registry entry whose SpecFn builds from a copy of this definition.
    SpecInfo to_info(const std::string& source) const;

    /// A one-subspec definition from registered losses (the GUI's "Save as spec…"): function names,
    /// current loss_weight, tags, inputs and schedules are taken from the losses. `weight_keys`
    /// (loss name -> config key) keeps a weight linked to the config instead of freezing its number.
    /// Throws SpecError if a loss has no function_name or a custom (C++) schedule.
    static SpecDefinition from_losses(const std::string& name, const std::string& description,
        const std::map<std::string, LMLoss>& losses, const std::string& subspec = "default",
        const std::map<std::string, std::string>& weight_keys = {});
};

/// Writes the file format above (schema_version included; "schedule" and loss "subspecs" only when set).
void to_json(nlohmann::json& j, const SpecDefinition& spec);
/// Same as spec_from_json(j) (no file name in errors).
void from_json(const nlohmann::json& j, SpecDefinition& spec);
/// Parses and validates. Throws SpecError "<source>: <JSON path>: <problem>".
SpecDefinition spec_from_json(const nlohmann::json& j, const std::string& source = {});
/// Parses a spec from text with the strict reader (util/json_read.h, json_limits::spec(): 1 MiB, depth 512, ...)
/// and validates it (spec_from_json). Throws only SpecError for bad input, "<source>: <JSON path>: <problem>".
/// The fuzzers' entry point.
SpecDefinition spec_from_text(std::string_view text, const std::string& source);
/// Reads a spec file with spec_from_text. Throws SpecError naming the file: missing, a folder, not a regular
/// file, unreadable, larger than 1 MiB (refused before it is read), or bad content (line/column for bad JSON).
SpecDefinition load_spec_file(const std::string& path);
/// Validates, then writes atomically (QSaveFile: temp file + rename). Throws SpecError naming the file.
void save_spec_file(const SpecDefinition& spec, const std::string& path);

} // namespace nectar
