// SPDX-License-Identifier: Apache-2.0
#pragma once
/// @file The Testing and Utilities pages' door to the engine: the Tester (evaluation/tester.h), the
/// dataset tools (data/dataset_tools.h) and the ONNX export (export/onnx_export.h), with plain Qt value
/// types in and out; the LibTorch-heavy headers stay in evaluationbridge.cpp. Every function here may
/// block (file IO, a model run): call them from a worker thread (session/backgroundjob.h), never from
/// the GUI thread. Errors are the engine's exceptions, whose messages name the file / folder / value.

#include <QList>
#include <QMetaType>
#include <QString>
#include <QStringList>
#include <QVector>

#include <cstddef>
#include <functional>

namespace engine {

/// The metric keys in display order (nectar::metric_names(): l1, mse, psnr_db, ssim, sobel, laplacian).
QStringList metricNames();
/// Column titles for metricNames() ("L1", "MSE", "PSNR (dB)", ...).
QStringList metricLabels();
/// nectar::metric_higher_is_better (false for an unknown name).
bool metricHigherIsBetter(const QString& name);

/// One image of a test run.
struct TestImageRow {
    QString image; ///< the source image's path
    QString file; ///< absolute path of the written image (input | generated | target, or generated alone)
    bool hasTarget = true;
    QVector<double> metrics; ///< in metricNames() order; empty without a target; PSNR may be +inf
};

/// A test run's results (nectar::TestResult) in Qt types.
struct TestRunData {
    QString dir; ///< the test folder
    int epoch = 0;
    int version = 0;
    bool hasTargets = true;
    bool stopped = false;
    QString sourceLabel;
    QVector<TestImageRow> images;
    QVector<double> means; ///< in metricNames() order; empty without targets
};

/// One earlier test run of an experiment (nectar::TestRunInfo).
struct TestRunEntry {
    QString dir;
    int epoch = 0;
    int version = 0;
    qint64 count = 0;
    bool stopped = false;
    bool hasTargets = true;
    QString sourceLabel;
};

/// What the Testing page runs (nectar::TestOptions; the config is the experiment's newest config copy).
struct TestRequest {
    QString experimentDir;
    int epoch = 1;
    QString source = QStringLiteral("split"); ///< "split" | "folder" | "input" (nectar::test_source_from_string)
    QString split = QStringLiteral("test"); ///< split mode
    QString folder; ///< folder and input modes
    QString fit = QStringLiteral("resize"); ///< input mode: "resize" | "tile"
};

/// Progress: done and total images / files; return false to stop.
using WorkProgress = std::function<bool(std::size_t done, std::size_t total)>;

/// Epochs with a complete checkpoint (nectar::list_checkpoint_epochs), ascending.
QList<int> checkpointEpochs(const QString& experimentDir);
/// The experiment's test runs by epoch then version; unreadable ones named in *skipped.
QList<TestRunEntry> testRuns(const QString& experimentDir, QStringList* skipped = nullptr);
/// Reads a test folder's metrics.json. Throws std::runtime_error naming the file.
TestRunData loadTestRun(const QString& testDir);
/// Runs the Tester (nectar::run_test) into the next versioned folder. Throws std::runtime_error when the
/// folder has no config copy (naming it), and the engine's CheckpointError / DataError (no checkpoint at
/// that epoch, a folder with no images, a channel mismatch: each names the file or folder).
TestRunData runTest(const TestRequest& request, const WorkProgress& progress, QStringList* warnings = nullptr);

/// Outcome of a dataset tool: the files it writes (or would write, for a dry run) in order, and the
/// report lines (unmatched, unreadable, ... files; the check's per-split summary).
struct ToolOutcome {
    QStringList writes;
    QStringList report;
    bool stopped = false;
};
struct PairRequest {
    QString dirA, dirB, output;
    int size = 0; ///< pixels per half; 0 keeps the size
    QString direction = QStringLiteral("AtoB"); ///< "AtoB" | "BtoA"
    bool intoNonEmpty = false;
};
struct SplitRequest {
    QString input, output;
    double train = 0.8, val = 0.1, test = 0.1;
    qint64 seed = 0;
    bool move = false;
    bool intoNonEmpty = false;
};
/// nectar::pair_images / split_dataset / check_dataset. Throw the engine's DataError (naming the folder or
/// the value) and std::runtime_error for a write error.
ToolOutcome pairImages(const PairRequest& request, bool dryRun, const WorkProgress& progress);
ToolOutcome splitDataset(const SplitRequest& request, bool dryRun, const WorkProgress& progress);
ToolOutcome checkDataset(const QString& dataroot);

/// nectar-export's options (export/onnx_export.h).
struct OnnxRequest {
    QString experimentDir;
    int epoch = 1;
    QString output;
    int height = 0, width = 0; ///< pixels; 0 = the experiment's crop size
    int opset = 17;
    bool dynamicBatch = false;
};
struct OnnxOutcome {
    QString path;
    int opset = 0, height = 0, width = 0;
    qint64 nodes = 0, parameters = 0, bytes = 0;
    QString onnxVersion;
};
/// nectar::max_onnx_opset().
int maxOnnxOpset();
/// nectar::export_experiment_onnx. Throws as it does (bad size / opset, no checkpoint, checker refusal).
OnnxOutcome exportOnnx(const OnnxRequest& request);

} // namespace engine

Q_DECLARE_METATYPE(engine::TestRunData)
Q_DECLARE_METATYPE(engine::TestRunEntry)
Q_DECLARE_METATYPE(engine::ToolOutcome)
Q_DECLARE_METATYPE(engine::OnnxOutcome)
