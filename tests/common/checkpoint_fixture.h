// SPDX-License-Identifier: Apache-2.0
#pragma once
// The checkpoint fixture of tests/data/checkpoints/torch-<major>.<minor>/: tiny G and D with two
// FusedAdam steps, written by make_checkpoint_fixture on each LibTorch this project builds against and
// loaded by tst_trainer's checkpointsLoadAcrossLibTorchVersions on the others.

#include <string>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "models/patchgan.h"
#include "models/unet.h"
#include "training/fused_adam.h"
#include "util/torch_compat.h"

namespace testdata {

struct CheckpointFixtureModels {
    nectar::UnetGenerator generator;
    nectar::PatchGAN discriminator;
};

inline CheckpointFixtureModels checkpoint_fixture_models()
{
    nectar::UnetOptions g;
    g.input_size = 16;
    g.features = 4;
    g.n_downs = 1;
    nectar::PatchGANOptions d;
    d.base_channels = 4;
    d.n_layers = 1;
    d.max_channels = 8;
    return { nectar::UnetGenerator(g), nectar::PatchGAN(d) };
}

/// Per parameter, in optimizer order: the sums of the parameter and of its Adam state, or a null
/// state where the parameter never had a gradient (LibTorch then saves no state for it).
inline nlohmann::json checkpoint_fixture_summary(torch::optim::Adam& opt)
{
    nlohmann::json out = nlohmann::json::array();
    for (const auto& p : opt.param_groups().at(0).params()) {
        nlohmann::json e;
        e["param_sum"] = p.sum().item<double>();
        const auto it = opt.state().find(nectar::compat::optimizer_state_key(p));
        if (it == opt.state().end() || !it->second) {
            e["state"] = nullptr;
        } else {
            const auto& st = static_cast<const torch::optim::AdamParamState&>(*it->second);
            e["state"] = { { "step", st.step() }, { "exp_avg_sum", st.exp_avg().sum().item<double>() },
                { "exp_avg_sq_sum", st.exp_avg_sq().sum().item<double>() } };
        }
        out.push_back(e);
    }
    return out;
}

} // namespace testdata
