// SPDX-License-Identifier: Apache-2.0
/// nectar-test: runs a trained generator on the test split (NectarGAN `scripts/test.py` / Tester); the work
/// and the metrics are evaluation/tester.h's.
/// Exit codes: 0 success, 1 failure while testing, 2 bad input.

#include <iostream>

#include <QCommandLineParser>
#include <QCoreApplication>

#include "cli_common.h"
#include "config/config.h"
#include "evaluation/tester.h"
#include "util/limits.h"
#include "util/paths.h"

using namespace nectar;
using namespace nectar::cli;

int main(int argc, char** argv)
{
    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName(QStringLiteral("nectar-test"));
    return guarded("nectar-test", [&]() -> int {
        QCommandLineParser p;
        p.setApplicationDescription(QStringLiteral("Run a trained generator on the test split and score it."));
        p.addHelpOption();
        p.addOption({ QStringLiteral("experiment"), QStringLiteral("Experiment folder (<name>_v<N>)."),
            QStringLiteral("DIR") });
        p.addOption({ QStringLiteral("epoch"), QStringLiteral("Checkpoint epoch to load."), QStringLiteral("N") });
        p.addOption({ QStringLiteral("dataroot"), QStringLiteral("Dataset folder (default: the experiment's)."),
            QStringLiteral("DIR") });
        p.addOption(
            { QStringLiteral("split"), QStringLiteral("Split to run on (default test)."), QStringLiteral("NAME") });
        p.addOption({ QStringLiteral("output"), QStringLiteral("Output folder (default <experiment>/test_epoch<N>)."),
            QStringLiteral("DIR") });
        p.addOption({ QStringLiteral("device"),
            QStringLiteral("cpu | cuda | cuda:N | auto (default: the experiment's)."), QStringLiteral("D") });
        if (!p.parse(app.arguments()))
            throw UsageError(p.errorText().toStdString() + " (see --help)");
        if (p.isSet(QStringLiteral("help"))) {
            std::cout << p.helpText().toStdString();
            return kExitOk;
        }
        if (!p.isSet(QStringLiteral("experiment")) || !p.isSet(QStringLiteral("epoch")))
            throw UsageError("--experiment DIR and --epoch N are required (see --help)");
        // Values as argv's bytes: paths need not be UTF-8 (util/paths.h).
        const RawArguments raw(argc, argv, { "experiment", "epoch", "dataroot", "split", "output", "device" });
        const std::string exp = raw.value("experiment");
        bool ok = false;
        const int epoch = p.value(QStringLiteral("epoch")).toInt(&ok);
        if (!ok || epoch < 1 || epoch > 2 * limits::max_epochs)
            throw UsageError("--epoch " + p.value(QStringLiteral("epoch")).toStdString()
                + ": expected an integer from 1 to " + std::to_string(2 * limits::max_epochs));
        const std::string cfg_path = experiment_config_copy(exp);
        Config config = load_config_file(cfg_path);
        if (p.isSet(QStringLiteral("dataroot")))
            config.dataloader.dataroot = raw.value("dataroot");
        if (p.isSet(QStringLiteral("device")))
            config.common.device = p.value(QStringLiteral("device")).toStdString();
        TestOptions options;
        options.experiment_dir = exp;
        options.epoch = epoch;
        if (p.isSet(QStringLiteral("split")))
            options.split = raw.value("split");
        if (p.isSet(QStringLiteral("output")))
            options.output_dir = raw.value("output");
        // A missing checkpoint or bad data is bad input (exit 2, see guarded); other failures exit 1.
        return guarded(
            "nectar-test",
            [&]() -> int {
                const TestResult r
                    = run_test(config, options, [](const std::string& w) { std::cerr << "warning: " << w << "\n"; });
                std::cout << "tested " << r.images.size() << " images: mean L1 " << r.mean_l1 << ", MSE " << r.mean_mse
                          << ", PSNR " << r.mean_psnr_db << " dB -> " << display_path(r.output_dir) << std::endl;
                return kExitOk;
            },
            kExitTrainingFailure);
    });
}
