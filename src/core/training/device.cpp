// SPDX-License-Identifier: Apache-2.0
#include "training/device.h"

#include <regex>
#include <stdexcept>
#include <thread>

#include <torch/cuda.h>
#include <torch/utils.h>

namespace nectar {

DeviceChoice resolve_device(const std::string& requested)
{
    static const std::regex cuda_re("cuda(:([0-9]{1,3}))?");
    DeviceChoice c;
    std::smatch m;
    if (requested == "cpu")
        return c;
    const bool have_cuda = torch::cuda::is_available();
    const int count = have_cuda ? static_cast<int>(torch::cuda::device_count()) : 0;
    if (requested == "auto") {
        if (have_cuda)
            c.device = torch::Device(torch::kCUDA, 0);
        return c;
    }
    if (!std::regex_match(requested, m, cuda_re))
        throw std::invalid_argument(
            "common.device = \"" + requested + "\": expected \"cpu\", \"cuda\", \"cuda:N\" or \"auto\"");
    const int index = m[2].matched ? std::stoi(m[2].str()) : 0;
    if (!have_cuda) {
        c.message = "common.device = \"" + requested
            + "\" but CUDA is not available (this LibTorch build has no CUDA support or no GPU/driver was found); "
              "training on the CPU instead";
        return c;
    }
    if (index >= count) {
        c.message = "common.device = \"" + requested + "\" but only " + std::to_string(count)
            + " CUDA device(s) exist; training on the CPU instead";
        return c;
    }
    c.device = torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(index));
    return c;
}

int apply_num_threads(int num_threads)
{
    if (num_threads < 0)
        throw std::invalid_argument("common.num_threads = " + std::to_string(num_threads)
            + ": expected 0 (= number of cores) or a positive count");
    int n = num_threads;
    if (n == 0)
        n = std::max(1u, std::thread::hardware_concurrency());
    torch::set_num_threads(n);
    return torch::get_num_threads();
}

} // namespace nectar
