// SPDX-License-Identifier: Apache-2.0
#pragma once
/// @file Names of the generator building blocks (registries the GUI and config validation enumerate),
/// the UNet input-size rule, and small helpers shared by the models (weight init, parameter count).
/// No LibTorch types in the registry part, so GUI code can include this header cheaply.

#include <cstdint>
#include <string>
#include <vector>

#include "config/choices.h"

namespace torch::nn {
class Module;
}

namespace nectar {

// UnetBlockType and UpsampleType (with their name tables) are config choices: config/choices.h.

/// Valid block type names, in display order: {"UnetBlock", "ResidualUnetBlock"} (choice_names).
inline const std::vector<std::string>& unet_block_type_names()
{
    return choice_names<UnetBlockType>();
}
/// Valid upsampling type names, in display order: {"Transposed", "Bilinear"} (choice_names).
inline const std::vector<std::string>& upsample_type_names()
{
    return choice_names<UpsampleType>();
}

std::string to_string(UnetBlockType t);
std::string to_string(UpsampleType t);
/// Exact (case-sensitive) name match. Throws std::invalid_argument naming the value and listing the valid names.
UnetBlockType unet_block_type_from_string(const std::string& name);
/// Exact (case-sensitive) name match. Throws std::invalid_argument naming the value and listing the valid names.
UpsampleType upsample_type_from_string(const std::string& name);

/// Result of checking a UNet input size (pixels, square) against n_downs.
/// The rule: the size must be a positive multiple of 2^(n_downs+2) (n_downs downsamplings plus the
/// initial down and the bottleneck halve the size n_downs+2 times). NectarGAN only checks the minimum.
struct UnetSizeCheck {
    bool ok = false;
    int multiple = 0; ///< 2^(n_downs+2)
    int lower = 0; ///< nearest valid size <= input_size (0 if none)
    int upper = 0; ///< nearest valid size >= input_size
    std::string message; ///< empty when ok; otherwise names the size, the rule and the nearest valid sizes
};

/// Checks `input_size` for `n_downs`; never throws (n_downs outside [1, 24] gives ok = false with a message).
UnetSizeCheck check_unet_input_size(int input_size, int n_downs);

/// NectarGAN's `UnetGenerator.init_weights`: every Conv2d / ConvTranspose2d weight ~ N(mean, std), biases 0
/// (affine norm layers, if any: weight ~ N(1, std), bias 0). Uses LibTorch's global generator
/// (seed it with torch::manual_seed for reproducible weights).
void init_weights_normal(torch::nn::Module& module, double mean = 0.0, double std = 0.02);

/// Number of scalar parameters (all, or only those with requires_grad).
std::int64_t count_parameters(const torch::nn::Module& module, bool trainable_only = false);

} // namespace nectar
