// SPDX-License-Identifier: Apache-2.0
#include "session/backgroundjob.h"

#include <QMetaObject>

#include <exception>

BackgroundJob::BackgroundJob(QObject* parent)
    : QObject(parent)
    , m_stop(std::make_shared<std::atomic<bool>>(false))
{
}

BackgroundJob::~BackgroundJob()
{
    if (m_thread) {
        m_stop->store(true);
        m_thread->wait();
        delete m_thread;
    }
}

bool BackgroundJob::start(Work work)
{
    if (m_running)
        return false;
    if (m_thread) { // the previous thread has ended (m_running is false), its object not yet deleted
        m_thread->wait();
        delete m_thread;
    }
    m_stop = std::make_shared<std::atomic<bool>>(false);
    m_running = true;
    const auto stop = m_stop;
    // Results cross to the GUI thread as queued calls on `this`: dropped if the job is gone by then.
    QThread* thread = QThread::create([this, stop, work = std::move(work)] {
        QElapsedTimer clock;
        clock.start();
        qint64 last = -kProgressIntervalMs;
        const Progress progress = [&](std::size_t done, std::size_t total) {
            const qint64 now = clock.elapsed();
            if (now - last >= kProgressIntervalMs || done >= total) {
                last = now;
                const auto d = static_cast<qint64>(done), t = static_cast<qint64>(total);
                QMetaObject::invokeMethod(
                    this, [this, d, t] { Q_EMIT this->progress(d, t); }, Qt::QueuedConnection);
            }
            return !stop->load();
        };
        QVariant result;
        QString error;
        bool ok = true;
        try {
            result = work(progress);
        } catch (const std::exception& e) {
            ok = false;
            error = QString::fromStdString(e.what());
        } catch (...) {
            ok = false;
            error = tr("The work failed with an unknown exception.");
        }
        QMetaObject::invokeMethod(
            this,
            [this, ok, result, error] {
                m_running = false;
                if (ok)
                    Q_EMIT finished(result);
                else
                    Q_EMIT failed(error);
            },
            Qt::QueuedConnection);
    });
    m_thread = thread;
    thread->start();
    return true;
}

void BackgroundJob::stop()
{
    m_stop->store(true);
}
