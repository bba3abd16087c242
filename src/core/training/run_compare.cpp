// SPDX-License-Identifier: Apache-2.0
#include "training/run_compare.h"

#include <filesystem>
#include <map>
#include <set>

#include "config/config.h"
#include "objective/spec_registry.h"
#include "training/experiment.h"
#include "util/error_text.h"
#include "util/json_read.h"
#include "util/strings.h"

namespace nectar {

namespace {

// Every leaf of `j` by JSON pointer (arrays are leaves: compared whole).
void flatten(const nlohmann::json& j, const std::string& path, std::map<std::string, std::string>& out)
{
    if (j.is_object() && !j.empty()) {
        for (const auto& [k, v] : j.items())
            flatten(v, path + "/" + detail::pointer_token(k), out);
        return;
    }
    out[path] = j.is_string() ? j.get<std::string>() : j.dump();
}

} // namespace

RunRecord read_run_record(const std::string& dir)
{
    RunRecord r;
    r.dir = dir;
    r.name = std::filesystem::path(dir).filename().string();
    if (r.name.empty())
        r.name = std::filesystem::path(dir).parent_path().filename().string();
    r.config_path = latest_config_copy_path(dir);
    if (!r.config_path.empty()) {
        try {
            r.config = read_json_file<nlohmann::json>(r.config_path, json_limits::config());
        } catch (const std::exception& e) {
            r.warnings.push_back(e.what());
        }
    }
    r.objective_path = latest_objective_copy_path(dir);
    if (!r.objective_path.empty()) {
        try {
            r.objective = load_preset_file(r.objective_path);
            r.has_objective = true;
        } catch (const std::exception& e) {
            r.warnings.push_back(e.what());
        }
    }
    if (r.has_objective && !r.objective.spec.empty()) {
        try {
            Config config = r.config.is_object() && r.config.contains("config")
                ? config_from_json(r.config, nullptr, r.config_path)
                : Config {};
            for (const auto& s : SpecRegistry::instance().loss_specs(r.objective.spec, r.objective.subspec, config))
                r.functions[s.name] = s.function;
        } catch (const std::exception& e) {
            r.warnings.push_back(
                "loss functions of " + r.objective.spec + "/" + r.objective.subspec + " not resolved: " + e.what());
        }
    }
    return r;
}

std::vector<RunDifference> diff_runs(const RunRecord& a, const RunRecord& b)
{
    std::vector<RunDifference> out;
    auto differ = [&](const std::string& loss, const std::string& field, const std::string& va, const std::string& vb) {
        if (va != vb)
            out.push_back({ loss, field, va, vb });
    };
    const std::string absent = "(absent)";
    if (a.has_objective || b.has_objective) {
        differ("", "spec", a.has_objective ? a.objective.spec : absent, b.has_objective ? b.objective.spec : absent);
        differ("", "subspec", a.has_objective ? a.objective.subspec : absent,
            b.has_objective ? b.objective.subspec : absent);
    }
    std::vector<std::string> names;
    for (const auto& [n, o] : a.objective.losses)
        names.push_back(n);
    for (const auto& [n, o] : b.objective.losses)
        if (!a.objective.losses.count(n))
            names.push_back(n);
    for (const auto& n : names) {
        const auto ia = a.objective.losses.find(n);
        const auto ib = b.objective.losses.find(n);
        if (ia == a.objective.losses.end() || ib == b.objective.losses.end()) {
            differ(n, "loss", ia == a.objective.losses.end() ? absent : "present",
                ib == b.objective.losses.end() ? absent : "present");
            continue;
        }
        auto fn = [&](const RunRecord& r) {
            const auto it = r.functions.find(n);
            return it == r.functions.end() || it->second.empty() ? std::string("?") : it->second;
        };
        differ(n, "function", fn(a), fn(b));
        const LossOverride& oa = ia->second;
        const LossOverride& ob = ib->second;
        differ(n, "weight", oa.weight ? short_number(*oa.weight) : "(spec default)",
            ob.weight ? short_number(*ob.weight) : "(spec default)");
        differ(n, "schedule", oa.schedule ? oa.schedule->describe() : "none",
            ob.schedule ? ob.schedule->describe() : "none");
        differ(
            n, "tags", oa.tags ? join_or(*oa.tags) : "(spec default)", ob.tags ? join_or(*ob.tags) : "(spec default)");
    }
    std::map<std::string, std::string> ca, cb;
    flatten(a.config, "", ca);
    flatten(b.config, "", cb);
    static const std::set<std::string> own { "/config/common/experiment_name", "/config/common/output_directory",
        "/config/common/experiment_version" };
    std::set<std::string> paths;
    for (const auto& [p, v] : ca)
        paths.insert(p);
    for (const auto& [p, v] : cb)
        paths.insert(p);
    for (const auto& p : paths) {
        if (own.count(p) || p.empty())
            continue;
        const auto ia = ca.find(p);
        const auto ib = cb.find(p);
        differ("", p, ia == ca.end() ? absent : ia->second, ib == cb.end() ? absent : ib->second);
    }
    return out;
}

} // namespace nectar
