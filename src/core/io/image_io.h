// SPDX-License-Identifier: Apache-2.0
#pragma once
/// @file Tensor <-> 8-bit image helpers for previews and example files (QImage from QtGui for PNG).

#include <string>
#include <vector>

#include <torch/types.h>

#include "io/rgb_image.h"

namespace nectar {

/// One image, float [C, H, W] (C = 1 or 3; more channels: the first 3 are used) in [-1, 1], any device
/// -> 8-bit RGB (grey replicated). Values are clamped. Syncs the device (detaches and copies to the CPU).
RgbImage tensor_to_rgb(const torch::Tensor& chw);

/// Concatenates images of equal height side by side (e.g. input | generated | target).
RgbImage hconcat(const std::vector<RgbImage>& images);

/// Saves as PNG through QImage; atomic (write_file_atomically; `path` is used as bytes). Throws
/// std::runtime_error naming the file.
void save_png(const RgbImage& image, const std::string& path);

} // namespace nectar
