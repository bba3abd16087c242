// SPDX-License-Identifier: Apache-2.0
#pragma once
/// @file The toolbox window: hosts the pages, menus, shortcuts, presets, the status bar and the
/// persisted window state. Page logic lives in the page classes; run state in TrainingSession.

#include <QMainWindow>

#include <functional>
#include <memory>

class ObjectivePage;
class ReviewPage;
class TrainingPage;
class TrainingSession;
class QLabel;
namespace Ui {
class MainWindow;
}

class MainWindow : public QMainWindow {
    Q_OBJECT
public:
    explicit MainWindow(QWidget* parent = nullptr);
    ~MainWindow() override;

    ObjectivePage* objectivePage() const { return m_objective; }
    TrainingPage* trainingPage() const { return m_training; }
    ReviewPage* reviewPage() const { return m_review; }
    TrainingSession* session() const { return m_session; }

    /// Loads a preset into the Objective page; on error shows it inline, changes nothing, returns false.
    bool loadPresetFile(const QString& path);
    /// Saves the current objective (and settings if enabled) as a preset; false + inline error.
    bool savePresetFile(const QString& path);
    bool loadConfigFile(const QString& path);
    bool saveConfigFile(const QString& path);
    /// Loads a saved run into the Objective page to continue it: its newest config copy set to continue
    /// from its newest checkpoint, and the objective it recorded (train<K>_objective.json) in the table,
    /// which the user may edit to override it; the page says which was loaded. False + inline error.
    bool continueRun(const QString& experimentDir);
    /// Starts a run from the Objective page; false + inline error on the Training page.
    bool startTraining();
    void setPresetsIncludeSettings(bool on);
    QStringList recentPresets() const;
    /// Asked when the window is closed during training (default: a message box). Tests replace it.
    void setStopConfirmation(std::function<bool()> ask) { m_confirmStop = std::move(ask); }
    void showPage(int index);

protected:
    void closeEvent(QCloseEvent* event) override;

private:
    void setupActions();
    void rebuildPresetMenus();
    void addRecentPreset(const QString& path);
    void onSessionStateChanged();
    void onLossEdited(const QString& name);
    QString lastPath(const QString& key) const;
    void setLastPath(const QString& key, const QString& file);

    std::unique_ptr<Ui::MainWindow> ui;
    TrainingSession* m_session;
    ObjectivePage* m_objective;
    TrainingPage* m_training;
    ReviewPage* m_review;
    QLabel* m_stateLabel;
    std::function<bool()> m_confirmStop;
    bool m_closeAfterStop = false;
};
