// SPDX-License-Identifier: Apache-2.0
#pragma once
/// @file Runs the Pix2pixTrainer on a worker thread and reports through queued signals carrying
/// value snapshots (no shared mutable state besides the thread-safe nectar::TrainingControl).

#include <QObject>
#include <QString>

#include <memory>
#include <vector>

#include "config/config.h"
#include "objective/losstablemodel.h"
#include "training/control.h"
#include "training/progress.h"

/// Everything one run needs, copied into the worker.
struct TrainingJob {
    nectar::Config config; ///< train.loss.spec / subspec name the objective
    std::vector<LossRow> rows; ///< the loss table: overrides weight/tags/schedule of every loss
    std::shared_ptr<nectar::TrainingControl> control; ///< pause/stop/live edits (thread-safe)
    /// Data-parallel processes: 1 trains on the GUI's training thread; more run `nectar-train
    /// --nproc-per-node N` as a child process (session/processrun.h).
    int processes = 1;
    /// Optional: also receives every callback, on the training thread, before the GUI's signals (e.g. a
    /// logger). An exception it throws fails the run like any training error.
    std::shared_ptr<nectar::TrainingObserver> observer;
};

Q_DECLARE_METATYPE(TrainingJob)
Q_DECLARE_METATYPE(nectar::RunInfo)
Q_DECLARE_METATYPE(nectar::ProgressReport)
Q_DECLARE_METATYPE(nectar::EpochSummary)

/// Lives on the training thread. run() blocks that thread until the run ends, then emits exactly
/// one of finished() or failed(); every exception is caught and becomes failed(message).
class TrainingWorker : public QObject {
    Q_OBJECT
public:
    explicit TrainingWorker(QObject* parent = nullptr);
    ~TrainingWorker() override;

    /// Registers the metatypes of the signals below (call once before connecting across threads).
    static void registerMetaTypes();

public Q_SLOTS:
    void run(const TrainingJob& job);

Q_SIGNALS:
    void runStarted(const nectar::RunInfo& info);
    void progress(const nectar::ProgressReport& report);
    void epochEnded(const nectar::EpochSummary& summary);
    void message(int level, const QString& text); ///< level: nectar::MessageLevel
    void finished(bool stopped, const QString& experimentDir);
    void failed(const QString& error);
};
