// SPDX-License-Identifier: Apache-2.0
#include "distributed/grad_sync.h"

#include <chrono>
#include <functional>
#include <optional>

#include <torch/torch.h>

#include "distributed/dist_context.h"

namespace nectar {

namespace {
using Clock = std::chrono::steady_clock;
}

struct GradientSync::Impl {
    struct Slot {
        torch::Tensor param;
        std::size_t bucket = 0;
        std::int64_t offset = 0; // in the bucket's flat buffer, elements
        bool ready = false;
    };
    struct Bucket {
        torch::Tensor flat;
        std::vector<std::size_t> slots;
        std::size_t pending = 0; // slots without a gradient yet in this backward
        std::optional<DistContext::Wait> wait;
    };

    DistContext* ctx = nullptr;
    bool overlap = true;
    bool armed = false;
    std::vector<Slot> slots;
    std::vector<Bucket> buckets;
    std::vector<std::pair<std::size_t, unsigned>> hooks; // slot, hook handle
    std::size_t next_launch = 0; // buckets start in index order on every rank
    std::optional<Clock::time_point> first_launch;
    Timing timing;

    void launch_ready()
    {
        while (next_launch < buckets.size() && buckets[next_launch].pending == 0)
            launch(next_launch++);
    }

    void launch(std::size_t b)
    {
        if (!first_launch)
            first_launch = Clock::now();
        buckets[b].wait = ctx->allreduce_sum_async(buckets[b].flat);
    }

    void on_grad(std::size_t s, const torch::Tensor& grad)
    {
        if (!armed)
            return;
        Slot& slot = slots[s];
        Bucket& b = buckets[slot.bucket];
        if (slot.ready) // a parameter used twice: its hook fires per use; add up
            b.flat.narrow(0, slot.offset, grad.numel()).add_(grad.reshape(-1));
        else
            b.flat.narrow(0, slot.offset, grad.numel()).copy_(grad.reshape(-1));
        if (!slot.ready) {
            slot.ready = true;
            --b.pending;
        }
        if (overlap)
            launch_ready();
    }
};

GradientSync::GradientSync(DistContext& ctx, std::vector<torch::Tensor> params, std::size_t bucket_bytes, bool overlap)
    : d(std::make_unique<Impl>())
{
    d->ctx = &ctx;
    d->overlap = overlap;
    // Reverse order: the last layers' gradients come first in backward.
    std::size_t bytes = 0;
    for (auto it = params.rbegin(); it != params.rend(); ++it) {
        const torch::Tensor& p = *it;
        if (!p.requires_grad())
            continue;
        const std::size_t size = static_cast<std::size_t>(p.numel()) * p.element_size();
        if (d->buckets.empty() || (bytes > 0 && bytes + size > bucket_bytes)) {
            d->buckets.emplace_back();
            bytes = 0;
        }
        Impl::Slot slot;
        slot.param = p;
        slot.bucket = d->buckets.size() - 1;
        d->buckets.back().slots.push_back(d->slots.size());
        d->slots.push_back(slot);
        bytes += size;
    }
    for (auto& b : d->buckets) {
        std::int64_t n = 0;
        for (std::size_t s : b.slots) {
            d->slots[s].offset = n;
            n += d->slots[s].param.numel();
        }
        const torch::Tensor& first = d->slots[b.slots.front()].param;
        b.flat = torch::zeros({ n }, first.options().requires_grad(false));
    }
    for (std::size_t s = 0; s < d->slots.size(); ++s) {
        Impl* impl = d.get();
        const unsigned h = d->slots[s].param.register_hook([impl, s](torch::Tensor g) { impl->on_grad(s, g); });
        d->hooks.emplace_back(s, h);
    }
}

GradientSync::~GradientSync()
{
    for (const auto& [s, h] : d->hooks) {
        try {
            d->slots[s].param.remove_hook(h);
        } catch (...) {
        }
    }
}

void GradientSync::begin()
{
    for (auto& s : d->slots)
        s.ready = false;
    for (auto& b : d->buckets) {
        b.pending = b.slots.size();
        b.wait.reset();
    }
    d->next_launch = 0;
    d->first_launch.reset();
    d->armed = true;
}

void GradientSync::finish()
{
    if (!d->armed)
        return;
    d->armed = false;
    // Parameters without a gradient this time count as zeros.
    for (auto& b : d->buckets)
        for (std::size_t s : b.slots)
            if (!d->slots[s].ready) {
                auto& slot = d->slots[s];
                b.flat.narrow(0, slot.offset, slot.param.numel()).zero_();
                slot.ready = true;
                --b.pending;
            }
    d->launch_ready();
    const auto t0 = Clock::now();
    const double inv = 1.0 / static_cast<double>(d->ctx->world_size());
    for (auto& b : d->buckets) {
        (*b.wait)();
        b.wait.reset();
        b.flat.mul_(inv);
        for (std::size_t s : b.slots) {
            auto& p = d->slots[s].param;
            auto mean = b.flat.narrow(0, d->slots[s].offset, p.numel()).view(p.sizes());
            if (p.grad().defined())
                p.mutable_grad().copy_(mean);
            else
                p.mutable_grad() = mean.clone();
        }
    }
    const auto t1 = Clock::now();
    d->timing.wait_seconds += std::chrono::duration<double>(t1 - t0).count();
    if (d->first_launch)
        d->timing.total_seconds += std::chrono::duration<double>(t1 - *d->first_launch).count();
    ++d->timing.steps;
}

std::size_t GradientSync::bucket_count() const
{
    return d->buckets.size();
}

GradientSync::Timing GradientSync::timing() const
{
    return d->timing;
}

void GradientSync::reset_timing()
{
    d->timing = {};
}

} // namespace nectar
