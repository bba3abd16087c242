// SPDX-License-Identifier: Apache-2.0
#include "training/pix2pix_trainer.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <sstream>

#include <ATen/autocast_mode.h>

#include "data/data_loader.h"
#include "data/paired_dataset.h"
#include "io/image_io.h"
#include "losses/loss_manager.h"
#include "models/patchgan.h"
#include "models/unet.h"
#include "objective/preset.h"
#include "objective/spec_registry.h"
#include "training/checkpoint.h"
#include "training/device.h"
#include "training/experiment.h"
#include "training/fused_adam.h"
#include "training/loss_scaler.h"
#include "util/torch_compat.h"

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

std::string join(const std::vector<std::string>& v, const std::string& sep = ", ")
{
    std::string s;
    for (size_t i = 0; i < v.size(); ++i)
        s += (i ? sep : "") + v[i];
    return s;
}

/// Enables CUDA float16 autocast for a scope (no-op on CPU).
class AutocastScope {
public:
    explicit AutocastScope(bool on)
        : m_on(on)
    {
        if (m_on) {
            m_prev = compat::autocast_enabled(at::kCUDA);
            compat::set_autocast_enabled(at::kCUDA, true);
        }
    }
    ~AutocastScope()
    {
        if (m_on) {
            compat::set_autocast_enabled(at::kCUDA, m_prev);
            if (!m_prev)
                at::autocast::clear_cache();
        }
    }

private:
    bool m_on;
    bool m_prev = false;
};

/// A loss of the active objective as the trainer sees it (refreshed at epoch start and after live edits).
struct ActiveLoss {
    std::string name;
    std::vector<std::string> tags;
    LossInputs inputs;
    double weight = 1.0; ///< weight at the current epoch
    bool in_d = false, in_g = false;
};

/// Detached weighted values of one loss since the last report (kept on the device until then).
struct PendingSeries {
    std::vector<std::int64_t> iterations;
    std::vector<torch::Tensor> weighted;
    std::vector<float> weights;
};

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
    std::string nonfinite_policy = "stop";

    std::vector<ActiveLoss> losses;
    std::vector<std::string> all_loss_names;
    int current_epoch = 1;
    double lr_g = 0.0, lr_d = 0.0;
    std::int64_t global_iteration = 0; // over all runs (from checkpoints)
    std::int64_t run_iterations = 0; // in this run() call
    std::int64_t epoch_iteration = 0; // 1-based index of the last iteration in the epoch
    std::int64_t iterations_per_epoch = 0;
    std::int64_t skipped_steps = 0;
    Clock::time_point run_start;
    Clock::time_point epoch_start;

    // reporting
    std::map<std::string, PendingSeries> pending;
    std::map<std::string, double> epoch_sum; // raw values summed over the epoch (host)
    std::map<std::string, std::int64_t> epoch_count;
    std::int64_t since_report = 0;
    torch::Tensor last_x, last_fake, last_y; // detached, for preview images
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
        all_loss_names.clear();
        for (const auto& [name, l] : lm->get_registered_losses({}, true)) {
            ActiveLoss a;
            a.name = name;
            a.tags = l.tags;
            a.inputs = l.inputs;
            a.weight = l.weight_at(current_epoch);
            a.in_d = l.has_tag("D");
            a.in_g = l.has_tag("G");
            losses.push_back(a);
            all_loss_names.push_back(name);
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

    /// Operand tensors of one step; D_fake/D_real are computed lazily.
    struct Operands {
        const torch::Tensor* x;
        const torch::Tensor* y;
        torch::Tensor fake;
        torch::Tensor d_fake, d_real;
        bool detach_fake = false;
    };

    torch::Tensor operand(Operand op, Operands& o, bool& needs_other_shape)
    {
        needs_other_shape = false;
        switch (op) {
        case Operand::Input:
            return *o.x;
        case Operand::Real:
            return *o.y;
        case Operand::Fake:
            return o.detach_fake ? o.fake.detach() : o.fake;
        case Operand::DFake:
            if (!o.d_fake.defined())
                o.d_fake = disc->forward(*o.x, o.detach_fake ? o.fake.detach() : o.fake);
            return o.d_fake;
        case Operand::DReal:
            if (!o.d_real.defined()) {
                if (o.detach_fake) {
                    o.d_real = disc->forward(*o.x, *o.y);
                } else {
                    // A G loss on D(x, real) has no gradient w.r.t. G: skip building a graph.
                    torch::NoGradGuard no_grad;
                    o.d_real = disc->forward(*o.x, *o.y);
                }
            }
            return o.d_real;
        case Operand::Ones:
        case Operand::Zeros:
            needs_other_shape = true;
            return {};
        }
        return {};
    }

    torch::Tensor compute(const ActiveLoss& l, Operands& o)
    {
        bool pred_fill = false, target_fill = false;
        torch::Tensor pred = operand(l.inputs.prediction, o, pred_fill);
        torch::Tensor target = operand(l.inputs.target, o, target_fill);
        auto fill = [](Operand op, const torch::Tensor& like) {
            return op == Operand::Ones ? torch::ones_like(like) : torch::zeros_like(like);
        };
        if (pred_fill && target_fill)
            throw std::invalid_argument("loss \"" + l.name + "\": inputs (" + operand_name(l.inputs.prediction) + ", "
                + operand_name(l.inputs.target) + ") give no shape: at most one operand may be ones/zeros");
        if (pred_fill)
            pred = fill(l.inputs.prediction, target);
        if (target_fill)
            target = fill(l.inputs.target, pred);
        torch::Tensor v = lm->compute_loss_xy(l.name, pred, target, current_epoch);
        if (v.numel() != 1)
            v = v.mean();
        auto& p = pending[l.name];
        p.iterations.push_back(global_iteration);
        p.weighted.push_back(v.detach().reshape({}));
        p.weights.push_back(static_cast<float>(l.weight));
        return v;
    }

    [[noreturn]] void throw_nonfinite(const std::vector<const ActiveLoss*>& group, const std::string& total_name)
    {
        // Rare path: find the culprit (one sync per loss is fine here).
        for (const ActiveLoss* l : group) {
            const auto& p = pending[l->name];
            if (p.weighted.empty())
                continue;
            const float v = p.weighted.back().item<float>();
            if (!std::isfinite(v)) {
                std::ostringstream s;
                s << "non-finite loss: " << l->name << " = " << v << " (tags " << join(l->tags) << ") at epoch "
                  << current_epoch << ", iteration " << epoch_iteration
                  << "; training stopped before the optimizer step (train.nonfinite_policy = \"stop\")";
                throw NonFiniteLossError(s.str(), l->name, l->tags, current_epoch, epoch_iteration);
            }
        }
        std::ostringstream s;
        s << "non-finite " << total_name << " at epoch " << current_epoch << ", iteration " << epoch_iteration;
        throw NonFiniteLossError(s.str(), total_name, {}, current_epoch, epoch_iteration);
    }

    /// Returns false if the step must be skipped (policy "skip").
    bool check_finite(const torch::Tensor& total, const std::vector<const ActiveLoss*>& group, const std::string& what)
    {
        if (nonfinite_policy == "ignore")
            return true;
        if (std::isfinite(total.item<float>()))
            return true;
        if (nonfinite_policy == "skip") {
            ++skipped_steps;
            message(MessageLevel::Warning,
                "non-finite " + what + " at epoch " + std::to_string(current_epoch) + ", iteration "
                    + std::to_string(epoch_iteration) + ": optimizer step skipped (train.nonfinite_policy = \"skip\")");
            return false;
        }
        throw_nonfinite(group, what);
    }

    void add_phase(const char* name, Clock::time_point& t)
    {
        const auto now = Clock::now();
        phase_total[name] += std::chrono::duration<double>(now - t).count();
        t = now;
    }

    /// Moves pending values to the host (one sync), builds and sends a report.
    void report(bool with_images)
    {
        std::vector<torch::Tensor> all;
        for (auto& [name, p] : pending)
            all.insert(all.end(), p.weighted.begin(), p.weighted.end());
        std::vector<float> host;
        if (!all.empty()) {
            auto t = torch::stack(all).to(torch::kCPU, torch::kFloat32).contiguous();
            host.assign(t.data_ptr<float>(), t.data_ptr<float>() + t.numel());
        }
        ProgressReport r;
        r.epoch = current_epoch;
        r.first_epoch = q->m_first_epoch;
        r.last_epoch = q->m_last_epoch;
        r.iteration = epoch_iteration;
        r.iterations_per_epoch = iterations_per_epoch;
        r.global_iteration = run_iterations;
        r.lr_g = lr_g;
        r.lr_d = lr_d;
        size_t k = 0;
        std::map<std::string, LossSeriesChunk> chunks;
        for (auto& [name, p] : pending) {
            LossSeriesChunk c;
            c.name = name;
            c.iterations = p.iterations;
            c.weights = p.weights;
            for (size_t i = 0; i < p.weighted.size(); ++i, ++k) {
                const float w = p.weights[i];
                const float raw = w != 0.0f ? host[k] / w : host[k];
                c.raw.push_back(raw);
                epoch_sum[name] += raw;
                epoch_count[name] += 1;
            }
            chunks[name] = std::move(c);
            p = PendingSeries {};
        }
        for (const auto& l : losses) {
            auto it = chunks.find(l.name);
            LossSeriesChunk c = it != chunks.end() ? std::move(it->second) : LossSeriesChunk {};
            c.name = l.name;
            c.tags = l.tags;
            c.enabled = l.weight != 0.0 && (l.in_d || l.in_g);
            r.losses.push_back(std::move(c));
        }
        const double elapsed = seconds_since(run_start);
        r.elapsed_seconds = elapsed;
        r.iterations_per_second = elapsed > 0 ? run_iterations / elapsed : 0.0;
        const std::int64_t total = iterations_per_epoch * (q->m_last_epoch - q->m_first_epoch + 1);
        const std::int64_t left = std::max<std::int64_t>(0, total - run_iterations);
        r.eta_seconds = run_iterations > 0 ? elapsed / run_iterations * left : 0.0;
        r.phase_seconds = q->phase_seconds();
        if (with_images && last_x.defined()) {
            r.example_input = tensor_to_rgb(last_x[0]);
            r.example_generated = tensor_to_rgb(last_fake[0]);
            r.example_target = tensor_to_rgb(last_y[0]);
        }
        since_report = 0;
        if (observer)
            observer->on_progress(r);
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

    CheckpointState checkpoint_state(int epoch)
    {
        CheckpointState st;
        st.epoch = epoch;
        st.global_iteration = global_iteration;
        st.lr_g = lr_g;
        st.lr_d = lr_d;
        capture_rng_state(st, q->m_device);
        auto [sg, tg] = scaler_g->state();
        auto [sd, td] = scaler_d->state();
        st.extra["scaler_g"] = { { "scale", sg }, { "growth_tracker", tg } };
        st.extra["scaler_d"] = { { "scale", sd }, { "growth_tracker", td } };
        st.extra["partial_epoch"] = epoch_iteration < iterations_per_epoch;
        st.extra["iterations_in_epoch"] = epoch_iteration;
        st.extra["loss_weights"] = lm->get_loss_weights({}, -1);
        return st;
    }

    void save_checkpoint(int epoch)
    {
        save_checkpoint_files(q->m_experiment_dir, checkpoint_state(epoch));
        checkpoints_saved.push_back(epoch);
    }

    void save_checkpoint_files(const std::string& dir, const CheckpointState& st)
    {
        nectar::save_checkpoint(dir, st, *gen, *opt_g, *disc, *opt_d);
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
    d->nonfinite_policy = c.train.nonfinite_policy;
    if (d->nonfinite_policy != "stop" && d->nonfinite_policy != "skip" && d->nonfinite_policy != "ignore")
        throw std::invalid_argument(
            "train.nonfinite_policy = \"" + d->nonfinite_policy + "\": expected \"stop\", \"skip\" or \"ignore\"");

    // Device and threads.
    const DeviceChoice dev = resolve_device(c.common.device);
    if (!dev.message.empty())
        d->message(MessageLevel::Warning, dev.message);
    m_device = dev.device;
    d->amp = m_device.is_cuda();
    apply_num_threads(c.common.num_threads);

    // LR plan.
    d->lr = make_lr_schedules(c.train);
    m_first_epoch = c.train.load.continue_train ? c.train.load.load_epoch + 1 : 1;
    m_last_epoch = d->lr.total_epochs();
    if (c.train.load.continue_train && c.train.load.load_epoch < 1)
        throw std::invalid_argument("train.load.load_epoch = " + std::to_string(c.train.load.load_epoch)
            + ": expected the epoch (>= 1) of a saved checkpoint");

    if (c.common.seed >= 0)
        torch::manual_seed(static_cast<uint64_t>(c.common.seed));

    // Models (the generator checks its input size before building anything).
    UnetOptions go = unet_options_from_config(c);
    validate_unet_options(go);
    PatchGANOptions dopt = patchgan_options_from_config(c);
    validate_patchgan_options(dopt);
    if (patchgan_output_size(dopt, c.dataloader.load.crop_size) < 1)
        throw std::invalid_argument("dataloader.load.crop_size = " + std::to_string(c.dataloader.load.crop_size)
            + " is too small for the discriminator (train.discriminator.n_layers = " + std::to_string(dopt.n_layers)
            + ")");
    d->gen = UnetGenerator(go);
    d->disc = PatchGAN(dopt);
    d->gen->to(m_device);
    d->disc->to(m_device);
    d->gen->train();
    d->disc->train();
    const auto& tg = c.train.generator;
    const auto& td = c.train.discriminator; // beta1 is per network; the LR comes from make_lr_schedules
    d->opt_g = std::make_unique<FusedAdam>(d->gen->parameters(),
        torch::optim::AdamOptions(d->lr.generator.lr_at(m_first_epoch)).betas({ tg.optimizer.beta1, 0.999 }));
    d->opt_d = std::make_unique<FusedAdam>(d->disc->parameters(),
        torch::optim::AdamOptions(d->lr.discriminator.lr_at(m_first_epoch)).betas({ td.optimizer.beta1, 0.999 }));
    d->scaler_g = std::make_unique<LossScaler>(d->amp, m_device);
    d->scaler_d = std::make_unique<LossScaler>(d->amp, m_device);

    // Experiment folder (before the LossManager, which logs into it).
    if (d->mode == Mode::Train) {
        if (c.dataloader.dataroot.empty())
            throw std::invalid_argument(
                "dataloader.dataroot is empty: expected a folder with train/ (and val/, test/)");
        const ExperimentPaths paths = prepare_experiment_dir(c);
        m_experiment_dir = paths.dir;
        c.common.experiment_version = paths.version;
    }

    // Objective.
    const auto spec_warnings = SpecRegistry::instance().load_default_directories();
    for (const auto& w : spec_warnings)
        d->message(MessageLevel::Warning, w);
    auto built = SpecRegistry::instance().build(c.train.loss.spec, c.train.loss.subspec, c);
    if (d->preset)
        apply_preset_to_losses(*d->preset, built, d->preset->name.empty() ? "preset" : d->preset->name);
    d->lm = std::make_unique<LossManager>(c, m_experiment_dir, d->mode == Mode::Train, c.train.history_buffer_size);
    for (auto& [name, loss] : built) {
        if (loss.module)
            loss.module->to(m_device);
        d->lm->register_loss(loss);
    }
    d->current_epoch = m_first_epoch;
    d->refresh_losses();
    bool any_d = false, any_g = false;
    for (const auto& l : d->losses) {
        any_d = any_d || l.in_d;
        any_g = any_g || l.in_g;
    }
    if (!any_g)
        throw std::invalid_argument("objective " + c.train.loss.spec + "/" + c.train.loss.subspec
            + " has no G-tagged loss: nothing would train the generator");
    if (!any_d)
        d->message(MessageLevel::Warning,
            "objective " + c.train.loss.spec + "/" + c.train.loss.subspec
                + " has no D-tagged loss: the discriminator will not be trained");

    if (d->mode == Mode::Train) {
        // Data (errors name the folder / file).
        d->train_loader = make_data_loader(c, "train");
        for (const auto& w : d->train_loader->dataset().warnings())
            d->message(MessageLevel::Warning, w);
        d->iterations_per_epoch = static_cast<std::int64_t>(d->train_loader->batches_per_epoch());
        if (c.save.save_examples) {
            Config ec = c;
            ec.dataloader.num_workers = 0;
            ec.dataloader.batch_size = 1;
            try {
                d->example_loader = make_data_loader(ec, "val");
            } catch (const DataError& e) {
                d->message(MessageLevel::Warning,
                    std::string("no usable val split (") + e.what()
                        + "); examples come from the train split without augmentation");
                auto opts = dataset_options_from_config(ec, "train");
                opts.train = false;
                d->example_loader
                    = std::make_unique<DataLoader>(std::make_shared<PairedDataset>(opts), 1, false, 0, c.common.seed);
            }
        }

        // Continue from a checkpoint.
        if (c.train.load.continue_train) {
            CheckpointState st = load_checkpoint(
                m_experiment_dir, c.train.load.load_epoch, m_device, *d->gen, *d->opt_g, *d->disc, *d->opt_d);
            restore_rng_state(st, m_device);
            d->global_iteration = st.global_iteration;
            if (st.extra.contains("scaler_g"))
                d->scaler_g->set_state(st.extra["scaler_g"].value("scale", 65536.0),
                    st.extra["scaler_g"].value("growth_tracker", std::int64_t(0)));
            if (st.extra.contains("scaler_d"))
                d->scaler_d->set_state(st.extra["scaler_d"].value("scale", 65536.0),
                    st.extra["scaler_d"].value("growth_tracker", std::int64_t(0)));
            d->message(MessageLevel::Info,
                "continuing from the checkpoint of epoch " + std::to_string(st.epoch) + " in " + m_experiment_dir);
            const auto saved = list_checkpoint_epochs(m_experiment_dir);
            const auto latest = std::max_element(saved.begin(), saved.end());
            if (latest != saved.end() && *latest > st.epoch)
                d->message(MessageLevel::Warning,
                    "checkpoints up to epoch " + std::to_string(*latest)
                        + " exist: the loss log keeps the values "
                          "logged after epoch "
                        + std::to_string(st.epoch)
                        + " and appends this run's after them; "
                          "later checkpoints are overwritten as this run reaches their epochs");
        }
        // The objective this run trains, next to its config copy: a continued run starts from it.
        const std::string config_copy = write_config_copy(c, m_experiment_dir);
        d->objective_record = preset_from_losses(c.train.loss.spec, c.train.loss.subspec, built);
        d->objective_path = objective_copy_path(config_copy);
        d->objective_record.name = fs::path(d->objective_path).filename().string();
        d->objective_record.description = "the objective trained by the run that wrote "
            + fs::path(config_copy).filename().string()
            + (d->preset && !d->preset->name.empty() ? " (from " + d->preset->name + ")" : std::string());
        save_preset_file(d->objective_record, d->objective_path);
        std::int64_t dataset_length = static_cast<std::int64_t>(d->train_loader->size());
        d->lm->set_log_metadata(m_device.str(), c.dataloader.dataroot, dataset_length);
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
    d->epoch_sum.clear();
    d->epoch_count.clear();
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

    Impl::Operands o { &x, &y, {}, {}, {}, false };
    {
        AutocastScope ac(s.amp);
        o.fake = s.gen->forward(x);
    }
    s.add_phase("G_forward", t);

    // --- D step ---
    if (!d_losses.empty()) {
        o.detach_fake = true;
        torch::Tensor loss_d;
        {
            AutocastScope ac(s.amp);
            bool need_real = false, need_fake = false;
            for (const ActiveLoss* l : d_losses)
                for (Operand op : { l->inputs.prediction, l->inputs.target }) {
                    need_real = need_real || op == Operand::DReal;
                    need_fake = need_fake || op == Operand::DFake;
                }
            if (need_real && need_fake) {
                // One D pass on the stacked real and fake pairs: InstanceNorm and the patch logits are
                // per sample, so this equals two passes, with larger, faster convolutions.
                const auto n = x.size(0);
                auto both = s.disc->forward(torch::cat({ x, x }), torch::cat({ y, o.fake.detach() }));
                o.d_real = both.narrow(0, 0, n);
                o.d_fake = both.narrow(0, n, n);
            }
            for (const ActiveLoss* l : d_losses) {
                auto v = s.compute(*l, o);
                loss_d = loss_d.defined() ? loss_d + v : v;
            }
            // NectarGAN: (D_real + D_fake) * 0.5, i.e. the mean of the D losses.
            if (d_losses.size() > 1)
                loss_d = loss_d * (1.0 / static_cast<double>(d_losses.size()));
        }
        s.add_phase("D_forward", t);
        if (s.check_finite(loss_d, d_losses, "discriminator loss")) {
            s.disc->zero_grad(/*set_to_none=*/true);
            if (s.amp) {
                s.scaler_d->backward_and_step(loss_d, *s.opt_d);
                s.add_phase("D_backward", t);
            } else {
                loss_d.backward();
                s.add_phase("D_backward", t);
                s.opt_d->step();
                s.add_phase("D_optimizer", t);
            }
        }
    }

    // --- G step ---
    o.detach_fake = false;
    o.d_fake = torch::Tensor();
    o.d_real = torch::Tensor();
    set_requires_grad(*s.disc, false);
    torch::Tensor loss_g;
    try {
        {
            AutocastScope ac(s.amp);
            for (const ActiveLoss* l : g_losses) {
                auto v = s.compute(*l, o);
                loss_g = loss_g.defined() ? loss_g + v : v;
            }
        }
        s.add_phase("G_loss_forward", t);
        if (loss_g.defined() && s.check_finite(loss_g, g_losses, "generator loss")) {
            s.gen->zero_grad(/*set_to_none=*/true);
            if (s.amp) {
                s.scaler_g->backward_and_step(loss_g, *s.opt_g);
                s.add_phase("G_backward", t);
            } else {
                loss_g.backward();
                s.add_phase("G_backward", t);
                s.opt_g->step();
                s.add_phase("G_optimizer", t);
            }
        }
    } catch (...) {
        set_requires_grad(*s.disc, true);
        throw;
    }
    set_requires_grad(*s.disc, true);

    ++s.global_iteration;
    ++s.run_iterations;
    ++s.phase_iterations;
    ++s.since_report;
    const int rate = std::max(1, m_config.train.update_rate);
    if (s.observer && s.since_report >= rate) {
        s.last_x = x.detach();
        s.last_fake = o.fake.detach();
        s.last_y = y.detach();
        s.report(true);
        s.add_phase("report", t);
    } else if (!s.observer && s.since_report >= 256) {
        // Nobody listens: still move values off the device now and then so memory stays bounded.
        for (auto& [name, p] : s.pending)
            p = PendingSeries {};
        s.since_report = 0;
    }
}

void Pix2pixTrainer::on_epoch_end(int epoch, bool stopped)
{
    Impl& s = *d;
    s.report(false);
    EpochSummary sum;
    sum.epoch = epoch;
    sum.seconds = seconds_since(s.epoch_start);
    sum.lr_g = s.lr_g;
    sum.lr_d = s.lr_d;
    sum.stopped = stopped;
    sum.iterations = s.epoch_iteration;
    sum.iterations_per_epoch = s.iterations_per_epoch;
    for (const auto& [name, total] : s.epoch_sum)
        sum.mean_raw_loss[name] = total / static_cast<double>(std::max<std::int64_t>(1, s.epoch_count[name]));
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

    bool stopped = false;
    // A stop before `epoch` trained anything: the previous epoch is the last one; make sure it has a
    // checkpoint and that loss_log.json is exported (periodic dumps only append to the journal).
    const auto finish_stopped_before = [&](int epoch) {
        if (epoch - 1 >= 1 && m_config.save.save_model) {
            const auto existing = list_checkpoint_epochs(m_experiment_dir);
            if (std::find(existing.begin(), existing.end(), epoch - 1) == existing.end())
                s.save_checkpoint(epoch - 1);
        }
        s.dump_log();
    };
    try {
        for (int epoch = m_first_epoch; epoch <= m_last_epoch && !stopped; ++epoch) {
            if (s.control && s.control->stop_requested()) {
                stopped = true;
                finish_stopped_before(epoch);
                break;
            }
            on_epoch_start(epoch);
            s.train_loader->begin_epoch(epoch);
            std::int64_t idx = 0;
            auto t = Clock::now();
            while (auto batch = s.train_loader->next()) {
                s.add_phase("data", t);
                s.apply_edits();
                if (s.control && (!s.control->wait_while_paused() || s.control->stop_requested())) {
                    stopped = true;
                    break;
                }
                const auto x = batch->a.to(m_device, /*non_blocking=*/true);
                const auto y = batch->b.to(m_device, /*non_blocking=*/true);
                train_step(x, y, idx++);
                t = Clock::now();
            }
            if (stopped) {
                s.train_loader->stop();
                if (idx == 0) {
                    finish_stopped_before(epoch);
                    break;
                }
            }
            on_epoch_end(epoch, stopped);
            result.last_epoch_completed = epoch;
        }
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
    result.stopped = stopped;
    result.iterations = s.run_iterations;
    result.checkpoints_saved = s.checkpoints_saved;
    if (s.observer)
        s.observer->on_run_finished(stopped);
    return result;
}

} // namespace nectar
