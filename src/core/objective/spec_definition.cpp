// SPDX-License-Identifier: Apache-2.0
#include "objective/spec_definition.h"
#include "util/error_text.h"

#include <algorithm>
#include <cmath>
#include <set>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "config/config.h"
#include "losses/lm_types.h"
#include "losses/loss_registry.h"
#include "objective/loss_spec.h"
#include "objective/spec_registry.h"
#include "util/atomic_file.h"
#include "util/json_read.h"
#include "util/strings.h"

namespace nectar {

using nlohmann::json;
using nlohmann::ordered_json;

namespace {

using detail::json_text;
using detail::located;
using detail::number_text;

[[noreturn]] void fail(const std::string& source, const std::string& path, const std::string& msg)
{
    throw SpecError(located(source, path, msg));
}

// Strict object reader: unknown keys are errors naming the allowed ones.
class Reader {
public:
    Reader(const json& j, std::string path, const std::string& source, std::vector<std::string> allowed)
        : m_j(j)
        , m_path(std::move(path))
        , m_source(source)
    {
        if (!j.is_object())
            fail(m_source, m_path, "expected an object, got " + json_text(j));
        for (auto it = j.begin(); it != j.end(); ++it)
            if (std::find(allowed.begin(), allowed.end(), it.key()) == allowed.end())
                fail(m_source, sub(detail::printable(detail::bounded_text(it.key()))),
                    "unknown key; expected one of: " + join(allowed));
    }

    std::string sub(const std::string& key) const { return m_path + "/" + key; }
    const json* find(const std::string& key) const
    {
        auto it = m_j.find(key);
        return it == m_j.end() ? nullptr : &*it;
    }
    const json& required(const std::string& key) const
    {
        const json* v = find(key);
        if (!v)
            fail(m_source, sub(key), "missing (required)");
        return *v;
    }
    std::string string(const std::string& key, bool is_required, const std::string& def = {}) const
    {
        const json* v = is_required ? &required(key) : find(key);
        if (!v)
            return def;
        if (!v->is_string())
            fail(m_source, sub(key), "expected a string, got " + json_text(*v));
        return v->get<std::string>();
    }
    std::vector<std::string> strings(const std::string& key, bool is_required) const
    {
        const json* v = is_required ? &required(key) : find(key);
        std::vector<std::string> out;
        if (!v)
            return out;
        if (!v->is_array())
            fail(m_source, sub(key), "expected an array of strings, got " + json_text(*v));
        for (std::size_t i = 0; i < v->size(); ++i) {
            if (!(*v)[i].is_string())
                fail(m_source, sub(key) + "/" + std::to_string(i), "expected a string, got " + json_text((*v)[i]));
            out.push_back((*v)[i].get<std::string>());
        }
        return out;
    }

private:
    const json& m_j;
    std::string m_path;
    const std::string& m_source;
};

SpecWeight parse_weight(const json& v, const std::string& path, const std::string& source)
{
    SpecWeight w;
    if (v.is_number()) {
        w.value = v.get<double>();
    } else if (v.is_string()) {
        w.key = v.get<std::string>();
    } else if (v.is_object()) {
        Reader r(v, path, source, { "key", "default" });
        w.key = r.string("key", true);
        if (const json* d = r.find("default")) {
            if (!d->is_number())
                fail(source, r.sub("default"), "expected a number, got " + json_text(*d));
            w.value = d->get<double>();
            w.has_default = true;
        }
    } else {
        fail(source, path,
            "expected a number, a config key such as \"train.loss.lambda_l1\", or {\"key\": .., \"default\": ..}; got "
                + json_text(v));
    }
    return w;
}

ordered_json spec_to_ordered(const SpecDefinition& spec)
{
    ordered_json j;
    j["schema_version"] = SpecDefinition::kSchemaVersion;
    j["name"] = spec.name;
    j["description"] = spec.description;
    j["subspecs"] = spec.subspecs;
    ordered_json losses = ordered_json::array();
    for (const SpecLossDefinition& l : spec.losses) {
        ordered_json e;
        e["name"] = l.name;
        e["function"] = l.function;
        if (l.weight.key.empty())
            e["weight"] = l.weight.value;
        else if (l.weight.has_default)
            e["weight"] = ordered_json { { "key", l.weight.key }, { "default", l.weight.value } };
        else
            e["weight"] = l.weight.key;
        e["tags"] = l.tags;
        e["inputs"] = { l.prediction, l.target };
        if (l.schedule.active()) {
            json s = l.schedule; // throws for Custom; validate() rejects those first
            e["schedule"] = ordered_json::parse(s.dump());
        }
        if (!l.subspecs.empty())
            e["subspecs"] = l.subspecs;
        losses.push_back(std::move(e));
    }
    j["losses"] = std::move(losses);
    return j;
}

bool valid_spec_name(const std::string& name)
{
    return !name.empty() && std::all_of(name.begin(), name.end(), [](char ch) {
        return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '_'
            || ch == '-' || ch == '+' || ch == '.';
    });
}

void write_atomically(const std::string& path, const std::string& text)
{
    try {
        write_file_atomically(path, text, "spec file");
    } catch (const std::runtime_error& e) {
        throw SpecError(e.what());
    }
}

} // namespace

double SpecWeight::resolve(const Config& config) const
{
    if (key.empty())
        return value;
    try {
        return config.number(key);
    } catch (const std::invalid_argument&) {
        if (has_default)
            return value;
        throw;
    }
}

bool SpecLossDefinition::in_subspec(const std::string& subspec) const
{
    return subspecs.empty() || std::find(subspecs.begin(), subspecs.end(), subspec) != subspecs.end();
}

void SpecDefinition::validate(const std::string& source) const
{
    if (!valid_spec_name(name))
        fail(source, "/name",
            "expected a non-empty name of letters, digits and _ - + . (got " + json_text(json(name)) + ")");
    if (subspecs.empty())
        fail(source, "/subspecs", "expected at least one subspec name");
    for (std::size_t k = 0; k < subspecs.size(); ++k) {
        const std::string p = "/subspecs/" + std::to_string(k);
        if (subspecs[k].empty())
            fail(source, p, "subspec name must not be empty");
        if (std::find(subspecs.begin(), subspecs.begin() + static_cast<std::ptrdiff_t>(k), subspecs[k])
            != subspecs.begin() + static_cast<std::ptrdiff_t>(k))
            fail(source, p, "duplicate subspec " + json_text(json(subspecs[k])));
    }
    if (losses.empty())
        fail(source, "/losses", "expected at least one loss");

    const Config defaults;
    const auto& functions = LossFunctionRegistry::instance();
    for (std::size_t i = 0; i < losses.size(); ++i) {
        const SpecLossDefinition& l = losses[i];
        const std::string p = "/losses/" + std::to_string(i);
        if (l.name.empty())
            fail(source, p + "/name", "loss name must not be empty");
        if (!functions.contains(l.function))
            fail(source, p + "/function",
                "unknown loss function " + json_text(json(l.function)) + "; registered: " + join(functions.names()));
        if (!l.weight.key.empty()) {
            try {
                (void)defaults.number(l.weight.key);
            } catch (const std::invalid_argument& e) {
                if (!l.weight.has_default)
                    fail(source, p + "/weight",
                        std::string(e.what())
                            + "; use a numeric config key such as \"train.loss.lambda_l1\", or "
                              "{\"key\": .., \"default\": ..} for a key that only some configs have");
            }
        }
        if (l.weight.key.empty() || l.weight.has_default) {
            if (!is_valid_weight(l.weight.value))
                fail(source, p + "/weight", "expected a finite weight >= 0 (got " + number_text(l.weight.value) + ")");
        }
        for (std::size_t k = 0; k < l.tags.size(); ++k)
            if (l.tags[k].empty())
                fail(source, p + "/tags/" + std::to_string(k), "tag must not be empty");
        const std::string* operands[] = { &l.prediction, &l.target };
        for (int k = 0; k < 2; ++k) {
            try {
                (void)operand_from_name(*operands[k]);
            } catch (const std::invalid_argument& e) {
                fail(source, p + "/inputs/" + std::to_string(k), e.what());
            }
        }
        if (l.schedule.kind == Schedule::Kind::Custom)
            fail(source, p + "/schedule", "custom (C++) schedules cannot be declared in a spec file");
        try {
            l.schedule.validate();
        } catch (const std::invalid_argument& e) {
            fail(source, p + "/schedule", e.what());
        }
        for (std::size_t k = 0; k < l.subspecs.size(); ++k)
            if (std::find(subspecs.begin(), subspecs.end(), l.subspecs[k]) == subspecs.end())
                fail(source, p + "/subspecs/" + std::to_string(k),
                    "unknown subspec " + json_text(json(l.subspecs[k])) + "; the spec declares: " + join(subspecs));
    }

    for (const std::string& s : subspecs) {
        std::map<std::string, std::size_t> seen;
        for (std::size_t i = 0; i < losses.size(); ++i) {
            if (!losses[i].in_subspec(s))
                continue;
            auto [it, fresh] = seen.emplace(losses[i].name, i);
            if (!fresh)
                fail(source, "/losses/" + std::to_string(i) + "/name",
                    "duplicate loss name " + json_text(json(losses[i].name)) + " in subspec " + json_text(json(s))
                        + " (also /losses/" + std::to_string(it->second) + ")");
        }
        if (seen.empty())
            fail(source, "/subspecs", "subspec " + json_text(json(s)) + " has no losses");
    }
}

std::map<std::string, LMLoss> SpecDefinition::build(const Config& config, const std::string& subspec) const
{
    return build_losses(loss_specs(config, subspec), config);
}

std::vector<LossSpec> SpecDefinition::loss_specs(const Config& config, const std::string& subspec) const
{
    if (std::find(subspecs.begin(), subspecs.end(), subspec) == subspecs.end())
        throw std::invalid_argument("Unknown subspec \"" + detail::printable(detail::bounded_text(subspec))
            + "\" for spec \"" + name + "\"; valid subspecs: " + join(subspecs));
    std::vector<LossSpec> out;
    for (const SpecLossDefinition& l : losses) {
        if (!l.in_subspec(subspec))
            continue;
        double weight = 0.0;
        try {
            weight = l.weight.resolve(config);
        } catch (const std::invalid_argument& e) {
            throw std::invalid_argument("Spec \"" + name + "\", loss \"" + l.name + "\": " + e.what());
        }
        if (!is_valid_weight(weight))
            throw std::invalid_argument("Spec \"" + name + "\", loss \"" + l.name + "\": weight " + l.weight.key + " = "
                + number_text(weight) + " (expected a number in [0, 1e6])");
        LossSpec spec;
        spec.name = l.name;
        spec.function = l.function;
        spec.weight = weight;
        spec.schedule = l.schedule;
        spec.tags = l.tags;
        spec.inputs = LossInputs { operand_from_name(l.prediction), operand_from_name(l.target) };
        out.push_back(std::move(spec));
    }
    return out;
}

SpecInfo SpecDefinition::to_info(const std::string& source) const
{
    SpecInfo info;
    info.name = name;
    info.description = description;
    info.subspecs = subspecs;
    info.source = source;
    info.losses
        = [def = *this](const Config& config, const std::string& subspec) { return def.loss_specs(config, subspec); };
    return info;
}

SpecDefinition SpecDefinition::from_losses(const std::string& name, const std::string& description,
    const std::map<std::string, LMLoss>& losses, const std::string& subspec,
    const std::map<std::string, std::string>& weight_keys)
{
    SpecDefinition def;
    def.name = name;
    def.description = description;
    def.subspecs = { subspec };
    for (const auto& [key, loss] : losses) {
        SpecLossDefinition l;
        l.name = loss.name.empty() ? key : loss.name;
        if (loss.function_name.empty())
            throw SpecError("Loss \"" + l.name + "\" has no function_name, so it cannot be written to a spec file");
        if (loss.schedule.kind == Schedule::Kind::Custom)
            throw SpecError("Loss \"" + l.name + "\" has a custom (C++) schedule, which a spec file cannot hold");
        l.function = loss.function_name;
        if (auto it = weight_keys.find(l.name); it != weight_keys.end())
            l.weight.key = it->second;
        else
            l.weight.value = loss.loss_weight;
        l.tags = loss.tags;
        l.schedule = loss.schedule;
        l.prediction = operand_name(loss.inputs.prediction);
        l.target = operand_name(loss.inputs.target);
        def.losses.push_back(std::move(l));
    }
    def.validate();
    return def;
}

void to_json(json& j, const SpecDefinition& spec)
{
    j = json::parse(spec_to_ordered(spec).dump());
}

void from_json(const json& j, SpecDefinition& spec)
{
    spec = spec_from_json(j);
}

SpecDefinition spec_from_json(const json& j, const std::string& source)
{
    Reader root(j, "", source, { "schema_version", "name", "description", "subspecs", "losses" });
    if (const json* v = root.find("schema_version")) {
        if (!v->is_number_integer() || v->get<std::int64_t>() != SpecDefinition::kSchemaVersion)
            fail(source, "/schema_version",
                "unsupported schema_version " + json_text(*v) + "; this build reads "
                    + std::to_string(SpecDefinition::kSchemaVersion));
    }
    SpecDefinition def;
    def.name = root.string("name", true);
    def.description = root.string("description", false);
    def.subspecs = root.strings("subspecs", true);
    const json& losses = root.required("losses");
    if (!losses.is_array())
        fail(source, "/losses", "expected an array of loss objects, got " + json_text(losses));
    for (std::size_t i = 0; i < losses.size(); ++i) {
        const std::string p = "/losses/" + std::to_string(i);
        Reader r(losses[i], p, source, { "name", "function", "weight", "tags", "inputs", "schedule", "subspecs" });
        SpecLossDefinition l;
        l.name = r.string("name", true);
        l.function = r.string("function", true);
        if (const json* w = r.find("weight"))
            l.weight = parse_weight(*w, r.sub("weight"), source);
        l.tags = r.strings("tags", false);
        const json& inputs = r.required("inputs");
        if (!inputs.is_array() || inputs.size() != 2)
            fail(source, r.sub("inputs"),
                "expected two operand names [prediction, target], e.g. [\"fake\", \"real\"]; got " + json_text(inputs));
        const std::vector<std::string> operands = r.strings("inputs", true);
        l.prediction = operands[0];
        l.target = operands[1];
        if (const json* s = r.find("schedule")) {
            try {
                l.schedule = s->get<Schedule>();
            } catch (const std::exception& e) {
                fail(source, r.sub("schedule"), e.what());
            }
        }
        l.subspecs = r.strings("subspecs", false);
        def.losses.push_back(std::move(l));
    }
    def.validate(source);
    return def;
}

SpecDefinition spec_from_text(std::string_view text, const std::string& source)
{
    return reading_as<SpecError>(
        source, [&] { return spec_from_json(parse_json_text<json>(text, source, json_limits::spec()), source); });
}

SpecDefinition load_spec_file(const std::string& path)
{
    const std::string text
        = reading_as<SpecError>(path, [&] { return read_file_text(path, json_limits::spec(), path); });
    return spec_from_text(text, path);
}

void save_spec_file(const SpecDefinition& spec, const std::string& path)
{
    spec.validate(path);
    write_atomically(path, spec_to_ordered(spec).dump(4) + "\n");
}

} // namespace nectar
