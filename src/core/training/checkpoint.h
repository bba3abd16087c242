// SPDX-License-Identifier: Apache-2.0
#pragma once
/// @file Training checkpoints (NectarGAN `Trainer.export_model_weights` / `load_checkpoint`), as
/// LibTorch archives. One checkpoint = three files in the experiment folder:
///   epoch<N>_netG.pt     archive {"model": G state, "optimizer": Adam state}
///   epoch<N>_netD.pt     archive {"model": D state, "optimizer": Adam state}
///   epoch<N>_trainer.pt  archive {"epoch", "global_iteration", "rng_cpu", "rng_cuda" (optional),
///                                 "lr_g", "lr_d", "extra" (JSON text: loss scalers, loss weights ...)}
/// The trainer file is renamed into place last, so a checkpoint exists only when all three do.
/// `epoch` is the last completed 1-based epoch; the LR schedules are pure functions of it, so it is
/// also their position. NectarGAN names its files `epoch<N>_net<G|D>.pth.tar` (Python pickles); the
/// formats are not interchangeable, so the names differ.

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <torch/nn/module.h>
#include <torch/optim/optimizer.h>

#include "util/error.h"

namespace nectar {

/// Missing or unreadable checkpoint. what() names the file and lists the epochs that exist.
class CheckpointError : public InputError {
public:
    using InputError::InputError;
};

struct CheckpointState {
    int epoch = 0; ///< last completed epoch (1-based)
    std::int64_t global_iteration = 0; ///< iterations trained in total up to this checkpoint
    torch::Tensor rng_cpu; ///< LibTorch default CPU generator state (uint8), may be undefined
    torch::Tensor rng_cuda; ///< default CUDA generator state of the training device, may be undefined
    double lr_g = 0.0, lr_d = 0.0; ///< learning rates used in `epoch` (informational)
    nlohmann::json extra = nlohmann::json::object();
};

std::string checkpoint_file(const std::string& experiment_dir, int epoch, const std::string& part);

/// Epochs with a complete checkpoint in `experiment_dir`, ascending.
std::vector<int> list_checkpoint_epochs(const std::string& experiment_dir);

/// True if every parameter and buffer of `module` is finite (one device sync).
bool module_is_finite(const torch::nn::Module& module);

/// Saves G, D, both optimizers and `state` atomically (temp files, each fsynced, renamed; then the folder
/// fsynced), after which the checkpoint survives a crash or a power loss.
/// Throws CheckpointError, without touching any existing file, if G or D holds a NaN/Inf weight
/// (so a good checkpoint is never replaced by a diverged one), or if a file cannot be written.
void save_checkpoint(const std::string& experiment_dir, const CheckpointState& state, torch::nn::Module& generator,
    torch::optim::Optimizer& opt_g, torch::nn::Module& discriminator, torch::optim::Optimizer& opt_d);

/// Loads a checkpoint written by save_checkpoint into existing modules/optimizers whose parameters
/// live on `device` (tensors are mapped to it, so a CUDA checkpoint loads on CPU and vice versa).
/// Throws CheckpointError naming the missing file and listing the epochs that exist.
CheckpointState load_checkpoint(const std::string& experiment_dir, int epoch, const torch::Device& device,
    torch::nn::Module& generator, torch::optim::Optimizer& opt_g, torch::nn::Module& discriminator,
    torch::optim::Optimizer& opt_d);

/// Loads only the generator weights (inference, nectar-test, GUI). Same errors as load_checkpoint.
void load_generator_weights(
    const std::string& experiment_dir, int epoch, const torch::Device& device, torch::nn::Module& generator);

/// Global RNG state helpers (the CPU generator, and the CUDA generator of `device` when it is CUDA).
void capture_rng_state(CheckpointState& state, const torch::Device& device);
void restore_rng_state(const CheckpointState& state, const torch::Device& device);

} // namespace nectar
