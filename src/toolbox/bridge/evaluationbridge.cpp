// SPDX-License-Identifier: Apache-2.0
// LibTorch headers first and without Qt's `slots` keyword macro (ATen has a slots() method).
#pragma push_macro("slots")
#undef slots
#include "config/config.h"
#include "data/dataset_tools.h"
#include "evaluation/tester.h"
#include "export/onnx_export.h"
#include "training/checkpoint.h"
#include "training/experiment.h"
#pragma pop_macro("slots")

#include "bridge/evaluationbridge.h"

#include <QDir>
#include <QMap>

#include <stdexcept>

namespace engine {
namespace {

QString q(const std::string& s)
{
    return QString::fromStdString(s);
}

std::string s(const QString& v)
{
    return v.toStdString();
}

void appendAll(QStringList& out, const QString& title, const std::vector<std::string>& lines)
{
    if (lines.empty())
        return;
    out.append(QStringLiteral("%1 (%2):").arg(title).arg(lines.size()));
    for (const auto& l : lines)
        out.append(QStringLiteral("  ") + q(l));
}

TestRunData fromResult(const nectar::TestResult& r)
{
    TestRunData d;
    d.dir = q(r.output_dir);
    d.epoch = r.epoch;
    d.version = r.version;
    d.hasTargets = r.has_targets;
    d.stopped = r.stopped;
    d.sourceLabel = q(r.source_label);
    const QDir dir(d.dir);
    d.images.reserve(static_cast<int>(r.images.size()));
    for (const nectar::ImageMetrics& m : r.images) {
        TestImageRow row;
        row.image = q(m.image);
        row.file = dir.filePath(q(m.output));
        row.hasTarget = m.has_target;
        if (m.has_target)
            for (const std::string& name : nectar::metric_names())
                row.metrics.append(nectar::metric_value(m, name));
        d.images.append(row);
    }
    if (r.has_targets)
        d.means = { r.mean_l1, r.mean_mse, r.mean_psnr_db, r.mean_ssim, r.mean_sobel, r.mean_laplacian };
    return d;
}

} // namespace

QStringList metricNames()
{
    QStringList out;
    for (const std::string& n : nectar::metric_names())
        out.append(q(n));
    return out;
}

QStringList metricLabels()
{
    static const QMap<QString, QString> labels = { { QStringLiteral("l1"), QStringLiteral("L1") },
        { QStringLiteral("mse"), QStringLiteral("MSE") }, { QStringLiteral("psnr_db"), QStringLiteral("PSNR (dB)") },
        { QStringLiteral("ssim"), QStringLiteral("SSIM") }, { QStringLiteral("sobel"), QStringLiteral("Sobel") },
        { QStringLiteral("laplacian"), QStringLiteral("Laplacian") } };
    QStringList out;
    for (const QString& n : metricNames())
        out.append(labels.value(n, n));
    return out;
}

bool metricHigherIsBetter(const QString& name)
{
    if (!metricNames().contains(name))
        return false;
    return nectar::metric_higher_is_better(s(name));
}

QList<int> checkpointEpochs(const QString& experimentDir)
{
    QList<int> out;
    for (int e : nectar::list_checkpoint_epochs(s(experimentDir)))
        out.append(e);
    return out;
}

QList<TestRunEntry> testRuns(const QString& experimentDir, QStringList* skipped)
{
    std::vector<std::string> why;
    QList<TestRunEntry> out;
    for (const nectar::TestRunInfo& i : nectar::list_test_runs(s(experimentDir), &why)) {
        TestRunEntry e;
        e.dir = q(i.dir);
        e.epoch = i.epoch;
        e.version = i.version;
        e.count = static_cast<qint64>(i.count);
        e.stopped = i.stopped;
        e.hasTargets = i.has_targets;
        e.sourceLabel = q(i.source_label);
        out.append(e);
    }
    if (skipped)
        for (const auto& w : why)
            skipped->append(q(w));
    return out;
}

TestRunData loadTestRun(const QString& testDir)
{
    return fromResult(nectar::load_test_result(s(testDir)));
}

TestRunData runTest(const TestRequest& request, const WorkProgress& progress, QStringList* warnings)
{
    const std::string config_file = nectar::latest_config_copy_path(s(request.experimentDir));
    if (config_file.empty())
        throw std::runtime_error(s(request.experimentDir)
            + ": not an experiment folder of this toolbox (no train<K>_config.json config copy)");
    const nectar::Config config = nectar::load_config_file(config_file);
    nectar::TestOptions o;
    o.experiment_dir = s(request.experimentDir);
    o.epoch = request.epoch;
    o.source = nectar::test_source_from_string(s(request.source));
    o.split = s(request.split);
    o.folder = s(request.folder);
    o.fit = nectar::input_fit_from_string(s(request.fit));
    const auto warn = [warnings](const std::string& w) {
        if (warnings)
            warnings->append(q(w));
    };
    return fromResult(nectar::run_test(config, o, warn, progress));
}

ToolOutcome pairImages(const PairRequest& request, bool dryRun, const WorkProgress& progress)
{
    nectar::PairOptions o;
    o.dir_a = s(request.dirA);
    o.dir_b = s(request.dirB);
    o.output = s(request.output);
    o.size = request.size;
    o.direction = nectar::parse_choice<nectar::Direction>(s(request.direction), "direction");
    o.into_non_empty = request.intoNonEmpty;
    const nectar::PairReport r = nectar::pair_images(o, dryRun, progress);
    ToolOutcome out;
    for (const auto& w : r.writes)
        out.writes.append(q(w));
    appendAll(out.report, QStringLiteral("Not paired: only in A"), r.unmatched_a);
    appendAll(out.report, QStringLiteral("Not paired: only in B"), r.unmatched_b);
    appendAll(out.report, QStringLiteral("Not paired: unreadable"), r.unreadable);
    appendAll(out.report, QStringLiteral("Not paired: halves of different sizes (set a size)"), r.size_mismatch);
    appendAll(out.report, QStringLiteral("Not paired: name found twice in one folder"), r.ambiguous);
    appendAll(out.report, QStringLiteral("Skipped: not images"), r.not_images);
    out.stopped = r.stopped;
    return out;
}

ToolOutcome splitDataset(const SplitRequest& request, bool dryRun, const WorkProgress& progress)
{
    nectar::SplitOptions o;
    o.input = s(request.input);
    o.output = s(request.output);
    o.train = request.train;
    o.val = request.val;
    o.test = request.test;
    o.seed = request.seed;
    o.move = request.move;
    o.into_non_empty = request.intoNonEmpty;
    const nectar::SplitReport r = nectar::split_dataset(o, dryRun, progress);
    ToolOutcome out;
    for (const auto& [src, dest] : r.writes)
        out.writes.append(q(dest) + QStringLiteral("  ←  ") + q(src));
    QStringList counts;
    for (const auto& [split, n] : r.counts)
        counts.append(QStringLiteral("%1 %2").arg(q(split)).arg(n));
    out.report.append(
        QStringLiteral("%1 per split: %2")
            .arg(request.move ? QStringLiteral("Moves") : QStringLiteral("Copies"), counts.join(QStringLiteral(", "))));
    appendAll(out.report, QStringLiteral("Skipped: not images"), r.not_images);
    out.stopped = r.stopped;
    return out;
}

ToolOutcome checkDataset(const QString& dataroot)
{
    const nectar::CheckReport r = nectar::check_dataset(s(dataroot));
    ToolOutcome out;
    for (const auto& sp : r.splits) {
        out.report.append(QStringLiteral("%1: %2 pair(s)").arg(q(sp.name)).arg(sp.pairs));
        for (const auto& [size, n] : sp.sizes)
            out.report.append(QStringLiteral("  size %1: %2").arg(q(size)).arg(n));
        if (!sp.wrong_aspect.empty()) {
            out.report.append(QStringLiteral("  width not twice the height: %1").arg(sp.wrong_aspect.size()));
            for (const auto& f : sp.wrong_aspect)
                out.report.append(QStringLiteral("    ") + q(f));
        }
        for (const auto& w : sp.warnings)
            out.report.append(QStringLiteral("  ") + q(w));
    }
    return out;
}

int maxOnnxOpset()
{
    return nectar::max_onnx_opset();
}

OnnxOutcome exportOnnx(const OnnxRequest& request)
{
    nectar::OnnxExportOptions o;
    o.height = request.height;
    o.width = request.width;
    o.opset = request.opset;
    o.dynamic_batch = request.dynamicBatch;
    const nectar::OnnxExportReport r
        = nectar::export_experiment_onnx(s(request.experimentDir), request.epoch, s(request.output), o);
    OnnxOutcome out;
    out.path = q(r.path);
    out.opset = r.opset;
    out.height = r.height;
    out.width = r.width;
    out.nodes = r.nodes;
    out.parameters = r.parameters;
    out.bytes = r.bytes;
    out.onnxVersion = q(r.onnx_version);
    return out;
}

} // namespace engine
