// SPDX-License-Identifier: Apache-2.0
#include "objective/preset.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "config/config.h"
#include "scheduling/schedule.h"
#include "util/atomic_file.h"
#include "util/error_text.h"
#include "util/json_read.h"
#include "util/strings.h"

namespace nectar {

namespace {

std::string where(const std::string& source, const std::string& path)
{
    return (source.empty() ? std::string("preset") : source) + ": " + path;
}

/// A key from the file as a path component: bounded and printable (a key may be 64 KiB or hold a NUL).
std::string key_text(const std::string& key)
{
    return detail::printable(detail::bounded_text(key));
}

void merge(nlohmann::json& into, const nlohmann::json& from)
{
    for (auto it = from.begin(); it != from.end(); ++it) {
        if (it.value().is_object() && into.contains(it.key()) && into[it.key()].is_object())
            merge(into[it.key()], it.value());
        else
            into[it.key()] = it.value();
    }
}

} // namespace

Preset preset_from_json(const nlohmann::json& j, const std::string& source)
{
    if (!j.is_object())
        throw PresetError(where(source, "/") + ": expected a JSON object, got " + detail::json_text(j));
    if (j.contains("format") && j.at("format") != "nectar-preset")
        throw PresetError(
            where(source, "/format") + " = " + detail::json_text(j.at("format")) + ": expected \"nectar-preset\"");
    if (j.contains("version") && (!j.at("version").is_number_integer() || j.at("version").get<double>() > 1))
        throw PresetError(where(source, "/version") + " = " + detail::json_text(j.at("version"))
            + ": expected 1 (this build reads preset version 1)");
    // Every top-level key must be one the format knows: a typo ("subpsec", "loses") would silently train
    // another objective.
    static const std::vector<std::string> known { "format", "version", "name", "description", "spec", "subspec",
        "losses", "config" };
    for (auto it = j.begin(); it != j.end(); ++it)
        if (std::find(known.begin(), known.end(), it.key()) == known.end())
            throw PresetError(
                where(source, "/" + key_text(it.key())) + ": unknown key (expected one of " + join(known) + ")");
    Preset p;
    auto str = [&](const char* key, std::string& out) {
        if (!j.contains(key))
            return;
        if (!j.at(key).is_string())
            throw PresetError(
                where(source, std::string("/") + key) + " = " + detail::json_text(j.at(key)) + ": expected a string");
        out = j.at(key).get<std::string>();
    };
    str("name", p.name);
    str("description", p.description);
    str("spec", p.spec);
    str("subspec", p.subspec);
    if (j.contains("losses")) {
        const auto& losses = j.at("losses");
        if (!losses.is_object())
            throw PresetError(where(source, "/losses") + ": expected an object of loss name -> settings, got "
                + detail::json_text(losses));
        for (auto it = losses.begin(); it != losses.end(); ++it) {
            const std::string base = "/losses/" + key_text(it.key());
            const auto& e = it.value();
            if (!e.is_object())
                throw PresetError(where(source, base) + " = " + detail::json_text(e) + ": expected an object");
            LossOverride o;
            for (auto k = e.begin(); k != e.end(); ++k) {
                if (k.key() != "weight" && k.key() != "tags" && k.key() != "schedule")
                    throw PresetError(where(source, base + "/" + key_text(k.key()))
                        + ": unknown key (expected weight, tags, schedule)");
            }
            if (e.contains("weight")) {
                const auto& w = e.at("weight");
                if (!w.is_number() || !is_valid_weight(w.get<double>()))
                    throw PresetError(where(source, base + "/weight") + " = " + detail::json_text(w)
                        + ": expected a number in [0, 1e6]");
                o.weight = w.get<double>();
            }
            if (e.contains("tags")) {
                const auto& t = e.at("tags");
                std::vector<std::string> tags;
                if (!t.is_array())
                    throw PresetError(where(source, base + "/tags") + " = " + detail::json_text(t)
                        + ": expected an array of strings");
                for (const auto& s : t) {
                    if (!s.is_string() || s.get<std::string>().empty())
                        throw PresetError(where(source, base + "/tags") + " = " + detail::json_text(t)
                            + ": expected non-empty strings");
                    tags.push_back(s.get<std::string>());
                }
                o.tags = tags;
            }
            if (e.contains("schedule")) {
                try {
                    Schedule s = e.at("schedule").get<Schedule>();
                    s.validate();
                    o.schedule = s;
                } catch (const std::exception& ex) {
                    throw PresetError(where(source, base + "/schedule") + " = " + detail::json_text(e.at("schedule"))
                        + ": " + ex.what());
                }
            }
            p.losses[it.key()] = o;
        }
    }
    if (j.contains("config")) {
        const auto& c = j.at("config");
        if (!c.is_object())
            throw PresetError(
                where(source, "/config") + " = " + detail::json_text(c) + ": expected an object with config sections");
        const auto& sections = c.contains("config") && c.size() == 1 ? c.at("config") : c;
        if (!sections.is_object())
            throw PresetError(where(source, "/config/config") + " = " + detail::json_text(sections)
                + ": expected an object with config sections");
        p.config = sections;
    }
    return p;
}

nlohmann::json preset_to_json(const Preset& p)
{
    nlohmann::json j;
    j["format"] = "nectar-preset";
    j["version"] = 1;
    j["name"] = p.name;
    j["description"] = p.description;
    if (!p.spec.empty())
        j["spec"] = p.spec;
    if (!p.subspec.empty())
        j["subspec"] = p.subspec;
    nlohmann::json losses = nlohmann::json::object();
    for (const auto& [name, o] : p.losses) {
        nlohmann::json e = nlohmann::json::object();
        if (o.weight)
            e["weight"] = *o.weight;
        if (o.tags)
            e["tags"] = *o.tags;
        if (o.schedule)
            e["schedule"] = *o.schedule;
        losses[name] = e;
    }
    j["losses"] = losses;
    if (!p.config.empty())
        j["config"] = p.config;
    return j;
}

Preset preset_from_text(std::string_view text, const std::string& source)
{
    return reading_as<PresetError>(source.empty() ? std::string("preset") : source,
        [&] { return preset_from_json(parse_json_text<nlohmann::json>(text, source, json_limits::preset()), source); });
}

Preset load_preset_file(const std::string& path)
{
    const std::string text
        = reading_as<PresetError>(path, [&] { return read_file_text(path, json_limits::preset(), path); });
    return preset_from_text(text, path);
}

void save_preset_file(const Preset& p, const std::string& path)
{
    nlohmann::json j;
    try {
        j = preset_to_json(p);
    } catch (const std::exception& e) {
        throw PresetError("cannot save preset " + path + ": " + e.what());
    }
    try {
        write_file_atomically(path, j.dump(4) + "\n", "preset file");
    } catch (const std::runtime_error& e) {
        throw PresetError(e.what());
    }
}

void apply_preset_to_config(const Preset& p, Config& config, const std::string& source)
{
    if (!p.config.empty()) {
        nlohmann::json doc = config_to_json(config);
        merge(doc["config"], p.config);
        std::vector<std::string> warnings;
        Config merged;
        try {
            merged = config_from_json(doc, &warnings, source.empty() ? "preset" : source + " (/config)");
        } catch (const std::exception& e) {
            throw PresetError(where(source, "/config") + ": " + e.what());
        }
        // A --config file may carry keys we do not know (kept and warned about); a preset's settings may not:
        // a typo there ("lamda_l1", "generatr") would silently train with the defaults.
        for (auto it = merged.unknown.begin(); it != merged.unknown.end(); ++it)
            if (!config.unknown.contains(it.key()))
                throw PresetError(where(source, key_text(it.key())) + ": unknown config key (value "
                    + detail::json_text(it.value()) + ")");
        for (const auto& [key, value] : merged.train.loss.extra)
            if (!config.train.loss.extra.count(key) && key.rfind("lambda_", 0) != 0)
                throw PresetError(where(source, "/config/train/loss/" + key)
                    + ": not a config key (extra loss weights are named lambda_<name>)");
        config = std::move(merged);
    }
    if (!p.spec.empty())
        config.train.loss.spec = p.spec;
    if (!p.subspec.empty())
        config.train.loss.subspec = p.subspec;
    try {
        validate_config(config, source);
    } catch (const std::exception& e) {
        throw PresetError(where(source, "/config") + ": " + e.what());
    }
}

namespace {

/// One override onto one loss description (weight, tags, schedule), the rule for both forms below.
void apply_override(const LossOverride& o, LossSpec& l)
{
    if (o.weight) {
        l.weight = *o.weight;
        l.schedule.current_value = *o.weight;
    }
    if (o.tags)
        l.tags = *o.tags;
    if (o.schedule)
        l.schedule = *o.schedule;
}

[[noreturn]] void undeclared(const std::string& source, const std::string& name, const std::string& declared)
{
    throw PresetError(where(source, "/losses/" + key_text(name)) + ": the objective declares no loss \""
        + key_text(name) + "\" (declared: " + declared + ")");
}

std::string weight_text(double w)
{
    char buf[32];
    std::snprintf(buf, sizeof buf, "%g", w);
    return buf;
}

/// A loss of the objective that the preset does not list keeps the weight the spec gave it from the config: say
/// so, since a forgotten entry (or a typo in its name, which is an error) would otherwise train at a default.
void warn_unlisted(const Preset& p, const std::vector<std::pair<std::string, double>>& losses,
    const std::string& source, std::vector<std::string>* warnings)
{
    if (!warnings)
        return;
    std::vector<std::string> kept;
    for (const auto& [name, weight] : losses)
        if (!p.losses.count(name))
            kept.push_back(name + " " + weight_text(weight));
    if (kept.empty())
        return;
    if (p.losses.empty()) {
        warnings->push_back(where(source, "/losses")
            + ": the preset sets no loss weights; every loss keeps its weight from the spec and the config ("
            + join(kept) + ")");
        return;
    }
    for (const auto& [name, weight] : losses)
        if (!p.losses.count(name))
            warnings->push_back(where(source, "/losses") + ": no entry for " + name + "; it keeps weight "
                + weight_text(weight) + " from the spec and the config");
}

LossOverride override_of(const LossSpec& l)
{
    LossOverride o;
    o.weight = l.weight;
    o.tags = l.tags;
    if (l.schedule.kind != Schedule::Kind::Custom)
        o.schedule = l.schedule;
    return o;
}

} // namespace

void apply_preset_to_losses(const Preset& p, std::map<std::string, LMLoss>& losses, const std::string& source,
    std::vector<std::string>* warnings)
{
    std::vector<std::pair<std::string, double>> before;
    for (const auto& [name, l] : losses)
        before.emplace_back(name, l.loss_weight);
    for (const auto& [name, o] : p.losses) {
        auto it = losses.find(name);
        if (it == losses.end())
            undeclared(source, name, join_mapped(losses, [](const auto& l) { return l.first; }));
        LossSpec s = spec_of(it->second);
        apply_override(o, s);
        it->second.loss_weight = s.weight;
        it->second.tags = s.tags;
        it->second.schedule = s.schedule;
    }
    warn_unlisted(p, before, source, warnings);
}

void apply_preset_to_specs(
    const Preset& p, std::vector<LossSpec>& losses, const std::string& source, std::vector<std::string>* warnings)
{
    std::vector<std::pair<std::string, double>> before;
    for (const auto& l : losses)
        before.emplace_back(l.name, l.weight);
    for (const auto& [name, o] : p.losses) {
        const std::string& wanted = name; // C++17 lambdas cannot capture a structured binding
        auto it = std::find_if(losses.begin(), losses.end(), [&](const LossSpec& l) { return l.name == wanted; });
        if (it == losses.end()) {
            std::vector<std::string> names;
            for (const auto& l : losses)
                names.push_back(l.name);
            std::sort(names.begin(), names.end());
            undeclared(source, name, join(names));
        }
        apply_override(o, *it);
    }
    warn_unlisted(p, before, source, warnings);
}

Preset preset_from_losses(
    const std::string& spec, const std::string& subspec, const std::map<std::string, LMLoss>& losses)
{
    Preset p;
    p.spec = spec;
    p.subspec = subspec;
    for (const auto& [name, l] : losses)
        p.losses[name] = override_of(spec_of(l));
    return p;
}

Preset preset_from_specs(const std::string& spec, const std::string& subspec, const std::vector<LossSpec>& losses)
{
    Preset p;
    p.spec = spec;
    p.subspec = subspec;
    for (const auto& l : losses)
        p.losses[l.name] = override_of(l);
    return p;
}

} // namespace nectar
