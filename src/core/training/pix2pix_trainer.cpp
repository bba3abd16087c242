// SPDX-License-Identifier: Apache-2.0
// Pix2pixTrainer: the iteration (train_step), epoch ends, the run, and the accessors. Setup is in
// pix2pix_setup.cpp; the shared state in pix2pix_trainer_impl.h; the loop is Trainer::run_epochs.
#include "training/pix2pix_trainer.h"

#include <algorithm>
#include <filesystem>
#include <limits>

#include "training/pix2pix_trainer_impl.h"
#include "util/test_hooks.h"

namespace fs = std::filesystem;

namespace nectar {

using namespace detail;

Pix2pixTrainer::Pix2pixTrainer(
    Config config, TrainingObserver* observer, TrainingControl* control, const Objective* objective, Mode mode)
    : d(std::make_unique<Impl>())
    , m_config(std::move(config))
{
    d->q = this;
    d->observer = observer;
    d->control = control;
    if (objective)
        d->objective = *objective;
    d->mode = mode;
}

Pix2pixTrainer::~Pix2pixTrainer() = default;

std::int64_t Pix2pixTrainer::iterations_per_epoch() const
{
    return d->iterations_per_epoch;
}

LossManager& Pix2pixTrainer::loss_manager()
{
    if (!d->lm)
        throw std::logic_error("Pix2pixTrainer::loss_manager() before setup()");
    return *d->lm;
}

torch::nn::Module& Pix2pixTrainer::generator()
{
    if (!d->gen)
        throw std::logic_error("Pix2pixTrainer::generator() before setup()");
    return *d->gen;
}

torch::nn::Module& Pix2pixTrainer::discriminator()
{
    if (!d->disc)
        throw std::logic_error("Pix2pixTrainer::discriminator() before setup()");
    return *d->disc;
}

torch::Tensor Pix2pixTrainer::generate(const torch::Tensor& x)
{
    torch::NoGradGuard no_grad;
    d->gen->eval();
    AutocastScope ac(d->amp);
    auto out = d->gen->forward(x.to(m_device)).to(torch::kFloat32);
    d->gen->train();
    return out;
}

std::map<std::string, double> Pix2pixTrainer::phase_seconds() const
{
    std::map<std::string, double> out;
    if (d->phase_iterations == 0)
        return out;
    for (const auto& [k, v] : d->phase_total)
        out[k] = v / static_cast<double>(d->phase_iterations);
    return out;
}

void Pix2pixTrainer::reset_phase_timers()
{
    d->phase_total.clear();
    d->phase_iterations = 0;
}

void Pix2pixTrainer::save_checkpoint_now(int epoch)
{
    d->save_checkpoint(epoch);
}

void Pix2pixTrainer::set_distributed(DistContext* ctx)
{
    if (d->is_setup)
        throw std::logic_error("Pix2pixTrainer::set_distributed() after setup()");
    d->dist = ctx;
}

void Pix2pixTrainer::set_allreduce_overlap(bool on)
{
    d->overlap_allreduce = on;
}

void Pix2pixTrainer::set_live_journal(bool on)
{
    d->live_journal = on;
}

void Pix2pixTrainer::set_new_log(bool on)
{
    d->new_log = on;
}

void Pix2pixTrainer::on_epoch_start(int epoch)
{
    d->current_epoch = epoch;
    d->lr_g = d->lr.generator.lr_at(epoch);
    d->lr_d = d->lr.discriminator.lr_at(epoch);
    set_lr(*d->opt_g, d->lr_g);
    set_lr(*d->opt_d, d->lr_d);
    d->refresh_losses();
    d->reporter->begin_epoch();
    d->epoch_iteration = 0;
    d->epoch_start = Clock::now();
}

void Pix2pixTrainer::train_step(const torch::Tensor& x, const torch::Tensor& y, std::int64_t idx)
{
    (void)idx;
    Impl& s = *d;
    auto t = Clock::now();
    ++s.epoch_iteration;

    std::vector<const ActiveLoss*> d_losses, g_losses;
    for (const auto& l : s.losses) {
        if (l.weight == 0.0)
            continue; // skipped: reported disabled
        if (l.in_d)
            d_losses.push_back(&l);
        if (l.in_g)
            g_losses.push_back(&l);
    }

    torch::Tensor fake;
    {
        AutocastScope ac(s.amp);
        fake = s.gen->forward(x);
    }
    StepOperands o(x, y, fake, s.disc);
    s.add_phase("G_forward", t);

    // D step: the mean of the D-tagged losses (NectarGAN: (D_real + D_fake) * 0.5).
    if (!d_losses.empty()) {
        torch::Tensor loss_d;
        {
            AutocastScope ac(s.amp);
            bool need_real = false, need_fake = false;
            for (const ActiveLoss* l : d_losses)
                for (Operand op : { l->inputs.prediction, l->inputs.target }) {
                    need_real = need_real || op == Operand::DReal;
                    need_fake = need_fake || op == Operand::DFake;
                }
            o.begin_d_step(need_real, need_fake);
            loss_d = s.sum_losses(d_losses, o);
            if (d_losses.size() > 1)
                loss_d = loss_d * (1.0 / static_cast<double>(d_losses.size()));
        }
        s.add_phase("D_forward", t);
        s.update(loss_d, d_losses, "discriminator loss", *s.disc, *s.opt_d, *s.scaler_d, s.sync_d.get(), "D_backward",
            "D_optimizer", t);
    }

    // G step: the sum of the G-tagged losses. D's weights need no gradient here (same result, less work).
    o.begin_g_step();
    set_requires_grad(*s.disc, false);
    const auto restore = [&] { set_requires_grad(*s.disc, true); };
    try {
        torch::Tensor loss_g;
        {
            AutocastScope ac(s.amp);
            loss_g = s.sum_losses(g_losses, o);
        }
        s.add_phase("G_loss_forward", t);
        if (loss_g.defined() && s.nonfinite_hook
            && test_nonfinite_point("generator-loss:rank" + std::to_string(s.dist ? s.dist->rank() : 0)))
            loss_g = loss_g * std::numeric_limits<float>::quiet_NaN();
        if (loss_g.defined())
            s.update(loss_g, g_losses, "generator loss", *s.gen, *s.opt_g, *s.scaler_g, s.sync_g.get(), "G_backward",
                "G_optimizer", t);
    } catch (...) {
        restore();
        throw;
    }
    restore();

    ++s.global_iteration;
    s.lm->set_log_position(s.current_epoch, s.global_iteration);
    ++s.run_iterations;
    ++s.phase_iterations;
    if (s.reporter->iteration_done(m_config.train.update_rate)) {
        s.report(x.detach(), o.fake().detach(), y.detach());
        s.add_phase("report", t);
    }
}

void Pix2pixTrainer::on_epoch_end(int epoch, bool stopped)
{
    Impl& s = *d;
    s.report();
    EpochSummary sum;
    sum.epoch = epoch;
    sum.seconds = seconds_since(s.epoch_start);
    sum.lr_g = s.lr_g;
    sum.lr_d = s.lr_d;
    sum.stopped = stopped;
    sum.iterations = s.epoch_iteration;
    sum.iterations_per_epoch = s.iterations_per_epoch;
    sum.mean_raw_loss = s.reporter->epoch_means();
    const auto& sv = m_config.save;
    const bool last = epoch == m_last_epoch;
    if (s.mode == Mode::Train) {
        if (stopped || last || epoch % std::max(1, m_config.train.log_dump_rate) == 0)
            s.dump_log(/*export_base=*/stopped || last);
        if (!stopped && sv.save_examples && (last || epoch % std::max(1, sv.example_save_rate) == 0)) {
            s.save_examples(epoch);
            sum.examples_saved = true;
        }
        if (sv.save_model && (stopped || last || epoch % std::max(1, sv.model_save_rate) == 0)) {
            s.save_checkpoint(epoch);
            sum.checkpoint_saved = true;
        }
    }
    if (s.observer)
        s.observer->on_epoch_end(sum);
}

void Pix2pixTrainer::before_iteration()
{
    d->apply_edits();
}

void Pix2pixTrainer::on_batch_ready(double seconds)
{
    d->phase_total["data"] += seconds;
}

void Pix2pixTrainer::on_stopped_before(int epoch)
{
    // Nothing trained in `epoch`: the previous epoch is the last one; make sure it has a checkpoint and that
    // loss_log.json is exported (periodic dumps only append to the journal).
    if (epoch - 1 >= 1 && m_config.save.save_model && d->writer()) {
        const auto existing = list_checkpoint_epochs(m_experiment_dir);
        if (std::find(existing.begin(), existing.end(), epoch - 1) == existing.end())
            d->save_checkpoint(epoch - 1);
    }
    d->dump_log();
}

TrainResult Pix2pixTrainer::run()
{
    setup();
    if (d->mode != Mode::Train)
        throw std::logic_error("Pix2pixTrainer::run() needs Mode::Train");
    Impl& s = *d;
    TrainResult result;
    result.first_epoch = m_first_epoch;
    result.experiment_dir = m_experiment_dir;
    s.run_start = Clock::now();
    s.run_iterations = 0;

    RunInfo info;
    info.experiment_dir = m_experiment_dir;
    info.device = m_device.str();
    if (s.dist) {
        info.world_size = s.dist->world_size();
        info.backend = dist_backend_name(s.dist->backend());
    }
    info.first_epoch = m_first_epoch;
    info.last_epoch = m_last_epoch;
    info.iterations_per_epoch = s.iterations_per_epoch;
    for (const auto& l : s.losses) {
        info.loss_names.push_back(l.name);
        info.loss_tags[l.name] = l.tags;
    }
    info.first_iteration = s.global_iteration;
    for (const auto& [name, l] : s.lm->get_registered_losses({}, true))
        for (int e = m_first_epoch; e <= m_last_epoch; ++e)
            info.planned_weights[name].push_back(l.weight_at(e));
    if (s.observer)
        s.observer->on_run_started(info);
    if (m_first_epoch > m_last_epoch)
        s.message(MessageLevel::Info,
            "nothing to train: epoch " + std::to_string(m_first_epoch - 1) + " is the last epoch of the plan ("
                + std::to_string(m_last_epoch) + ")");

    EpochLoopResult loop;
    try {
        loop = run_epochs(m_first_epoch, m_last_epoch, *s.train_loader, s.dist ? &s.agreed : s.control, m_device);
    } catch (const std::exception& e) {
        try {
            s.dump_log();
        } catch (const std::exception& e2) {
            s.message(MessageLevel::Error, std::string("could not write the loss log: ") + e2.what());
        }
        s.message(MessageLevel::Error, e.what());
        if (s.observer)
            s.observer->on_run_finished(false);
        throw;
    }
    if (s.skipped_steps > 0)
        s.message(
            MessageLevel::Warning, std::to_string(s.skipped_steps) + " optimizer step(s) skipped for NaN/Inf losses");
    result.stopped = loop.stopped;
    result.last_epoch_completed = loop.last_epoch_completed;
    result.iterations = s.run_iterations;
    result.checkpoints_saved = s.checkpoints_saved;
    if (s.observer)
        s.observer->on_run_finished(loop.stopped);
    return result;
}

} // namespace nectar
