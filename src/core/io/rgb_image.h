// SPDX-License-Identifier: Apache-2.0
#pragma once
/// @file The 8-bit RGB image the trainer hands to observers and writes as PNG (io/image_io.h).
/// Free of Qt and LibTorch types, so GUI headers may include it.

#include <cstdint>
#include <vector>

namespace nectar {

/// An 8-bit RGB image (row-major, 3 bytes per pixel), e.g. a detached CPU example.
struct RgbImage {
    int width = 0;
    int height = 0;
    std::vector<std::uint8_t> rgb;
    bool empty() const { return width <= 0 || height <= 0; }
};

} // namespace nectar
