// SPDX-License-Identifier: Apache-2.0
/// nectar-test: runs a trained generator on a split of its dataset, on another folder of A|B pairs, or on a
/// folder of input-only images (NectarGAN `scripts/test.py` / Tester); the work, the metrics and the
/// versioned test folder are evaluation/tester.h's. Ctrl-C (SIGINT/SIGTERM) stops after the current image
/// and still writes metrics.json ("stopped": true).
/// Exit codes: 0 success (also after a stop), 1 failure while testing, 2 bad input (arguments, missing
/// checkpoint, missing or empty folder, a colour image for a 1-channel model, a non-empty --output).

#include <iostream>

#include <QCommandLineParser>
#include <QCoreApplication>

#include "cli_common.h"
#include "config/config.h"
#include "evaluation/tester.h"
#include "training/control.h"
#include "util/limits.h"
#include "util/paths.h"

using namespace nectar;
using namespace nectar::cli;

namespace {

/// "mean l1 0.1, mse 0.02, psnr_db 17.4, ssim 0.61, sobel 0.3, laplacian 0.2"
std::string mean_line(const TestResult& r)
{
    ImageMetrics m;
    m.l1 = r.mean_l1;
    m.mse = r.mean_mse;
    m.psnr_db = r.mean_psnr_db;
    m.ssim = r.mean_ssim;
    m.sobel = r.mean_sobel;
    m.laplacian = r.mean_laplacian;
    std::string s;
    for (const auto& name : metric_names()) {
        char buf[64];
        std::snprintf(buf, sizeof buf, "%s%s %.6g", s.empty() ? "" : ", ", name.c_str(), metric_value(m, name));
        s += buf;
    }
    return "mean " + s;
}

} // namespace

int main(int argc, char** argv)
{
    TrainingControl control;
    SignalStopper stopper(control);
    stopper.set_message("\ninterrupt: stopping after the current image (press Ctrl-C again to abort)\n");
    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName(QStringLiteral("nectar-test"));
    return guarded("nectar-test", [&]() -> int {
        QCommandLineParser p;
        p.setApplicationDescription(QStringLiteral(
            "Run the generator of a saved epoch and score it: on a split of its dataset (default: test), on a "
            "folder of A|B pair images (--folder), or on a folder of input-only images (--input-dir, no "
            "metrics). Writes <experiment>/test_epoch<N>_v<K>/ (a new K per run, earlier runs are kept): "
            "input | generated | target PNGs (input-only: the generated image, at the input's size), "
            "metrics.csv and metrics.json (per image L1, MSE, PSNR, SSIM, Sobel, Laplacian; their means). "
            "Ctrl-C stops after the current image. Exit codes: 0 done (also after Ctrl-C), 1 failure while "
            "testing, 2 bad input."));
        p.addHelpOption();
        std::set<std::string> value_options;
        auto opt = [&](const char* name, const char* desc, const char* value = nullptr) {
            add_option(p, value_options, name, desc, value);
        };
        opt("experiment", "Experiment folder (<name>_v<N>, with epoch<N>_netG.pt and train<K>_config.json).", "DIR");
        opt("epoch", "Checkpoint epoch to load.", "N");
        opt("split", "Split of the dataset to run on (default test).", "NAME");
        opt("dataroot", "Dataset folder with the split (default: the experiment's dataloader.dataroot).", "DIR");
        opt("folder", "Run on this folder of A|B pair images instead of a split (e.g. another dataset).", "DIR");
        opt("input-dir",
            "Run on this folder of plain input images (no target, no metrics): writes the generated images "
            "only, each at its input's size.",
            "DIR");
        opt("fit",
            "--input-dir: resize (default; each image resized to the crop size, the result resized back) or "
            "tile (crop-size tiles, edges reflect-padded, stitched: full resolution).",
            "MODE");
        opt("output", "Output folder, new or empty (default: a new <experiment>/test_epoch<N>_v<K>).", "DIR");
        opt("device", "cpu | cuda | cuda:N | auto (default: the experiment's).", "D");
        opt("quiet", "No per-image progress lines.");
        if (!p.parse(app.arguments()))
            throw UsageError(p.errorText().toStdString() + " (see --help)");
        if (p.isSet(QStringLiteral("help"))) {
            std::cout << p.helpText().toStdString();
            return kExitOk;
        }
        if (!p.positionalArguments().isEmpty())
            throw UsageError(
                "unexpected argument \"" + p.positionalArguments().front().toStdString() + "\" (see --help)");
        if (!p.isSet(QStringLiteral("experiment")) || !p.isSet(QStringLiteral("epoch")))
            throw UsageError("--experiment DIR and --epoch N are required (see --help)");
        const bool folder = p.isSet(QStringLiteral("folder")), input = p.isSet(QStringLiteral("input-dir"));
        if (folder && input)
            throw UsageError("--folder and --input-dir exclude each other: pairs or input-only images (see --help)");
        if ((folder || input) && (p.isSet(QStringLiteral("split")) || p.isSet(QStringLiteral("dataroot"))))
            throw UsageError(std::string("--split and --dataroot choose a split; they do not apply to ")
                + (folder ? "--folder" : "--input-dir"));
        if (p.isSet(QStringLiteral("fit")) && !input)
            throw UsageError("--fit applies to --input-dir only");
        // Values as argv's bytes: paths need not be UTF-8 (util/paths.h).
        const RawArguments raw(argc, argv, value_options);
        const std::string exp = raw.value("experiment");
        bool ok = false;
        const int epoch = p.value(QStringLiteral("epoch")).toInt(&ok);
        if (!ok || epoch < 1 || epoch > 2 * limits::max_epochs)
            throw UsageError("--epoch " + p.value(QStringLiteral("epoch")).toStdString()
                + ": expected an integer from 1 to " + std::to_string(2 * limits::max_epochs));
        TestOptions options;
        options.experiment_dir = exp;
        options.epoch = epoch;
        if (folder) {
            options.source = TestSource::Folder;
            options.folder = raw.value("folder");
        } else if (input) {
            options.source = TestSource::InputOnly;
            options.folder = raw.value("input-dir");
            if (p.isSet(QStringLiteral("fit"))) {
                try {
                    options.fit = input_fit_from_string(p.value(QStringLiteral("fit")).toStdString());
                } catch (const std::invalid_argument&) {
                    throw UsageError(
                        "--fit " + p.value(QStringLiteral("fit")).toStdString() + ": expected resize or tile");
                }
            }
        }
        if (p.isSet(QStringLiteral("split")))
            options.split = raw.value("split");
        if (p.isSet(QStringLiteral("dataroot")))
            options.dataroot = raw.value("dataroot");
        if (p.isSet(QStringLiteral("output")))
            options.output_dir = raw.value("output");
        const std::string cfg_path = experiment_config_copy(exp);
        Config config = load_config_file(cfg_path);
        if (p.isSet(QStringLiteral("device")))
            config.common.device = p.value(QStringLiteral("device")).toStdString();
        const bool quiet = p.isSet(QStringLiteral("quiet"));
        // A missing checkpoint or bad data is bad input (exit 2, see guarded); other failures exit 1.
        return guarded(
            "nectar-test",
            [&]() -> int {
                const TestResult r = run_test(
                    config, options, [](const std::string& w) { std::cerr << "warning: " << w << "\n"; },
                    [&](std::size_t done, std::size_t total) {
                        if (!quiet)
                            std::cerr << "image " << done << "/" << total << std::endl;
                        return !control.stop_requested();
                    });
                if (r.stopped)
                    std::cerr << "stopped after " << r.images.size() << " images" << std::endl;
                std::cout << "tested " << r.images.size() << " images (" << r.source_label << ", epoch " << r.epoch
                          << ") -> " << display_path(r.output_dir) << std::endl;
                if (r.has_targets && !r.images.empty())
                    std::cout << mean_line(r) << std::endl;
                return kExitOk;
            },
            kExitTrainingFailure);
    });
}
