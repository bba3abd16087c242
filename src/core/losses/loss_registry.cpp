// SPDX-License-Identifier: Apache-2.0
#include "losses/loss_registry.h"

#include <stdexcept>

#include <torch/torch.h>

#include "config/config.h"
#include "losses/losses.h"
#include "util/strings.h"

namespace nectar {
namespace {

// Wraps a module holder (e.g. torch::nn::L1Loss) as a LossFunction that shares the module.
template <typename Holder> LossFunction wrap(Holder holder)
{
    auto impl = holder.ptr();
    LossFunction f;
    f.module = impl;
    f.function = [impl](const torch::Tensor& x, const torch::Tensor& y) { return impl->forward(x, y); };
    return f;
}

void add_builtins(LossFunctionRegistry& r)
{
    r.add({ "L1", "Mean absolute error, torch.nn.L1Loss (pix2pix, Isola et al. 2017)",
        [](const Config&) { return wrap(torch::nn::L1Loss()); } });
    r.add({ "MSE", "Mean squared error, torch.nn.MSELoss", [](const Config&) { return wrap(torch::nn::MSELoss()); } });
    r.add({ "BCEWithLogits",
        "Binary cross-entropy on logits, torch.nn.BCEWithLogitsLoss (GAN loss, Goodfellow et al. 2014)",
        [](const Config&) { return wrap(torch::nn::BCEWithLogitsLoss()); } });
    r.add({ "Sobel", "Sobel gradient-magnitude structure loss (NectarGAN losses.Sobel)",
        [](const Config&) { return wrap(SobelLoss()); } });
    r.add({ "Laplacian", "Laplacian structure loss (NectarGAN losses.Laplacian)",
        [](const Config&) { return wrap(LaplacianLoss()); } });
    r.add({ "VGGPerceptual",
        "VGG19 perceptual loss, blocks [0:4],[4:9],[9:16] with L1 (NectarGAN losses.VGGPerceptual; "
        "Johnson et al. 2016); needs torchvision's vgg19-dcbb9e9d.pth",
        [](const Config& c) { return wrap(VGGPerceptualLoss(find_vgg19_weights(c.train.loss.vgg_weights))); } });
}

} // namespace

LossFunctionRegistry& LossFunctionRegistry::instance()
{
    static LossFunctionRegistry* r = [] {
        auto* reg = new LossFunctionRegistry;
        add_builtins(*reg);
        return reg;
    }();
    return *r;
}

void LossFunctionRegistry::add(Entry entry)
{
    if (entry.name.empty())
        throw std::invalid_argument("LossFunctionRegistry: a loss function needs a non-empty name");
    if (!entry.factory)
        throw std::invalid_argument("LossFunctionRegistry: loss function \"" + entry.name + "\" has no factory");
    if (m_entries.count(entry.name))
        throw std::invalid_argument("LossFunctionRegistry: loss function \"" + entry.name + "\" is already registered");
    auto name = entry.name;
    m_entries.emplace(std::move(name), std::move(entry));
}

bool LossFunctionRegistry::contains(const std::string& name) const
{
    return m_entries.count(name) > 0;
}

const LossFunctionRegistry::Entry& LossFunctionRegistry::entry(const std::string& name) const
{
    const auto it = m_entries.find(name);
    if (it == m_entries.end()) {
        throw std::invalid_argument("Unknown loss function \"" + name
            + "\"; registered loss functions: " + join_mapped(m_entries, [](const auto& e) { return e.first; }));
    }
    return it->second;
}

LossFunction LossFunctionRegistry::create(const std::string& name, const Config& config) const
{
    return entry(name).factory(config);
}

std::vector<std::string> LossFunctionRegistry::names() const
{
    std::vector<std::string> out;
    for (const auto& [n, e] : m_entries)
        out.push_back(n);
    return out;
}

} // namespace nectar
