// SPDX-License-Identifier: Apache-2.0
#include "distributed/dist_context.h"

#include <algorithm>
#include <chrono>
#include <thread>
#include <type_traits>
#include <utility>

#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#include <torch/torch.h>
#ifdef USE_C10D_NCCL
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

#include "util/strings.h"
#include "util/torch_compat.h"

namespace nectar {

namespace {

// ProcessGroupGloo/NCCL derive from c10d::ProcessGroup in LibTorch 1.13 and from c10d::Backend in 2.x;
// both bases declare the same allreduce / broadcast.
#if NECTAR_TORCH_AT_LEAST(2, 0)
using CollectiveBase = c10d::Backend;
#else
using CollectiveBase = c10d::ProcessGroup;
#endif

template <typename T, typename = void> struct has_use_libuv : std::false_type {
};
template <typename T> struct has_use_libuv<T, std::void_t<decltype(std::declval<T&>().useLibUV)>> : std::true_type {
};

template <typename Options> void disable_libuv(Options& o)
{
    if constexpr (has_use_libuv<Options>::value)
        o.useLibUV = false; // Debian's 2.6 is built without libuv
}

c10d::TCPStoreOptions store_options(int port, bool server, std::chrono::milliseconds timeout)
{
    c10d::TCPStoreOptions o;
    o.port = static_cast<std::uint16_t>(port);
    o.isServer = server;
    o.waitWorkers = false; // our own rendezvous waits, and names who did not come
    o.timeout = timeout;
    disable_libuv(o);
    return o;
}

std::string seconds_text(std::chrono::milliseconds ms)
{
    return short_number(static_cast<double>(ms.count()) / 1000.0) + " s";
}

std::vector<std::uint8_t> bytes(const std::string& s)
{
    return { s.begin(), s.end() };
}

std::string text(const std::vector<std::uint8_t>& b)
{
    return { b.begin(), b.end() };
}

bool is_loopback(const std::string& addr)
{
    return addr == "localhost" || addr == "::1" || addr.rfind("127.", 0) == 0;
}

} // namespace

bool nccl_available()
{
#ifdef USE_C10D_NCCL
    return true;
#else
    return false;
#endif
}

DistBackend resolve_dist_backend(DistBackend requested, const torch::Device& device)
{
    if (requested == DistBackend::Auto)
        return device.is_cuda() && nccl_available() ? DistBackend::Nccl : DistBackend::Gloo;
    if (requested == DistBackend::Nccl) {
        if (!nccl_available())
            throw DistSetupError("dist backend nccl: this LibTorch build has no NCCL (a CPU build, or CUDA "
                                 "without c10d NCCL); use gloo");
        if (!device.is_cuda())
            throw DistSetupError("dist backend nccl needs a CUDA device, but this rank trains on " + device.str()
                + "; use gloo for the CPU");
    }
    return requested;
}

struct DistContext::Impl {
    c10::intrusive_ptr<c10d::Store> store;
    std::string prefix; // "nectar/<torchrun restart count>/"
    c10::intrusive_ptr<CollectiveBase> pg;
};

DistContext::DistContext(
    DistSettings settings, const std::string& digest, DistBackend backend, const torch::Device& device)
    : d(std::make_unique<Impl>())
    , m_settings(std::move(settings))
    , m_backend(backend)
    , m_device(device)
{
    const DistSettings& s = m_settings;
    s.validate();
    const std::string where = s.master_addr + ":" + std::to_string(s.master_port);
    const bool host = !s.agent_store && s.rank == 0;
    try {
        d->store = c10::make_intrusive<c10d::TCPStore>(
            s.master_addr, store_options(s.master_port, host, s.rendezvous_timeout));
    } catch (const std::exception& e) {
        if (host)
            throw DistSetupError("rank 0 could not host the rendezvous store on port " + std::to_string(s.master_port)
                + " (is the port in use? choose another with --master-port / MASTER_PORT): " + e.what());
        throw DistSetupError("rank " + std::to_string(s.rank) + " could not reach the rendezvous store at " + where
            + " within " + seconds_text(s.rendezvous_timeout) + ": " + e.what());
    }

    // torchrun restarts workers on the same agent store: each attempt gets its own keys.
    const char* restart = std::getenv("TORCHELASTIC_RESTART_COUNT");
    d->prefix = std::string("nectar/") + (restart && *restart ? restart : "0") + "/";
    // Register, then wait for all: the names of the missing ranks make the timeout actionable.
    const std::string prefix = d->prefix;
    const auto rank_key = [prefix](int r) { return prefix + "rank/" + std::to_string(r); };
    d->store->set(rank_key(s.rank), bytes(digest));
    d->store->add(prefix + "arrived", 1);
    const auto deadline = std::chrono::steady_clock::now() + s.rendezvous_timeout;
    while (d->store->add(prefix + "arrived", 0) < s.world_size) {
        if (std::chrono::steady_clock::now() >= deadline) {
            std::vector<std::string> missing;
            for (int r = 0; r < s.world_size; ++r)
                if (!d->store->check({ rank_key(r) }))
                    missing.push_back(std::to_string(r));
            throw DistSetupError("rendezvous at " + where + " timed out after " + seconds_text(s.rendezvous_timeout)
                + ": rank(s) " + join(missing) + " of world size " + std::to_string(s.world_size)
                + " did not arrive (start every process, or raise the timeout with --rendezvous-timeout)");
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    std::vector<std::string> differ;
    try {
        for (int r = 0; r < s.world_size; ++r)
            if (text(d->store->get(rank_key(r))) != digest)
                differ.push_back(std::to_string(r));
        // A rank 0 that hosts the store leaves (on a refusal) only after every rank has read every digest,
        // or it would take the store away from ranks still reading it.
        d->store->add(prefix + "checked", 1);
        while (
            host && d->store->add(prefix + "checked", 0) < s.world_size && std::chrono::steady_clock::now() < deadline)
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
    } catch (const std::exception& e) {
        throw DistSetupError("rank " + std::to_string(s.rank) + " lost the rendezvous store at " + where
            + " while comparing the ranks' settings (another rank left the job): " + e.what());
    }
    if (!differ.empty())
        throw DistSetupError("the ranks' settings differ: rank(s) " + join(differ) + " have a config or objective "
            + "other than this rank's (" + std::to_string(s.rank)
            + "); every process must run the same command with the same files");

    auto prefixed = c10::make_intrusive<c10d::PrefixStore>(prefix + "pg", d->store);
    try {
        if (backend == DistBackend::Nccl) {
#ifdef USE_C10D_NCCL
            auto o = c10d::ProcessGroupNCCL::Options::create();
            o->timeout = s.collective_timeout;
            d->pg = c10::make_intrusive<c10d::ProcessGroupNCCL>(prefixed, s.rank, s.world_size, o);
#else
            throw DistSetupError("dist backend nccl: this LibTorch build has no NCCL");
#endif
        } else {
            auto o = c10d::ProcessGroupGloo::Options::create(s.collective_timeout);
            const char* ifname = std::getenv("GLOO_SOCKET_IFNAME");
            if (ifname && *ifname)
                o->devices.push_back(c10d::ProcessGroupGloo::createDeviceForInterface(ifname));
            else if (is_loopback(s.master_addr))
                o->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1"));
            else
                o->devices.push_back(c10d::ProcessGroupGloo::createDefaultDevice());
            o->threads = 2;
            d->pg = c10::make_intrusive<c10d::ProcessGroupGloo>(prefixed, s.rank, s.world_size, o);
        }
    } catch (const DistSetupError&) {
        throw;
    } catch (const std::exception& e) {
        throw DistSetupError("rank " + std::to_string(s.rank) + " could not create the " + dist_backend_name(backend)
            + " process group: " + e.what());
    }
}

DistContext::~DistContext() = default;

DistContext::Wait DistContext::allreduce_sum_async(torch::Tensor& t)
{
    std::vector<at::Tensor> v { t };
    c10::intrusive_ptr<c10d::Work> work;
    try {
        work = d->pg->allreduce(v);
    } catch (const std::exception& e) {
        throw DistError("rank " + std::to_string(rank()) + ": allreduce could not start: " + e.what());
    }
    const int r = rank();
    const auto timeout = m_settings.collective_timeout;
    return [work, r, timeout] {
        try {
            work->wait();
        } catch (const std::exception& e) {
            throw DistError("rank " + std::to_string(r) + ": a collective failed (a peer process died or did not "
                + "answer within " + seconds_text(timeout) + "): " + e.what());
        }
    };
}

void DistContext::allreduce_sum(torch::Tensor& t)
{
    allreduce_sum_async(t)();
}

void DistContext::broadcast(torch::Tensor& t, int root)
{
    std::vector<at::Tensor> v { t };
    c10d::BroadcastOptions o;
    o.rootRank = root;
    try {
        d->pg->broadcast(v, o)->wait();
    } catch (const std::exception& e) {
        throw DistError("rank " + std::to_string(rank()) + ": broadcast from rank " + std::to_string(root)
            + " failed: " + e.what());
    }
}

std::vector<std::int64_t> DistContext::max_flags(const std::vector<std::int64_t>& local)
{
    auto t = torch::tensor(local, torch::dtype(torch::kInt64)).to(m_device);
    std::vector<at::Tensor> v { t };
    c10d::AllreduceOptions o;
    o.reduceOp = c10d::ReduceOp::MAX;
    try {
        d->pg->allreduce(v, o)->wait();
    } catch (const std::exception& e) {
        throw DistError("rank " + std::to_string(rank()) + ": a collective failed (a peer process died or did not "
            + "answer within " + seconds_text(m_settings.collective_timeout) + "): " + e.what());
    }
    const auto host = v[0].to(torch::kCPU).contiguous();
    return { host.data_ptr<std::int64_t>(), host.data_ptr<std::int64_t>() + host.numel() };
}

std::string DistContext::share_from_rank0(const std::string& key, const std::string& value)
{
    const std::string k = d->prefix + "shared/" + key;
    if (rank() == 0) {
        d->store->set(k, bytes(value));
        return value;
    }
    try {
        return text(d->store->get(k)); // blocks up to the store's timeout
    } catch (const std::exception& e) {
        throw DistError("rank " + std::to_string(rank()) + ": rank 0 did not publish \"" + key + "\": " + e.what());
    }
}

std::vector<std::string> DistContext::all_gather_text(const std::string& key, const std::string& value)
{
    const std::string k = d->prefix + "gather/" + key + "/";
    d->store->set(k + std::to_string(rank()), bytes(value));
    std::vector<std::string> out;
    try {
        for (int r = 0; r < world_size(); ++r)
            out.push_back(text(d->store->get(k + std::to_string(r))));
    } catch (const std::exception& e) {
        throw DistError("rank " + std::to_string(rank()) + ": gathering \"" + key + "\" failed: " + e.what());
    }
    return out;
}

struct RendezvousHost::Impl {
    c10::intrusive_ptr<c10d::TCPStore> store;
};

RendezvousHost::RendezvousHost(const std::string& addr, int port)
    : d(std::make_unique<Impl>())
{
    try {
        d->store = c10::make_intrusive<c10d::TCPStore>(addr, store_options(port, true, std::chrono::seconds(30)));
    } catch (const std::exception& e) {
        throw DistSetupError("could not host the rendezvous store on port " + std::to_string(port)
            + " (is the port in use? choose another with --master-port): " + e.what());
    }
}

RendezvousHost::~RendezvousHost() = default;

} // namespace nectar
