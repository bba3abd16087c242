// SPDX-License-Identifier: Apache-2.0
#include "pages/testresultsmodel.h"

#include <QCoreApplication>
#include <QFileInfo>
#include <QImageReader>
#include <QLocale>
#include <QMetaObject>
#include <QPixmap>
#include <QPointer>
#include <QThreadPool>

#include <cmath>

namespace {
QString formatMetric(double v)
{
    if (std::isnan(v))
        return QStringLiteral("—"); // SSIM of an image smaller than its 11x11 window
    if (std::isinf(v))
        return v > 0 ? QStringLiteral("∞") : QStringLiteral("-∞");
    return QLocale().toString(v, 'g', 5);
}
} // namespace

TestResultsModel::TestResultsModel(QObject* parent)
    : QAbstractTableModel(parent)
{
}

void TestResultsModel::setRun(const engine::TestRunData& run)
{
    beginResetModel();
    m_run = run;
    ++m_generation;
    m_requested.clear();
    m_thumbnails.clear();
    m_metrics = run.hasTargets ? engine::metricNames() : QStringList();
    m_labels = run.hasTargets ? engine::metricLabels() : QStringList();
    endResetModel();
}

int TestResultsModel::metricColumn(const QString& name) const
{
    const int i = static_cast<int>(m_metrics.indexOf(name));
    return i < 0 ? -1 : i + 1;
}

bool TestResultsModel::hasThumbnail(int row) const
{
    return m_thumbnails.contains(row);
}

int TestResultsModel::rowCount(const QModelIndex& parent) const
{
    return parent.isValid() ? 0 : static_cast<int>(m_run.images.size());
}

int TestResultsModel::columnCount(const QModelIndex& parent) const
{
    return parent.isValid() ? 0 : 1 + static_cast<int>(m_metrics.size());
}

QVariant TestResultsModel::data(const QModelIndex& index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const engine::TestImageRow& r = m_run.images.at(index.row());
    const int metric = index.column() - 1;
    const bool hasValue = metric >= 0 && metric < r.metrics.size();
    switch (role) {
    case Qt::DisplayRole:
        if (index.column() == 0)
            return QFileInfo(r.file).fileName();
        return hasValue ? formatMetric(r.metrics.at(metric)) : QString();
    case SortRole:
        if (index.column() == 0)
            return QFileInfo(r.file).fileName();
        return hasValue && !std::isnan(r.metrics.at(metric)) ? QVariant(r.metrics.at(metric)) : QVariant();
    case FileRole:
        return r.file;
    case Qt::ToolTipRole:
        return index.column() == 0 ? QString(r.file + QLatin1Char('\n') + tr("source: ") + r.image) : QVariant();
    case Qt::TextAlignmentRole:
        return index.column() == 0 ? QVariant() : QVariant(Qt::AlignRight | Qt::AlignVCenter);
    case Qt::DecorationRole:
        if (index.column() != 0)
            return {};
        if (const auto it = m_thumbnails.constFind(index.row()); it != m_thumbnails.constEnd())
            return QPixmap::fromImage(*it);
        requestThumbnail(index.row());
        return {};
    case Qt::SizeHintRole:
        return index.column() == 0 ? QVariant(QSize(kThumbnailSize.width() + 80, kThumbnailSize.height() + 8))
                                   : QVariant();
    default:
        return {};
    }
}

QVariant TestResultsModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || section < 0 || section >= columnCount())
        return QAbstractTableModel::headerData(section, orientation, role);
    if (role == Qt::DisplayRole)
        return section == 0 ? tr("Image") : m_labels.at(section - 1);
    if (role == Qt::ToolTipRole && section == 0)
        return m_run.hasTargets ? tr("input | generated | target") : tr("the generated image");
    if (role == Qt::ToolTipRole && section > 0)
        return engine::metricHigherIsBetter(m_metrics.at(section - 1)) ? tr("Higher is better") : tr("Lower is better");
    return {};
}

void TestResultsModel::requestThumbnail(int row) const
{
    if (m_requested.contains(row))
        return;
    m_requested.insert(row);
    const QString file = m_run.images.at(row).file;
    const quint64 generation = m_generation;
    QPointer<TestResultsModel> self(const_cast<TestResultsModel*>(this));
    QThreadPool::globalInstance()->start([self, file, generation, row] {
        QImageReader reader(file);
        const QSize size = reader.size();
        if (size.isValid())
            reader.setScaledSize(size.scaled(kThumbnailSize, Qt::KeepAspectRatio));
        const QImage image = reader.read(); // a null image (unreadable file) is cached too: not read again
        // Queued to the application object: `self` is checked on the GUI thread, where the model lives.
        QMetaObject::invokeMethod(
            QCoreApplication::instance(),
            [self, generation, row, image] {
                if (self)
                    self->onThumbnail(generation, row, image);
            },
            Qt::QueuedConnection);
    });
}

void TestResultsModel::onThumbnail(quint64 generation, int row, const QImage& image)
{
    if (generation != m_generation || row >= rowCount())
        return;
    m_thumbnails.insert(row, image);
    const QModelIndex i = index(row, 0);
    Q_EMIT dataChanged(i, i, { Qt::DecorationRole });
    Q_EMIT thumbnailLoaded(row);
}
