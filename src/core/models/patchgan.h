// SPDX-License-Identifier: Apache-2.0
#pragma once
/// @file PatchGAN discriminator of pix2pix (Isola et al., "Image-to-Image Translation with Conditional
/// Adversarial Networks", CVPR 2017, section 3.2.2), built exactly like NectarGAN's
/// `nectargan/models/patchgan/model.py` (`Discriminator`) and `blocks.py` (`CNNBlock`) at v0.2.3 / commit
/// 7a34485: same layers, parameter names ("model.0.weight", "model.2.conv.0.weight", ...) and counts.
///
/// forward(x, y) runs the layers on cat([x, y], dim=1). Shapes for in_channels 3, base 64, n_layers 3,
/// max_channels 512 (float32 [N, C, H, W]):
/// @verbatim
///  x [N,3,256,256], y [N,3,256,256] -> cat           [N,6,256,256]
///    model.0  Conv4x4/2 reflect, bias                 [N,64,128,128]
///    model.1  LeakyReLU(0.2)
///    model.2  CNNBlock: Conv4x4/2 reflect, no bias, InstanceNorm, LeakyReLU(0.2)   [N,128,64,64]
///    model.3  CNNBlock with stride 1 (the last one)                               [N,256,63,63]
///    model.4  Conv4x4/1 reflect, bias -> 1 channel (logits, no sigmoid)           [N,1,62,62]
/// @endverbatim
/// NectarGAN's n_layers semantics (kept for compatibility): n_layers = N adds N-1 CNNBlocks, channels
/// doubling up to max_channels, all stride 2 except the last (stride 1). So the default n_layers = 3 gives a
/// 62x62 patch map for 256 input, not the classic 70x70 PatchGAN's 30x30 (that is n_layers = 4 here).
/// Weights use LibTorch's default init, as NectarGAN's Discriminator does (call init_weights_normal from
/// models/model_types.h for the pix2pix N(0, 0.02) init).

#include <nlohmann/json.hpp>
#include <torch/torch.h>

namespace nectar {

struct Config;

/// Arguments of NectarGAN's `Discriminator(in_channels, base_channels, n_layers, max_channels)`.
struct PatchGANOptions {
    int in_channels = 3; ///< channels of EACH of x and y; the first conv sees their concat (2 * in_channels)
    int base_channels = 64; ///< output channels of the first conv
    int n_layers = 3; ///< >= 1; adds n_layers - 1 CNNBlocks (see above)
    int max_channels = 512; ///< channel cap of the CNNBlocks
};

void to_json(nlohmann::json& j, const PatchGANOptions& o);
/// Missing keys keep their defaults. Throws nlohmann::json::exception on wrong JSON types.
void from_json(const nlohmann::json& j, PatchGANOptions& o);

/// in_channels = dataloader.load.input_nc; base_channels / n_layers / max_channels from train.discriminator.
PatchGANOptions patchgan_options_from_config(const Config& config);

/// Throws std::invalid_argument naming the bad value (any field < 1).
void validate_patchgan_options(const PatchGANOptions& o);

/// Side of the patch map for a square input of `input_size` pixels, or -1 when the input is too small
/// (a reflect-padded layer would see fewer than 2 pixels, or the map would be empty).
int patchgan_output_size(const PatchGANOptions& o, int input_size);

/// NectarGAN `CNNBlock`: Conv4x4 (stride 2 or 1, padding 1 reflect, no bias) -> InstanceNorm -> LeakyReLU(0.2).
class CNNBlockImpl : public torch::nn::Module {
public:
    CNNBlockImpl(int in_channels, int out_channels, int stride);
    torch::Tensor forward(const torch::Tensor& x);
    torch::nn::Sequential conv { nullptr };
};
TORCH_MODULE(CNNBlock);

/// forward(x, y): x and y float32 [N, in_channels, H, W] (same shape) -> logits [N, 1, h, w] with
/// h = patchgan_output_size(options, H). Throws std::invalid_argument for mismatched or wrong-channel inputs.
class PatchGANImpl : public torch::nn::Module {
public:
    explicit PatchGANImpl(const PatchGANOptions& options);
    torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& y);

    const PatchGANOptions& options() const { return m_options; }
    torch::nn::Sequential model { nullptr };

private:
    PatchGANOptions m_options;
};
TORCH_MODULE(PatchGAN);

} // namespace nectar
