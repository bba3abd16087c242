// SPDX-License-Identifier: Apache-2.0
#pragma once
/// @file Where a process sits in a data-parallel job: its rank, the world size, the rendezvous address and
/// the backend. Read from torchrun's environment conventions (RANK, WORLD_SIZE, LOCAL_RANK,
/// LOCAL_WORLD_SIZE, MASTER_ADDR, MASTER_PORT, TORCHELASTIC_USE_AGENT_STORE), which nectar-train's own
/// launcher (--nproc-per-node) also sets, so SLURM / Kubernetes scripts written for torchrun start it
/// unchanged. Free of Qt and LibTorch types.

#include <chrono>
#include <functional>
#include <optional>
#include <string>

namespace nectar {

/// Collective backend: Auto = NCCL when the LibTorch build has it and the device is CUDA, else Gloo.
enum class DistBackend { Auto, Gloo, Nccl };

/// "auto" | "gloo" | "nccl"; throws InputError naming `what` (e.g. "--dist-backend") for anything else.
DistBackend parse_dist_backend(const std::string& text, const std::string& what);
const char* dist_backend_name(DistBackend b);

struct DistSettings {
    int rank = 0; ///< 0 .. world_size - 1; rank 0 writes the run's files
    int world_size = 1;
    int local_rank = 0; ///< rank on this machine: the CUDA device index, and the CPU core share
    int local_world_size = 1; ///< processes on this machine
    std::string master_addr = "127.0.0.1"; ///< host of the c10d::TCPStore
    int master_port = 29500;
    /// The store is hosted by a launcher (nectar-train --nproc-per-node, torchrun's agent), not by rank 0.
    bool agent_store = false;
    DistBackend backend = DistBackend::Auto;
    /// Every rank must have connected within this time (seconds in NECTAR_RENDEZVOUS_TIMEOUT).
    std::chrono::milliseconds rendezvous_timeout { std::chrono::minutes(5) };
    /// A collective that waits longer for a peer (dead, hung) throws (seconds in NECTAR_COLLECTIVE_TIMEOUT).
    std::chrono::milliseconds collective_timeout { std::chrono::minutes(10) };

    /// Throws InputError when a field is out of range (world size < 1, rank outside it, port outside
    /// 1..65535, local rank outside local world size).
    void validate() const;
};

/// The settings from the environment when WORLD_SIZE is set (a torchrun-style job, including one of size
/// 1), else nullopt. `getenv` is injectable for tests. Throws InputError naming the variable and its value
/// when one is malformed, or when RANK / WORLD_SIZE / MASTER_PORT are missing while WORLD_SIZE is set.
/// NECTAR_DIST_BACKEND (auto|gloo|nccl), NECTAR_RENDEZVOUS_TIMEOUT and NECTAR_COLLECTIVE_TIMEOUT
/// (seconds) are read too; nectar-train's --dist-backend and timeout flags set them for its workers.
std::optional<DistSettings> dist_settings_from_env(const std::function<const char*(const char*)>& getenv = nullptr);

} // namespace nectar
