// SPDX-License-Identifier: Apache-2.0
#pragma once
/// @file Training page: the run's state, progress, live tag-grouped charts and the example preview. Start,
/// pause and stop are the window's actions (toolbar, Training menu, F5/F6/Shift+F5), shown once.

#include <QWidget>

#include <memory>

#include "session/trainingsession.h"

class ChartPanel;
namespace Ui {
class TrainingPage;
}

class TrainingPage : public QWidget {
    Q_OBJECT
public:
    /// `session` must outlive the page.
    explicit TrainingPage(TrainingSession* session, QWidget* parent = nullptr);
    ~TrainingPage() override;

    ChartPanel* charts() const;
    QString errorText() const;
    QString stateText() const;
    /// Shows an inline error (empty hides it).
    void showError(const QString& text);
    /// The hint shown instead of charts and preview until the first run starts ("" once hidden).
    QString emptyHint() const;
    /// The speed and ETA labels as shown (e.g. "– it/s", "stopped after 0:00:12").
    QString speedText() const;
    QString etaText() const;

Q_SIGNALS:
    void statusMessage(const QString& text);

private:
    void onStarting();
    void onStateChanged(TrainingSession::State state);
    void onRunStarted(const nectar::RunInfo& info);
    void onProgress(const nectar::ProgressReport& report);
    void onFinished(bool stopped, const QString& dir);
    void onFailed(const QString& error);
    /// Speed and ETA once no run is going: nothing measured now, only how long it ran.
    void showEnded(const QString& how);

    std::unique_ptr<Ui::TrainingPage> ui;
    TrainingSession* m_session;
    double m_elapsed = -1.0; // seconds the current / last run has trained, -1 before its first report
};
