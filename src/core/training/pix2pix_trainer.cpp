// SPDX-License-Identifier: Apache-2.0
// Pix2pixTrainer: setup in named phases (device, models, folder, objective, data, resume, run record) and
// the iteration (train_step). The loop is Trainer::run_epochs; operands, autocast, progress batching and
// the non-finite policy live in their own files next to this one.
#include "training/pix2pix_trainer.h"

#include <algorithm>
#include <filesystem>

#include "data/data_loader.h"
#include "data/paired_dataset.h"
#include "io/image_io.h"
#include "losses/loss_manager.h"
#include "models/patchgan.h"
#include "models/unet.h"
#include "objective/preset.h"
#include "objective/spec_registry.h"
#include "training/autocast.h"
#include "training/checkpoint.h"
#include "training/device.h"
#include "training/experiment.h"
#include "training/fused_adam.h"
#include "training/loss_scaler.h"
#include "training/nonfinite.h"
#include "training/progress_reporter.h"
#include "training/step_operands.h"

namespace fs = std::filesystem;

namespace nectar {

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0)
{
    return std::chrono::duration<double>(Clock::now() - t0).count();
}

void set_lr(torch::optim::Optimizer& opt, double lr)
{
    for (auto& group : opt.param_groups())
        static_cast<torch::optim::AdamOptions&>(group.options()).lr(lr);
}

void set_requires_grad(torch::nn::Module& m, bool on)
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
nlohmann::json scaler_json(const LossScaler& s)
{
    const auto [scale, tracker] = s.state();
    return { { "scale", scale }, { "growth_tracker", tracker } };
}

void restore_scaler(LossScaler& s, const nlohmann::json& extra, const char* key)
{
    if (extra.contains(key))
        s.set_state(extra[key].value("scale", 65536.0), extra[key].value("growth_tracker", std::int64_t(0)));
}

} // namespace

struct Pix2pixTrainer::Impl {
    Pix2pixTrainer* q = nullptr;
    TrainingObserver* observer = nullptr;
    TrainingControl* control = nullptr;
    std::optional<Preset> preset;
    /// What this run trains, as written to train<K>_objective.json; rewritten after live edits.
    Preset objective_record;
    std::string objective_path; ///< empty in benchmark mode
    Mode mode = Mode::Train;
    bool is_setup = false;
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
        bool recorded = false;
        for (const auto& [name, w] : edits.weights) {
            try {
                lm->set_loss_weight(name, w);
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
            reporter->record(l->name, global_iteration, v, static_cast<float>(l->weight));
            total = total.defined() ? total + v : v;
        }
        return total;
    }

    /// The non-finite check, backward and optimizer step of one network (the D and G steps alike).
    void update(const torch::Tensor& total, const std::vector<const ActiveLoss*>& group, const char* what,
        torch::nn::Module& net, torch::optim::Optimizer& opt, LossScaler& scaler, const char* phase_backward,
        const char* phase_optimizer, Clock::time_point& t)
    {
        std::vector<SummedLoss> parts;
        if (nonfinite_policy == NonFinitePolicy::Stop)
            for (const ActiveLoss* l : group)
                parts.push_back({ l->name, l->tags, reporter->latest(l->name) });
        const bool ok = check_finite(nonfinite_policy, total, parts, what, current_epoch, epoch_iteration,
            [&](const std::string& m) { message(MessageLevel::Warning, m); });
        if (!ok) {
            ++skipped_steps;
            return;
        }
        net.zero_grad(/*set_to_none=*/true);
        if (amp) {
            scaler.backward_and_step(total, opt);
            add_phase(phase_backward, t);
        } else {
            total.backward();
            add_phase(phase_backward, t);
            opt.step();
            add_phase(phase_optimizer, t);
        }
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
        ProgressReport r;
        r.epoch = current_epoch;
        r.first_epoch = q->m_first_epoch;
        r.last_epoch = q->m_last_epoch;
        r.iteration = epoch_iteration;
        r.iterations_per_epoch = iterations_per_epoch;
        r.global_iteration = run_iterations;
        r.lr_g = lr_g;
        r.lr_d = lr_d;
        const double elapsed = seconds_since(run_start);
        r.elapsed_seconds = elapsed;
        r.iterations_per_second = elapsed > 0 ? run_iterations / elapsed : 0.0;
        const std::int64_t total = iterations_per_epoch * (q->m_last_epoch - q->m_first_epoch + 1);
        const std::int64_t left = std::max<std::int64_t>(0, total - run_iterations);
        r.eta_seconds = run_iterations > 0 ? elapsed / run_iterations * left : 0.0;
        r.phase_seconds = q->phase_seconds();
        if (x.defined()) {
            r.example_input = tensor_to_rgb(x[0]);
            r.example_generated = tensor_to_rgb(fake[0]);
            r.example_target = tensor_to_rgb(y[0]);
        }
        std::vector<ReportedLoss> listed;
        for (const auto& l : losses)
            listed.push_back({ l.name, l.tags, l.weight != 0.0 && (l.in_d || l.in_g) });
        reporter->send(std::move(r), listed);
    }

    void save_examples(int epoch)
    {
        if (!example_loader)
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
                const std::string path = (fs::path(q->m_experiment_dir) / "examples"
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
        if (mode != Mode::Train)
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
        st.extra["scaler_g"] = scaler_json(*scaler_g);
        st.extra["scaler_d"] = scaler_json(*scaler_d);
        st.extra["partial_epoch"] = epoch_iteration < iterations_per_epoch;
        st.extra["iterations_in_epoch"] = epoch_iteration;
        st.extra["loss_weights"] = lm->get_loss_weights({}, -1);
        return st;
    }

    void save_checkpoint(int epoch)
    {
        nectar::save_checkpoint(q->m_experiment_dir, checkpoint_state(epoch), *gen, *opt_g, *disc, *opt_d);
        checkpoints_saved.push_back(epoch);
    }

    // --- setup phases, in order ---

    /// Device, threads, LR plan, seed.
    void setup_device_and_plan(Config& c)
    {
        nonfinite_policy = nonfinite_policy_from_name(c.train.nonfinite_policy);
        const DeviceChoice dev = resolve_device(c.common.device);
        if (!dev.message.empty())
            message(MessageLevel::Warning, dev.message);
        q->m_device = dev.device;
        amp = q->m_device.is_cuda();
        apply_num_threads(c.common.num_threads);

        lr = make_lr_schedules(c.train);
        q->m_first_epoch = c.train.load.continue_train ? c.train.load.load_epoch + 1 : 1;
        q->m_last_epoch = lr.total_epochs();
        if (c.train.load.continue_train && c.train.load.load_epoch < 1)
            throw std::invalid_argument("train.load.load_epoch = " + std::to_string(c.train.load.load_epoch)
                + ": expected the epoch (>= 1) of a saved checkpoint");
        if (c.common.seed >= 0)
            torch::manual_seed(static_cast<uint64_t>(c.common.seed));
    }

    /// G, D, their Adam optimizers and loss scalers (the generator checks its input size first).
    void build_models(const Config& c)
    {
        UnetOptions go = unet_options_from_config(c);
        validate_unet_options(go);
        PatchGANOptions dopt = patchgan_options_from_config(c);
        validate_patchgan_options(dopt);
        if (patchgan_output_size(dopt, c.dataloader.load.crop_size) < 1)
            throw std::invalid_argument("dataloader.load.crop_size = " + std::to_string(c.dataloader.load.crop_size)
                + " is too small for the discriminator (train.discriminator.n_layers = " + std::to_string(dopt.n_layers)
                + ")");
        const torch::Device& device = q->m_device;
        gen = UnetGenerator(go);
        disc = PatchGAN(dopt);
        gen->to(device);
        disc->to(device);
        gen->train();
        disc->train();
        const auto& tg = c.train.generator;
        const auto& td = c.train.discriminator; // beta1 is per network; the LR comes from make_lr_schedules
        const int first = q->m_first_epoch;
        opt_g = std::make_unique<FusedAdam>(gen->parameters(),
            torch::optim::AdamOptions(lr.generator.lr_at(first)).betas({ tg.optimizer.beta1, 0.999 }));
        opt_d = std::make_unique<FusedAdam>(disc->parameters(),
            torch::optim::AdamOptions(lr.discriminator.lr_at(first)).betas({ td.optimizer.beta1, 0.999 }));
        scaler_g = std::make_unique<LossScaler>(amp, device);
        scaler_d = std::make_unique<LossScaler>(amp, device);
    }

    /// The experiment folder (before the LossManager, which logs into it).
    void prepare_folder(Config& c)
    {
        if (c.dataloader.dataroot.empty())
            throw std::invalid_argument(
                "dataloader.dataroot is empty: expected a folder with train/ (and val/, test/)");
        const ExperimentPaths paths = prepare_experiment_dir(c);
        q->m_experiment_dir = paths.dir;
        c.common.experiment_version = paths.version;
    }

    /// The spec's losses with the preset (or GUI table) applied, registered in a new LossManager.
    std::map<std::string, LMLoss> build_objective(const Config& c)
    {
        for (const auto& w : SpecRegistry::instance().load_default_directories())
            message(MessageLevel::Warning, w);
        auto built = SpecRegistry::instance().build(c.train.loss.spec, c.train.loss.subspec, c);
        if (preset)
            apply_preset_to_losses(*preset, built, preset->name.empty() ? "preset" : preset->name);
        lm = std::make_unique<LossManager>(c, q->m_experiment_dir, mode == Mode::Train, c.train.history_buffer_size);
        for (auto& [name, loss] : built) {
            if (loss.module)
                loss.module->to(q->m_device);
            lm->register_loss(loss);
        }
        current_epoch = q->m_first_epoch;
        refresh_losses();
        const bool any_g = std::any_of(losses.begin(), losses.end(), [](const ActiveLoss& l) { return l.in_g; });
        const bool any_d = std::any_of(losses.begin(), losses.end(), [](const ActiveLoss& l) { return l.in_d; });
        const std::string objective = c.train.loss.spec + "/" + c.train.loss.subspec;
        if (!any_g)
            throw std::invalid_argument(
                "objective " + objective + " has no G-tagged loss: nothing would train the generator");
        if (!any_d)
            message(MessageLevel::Warning,
                "objective " + objective + " has no D-tagged loss: the discriminator will not be trained");
        return built;
    }

    /// The train loader and the example loader (val split; else train without augmentation).
    void build_data(const Config& c)
    {
        train_loader = make_data_loader(c, "train");
        for (const auto& w : train_loader->dataset().warnings())
            message(MessageLevel::Warning, w);
        iterations_per_epoch = static_cast<std::int64_t>(train_loader->batches_per_epoch());
        if (!c.save.save_examples)
            return;
        Config ec = c;
        ec.dataloader.num_workers = 0;
        ec.dataloader.batch_size = 1;
        try {
            example_loader = make_data_loader(ec, "val");
        } catch (const DataError& e) {
            message(MessageLevel::Warning,
                std::string("no usable val split (") + e.what()
                    + "); examples come from the train split without augmentation");
            auto opts = dataset_options_from_config(ec, "train");
            opts.train = false;
            example_loader
                = std::make_unique<DataLoader>(std::make_shared<PairedDataset>(opts), 1, false, 0, c.common.seed);
        }
    }

    /// Loads the checkpoint of train.load.load_epoch: networks, optimizers, RNG, scalers, iteration count.
    void resume(const Config& c)
    {
        const std::string& dir = q->m_experiment_dir;
        CheckpointState st = load_checkpoint(dir, c.train.load.load_epoch, q->m_device, *gen, *opt_g, *disc, *opt_d);
        restore_rng_state(st, q->m_device);
        global_iteration = st.global_iteration;
        restore_scaler(*scaler_g, st.extra, "scaler_g");
        restore_scaler(*scaler_d, st.extra, "scaler_d");
        message(
            MessageLevel::Info, "continuing from the checkpoint of epoch " + std::to_string(st.epoch) + " in " + dir);
        const auto saved = list_checkpoint_epochs(dir);
        const auto latest = std::max_element(saved.begin(), saved.end());
        if (latest != saved.end() && *latest > st.epoch)
            message(MessageLevel::Warning,
                "checkpoints up to epoch " + std::to_string(*latest)
                    + " exist: the loss log keeps the values logged after epoch " + std::to_string(st.epoch)
                    + " and appends this run's after them; later checkpoints are overwritten as this run reaches their "
                      "epochs");
    }

    /// The config copy and, next to it, the objective this run trains: a continued run starts from it.
    void record_run(const Config& c, const std::map<std::string, LMLoss>& built)
    {
        const std::string config_copy = write_config_copy(c, q->m_experiment_dir);
        objective_record = preset_from_losses(c.train.loss.spec, c.train.loss.subspec, built);
        objective_path = objective_copy_path(config_copy);
        objective_record.name = fs::path(objective_path).filename().string();
        objective_record.description = "the objective trained by the run that wrote "
            + fs::path(config_copy).filename().string()
            + (preset && !preset->name.empty() ? " (from " + preset->name + ")" : std::string());
        save_preset_file(objective_record, objective_path);
        lm->set_log_metadata(q->m_device.str(), c.dataloader.dataroot, static_cast<std::int64_t>(train_loader->size()));
    }
};

Pix2pixTrainer::Pix2pixTrainer(
    Config config, TrainingObserver* observer, TrainingControl* control, const Preset* preset, Mode mode)
    : d(std::make_unique<Impl>())
    , m_config(std::move(config))
{
    d->q = this;
    d->observer = observer;
    d->control = control;
    if (preset)
        d->preset = *preset;
    d->mode = mode;
    d->reporter = std::make_unique<ProgressReporter>(observer);
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

void Pix2pixTrainer::setup()
{
    if (d->is_setup)
        return;
    Config& c = m_config;
    validate_config(c);
    d->setup_device_and_plan(c);
    d->build_models(c);
    if (d->mode == Mode::Train)
        d->prepare_folder(c);
    const auto built = d->build_objective(c);
    if (d->mode == Mode::Train) {
        d->build_data(c);
        if (c.train.load.continue_train)
            d->resume(c);
        d->record_run(c, built);
    }
    d->is_setup = true;
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
        s.update(
            loss_d, d_losses, "discriminator loss", *s.disc, *s.opt_d, *s.scaler_d, "D_backward", "D_optimizer", t);
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
        if (loss_g.defined())
            s.update(loss_g, g_losses, "generator loss", *s.gen, *s.opt_g, *s.scaler_g, "G_backward", "G_optimizer", t);
    } catch (...) {
        restore();
        throw;
    }
    restore();

    ++s.global_iteration;
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
    if (epoch - 1 >= 1 && m_config.save.save_model) {
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
    info.first_epoch = m_first_epoch;
    info.last_epoch = m_last_epoch;
    info.iterations_per_epoch = s.iterations_per_epoch;
    for (const auto& l : s.losses) {
        info.loss_names.push_back(l.name);
        info.loss_tags[l.name] = l.tags;
    }
    if (s.observer)
        s.observer->on_run_started(info);
    if (m_first_epoch > m_last_epoch)
        s.message(MessageLevel::Info,
            "nothing to train: epoch " + std::to_string(m_first_epoch - 1) + " is the last epoch of the plan ("
                + std::to_string(m_last_epoch) + ")");

    EpochLoopResult loop;
    try {
        loop = run_epochs(m_first_epoch, m_last_epoch, *s.train_loader, s.control, m_device);
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
