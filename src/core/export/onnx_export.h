// SPDX-License-Identifier: Apache-2.0
#pragma once
/// @file ONNX export of the trained UNet generator (models/unet.h). LibTorch has no C++ ONNX exporter, so the
/// graph is built node by node with the ONNX project's own C++ protobuf classes (Debian's libonnx-dev:
/// 1.12 on Debian 12, 1.17 on Debian 13) from our modules:
///   Conv (reflect padding as a Pad node, mode "reflect"), ConvTranspose, InstanceNormalization (affine=false:
///   scale 1, bias 0, epsilon 1e-5), LeakyRelu (alpha 0.2) / Relu / Tanh, Concat (skip connections),
///   Resize (bilinear: mode "linear", coordinate_transformation_mode "half_pixel", as torch::nn::Upsample
///   with align_corners=false; the residual shortcut's nearest x2: mode "nearest", "asymmetric", "floor"),
///   Add (residual blocks). Dropout is an identity in inference and is left out.
/// The model is checked with onnx::checker::check_model(full_check = true) before it is written, and written
/// atomically (temp file, fsync, rename): a failed export leaves no file.
///
/// Graph interface: input "input", float32 [N, in_channels, H, W] in [-1, 1]; output "output", float32
/// [N, out_channels, H, W] (Tanh range; a ResidualUnetBlock generator can exceed 1, as in LibTorch).
/// N is 1, or the symbolic dimension "batch" with dynamic_batch.

#include <cstdint>
#include <string>

namespace nectar {

class UnetGeneratorImpl;

struct OnnxExportOptions {
    int height = 0; ///< pixels; 0 = the generator's input_size (the experiment's crop size)
    int width = 0; ///< pixels; 0 = the generator's input_size
    int opset = 17; ///< ONNX opset of the default domain, 11 .. the highest this libonnx knows
    bool dynamic_batch = false; ///< batch dimension symbolic ("batch") instead of 1
};

struct OnnxExportReport {
    std::string path; ///< the written file
    int opset = 0;
    int height = 0, width = 0;
    int in_channels = 0, out_channels = 0;
    std::int64_t nodes = 0; ///< nodes in the graph
    std::int64_t parameters = 0; ///< scalars stored as initializers (equals count_parameters(generator))
    std::int64_t bytes = 0; ///< size of the written file
    std::string onnx_version; ///< libonnx's version that built and checked the model
};

/// Highest opset of the default ONNX domain that the linked libonnx supports (17 for 1.12, 21 for 1.17).
int max_onnx_opset();

/// Exports `generator` (eval-mode semantics: no dropout) to `path`.
/// Throws std::invalid_argument naming the option for a height / width that the generator cannot take
/// (check_unet_input_size's message, per side) or an opset outside 11..max_onnx_opset();
/// std::runtime_error for a model the checker refuses (with the checker's message) or a write error
/// (naming the file). Nothing is written on any error.
OnnxExportReport export_generator_onnx(
    UnetGeneratorImpl& generator, const std::string& path, const OnnxExportOptions& options = {});

/// Loads an experiment's generator (its newest config copy, train<K>_config.json, and epoch<epoch>_netG.pt)
/// on the CPU and exports it: `nectar-export` and the GUI's Utilities page.
/// Throws as export_generator_onnx, plus CheckpointError (no checkpoint at that epoch: lists the saved epochs)
/// and for a folder that is not an experiment (no config copy), ConfigError for a bad config copy.
OnnxExportReport export_experiment_onnx(
    const std::string& experiment_dir, int epoch, const std::string& path, const OnnxExportOptions& options = {});

} // namespace nectar
