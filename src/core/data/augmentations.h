// SPDX-License-Identifier: Apache-2.0
#pragma once
/// @file Training-time augmentations read from NectarGAN's `dataloader.augmentations` config
/// (`nectargan/dataset/augmentations.py`, which builds albumentations pipelines). Supported here:
///  - "both" (same draw for input and target): h_flip_chance, v_flip_chance, rot90_chance (k * 90 degrees
///    counter-clockwise, k uniform in 0..3, as albumentations' RandomRotate90 / np.rot90);
///  - "input" only, in NectarGAN's order: colorjitter (brightness factor in [min, max], as
///    A.ColorJitter(brightness=(min, max)) with contrast/saturation/hue left out), gaussnoise (per-pixel,
///    per-channel N(0, s^2) with s uniform in [min, max] as a fraction of the full range, as A.GaussNoise's
///    std_range), randgamma (x^(g/100), g uniform in [min, max], as A.RandomGamma), grayscale (method
///    "weighted_average" = BT.601 luma, "average", "max" or "desaturation").
/// Not supported (reported once as a warning when their chance is > 0, never silently ignored): elastic
/// transform, optical distortion, coarse dropout, motion blur, JPEG compression, anything under "target".
/// All operations work on 8-bit images scaled to [0, 1] and clip to [0, 1], like albumentations on uint8.

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace nectar {

struct AugmentationsConfig;

struct AugmentationSettings {
    // both
    double h_flip_chance = 0.0;
    double v_flip_chance = 0.0;
    double rot90_chance = 0.0;
    // input
    double colorjitter_chance = 0.0;
    double colorjitter_min_brightness = 0.8;
    double colorjitter_max_brightness = 1.2;
    double gaussnoise_chance = 0.0;
    double gaussnoise_min = 0.2; ///< noise std as a fraction of the full range (1.0 = 255 levels)
    double gaussnoise_max = 0.44;
    double randgamma_chance = 0.0;
    double randgamma_min = 80.0; ///< gamma * 100
    double randgamma_max = 120.0;
    double grayscale_chance = 0.0;
    std::string grayscale_method = "weighted_average";

    bool any_geometric() const { return h_flip_chance > 0 || v_flip_chance > 0 || rot90_chance > 0; }
};

/// Parses the "both" / "input" / "target" objects. Throws std::invalid_argument naming the JSON path
/// (e.g. "dataloader.augmentations.both.h_flip_chance") for a non-number, a chance outside [0, 1] or
/// min > max. Adds at most one line to `warnings` listing the unsupported augmentations with a non-zero
/// chance and unknown keys.
AugmentationSettings parse_augmentations(const nlohmann::json& both, const nlohmann::json& input,
    const nlohmann::json& target, std::vector<std::string>& warnings);
AugmentationSettings parse_augmentations(const AugmentationsConfig& config, std::vector<std::string>& warnings);

/// The random draws for one pair, made in a fixed order from `rng` so a pair's augmentation depends only
/// on the seed that `rng` was built from (not on thread timing).
struct AugmentationDraw {
    bool h_flip = false;
    bool v_flip = false;
    int rot90_k = 0; ///< counter-clockwise quarter turns, 0..3
    double brightness = 1.0; ///< 1 = unchanged
    double noise_std = 0.0; ///< 0 = no noise
    std::uint64_t noise_seed = 0;
    double gamma = 1.0; ///< 1 = unchanged
    bool grayscale = false;
};
AugmentationDraw draw_augmentations(const AugmentationSettings& s, std::mt19937_64& rng);

/// Applies the input-only (photometric) part of `d` in place to a float image in [0, 1], layout [C, H, W].
void apply_input_augmentations(
    const AugmentationSettings& s, const AugmentationDraw& d, float* chw, int channels, int height, int width);

} // namespace nectar
