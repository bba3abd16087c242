// SPDX-License-Identifier: Apache-2.0
#pragma once
/// @file Training settings form: edits a nectar::Config (keys it does not show are kept).

#include <QWidget>

#include <memory>

#include "config/config.h"

namespace Ui {
class SettingsForm;
}

class SettingsForm : public QWidget {
    Q_OBJECT
public:
    explicit SettingsForm(QWidget* parent = nullptr);
    ~SettingsForm() override;

    /// Starting points of the "Defaults" button.
    enum class Defaults {
        Quick, ///< nectar-train's built-in settings: 143/128 px, UNet 32 features / 5 downs, PatchGAN 32,
               ///< 3 + 2 epochs, a report every 5 iterations (first values within seconds on 2 cores)
        FullSize ///< NectarGAN's defaults (nectar::Config{}): 286/256 px, 64 features / 6 downs, 100 + 100 epochs
    };
    /// The model, data and plan settings of `which` (dataset root, output folder, experiment name and device
    /// are Config{}'s: applyDefaults keeps the shown ones).
    static nectar::Config defaults(Defaults which);
    /// Shows `which`, keeping the shown dataset root, output folder, experiment name and device.
    void applyDefaults(Defaults which);

    /// Shows `config` in the form (unknown keys and fields without a widget are kept).
    void setConfig(const nectar::Config& config);
    /// The shown config with the form's values applied.
    nectar::Config config() const;
    /// Data-parallel processes for the next run (1: in this window's training thread). Not part of the config.
    int processes() const;
    void setProcesses(int n);

Q_SIGNALS:
    void changed();

private:
    void browseDataroot();
    void browseOutput();
    std::unique_ptr<Ui::SettingsForm> ui;
    nectar::Config m_config;
};
