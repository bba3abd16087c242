// SPDX-License-Identifier: Apache-2.0
// Loss modules after NectarGAN `nectargan/losses/losses.py`.
#include "losses/losses.h"

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <stdexcept>

#include <torch/torch.h>

#include "io/torch_pickle.h"

namespace nectar {
namespace F = torch::nn::functional;

// ---------------------------------------------------------------------------------------------
// Sobel / Laplacian

namespace {
torch::Tensor kernel3x3(std::vector<float> v)
{
    return torch::tensor(v, torch::kFloat32).view({ 1, 1, 3, 3 });
}
torch::Tensor to_gray(const torch::Tensor& image, torch::ScalarType dtype)
{
    // NectarGAN: original.mean(dim=1, keepdim=True, dtype=self.dtype), the module's dtype
    // (float32 unless moved), so half-precision inputs are averaged in float32.
    return image.mean(1, /*keepdim=*/true, dtype);
}
} // namespace

SobelLossImpl::SobelLossImpl()
{
    m_kx = register_buffer("kx", kernel3x3({ 1, 0, -1, 2, 0, -2, 1, 0, -1 }));
    m_ky = register_buffer("ky", kernel3x3({ 1, 2, 1, 0, 0, 0, -1, -2, -1 }));
}

torch::Tensor SobelLossImpl::gradient_magnitude(const torch::Tensor& image)
{
    const auto gray = to_gray(image, m_kx.scalar_type());
    const auto opts = F::Conv2dFuncOptions().padding(1);
    const auto gx = F::conv2d(gray, m_kx, opts);
    const auto gy = F::conv2d(gray, m_ky, opts);
    return torch::sqrt(gx.pow(2) + gy.pow(2) + 1e-6);
}

torch::Tensor SobelLossImpl::forward(const torch::Tensor& fake, const torch::Tensor& real)
{
    return F::l1_loss(gradient_magnitude(fake), gradient_magnitude(real));
}

LaplacianLossImpl::LaplacianLossImpl()
{
    m_kernel = register_buffer("kernel", kernel3x3({ 0, 1, 0, 1, -4, 1, 0, 1, 0 }));
}

torch::Tensor LaplacianLossImpl::forward(const torch::Tensor& fake, const torch::Tensor& real)
{
    const auto opts = F::Conv2dFuncOptions().padding(1);
    const auto dtype = m_kernel.scalar_type();
    return F::l1_loss(F::conv2d(to_gray(fake, dtype), m_kernel, opts), F::conv2d(to_gray(real, dtype), m_kernel, opts));
}

// ---------------------------------------------------------------------------------------------
// VGG19 weights

namespace {
constexpr const char* kVggFile = "vgg19-dcbb9e9d.pth";
constexpr const char* kVggUrl = "https://download.pytorch.org/models/vgg19-dcbb9e9d.pth";
} // namespace

std::vector<std::string> vgg19_weight_candidates(const std::string& explicit_path)
{
    std::vector<std::string> out;
    if (!explicit_path.empty())
        out.push_back(explicit_path);
    if (const char* th = std::getenv("TORCH_HOME"); th && *th)
        out.push_back((std::filesystem::path(th) / "hub" / "checkpoints" / kVggFile).string());
    if (const char* home = std::getenv("HOME"); home && *home)
        out.push_back((std::filesystem::path(home) / ".cache" / "torch" / "hub" / "checkpoints" / kVggFile).string());
    return out;
}

std::string find_vgg19_weights(const std::string& explicit_path)
{
    const auto candidates = vgg19_weight_candidates(explicit_path);
    if (!explicit_path.empty()) {
        if (std::filesystem::is_regular_file(explicit_path))
            return explicit_path;
        throw std::runtime_error("VGG19 weights not found at train.loss.vgg_weights = \"" + explicit_path
            + "\". Download " + kVggUrl
            + " (torchvision's VGG19 ImageNet weights) and set "
              "train.loss.vgg_weights to its path.");
    }
    for (const auto& c : candidates)
        if (std::filesystem::is_regular_file(c))
            return c;
    std::string looked;
    for (const auto& c : candidates)
        looked += "\n  " + c;
    if (looked.empty())
        looked = "\n  (neither TORCH_HOME nor HOME is set)";
    throw std::runtime_error(std::string("VGG19 weights (") + kVggFile
        + ") not found; the VGGPerceptual loss "
          "needs torchvision's pretrained VGG19 and never uses random weights. Looked in:"
        + looked
        + "\nGet the file with:\n  mkdir -p ~/.cache/torch/hub/checkpoints && curl -L -o "
          "~/.cache/torch/hub/checkpoints/"
        + kVggFile + " " + kVggUrl
        + "\n(or python3 -c \"import torchvision; torchvision.models.vgg19(weights='DEFAULT')\"),"
          " or set train.loss.vgg_weights to the file's path.");
}

VGGPerceptualLossImpl::VGGPerceptualLossImpl(const std::string& weights_path, std::vector<double> layer_weights)
    : m_layer_weights(std::move(layer_weights))
    , m_weights_path(weights_path)
{
    if (m_layer_weights.size() != 3)
        throw std::invalid_argument(
            "VGGPerceptual: expected 3 layer weights, got " + std::to_string(m_layer_weights.size()));
    const auto state = load_torch_state_dict(weights_path);
    namespace nn = torch::nn;
    auto conv = [&](int index, int in, int out) {
        nn::Conv2d c(nn::Conv2dOptions(in, out, 3).padding(1));
        for (const char* what : { "weight", "bias" }) {
            const std::string key = "features." + std::to_string(index) + "." + what;
            const auto it = state.find(key);
            if (it == state.end())
                throw std::runtime_error(
                    weights_path + ": missing key " + key + " (not a torchvision VGG19 state dict?)");
            auto& param = std::string(what) == "weight" ? c->weight : c->bias;
            if (it->second.sizes() != param.sizes()) {
                std::ostringstream os;
                os << weights_path << ": " << key << " has shape " << it->second.sizes() << ", expected "
                   << param.sizes();
                throw std::runtime_error(os.str());
            }
            torch::NoGradGuard ng;
            param.copy_(it->second.to(torch::kFloat32));
        }
        return c;
    };
    auto pool = [] { return nn::MaxPool2d(nn::MaxPool2dOptions(2).stride(2)); };
    auto relu = [] { return nn::ReLU(nn::ReLUOptions(true)); };
    // torchvision vgg19().features[0:16]
    m_blocks.push_back(nn::Sequential(conv(0, 3, 64), relu(), conv(2, 64, 64), relu()));
    m_blocks.push_back(nn::Sequential(pool(), conv(5, 64, 128), relu(), conv(7, 128, 128), relu()));
    m_blocks.push_back(
        nn::Sequential(pool(), conv(10, 128, 256), relu(), conv(12, 256, 256), relu(), conv(14, 256, 256), relu()));
    for (size_t i = 0; i < m_blocks.size(); ++i)
        register_module("block" + std::to_string(i), m_blocks[i]);
    for (auto& p : parameters())
        p.set_requires_grad(false);
    torch::nn::Module::train(false);
}

void VGGPerceptualLossImpl::train(bool)
{
    torch::nn::Module::train(false); // frozen feature extractor: always eval
}

torch::Tensor VGGPerceptualLossImpl::forward(const torch::Tensor& fake_in, const torch::Tensor& real_in)
{
    using torch::indexing::Slice;
    auto fake = fake_in.index({ Slice(), Slice(0, 3) });
    auto real = real_in.index({ Slice(), Slice(0, 3) });
    torch::Tensor loss;
    for (size_t i = 0; i < m_blocks.size(); ++i) {
        fake = m_blocks[i]->forward(fake);
        real = m_blocks[i]->forward(real);
        auto term = m_layer_weights[i] * F::l1_loss(fake, real);
        loss = loss.defined() ? loss + term : term;
    }
    return loss;
}

} // namespace nectar
