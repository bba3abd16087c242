// SPDX-License-Identifier: Apache-2.0
#pragma once
// Shared by the engine tests: the NectarGAN reference file and its closed-form inputs.
#include <cmath>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "config/config.h"
#include "losses/loss_manager.h"
#include "losses/loss_registry.h"

namespace testdata {

inline nlohmann::json load_json(const std::string& path)
{
    std::ifstream in(path);
    if (!in)
        throw std::runtime_error("cannot open " + path);
    return nlohmann::json::parse(in);
}

inline nlohmann::json reference()
{
    return load_json(std::string(NECTAR_TEST_DATA_DIR) + "/reference/nectargan_reference.json");
}

/// T[i] = float32(amp * F(a * i + b)), evaluated in double (reference a_losses.inputs.formula_doc).
inline torch::Tensor formula(const std::vector<int64_t>& shape, const nlohmann::json& f)
{
    int64_t n = 1;
    for (auto s : shape)
        n *= s;
    const bool use_sin = f["fn"] == "sin";
    const double a = f["a"], b = f["b"], amp = f["amp"];
    std::vector<float> v(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) {
        double t = a * double(i);
        t = t + b; // two roundings, no FMA, as the reference generator
        v[size_t(i)] = float(amp * (use_sin ? std::sin(t) : std::cos(t)));
    }
    return torch::from_blob(v.data(), { n }, torch::kFloat32).clone().reshape(shape);
}

/// Same, with the shape taken from f["shape"].
inline torch::Tensor formula(const nlohmann::json& f)
{
    return formula(f["shape"].get<std::vector<int64_t>>(), f);
}

inline nectar::LossFn make_loss(const std::string& type)
{
    return nectar::LossFunctionRegistry::instance().create(type, nectar::Config {}).function;
}

/// pix2pix "extended" as NectarGAN's pix2pix_objective registers it (names, order, tags), with the
/// weights of `lambdas` (reference "config_lambdas").
inline void register_nectargan_extended(nectar::LossManager& lm, const nlohmann::json& lambdas)
{
    lm.register_loss_fn("G_GAN", make_loss("BCEWithLogits"), lambdas["lambda_gan"], {}, { "G" });
    lm.register_loss_fn("G_L1", make_loss("L1"), lambdas["lambda_l1"], {}, { "G" });
    lm.register_loss_fn("D_real", make_loss("BCEWithLogits"), 1.0, {}, { "D" });
    lm.register_loss_fn("D_fake", make_loss("BCEWithLogits"), 1.0, {}, { "D" });
    lm.register_loss_fn("G_L2", make_loss("MSE"), lambdas["lambda_l2"], {}, { "G" });
    lm.register_loss_fn("G_SOBEL", make_loss("Sobel"), lambdas["lambda_sobel"], {}, { "G" });
    lm.register_loss_fn("G_LAP", make_loss("Laplacian"), lambdas["lambda_laplacian"], {}, { "G" });
}

} // namespace testdata
