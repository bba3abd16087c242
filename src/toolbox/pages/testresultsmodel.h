// SPDX-License-Identifier: Apache-2.0
#pragma once
/// @file The Testing page's gallery: one row per image of a test run, column 0 the image (its name and a
/// thumbnail of input | generated | target), then one column per metric (engine::metricNames(); none for
/// an input-only run). Thumbnails are read lazily on Qt's global thread pool and cached; a row shows a
/// placeholder until its thumbnail arrives. Sorting goes through a QSortFilterProxyModel with
/// sortRole() = SortRole (the metric as a double, the name for column 0).

#include <QAbstractTableModel>
#include <QHash>
#include <QImage>
#include <QSet>
#include <QSize>

#include "bridge/evaluationbridge.h"

class TestResultsModel : public QAbstractTableModel {
    Q_OBJECT
public:
    enum Role {
        SortRole = Qt::UserRole + 1, ///< double metric value (PSNR +inf for identical images); file name in column 0
        FileRole, ///< absolute path of the written image
    };
    /// Thumbnail size of the three-panel image (about 3:1).
    static constexpr QSize kThumbnailSize { 144, 48 };

    explicit TestResultsModel(QObject* parent = nullptr);

    /// Shows `run` (replaces every row; thumbnails of the old run still loading are dropped).
    void setRun(const engine::TestRunData& run);
    const engine::TestRunData& run() const { return m_run; }
    /// Column of metric `name` (engine::metricNames()), -1 if none (unknown, or an input-only run).
    int metricColumn(const QString& name) const;
    /// Whether the thumbnail of `row` is cached (tests wait for it).
    bool hasThumbnail(int row) const;

    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

Q_SIGNALS:
    void thumbnailLoaded(int row);

private:
    void requestThumbnail(int row) const;
    void onThumbnail(quint64 generation, int row, const QImage& image);

    engine::TestRunData m_run;
    QStringList m_metrics; // keys of the metric columns
    QStringList m_labels;
    quint64 m_generation = 0; // bumped by setRun: late thumbnails of an earlier run are dropped
    mutable QSet<int> m_requested;
    QHash<int, QImage> m_thumbnails;
};
