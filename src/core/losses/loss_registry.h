// SPDX-License-Identifier: Apache-2.0
#pragma once
/// @file Registry of loss-function types ("L1", "MSE", "BCEWithLogits", "Sobel", "Laplacian",
/// "VGGPerceptual", ...) that specs (C++ and JSON) and the GUI choose from by name.

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "losses/lm_types.h"

namespace nectar {

struct Config;

/// A constructed loss function plus the module behind it (if any, for device moves).
struct LossFunction {
    LossFn function;
    std::shared_ptr<torch::nn::Module> module;
};

class LossFunctionRegistry {
public:
    using Factory = std::function<LossFunction(const Config&)>;
    struct Entry {
        std::string name;
        std::string description; ///< one line, with the paper / NectarGAN source
        Factory factory;
    };

    /// The process-wide registry with the built-in loss functions registered.
    static LossFunctionRegistry& instance();

    /// Throws std::invalid_argument if the name is taken or empty.
    void add(Entry entry);
    bool contains(const std::string& name) const;
    /// Throws std::invalid_argument naming the function and listing the registered ones.
    /// May throw std::runtime_error from the factory (e.g. VGG19 weights not found).
    LossFunction create(const std::string& name, const Config& config) const;
    const Entry& entry(const std::string& name) const;
    std::vector<std::string> names() const;

private:
    std::map<std::string, Entry> m_entries;
};

} // namespace nectar
