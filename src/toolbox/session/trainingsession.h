// SPDX-License-Identifier: Apache-2.0
#pragma once
/// @file The run state shared by the pages: owns the training thread and worker (a non-widget
/// controller, as hotspot's FilterAndZoomStack).

#include <QObject>
#include <QThread>

#include <memory>

#include "session/trainingworker.h"

class ProcessRun;

class TrainingSession : public QObject {
    Q_OBJECT
public:
    enum class State { Idle, Running, Paused, Stopping };
    Q_ENUM(State)

    explicit TrainingSession(QObject* parent = nullptr);
    /// Requests a stop and joins the training thread (stop is honoured within one iteration).
    ~TrainingSession() override;

    State state() const { return m_state; }
    bool isActive() const { return m_state != State::Idle; }
    /// The active run is a child nectar-train (TrainingJob::processes > 1): live edits cannot reach it.
    bool isMultiProcess() const { return m_process != nullptr; }

    /// Starts a run; false if one is active. The job's control is created here. A job with processes > 1
    /// runs as a child nectar-train (ProcessRun); the signals are the same. False (with failed()) when that
    /// child cannot be started.
    bool start(TrainingJob job);
    void pause();
    void resume();
    /// Stop after the current iteration; the trainer saves a checkpoint and the log.
    void stop();
    /// Live edits, applied by the trainer before its next iteration (not in a multi-process run: refused
    /// with a message).
    void setLossWeight(const QString& loss, double weight);
    void setLossTags(const QString& loss, const QStringList& tags);
    /// Blocks until the worker is idle or `ms` passed (used on shutdown). True if idle.
    bool waitForIdle(int ms);

Q_SIGNALS:
    /// start() accepted a run, before its setup: what showed the previous run is stale from here.
    void starting();
    void stateChanged(TrainingSession::State state);
    void runStarted(const nectar::RunInfo& info);
    void progress(const nectar::ProgressReport& report);
    void epochEnded(const nectar::EpochSummary& summary);
    void message(int level, const QString& text);
    void finished(bool stopped, const QString& experimentDir);
    void failed(const QString& error);
    /// To the worker (queued onto the training thread).
    void runRequested(const TrainingJob& job);

private:
    void setState(State s);
    void onWorkerDone();

    QThread m_thread;
    TrainingWorker* m_worker; // lives on m_thread, deleted when it finishes
    std::shared_ptr<nectar::TrainingControl> m_control;
    ProcessRun* m_process = nullptr; // the multi-process run, while one is active
    State m_state = State::Idle;
};
