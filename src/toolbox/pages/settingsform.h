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

    /// Shows `config` in the form (unknown keys and fields without a widget are kept).
    void setConfig(const nectar::Config& config);
    /// The shown config with the form's values applied.
    nectar::Config config() const;

Q_SIGNALS:
    void changed();

private:
    void browseDataroot();
    void browseOutput();
    std::unique_ptr<Ui::SettingsForm> ui;
    nectar::Config m_config;
};
