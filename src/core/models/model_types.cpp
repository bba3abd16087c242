// SPDX-License-Identifier: Apache-2.0
#include "models/model_types.h"
#include "util/strings.h"

#include <stdexcept>

#include <torch/torch.h>

namespace nectar {

std::string to_string(UnetBlockType t)
{
    return choice_name(t);
}

std::string to_string(UpsampleType t)
{
    return choice_name(t);
}

UnetBlockType unet_block_type_from_string(const std::string& name)
{
    return parse_choice<UnetBlockType>(name, "UNet block type");
}

UpsampleType upsample_type_from_string(const std::string& name)
{
    return parse_choice<UpsampleType>(name, "upsample type");
}

UnetSizeCheck check_unet_input_size(int input_size, int n_downs)
{
    UnetSizeCheck c;
    if (n_downs < 1 || n_downs > 24) {
        c.message = "n_downs " + std::to_string(n_downs) + " is out of range: expected 1 to 24";
        return c;
    }
    c.multiple = 1 << (n_downs + 2);
    const int m = c.multiple;
    if (input_size >= m && input_size % m == 0) {
        c.ok = true;
        c.lower = c.upper = input_size;
        return c;
    }
    c.lower = input_size >= m ? (input_size / m) * m : 0;
    c.upper = input_size < m ? m : c.lower + m;
    std::string nearest
        = c.lower > 0 ? std::to_string(c.lower) + " or " + std::to_string(c.upper) : std::to_string(c.upper);
    c.message = "input size " + std::to_string(input_size) + " is invalid for n_downs=" + std::to_string(n_downs)
        + ": it must be a positive multiple of 2^(n_downs+2) = " + std::to_string(m)
        + " (the UNet halves it n_downs+2 times); nearest valid size: " + nearest + " (or lower n_downs)";
    return c;
}

void init_weights_normal(torch::nn::Module& module, double mean, double std)
{
    torch::NoGradGuard no_grad;
    auto init_one = [&](torch::nn::Module& m) {
        if (auto* c = m.as<torch::nn::Conv2d>()) {
            c->weight.normal_(mean, std);
            if (c->bias.defined())
                c->bias.zero_();
        } else if (auto* t = m.as<torch::nn::ConvTranspose2d>()) {
            t->weight.normal_(mean, std);
            if (t->bias.defined())
                t->bias.zero_();
        } else if (auto* in = m.as<torch::nn::InstanceNorm2d>()) {
            if (in->weight.defined())
                in->weight.normal_(1.0, std);
            if (in->bias.defined())
                in->bias.zero_();
        } else if (auto* bn = m.as<torch::nn::BatchNorm2d>()) {
            if (bn->weight.defined())
                bn->weight.normal_(1.0, std);
            if (bn->bias.defined())
                bn->bias.zero_();
        }
    };
    init_one(module);
    for (const auto& child : module.modules(/*include_self=*/false))
        init_one(*child);
}

std::int64_t count_parameters(const torch::nn::Module& module, bool trainable_only)
{
    std::int64_t n = 0;
    for (const auto& p : module.parameters(/*recurse=*/true))
        if (!trainable_only || p.requires_grad())
            n += p.numel();
    return n;
}

} // namespace nectar
