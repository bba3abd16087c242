// SPDX-License-Identifier: Apache-2.0
#pragma once
/// @file The built-in `pix2pix` loss spec (NectarGAN `nectargan.losses.pix2pix_objective.pix2pix`).
///
/// basic (Isola et al. 2017, "Image-to-Image Translation with Conditional Adversarial Networks",
/// section 4.2: cGAN + L1):
///   G_GAN   BCEWithLogits  weight train.loss.lambda_gan  tags {G}  inputs (D_fake, ones)
///   G_L1    L1             weight train.loss.lambda_l1   tags {G}  inputs (fake, real)
///   D_real  BCEWithLogits  weight 1.0                    tags {D}  inputs (D_real, ones)
///   D_fake  BCEWithLogits  weight 1.0                    tags {D}  inputs (D_fake, zeros)
/// extended adds (NectarGAN's structure losses):
///   G_L2    MSE            weight train.loss.lambda_l2        tags {G}  inputs (fake, real)
///   G_SOBEL Sobel          weight train.loss.lambda_sobel     tags {G}  inputs (fake, real)
///   G_LAP   Laplacian      weight train.loss.lambda_laplacian tags {G}  inputs (fake, real)
/// +vgg adds (Johnson et al. 2016, perceptual loss):
///   G_VGG   VGGPerceptual  weight train.loss.lambda_vgg       tags {G}  inputs (fake, real)
/// No schedules (constant weights). Subspecs match exactly: NectarGAN's substring test
/// ('extended' in subspec) silently turns a typo such as "extende" into basic; here it is an error.

#include <map>
#include <string>
#include <vector>

#include "losses/lm_types.h"
#include "objective/loss_spec.h"
#include "objective/spec_registry.h"

namespace nectar {

/// "basic", "basic+vgg", "extended", "extended+vgg".
const std::vector<std::string>& pix2pix_subspecs();

/// Builds the losses above with functions from LossFunctionRegistry. Throws std::invalid_argument
/// for an unknown subspec (listing the valid ones); std::runtime_error when the VGG19 weights
/// cannot be found for a +vgg subspec.
std::map<std::string, LMLoss> pix2pix(const Config& config, const std::string& subspec = "basic");
/// The same losses as LossSpec values, in the order above (nothing built; no VGG19 file needed).
std::vector<LossSpec> pix2pix_losses(const Config& config, const std::string& subspec = "basic");

/// Registry entry (name "pix2pix", source "built-in").
SpecInfo pix2pix_spec_info();

} // namespace nectar
