// SPDX-License-Identifier: Apache-2.0
/// nectar-train: headless pix2pix training (NectarGAN `scripts/train.py` / `start/training/paired.py`).
/// Exit codes: 0 success (also after a Ctrl-C stop that saved its checkpoint), 1 training failure,
/// 2 bad input (message on stderr).

#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>
#include <set>

#include <QCommandLineParser>
#include <QCoreApplication>

#include "cli_common.h"
#include "config/config.h"
#include "distributed/dist_context.h"
#include "launcher.h"
#include "objective/objective.h"
#include "objective/preset.h"
#include "objective/spec_registry.h"
#include "training/data_parallel.h"
#include "training/experiment.h"
#include "training/pix2pix_trainer.h"
#include "util/allocator.h"
#include "util/paths.h"

namespace fs = std::filesystem;
using namespace nectar;
using namespace nectar::cli;

namespace {

/// Settings used without --config: the bundled photo-colorize sample, sized to train in a few minutes
/// on 2 CPU cores (5 epochs of 68 iterations at 128 px).
Config default_config()
{
    Config c;
    c.common.output_directory = "nectar-runs";
    c.common.experiment_name = "photo-colorize";
    c.dataloader.dataroot = find_sample_dataset();
    c.dataloader.load.load_size = 143;
    c.dataloader.load.crop_size = 128;
    c.train.generator.features = 32;
    c.train.generator.n_downs = 5;
    c.train.discriminator.base_channels = 32;
    for (auto* lr : { &c.train.generator.learning_rate, &c.train.discriminator.learning_rate }) {
        lr->epochs = 3;
        lr->epochs_decay = 2;
    }
    c.save.model_save_rate = 5;
    c.train.update_rate = 5;
    return c;
}

int list_specs()
{
    auto& reg = SpecRegistry::instance();
    for (const auto& w : reg.load_default_directories())
        std::cerr << "warning: " << w << "\n";
    nlohmann::json out = nlohmann::json::array();
    for (const auto& name : reg.names()) {
        const auto& info = reg.info(name);
        std::cout << name << "  [" << info.source << "]  subspecs:";
        for (const auto& s : info.subspecs)
            std::cout << " " << s;
        std::cout << "\n";
        if (!info.description.empty())
            std::cout << "    " << info.description << "\n";
    }
    return kExitOk;
}

} // namespace

int main(int argc, char** argv)
{
    tune_allocator_for_training();
    TrainingControl control;
    SignalStopper stopper(control); // before any other thread exists
    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName(QStringLiteral("nectar-train"));

    return guarded("nectar-train", [&]() -> int {
        QCommandLineParser p;
        p.setApplicationDescription(QStringLiteral("Train a pix2pix model (UNet + PatchGAN) with any loss spec."));
        p.addHelpOption();
        std::set<std::string> value_options;
        auto opt = [&](const char* name, const char* desc, const char* value = nullptr) {
            add_option(p, value_options, name, desc, value);
        };
        opt("config", "NectarGAN-layout config JSON (default: built-in settings on the bundled sample data).", "FILE");
        opt("spec", "Loss spec name (see --list-specs).", "NAME");
        opt("subspec", "Subspec of the loss spec.", "NAME");
        opt("preset", "Objective preset JSON (spec, subspec, loss weights/tags/schedules, config).", "FILE");
        opt("dataroot", "Dataset folder with train/ val/ test/.", "DIR");
        opt("output", "Output directory for experiments.", "DIR");
        opt("experiment", "Existing experiment folder <output>/<name>_v<N> (with --continue).", "DIR");
        opt("epochs", "Epochs at constant learning rate (G and D).", "N");
        opt("epochs-decay", "Epochs of linear learning-rate decay (G and D).", "N");
        opt("batch-size", "Batch size.", "N");
        opt("device", "cpu | cuda | cuda:N | auto.", "D");
        opt("threads", "Intra-op CPU threads (0 = number of cores).", "N");
        opt("continue", "Continue the experiment from the checkpoint of this epoch.", "EPOCH");
        opt("new-log",
            "With --continue: start a new loss log, moving loss_log.json and its journal aside as "
            "loss_log.old<K>.json / loss_log.journal.old<K>.jsonl (when they cannot be continued).");
        opt("list-specs", "List the loss specs and exit.");
        opt("print-objective", "Print the resolved loss table as JSON and exit.");
        opt("quiet", "No progress bar (epoch summaries and messages only).");
        opt("live-journal",
            "Append the loss journal at every progress report (train.update_rate iterations), not only every "
            "train.log_dump_rate epochs, so a follower (the GUI, Review > Follow) sees the run live.");
        opt("control-file",
            "Poll FILE (every 0.25 s): \"pause\" pauses, \"run\" resumes, \"stop\" stops the run (rank 0 reads "
            "it; all ranks follow). A missing file means run.",
            "FILE");
        opt("nproc-per-node",
            "Data-parallel: start N worker processes on this machine (one per GPU, or CPU processes sharing the "
            "cores) and supervise them (README \"Several GPUs or machines\").",
            "N");
        opt("nnodes", "Data-parallel: machines in the job (each runs the same command; default 1).", "M");
        opt("node-rank", "Data-parallel: this machine's index, 0 .. nnodes - 1 (node 0 hosts the rendezvous).", "K");
        opt("master-addr", "Data-parallel: host of node 0 (default 127.0.0.1).", "HOST");
        opt("master-port", "Data-parallel: port of the rendezvous store on node 0 (default 29500).", "PORT");
        opt("dist-backend", "Data-parallel: auto | gloo | nccl (auto: NCCL on CUDA when available, else Gloo).", "B");
        opt("rendezvous-timeout", "Data-parallel: seconds to wait for every process to arrive (default 300).", "S");
        opt("collective-timeout",
            "Data-parallel: seconds a collective waits for a peer before the job fails (default 600).", "S");
        if (!p.parse(app.arguments()))
            throw UsageError(p.errorText().toStdString() + " (see --help)");
        if (p.isSet(QStringLiteral("help"))) {
            std::cout << p.helpText().toStdString();
            return kExitOk;
        }
        if (!p.positionalArguments().isEmpty())
            throw UsageError(
                "unexpected argument \"" + p.positionalArguments().first().toStdString() + "\" (see --help)");
        if (p.isSet(QStringLiteral("list-specs")))
            return list_specs();
        // Values as argv's bytes: paths need not be UTF-8 (util/paths.h).
        const RawArguments raw(argc, argv, value_options);
        auto s = [&](const char* n) { return raw.value(n); };
        auto set = [&](const char* n) { return p.isSet(QString::fromLatin1(n)); };

        // Base settings: --config, else the experiment's own newest config copy (a continued run follows
        // the plan it was started with), else the built-in settings on the sample data.
        Config config;
        std::string config_source;
        if (set("config")) {
            config_source = s("config");
        } else if (set("experiment")) {
            config_source = experiment_config_copy(s("experiment"), "pass --config FILE");
            std::cerr << "using the experiment's settings from " << display_path(config_source) << "\n";
        }
        if (!config_source.empty()) {
            std::vector<std::string> warnings;
            config = load_config_file(config_source, &warnings);
            for (const auto& w : warnings)
                std::cerr << "warning: " << w << "\n";
        } else {
            config = default_config();
            // Name the experiment after the data it trains on.
            if (set("dataroot")) {
                const fs::path root = fs::absolute(s("dataroot")).lexically_normal();
                const std::string name = (root.has_filename() ? root : root.parent_path()).filename().string();
                if (!name.empty())
                    config.common.experiment_name = name;
            }
        }
        // Objective: --preset, else the experiment's recorded objective (what it trained, including GUI
        // table edits), unless --spec/--subspec choose another one; else the spec with the config's lambdas.
        std::optional<Preset> preset;
        std::string preset_source;
        const std::string recorded = set("experiment") ? latest_objective_copy_path(s("experiment")) : std::string();
        if (set("preset")) {
            preset_source = s("preset");
            if (!recorded.empty())
                std::cerr << "--preset " << display_path(preset_source)
                          << " replaces the experiment's recorded objective " << display_path(recorded) << "\n";
        } else if (!recorded.empty() && !set("spec") && !set("subspec")) {
            preset_source = recorded;
            std::cerr << "using the experiment's recorded objective from " << display_path(recorded)
                      << " (--preset, --spec or --subspec replace it)\n";
        } else if (!recorded.empty()) {
            std::cerr << "--spec/--subspec given: not using the experiment's recorded objective "
                      << display_path(recorded) << "\n";
        } else if (set("experiment") && !set("spec") && !set("subspec")) {
            std::cerr << "the experiment has no recorded objective (train<K>_objective.json): the losses come "
                         "from the spec and the config's lambdas\n";
        }
        if (!preset_source.empty()) {
            preset = load_preset_file(preset_source);
            if (preset->name.empty())
                preset->name = display_path(preset_source); // a label, recorded as UTF-8 JSON
            apply_preset_to_config(*preset, config, preset_source);
        }
        if (set("spec"))
            config.train.loss.spec = s("spec");
        if (set("subspec"))
            config.train.loss.subspec = s("subspec");
        if (set("dataroot"))
            config.dataloader.dataroot = s("dataroot");
        if (set("output"))
            config.common.output_directory = s("output");
        if (set("epochs") || set("epochs-decay")) {
            for (auto* lr : { &config.train.generator.learning_rate, &config.train.discriminator.learning_rate }) {
                if (set("epochs"))
                    lr->epochs = parse_int(p, QStringLiteral("epochs"), 0);
                if (set("epochs-decay"))
                    lr->epochs_decay = parse_int(p, QStringLiteral("epochs-decay"), 0);
            }
        }
        if (set("batch-size"))
            config.dataloader.batch_size = parse_int(p, QStringLiteral("batch-size"), 1);
        if (set("device"))
            config.common.device = s("device");
        if (set("threads"))
            config.common.num_threads = parse_int(p, QStringLiteral("threads"), 0);
        if (set("experiment")) {
            const auto folder = parse_experiment_folder(s("experiment"));
            if (!folder)
                throw UsageError(
                    "--experiment " + display_path(s("experiment")) + ": expected a folder named <name>_v<N>");
            config.common.output_directory = folder->output_directory;
            config.common.experiment_name = folder->name;
            config.common.experiment_version = folder->version;
        }
        if (set("new-log") && !set("continue"))
            throw UsageError("--new-log needs --continue EPOCH (a fresh run always starts a new loss log)");
        if (set("continue")) {
            config.train.load.continue_train = true;
            config.train.load.load_epoch = parse_int(p, QStringLiteral("continue"), 1);
        }
        validate_config(config);

        // The objective this run trains: the spec's losses with the preset's (or the record's) overrides.
        for (const auto& w : SpecRegistry::instance().load_default_directories())
            std::cerr << "warning: " << w << "\n";
        std::vector<std::string> objective_warnings;
        const Objective objective
            = resolve_objective(config, preset ? &*preset : nullptr, preset_source, &objective_warnings);
        for (const auto& w : objective_warnings)
            std::cerr << "warning: " << w << "\n";

        if (p.isSet(QStringLiteral("print-objective"))) {
            // Needs no dataset. Anything that stops the objective from resolving (e.g. a missing VGG19
            // weights file) is bad input here, as it is when training starts.
            return guarded(
                "nectar-train",
                [&] {
                    const auto losses = build_losses(objective.losses, config);
                    nlohmann::json out;
                    out["spec"] = config.train.loss.spec;
                    out["subspec"] = config.train.loss.subspec;
                    out["losses"] = objective_table(losses);
                    std::cout << out.dump(2) << std::endl;
                    return int(kExitOk);
                },
                kExitBadInput);
        }
        if (config.dataloader.dataroot.empty())
            throw UsageError(config_source.empty()
                    ? "no dataset: pass --dataroot DIR (the bundled sample dataset was not found; set "
                      "NECTAR_SAMPLE_DATA to its folder)"
                    : "no dataset: pass --dataroot DIR or set dataloader.dataroot in " + display_path(config_source));

        // Data-parallel: --nproc-per-node makes this process the launcher; torchrun's variables (set by
        // that launcher or by torchrun itself) make it a worker.
        std::optional<DistSettings> dist = dist_settings_from_env();
        const bool launcher = set("nproc-per-node") || set("nnodes") || set("node-rank");
        if (launcher && dist)
            throw UsageError("--nproc-per-node/--nnodes/--node-rank in a process started with WORLD_SIZE="
                + std::to_string(dist->world_size) + ": a worker does not launch workers");
        if (!launcher && !dist)
            for (const char* n :
                { "master-addr", "master-port", "dist-backend", "rendezvous-timeout", "collective-timeout" })
                if (set(n))
                    throw UsageError(std::string("--") + n
                        + " applies to a data-parallel run: add --nproc-per-node N (or start with torchrun)");
        const int collective_timeout
            = set("collective-timeout") ? parse_int(p, QStringLiteral("collective-timeout"), 1) : 600;
        if (launcher || dist)
            stopper.set_message(launcher || dist->rank == 0
                    ? "\ninterrupt: every rank stops at the next update point, then rank 0 saves (press Ctrl-C again "
                      "to abort)\n"
                    : nullptr);
        if (launcher) {
            LaunchOptions lo;
            lo.nproc_per_node = set("nproc-per-node") ? parse_int(p, QStringLiteral("nproc-per-node"), 1) : 1;
            lo.nnodes = set("nnodes") ? parse_int(p, QStringLiteral("nnodes"), 1) : 1;
            lo.node_rank = set("node-rank") ? parse_int(p, QStringLiteral("node-rank"), 0) : 0;
            if (lo.node_rank >= lo.nnodes)
                throw UsageError("--node-rank " + std::to_string(lo.node_rank) + ": expected 0 .. "
                    + std::to_string(lo.nnodes - 1) + " (--nnodes " + std::to_string(lo.nnodes) + ")");
            if (set("master-addr"))
                lo.master_addr = s("master-addr");
            if (set("master-port"))
                lo.master_port = parse_int(p, QStringLiteral("master-port"), 1);
            if (lo.master_port > 65535)
                throw UsageError("--master-port " + std::to_string(lo.master_port) + ": expected 1 .. 65535");
            if (set("dist-backend"))
                (void)parse_dist_backend(s("dist-backend"), "--dist-backend");
            if (set("rendezvous-timeout"))
                (void)parse_int(p, QStringLiteral("rendezvous-timeout"), 1);
            lo.collective_timeout_s = collective_timeout;
            lo.worker_arguments = worker_arguments(app.arguments().mid(1));
            return launch_workers(lo, control);
        }
        std::unique_ptr<DistContext> dist_context;
        if (dist) {
            if (set("dist-backend"))
                dist->backend = parse_dist_backend(s("dist-backend"), "--dist-backend");
            if (set("rendezvous-timeout"))
                dist->rendezvous_timeout = std::chrono::seconds(parse_int(p, QStringLiteral("rendezvous-timeout"), 1));
            if (set("collective-timeout"))
                dist->collective_timeout = std::chrono::seconds(collective_timeout);
            std::vector<std::string> notes;
            dist_context = join_data_parallel(*dist, config, objective, &notes);
            for (const auto& n : notes)
                std::cerr << n << "\n";
        }
        const bool rank0 = !dist || dist->rank == 0;
        ProgressPrinter printer(stderr, set("quiet"));
        Pix2pixTrainer trainer(config, rank0 ? &printer : nullptr, &control, &objective);
        trainer.set_distributed(dist_context.get());
        trainer.set_live_journal(set("live-journal"));
        std::optional<ControlFileWatcher> watcher;
        if (set("control-file") && rank0)
            watcher.emplace(s("control-file"), control);
        trainer.set_new_log(set("new-log"));
        // Bad settings, data, folders or checkpoints throw here: exit code 2.
        const int setup_code = guarded(
            "nectar-train",
            [&] {
                trainer.setup();
                return int(kExitOk);
            },
            kExitBadInput);
        if (setup_code != kExitOk)
            return setup_code;
        const int code = guarded(
            "nectar-train",
            [&]() -> int {
                const TrainResult r = trainer.run();
                std::cerr << (r.stopped ? "stopped" : "finished") << ": " << r.iterations << " iterations, results in "
                          << display_path(r.experiment_dir) << std::endl;
                return kExitOk;
            },
            kExitTrainingFailure);
        // During the run every error is a training failure, even one that looks like bad input.
        return code == kExitBadInput ? kExitTrainingFailure : code;
    });
}
