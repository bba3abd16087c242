// SPDX-License-Identifier: Apache-2.0
// LibTorch headers first and without Qt's `slots` keyword macro (ATen has a slots() method).
#pragma push_macro("slots")
#undef slots
#include "objective/objective.h"
#include "objective/spec_registry.h"
#include "training/pix2pix_trainer.h"
#pragma pop_macro("slots")

#include "bridge/enginebridge_p.h"
#include "session/trainingworker.h"

#include <stdexcept>

namespace {

/// Forwards trainer callbacks (on the training thread) as the worker's signals; Qt queues them
/// to the receivers on the GUI thread with copies of the values.
class SignalObserver : public nectar::TrainingObserver {
public:
    SignalObserver(TrainingWorker* worker, nectar::TrainingObserver* also)
        : m_worker(worker)
        , m_also(also)
    {
    }
    void on_run_started(const nectar::RunInfo& info) override
    {
        if (m_also)
            m_also->on_run_started(info);
        Q_EMIT m_worker->runStarted(info);
    }
    void on_progress(const nectar::ProgressReport& report) override
    {
        if (m_also)
            m_also->on_progress(report);
        Q_EMIT m_worker->progress(report);
    }
    void on_epoch_end(const nectar::EpochSummary& summary) override
    {
        if (m_also)
            m_also->on_epoch_end(summary);
        Q_EMIT m_worker->epochEnded(summary);
    }
    void on_message(nectar::MessageLevel level, const std::string& text) override
    {
        if (m_also)
            m_also->on_message(level, text);
        Q_EMIT m_worker->message(static_cast<int>(level), QString::fromStdString(text));
    }
    void on_run_finished(bool stopped) override
    {
        if (m_also)
            m_also->on_run_finished(stopped);
    }

private:
    TrainingWorker* m_worker;
    nectar::TrainingObserver* m_also;
};

} // namespace

TrainingWorker::TrainingWorker(QObject* parent)
    : QObject(parent)
{
}

TrainingWorker::~TrainingWorker() = default;

void TrainingWorker::registerMetaTypes()
{
    qRegisterMetaType<TrainingJob>();
    qRegisterMetaType<nectar::RunInfo>();
    qRegisterMetaType<nectar::ProgressReport>();
    qRegisterMetaType<nectar::EpochSummary>();
}

void TrainingWorker::run(const TrainingJob& job)
{
    try {
        const QString spec = QString::fromStdString(job.config.train.loss.spec);
        const QString subspec = QString::fromStdString(job.config.train.loss.subspec);
        for (const auto& w : nectar::SpecRegistry::instance().load_default_directories())
            Q_EMIT message(static_cast<int>(nectar::MessageLevel::Warning), QString::fromStdString(w));
        // The table is the spec's losses with the table's weights, tags and schedules (a preset over the spec).
        const nectar::Preset table = engine::presetFromRows(spec, subspec, job.rows);
        const nectar::Objective objective = nectar::resolve_objective(job.config, &table, "the loss table");
        SignalObserver observer(this, job.observer.get());
        nectar::Pix2pixTrainer trainer(job.config, &observer, job.control.get(), &objective);
        const nectar::TrainResult result = trainer.run();
        Q_EMIT finished(result.stopped, QString::fromStdString(result.experiment_dir));
    } catch (const std::exception& e) {
        Q_EMIT failed(QString::fromStdString(e.what()));
    } catch (...) {
        Q_EMIT failed(tr("Training failed with an unknown exception."));
    }
}
