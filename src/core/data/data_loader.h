// SPDX-License-Identifier: Apache-2.0
#pragma once
/// @file Batched, shuffled, prefetching loader over a PairedDataset (the role of torch.utils.data.DataLoader
/// in NectarGAN's `Trainer.build_dataloader`, drop_last = false).
///
/// Threads: num_workers std::threads decode batches ahead of the consumer into a bounded window of
/// `prefetch` batches; 0 workers decode in the calling (training) thread. std::thread rather than
/// QThreadPool / QtConcurrent because the loader must hand out batches in a fixed order (so a run is
/// identical with 0 or N workers), bound how far ahead it decodes, and stop and join promptly when the
/// consumer quits mid-epoch; a private set of threads also keeps it off the global QThreadPool that the GUI uses.
/// Workers do only QImage and plain C++ work (no ATen parallel ops), so they do not compete with the
/// training step's intra-op threads for the ATen thread pool.
///
/// Determinism: the order of epoch e is a shuffle seeded by (seed, e); item i of epoch e is transformed with
/// item_seed(seed, e, i). Same seed => same batches, whatever num_workers. A negative seed picks a random one.

#include <condition_variable>
#include <cstdint>
#include <exception>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <torch/torch.h>

#include "data/paired_dataset.h"

namespace nectar {

struct Config;

/// a: generator inputs, b: targets; float32 [N, C, H, W] in [-1, 1] on the CPU. paths: file of each row.
struct Batch {
    torch::Tensor a;
    torch::Tensor b;
    std::vector<std::string> paths;
};

class DataLoader {
public:
    /// Throws std::invalid_argument for batch_size < 1 or num_workers < 0.
    /// prefetch: batches decoded ahead (0 = 2 * num_workers).
    DataLoader(std::shared_ptr<const PairedDataset> dataset, int batch_size, bool shuffle, int num_workers,
        std::int64_t seed, int prefetch = 0);
    /// Stops and joins the workers.
    ~DataLoader();
    DataLoader(const DataLoader&) = delete;
    DataLoader& operator=(const DataLoader&) = delete;

    /// Starts epoch `epoch` (any integer; the trainer passes the 1-based epoch). Stops an unfinished epoch.
    void begin_epoch(std::int64_t epoch);
    /// The next batch of the current epoch, or nullopt when it is done (or no epoch was begun).
    /// Rethrows a worker's error (e.g. DataError naming the file) and ends the epoch.
    std::optional<Batch> next();
    /// Stops the current epoch early and joins the workers (also done by begin_epoch and the destructor).
    void stop();

    /// Data-parallel: this loader yields only shard `rank` of `count` of each epoch's order, as
    /// torch.utils.data.DistributedSampler with drop_last = false: the order (one permutation per epoch,
    /// from the seed, the same on every rank) is padded to a multiple of `count` by repeating it from its
    /// start, and shard r takes its positions r, r + count, r + 2 count, ... So every shard has
    /// ceil(size / count) samples and every rank runs the same number of batches; up to count - 1
    /// samples are seen twice per epoch. Augmentations stay per item (item_seed), so a sample is
    /// transformed the same whichever rank draws it, and the ranks' draws differ because their items do.
    /// Call before begin_epoch. Throws std::invalid_argument unless 0 <= rank < count.
    void set_shard(int rank, int count);
    int shard_rank() const { return m_shard_rank; }
    int shard_count() const { return m_shard_count; }

    /// The whole dataset (all shards).
    std::size_t size() const { return m_dataset->size(); }
    /// Samples this loader yields per epoch: ceil(size / shard count).
    std::size_t samples_per_epoch() const;
    std::size_t batches_per_epoch() const;
    int batch_size() const { return m_batch_size; }
    int num_workers() const { return m_num_workers; }
    std::uint64_t seed() const { return m_seed; }
    const PairedDataset& dataset() const { return *m_dataset; }

private:
    struct Slot {
        std::optional<Batch> batch;
        std::exception_ptr error;
    };
    Batch build_batch(std::size_t k) const;
    void worker_loop();

    std::shared_ptr<const PairedDataset> m_dataset;
    int m_batch_size;
    bool m_shuffle;
    int m_num_workers;
    std::size_t m_prefetch;
    std::uint64_t m_seed;
    int m_shard_rank = 0;
    int m_shard_count = 1;

    std::int64_t m_epoch = 0;
    std::vector<std::size_t> m_order; // dataset indices of this epoch, in batch order
    std::size_t m_num_batches = 0;
    std::size_t m_next = 0; // next batch handed to the consumer

    std::mutex m_mutex;
    std::condition_variable m_work_cv; // workers wait for room in the prefetch window
    std::condition_variable m_ready_cv; // the consumer waits for batch m_next
    std::size_t m_claimed = 0; // next batch a worker will build
    std::map<std::size_t, Slot> m_ready;
    bool m_stopping = false;
    std::vector<std::thread> m_threads;
};

/// A loader for `split` from the config: batch_size and num_workers from dataloader.*, shuffle and
/// augmentations for "train" only, seed from common.seed (val/test: batch size 1 is not forced).
/// Throws DataError / std::invalid_argument as PairedDataset.
std::unique_ptr<DataLoader> make_data_loader(const Config& config, const std::string& split);

} // namespace nectar
