// SPDX-License-Identifier: Apache-2.0
#pragma once
/// @file Private: Pix2pixTrainer's state, shared by pix2pix_trainer.cpp (the iteration, reports, examples,
/// checkpoints) and pix2pix_setup.cpp (the setup phases). Not part of the engine's API.

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "data/data_loader.h"
#include "distributed/dist_context.h"
#include "distributed/grad_sync.h"
#include "io/image_io.h"
#include "losses/loss_manager.h"
#include "models/patchgan.h"
#include "models/unet.h"
#include "objective/objective.h"
#include "objective/preset.h"
#include "training/autocast.h"
#include "training/checkpoint.h"
#include "training/experiment.h"
#include "training/fused_adam.h"
#include "training/loss_scaler.h"
#include "training/nonfinite.h"
#include "training/pix2pix_trainer.h"
#include "training/progress_reporter.h"
#include "training/step_operands.h"
#include "util/strings.h"

namespace nectar {

namespace detail {

using Clock = std::chrono::steady_clock;

inline double seconds_since(Clock::time_point t0)
{
    return std::chrono::duration<double>(Clock::now() - t0).count();
}

inline void set_lr(torch::optim::Optimizer& opt, double lr)
{
    for (auto& group : opt.param_groups())
        static_cast<torch::optim::AdamOptions&>(group.options()).lr(lr);
}

inline void set_requires_grad(torch::nn::Module& m, bool on)
{
    for (auto& p : m.parameters())
        p.requires_grad_(on);
}

/// A loss of the active objective as the trainer sees it (refreshed at epoch start and after live edits).
struct ActiveLoss {
    std::string name;
    std::vector<std::string> tags;
    LossInputs inputs;
    double weight = 1.0; ///< weight at the current epoch
    bool in_d = false, in_g = false;
};

/// A scaler's state in checkpoints: {"scale", "growth_tracker"}.
inline nlohmann::json scaler_json(const LossScaler& s)
{
    const auto [scale, tracker] = s.state();
    return { { "scale", scale }, { "growth_tracker", tracker } };
}

inline void restore_scaler(LossScaler& s, const nlohmann::json& extra, const char* key)
{
    if (extra.contains(key))
        s.set_state(extra[key].value("scale", 65536.0), extra[key].value("growth_tracker", std::int64_t(0)));
}

} // namespace detail

struct Pix2pixTrainer::Impl {
    using Clock = detail::Clock;
    using ActiveLoss = detail::ActiveLoss;

    Pix2pixTrainer* q = nullptr;
    TrainingObserver* observer = nullptr;
    TrainingControl* control = nullptr; ///< single process: the loop's control; data-parallel: this rank's requests

    // Data-parallel (set_distributed): null for a single process.
    DistContext* dist = nullptr;
    TrainingControl agreed; ///< data-parallel: the loop's control, set only from decisions all ranks share
    TrainingObserver quiet; ///< data-parallel ranks without an observer still report (the syncs must match)
    std::unique_ptr<GradientSync> sync_g, sync_d;
    bool overlap_allreduce = true; ///< GradientSync overlaps the allreduce with backward (the bench turns it off)
    bool writer() const { return !dist || dist->rank() == 0; } ///< writes the run's files
    std::optional<Objective> objective; ///< given by the caller, else resolved from the config in setup
    /// What this run trains, as written to train<K>_objective.json; rewritten after live edits.
    Preset objective_record;
    std::string objective_path; ///< empty in benchmark mode
    ExperimentPaths folder; ///< chosen by plan_folder (train mode)
    Mode mode = Mode::Train;
    bool is_setup = false;
    bool new_log = false; // continuing: move the old loss log aside (Pix2pixTrainer::set_new_log)
    bool live_journal = false; // journal at every report (Pix2pixTrainer::set_live_journal)
    bool nonfinite_hook = std::getenv("NECTAR_TEST_NONFINITE_AT") != nullptr; // test-only (util/test_hooks.h)
    bool amp = false;

    UnetGenerator gen { nullptr };
    PatchGAN disc { nullptr };
    std::unique_ptr<FusedAdam> opt_g, opt_d;
    std::unique_ptr<LossScaler> scaler_g, scaler_d;
    std::unique_ptr<LossManager> lm;
    NetworkLrSchedules lr;
    std::unique_ptr<DataLoader> train_loader;
    std::unique_ptr<DataLoader> example_loader;
    NonFinitePolicy nonfinite_policy = NonFinitePolicy::Stop;
    std::unique_ptr<ProgressReporter> reporter;

    std::vector<ActiveLoss> losses;
    int current_epoch = 1;
    double lr_g = 0.0, lr_d = 0.0;
    std::int64_t global_iteration = 0; // over all runs (from checkpoints)
    std::int64_t run_iterations = 0; // in this run() call
    std::int64_t epoch_iteration = 0; // 1-based index of the last iteration in the epoch
    std::int64_t iterations_per_epoch = 0;
    std::int64_t skipped_steps = 0;
    Clock::time_point run_start;
    Clock::time_point epoch_start;

    std::map<std::string, double> phase_total;
    std::int64_t phase_iterations = 0;
    std::vector<int> checkpoints_saved;
    std::vector<LossEdit> unreported_edits; // live edits applied since the last progress report

    void message(MessageLevel level, const std::string& text)
    {
        if (observer)
            observer->on_message(level, text);
    }

    void refresh_losses()
    {
        losses.clear();
        for (const auto& [name, l] : lm->get_registered_losses({}, true)) {
            ActiveLoss a;
            a.name = name;
            a.tags = l.tags;
            a.inputs = l.inputs;
            a.weight = l.weight_at(current_epoch);
            a.in_d = l.has_tag("D");
            a.in_g = l.has_tag("G");
            losses.push_back(a);
        }
    }

    void apply_edits()
    {
        if (!control)
            return;
        auto edits = control->take_edits();
        if (edits.empty())
            return;
        if (dist) {
            message(MessageLevel::Warning,
                "live loss edits are not applied in a data-parallel run (every rank must train the same objective)");
            return;
        }
        bool recorded = false;
        // Before/after of each edit go to the journal, so charts can mark them (live and on review).
        const auto before = lm->get_registered_losses({}, true);
        auto journal = [&](const std::string& name, const char* field, std::string old_value, std::string new_value) {
            if (old_value == new_value)
                return;
            LossEdit e;
            e.iteration = global_iteration;
            e.epoch = current_epoch;
            e.loss = name;
            e.field = field;
            e.old_value = std::move(old_value);
            e.new_value = std::move(new_value);
            unreported_edits.push_back(e);
            try {
                lm->record_edit(std::move(e));
            } catch (const std::exception& ex) {
                message(MessageLevel::Warning, std::string("live edit not journaled: ") + ex.what());
            }
        };
        for (const auto& [name, w] : edits.weights) {
            try {
                lm->set_loss_weight(name, w);
                const auto it = before.find(name);
                if (it != before.end()) {
                    if (it->second.schedule.active())
                        journal(name, "schedule", it->second.schedule.describe(), "none");
                    journal(name, "weight", short_number(it->second.weight_at(current_epoch)), short_number(w));
                }
                auto& o = objective_record.losses[name];
                o.weight = w;
                o.schedule = Schedule {}; // an edit replaces a schedule (LossManager::set_loss_weight)
                recorded = true;
            } catch (const std::exception& e) {
                message(MessageLevel::Warning, std::string("live weight edit ignored: ") + e.what());
            }
        }
        for (const auto& [name, tags] : edits.tags) {
            try {
                lm->set_tags(name, tags);
                const auto it = before.find(name);
                if (it != before.end())
                    journal(name, "tags", join_or(it->second.tags), join_or(tags));
                objective_record.losses[name].tags = tags;
                recorded = true;
            } catch (const std::exception& e) {
                message(MessageLevel::Warning, std::string("live tag edit ignored: ") + e.what());
            }
        }
        refresh_losses();
        if (recorded)
            save_objective_record();
    }

    /// Rewrites train<K>_objective.json (atomic). A failure is a warning: the run goes on.
    void save_objective_record()
    {
        if (objective_path.empty())
            return;
        try {
            save_preset_file(objective_record, objective_path);
        } catch (const std::exception& e) {
            message(MessageLevel::Warning, std::string("objective record not updated: ") + e.what());
        }
    }

    /// Sum of `group`'s weighted losses on the operands (recorded for the progress reports).
    torch::Tensor sum_losses(const std::vector<const ActiveLoss*>& group, StepOperands& o)
    {
        torch::Tensor total;
        for (const ActiveLoss* l : group) {
            auto [pred, target] = o.resolve(l->inputs, l->name);
            torch::Tensor v = lm->compute_loss_xy(l->name, pred, target, current_epoch);
            if (v.numel() != 1)
                v = v.mean();
            reporter->record(l->name, global_iteration);
            total = total.defined() ? total + v : v;
        }
        return total;
    }

    /// The non-finite check, backward, gradient averaging (`sync`, data-parallel only) and optimizer step of
    /// one network (the D and G steps alike).
    void update(const torch::Tensor& total, const std::vector<const ActiveLoss*>& group, const char* what,
        torch::nn::Module& net, torch::optim::Optimizer& opt, LossScaler& scaler, GradientSync* sync,
        const char* phase_backward, const char* phase_optimizer, Clock::time_point& t)
    {
        // The culprit comes from the LossManager's last weighted values, read only when the total is not finite.
        const auto parts = [&] {
            std::vector<SummedLoss> out;
            const auto last = lm->get_loss_tensors();
            for (const ActiveLoss* l : group) {
                const auto it = last.find(l->name);
                out.push_back({ l->name, l->tags,
                    it == last.end() || !it->second.defined() ? torch::Tensor() : it->second.mean() });
            }
            return out;
        };
        // Data-parallel: the ranks decide together (one collective, only when the policy checks at all).
        const auto any_rank = [&](bool local_bad) { return dist->max_flags({ local_bad ? 1 : 0 })[0] != 0; };
        const bool ok = check_finite(
            nonfinite_policy, total, parts, what, current_epoch, epoch_iteration,
            [&](const std::string& m) { message(MessageLevel::Warning, m); },
            dist ? std::function<bool(bool)>(any_rank) : nullptr);
        if (!ok) {
            ++skipped_steps;
            return;
        }
        net.zero_grad(/*set_to_none=*/true);
        if (sync)
            sync->begin();
        if (amp) {
            scaler.backward_and_step(total, opt, [&] {
                if (sync)
                    sync->finish();
            });
            add_phase(phase_backward, t);
        } else {
            total.backward();
            add_phase(phase_backward, t);
            if (sync) {
                sync->finish(); // the part of the allreduce that backward did not hide
                add_phase(phase_backward[0] == 'G' ? "G_allreduce" : "D_allreduce", t);
            }
            opt.step();
            add_phase(phase_optimizer, t);
        }
    }

    /// Data-parallel: at an update point, every rank learns whether any rank was asked to stop or pause
    /// (one collective). A stop ends every rank's loop after this same iteration; a pause holds every
    /// rank here, polling together every 200 ms, until no rank is paused.
    void agree_on_requests()
    {
        if (!dist)
            return;
        const auto local = [&]() -> std::vector<std::int64_t> {
            return { control && control->stop_requested() ? 1 : 0, control && control->paused() ? 1 : 0 };
        };
        auto flags = dist->max_flags(local());
        if (flags[1] && !flags[0]) {
            message(MessageLevel::Info, "paused (all ranks)");
            while (flags[1] && !flags[0]) {
                std::this_thread::sleep_for(std::chrono::milliseconds(200));
                flags = dist->max_flags(local());
            }
            if (!flags[0])
                message(MessageLevel::Info, "resumed (all ranks)");
        }
        if (flags[0])
            agreed.request_stop();
    }

    void add_phase(const char* name, Clock::time_point& t)
    {
        const auto now = Clock::now();
        phase_total[name] += std::chrono::duration<double>(now - t).count();
        t = now;
    }

    /// Sends a progress report (one device sync), with preview images of this batch when given.
    void report(const torch::Tensor& x = {}, const torch::Tensor& fake = {}, const torch::Tensor& y = {})
    {
        agree_on_requests();
        ProgressReport r;
        r.epoch = current_epoch;
        r.first_epoch = q->m_first_epoch;
        r.last_epoch = q->m_last_epoch;
        r.iteration = epoch_iteration;
        r.iterations_per_epoch = iterations_per_epoch;
        r.global_iteration = run_iterations;
        r.lr_g = lr_g;
        r.lr_d = lr_d;
        const double elapsed = detail::seconds_since(run_start);
        r.elapsed_seconds = elapsed;
        r.iterations_per_second = elapsed > 0 ? run_iterations / elapsed : 0.0;
        const std::int64_t total = iterations_per_epoch * (q->m_last_epoch - q->m_first_epoch + 1);
        const std::int64_t left = std::max<std::int64_t>(0, total - run_iterations);
        r.eta_seconds = run_iterations > 0 ? elapsed / run_iterations * left : 0.0;
        r.phase_seconds = q->phase_seconds();
        if (x.defined() && writer()) {
            r.example_input = tensor_to_rgb(x[0]);
            r.example_generated = tensor_to_rgb(fake[0]);
            r.example_target = tensor_to_rgb(y[0]);
        }
        std::vector<ReportedLoss> listed;
        for (const auto& l : losses)
            listed.push_back({ l.name, l.tags, l.weight != 0.0 && (l.in_d || l.in_g) });
        r.edits = std::exchange(unreported_edits, {});
        reporter->send(std::move(r), listed);
        if (live_journal)
            dump_log(/*export_base=*/false); // the values just synced: an append, no collective
    }

    void save_examples(int epoch)
    {
        if (!example_loader || !writer())
            return;
        torch::NoGradGuard no_grad;
        gen->eval();
        example_loader->begin_epoch(0);
        int saved = 0;
        const int wanted = std::max(1, q->m_config.save.num_examples);
        while (saved < wanted) {
            auto b = example_loader->next();
            if (!b)
                break;
            auto x = b->a.to(q->m_device);
            torch::Tensor fake;
            {
                AutocastScope ac(amp);
                fake = gen->forward(x).to(torch::kFloat32);
            }
            for (int64_t i = 0; i < x.size(0) && saved < wanted; ++i, ++saved) {
                const auto img = hconcat({ tensor_to_rgb(b->a[i]), tensor_to_rgb(fake[i]), tensor_to_rgb(b->b[i]) });
                const std::string path = (std::filesystem::path(q->m_experiment_dir) / "examples"
                    / ("epoch" + std::to_string(epoch) + "_" + std::to_string(saved + 1) + ".png"))
                                             .string();
                save_png(img, path);
            }
        }
        example_loader->stop();
        gen->train();
    }

    /// Periodic dumps only append to the journal (cost ~ new values); the NectarGAN-layout
    /// loss_log.json is rewritten from it at the end of a run, on stop and on failure.
    void dump_log(bool export_base = true)
    {
        if (mode != Mode::Train || !writer())
            return;
        lm->update_loss_log();
        if (export_base)
            lm->export_base_log();
    }

    /// What a checkpoint holds besides the networks and optimizers (see checkpoint.h).
    CheckpointState checkpoint_state(int epoch)
    {
        CheckpointState st;
        st.epoch = epoch;
        st.global_iteration = global_iteration;
        st.lr_g = lr_g;
        st.lr_d = lr_d;
        capture_rng_state(st, q->m_device);
        st.extra["scaler_g"] = detail::scaler_json(*scaler_g);
        st.extra["scaler_d"] = detail::scaler_json(*scaler_d);
        st.extra["partial_epoch"] = epoch_iteration < iterations_per_epoch;
        st.extra["iterations_in_epoch"] = epoch_iteration;
        st.extra["loss_weights"] = lm->get_loss_weights({}, -1);
        return st;
    }

    void save_checkpoint(int epoch)
    {
        if (!writer())
            return;
        // Every value up to this checkpoint is journaled before it exists, so no journal dump spans a
        // checkpoint boundary: a run continued from it keeps exactly the dumps of epochs <= `epoch`.
        if (mode == Mode::Train)
            lm->update_loss_log();
        nectar::save_checkpoint(q->m_experiment_dir, checkpoint_state(epoch), *gen, *opt_g, *disc, *opt_d);
        checkpoints_saved.push_back(epoch);
    }

    // --- setup phases, in order (pix2pix_setup.cpp) ---

    /// Device, threads, LR plan, seed.
    void setup_device_and_plan(Config& c);

    /// G, D, their Adam optimizers and loss scalers (the generator checks its input size first).
    void build_models(const Config& c);

    /// Chooses the experiment folder (`folder`; created by setup() after the pre-flight phases; the
    /// LossManager writes into it only from the first log dump).
    void plan_folder(Config& c);

    /// The objective (given, else the config's spec) built and registered in a new LossManager.
    void build_objective(const Config& c);

    /// The train loader and the example loader (val split; else train without augmentation).
    void build_data(const Config& c);

    /// Loads the checkpoint of train.load.load_epoch: networks, optimizers, RNG, scalers, iteration count.
    void resume(const Config& c);

    /// The config copy and, next to it, the objective this run trains: a continued run starts from it.
    void record_run(const Config& c);

    /// Data-parallel: every rank starts from rank 0's weights; the gradient hooks of G and D.
    void setup_distributed();
};

} // namespace nectar
