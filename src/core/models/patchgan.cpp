// SPDX-License-Identifier: Apache-2.0
#include "models/patchgan.h"

#include <algorithm>
#include <stdexcept>
#include <string>

#include "config/config.h"

namespace nectar {

namespace nn = torch::nn;

void to_json(nlohmann::json& j, const PatchGANOptions& o)
{
    j = nlohmann::json { { "in_channels", o.in_channels }, { "base_channels", o.base_channels },
        { "n_layers", o.n_layers }, { "max_channels", o.max_channels } };
}

void from_json(const nlohmann::json& j, PatchGANOptions& o)
{
    PatchGANOptions d;
    o.in_channels = j.value("in_channels", d.in_channels);
    o.base_channels = j.value("base_channels", d.base_channels);
    o.n_layers = j.value("n_layers", d.n_layers);
    o.max_channels = j.value("max_channels", d.max_channels);
}

PatchGANOptions patchgan_options_from_config(const Config& config)
{
    PatchGANOptions o;
    o.in_channels = config.dataloader.load.input_nc;
    o.base_channels = config.train.discriminator.base_channels;
    o.n_layers = config.train.discriminator.n_layers;
    o.max_channels = config.train.discriminator.max_channels;
    return o;
}

void validate_patchgan_options(const PatchGANOptions& o)
{
    auto positive = [](int v, const char* what) {
        if (v < 1)
            throw std::invalid_argument(std::string("PatchGAN: ") + what + " must be >= 1, got " + std::to_string(v));
    };
    positive(o.in_channels, "in_channels");
    positive(o.base_channels, "base_channels");
    positive(o.n_layers, "n_layers");
    positive(o.max_channels, "max_channels");
}

int patchgan_output_size(const PatchGANOptions& o, int input_size)
{
    // Conv4x4 padding 1: stride 2 -> floor(s / 2), stride 1 -> s - 1. Reflect padding needs s >= 2.
    int s = input_size;
    auto layer = [&s](int stride) {
        if (s < 2)
            return false;
        s = stride == 2 ? (s + 2 - 4) / 2 + 1 : s - 1;
        return s >= 1;
    };
    if (!layer(2))
        return -1;
    for (int i = 1; i < o.n_layers; ++i)
        if (!layer(i == o.n_layers - 1 ? 1 : 2))
            return -1;
    return layer(1) ? s : -1;
}

CNNBlockImpl::CNNBlockImpl(int in_channels, int out_channels, int stride)
{
    conv = register_module("conv",
        nn::Sequential(nn::Conv2d(nn::Conv2dOptions(in_channels, out_channels, /*kernel_size=*/4)
                                      .stride(stride)
                                      .padding(1)
                                      .bias(false)
                                      .padding_mode(torch::kReflect)),
            nn::InstanceNorm2d(nn::InstanceNorm2dOptions(out_channels).affine(false).track_running_stats(false)),
            nn::LeakyReLU(nn::LeakyReLUOptions().negative_slope(0.2).inplace(true))));
}

torch::Tensor CNNBlockImpl::forward(const torch::Tensor& x)
{
    return conv->forward(x);
}

namespace {

const PatchGANOptions& checked(const PatchGANOptions& o)
{
    validate_patchgan_options(o);
    return o;
}

} // namespace

PatchGANImpl::PatchGANImpl(const PatchGANOptions& options)
    : m_options(checked(options))
{
    model = nn::Sequential();
    model->push_back(nn::Conv2d(nn::Conv2dOptions(m_options.in_channels * 2, m_options.base_channels, /*kernel_size=*/4)
                                    .stride(2)
                                    .padding(1)
                                    .padding_mode(torch::kReflect)));
    model->push_back(nn::LeakyReLU(nn::LeakyReLUOptions().negative_slope(0.2).inplace(true)));
    int in_ch = m_options.base_channels;
    for (int i = 1; i < m_options.n_layers; ++i) {
        const int out_ch = std::min(in_ch * 2, m_options.max_channels);
        model->push_back(CNNBlock(in_ch, out_ch, /*stride=*/i == m_options.n_layers - 1 ? 1 : 2));
        in_ch = out_ch;
    }
    model->push_back(
        nn::Conv2d(nn::Conv2dOptions(in_ch, 1, /*kernel_size=*/4).stride(1).padding(1).padding_mode(torch::kReflect)));
    register_module("model", model);
}

torch::Tensor PatchGANImpl::forward(const torch::Tensor& x, const torch::Tensor& y)
{
    if (x.dim() != 4 || x.sizes() != y.sizes() || x.size(1) != m_options.in_channels)
        throw std::invalid_argument("PatchGAN::forward: expected x and y of the same shape [N, "
            + std::to_string(m_options.in_channels) + ", H, W], got x " + c10::str(x.sizes()) + " and y "
            + c10::str(y.sizes()));
    const int h = static_cast<int>(std::min(x.size(2), x.size(3)));
    if (patchgan_output_size(m_options, h) < 1)
        throw std::invalid_argument("PatchGAN::forward: input " + c10::str(x.sizes())
            + " is too small for n_layers=" + std::to_string(m_options.n_layers));
    return model->forward(torch::cat({ x, y }, /*dim=*/1));
}

} // namespace nectar
