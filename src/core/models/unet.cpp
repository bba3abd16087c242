// SPDX-License-Identifier: Apache-2.0
#include "models/unet.h"

#include <stdexcept>
#include <string>

#include "config/config.h"
#include "models/conv_transpose.h"

namespace nectar {

namespace nn = torch::nn;

void to_json(nlohmann::json& j, const UnetOptions& o)
{
    j = nlohmann::json { { "input_size", o.input_size }, { "in_channels", o.in_channels },
        { "out_channels", o.out_channels ? nlohmann::json(*o.out_channels) : nlohmann::json(nullptr) },
        { "features", o.features }, { "n_downs", o.n_downs }, { "use_dropout_layers", o.use_dropout_layers },
        { "block_type", to_string(o.block_type) }, { "upsample_type", to_string(o.upsample_type) } };
}

void from_json(const nlohmann::json& j, UnetOptions& o)
{
    UnetOptions d;
    o.input_size = j.value("input_size", d.input_size);
    o.in_channels = j.value("in_channels", d.in_channels);
    if (j.contains("out_channels") && !j.at("out_channels").is_null())
        o.out_channels = j.at("out_channels").get<int>();
    else
        o.out_channels.reset();
    o.features = j.value("features", d.features);
    o.n_downs = j.value("n_downs", d.n_downs);
    o.use_dropout_layers = j.value("use_dropout_layers", d.use_dropout_layers);
    o.block_type = unet_block_type_from_string(j.value("block_type", to_string(d.block_type)));
    o.upsample_type = upsample_type_from_string(j.value("upsample_type", to_string(d.upsample_type)));
}

UnetOptions unet_options_from_config(const Config& config)
{
    UnetOptions o;
    o.input_size = config.dataloader.load.crop_size;
    o.in_channels = config.dataloader.load.input_nc;
    o.features = config.train.generator.features;
    o.n_downs = config.train.generator.n_downs;
    o.block_type = config.train.generator.block_type;
    o.upsample_type = config.train.generator.upsample_type;
    o.use_dropout_layers = config.train.generator.use_dropout_layers;
    return o;
}

void validate_unet_options(const UnetOptions& o)
{
    const UnetSizeCheck size = check_unet_input_size(o.input_size, o.n_downs);
    if (!size.ok)
        throw std::invalid_argument("UnetGenerator: " + size.message);
    auto positive = [](int v, const char* what) {
        if (v < 1)
            throw std::invalid_argument(
                std::string("UnetGenerator: ") + what + " must be >= 1, got " + std::to_string(v));
    };
    positive(o.in_channels, "in_channels");
    positive(o.resolved_out_channels(), "out_channels");
    positive(o.features, "features");
    if (o.use_dropout_layers < 0)
        throw std::invalid_argument(
            "UnetGenerator: use_dropout_layers must be >= 0, got " + std::to_string(o.use_dropout_layers));
}

void to_json(nlohmann::json& j, const UnetChannelMap& m)
{
    auto pair = [](const std::pair<int, int>& p) { return nlohmann::json::array({ p.first, p.second }); };
    auto list = [&](const std::vector<std::pair<int, int>>& v) {
        nlohmann::json a = nlohmann::json::array();
        for (const auto& p : v)
            a.push_back(pair(p));
        return a;
    };
    j = nlohmann::json { { "initial_down", pair(m.initial_down) }, { "downs", list(m.downs) },
        { "bottleneck", pair(m.bottleneck) }, { "ups", list(m.ups) }, { "final_up", pair(m.final_up) } };
}

UnetChannelMap unet_channel_map(const UnetOptions& o)
{
    // Same arithmetic as NectarGAN's build_channel_map: double per down, capped at 8 * features.
    std::vector<std::pair<int, int>> down_channels { { o.in_channels, o.features } };
    int out_features = o.features;
    int final_down_size = o.features;
    for (int i = 0; i < o.n_downs; ++i) {
        const int in_features = std::min(out_features, o.features * 8);
        out_features = std::min(out_features * 2, o.features * 8);
        down_channels.emplace_back(in_features, out_features);
        final_down_size = out_features;
    }
    // Up i takes cat(x, skip): twice the skip's channels in, the matching down's input channels out.
    std::vector<std::pair<int, int>> up_channels { { final_down_size, final_down_size } };
    for (auto it = down_channels.rbegin(); it != down_channels.rend(); ++it)
        up_channels.emplace_back(it->second * 2, it->first);
    up_channels.back().second = o.resolved_out_channels();

    UnetChannelMap m;
    m.initial_down = down_channels.front();
    m.downs.assign(down_channels.begin() + 1, down_channels.end());
    m.bottleneck = { final_down_size, final_down_size };
    m.ups.assign(up_channels.begin(), up_channels.end() - 1);
    m.final_up = up_channels.back();
    return m;
}

// ---------------------------------------------------------------------------------------------------------

UnetBlockImpl::UnetBlockImpl(const UnetBlockOptions& o)
    : options(o)
{
    conv = nn::Sequential();
    if (o.down) {
        conv->push_back(nn::Conv2d(nn::Conv2dOptions(o.in_channels, o.out_channels, /*kernel_size=*/4)
                                       .stride(2)
                                       .padding(1)
                                       .bias(o.bias)
                                       .padding_mode(torch::kReflect)));
    } else if (o.upsample_type == UpsampleType::Transposed) {
        conv->push_back(
            OneDnnConvTranspose2d(nn::ConvTranspose2dOptions(o.in_channels, o.out_channels, /*kernel_size=*/4)
                                      .stride(2)
                                      .padding(1)
                                      .bias(o.bias)));
    } else {
        conv->push_back(nn::Upsample(nn::UpsampleOptions()
                                         .scale_factor(std::vector<double> { 2.0, 2.0 })
                                         .mode(torch::kBilinear)
                                         .align_corners(false)));
        conv->push_back(nn::ReflectionPad2d(nn::ReflectionPad2dOptions(1)));
        // NectarGAN ignores the block's bias flag here: this conv always has a bias.
        conv->push_back(
            nn::Conv2d(nn::Conv2dOptions(o.in_channels, o.out_channels, /*kernel_size=*/3).stride(1).padding(0)));
    }
    if (o.instance_norm)
        conv->push_back(
            nn::InstanceNorm2d(nn::InstanceNorm2dOptions(o.out_channels).affine(false).track_running_stats(false)));
    else
        conv->push_back(nn::Identity());
    switch (o.activation) {
    case UnetActivation::LeakyReLU:
        conv->push_back(nn::LeakyReLU(nn::LeakyReLUOptions().negative_slope(0.2)));
        break;
    case UnetActivation::ReLU:
        conv->push_back(nn::ReLU());
        break;
    case UnetActivation::Tanh:
        conv->push_back(nn::Tanh());
        break;
    case UnetActivation::None:
        conv->push_back(nn::Identity());
        break;
    }
    register_module("conv", conv);

    dropout = register_module("dropout", nn::Dropout(nn::DropoutOptions(0.5)));

    if (o.residual) {
        residual = nn::Sequential();
        if (o.in_channels != o.out_channels || o.down) {
            if (o.down)
                residual->push_back(nn::Conv2d(nn::Conv2dOptions(o.in_channels, o.out_channels, 1).stride(2)));
            else
                residual->push_back(OneDnnConvTranspose2d(
                    nn::ConvTranspose2dOptions(o.in_channels, o.out_channels, 1).stride(2).output_padding(1)));
            residual->push_back(nn::ReLU());
        } else {
            // Parameter-free shortcut that matches the up path's 2x size. NectarGAN has an Identity here
            // that only broadcasts from a 1x1 bottleneck; nearest-neighbour x2 gives the same values then.
            residual->push_back(nn::Upsample(
                nn::UpsampleOptions().scale_factor(std::vector<double> { 2.0, 2.0 }).mode(torch::kNearest)));
        }
        register_module("residual", residual);
    }
}

torch::Tensor UnetBlockImpl::forward(const torch::Tensor& x)
{
    torch::Tensor y = conv->forward(x);
    if (residual)
        y = y + residual->forward(x);
    return options.use_dropout ? dropout->forward(y) : y;
}

// ---------------------------------------------------------------------------------------------------------

namespace {

const UnetOptions& checked(const UnetOptions& o)
{
    validate_unet_options(o);
    return o;
}

} // namespace

UnetGeneratorImpl::UnetGeneratorImpl(const UnetOptions& options)
    : m_options(checked(options)) // refuse bad options before any module is built
    , m_channel_map(unet_channel_map(m_options))
{
    const bool res = m_options.block_type == UnetBlockType::ResidualUnetBlock;
    const UpsampleType up = m_options.upsample_type;

    UnetBlockOptions b;
    b.upsample_type = up;
    b.residual = res;

    // Encoder: initial_down without norm, the others with InstanceNorm and no bias (NectarGAN).
    b.in_channels = m_channel_map.initial_down.first;
    b.out_channels = m_channel_map.initial_down.second;
    b.down = true;
    b.activation = UnetActivation::LeakyReLU;
    b.instance_norm = false;
    b.bias = true;
    initial_down = register_module("initial_down", UnetBlock(b));

    downs = register_module("downs", nn::ModuleList());
    for (const auto& [in, out] : m_channel_map.downs) {
        b.in_channels = in;
        b.out_channels = out;
        b.instance_norm = true;
        b.bias = false;
        m_downs.push_back(UnetBlock(b));
        downs->push_back(m_downs.back());
    }

    // Bottleneck: a down block with ReLU, no norm, bias (NectarGAN 0.2.3).
    b.in_channels = m_channel_map.bottleneck.first;
    b.out_channels = m_channel_map.bottleneck.second;
    b.activation = UnetActivation::ReLU;
    b.instance_norm = false;
    b.bias = true;
    bottleneck = register_module("bottleneck", UnetBlock(b));

    ups = register_module("ups", nn::ModuleList());
    for (std::size_t i = 0; i < m_channel_map.ups.size(); ++i) {
        b.in_channels = m_channel_map.ups[i].first;
        b.out_channels = m_channel_map.ups[i].second;
        b.down = false;
        b.activation = UnetActivation::ReLU;
        b.instance_norm = true;
        b.bias = false;
        b.use_dropout = static_cast<int>(i) < m_options.use_dropout_layers;
        m_ups.push_back(UnetBlock(b));
        ups->push_back(m_ups.back());
    }

    b.in_channels = m_channel_map.final_up.first;
    b.out_channels = m_channel_map.final_up.second;
    b.down = false;
    b.activation = UnetActivation::Tanh;
    b.instance_norm = false;
    b.bias = true;
    b.use_dropout = false;
    final_up = register_module("final_up", UnetBlock(b));

    init_weights_normal(*this, 0.0, 0.02);
}

torch::Tensor UnetGeneratorImpl::forward(const torch::Tensor& x)
{
    if (x.dim() != 4 || x.size(1) != m_options.in_channels)
        throw std::invalid_argument("UnetGenerator::forward: expected input [N, "
            + std::to_string(m_options.in_channels) + ", H, W], got " + c10::str(x.sizes()));
    for (int d : { 2, 3 }) {
        const UnetSizeCheck c = check_unet_input_size(static_cast<int>(x.size(d)), m_options.n_downs);
        if (!c.ok)
            throw std::invalid_argument("UnetGenerator::forward: input " + c10::str(x.sizes()) + ": " + c.message);
    }

    torch::Tensor h = initial_down->forward(x);
    std::vector<torch::Tensor> skips { h };
    for (auto& down : m_downs) {
        h = down->forward(h);
        skips.push_back(h);
    }
    h = bottleneck->forward(h);
    h = m_ups.front()->forward(h);
    // skips from deepest to shallowest; ups[i] (i >= 1) takes cat(x, skip of the matching depth).
    std::size_t s = skips.size() - 1;
    for (std::size_t i = 1; i < m_ups.size(); ++i, --s)
        h = m_ups[i]->forward(torch::cat({ h, skips[s] }, /*dim=*/1));
    return final_up->forward(torch::cat({ h, skips.front() }, /*dim=*/1));
}

} // namespace nectar
