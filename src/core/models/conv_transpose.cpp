// SPDX-License-Identifier: Apache-2.0
#include "models/conv_transpose.h"

#include <ATen/autocast_mode.h>

#include "util/torch_compat.h"

namespace nectar {

namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

std::vector<std::int64_t> output_size(const torch::Tensor& x, const torch::Tensor& w, torch::IntArrayRef stride,
    torch::IntArrayRef padding, torch::IntArrayRef output_padding)
{
    return { x.size(0), w.size(1), (x.size(2) - 1) * stride[0] - 2 * padding[0] + w.size(2) + output_padding[0],
        (x.size(3) - 1) * stride[1] - 2 * padding[1] + w.size(3) + output_padding[1] };
}

// The regular convolution conv(z, weight) maps [N, C_out, H_out, W_out] to x's shape; this layer is its
// transpose. Saved: x and weight (as torch's own ConvTranspose2d backward saves them). The bias is added
// outside: autograd's Function cannot take an undefined tensor input.
struct ConvTranspose2dFn : public torch::autograd::Function<ConvTranspose2dFn> {
    static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& x, const torch::Tensor& weight,
        std::vector<std::int64_t> stride, std::vector<std::int64_t> padding, std::vector<std::int64_t> output_padding)
    {
        const std::vector<std::int64_t> dilation { 1, 1 };
        const auto out_sizes = output_size(x, weight, stride, padding, output_padding);
        // Only its shape and options are read (backend choice and the gradient's size).
        const auto z_like = torch::empty(out_sizes, x.options());
        ctx->save_for_backward({ x, weight });
        ctx->saved_data["stride"] = stride;
        ctx->saved_data["padding"] = padding;
        return std::get<0>(at::convolution_backward(x.contiguous(), z_like, weight, c10::nullopt, stride, padding,
            dilation, /*transposed=*/false, /*output_padding=*/ { 0, 0 }, /*groups=*/1, { true, false, false }));
    }

    static variable_list backward(AutogradContext* ctx, variable_list grad_outputs)
    {
        const auto saved = ctx->get_saved_variables();
        const torch::Tensor& x = saved[0];
        const torch::Tensor& weight = saved[1];
        const auto stride = ctx->saved_data["stride"].toIntVector();
        const auto padding = ctx->saved_data["padding"].toIntVector();
        const std::vector<std::int64_t> dilation { 1, 1 };
        const torch::Tensor gy = grad_outputs[0].contiguous();
        torch::Tensor gx, gw;
        if (ctx->needs_input_grad(0))
            gx = at::convolution(gy, weight, c10::nullopt, stride, padding, dilation, false, { 0, 0 }, 1);
        if (ctx->needs_input_grad(1))
            // Weight gradient of conv(gy, weight) whose output gradient is x.
            gw = std::get<1>(at::convolution_backward(x.contiguous(), gy, weight, c10::nullopt, stride, padding,
                dilation, false, { 0, 0 }, 1, { false, true, false }));
        return { gx, gw, torch::Tensor(), torch::Tensor(), torch::Tensor() };
    }
};

bool onednn_applies(
    const torch::Tensor& x, const torch::Tensor& weight, torch::IntArrayRef stride, torch::IntArrayRef output_padding)
{
    // Anything unusual goes to ATen, which also gives its usual errors for bad shapes.
    return at::hasMKLDNN() && x.device().is_cpu() && x.scalar_type() == torch::kFloat32
        && weight.scalar_type() == torch::kFloat32 && x.dim() == 4 && weight.dim() == 4 && stride.size() == 2
        && output_padding.size() == 2 && output_padding[0] < stride[0] && output_padding[1] < stride[1]
        && x.size(1) == weight.size(0) && !compat::autocast_enabled(at::kCPU);
}

} // namespace

torch::Tensor conv_transpose2d_onednn(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias,
    torch::IntArrayRef stride, torch::IntArrayRef padding, torch::IntArrayRef output_padding)
{
    if (!onednn_applies(x, weight, stride, output_padding))
        return torch::conv_transpose2d(x, weight, bias, stride, padding, output_padding);
    auto y = ConvTranspose2dFn::apply(x, weight, stride.vec(), padding.vec(), output_padding.vec());
    // In place is safe: the function does not save its output.
    return bias.defined() ? y.add_(bias.view({ 1, -1, 1, 1 })) : y;
}

torch::Tensor OneDnnConvTranspose2dImpl::forward(const torch::Tensor& x)
{
    const auto& o = options;
    const auto* padding = compat::variant_get_if<torch::ExpandingArray<2>>(o.padding());
    const bool plain = padding && o.groups() == 1 && compat::variant_holds<torch::enumtype::kZeros>(o.padding_mode())
        && (*o.dilation())[0] == 1 && (*o.dilation())[1] == 1;
    if (!plain)
        return torch::nn::ConvTranspose2dImpl::forward(x);
    return conv_transpose2d_onednn(x, weight, bias, *o.stride(), **padding, *o.output_padding());
}

} // namespace nectar
