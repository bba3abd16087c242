// SPDX-License-Identifier: Apache-2.0
#pragma once
/// @file Training page: start/pause/stop, progress, live tag-grouped charts and the example preview.

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

Q_SIGNALS:
    /// The user asked to start; the main window builds the job from the Objective page.
    void startRequested();
    void statusMessage(const QString& text);

private:
    void onStateChanged(TrainingSession::State state);
    void onRunStarted(const nectar::RunInfo& info);
    void onProgress(const nectar::ProgressReport& report);
    void onFinished(bool stopped, const QString& dir);
    void onFailed(const QString& error);
    void onPauseClicked();

    std::unique_ptr<Ui::TrainingPage> ui;
    TrainingSession* m_session;
};
