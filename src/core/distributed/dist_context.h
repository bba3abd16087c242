// SPDX-License-Identifier: Apache-2.0
#pragma once
/// @file One process's membership of a data-parallel job, on PyTorch's c10d: the rendezvous through a
/// c10d::TCPStore, then a c10d::ProcessGroupGloo (CPU) or c10d::ProcessGroupNCCL (CUDA, when the LibTorch
/// build has NCCL) for the collectives. The trainer uses it to average gradients (GradientSync), to agree
/// on stop / pause / non-finite decisions, and to average the logged loss values at the update rate.

#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <torch/types.h>

#include "distributed/dist_settings.h"
#include "util/error.h"

namespace nectar {

/// A job that cannot start: the store's port is in use, a rank did not arrive in time, the ranks' configs
/// differ, the backend is not available. An InputError: the CLI exits 2.
class DistSetupError : public InputError {
public:
    using InputError::InputError;
};

/// A collective failed after the job started (a peer died, or did not answer within the collective
/// timeout). A training failure: the CLI exits 1.
class DistError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// True when this LibTorch build has c10d's NCCL backend (official CUDA builds; never Debian's CPU build).
bool nccl_available();

/// `requested` made concrete for `device`: Auto is NCCL for a CUDA device when nccl_available(), else Gloo.
/// Throws DistSetupError for NCCL without NCCL support or on a CPU device.
DistBackend resolve_dist_backend(DistBackend requested, const torch::Device& device);

class DistContext {
public:
    /// The rendezvous: connects to the store at master_addr:master_port (rank 0 hosts it unless
    /// `agent_store`), registers this rank with `digest` (a hash of the config and objective) and waits
    /// until every rank has arrived (settings.rendezvous_timeout). Then checks that every rank's digest is
    /// rank 0's and creates the `backend` (already resolved) for tensors on `device`, with
    /// settings.collective_timeout per collective. Throws DistSetupError naming the port in use, the ranks
    /// that did not arrive, or the ranks whose digest differs.
    DistContext(DistSettings settings, const std::string& digest, DistBackend backend, const torch::Device& device);
    ~DistContext();
    DistContext(const DistContext&) = delete;
    DistContext& operator=(const DistContext&) = delete;

    int rank() const { return m_settings.rank; }
    int world_size() const { return m_settings.world_size; }
    const DistSettings& settings() const { return m_settings; }
    DistBackend backend() const { return m_backend; }
    const torch::Device& device() const { return m_device; }

    /// Waits for an asynchronous collective; throws DistError when it failed or timed out.
    using Wait = std::function<void()>;
    /// Starts an in-place SUM over all ranks of `t` (contiguous, on device()). The tensor must stay alive
    /// and untouched until the returned wait has run. Every rank must start the same collectives in the
    /// same order.
    Wait allreduce_sum_async(torch::Tensor& t);
    /// In-place SUM over all ranks (blocks). Throws DistError.
    void allreduce_sum(torch::Tensor& t);
    /// Copies rank `root`'s `t` into every rank's `t` (in place, same shape and dtype). Throws DistError.
    void broadcast(torch::Tensor& t, int root = 0);
    /// Element-wise maximum over ranks of small integer flags (one collective). Throws DistError.
    std::vector<std::int64_t> max_flags(const std::vector<std::int64_t>& local);
    /// Rank 0's `value` for `key`, on every rank (through the store; rank 0 returns its own).
    std::string share_from_rank0(const std::string& key, const std::string& value);
    /// Every rank's `value` for `key`, indexed by rank (through the store).
    std::vector<std::string> all_gather_text(const std::string& key, const std::string& value);

private:
    struct Impl;
    std::unique_ptr<Impl> d;
    DistSettings m_settings;
    DistBackend m_backend;
    torch::Device m_device;
};

/// Hosts the rendezvous store for a launcher (nectar-train --nproc-per-node on node 0), so the workers all
/// connect as clients (TORCHELASTIC_USE_AGENT_STORE). Throws DistSetupError when the port is in use.
class RendezvousHost {
public:
    RendezvousHost(const std::string& addr, int port);
    ~RendezvousHost();
    RendezvousHost(const RendezvousHost&) = delete;
    RendezvousHost& operator=(const RendezvousHost&) = delete;

private:
    struct Impl;
    std::unique_ptr<Impl> d;
};

} // namespace nectar
