// SPDX-License-Identifier: Apache-2.0
#pragma once
/// @file The documented maximums of every count, size, epoch, version and weight the engine reads (from a
/// config, a preset, a spec, a folder name or the command line). Values are checked against these before
/// any arithmetic, so nothing overflows an int, asks for more memory than a machine has, or trains
/// garbage (README "Limits"). A value outside them is bad input (exit 2) naming the setting.

#include <cstddef>
#include <cstdint>

namespace nectar::limits {

inline constexpr int max_epochs = 100000; ///< each of learning_rate.epochs and epochs_decay
inline constexpr int max_experiment_version = 999999999; ///< <name>_v<N>: N has 1 to 9 digits
inline constexpr int max_image_size = 8192; ///< pixels: load_size, crop_size, visdom image_size
inline constexpr int max_batch_size = 65536;
/// batch_size x input_nc x crop_size^2: one batch tensor of floats (2^31 values = 8 GiB).
inline constexpr std::int64_t max_batch_values = std::int64_t { 1 } << 31;
inline constexpr int max_workers = 256; ///< dataloader.num_workers (decoding threads)
inline constexpr int max_threads = 1024; ///< common.num_threads (intra-op threads)
inline constexpr int max_gpu_id = 1023;
inline constexpr int max_features = 1024; ///< generator.features, discriminator.base_channels
inline constexpr int max_channels = 8192; ///< discriminator.max_channels
inline constexpr int max_n_downs = 11; ///< UNet depth: the input must be a multiple of 2^(n_downs+2) <= 8192
inline constexpr int max_n_layers = 16; ///< PatchGAN layers
inline constexpr int max_examples = 10000; ///< save.num_examples
inline constexpr double max_loss_weight = 1e6; ///< every loss weight (lambda), scheduled value and extra weight
inline constexpr double max_learning_rate = 1.0;
inline constexpr std::size_t max_path_bytes = 4096; ///< a path in a config (PATH_MAX)

} // namespace nectar::limits
