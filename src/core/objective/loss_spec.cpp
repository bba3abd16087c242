// SPDX-License-Identifier: Apache-2.0
#include "objective/loss_spec.h"

#include <sstream>
#include <stdexcept>

#include "losses/loss_registry.h"

namespace nectar {

LMLoss build_loss(const LossSpec& spec, const Config& config)
{
    if (!is_valid_weight(spec.weight)) {
        std::ostringstream os;
        os << "loss \"" << spec.name << "\": weight " << spec.weight << " (expected a number in [0, 1e6])";
        throw std::invalid_argument(os.str());
    }
    try {
        spec.schedule.validate();
    } catch (const std::invalid_argument& e) {
        throw std::invalid_argument("loss \"" + spec.name + "\": " + e.what());
    }
    LossFunction fn = LossFunctionRegistry::instance().create(spec.function, config);
    LMLoss loss;
    loss.name = spec.name;
    loss.function = std::move(fn.function);
    loss.module = std::move(fn.module);
    loss.function_name = spec.function;
    loss.loss_weight = spec.weight;
    loss.schedule = spec.schedule;
    loss.tags = spec.tags;
    loss.inputs = spec.inputs;
    return loss;
}

std::map<std::string, LMLoss> build_losses(const std::vector<LossSpec>& specs, const Config& config)
{
    std::map<std::string, LMLoss> out;
    for (const LossSpec& s : specs) {
        if (s.name.empty())
            throw std::invalid_argument("a loss of the objective has no name");
        if (out.count(s.name))
            throw std::invalid_argument("loss \"" + s.name + "\" appears twice in the objective");
        out.emplace(s.name, build_loss(s, config));
    }
    return out;
}

LossSpec spec_of(const LMLoss& loss)
{
    LossSpec s;
    s.name = loss.name;
    s.function = loss.function_name;
    s.weight = loss.loss_weight;
    s.schedule = loss.schedule;
    s.tags = loss.tags;
    s.inputs = loss.inputs;
    return s;
}

} // namespace nectar
