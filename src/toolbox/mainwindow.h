// SPDX-License-Identifier: Apache-2.0
#pragma once
/// @file The toolbox window: hosts the pages, menus, shortcuts, presets, the status bar and the
/// persisted window state. Page logic lives in the page classes; run state in TrainingSession.

#include <QMainWindow>

#include <functional>
#include <memory>

class ObjectivePage;
class ReviewPage;
class TestingPage;
class UtilitiesPage;
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
    TestingPage* testingPage() const { return m_testing; }
    UtilitiesPage* utilitiesPage() const { return m_utilities; }
    TrainingSession* session() const { return m_session; }

    /// Loads a preset into the Objective page; on error shows it inline, changes nothing, returns false.
    bool loadPresetFile(const QString& path);
    /// Saves the current objective (and settings if enabled) as a preset; false + inline error.
    bool savePresetFile(const QString& path);
    /// Loads a NectarGAN config into the settings and the table (its spec, subspec and lambdas). When the
    /// table has edits, asks first (setReplaceTableConfirmation); declined: nothing changes, false. An empty
    /// dataloader.dataroot keeps the shown dataset root, with a note. False + inline error on a bad file.
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
    /// Asked before a loaded config replaces an edited loss table (default: a message box). Tests replace it.
    void setReplaceTableConfirmation(std::function<bool()> ask) { m_confirmReplaceTable = std::move(ask); }
    /// True when the table differs from what the chosen spec/subspec builds from the settings' lambdas.
    bool tableEdited() const;
    void showPage(int index);
    /// Where runs go: the settings' output folder, else ~/nectar-runs (what a run started now uses).
    QString runsFolder() const;
    /// The objective and settings of the last session, restored at start and written (atomically, as a
    /// preset with settings) on close and when a run starts: <AppConfigLocation>/session.json.
    static QString sessionFile();
    /// Writes sessionFile(); false (and a warning on stderr) when it cannot be written.
    bool saveSession();

protected:
    void closeEvent(QCloseEvent* event) override;

private:
    void setupActions();
    void rebuildPresetMenus();
    void addRecentPreset(const QString& path);
    void onSessionStateChanged();
    void onLossEdited(const QString& name);
    void restoreSession();
    QString lastPath(const QString& key) const;
    void setLastPath(const QString& key, const QString& file);

    std::unique_ptr<Ui::MainWindow> ui;
    TrainingSession* m_session;
    ObjectivePage* m_objective;
    TrainingPage* m_training;
    ReviewPage* m_review;
    TestingPage* m_testing;
    UtilitiesPage* m_utilities;
    QLabel* m_stateLabel;
    std::function<bool()> m_confirmStop;
    std::function<bool()> m_confirmReplaceTable;
    bool m_closeAfterStop = false;
};
