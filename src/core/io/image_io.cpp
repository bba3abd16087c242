// SPDX-License-Identifier: Apache-2.0
#include "io/image_io.h"

#include <cstring>
#include <stdexcept>

#include <QBuffer>
#include <QByteArray>
#include <QImage>
#include <torch/torch.h>

#include "util/atomic_file.h"
#include "util/paths.h"

namespace nectar {

RgbImage tensor_to_rgb(const torch::Tensor& chw)
{
    if (chw.dim() != 3 || chw.size(0) < 1)
        throw std::invalid_argument(
            "tensor_to_rgb: expected a [C, H, W] tensor, got " + std::to_string(chw.dim()) + " dimensions");
    torch::NoGradGuard no_grad;
    auto t = chw.detach().to(torch::kCPU, torch::kFloat32);
    t = t.size(0) >= 3 ? t.slice(0, 0, 3) : t.slice(0, 0, 1).expand({ 3, t.size(1), t.size(2) });
    // [-1, 1] -> [0, 255], HWC contiguous
    t = ((t.clamp(-1.0, 1.0) + 1.0) * 127.5).round().to(torch::kUInt8).permute({ 1, 2, 0 }).contiguous();
    RgbImage img;
    img.height = static_cast<int>(t.size(0));
    img.width = static_cast<int>(t.size(1));
    img.rgb.resize(static_cast<size_t>(img.width) * img.height * 3);
    std::memcpy(img.rgb.data(), t.data_ptr<std::uint8_t>(), img.rgb.size());
    return img;
}

RgbImage hconcat(const std::vector<RgbImage>& images)
{
    RgbImage out;
    if (images.empty())
        return out;
    out.height = images.front().height;
    for (const auto& i : images) {
        if (i.height != out.height)
            throw std::invalid_argument("hconcat: images of different heights");
        out.width += i.width;
    }
    out.rgb.resize(static_cast<size_t>(out.width) * out.height * 3);
    for (int y = 0; y < out.height; ++y) {
        size_t off = static_cast<size_t>(y) * out.width * 3;
        for (const auto& i : images) {
            std::memcpy(out.rgb.data() + off, i.rgb.data() + static_cast<size_t>(y) * i.width * 3,
                static_cast<size_t>(i.width) * 3);
            off += static_cast<size_t>(i.width) * 3;
        }
    }
    return out;
}

void save_png(const RgbImage& image, const std::string& path)
{
    if (image.empty())
        throw std::runtime_error("cannot save an empty image to " + display_path(path));
    const QImage q(image.rgb.data(), image.width, image.height, image.width * 3, QImage::Format_RGB888);
    // Encoded in memory, written through the byte-exact atomic writer (a QString path is not byte-exact).
    QByteArray png;
    QBuffer buffer(&png);
    buffer.open(QIODevice::WriteOnly);
    if (!q.save(&buffer, "PNG"))
        throw std::runtime_error("cannot encode image " + display_path(path) + " as PNG");
    write_file_atomically(path, png.constData(), static_cast<std::size_t>(png.size()), "image");
}

} // namespace nectar
