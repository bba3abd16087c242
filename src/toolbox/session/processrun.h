// SPDX-License-Identifier: Apache-2.0
#pragma once
/// @file A data-parallel run as a child process: `nectar-train --nproc-per-node N` (src/cli/launcher.h) on
/// the GUI's settings and loss table, followed live through its loss journal (--live-journal, read by a
/// nectar::LossLogFollower off the GUI thread, as Review ▸ Follow reads any headless run), its example
/// images and its stderr. It emits TrainingWorker's signals, so the Training page shows it as it shows an
/// in-process run. Stop: SIGTERM to the launcher (every rank stops after the same iteration, rank 0
/// saves). Pause: the control file (nectar-train --control-file) says "pause" / "run".

#include <QElapsedTimer>
#include <QObject>
#include <QProcess>
#include <QTemporaryDir>
#include <QTimer>

#include <array>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "session/trainingworker.h"

class QThread;

class ProcessRun : public QObject {
    Q_OBJECT
public:
    explicit ProcessRun(QObject* parent = nullptr);
    /// Stops the child (SIGTERM, then SIGKILL after 30 s) and waits for it.
    ~ProcessRun() override;

    /// The nectar-train next to this program (the build tree's bin/ or the installed bindir), or
    /// $NECTAR_TRAIN_PROGRAM. Empty if none exists.
    static QString trainProgram();

    /// Writes the job's config and loss table (as a preset) into a temporary folder and starts nectar-train
    /// with `processes` workers on a free loopback port. False with *error (naming the program or file)
    /// if it could not start; the signals follow otherwise, ending with exactly one finished() or failed().
    bool start(const TrainingJob& job, int processes, QString* error);
    void pause();
    void resume();
    void stop();
    /// Polls the journal every `ms` (default 250: a poll reads only the bytes appended since the last).
    void setPollInterval(int ms);

Q_SIGNALS:
    void runStarted(const nectar::RunInfo& info);
    void progress(const nectar::ProgressReport& report);
    void message(int level, const QString& text);
    void finished(bool stopped, const QString& experimentDir);
    void failed(const QString& error);

private:
    void onStderr();
    void onLine(const QString& line);
    void poll();
    void applyPoll();
    void onProcessFinished(int code, QProcess::ExitStatus status);
    void writeControl(const char* word);
    void finish(); ///< emits finished() or failed() once, after the last poll

    struct Poll;
    QProcess m_process;
    QTemporaryDir m_dir;
    QTimer m_timer;
    QElapsedTimer m_clock;
    QString m_partial;
    QStringList m_tail; // last stderr lines, for failed()
    QString m_experiment;
    nectar::RunInfo m_info;
    std::map<std::string, std::vector<std::string>> m_tags;
    std::unique_ptr<Poll> m_poll; // the follower and the poll in flight
    QThread* m_poller = nullptr;
    bool m_started = false; // runStarted emitted
    bool m_stopRequested = false;
    bool m_exited = false;
    bool m_finished = false;
    bool m_finalPoll = false; // the poll after the child exited is under way
    nectar::Config m_jobConfig;
    int m_exitCode = 0;
    QProcess::ExitStatus m_exitStatus = QProcess::NormalExit;
    qint64 m_firstIteration = -1;
    int m_lastExampleEpoch = 0;
};
