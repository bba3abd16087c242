// SPDX-License-Identifier: Apache-2.0
#include "session/trainingsession.h"

#include "session/processrun.h"

#include <QCoreApplication>
#include <QDeadlineTimer>

TrainingSession::TrainingSession(QObject* parent)
    : QObject(parent)
    , m_worker(new TrainingWorker)
{
    TrainingWorker::registerMetaTypes();
    qRegisterMetaType<TrainingSession::State>();
    m_thread.setObjectName(QStringLiteral("training"));
    m_worker->moveToThread(&m_thread);
    connect(&m_thread, &QThread::finished, m_worker, &QObject::deleteLater);
    connect(this, &TrainingSession::runRequested, m_worker, &TrainingWorker::run, Qt::QueuedConnection);
    connect(m_worker, &TrainingWorker::runStarted, this, &TrainingSession::runStarted);
    connect(m_worker, &TrainingWorker::progress, this, &TrainingSession::progress);
    connect(m_worker, &TrainingWorker::epochEnded, this, &TrainingSession::epochEnded);
    connect(m_worker, &TrainingWorker::message, this, &TrainingSession::message);
    connect(m_worker, &TrainingWorker::finished, this, [this](bool stopped, const QString& dir) {
        onWorkerDone();
        Q_EMIT finished(stopped, dir);
    });
    connect(m_worker, &TrainingWorker::failed, this, [this](const QString& error) {
        onWorkerDone();
        Q_EMIT failed(error);
    });
    m_thread.start();
}

TrainingSession::~TrainingSession()
{
    delete m_process; // stops the child and waits for it
    if (m_control)
        m_control->request_stop();
    m_thread.quit();
    m_thread.wait();
}

void TrainingSession::setState(State s)
{
    if (s == m_state)
        return;
    m_state = s;
    Q_EMIT stateChanged(s);
}

bool TrainingSession::start(TrainingJob job)
{
    if (isActive())
        return false;
    m_control = std::make_shared<nectar::TrainingControl>();
    job.control = m_control;
    if (job.processes > 1) {
        auto* run = new ProcessRun(this);
        connect(run, &ProcessRun::runStarted, this, &TrainingSession::runStarted);
        connect(run, &ProcessRun::progress, this, &TrainingSession::progress);
        connect(run, &ProcessRun::message, this, &TrainingSession::message);
        const auto done = [this, run] {
            if (m_process == run)
                m_process = nullptr;
            run->deleteLater();
            onWorkerDone();
        };
        connect(run, &ProcessRun::finished, this, [this, done](bool stopped, const QString& dir) {
            done();
            Q_EMIT finished(stopped, dir);
        });
        connect(run, &ProcessRun::failed, this, [this, done](const QString& error) {
            done();
            Q_EMIT failed(error);
        });
        QString error;
        Q_EMIT starting();
        if (!run->start(job, job.processes, &error)) {
            delete run;
            m_control.reset();
            Q_EMIT failed(error);
            return false;
        }
        m_process = run;
        setState(State::Running);
        return true;
    }
    Q_EMIT starting();
    setState(State::Running);
    Q_EMIT runRequested(job);
    return true;
}

void TrainingSession::pause()
{
    if (m_state != State::Running)
        return;
    m_control->pause();
    if (m_process)
        m_process->pause();
    setState(State::Paused);
}

void TrainingSession::resume()
{
    if (m_state != State::Paused)
        return;
    m_control->resume();
    if (m_process)
        m_process->resume();
    setState(State::Running);
}

void TrainingSession::stop()
{
    if (m_state != State::Running && m_state != State::Paused)
        return;
    m_control->request_stop(); // also wakes a paused trainer
    if (m_process)
        m_process->stop();
    setState(State::Stopping);
}

void TrainingSession::setLossWeight(const QString& loss, double weight)
{
    if (m_process) {
        Q_EMIT message(int(nectar::MessageLevel::Warning),
            tr("live edits do not reach a multi-process run (every rank trains the same objective)"));
        return;
    }
    if (m_control && isActive())
        m_control->set_loss_weight(loss.toStdString(), weight);
}

void TrainingSession::setLossTags(const QString& loss, const QStringList& tags)
{
    if (m_process) {
        Q_EMIT message(int(nectar::MessageLevel::Warning),
            tr("live edits do not reach a multi-process run (every rank trains the same objective)"));
        return;
    }
    if (!m_control || !isActive())
        return;
    std::vector<std::string> t;
    for (const QString& s : tags)
        t.push_back(s.toStdString());
    m_control->set_loss_tags(loss.toStdString(), t);
}

bool TrainingSession::waitForIdle(int ms)
{
    QDeadlineTimer deadline(ms);
    while (isActive() && !deadline.hasExpired())
        QCoreApplication::processEvents(QEventLoop::AllEvents, 20);
    return !isActive();
}

void TrainingSession::onWorkerDone()
{
    m_control.reset();
    setState(State::Idle);
}
