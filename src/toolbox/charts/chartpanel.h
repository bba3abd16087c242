// SPDX-License-Identifier: Apache-2.0
#pragma once
/// @file Tag-grouped loss charts with their view controls (used live on the Training page and on
/// the Review page).

#include <QHash>
#include <QMap>
#include <QSet>
#include <QWidget>

#include <memory>
#include <vector>

#include "training/progress.h"

class LossChart;
namespace Ui {
class ChartPanel;
}

/// Keeps every received value (raw and weight per iteration, per loss and run) and shows it in one
/// LossChart per tag: a loss with several tags appears in each chart, untagged losses in an
/// "untagged" chart, and an optional chart shows the weight history. New values are appended to
/// the charts; only a change of view mode (x axis, weighted/raw) rebuilds the lines.
class ChartPanel : public QWidget {
    Q_OBJECT
public:
    /// x axis: global iteration, fractional epoch, wall time (local date/time) or time since the run's
    /// first value. The time axes need a wall time per value (our logs since they exist; NectarGAN's
    /// have none: such a run is left out of the time axes and the axis label says so).
    enum class XMode { Iterations, Epochs, WallTime, RunTime };
    /// Weighted (loss × λ), raw, or each loss's share of its tag's total weighted loss, stacked (the tag
    /// charts then stack one run: the first visible one; the weights chart is unchanged).
    enum class YMode { Weighted, Raw, Share };
    static QString untaggedTitle();
    static QString weightsTitle();
    /// A loss's line colour, derived from its name only (the same in every run, chart and page).
    static QColor colorFor(const QString& lossName);
    /// `path`, with ".<suffix>" appended unless it already ends so (export dialogs).
    static QString withSuffix(const QString& path, const QString& suffix);

    explicit ChartPanel(QWidget* parent = nullptr);
    ~ChartPanel() override;

    /// Removes all charts and data.
    void clear();
    /// Removes one run's series (e.g. the overlay) and the charts left empty.
    void clearRun(int run);
    /// Maps iterations to fractional epochs for `run`: epoch = first_epoch - 1 + (iteration + 1) / per_epoch.
    void setEpochMapping(qint64 iterationsPerEpoch, int firstEpoch, int run = 0);
    /// Label prefixed to the overlay run's legend entries (run > 0).
    void setRunLabel(int run, const QString& label);
    /// Appends one loss's new values. Run 0 is the main run (solid lines), other runs are overlaid (dashed
    /// unless setRunStyle says otherwise).
    void appendChunk(const nectar::LossSeriesChunk& chunk, int run = 0);
    /// Line style of a run's series (set before its first values).
    void setRunStyle(int run, Qt::PenStyle style);
    Qt::PenStyle runStyle(int run) const;
    /// Shows or hides every line of a run (the Review page's run table checkboxes).
    void setRunVisible(int run, bool visible);
    bool runVisible(int run) const { return !m_hiddenRuns.contains(run); }
    /// Records a live objective edit of `run`: a vertical marker on the charts that show the loss and on
    /// the weights chart, hover gives "iteration I: loss field old → new".
    void addEdit(const nectar::LossEdit& edit, int run = 0);
    /// Edits recorded for `run`.
    const std::vector<nectar::LossEdit>& edits(int run = 0) const;
    /// The planned weights of run 0's `loss` (one per epoch from `firstEpoch`, starting at global iteration
    /// `firstIteration`, `iterationsPerEpoch` each): a dashed line in the weights chart (iteration and epoch
    /// axes), ahead of the weights applied so far. A live weight edit replaces the plan from its iteration.
    void setPlannedWeights(
        const QString& loss, qint64 firstIteration, qint64 iterationsPerEpoch, const std::vector<double>& weights);
    /// Key of a plan's line in the weights chart.
    static QString planKey(const QString& loss) { return QStringLiteral("plan/") + loss; }
    /// True when every value of `run` has a wall time (the time axes can show it).
    bool hasWallTimes(int run) const;

    QStringList chartTitles() const;
    LossChart* chart(const QString& title) const;
    QStringList lossNames(int run = 0) const;
    /// Points of a loss in a chart (0 if it is not there).
    int pointCount(const QString& chartTitle, const QString& loss, int run = 0) const;
    /// Values stored for a loss (all iterations received).
    qint64 storedCount(const QString& loss, int run = 0) const;

    XMode xMode() const { return m_xMode; }
    YMode yMode() const { return m_yMode; }
    void setXMode(XMode mode);
    void setYMode(YMode mode);
    void setLogScale(bool on);
    void setLogX(bool on);
    bool logX() const { return m_logX; }
    void setSmoothing(double weight);
    /// EMA, centred running average, or average + min/max band (LossChart::SmoothingKind); not the weights chart.
    void setSmoothingKind(int kind);
    int smoothingKind() const { return m_smoothingKind; }
    void setShowWeights(bool on);

    /// Writes the visible charts as one PNG. Returns false and sets *error on failure.
    bool exportPng(const QString& path, QString* error);
    /// Writes all series as CSV (run, loss, tags, iteration, epoch, raw, weight, weighted), atomically.
    bool exportCsv(const QString& path, QString* error) const;
    /// Replots every chart now (tests, exports).
    void replotAll();

Q_SIGNALS:
    void statusMessage(const QString& text);

private:
    struct Series {
        int run = 0;
        QString name;
        QStringList tags;
        QColor color;
        std::vector<qint64> iterations;
        std::vector<float> raw;
        std::vector<float> weights;
        std::vector<double> times; ///< Unix seconds per value (NaN: unknown)
    };
    static QString seriesKey(int run, const QString& name);
    QStringList chartsFor(const Series& s) const;
    LossChart* ensureChart(const QString& title);
    void addToChart(LossChart* chart, const QString& key, const Series& s, std::size_t from);
    /// x of value j of `s` in the current mode (NaN: not shown, e.g. no wall time).
    double xFor(const Series& s, std::size_t j) const;
    double xForEdit(int run, const nectar::LossEdit& e) const;
    void updateMarkers();
    void updatePlans();
    double xForIteration(int run, double iteration) const;
    QMap<QString, std::vector<std::pair<qint64, double>>> m_plans; ///< loss -> (from iteration, weight) steps
    QMap<QString, qint64> m_planEnd; ///< loss -> last planned iteration
    void rebuildAll();
    void relayout();
    /// In share view, the keys each tag chart stacks: its series of the first visible run.
    void updateShareKeys();
    void updateAxisLabels();
    void onExportPng();
    void onExportCsv();

    std::unique_ptr<Ui::ChartPanel> ui;
    QMap<QString, Series> m_series; // key "run/name"
    QStringList m_seriesOrder;
    QMap<QString, LossChart*> m_charts;
    QStringList m_chartOrder;
    QHash<int, QPair<qint64, int>> m_epochMapping;
    QHash<int, QString> m_runLabels;
    XMode m_xMode = XMode::Iterations;
    YMode m_yMode = YMode::Weighted;
    bool m_log = false;
    bool m_logX = false;
    QHash<int, Qt::PenStyle> m_runStyles;
    QSet<int> m_hiddenRuns;
    QHash<int, std::vector<nectar::LossEdit>> m_edits;
    QHash<int, double> m_runStart; ///< first wall time per run (RunTime axis)
    QSet<int> m_runsWithoutTimes;
    bool m_showWeights = false;
    double m_smoothing = 0.6;
    int m_smoothingKind = 0;
};
