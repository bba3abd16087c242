// SPDX-License-Identifier: Apache-2.0
#pragma once
/// @file LossManager (NectarGAN `nectargan.losses.loss_manager.LossManager`): registers losses by
/// unique name, computes them with their current weight, keeps history and the loss log.
///
/// Differences from NectarGAN, on purpose (see tests/data/reference/PROVENANCE.md):
///  - no device->host sync per call: batch means stay on the loss's device and are moved to the
///    host in batches (on query, on log dump, or every `sync_interval` calls);
///  - history records RAW values and the weight actually applied (weighted = raw * weight);
///  - every loss has its own schedule; epochs are 1-based.

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "config/config.h"
#include "losses/lm_types.h"
#include "losses/loss_log.h"

namespace nectar {

class LossLog;
struct SpecInfo;

class LossManager {
public:
    /// @param experiment_dir  folder for loss_log.json (+ journal); created on first dump.
    /// @param history_buffer_size  values kept per loss in memory before an automatic dump to the log
    ///        (when logging is enabled) — memory stays bounded on long runs.
    LossManager(Config config, std::string experiment_dir, bool enable_logging = true, int history_buffer_size = 50000);
    ~LossManager();
    LossManager(const LossManager&) = delete;
    LossManager& operator=(const LossManager&) = delete;

    /// Registers a loss. Throws std::invalid_argument if `name` is empty or already registered
    /// (the message names it), or if the weight is negative / non-finite.
    void register_loss_fn(const std::string& name, LossFn fn, double loss_weight = 1.0, Schedule schedule = {},
        std::vector<std::string> tags = {}, LossInputs inputs = {}, std::string function_name = {});
    /// Registers a fully built LMLoss (e.g. from a spec). Same errors as register_loss_fn.
    void register_loss(LMLoss loss);

    /// Runs loss `name` on (x, y), multiplies by its current weight (schedule at 1-based `epoch`),
    /// records raw batch mean and weight (kept on the device until flushed) and the detached
    /// weighted loss as last_loss_map. Returns the weighted loss tensor (same shape/dtype as the
    /// function's output, typically 0-d float32) with autograd intact.
    /// Throws std::invalid_argument naming `name` and listing the registered losses if unknown.
    torch::Tensor compute_loss_xy(const std::string& name, const torch::Tensor& x, const torch::Tensor& y, int epoch);

    /// Losses whose tags contain ANY of `query_tags` (all losses when empty). With `strip` the
    /// result's history and last_loss_map are left empty (cheap snapshot).
    std::map<std::string, LMLoss> get_registered_losses(
        const std::vector<std::string>& query_tags = {}, bool strip = false);
    /// Last WEIGHTED batch mean per loss (NectarGAN semantics), rounded to `precision` decimals
    /// (< 0: no rounding). Syncs pending values.
    std::map<std::string, double> get_loss_values(const std::vector<std::string>& query_tags = {}, int precision = 2);
    /// Last RAW batch mean per loss. Syncs pending values.
    std::map<std::string, double> get_raw_loss_values(const std::vector<std::string>& query_tags = {});
    /// Last weighted loss tensors (detached).
    std::map<std::string, torch::Tensor> get_loss_tensors(const std::vector<std::string>& query_tags = {});
    /// Current weight per loss (schedule value when scheduled).
    std::map<std::string, double> get_loss_weights(const std::vector<std::string>& query_tags = {}, int precision = 2);

    /// NectarGAN text formats: "(epoch: E, iters: I) G_GAN: 0.74 G_L1: 69.32 ..." and the weights line.
    std::string print_losses(int epoch, int iter, int precision = 2);
    std::string print_weights(int precision = 2);

    /// Appends every value recorded since the last dump to the log journal (cost ~ new values only).
    void update_loss_log();
    /// Writes experiment_dir/loss_log.json atomically in NectarGAN's layout (plus raw values).
    void export_base_log();

    /// Thread-safe: may be called from another thread between iterations.
    void set_loss_weight(const std::string& name, double weight);
    void set_tags(const std::string& name, std::vector<std::string> tags);

    /// Records a live objective edit as a journal "edit" line (fsynced; wall_time filled in when NaN).
    /// No-op without logging. Throws std::runtime_error naming the journal on I/O errors.
    void record_edit(LossEdit edit);

    /// Moves the host copy of pending device values into history (one sync for all losses).
    void sync_history();
    /// While on, every synced value is also kept for take_unreported() (the trainer's progress reports read
    /// the same measured values the log stores). Off by default; turning it off drops what was kept.
    void set_reporting(bool on);
    /// Syncs (one transfer for all losses) and returns, per loss, the raw values and weights recorded since
    /// the previous call, in call order; losses without new values are absent.
    std::map<std::string, LMHistory> take_unreported();
    /// Calls between automatic syncs (default 64).
    void set_sync_interval(int calls);
    /// Data-parallel training: `reduce` gets every sync's pending values stacked (float32 [2n] on the
    /// losses' device: each loss's raw means, then its weighted means) and replaces them in place before
    /// the host copy (the trainer averages them across ranks: one collective per sync). Every rank must
    /// then sync at the same calls: the trainer syncs at the update rate and raises the sync interval.
    void set_value_reducer(std::function<void(torch::Tensor&)> reduce);

    const Config& config() const { return m_config; }
    const std::string& experiment_dir() const { return m_experiment_dir; }
    std::vector<std::string> names() const;
    /// Copy of one loss's history (syncs first). Throws std::invalid_argument for an unknown name.
    LMHistory history(const std::string& name);
    /// Where training is (1-based epoch, global iterations completed), written into the following journal
    /// dumps so a continued run knows which values belong to the epochs before its checkpoint.
    void set_log_position(int epoch, std::int64_t iteration);
    /// Sets log metadata (NectarGAN LOSSMANAGER_LOG header fields).
    void set_log_metadata(const std::string& device, const std::string& dataroot, std::int64_t dataset_length);
    /// Records a data-parallel run's world size, backend and per-rank devices in the log header.
    void set_log_world(int world_size, const std::string& backend, const std::vector<std::string>& devices);

private:
    void edit_log_metadata(const std::function<void(LossLogMetadata&)>& edit);
    struct Impl;
    Config m_config;
    std::string m_experiment_dir;
    std::unique_ptr<Impl> m_impl;
};

} // namespace nectar
