// SPDX-License-Identifier: Apache-2.0
// Pix2pixTrainer::setup() and its phases: device and LR plan, models, the experiment folder's name, objective,
// data, resume from a checkpoint, then the folder and the run's record (config copy + objective) in it.
#include <algorithm>
#include <filesystem>
#include <limits>

#include "data/paired_dataset.h"
#include "losses/loss_log.h"
#include "objective/objective.h"
#include "objective/spec_registry.h"
#include "training/device.h"
#include "training/experiment.h"
#include "training/pix2pix_trainer_impl.h"
#include "util/paths.h"

namespace fs = std::filesystem;

namespace nectar {

using namespace detail;

void Pix2pixTrainer::Impl::setup_device_and_plan(Config& c)
{
    nonfinite_policy = c.train.nonfinite_policy;
    if (dist) {
        q->m_device = dist->device(); // chosen per local rank by the caller (the backend needs it)
    } else {
        const DeviceChoice dev = resolve_device(c.common.device);
        if (!dev.message.empty())
            message(MessageLevel::Warning, dev.message);
        q->m_device = dev.device;
    }
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

void Pix2pixTrainer::Impl::build_models(const Config& c)
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
    opt_g = std::make_unique<FusedAdam>(
        gen->parameters(), torch::optim::AdamOptions(lr.generator.lr_at(first)).betas({ tg.optimizer.beta1, 0.999 }));
    opt_d = std::make_unique<FusedAdam>(disc->parameters(),
        torch::optim::AdamOptions(lr.discriminator.lr_at(first)).betas({ td.optimizer.beta1, 0.999 }));
    scaler_g = std::make_unique<LossScaler>(amp, device);
    scaler_d = std::make_unique<LossScaler>(amp, device);
}

void Pix2pixTrainer::Impl::plan_folder(Config& c)
{
    if (c.dataloader.dataroot.empty())
        throw std::invalid_argument("dataloader.dataroot is empty: expected a folder with train/ (and val/, test/)");
    if (!dist || dist->rank() == 0)
        folder = plan_experiment_dir(c);
    if (dist) {
        // Rank 0 chooses (and later creates) the folder; the others must not pick a version of their own.
        folder.dir = dist->share_from_rank0("experiment_dir", folder.dir);
        folder.version = parse_experiment_folder(folder.dir).value().version; // <name>_v<N>: rank 0 planned it
        folder.examples = (fs::path(folder.dir) / "examples").string();
    }
    q->m_experiment_dir = folder.dir;
    c.common.experiment_version = folder.version;
}

void Pix2pixTrainer::Impl::build_objective(const Config& c)
{
    if (!objective) {
        for (const auto& w : SpecRegistry::instance().load_default_directories())
            message(MessageLevel::Warning, w);
        objective = resolve_objective(c);
    }
    auto built = build_losses(objective->losses, c);
    lm = std::make_unique<LossManager>(
        c, q->m_experiment_dir, mode == Mode::Train && writer(), c.train.history_buffer_size);
    for (auto& [name, loss] : built) {
        if (loss.module)
            loss.module->to(q->m_device);
        lm->register_loss(loss);
    }
    if (dist) {
        // Values are averaged across ranks in each sync: the ranks sync together, at the update rate only.
        lm->set_sync_interval(std::numeric_limits<int>::max());
        lm->set_value_reducer([this](torch::Tensor& t) {
            dist->allreduce_sum(t);
            t.div_(static_cast<double>(dist->world_size()));
        });
    }
    // Data-parallel: every rank reports (the syncs inside a report are collectives); only rank 0's is seen.
    TrainingObserver* shown = dist && !(writer() && observer) ? &quiet : observer;
    reporter = std::make_unique<ProgressReporter>(shown, *lm);
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
}

void Pix2pixTrainer::Impl::build_data(const Config& c)
{
    train_loader = make_data_loader(c, "train");
    for (const auto& w : train_loader->dataset().warnings())
        message(MessageLevel::Warning, w);
    if (dist)
        train_loader->set_shard(dist->rank(), dist->world_size());
    iterations_per_epoch = static_cast<std::int64_t>(train_loader->batches_per_epoch());
    if (!c.save.save_examples || !writer())
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

void Pix2pixTrainer::Impl::resume(const Config& c)
{
    const std::string& dir = q->m_experiment_dir;
    CheckpointState st = load_checkpoint(dir, c.train.load.load_epoch, q->m_device, *gen, *opt_g, *disc, *opt_d);
    restore_rng_state(st, q->m_device);
    global_iteration = st.global_iteration;
    restore_scaler(*scaler_g, st.extra, "scaler_g");
    restore_scaler(*scaler_d, st.extra, "scaler_d");
    message(MessageLevel::Info,
        "continuing from the checkpoint of epoch " + std::to_string(st.epoch) + " in " + display_path(dir));
    // Before anything trains: a loss log that cannot be continued is refused (LossLogError), values logged
    // after this checkpoint become a superseded segment.
    if (writer())
        for (const auto& note : LossLog::prepare_continue(dir, st.epoch, st.global_iteration, new_log))
            message(MessageLevel::Warning, note);
    lm->set_log_position(st.epoch, st.global_iteration);
    const auto saved = list_checkpoint_epochs(dir);
    const auto latest = std::max_element(saved.begin(), saved.end());
    if (latest != saved.end() && *latest > st.epoch)
        message(MessageLevel::Warning,
            "checkpoints up to epoch " + std::to_string(*latest) + " exist: they are overwritten as this run reaches "
                + "their epochs");
}

void Pix2pixTrainer::Impl::record_run(const Config& c)
{
    const std::string config_copy = write_config_copy(c, q->m_experiment_dir);
    objective_record = nectar::objective_record(*objective);
    objective_path = objective_copy_path(config_copy);
    objective_record.name = fs::path(objective_path).filename().string();
    objective_record.description = "the objective trained by the run that wrote "
        + fs::path(config_copy).filename().string()
        + (objective->source.empty() ? std::string() : " (from " + display_path(objective->source) + ")");
    save_preset_file(objective_record, objective_path);
    // JSON holds UTF-8 only: a dataroot that is not UTF-8 is recorded as display_path (\xNN).
    lm->set_log_metadata(
        q->m_device.str(), display_path(c.dataloader.dataroot), static_cast<std::int64_t>(train_loader->size()));
}

void Pix2pixTrainer::Impl::setup_distributed()
{
    // As DistributedDataParallel's constructor: rank 0's parameters and buffers everywhere (a run with
    // seed -1, or any other difference, still starts identical; a resumed one already is).
    torch::NoGradGuard no_grad;
    for (torch::nn::Module* net :
        { static_cast<torch::nn::Module*>(gen.get()), static_cast<torch::nn::Module*>(disc.get()) }) {
        for (auto& p : net->parameters()) {
            auto t = p.detach();
            dist->broadcast(t);
        }
        for (auto& b : net->buffers()) {
            auto t = b.detach();
            dist->broadcast(t);
        }
    }
    constexpr std::size_t bucket_bytes = 4u << 20;
    sync_g = std::make_unique<GradientSync>(*dist, gen->parameters(), bucket_bytes, overlap_allreduce);
    sync_d = std::make_unique<GradientSync>(*dist, disc->parameters(), bucket_bytes, overlap_allreduce);
    const auto devices = dist->all_gather_text("device", q->m_device.str());
    if (writer())
        lm->set_log_world(dist->world_size(), dist_backend_name(dist->backend()), devices);
}

void Pix2pixTrainer::setup()
{
    if (d->is_setup)
        return;
    Config& c = m_config;
    validate_config(c);
    d->setup_device_and_plan(c);
    d->build_models(c);
    // Pre-flight first: the folder is only chosen here and created once the models, the objective (e.g.
    // VGG19 weights), the data and the checkpoint to continue from have loaded, so a failed start leaves
    // no empty <name>_v<N> behind and does not use up a version.
    if (d->mode == Mode::Train)
        d->plan_folder(c);
    d->build_objective(c);
    if (d->mode == Mode::Train) {
        d->build_data(c);
        if (c.train.load.continue_train)
            d->resume(c);
        if (d->writer()) {
            create_experiment_dir(d->folder);
            d->record_run(c);
        }
    }
    if (d->dist)
        d->setup_distributed();
    d->is_setup = true;
}

} // namespace nectar
