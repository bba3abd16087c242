// SPDX-License-Identifier: Apache-2.0
#pragma once
// The config file the CLI-driving suites (tst_cli, tst_crash) train with: tiny models on tests/data/tiny
// (8 training pairs in batches of 4 = 2 iterations per epoch), 1 + 1 epochs and a checkpoint every epoch
// unless `patch` (a JSON merge patch, RFC 7386) says otherwise.
#include <QString>

#include <fstream>
#include <string>

#include <nlohmann/json.hpp>

namespace testcli {

/// Writes <dir>/config.json (NectarGAN layout, partial: the rest defaults) and returns its path.
inline std::string write_tiny_config(const QString& dir, const nlohmann::json& patch = nlohmann::json::object())
{
    using nlohmann::json;
    json c = { { "config",
        { { "common",
              { { "output_directory", dir.toStdString() + "/runs" }, { "experiment_name", "cli" },
                  { "num_threads", 2 } } },
            { "dataloader",
                { { "dataroot", std::string(NECTAR_TEST_DATA_DIR) + "/tiny" }, { "batch_size", 4 },
                    { "load", { { "load_size", 36 }, { "crop_size", 32 } } } } },
            { "train",
                { { "generator",
                      { { "features", 8 }, { "n_downs", 3 },
                          { "learning_rate", { { "epochs", 1 }, { "epochs_decay", 1 } } } } },
                    { "discriminator",
                        { { "base_channels", 8 }, { "n_layers", 2 }, { "max_channels", 32 },
                            { "learning_rate", { { "epochs", 1 }, { "epochs_decay", 1 } } } } } } },
            { "save", { { "model_save_rate", 1 } } } } } };
    c.merge_patch(patch);
    const std::string path = dir.toStdString() + "/config.json";
    std::ofstream(path) << c.dump(2);
    return path;
}

} // namespace testcli
