// SPDX-License-Identifier: Apache-2.0
#pragma once
/// @file Testing page: runs a saved epoch's generator (the engine's Tester) on its split, another dataset
/// folder of A|B pairs, or a folder of input-only images, on a worker thread with progress and Stop, and
/// shows the run as a gallery of input | generated | target sortable by each metric either way, with the
/// selected image's metrics and a zoomable view. A version selector switches between the experiment's
/// earlier test runs (test_epoch<N>_v<K>). Folder scans and metrics.json reads run off the GUI thread too;
/// bad input (no checkpoint at that epoch, a folder with no images, a channel mismatch) is shown inline with
/// the engine's message, which names the file or folder.

#include <QStringList>
#include <QWidget>

#include <functional>

#include "bridge/evaluationbridge.h"

class BackgroundJob;
class InlineMessage;
class QComboBox;
class QLabel;
class QLineEdit;
class QProgressBar;
class QPushButton;
class QSortFilterProxyModel;
class QTableView;
class TestResultsModel;
class ZoomImageView;

class TestingPage : public QWidget {
    Q_OBJECT
public:
    explicit TestingPage(QWidget* parent = nullptr);
    ~TestingPage() override;

    /// Where the experiment combo looks for known experiments (the settings' output folder), asked each time.
    void setRunsFolder(std::function<QString()> folder);
    /// Chooses the experiment: scans its checkpoints and test runs off the GUI thread (epochsScanned()),
    /// then shows its newest test run, if any.
    void setExperiment(const QString& dir);
    QString experiment() const;
    /// The epochs listed (the experiment's checkpoints).
    QList<int> epochs() const;
    /// Sets the epoch to test (also one that is not listed: the engine then says which epochs exist).
    void setEpoch(int epoch);
    /// "split" | "folder" | "input".
    void setSource(const QString& source);
    void setSplit(const QString& split);
    void setFolder(const QString& dir);
    /// "resize" | "tile" (input-only images).
    void setFit(const QString& fit);

    /// Starts the test on the worker thread; false (with an inline error) when it cannot start.
    bool runTest();
    void stop();
    bool isRunning() const;
    QString errorText() const;

    TestResultsModel* model() const { return m_model; }
    QSortFilterProxyModel* proxy() const { return m_proxy; }
    QTableView* gallery() const { return m_view; }
    ZoomImageView* imageView() const { return m_zoom; }
    /// The test runs in the version selector, in its order.
    QList<engine::TestRunEntry> testRuns() const { return m_runs; }
    /// Shows the test run in version selector row `index` (its metrics.json read off the GUI thread: runLoaded()).
    void showTestRun(int index);
    /// Sorts the gallery by metric `name` (engine::metricNames(), or "" for the image name).
    void sortBy(const QString& name, Qt::SortOrder order);
    /// Selects the gallery row (in sorted order) and shows its image and metrics.
    void selectImage(int row);
    /// The selected image's details (file, source, each metric), empty when none is selected.
    QString detailsText() const;
    /// The summary line of the shown run (epoch, version, source, count, means).
    QString summaryText() const;

Q_SIGNALS:
    void epochsScanned(const QString& dir);
    void progress(qint64 done, qint64 total);
    /// A test run ended (finished or stopped) and is shown.
    void runFinished(bool stopped, const QString& testDir);
    void runFailed(const QString& error);
    /// A test run's metrics.json was read and is shown.
    void runLoaded(const QString& testDir);
    void statusMessage(const QString& text);

private:
    void browseExperiment();
    void browseFolder();
    void scan();
    void onScanned(const QVariant& result);
    void fillVersions(const QString& select);
    void loadRun(const QString& dir);
    void showRun(const engine::TestRunData& run);
    void onRunDone(const QVariant& result);
    void updateSourceFields();
    void updateButtons();
    void onSortIndicator(int column, Qt::SortOrder order);
    void onSelection();
    void rememberExperiment(const QString& dir);
    void refreshKnownExperiments();

    std::function<QString()> m_runsFolder;
    QComboBox* m_experiment;
    QPushButton* m_browseExperiment;
    QComboBox* m_epoch;
    QComboBox* m_source;
    QComboBox* m_split;
    QLineEdit* m_folder;
    QPushButton* m_browseFolder;
    QComboBox* m_fit;
    QPushButton* m_run;
    QPushButton* m_stop;
    QProgressBar* m_progress;
    InlineMessage* m_message;
    QComboBox* m_version;
    QComboBox* m_sortKey;
    QComboBox* m_sortOrder;
    QLabel* m_summary;
    QTableView* m_view;
    TestResultsModel* m_model;
    QSortFilterProxyModel* m_proxy;
    QLabel* m_details;
    ZoomImageView* m_zoom;
    BackgroundJob* m_test; // the test run
    BackgroundJob* m_scanner; // checkpoints + test runs of the experiment
    BackgroundJob* m_loader; // a test run's metrics.json
    BackgroundJob* m_known; // experiments under the runs folder
    QString m_scanDir; // the experiment the running scan reads
    bool m_rescan = false; // the experiment changed during a scan
    QString m_loadDir; // the test run the running load reads
    QString m_pendingLoad; // asked for during a load
    QString m_selectAfterScan; // the test run to show once the scan is in
    QList<engine::TestRunEntry> m_runs;
    quint64 m_imageGeneration = 0;
};
