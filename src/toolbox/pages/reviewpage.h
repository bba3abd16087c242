// SPDX-License-Identifier: Apache-2.0
#pragma once
/// @file Review page: plots a saved run's loss_log.json (ours or NectarGAN's) with the tag-grouped
/// charts, overlays more runs (one row each in the run table: show/hide, line style, spec, start,
/// iterations, final loss per tag), diffs two of them (Compare), follows a run another process is
/// writing (Follow), browses the example images by epoch, shows the objective the run recorded
/// (train<K>_objective.json) and offers to continue it.

#include <QMap>
#include <QWidget>

#include <functional>
#include <memory>
#include <vector>

#include "bridge/enginebridge.h"

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
    /// Loads a run (run 0, replacing every run shown) or an overlaid run (run >= 1; -1 = the next free
    /// index) asynchronously: the log is read off the GUI thread, then appended to the charts in slices
    /// with progress. Emits loaded() or failed(). Opening run 0 stops following.
    void openRun(const QString& dir, int run = 0);
    /// Runs in the run table (run index per row, in row order).
    QList<int> runs() const;
    /// A run table row's cells as text (Run, Spec / subspec, Started, Iterations, Final loss per tag, Line).
    QStringList runRow(int run) const;
    /// Removes an overlaid run (run >= 1) from the charts and the table.
    void removeRun(int run);
    /// Loss-aware diff of two shown runs (engine::compareRuns); also what the Compare dialog lists.
    QList<engine::RunDifferenceRow> compareRuns(int runA, int runB) const;
    /// Follows run 0's folder: polls its journal off the GUI thread every `intervalMs` (only new lines are
    /// read; a replaced journal or a resume reloads it) and appends the new values to the charts.
    void setFollowing(bool on, int intervalMs = 500);
    /// Shows `dir` as run 0 (replacing every run) by following it from its first journal line: for a run
    /// that is training now, also one that has not written its journal yet.
    void followRun(const QString& dir, int intervalMs = 500);
    bool following() const;
    /// The badge's text: "following · last value N s ago" (or why nothing arrived).
    QString followBadge() const;
    /// Values appended by the follow mode (all losses).
    qint64 followedValues() const { return m_followTotal; }
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
    static constexpr int kSupersededRun = 1000;
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
    void addRunRow(const Pending& p);
    void pollFollow();
    void applyFollow();
    void updateBadge();
    int nextRun() const;
    /// Run 0 becomes `dir`: every run, chart and table row shown before goes.
    void startOver(const QString& dir);
    void showCompare();

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
    QMap<int, QString> m_runDirs; // run -> folder
    struct Follow;
    std::unique_ptr<Follow> m_follow;
    QTimer* m_followTimer;
    QTimer* m_badgeTimer;
    qint64 m_followTotal = 0;
};
