// SPDX-License-Identifier: Apache-2.0
#pragma once
/// @file An image view with zoom: Ctrl+wheel or zoomIn()/zoomOut() scale by kZoomStep around the cursor,
/// fitToView() fits the whole image (the default, kept on resize until the user zooms), drag pans.
/// Pixels stay sharp when zoomed in (no smoothing), so a generated image can be inspected pixel by pixel.

#include <QGraphicsView>
#include <QImage>

class QGraphicsPixmapItem;

class ZoomImageView : public QGraphicsView {
    Q_OBJECT
public:
    static constexpr double kZoomStep = 1.25;
    static constexpr double kMinZoom = 0.05;
    static constexpr double kMaxZoom = 32.0;

    explicit ZoomImageView(QWidget* parent = nullptr);

    /// Shows `image` fitted to the view (a null image clears the view).
    void setImage(const QImage& image);
    QImage image() const { return m_image; }
    /// The scale of image pixels to view pixels (1 = 100 %).
    double zoom() const;
    bool fitted() const { return m_fit; }

public Q_SLOTS:
    void zoomIn();
    void zoomOut();
    void fitToView();
    /// 100 %: one image pixel per screen pixel.
    void actualSize();

Q_SIGNALS:
    void zoomChanged(double zoom);

protected:
    void wheelEvent(QWheelEvent* event) override;
    void resizeEvent(QResizeEvent* event) override;

private:
    void scaleBy(double factor);

    QGraphicsPixmapItem* m_item;
    QImage m_image;
    bool m_fit = true;
};
