// SPDX-License-Identifier: Apache-2.0
#pragma once
/// @file Loss modules (NectarGAN `nectargan.losses.losses`): Sobel, Laplacian, VGGPerceptual,
/// plus the torchvision VGG19 weight loader.
///
/// All modules take (fake/prediction, real/target) float32 tensors of equal shape [N, C, H, W]
/// and return a 0-d float32 mean (reduction "mean", metric L1, exactly as NectarGAN).

#include <map>
#include <string>
#include <vector>

#include <torch/nn/module.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/types.h>

namespace nectar {

/// Sobel structure loss (NectarGAN `Sobel`): gray = mean over channels (dim 1, keepdim);
/// gx, gy = conv2d(gray, k, padding 1) with kx=[[1,0,-1],[2,0,-2],[1,0,-1]], ky=[[1,2,1],[0,0,0],[-1,-2,-1]]
/// (cross-correlation); g = sqrt(gx^2 + gy^2 + 1e-6); result = L1(g_fake, g_real).
/// Input [N, C, H, W] float32, any C >= 1; output 0-d float32.
class SobelLossImpl : public torch::nn::Module {
public:
    SobelLossImpl();
    torch::Tensor forward(const torch::Tensor& fake, const torch::Tensor& real);

private:
    torch::Tensor gradient_magnitude(const torch::Tensor& image);
    torch::Tensor m_kx, m_ky; ///< [1, 1, 3, 3] buffers (move with the module)
};
TORCH_MODULE(SobelLoss);

/// Laplacian structure loss (NectarGAN `Laplacian`): gray = channel mean; conv2d padding 1 with
/// [[0,1,0],[1,-4,1],[0,1,0]]; result = L1(lap_fake, lap_real). Input [N, C, H, W]; output 0-d float32.
class LaplacianLossImpl : public torch::nn::Module {
public:
    LaplacianLossImpl();
    torch::Tensor forward(const torch::Tensor& fake, const torch::Tensor& real);

private:
    torch::Tensor m_kernel; ///< [1, 1, 3, 3] buffer
};
TORCH_MODULE(LaplacianLoss);

/// Where VGG19 weights are searched, in order: `explicit_path` (Config train.loss.vgg_weights) if
/// non-empty, then $TORCH_HOME/hub/checkpoints/vgg19-dcbb9e9d.pth, then
/// ~/.cache/torch/hub/checkpoints/vgg19-dcbb9e9d.pth (torchvision's cache layout).
std::vector<std::string> vgg19_weight_candidates(const std::string& explicit_path = {});
/// The first existing candidate. Throws std::runtime_error listing every path it looked at and how
/// to obtain the file (torchvision download URL / python one-liner) when none exists, or when
/// `explicit_path` is given but missing (never falls back to random weights).
std::string find_vgg19_weights(const std::string& explicit_path = {});

/// VGG19 perceptual loss (NectarGAN `VGGPerceptual`, after Johnson et al. 2016, "Perceptual Losses
/// for Real-Time Style Transfer"): torchvision vgg19().features split into blocks [0:4], [4:9],
/// [9:16]; both images (first 3 channels, no normalisation, as NectarGAN) pass through each block
/// and loss = sum_i layer_weight_i * L1(block_i(fake), block_i(real)), layer weights 1.0.
/// Parameters frozen (requires_grad false); the module stays in eval mode (train() is ignored).
/// Input [N, C>=3, H, W] float32 with H, W >= 4 (two 2x2 max-pools); output 0-d float32.
class VGGPerceptualLossImpl : public torch::nn::Module {
public:
    /// Loads features.{0,2,5,7,10,12,14}.{weight,bias} from `weights_path` (a torchvision VGG19
    /// state dict). Throws std::runtime_error naming the file and the missing/mis-shaped key.
    explicit VGGPerceptualLossImpl(
        const std::string& weights_path, std::vector<double> layer_weights = { 1.0, 1.0, 1.0 });
    torch::Tensor forward(const torch::Tensor& fake, const torch::Tensor& real);
    void train(bool on = true) override; ///< always stays in eval mode

    const std::string& weights_path() const { return m_weights_path; }

private:
    std::vector<torch::nn::Sequential> m_blocks;
    std::vector<double> m_layer_weights;
    std::string m_weights_path;
};
TORCH_MODULE(VGGPerceptualLoss);

} // namespace nectar
