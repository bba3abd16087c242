// SPDX-License-Identifier: Apache-2.0
#include "pages/trainingpage.h"

#include <QImage>
#include <QLabel>
#include <QPixmap>
#include <QProgressBar>

#include <algorithm>
#include <climits>

#include "charts/chartpanel.h"
#include "ui_trainingpage.h"
#include "widgets/inlinemessage.h"

namespace {
QPixmap toPixmap(const std::optional<nectar::RgbImage>& img)
{
    if (!img || img->empty())
        return {};
    const QImage view(img->rgb.data(), img->width, img->height, img->width * 3, QImage::Format_RGB888);
    return QPixmap::fromImage(view.copy()); // copy: the report's buffer dies with the report
}

QString duration(double seconds)
{
    const auto s = static_cast<qint64>(seconds + 0.5);
    return QStringLiteral("%1:%2:%3")
        .arg(s / 3600)
        .arg((s / 60) % 60, 2, 10, QLatin1Char('0'))
        .arg(s % 60, 2, 10, QLatin1Char('0'));
}
} // namespace

TrainingPage::TrainingPage(TrainingSession* session, QWidget* parent)
    : QWidget(parent)
    , ui(std::make_unique<Ui::TrainingPage>())
    , m_session(session)
{
    ui->setupUi(this);
    ui->splitter->setStretchFactor(0, 4);
    ui->splitter->setStretchFactor(1, 1);
    ui->charts->setShowWeights(true);
    QFont hintFont = ui->emptyHint->font();
    hintFont.setPointSizeF(hintFont.pointSizeF() * 1.2);
    ui->emptyHint->setFont(hintFont);
    ui->splitter->hide(); // until a run starts: the hint says what to do instead of empty charts
    connect(m_session, &TrainingSession::starting, this, &TrainingPage::onStarting);
    connect(m_session, &TrainingSession::stateChanged, this, &TrainingPage::onStateChanged);
    connect(m_session, &TrainingSession::runStarted, this, &TrainingPage::onRunStarted);
    connect(m_session, &TrainingSession::progress, this, &TrainingPage::onProgress);
    connect(m_session, &TrainingSession::finished, this, &TrainingPage::onFinished);
    connect(m_session, &TrainingSession::failed, this, &TrainingPage::onFailed);
    connect(
        m_session, &TrainingSession::message, this, [this](int, const QString& text) { Q_EMIT statusMessage(text); });
    connect(ui->charts, &ChartPanel::statusMessage, this, &TrainingPage::statusMessage);
    onStateChanged(m_session->state());
}

TrainingPage::~TrainingPage() = default;

ChartPanel* TrainingPage::charts() const
{
    return ui->charts;
}

QString TrainingPage::errorText() const
{
    return ui->messageLabel->message();
}

QString TrainingPage::stateText() const
{
    return ui->stateLabel->text();
}

void TrainingPage::showError(const QString& text)
{
    ui->messageLabel->setMessage(text);
}

QString TrainingPage::emptyHint() const
{
    return ui->emptyHint->isHidden() ? QString() : ui->emptyHint->text();
}

QString TrainingPage::speedText() const
{
    return ui->speedLabel->text();
}

QString TrainingPage::etaText() const
{
    return ui->etaLabel->text();
}

void TrainingPage::onStarting()
{
    // Nothing of the previous run stays on screen while this one sets up (seconds for a large model).
    ui->emptyHint->hide();
    ui->splitter->show();
    showError({});
    ui->charts->clear();
    m_elapsed = -1.0;
    ui->speedLabel->setText(tr("– it/s"));
    ui->etaLabel->setText(tr("ETA – (setting up)"));
    ui->lrLabel->setText(tr("LR G – / D –"));
    ui->epochLabel->setText(tr("Epoch:"));
    ui->deviceLabel->clear();
    ui->experimentLabel->clear();
    for (QProgressBar* bar : { ui->epochProgress, ui->runProgress }) {
        bar->setRange(0, 1);
        bar->setValue(0);
    }
    for (QLabel* image : { ui->inputImage, ui->generatedImage, ui->targetImage })
        image->clear();
}

void TrainingPage::showEnded(const QString& how)
{
    ui->speedLabel->setText(tr("– it/s"));
    ui->etaLabel->setText(m_elapsed < 0 ? how : tr("%1 after %2").arg(how, duration(m_elapsed)));
}

void TrainingPage::onStateChanged(TrainingSession::State state)
{
    using S = TrainingSession::State;
    switch (state) {
    case S::Idle:
        ui->stateLabel->setText(tr("Idle"));
        break;
    case S::Running:
        ui->stateLabel->setText(tr("Running"));
        break;
    case S::Paused:
        ui->stateLabel->setText(tr("Paused"));
        break;
    case S::Stopping:
        ui->stateLabel->setText(tr("Stopping after this iteration…"));
        break;
    }
    if (state == S::Running)
        showError({});
}

void TrainingPage::onRunStarted(const nectar::RunInfo& info)
{
    ui->charts->clear();
    ui->charts->setEpochMapping(info.iterations_per_epoch, info.first_epoch);
    for (const auto& [name, weights] : info.planned_weights)
        ui->charts->setPlannedWeights(
            QString::fromStdString(name), info.first_iteration, info.iterations_per_epoch, weights);
    ui->deviceLabel->setText(tr("Device: %1").arg(QString::fromStdString(info.device)));
    ui->experimentLabel->setText(QString::fromStdString(info.experiment_dir));
    ui->epochProgress->setRange(0, static_cast<int>(std::max<std::int64_t>(1, info.iterations_per_epoch)));
    ui->epochProgress->setValue(0);
    const auto total = info.iterations_per_epoch * std::max(0, info.last_epoch - info.first_epoch + 1);
    ui->runProgress->setRange(0, static_cast<int>(std::clamp<std::int64_t>(total, 1, INT_MAX)));
    ui->runProgress->setValue(0);
    ui->epochLabel->setText(tr("Epoch %1/%2:").arg(info.first_epoch).arg(info.last_epoch));
    Q_EMIT statusMessage(tr("Training in %1 on %2")
                             .arg(QString::fromStdString(info.experiment_dir), QString::fromStdString(info.device)));
}

void TrainingPage::onProgress(const nectar::ProgressReport& r)
{
    for (const auto& chunk : r.losses)
        ui->charts->appendChunk(chunk);
    for (const auto& edit : r.edits)
        ui->charts->addEdit(edit);
    ui->epochLabel->setText(tr("Epoch %1/%2:").arg(r.epoch).arg(r.last_epoch));
    ui->epochProgress->setValue(static_cast<int>(r.iteration));
    ui->runProgress->setValue(static_cast<int>(std::min<std::int64_t>(r.global_iteration, ui->runProgress->maximum())));
    ui->speedLabel->setText(tr("%1 it/s").arg(r.iterations_per_second, 0, 'f', 2));
    ui->etaLabel->setText(tr("ETA %1 (elapsed %2)").arg(duration(r.eta_seconds), duration(r.elapsed_seconds)));
    m_elapsed = r.elapsed_seconds;
    ui->lrLabel->setText(tr("LR G %1 / D %2").arg(r.lr_g, 0, 'g', 4).arg(r.lr_d, 0, 'g', 4));
    if (r.example_input) {
        const int h = ui->inputImage->height();
        auto show = [h](QLabel* label, const std::optional<nectar::RgbImage>& img) {
            const QPixmap p = toPixmap(img);
            if (!p.isNull())
                label->setPixmap(p.scaledToHeight(std::max(64, h - 4), Qt::SmoothTransformation));
        };
        show(ui->inputImage, r.example_input);
        show(ui->generatedImage, r.example_generated);
        show(ui->targetImage, r.example_target);
    }
}

void TrainingPage::onFinished(bool stopped, const QString& dir)
{
    ui->charts->replotAll();
    showEnded(stopped ? tr("stopped") : tr("finished"));
    Q_EMIT statusMessage(stopped ? tr("Training stopped; checkpoint and log saved in %1").arg(dir)
                                 : tr("Training finished: %1").arg(dir));
}

void TrainingPage::onFailed(const QString& error)
{
    showEnded(tr("failed"));
    showError(tr("Training failed: %1").arg(error));
    Q_EMIT statusMessage(tr("Training failed"));
}
