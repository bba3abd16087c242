// SPDX-License-Identifier: Apache-2.0
#pragma once
/// @file One piece of blocking work (a test run, a dataset tool, a folder scan) on its own QThread,
/// reporting to the GUI thread only through queued signals: progress throttled to one signal per
/// kProgressIntervalMs (plus the last one), then exactly one of finished() or failed(). Stop is
/// cooperative: the work's progress callback returns false once stop() was called.

#include <QElapsedTimer>
#include <QObject>
#include <QPointer>
#include <QThread>
#include <QVariant>

#include <atomic>
#include <cstddef>
#include <functional>
#include <memory>

class BackgroundJob : public QObject {
    Q_OBJECT
public:
    static constexpr int kProgressIntervalMs = 100;
    /// Called by the work after each item; false: stop requested, the work should return soon.
    using Progress = std::function<bool(std::size_t done, std::size_t total)>;
    /// Runs on the worker thread; its return value goes to finished(), an exception's what() to failed().
    using Work = std::function<QVariant(const Progress& progress)>;

    explicit BackgroundJob(QObject* parent = nullptr);
    /// Asks a running work to stop and waits for it (the work's progress callback then returns false).
    ~BackgroundJob() override;

    /// Starts `work` on a new thread; false (and nothing started) while a work is running.
    bool start(Work work);
    /// Asks the running work to stop (a no-op when none runs).
    void stop();
    bool isRunning() const { return m_running; }
    bool stopRequested() const { return m_stop->load(); }

Q_SIGNALS:
    void progress(qint64 done, qint64 total);
    void finished(const QVariant& result);
    void failed(const QString& error);

private:
    QPointer<QThread> m_thread;
    std::shared_ptr<std::atomic<bool>> m_stop;
    bool m_running = false;
};
