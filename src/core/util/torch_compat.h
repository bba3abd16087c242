// SPDX-License-Identifier: Apache-2.0
#pragma once
/// @file The few LibTorch calls spelled differently in LibTorch 1.13 (Debian 12) and 2.x (Debian 13's
/// 2.6, the official CUDA builds, PyTorch's bundled LibTorch). The rest of the tree is version-neutral;
/// a new difference goes here, keyed on TORCH_VERSION_MAJOR/MINOR, not as #ifdefs in the code.

#include <sstream>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>

#include <ATen/autocast_mode.h>
#include <torch/optim/optimizer.h>
#include <torch/version.h>

/// True when building against LibTorch major.minor or newer.
#define NECTAR_TORCH_AT_LEAST(major, minor)                                                                            \
    (TORCH_VERSION_MAJOR > (major) || (TORCH_VERSION_MAJOR == (major) && TORCH_VERSION_MINOR >= (minor)))

namespace nectar::compat {

/// Key type of torch::optim::Optimizer::state(): std::string (the TensorImpl address as text) in 1.13,
/// void* (the TensorImpl address) in 2.x.
using OptimizerStateKey = typename std::decay_t<decltype(std::declval<torch::optim::Optimizer&>().state())>::key_type;

namespace detail {
inline std::string state_key(const at::Tensor& p, std::string*)
{
    std::ostringstream s; // what c10::guts::to_string (removed in 2.x) wrote
    s << p.unsafeGetTensorImpl();
    return s.str();
}
inline void* state_key(const at::Tensor& p, void**)
{
    return p.unsafeGetTensorImpl();
}
} // namespace detail

/// The key under which torch::optim::Optimizer (torch::optim::Adam, FusedAdam) keeps parameter @p p's
/// state, on either LibTorch. Never throws.
inline OptimizerStateKey optimizer_state_key(const at::Tensor& p)
{
    return detail::state_key(p, static_cast<OptimizerStateKey*>(nullptr));
}

/// std::get_if for LibTorch's option variants (e.g. ConvTranspose2dOptions::padding()): those are
/// c10::variant in 1.13, whose own get_if is found by argument-dependent lookup, and std::variant in 2.x.
/// Returns nullptr when @p v does not hold a T.
template <class T, class Variant> const T* variant_get_if(const Variant& v)
{
    using std::get_if;
    return get_if<T>(&v);
}

/// std::holds_alternative for LibTorch's option variants (see variant_get_if).
template <class T, class Variant> bool variant_holds(const Variant& v)
{
    using std::holds_alternative;
    return holds_alternative<T>(v);
}

/// Whether autocast is on for @p device_type (at::kCUDA or at::kCPU) in this thread. LibTorch 2.4 made
/// the API device-typed and deprecated is_enabled() / is_cpu_enabled().
inline bool autocast_enabled(at::DeviceType device_type)
{
#if NECTAR_TORCH_AT_LEAST(2, 4)
    return at::autocast::is_autocast_enabled(device_type);
#else
    return device_type == at::kCPU ? at::autocast::is_cpu_enabled() : at::autocast::is_enabled();
#endif
}

/// Turns autocast on or off for @p device_type (at::kCUDA or at::kCPU) in this thread. The autocast
/// dtype stays LibTorch's default (float16 on CUDA, bfloat16 on the CPU).
inline void set_autocast_enabled(at::DeviceType device_type, bool on)
{
#if NECTAR_TORCH_AT_LEAST(2, 4)
    at::autocast::set_autocast_enabled(device_type, on);
#else
    if (device_type == at::kCPU)
        at::autocast::set_cpu_enabled(on);
    else
        at::autocast::set_enabled(on);
#endif
}

} // namespace nectar::compat
