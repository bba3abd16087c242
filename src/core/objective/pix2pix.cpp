// SPDX-License-Identifier: Apache-2.0
#include "objective/pix2pix.h"

#include <algorithm>
#include <stdexcept>

#include "config/config.h"
#include "losses/loss_registry.h"
#include "objective/loss_spec.h"
#include "util/error_text.h"
#include "util/strings.h"

namespace nectar {

namespace {

std::string subspec_list()
{
    return join(pix2pix_subspecs());
}

LossSpec make_loss(const std::string& name, const std::string& function, double weight, const std::string& tag,
    Operand prediction, Operand target)
{
    LossSpec spec;
    spec.name = name;
    spec.function = function;
    spec.weight = weight;
    spec.tags = { tag };
    spec.inputs = LossInputs { prediction, target };
    return spec;
}

} // namespace

const std::vector<std::string>& pix2pix_subspecs()
{
    static const std::vector<std::string> subspecs { "basic", "basic+vgg", "extended", "extended+vgg" };
    return subspecs;
}

std::map<std::string, LMLoss> pix2pix(const Config& config, const std::string& subspec)
{
    return build_losses(pix2pix_losses(config, subspec), config);
}

std::vector<LossSpec> pix2pix_losses(const Config& config, const std::string& subspec)
{
    const auto& valid = pix2pix_subspecs();
    if (std::find(valid.begin(), valid.end(), subspec) == valid.end())
        throw std::invalid_argument("Unknown subspec \"" + detail::printable(detail::bounded_text(subspec))
            + "\" for spec \"pix2pix\"; valid subspecs: " + subspec_list());
    const bool extended = subspec == "extended" || subspec == "extended+vgg";
    const bool vgg = subspec == "basic+vgg" || subspec == "extended+vgg";
    const LossConfig& l = config.train.loss;

    // NectarGAN shares one BCEWithLogitsLoss object between G_GAN, D_real and D_fake; it is
    // stateless, so separate instances give identical values.
    std::vector<LossSpec> losses;
    auto put = [&](LossSpec loss) { losses.push_back(std::move(loss)); };
    put(make_loss("G_GAN", "BCEWithLogits", l.lambda_gan, "G", Operand::DFake, Operand::Ones));
    put(make_loss("G_L1", "L1", l.lambda_l1, "G", Operand::Fake, Operand::Real));
    put(make_loss("D_real", "BCEWithLogits", 1.0, "D", Operand::DReal, Operand::Ones));
    put(make_loss("D_fake", "BCEWithLogits", 1.0, "D", Operand::DFake, Operand::Zeros));
    if (extended) {
        put(make_loss("G_L2", "MSE", l.lambda_l2, "G", Operand::Fake, Operand::Real));
        put(make_loss("G_SOBEL", "Sobel", l.lambda_sobel, "G", Operand::Fake, Operand::Real));
        put(make_loss("G_LAP", "Laplacian", l.lambda_laplacian, "G", Operand::Fake, Operand::Real));
    }
    if (vgg)
        put(make_loss("G_VGG", "VGGPerceptual", l.lambda_vgg, "G", Operand::Fake, Operand::Real));
    return losses;
}

SpecInfo pix2pix_spec_info()
{
    SpecInfo info;
    info.name = "pix2pix";
    info.description = "pix2pix objective (Isola et al. 2017): cGAN + L1; extended adds L2, Sobel and "
                       "Laplacian structure losses, +vgg a VGG19 perceptual loss (NectarGAN pix2pix_objective)";
    info.subspecs = pix2pix_subspecs();
    info.source = "built-in";
    info.losses = [](const Config& config, const std::string& subspec) { return pix2pix_losses(config, subspec); };
    return info;
}

} // namespace nectar
