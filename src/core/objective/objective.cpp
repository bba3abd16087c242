// SPDX-License-Identifier: Apache-2.0
#include "objective/objective.h"

#include <map>
#include <stdexcept>

#include "config/config.h"
#include "losses/loss_manager.h"
#include "objective/preset.h"
#include "objective/spec_registry.h"

namespace nectar {

Objective resolve_objective(
    const Config& config, const Preset* preset, const std::string& preset_source, std::vector<std::string>* warnings)
{
    Objective o;
    o.spec = config.train.loss.spec;
    o.subspec = config.train.loss.subspec;
    o.losses = SpecRegistry::instance().loss_specs(o.spec, o.subspec, config);
    if (preset) {
        o.source = preset_source.empty() ? preset->name : preset_source;
        apply_preset_to_specs(*preset, o.losses, o.source, warnings);
    }
    return o;
}

Preset objective_record(const Objective& objective)
{
    return preset_from_specs(objective.spec, objective.subspec, objective.losses);
}

void init_from_spec(LossManager& manager, const std::string& spec, const std::string& subspec)
{
    std::map<std::string, LMLoss> built;
    try {
        built = SpecRegistry::instance().build(spec, subspec, manager.config());
    } catch (const std::exception& e) {
        throw std::invalid_argument("LossManager::init_from_spec(" + spec + ", " + subspec + "): " + e.what());
    }
    for (auto& [name, loss] : built) { // keyed by loss.name (build_losses)
        try {
            manager.register_loss(std::move(loss));
        } catch (const std::exception& e) {
            throw std::invalid_argument("LossManager::init_from_spec(" + spec + ", " + subspec + "): " + e.what());
        }
    }
}

} // namespace nectar
