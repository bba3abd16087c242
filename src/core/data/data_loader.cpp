// SPDX-License-Identifier: Apache-2.0
#include "data/data_loader.h"

#include <algorithm>
#include <numeric>
#include <random>
#include <stdexcept>

#include "config/config.h"

namespace nectar {

DataLoader::DataLoader(std::shared_ptr<const PairedDataset> dataset, int batch_size, bool shuffle, int num_workers,
    std::int64_t seed, int prefetch)
    : m_dataset(std::move(dataset))
    , m_batch_size(batch_size)
    , m_shuffle(shuffle)
    , m_num_workers(num_workers)
    , m_prefetch(
          prefetch > 0 ? static_cast<std::size_t>(prefetch) : static_cast<std::size_t>(2 * std::max(1, num_workers)))
    , m_seed(seed >= 0 ? static_cast<std::uint64_t>(seed)
                       : std::random_device {}() * 0x9e3779b97f4a7c15ull + std::random_device {}())
{
    if (!m_dataset)
        throw std::invalid_argument("DataLoader: dataset is null");
    if (batch_size < 1)
        throw std::invalid_argument("dataloader.batch_size: expected >= 1, got " + std::to_string(batch_size));
    if (num_workers < 0)
        throw std::invalid_argument("dataloader.num_workers: expected >= 0, got " + std::to_string(num_workers));
}

DataLoader::~DataLoader()
{
    stop();
}

std::size_t DataLoader::samples_per_epoch() const
{
    const auto w = static_cast<std::size_t>(m_shard_count);
    return (m_dataset->size() + w - 1) / w;
}

std::size_t DataLoader::batches_per_epoch() const
{
    const auto b = static_cast<std::size_t>(m_batch_size);
    return (samples_per_epoch() + b - 1) / b;
}

void DataLoader::set_shard(int rank, int count)
{
    if (count < 1 || rank < 0 || rank >= count)
        throw std::invalid_argument("DataLoader::set_shard: rank " + std::to_string(rank) + " of "
            + std::to_string(count) + ": expected 0 <= rank < count");
    if (m_dataset->size() == 0 && count > 1)
        throw std::invalid_argument("DataLoader::set_shard: an empty dataset cannot be sharded");
    stop();
    m_shard_rank = rank;
    m_shard_count = count;
}

void DataLoader::stop()
{
    {
        std::lock_guard<std::mutex> lock(m_mutex);
        m_stopping = true;
    }
    m_work_cv.notify_all();
    m_ready_cv.notify_all();
    for (auto& t : m_threads)
        if (t.joinable())
            t.join();
    m_threads.clear();
    std::lock_guard<std::mutex> lock(m_mutex);
    m_ready.clear();
    m_next = m_num_batches; // the epoch is over
}

void DataLoader::begin_epoch(std::int64_t epoch)
{
    stop();
    m_epoch = epoch;
    m_order.resize(m_dataset->size());
    std::iota(m_order.begin(), m_order.end(), std::size_t { 0 });
    if (m_shuffle) {
        // Fisher-Yates with our own index draws: the order depends only on (seed, epoch).
        std::mt19937_64 rng(item_seed(m_seed, epoch, ~std::uint64_t { 0 }));
        for (std::size_t i = m_order.size(); i > 1; --i) {
            const std::size_t j = static_cast<std::size_t>(rng() % i);
            std::swap(m_order[i - 1], m_order[j]);
        }
    }
    if (m_shard_count > 1) {
        // torch.utils.data.DistributedSampler (drop_last = false): pad the order to a multiple of the
        // shard count by repeating it from the start, then shard r takes positions r, r + count, ...
        const std::size_t total = samples_per_epoch() * static_cast<std::size_t>(m_shard_count);
        const std::size_t n = m_order.size();
        for (std::size_t i = n; i < total; ++i)
            m_order.push_back(m_order[(i - n) % n]);
        std::vector<std::size_t> mine;
        for (std::size_t i = static_cast<std::size_t>(m_shard_rank); i < total;
             i += static_cast<std::size_t>(m_shard_count))
            mine.push_back(m_order[i]);
        m_order = std::move(mine);
    }
    {
        std::lock_guard<std::mutex> lock(m_mutex);
        m_num_batches = batches_per_epoch();
        m_next = 0;
        m_claimed = 0;
        m_ready.clear();
        m_stopping = false;
    }
    for (int i = 0; i < m_num_workers; ++i)
        m_threads.emplace_back(&DataLoader::worker_loop, this);
}

Batch DataLoader::build_batch(std::size_t k) const
{
    const std::size_t begin = k * static_cast<std::size_t>(m_batch_size);
    const std::size_t end = std::min(begin + static_cast<std::size_t>(m_batch_size), m_order.size());
    const std::int64_t n = static_cast<std::int64_t>(end - begin);
    const std::int64_t c = m_dataset->options().input_nc;
    const std::int64_t s = m_dataset->options().crop_size;
    Batch batch;
    batch.a = torch::empty({ n, c, s, s }, torch::kFloat32);
    batch.b = torch::empty({ n, c, s, s }, torch::kFloat32);
    float* a = batch.a.data_ptr<float>();
    float* b = batch.b.data_ptr<float>();
    const std::size_t stride = static_cast<std::size_t>(c * s * s);
    for (std::size_t i = begin; i < end; ++i) {
        const std::size_t index = m_order[i];
        m_dataset->load_into(
            index, item_seed(m_seed, m_epoch, index), a + (i - begin) * stride, b + (i - begin) * stride);
        batch.paths.push_back(m_dataset->path(index));
    }
    return batch;
}

void DataLoader::worker_loop()
{
    for (;;) {
        std::size_t k;
        {
            std::unique_lock<std::mutex> lock(m_mutex);
            m_work_cv.wait(
                lock, [this] { return m_stopping || m_claimed >= m_num_batches || m_claimed < m_next + m_prefetch; });
            if (m_stopping || m_claimed >= m_num_batches)
                return;
            k = m_claimed++;
        }
        Slot slot;
        try {
            slot.batch = build_batch(k);
        } catch (...) {
            slot.error = std::current_exception();
        }
        {
            std::lock_guard<std::mutex> lock(m_mutex);
            if (m_stopping)
                return;
            m_ready[k] = std::move(slot);
        }
        m_ready_cv.notify_all();
    }
}

std::optional<Batch> DataLoader::next()
{
    if (m_next >= m_num_batches) {
        if (!m_threads.empty())
            stop();
        return std::nullopt;
    }
    if (m_num_workers == 0) {
        try {
            return build_batch(m_next++);
        } catch (...) {
            m_next = m_num_batches;
            throw;
        }
    }
    Slot slot;
    {
        std::unique_lock<std::mutex> lock(m_mutex);
        m_ready_cv.wait(lock, [this] { return m_stopping || m_ready.count(m_next) > 0; });
        if (m_stopping)
            return std::nullopt;
        auto it = m_ready.find(m_next);
        slot = std::move(it->second);
        m_ready.erase(it);
        ++m_next;
    }
    m_work_cv.notify_all(); // the prefetch window moved
    if (slot.error) {
        stop();
        std::rethrow_exception(slot.error);
    }
    return std::move(slot.batch);
}

std::unique_ptr<DataLoader> make_data_loader(const Config& config, const std::string& split)
{
    auto dataset = std::make_shared<const PairedDataset>(dataset_options_from_config(config, split));
    const bool train = split == "train";
    return std::make_unique<DataLoader>(
        dataset, config.dataloader.batch_size, /*shuffle=*/train, config.dataloader.num_workers, config.common.seed);
}

} // namespace nectar
