// SPDX-License-Identifier: Apache-2.0
#include "fuzz_entry.h"

#include <stdexcept>
#include <string>

#include "config/config.h"
#include "losses/loss_log.h"
#include "objective/preset.h"
#include "objective/spec_definition.h"
#include "util/error.h"

namespace nectar::fuzz {

namespace {

thread_local std::string g_last_error;

// Runs `read`; InputError is the one expected way to refuse bytes.
template <class Fn> Outcome guarded(Fn&& read)
{
    g_last_error.clear();
    try {
        read();
        return Outcome::Accepted;
    } catch (const InputError& e) {
        g_last_error = e.what();
        return Outcome::Rejected;
    }
}

[[noreturn]] void round_trip_failed(const char* what, const InputError& e)
{
    throw std::logic_error(std::string(what) + ": written back, it is refused: " + e.what());
}

} // namespace

Outcome run_config(std::string_view bytes)
{
    return guarded([&] {
        std::vector<std::string> warnings;
        const Config c = config_from_text(bytes, "fuzz-config.json", &warnings);
        try {
            (void)config_from_text(config_to_json(c, ExtensionKeys::Always).dump(), "round-trip", &warnings);
        } catch (const InputError& e) {
            round_trip_failed("config", e);
        }
    });
}

Outcome run_preset(std::string_view bytes)
{
    return guarded([&] {
        const Preset p = preset_from_text(bytes, "fuzz-preset.json");
        // Its config section is checked where it is merged into a config, as nectar-train does.
        Config merged;
        apply_preset_to_config(p, merged, "fuzz-preset.json");
        try {
            (void)preset_from_text(preset_to_json(p).dump(), "round-trip");
        } catch (const InputError& e) {
            round_trip_failed("preset", e);
        }
    });
}

Outcome run_spec(std::string_view bytes)
{
    return guarded([&] {
        const SpecDefinition s = spec_from_text(bytes, "fuzz-spec.json");
        nlohmann::json j;
        to_json(j, s);
        try {
            (void)spec_from_text(j.dump(), "round-trip");
        } catch (const InputError& e) {
            round_trip_failed("spec", e);
        }
    });
}

Outcome run_loss_log(std::string_view bytes)
{
    return guarded([&] { (void)LossLog::parse_log_text(bytes, "fuzz-loss_log.json"); });
}

Outcome run_journal(std::string_view bytes)
{
    return guarded([&] { (void)LossLog::parse_journal_text(bytes, "fuzz-loss_log.journal.jsonl"); });
}

const std::string& last_error()
{
    return g_last_error;
}

const std::vector<Target>& targets()
{
    static const std::vector<Target> all { { "config", &run_config }, { "preset", &run_preset }, { "spec", &run_spec },
        { "loss_log", &run_loss_log }, { "journal", &run_journal } };
    return all;
}

} // namespace nectar::fuzz
