// SPDX-License-Identifier: Apache-2.0
#include "objective/objective.h"

#include <map>
#include <stdexcept>

#include "losses/loss_manager.h"
#include "objective/spec_registry.h"

namespace nectar {

void init_from_spec(LossManager& manager, const std::string& spec, const std::string& subspec)
{
    std::map<std::string, LMLoss> built;
    try {
        built = SpecRegistry::instance().build(spec, subspec, manager.config());
    } catch (const std::exception& e) {
        throw std::invalid_argument("LossManager::init_from_spec(" + spec + ", " + subspec + "): " + e.what());
    }
    for (auto& [name, loss] : built) {
        if (loss.name.empty())
            loss.name = name;
        if (loss.name != name)
            throw std::invalid_argument("LossManager::init_from_spec(" + spec + ", " + subspec + "): entry \"" + name
                + "\" holds a loss named \"" + loss.name + "\"");
        try {
            manager.register_loss(std::move(loss));
        } catch (const std::exception& e) {
            throw std::invalid_argument("LossManager::init_from_spec(" + spec + ", " + subspec + "): " + e.what());
        }
    }
}

} // namespace nectar
