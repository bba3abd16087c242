// SPDX-License-Identifier: Apache-2.0
#include "widgets/zoomimageview.h"

#include <QGraphicsPixmapItem>
#include <QGraphicsScene>
#include <QWheelEvent>

#include <algorithm>

ZoomImageView::ZoomImageView(QWidget* parent)
    : QGraphicsView(parent)
    , m_item(new QGraphicsPixmapItem)
{
    auto* scene = new QGraphicsScene(this);
    scene->addItem(m_item);
    setScene(scene);
    m_item->setTransformationMode(Qt::FastTransformation);
    setDragMode(QGraphicsView::ScrollHandDrag);
    setTransformationAnchor(QGraphicsView::AnchorUnderMouse);
    setResizeAnchor(QGraphicsView::AnchorViewCenter);
    setBackgroundBrush(palette().dark());
}

void ZoomImageView::setImage(const QImage& image)
{
    m_image = image;
    m_item->setPixmap(QPixmap::fromImage(image));
    scene()->setSceneRect(m_item->boundingRect());
    fitToView();
}

double ZoomImageView::zoom() const
{
    return transform().m11();
}

void ZoomImageView::zoomIn()
{
    scaleBy(kZoomStep);
}

void ZoomImageView::zoomOut()
{
    scaleBy(1.0 / kZoomStep);
}

void ZoomImageView::fitToView()
{
    m_fit = true;
    if (m_image.isNull()) {
        resetTransform();
    } else {
        fitInView(m_item, Qt::KeepAspectRatio);
    }
    Q_EMIT zoomChanged(zoom());
}

void ZoomImageView::actualSize()
{
    m_fit = false;
    resetTransform();
    Q_EMIT zoomChanged(zoom());
}

void ZoomImageView::scaleBy(double factor)
{
    const double target = std::clamp(zoom() * factor, kMinZoom, kMaxZoom);
    if (zoom() <= 0)
        return;
    m_fit = false;
    scale(target / zoom(), target / zoom());
    Q_EMIT zoomChanged(zoom());
}

void ZoomImageView::wheelEvent(QWheelEvent* event)
{
    if (!(event->modifiers() & Qt::ControlModifier)) {
        QGraphicsView::wheelEvent(event); // plain wheel scrolls
        return;
    }
    const int steps = event->angleDelta().y();
    if (steps > 0)
        zoomIn();
    else if (steps < 0)
        zoomOut();
    event->accept();
}

void ZoomImageView::resizeEvent(QResizeEvent* event)
{
    QGraphicsView::resizeEvent(event);
    if (m_fit)
        fitToView();
}
