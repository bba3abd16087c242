// SPDX-License-Identifier: Apache-2.0
#pragma once
/// @file Objective page: spec and subspec choice, the loss table, adding/removing losses, saving
/// the objective as a JSON spec, and the training settings form.

#include <QWidget>

#include <memory>

#include "config/config.h"

class LossTableModel;
class SettingsForm;
namespace engine {
struct PresetContent;
}
namespace Ui {
class ObjectivePage;
}

class ObjectivePage : public QWidget {
    Q_OBJECT
public:
    explicit ObjectivePage(QWidget* parent = nullptr);
    ~ObjectivePage() override;

    LossTableModel* model() const { return m_model; }
    SettingsForm* settings() const;
    QString spec() const;
    QString subspec() const;
    /// Selects a spec and subspec (repopulates the table). False + message if unknown.
    bool selectSpec(const QString& spec, const QString& subspec);
    /// The settings with the chosen spec/subspec (what a run and a saved config use).
    nectar::Config config() const;
    void setConfig(const nectar::Config& config);
    /// Applies a loaded preset (spec, subspec, table, settings if any) in one go.
    void applyPreset(const engine::PresetContent& preset);
    /// Refills the spec list from the registry (keeps the selection when possible).
    void refreshSpecs();
    /// Shows an inline message (empty hides it).
    void showMessage(const QString& text);
    QString message() const;
    /// The line above the table naming the losses that cannot be built here and why; empty when all can.
    QString availabilityMessage() const;
    /// Checks again whether the losses marked unavailable can be built now (e.g. the VGG19 file was
    /// downloaded meanwhile); done whenever the window becomes active. Edits are kept.
    void recheckAvailability();
    /// While training, the table stays editable (weights/tags go to the run) but structure is locked;
    /// with `liveEdits` false (a multi-process run, which edits cannot reach) the table is read-only too.
    void setTrainingActive(bool active, bool liveEdits = true);

Q_SIGNALS:
    void statusMessage(const QString& text);

protected:
    void changeEvent(QEvent* event) override;

private:
    void onSpecChanged();
    void onSubspecChanged();
    void repopulate();
    void updateAvailability();
    void addLoss();
    void removeLoss();
    void saveAsSpec();

    std::unique_ptr<Ui::ObjectivePage> ui;
    LossTableModel* m_model;
    bool m_updating = false;
};
