// SPDX-License-Identifier: Apache-2.0
#pragma once
/// @file The device of the engine tests that have a device choice (models, losses, trainer):
/// NECTAR_TEST_DEVICE = cpu (default: CI and every developer machine) | cuda | cuda:N.
/// packaging/gpu-check.sh sets it to cuda on a GPU machine.
///
/// A CUDA request that cannot be met is an error, never a silent run on the CPU: a suite calls
/// NECTAR_REQUIRE_TEST_DEVICE() first in initTestCase, which fails the whole suite with the reason, so a GPU
/// check cannot pass on a machine (or a LibTorch build) without the GPU.
///
/// On CUDA, TF32 is switched off for cuDNN convolutions and cuBLAS matmuls (Ampere and newer use it for
/// float32 by default, with a 10-bit mantissa: the reference tolerances of 1e-4 and 1e-5 would not hold),
/// and cuDNN picks deterministic algorithms (resumed runs compare with the straight run).
#include <cstdlib>
#include <stdexcept>
#include <string>

#include <ATen/Context.h>
#include <torch/types.h>

#include "training/device.h"

namespace testdevice {

struct Choice {
    torch::Device device { torch::kCPU };
    std::string name = "cpu"; ///< as common.device spells it: "cpu" or "cuda:N"
    std::string error; ///< non-empty when the requested device is not usable here
};

/// Reads a NECTAR_TEST_DEVICE value (nullptr or "" = cpu) with the trainer's own parser
/// (nectar::resolve_device), but where the trainer would fall back to the CPU this is an error. Never throws.
inline Choice resolve(const char* requested)
{
    Choice c;
    const std::string r = requested ? requested : "";
    if (r.empty() || r == "cpu")
        return c;
    if (r == "auto") { // would quietly be the CPU on a machine without a GPU
        c.error = "NECTAR_TEST_DEVICE=" + r + ": expected cpu, cuda or cuda:N";
        return c;
    }
    try {
        const auto d = nectar::resolve_device(r);
        if (!d.device.is_cuda()) {
            c.error = "NECTAR_TEST_DEVICE=" + r + " is not usable here (" + d.message
                + "); refusing to run the device tests on the CPU instead";
            return c;
        }
        c.device = d.device;
        c.name = "cuda:" + std::to_string(d.device.index());
    } catch (const std::invalid_argument& e) {
        c.error = std::string("NECTAR_TEST_DEVICE: ") + e.what();
    }
    return c;
}

/// The process-wide choice (NECTAR_TEST_DEVICE read once); on CUDA also sets the precision flags above.
inline const Choice& choice()
{
    static const Choice c = [] {
        Choice r = resolve(std::getenv("NECTAR_TEST_DEVICE"));
        if (r.error.empty() && r.device.is_cuda()) {
            at::globalContext().setAllowTF32CuDNN(false);
            at::globalContext().setAllowTF32CuBLAS(false);
            at::globalContext().setDeterministicCuDNN(true);
            at::globalContext().setBenchmarkCuDNN(false);
        }
        return r;
    }();
    return c;
}

inline const torch::Device& device()
{
    return choice().device;
}
inline bool is_cuda()
{
    return choice().device.is_cuda();
}
/// For Config::common.device.
inline const std::string& name()
{
    return choice().name;
}

} // namespace testdevice

/// First statement of a suite's initTestCase: fails the suite (and so the run) when NECTAR_TEST_DEVICE asks
/// for a device that is not usable, and logs the device the suite runs on.
#define NECTAR_REQUIRE_TEST_DEVICE()                                                                                   \
    do {                                                                                                               \
        const auto& nectar_test_device_choice = testdevice::choice();                                                  \
        QVERIFY2(nectar_test_device_choice.error.empty(), nectar_test_device_choice.error.c_str());                    \
        qInfo("test device: %s", nectar_test_device_choice.name.c_str());                                              \
    } while (false)
