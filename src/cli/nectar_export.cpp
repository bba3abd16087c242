// SPDX-License-Identifier: Apache-2.0
/// nectar-export: writes a trained generator as an ONNX model (export/onnx_export.h).
///   nectar-export --experiment DIR --epoch N --output model.onnx [--height H --width W] [--opset K]
///                 [--dynamic-batch]
/// Exit codes: 0 written, 1 failure while exporting (checker, write), 2 bad input (nothing written).

#include <iostream>
#include <set>

#include <QCommandLineParser>
#include <QCoreApplication>

#include "cli_common.h"
#include "export/onnx_export.h"
#include "util/paths.h"

using namespace nectar;
using namespace nectar::cli;

int main(int argc, char** argv)
{
    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName(QStringLiteral("nectar-export"));
    return guarded("nectar-export", [&]() -> int {
        QCommandLineParser p;
        p.setApplicationDescription(
            QStringLiteral("Export a trained generator to ONNX (checked before it is written)."));
        p.addHelpOption();
        std::set<std::string> value_options;
        auto opt = [&](const char* name, const char* desc, const char* value = nullptr) {
            add_option(p, value_options, name, desc, value);
        };
        opt("experiment", "Experiment folder (<name>_v<N>).", "DIR");
        opt("epoch", "Checkpoint epoch to export.", "N");
        opt("output", "ONNX file to write (replaced atomically).", "FILE");
        opt("height", "Input height in pixels (default: the crop size).", "H");
        opt("width", "Input width in pixels (default: the crop size).", "W");
        const std::string opsets = "ONNX opset, 11 to " + std::to_string(max_onnx_opset()) + " (default 17).";
        opt("opset", opsets.c_str(), "K");
        opt("dynamic-batch", "Symbolic batch dimension \"batch\" instead of 1.");
        if (!p.parse(app.arguments()))
            throw UsageError(p.errorText().toStdString() + " (see --help)");
        if (p.isSet(QStringLiteral("help"))) {
            std::cout << p.helpText().toStdString();
            return kExitOk;
        }
        for (const char* required : { "experiment", "epoch", "output" })
            if (!p.isSet(QString::fromLatin1(required)))
                throw UsageError(std::string("--") + required + " is required (see --help)");
        const RawArguments raw(argc, argv, value_options);
        const int epoch = parse_int(p, QStringLiteral("epoch"), 1);
        OnnxExportOptions o;
        if (p.isSet(QStringLiteral("height")))
            o.height = parse_int(p, QStringLiteral("height"), 1);
        if (p.isSet(QStringLiteral("width")))
            o.width = parse_int(p, QStringLiteral("width"), 1);
        if (p.isSet(QStringLiteral("opset")))
            o.opset = parse_int(p, QStringLiteral("opset"), 1);
        o.dynamic_batch = p.isSet(QStringLiteral("dynamic-batch"));
        const OnnxExportReport r = export_experiment_onnx(raw.value("experiment"), epoch, raw.value("output"), o);
        std::cout << "wrote " << display_path(r.path) << ": opset " << r.opset << ", input ["
                  << (o.dynamic_batch ? "batch" : "1") << ", " << r.in_channels << ", " << r.height << ", " << r.width
                  << "], " << r.nodes << " nodes, " << r.parameters << " parameters, " << r.bytes
                  << " bytes (checked by ONNX " << r.onnx_version << ")" << std::endl;
        return kExitOk;
    });
}
