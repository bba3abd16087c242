// SPDX-License-Identifier: Apache-2.0
#pragma once
/// @file ConvTranspose2d that runs on oneDNN on the CPU.
///
/// Why: ATen 1.13 sends every CPU float transposed convolution to `slow_conv_transpose2d` (im2col/col2im
/// plus a BLAS GEMM); only regular convolutions reach oneDNN (MKL-DNN). At crop 256 that one kernel took
/// more time than all regular convolutions together. A transposed convolution is the input gradient of the
/// regular convolution with the same weight, so its forward pass here is `at::convolution_backward`
/// (input gradient only) of that convolution, and its backward pass is a regular convolution (input
/// gradient) plus the weight gradient of the same convolution: the same arithmetic as
/// torch::nn::ConvTranspose2d, on oneDNN's kernels, with identical parameters and state_dict keys.

#include <torch/torch.h>

namespace nectar {

/// y = conv_transpose2d(x, weight, bias, stride, padding, output_padding), dilation 1, groups 1.
/// x: float [N, C_in, H, W]; weight: [C_in, C_out, kH, kW] (torch::nn::ConvTranspose2d's layout);
/// bias: [C_out] or undefined. Returns [N, C_out, (H-1)*stride - 2*padding + kH + output_padding, (same for W)].
/// Differentiable in x, weight and bias (first order).
/// Falls back to torch::conv_transpose2d when oneDNN would not be used (non-CPU tensors, a dtype other than
/// float32, ATen without MKL-DNN, CPU autocast enabled) and for inputs ATen would refuse (channel mismatch,
/// output_padding >= stride), so those get ATen's own c10::Error.
torch::Tensor conv_transpose2d_onednn(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias,
    torch::IntArrayRef stride, torch::IntArrayRef padding, torch::IntArrayRef output_padding);

/// torch::nn::ConvTranspose2d whose forward goes through conv_transpose2d_onednn when its options allow
/// (dilation 1, groups 1, zeros padding); same parameters ("weight", "bias"), so checkpoints are unchanged.
class OneDnnConvTranspose2dImpl : public torch::nn::ConvTranspose2dImpl {
public:
    using torch::nn::ConvTranspose2dImpl::ConvTranspose2dImpl;
    /// x: [N, C_in, H, W] float -> [N, C_out, H_out, W_out] (see conv_transpose2d_onednn).
    torch::Tensor forward(const torch::Tensor& x);
};
TORCH_MODULE(OneDnnConvTranspose2d);

} // namespace nectar
