// SPDX-License-Identifier: Apache-2.0
#pragma once
/// @file torch.save state dicts without Python: torchvision's VGG19 weights (legacy pre-1.6 format)
/// and fixtures (zip format).

#include <map>
#include <string>

#include <torch/types.h>

namespace nectar {

/// Reads a torchvision-style state dict saved with torch.save (a zip with a pickle of
/// OrderedDict name -> tensor) through torch::pickle_load. Returns name -> tensor (CPU).
/// Throws std::runtime_error naming the file when it cannot be read or is not a dict of tensors.
std::map<std::string, torch::Tensor> load_torch_state_dict(const std::string& path);
/// Writes `tensors` in the same format (torch::pickle_save of a GenericDict), e.g. for fixtures.
/// Atomic (temp file + rename). Throws std::runtime_error naming the file.
void save_torch_state_dict(const std::map<std::string, torch::Tensor>& tensors, const std::string& path);

} // namespace nectar
