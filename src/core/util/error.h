// SPDX-License-Identifier: Apache-2.0
#pragma once
/// @file The common base of the engine's bad-input errors (ConfigError, PresetError, SpecError, DataError,
/// CheckpointError; the CLI's UsageError). what() names the file, the JSON path or the value and what was
/// expected. The CLI maps an InputError to exit code 2; the GUI shows it inline. Failures while training
/// (NonFiniteLossError, I/O errors) are not InputErrors.

#include <stdexcept>

namespace nectar {

class InputError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

} // namespace nectar
