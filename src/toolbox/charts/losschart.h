// SPDX-License-Identifier: Apache-2.0
#pragma once
/// @file One live loss chart (QCustomPlot): one line per loss, appended incrementally.

#include <QHash>
#include <QString>
#include <QTimer>

#include <qcustomplot.h>

#include <memory>
#include <vector>

#include "charts/seriesstore.h"

/// A chart of loss series against an x axis (iterations or fractional epochs; the caller supplies x).
///
/// Each series has a faint "raw" line and a bold line smoothed with TensorBoard's debiased EMA
/// (weight 0 = no smoothing, the raw line is then hidden). The samples live in a charts::SeriesStore
/// (float32, min/max pyramid); before each replot every visible line is decimated M4-style to the
/// visible x range and the plot's pixel width, and only those points (<= 4 per pixel column) are handed
/// to QCustomPlot. So a replot costs O(plot width) whatever the run length, zoom and pan pick the right
/// level, and no spike is dropped. Replots are coalesced by a timer to at most ~30 per second. Non-finite values leave
/// a gap in the line and are marked with a red cross at the last finite value, so they never break the auto-range. The
/// auto-range ignores the 0.5 % most extreme samples on each side, so a single spike does not flatten the rest; user
/// zoom/drag switches it off, a double click restores it.
class LossChart : public QCustomPlot {
    Q_OBJECT
public:
    explicit LossChart(const QString& title, QWidget* parent = nullptr);
    ~LossChart() override;

    QString title() const { return m_title; }

    /// Adds a series (no-op if `key` exists). A dashed line is used for overlaid runs, a dotted one for
    /// superseded values.
    void addSeries(const QString& key, const QString& label, const QColor& color, Qt::PenStyle style = Qt::SolidLine);
    bool hasSeries(const QString& key) const { return m_series.contains(key); }
    QStringList seriesKeys() const;
    /// Appends points; x must be >= the last x of the series. y may be NaN/Inf.
    void appendPoints(const QString& key, const std::vector<double>& x, const std::vector<double>& y);
    /// Removes all points of a series (for a mode change), keeping the series.
    void clearSeries(const QString& key);
    void removeAllSeries();
    void removeSeries(const QString& key);

    /// Number of points of a series (finite or not).
    int pointCount(const QString& key) const;
    /// The stored samples of a series (x as appended, raw and smoothed values); nullptr if unknown.
    const charts::SeriesStore* store(const QString& key) const;
    /// The points handed to QCustomPlot for a series' smoothed (or raw) line at the last replot.
    int drawnPointCount(const QString& key, bool smoothed = true) const;
    int nonFiniteCount(const QString& key) const;
    bool seriesVisible(const QString& key) const;
    void setSeriesVisible(const QString& key, bool visible);

    /// EMA weight in [0, 1); recomputes the smoothed lines from the raw ones. For the running average and
    /// the band it sets the window: windowFor(weight) samples.
    void setSmoothing(double weight);
    /// The bold line: TensorBoard's debiased EMA (default), a centred running average over a window of
    /// samples, or that average with a shaded min/max band over the same window (the raw line then hidden).
    /// Average and band are evaluated per drawn pixel column over [first - W/2, last + W/2] of the samples
    /// it covers (exact sums and min/max from the store's pyramids, so still O(plot width)).
    enum class SmoothingKind { Ema, Average, Band };
    void setSmoothingKind(SmoothingKind kind);
    SmoothingKind smoothingKind() const { return m_smoothingKind; }
    /// Window in samples for a smoothing weight w: round(1 / (1 - w)), e.g. 0.6 -> 3, 0.99 -> 100.
    static std::int64_t windowFor(double weight);
    /// Points of a series' band at the last replot (0 unless the band is shown).
    int bandPointCount(const QString& key) const;
    void setLogScale(bool on);
    /// Integer-only ticks on the x axis (iterations), or any (fractional epochs, time).
    void setIntegerX(bool on) { setXKind(on ? XKind::Integer : XKind::Number); }
    /// How x is labelled: numbers, whole numbers (iterations), local date/time (x = Unix seconds) or a
    /// duration h:mm:ss (x = seconds since the run started).
    enum class XKind { Number, Integer, DateTime, Duration };
    void setXKind(XKind kind);
    XKind xKind() const { return m_xKind; }
    /// Logarithmic x axis (x <= 0 is not shown). Decimation then uses pixel columns of equal log width.
    void setLogX(bool on);
    bool logX() const { return m_logX; }

    /// Stacked share view (the values must be weighted losses): each loss's share, in %, of the total of
    /// the stacked losses, per drawn column of about 2 px (or per sample when there are fewer). A column's
    /// share of loss i is max(0, m_i) / sum_j max(0, m_j), m = the mean of the finite values it covers,
    /// widened by the smoothing window (windowFor) as the running average is, so the shares are those of
    /// the summed weighted loss over that stretch of training, not of single noisy samples. O(width ·
    /// losses · log n) per replot, from the store's sum pyramid. A loss outside its own first..last x (e.g.
    /// at weight 0, not computed yet) counts 0. The y axis is 0..100 % (log y does not apply).
    void setStackedShare(bool on);
    bool stackedShare() const { return m_stackedShare; }
    /// The series stacked in share view, bottom first (empty: all). Others draw nothing there (e.g. the
    /// overlaid runs: a stack mixes one run's losses only). Hidden series leave the stack and its total.
    void setShareKeys(const QStringList& keys);
    QStringList shareKeys() const { return m_shareKeys; }
    /// The last drawn share columns: x, and per stacked key its share (%) and mean weighted value.
    struct ShareColumns {
        std::vector<double> x;
        QStringList keys; ///< bottom first
        std::vector<std::vector<double>> share; ///< [key][column], NaN where the total is 0
        std::vector<std::vector<double>> mean; ///< [key][column]
    };
    const ShareColumns& shareColumns() const { return m_share; }

    /// A vertical marker (a live objective edit): `text` is shown when the pointer rests on it.
    struct Marker {
        double x = 0.0;
        QString text;
    };
    /// Replaces the markers (cheap: one item per marker).
    void setMarkers(const std::vector<Marker>& markers);
    const std::vector<Marker>& markers() const { return m_markers; }
    /// The text of the markers within 4 px of pixel column `px` ("" if none).
    QString markerTextAt(double px) const;
    void setAxisLabels(const QString& x, const QString& y);
    /// Auto-range on/off (off after the user zooms or drags).
    void setAutoRange(bool on);
    bool autoRange() const { return m_autoRange; }

    /// Requests a replot; replots are coalesced (at most one per ~33 ms).
    void scheduleReplot();
    /// Replots now (rescaling if auto-range is on). Used by tests and exports.
    void replotNow();
    /// Outlier-robust y range over the visible series (0.5 % / 99.5 % quantiles of a sample, 5 % margin).
    QCPRange robustValueRange(bool* ok) const;

Q_SIGNALS:
    void seriesVisibilityChanged(const QString& key, bool visible);

protected:
    bool event(QEvent* event) override;
    void mouseMoveEvent(QMouseEvent* event) override;
    void mouseDoubleClickEvent(QMouseEvent* event) override;
    void wheelEvent(QWheelEvent* event) override;
    void mousePressEvent(QMouseEvent* event) override;

private:
    struct Series {
        QString label;
        std::shared_ptr<charts::SeriesStore> store; ///< every sample (shared_ptr: QHash needs copyable values)
        QCPGraph* raw = nullptr; ///< faint, unsmoothed: decimated points of the visible range
        QCPGraph* smooth = nullptr; ///< bold, EMA-smoothed; legend entry
        QCPGraph* marks = nullptr; ///< red crosses at non-finite points
        QCPGraph* bandLow = nullptr; ///< band view: lower edge (created on first use)
        QCPGraph* bandHigh = nullptr; ///< band view: upper edge, filled down to bandLow
        double lastFinite = 0.0;
    };
    void onLegendClick(QCPLegend* legend, QCPAbstractLegendItem* item, QMouseEvent* event);
    void applySeriesStyle(Series& s);
    void rescale();
    void applyYScale();
    /// Re-decimates the visible lines when the data, the x range or the plot width changed (afterLayout).
    void updateDrawnData();

    QString m_title;
    QHash<QString, Series> m_series;
    QStringList m_order;
    double m_smoothing = 0.6;
    SmoothingKind m_smoothingKind = SmoothingKind::Ema;
    /// The decimated columns of a view over the visible x range (linear or log x).
    std::vector<charts::Column> visibleColumns(
        const charts::SeriesStore& store, charts::SeriesStore::View view, const QCPRange& range, int width) const;
    bool m_log = false;
    bool m_autoRange = true;
    QTimer m_replotTimer;
    bool m_dataChanged = true;
    QCPRange m_drawnRange;
    int m_drawnWidth = -1;
    std::vector<Marker> m_markers;
    std::vector<QCPItemStraightLine*> m_markerItems;
    XKind m_xKind = XKind::Number;
    bool m_logX = false;
    /// Recomputes m_share for the visible x range and sets the stacked graphs' data.
    void updateShareData(const QCPRange& range, int width);
    QString shareTipAt(double px) const;
    bool m_stackedShare = false;
    QStringList m_shareKeys;
    ShareColumns m_share;
    QString m_valueTip; ///< the value tooltip shown while the pointer rests (replaces the usage tooltip)
};
