// SPDX-License-Identifier: Apache-2.0
#pragma once
/// @file Pix2pix training (NectarGAN `nectargan/trainers/pix2pix_trainer.py`, Isola et al. 2017) for any
/// loss spec: the losses and their operands come from the active spec (LMLoss::inputs), never from
/// hard-coded names, so a JSON spec with extra losses trains without code changes.
///
/// One iteration (train_step), as NectarGAN's train_step / forward_D / backward_D / forward_G / backward_G:
///   fake = G(x)
///   D step: operands D_real = D(x, y), D_fake = D(x, fake.detach()) (computed only if a D-tagged loss uses
///           them); loss_D = mean of the D-tagged losses ((D_real + D_fake) * 0.5 for pix2pix);
///           backward, Adam step.
///   G step: D_fake = D(x, fake) (with gradient to G); loss_G = sum of the G-tagged losses; backward, Adam.
/// Adam(lr, betas = (beta1, 0.999)); lr per epoch from LrSchedule (G and D, `separate_lr_schedules`).
/// D's weights get no gradient during the G step (requires_grad off): identical results, less work
/// (NectarGAN computes those gradients and discards them at the next D zero_grad).
/// Losses whose current weight is 0 are not computed; observers see them with enabled = false.
///
/// Device: common.device (see resolve_device). On CUDA, G/D forwards and losses run under float16 autocast
/// with one dynamic LossScaler per network (NectarGAN shares one GradScaler between G and D).
///
/// Files in the experiment folder (see experiment.h, checkpoint.h, loss_log.h): train<K>_config.json,
/// loss_log.json + journal (every `train.log_dump_rate` epochs, at the end and on stop), checkpoints
/// epoch<N>_net{G,D}.pt + epoch<N>_trainer.pt (every `save.model_save_rate` epochs, at the end of the plan
/// and on stop), examples/epoch<N>_<k>.png (input | generated | target from the val split, or train
/// when val is empty, every `save.example_save_rate` epochs).
///
/// Non-finite losses (`train.nonfinite_policy`): "stop" (default) checks each step's total loss before the
/// optimizer step (one host sync per network per iteration; the checkpoint is not replaced) and throws
/// NonFiniteLossError naming the loss, its tags, the epoch and iteration; "skip" skips that optimizer step
/// and warns; "ignore" checks nothing (no per-iteration sync).

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "config/config.h"
#include "scheduling/lr_schedule.h"
#include "training/control.h"
#include "training/nonfinite.h"
#include "training/progress.h"
#include "training/trainer.h"

namespace nectar {

class DistContext;
class LossManager;
class LossScaler;
struct Objective;

/// Outcome of Pix2pixTrainer::run().
struct TrainResult {
    bool stopped = false; ///< a stop request ended the run early
    int first_epoch = 1;
    int last_epoch_completed = 0; ///< 0 if none
    std::int64_t iterations = 0; ///< iterations run by this call
    std::string experiment_dir;
    std::vector<int> checkpoints_saved;
};

class Pix2pixTrainer : public Trainer {
public:
    enum class Mode {
        Train, ///< full run: data, experiment folder, logs, checkpoints, examples
        Benchmark ///< models, optimizers and losses only (train_step on caller tensors, nothing written)
    };

    /// Cheap: stores the settings. `objective` (optional; see resolve_objective, e.g. with a preset or the
    /// GUI's table) is what the run trains; without it, the config's spec and subspec with its lambdas.
    /// `observer` and `control`
    /// may be null and must outlive the trainer.
    explicit Pix2pixTrainer(Config config, TrainingObserver* observer = nullptr, TrainingControl* control = nullptr,
        const Objective* objective = nullptr, Mode mode = Mode::Train);
    ~Pix2pixTrainer() override;

    /// Builds everything (device, threads, seed, experiment folder + config copy, models, optimizers,
    /// losses, data, checkpoint when continuing). Throws std::invalid_argument / ConfigError / CheckpointError /
    /// std::runtime_error with a message naming the bad setting, file or value. Called by run() if needed.
    void setup();

    /// Trains the remaining epochs of the plan (from load_epoch + 1 when continuing). Throws
    /// NonFiniteLossError (policy "stop") or other std::exception on failure (logs are dumped first).
    TrainResult run();

    // --- hooks (Trainer) ---
    void on_epoch_start(int epoch) override;
    void train_step(const torch::Tensor& x, const torch::Tensor& y, std::int64_t idx) override;
    void on_epoch_end(int epoch, bool stopped) override;

    // --- state, for the CLI, the GUI, tests and the benchmark ---
    const Config& config() const { return m_config; }
    const torch::Device& device() const { return m_device; }
    const std::string& experiment_dir() const { return m_experiment_dir; }
    int first_epoch() const { return m_first_epoch; }
    int last_epoch() const { return m_last_epoch; }
    std::int64_t iterations_per_epoch() const;
    LossManager& loss_manager();
    torch::nn::Module& generator();
    torch::nn::Module& discriminator();
    torch::Tensor generate(const torch::Tensor& x); ///< G(x) in eval mode without grad
    /// Mean seconds per iteration by phase since the last reset ("G_forward", "D_forward", "D_backward",
    /// "D_optimizer", "G_loss_forward", "G_backward", "G_optimizer", "data", "report"; data-parallel on the
    /// CPU also "D_allreduce" and "G_allreduce": the time backward waited for the gradient allreduce after
    /// it finished, i.e. the communication the overlap did not hide).
    std::map<std::string, double> phase_seconds() const;
    void reset_phase_timers();
    /// Saves a checkpoint for the last completed epoch now (atomic; refuses NaN weights).
    void save_checkpoint_now(int epoch);
    /// Before setup(): train as rank ctx->rank() of a data-parallel job (distributed/, README "Several GPUs
    /// or machines"). Each rank trains its shard of every epoch on ctx->device(); G's and D's gradients are
    /// averaged after each backward (GradientSync); rank 0 writes the files. The control given to the
    /// constructor then only collects this process's requests: stop and pause take effect on every rank
    /// at the next update point (train.update_rate iterations, and each epoch's end), where the ranks
    /// agree on them; live loss edits are refused. `ctx` must outlive the trainer; null = single process.
    void set_distributed(DistContext* ctx);
    /// Before setup(), data-parallel only: start each gradient bucket's allreduce during backward (default)
    /// or only after it (to measure what the overlap hides; nectar-bench-dist).
    void set_allreduce_overlap(bool on);
    /// Append the loss journal at every progress report too (train.update_rate iterations; rank 0 only), so
    /// a LossLogFollower in another process sees values as they come. Default off: every
    /// train.log_dump_rate epochs and before each checkpoint. Costs one small append + fsync per report.
    void set_live_journal(bool on);
    /// Before setup(): a continued run starts a new loss log, moving the old loss_log.json and journal aside
    /// (LossLog::prepare_continue; the way out when they cannot be continued). Default off.
    void set_new_log(bool on);

protected:
    void before_iteration() override; ///< applies live edits (TrainingControl)
    void on_batch_ready(double seconds) override;
    void on_stopped_before(int epoch) override;

private:
    struct Impl;
    std::unique_ptr<Impl> d;
    Config m_config;
    torch::Device m_device { torch::kCPU };
    std::string m_experiment_dir;
    int m_first_epoch = 1;
    int m_last_epoch = 1;
};

} // namespace nectar
