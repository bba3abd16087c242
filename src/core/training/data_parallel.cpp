// SPDX-License-Identifier: Apache-2.0
#include "training/data_parallel.h"

#include <algorithm>
#include <random>
#include <thread>

#include <QByteArray>
#include <QCryptographicHash>
#include <torch/torch.h>

#include "objective/preset.h"
#include "training/device.h"

namespace nectar {

std::string run_digest(const Config& config, const Objective& objective)
{
    const std::string text = config_to_json(config).dump() + "\n" + preset_to_json(objective_record(objective)).dump();
    const QByteArray hash = QCryptographicHash::hash(
        QByteArray(text.data(), static_cast<qsizetype>(text.size())), QCryptographicHash::Sha256);
    return hash.toHex().toStdString();
}

namespace {

torch::Device rank_device(const std::string& requested, int local_rank, std::vector<std::string>* notes)
{
    const DeviceChoice base = resolve_device(requested);
    if (!base.message.empty() && notes)
        notes->push_back(base.message);
    if (!base.device.is_cuda())
        return torch::kCPU;
    const int first = base.device.has_index() ? base.device.index() : 0;
    const int index = first + local_rank;
    if (index >= static_cast<int>(torch::cuda::device_count())) {
        if (notes)
            notes->push_back("local rank " + std::to_string(local_rank) + " has no GPU (cuda:" + std::to_string(index)
                + " of " + std::to_string(torch::cuda::device_count()) + "): training on the CPU");
        return torch::kCPU;
    }
    return { torch::kCUDA, static_cast<c10::DeviceIndex>(index) };
}

} // namespace

std::unique_ptr<DistContext> join_data_parallel(
    const DistSettings& settings, Config& config, const Objective& objective, std::vector<std::string>* notes)
{
    settings.validate();
    const std::string digest = run_digest(config, objective);
    const torch::Device device = rank_device(config.common.device, settings.local_rank, notes);
    const DistBackend backend = resolve_dist_backend(settings.backend, device);
    auto ctx = std::make_unique<DistContext>(settings, digest, backend, device);
    config.common.device = device.str();
    if (config.common.num_threads == 0 && device.is_cpu()) {
        const int cores = std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
        config.common.num_threads = std::max(1, cores / std::max(1, settings.local_world_size));
    }
    if (config.common.seed < 0) {
        const std::int64_t draw = static_cast<std::int64_t>(std::random_device {}() & 0x7fffffff);
        config.common.seed = std::stoll(ctx->share_from_rank0("seed", std::to_string(draw)));
    }
    if (notes)
        notes->push_back("rank " + std::to_string(settings.rank) + " of " + std::to_string(settings.world_size) + ": "
            + device.str() + ", " + dist_backend_name(backend) + ", "
            + (device.is_cpu() ? std::to_string(config.common.num_threads) + " thread(s)" : std::string("GPU")));
    return ctx;
}

} // namespace nectar
