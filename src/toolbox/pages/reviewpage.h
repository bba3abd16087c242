// SPDX-License-Identifier: Apache-2.0
#pragma once
/// @file Review page: plots a saved run's loss_log.json (ours or NectarGAN's) with the tag-grouped
/// charts, overlays a second run, browses the example images by epoch, shows the objective the run
/// recorded (train<K>_objective.json) and offers to continue it.

#include <QMap>
#include <QWidget>

#include <functional>
#include <memory>
#include <vector>

class ChartPanel;
class QLabel;
class QThread;
class QTimer;
namespace nectar {
struct LossLogData;
struct SupersededSegment;
}
namespace Ui {
class ReviewPage;
}

class ReviewPage : public QWidget {
    Q_OBJECT
public:
    explicit ReviewPage(QWidget* parent = nullptr);
    ~ReviewPage() override;

    ChartPanel* charts() const;
    /// Loads a run (run 0) or an overlay (run 1) asynchronously: the log is read off the GUI thread,
    /// then appended to the charts in slices with progress. Emits loaded() or failed().
    void openRun(const QString& dir, int run = 0);
    bool isLoading() const;
    QString errorText() const;
    QStringList exampleEpochs() const;
    /// Shows the examples of an epoch (by its text in the epoch list).
    void showEpoch(const QString& epoch);
    QString shownImage() const { return m_shownImage; }
    /// The opened run (run 0), empty before one loaded.
    QString runDir() const { return m_runDir; }
    /// What the objective box says about the opened run (spec / subspec and file, or why there is none).
    QString objectiveSummary() const;
    /// While a run trains, "Continue this run" is disabled (the loss table belongs to that run).
    void setTrainingActive(bool active);
    /// Values the opened run's journal keeps as superseded (logged after the checkpoint a later run
    /// continued from): left out of the charts unless shown on request, as chart run kSupersededRun.
    static constexpr int kSupersededRun = 2;
    std::size_t supersededCount() const;
    void setShowSuperseded(bool show);
    /// Where "Open run…" starts when no run was opened before: `folder` returns the runs folder (the
    /// settings' output folder), asked each time so it follows the settings.
    void setRunsFolder(std::function<QString()> folder) { m_runsFolder = std::move(folder); }
    /// The folder the open dialogs start in: the folder of the last opened run, else the runs folder, else $HOME.
    QString browseStartFolder() const;
    /// The hint shown until a run is opened ("" once hidden).
    QString emptyHint() const;

Q_SIGNALS:
    void loaded(const QString& dir, int run);
    void failed(const QString& error);
    void statusMessage(const QString& text);
    /// "Continue this run" was pressed for the opened run.
    void continueRequested(const QString& dir);

private:
    struct Pending;
    void browse(int run);
    void onReadDone();
    void appendSlice();
    void scanExamples(const QString& dir);
    void showError(const QString& text);
    void showObjective(const Pending& p);
    void plotSuperseded();

    std::unique_ptr<Ui::ReviewPage> ui;
    QThread* m_reader = nullptr;
    std::unique_ptr<Pending> m_pending;
    QTimer* m_sliceTimer;
    QString m_runDir;
    std::function<QString()> m_runsFolder;
    QLabel* m_emptyHint;
    QMap<int, QStringList> m_examples; // epoch -> files
    QString m_shownImage;
    bool m_canContinue = false; // the opened run is one of ours
    bool m_trainingActive = false;
    std::vector<nectar::SupersededSegment> m_superseded; // run 0's
    QMap<QString, QStringList> m_supersededTags;
};
