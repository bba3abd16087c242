// SPDX-License-Identifier: Apache-2.0
#pragma once
/// @file UNet generator of pix2pix (Isola et al., "Image-to-Image Translation with Conditional Adversarial
/// Networks", CVPR 2017), built exactly like NectarGAN's `nectargan/models/unet/model.py` (`UnetGenerator`)
/// and `blocks.py` (`UnetBlock`, `ResidualUnetBlock`) at v0.2.3 / commit 7a34485: same modules, same
/// parameter names and order (state_dict keys such as "downs.0.conv.0.weight"), same parameter counts.
///
/// Shapes for input_size 256, in_channels 3, features 64, n_downs 6 (every tensor float32 [N, C, H, W]):
/// @verbatim
///  input [N,3,256,256]
///    initial_down  Conv4x4/2 reflect, bias, LeakyReLU(0.2)      -> [N,64,128,128]  skip s0
///    downs[0]      Conv4x4/2 reflect, InstanceNorm, LeakyReLU   -> [N,128,64,64]   skip s1
///    downs[1]                                                   -> [N,256,32,32]   skip s2
///    downs[2]                                                   -> [N,512,16,16]   skip s3
///    downs[3..5]   (channels capped at 8*features)              -> [N,512,8,8] [N,512,4,4] [N,512,2,2] s4 s5 s6
///    bottleneck    Conv4x4/2 reflect, bias, ReLU                -> [N,512,1,1]
///    ups[0]        Up x2, InstanceNorm, ReLU, Dropout(0.5)      -> [N,512,2,2]
///    ups[1]        cat(x, s6) 1024 -> Up x2 ... Dropout         -> [N,512,4,4]
///    ups[2]        cat(x, s5) 1024 -> ... Dropout               -> [N,512,8,8]
///    ups[3]        cat(x, s4) 1024 ->                           -> [N,512,16,16]
///    ups[4..6]     cat with s3, s2, s1                          -> [N,256,32,32] [N,128,64,64] [N,64,128,128]
///    final_up      cat(x, s0) 128 -> Up x2, bias, Tanh          -> [N,3,256,256]
///  "Up x2" is ConvTranspose4x4/2 (Transposed) or Upsample(bilinear) + ReflectionPad(1) + Conv3x3 with bias
///  (Bilinear). Dropout on the first `use_dropout_layers` ups. InstanceNorm: affine=false, no running stats.
/// @endverbatim
/// ResidualUnetBlock adds a shortcut to every block: down = Conv1x1/2 (bias) + ReLU; up = ConvTranspose1x1/2
/// (output_padding 1, bias) + ReLU, and, where in == out (ups[0] only), a parameter-free nearest-neighbour
/// x2 upsample. NectarGAN uses an Identity there that only works by broadcasting when the bottleneck is 1x1;
/// the upsample gives identical values in that case and works at every valid input size.

#include <optional>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "models/model_types.h"

namespace nectar {

struct Config;

/// Arguments of NectarGAN's `UnetGenerator(input_size, in_channels, features, n_downs, use_dropout_layers,
/// block_type, upconv_type)`. JSON keys are the member names; block_type / upsample_type are the names in
/// unet_block_type_names() / upsample_type_names(); out_channels is null or absent for "same as in_channels".
struct UnetOptions {
    int input_size = 256; ///< pixels (square); positive multiple of 2^(n_downs+2)
    int in_channels = 3;
    std::optional<int> out_channels; ///< default: in_channels (as NectarGAN)
    int features = 64; ///< channels of the first layer; capped at 8*features deeper down
    int n_downs = 6; ///< downsampling blocks after initial_down (>= 1)
    int use_dropout_layers = 3; ///< number of ups (from the deepest) with Dropout(0.5)
    UnetBlockType block_type = UnetBlockType::UnetBlock;
    UpsampleType upsample_type = UpsampleType::Transposed;

    int resolved_out_channels() const { return out_channels ? *out_channels : in_channels; }
};

void to_json(nlohmann::json& j, const UnetOptions& o);
/// Missing keys keep their defaults. Throws nlohmann::json::exception on wrong JSON types and
/// std::invalid_argument on unknown type names.
void from_json(const nlohmann::json& j, UnetOptions& o);

/// Generator options from a config: input_size = dataloader.load.crop_size, in_channels = load.input_nc,
/// features / n_downs / block_type / upsample_type from train.generator.
/// Throws std::invalid_argument on unknown type names (does not check the input size).
UnetOptions unet_options_from_config(const Config& config);

/// Throws std::invalid_argument naming the bad value: the input-size message of check_unet_input_size
/// (with the nearest valid sizes), or channels / features < 1, use_dropout_layers < 0.
void validate_unet_options(const UnetOptions& o);

/// (in, out) channels of every block, as NectarGAN's `UnetGenerator.build_channel_map`.
struct UnetChannelMap {
    std::pair<int, int> initial_down;
    std::vector<std::pair<int, int>> downs;
    std::pair<int, int> bottleneck;
    std::vector<std::pair<int, int>> ups; ///< ups[0] takes the bottleneck output; the others cat(x, skip)
    std::pair<int, int> final_up;
};
/// Layout of NectarGAN's `channel_map` dict: {"initial_down": [i, o], "downs": [[i, o], ...], ...}.
void to_json(nlohmann::json& j, const UnetChannelMap& m);
/// Pure function of the options (no size check).
UnetChannelMap unet_channel_map(const UnetOptions& o);

enum class UnetActivation { LeakyReLU, ReLU, Tanh, None };

/// One UNet block (NectarGAN `UnetBlock` / `ResidualUnetBlock`).
struct UnetBlockOptions {
    int in_channels = 0;
    int out_channels = 0;
    bool down = true; ///< Conv4x4/2 (down) or x2 upsampling (up)
    UpsampleType upsample_type = UpsampleType::Transposed;
    UnetActivation activation = UnetActivation::LeakyReLU;
    bool instance_norm = false;
    bool bias = true; ///< ignored by the Bilinear up conv (always biased, as NectarGAN)
    bool use_dropout = false;
    bool residual = false; ///< ResidualUnetBlock
};

/// forward: [N, in, H, W] -> [N, out, H/2, W/2] (down) or [N, out, 2H, 2W] (up), float32.
/// Submodules: "conv" (Sequential: conv or upsample/pad/conv, norm or Identity, activation or Identity),
/// "residual" (Sequential, only for residual blocks), "dropout".
class UnetBlockImpl : public torch::nn::Module {
public:
    explicit UnetBlockImpl(const UnetBlockOptions& options);
    torch::Tensor forward(const torch::Tensor& x);

    UnetBlockOptions options;
    torch::nn::Sequential conv { nullptr };
    torch::nn::Sequential residual { nullptr }; ///< null for UnetBlock
    torch::nn::Dropout dropout { nullptr };
};
TORCH_MODULE(UnetBlock);

/// The generator. forward: float32 [N, in_channels, S, S] -> [N, out_channels, S, S] in [-1, 1] (Tanh; a
/// ResidualUnetBlock generator adds a ReLU'd shortcut after the Tanh, as NectarGAN, so its output can
/// exceed 1), for any S that passes check_unet_input_size (not only options.input_size).
/// Throws std::invalid_argument from the constructor (before any module is built) for invalid options, and
/// from forward for an input whose channels or size do not fit.
class UnetGeneratorImpl : public torch::nn::Module {
public:
    explicit UnetGeneratorImpl(const UnetOptions& options);
    torch::Tensor forward(const torch::Tensor& x);

    const UnetOptions& options() const { return m_options; }
    const UnetChannelMap& channel_map() const { return m_channel_map; }

    UnetBlock initial_down { nullptr };
    torch::nn::ModuleList downs { nullptr };
    UnetBlock bottleneck { nullptr };
    torch::nn::ModuleList ups { nullptr };
    UnetBlock final_up { nullptr };

private:
    UnetOptions m_options;
    UnetChannelMap m_channel_map;
    std::vector<UnetBlock> m_downs; // typed views of `downs` / `ups`
    std::vector<UnetBlock> m_ups;
};
TORCH_MODULE(UnetGenerator);

} // namespace nectar
