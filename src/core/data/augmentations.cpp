// SPDX-License-Identifier: Apache-2.0
#include "data/augmentations.h"

#include <algorithm>
#include <cmath>
#include <set>
#include <stdexcept>

#include "config/config.h"
#include "util/error_text.h"
#include "util/strings.h"

namespace nectar {

namespace {

const char* const kPrefix = "dataloader.augmentations.";

// Parameters of augmentations this loader does not implement: accepted without a warning while their
// `_chance` is 0 (NectarGAN's default.json lists them all).
const std::set<std::string> kUnsupportedParams { "elastic_transform_alpha", "elastic_transform_sigma",
    "optical_distortion_min", "optical_distortion_max", "optical_distortion_mode", "coarse_dropout_holes_min",
    "coarse_dropout_holes_max", "coarse_dropout_height_min", "coarse_dropout_height_max", "coarse_dropout_width_min",
    "coarse_dropout_width_max", "motionblur_limit", "compression_type", "compression_quality_min",
    "compression_quality_max" };

double number_at(const nlohmann::json& v, const std::string& path)
{
    if (!v.is_number())
        throw std::invalid_argument(path + ": expected a number, got " + detail::json_text(v));
    const double d = v.get<double>();
    if (!std::isfinite(d))
        throw std::invalid_argument(path + ": expected a finite number, got " + detail::json_text(v));
    return d;
}

double chance_at(const nlohmann::json& v, const std::string& path)
{
    const double d = number_at(v, path);
    if (d < 0.0 || d > 1.0)
        throw std::invalid_argument(path + ": a chance must be in [0, 1], got " + detail::json_text(v));
    return d;
}

std::string fmt_value(const nlohmann::json& v)
{
    return v.is_string() ? detail::bounded_text(v.get<std::string>()) : detail::json_text(v);
}

} // namespace

AugmentationSettings parse_augmentations(const nlohmann::json& both, const nlohmann::json& input,
    const nlohmann::json& target, std::vector<std::string>& warnings)
{
    AugmentationSettings s;
    std::vector<std::string> unsupported;
    std::vector<std::string> unknown;

    auto section = [&](const nlohmann::json& obj, const std::string& name, auto&& handle) {
        if (obj.is_null())
            return;
        if (!obj.is_object())
            throw std::invalid_argument(kPrefix + name + ": expected an object, got " + detail::json_text(obj));
        for (const auto& [key, value] : obj.items()) {
            const std::string path = kPrefix + name + "." + key;
            if (handle(key, value, path))
                continue;
            const bool is_chance = key.size() > 7 && key.compare(key.size() - 7, 7, "_chance") == 0;
            if (is_chance) {
                if (chance_at(value, path) > 0.0)
                    unsupported.push_back(name + "." + key + "=" + fmt_value(value));
            } else if (!kUnsupportedParams.count(key)) {
                unknown.push_back(name + "." + key);
            }
        }
    };

    section(both, "both", [&](const std::string& key, const nlohmann::json& v, const std::string& path) {
        if (key == "h_flip_chance")
            s.h_flip_chance = chance_at(v, path);
        else if (key == "v_flip_chance")
            s.v_flip_chance = chance_at(v, path);
        else if (key == "rot90_chance")
            s.rot90_chance = chance_at(v, path);
        else
            return false;
        return true;
    });
    section(input, "input", [&](const std::string& key, const nlohmann::json& v, const std::string& path) {
        if (key == "colorjitter_chance")
            s.colorjitter_chance = chance_at(v, path);
        else if (key == "colorjitter_min_brightness")
            s.colorjitter_min_brightness = number_at(v, path);
        else if (key == "colorjitter_max_brightness")
            s.colorjitter_max_brightness = number_at(v, path);
        else if (key == "gaussnoise_chance")
            s.gaussnoise_chance = chance_at(v, path);
        else if (key == "gaussnoise_min")
            s.gaussnoise_min = number_at(v, path);
        else if (key == "gaussnoise_max")
            s.gaussnoise_max = number_at(v, path);
        else if (key == "randgamma_chance")
            s.randgamma_chance = chance_at(v, path);
        else if (key == "randgamma_min")
            s.randgamma_min = number_at(v, path);
        else if (key == "randgamma_max")
            s.randgamma_max = number_at(v, path);
        else if (key == "grayscale_chance")
            s.grayscale_chance = chance_at(v, path);
        else if (key == "grayscale_method") {
            if (!v.is_string())
                throw std::invalid_argument(path + ": expected a string, got " + detail::json_text(v));
            s.grayscale_method = v.get<std::string>();
            static const std::set<std::string> methods { "weighted_average", "average", "max", "desaturation" };
            if (!methods.count(s.grayscale_method))
                throw std::invalid_argument(path + ": unsupported grayscale method \"" + s.grayscale_method
                    + "\"; expected weighted_average, average, max or desaturation");
        } else
            return false;
        return true;
    });
    // NectarGAN builds no target-only pipeline from "target"; any non-zero chance there is reported.
    section(target, "target", [](const std::string&, const nlohmann::json&, const std::string&) { return false; });

    auto range = [](double lo, double hi, const std::string& what) {
        if (lo > hi)
            throw std::invalid_argument(
                kPrefix + what + ": min " + std::to_string(lo) + " > max " + std::to_string(hi));
    };
    range(s.colorjitter_min_brightness, s.colorjitter_max_brightness, "input.colorjitter_*_brightness");
    range(s.gaussnoise_min, s.gaussnoise_max, "input.gaussnoise_min/max");
    range(s.randgamma_min, s.randgamma_max, "input.randgamma_min/max");
    if (s.colorjitter_min_brightness < 0.0 || s.gaussnoise_min < 0.0 || s.randgamma_min <= 0.0)
        throw std::invalid_argument(
            std::string(kPrefix) + "input: brightness and noise bounds must be >= 0 and gamma bounds > 0");

    if (!unsupported.empty() || !unknown.empty()) {
        std::string w = "augmentations:";
        auto list = [](const std::vector<std::string>& v) { return join(v); };
        if (!unsupported.empty())
            w += " not supported by this loader, ignored: " + list(unsupported) + ".";
        if (!unknown.empty())
            w += " unknown keys, ignored: " + list(unknown) + ".";
        warnings.push_back(w);
    }
    return s;
}

AugmentationSettings parse_augmentations(const AugmentationsConfig& config, std::vector<std::string>& warnings)
{
    return parse_augmentations(config.both, config.input, config.target, warnings);
}

AugmentationDraw draw_augmentations(const AugmentationSettings& s, std::mt19937_64& rng)
{
    // Always draw every value in the same order, so changing one chance does not reshuffle the others.
    std::uniform_real_distribution<double> u01(0.0, 1.0);
    AugmentationDraw d;
    d.h_flip = u01(rng) < s.h_flip_chance;
    d.v_flip = u01(rng) < s.v_flip_chance;
    const bool rot = u01(rng) < s.rot90_chance;
    const int k = static_cast<int>(rng() % 4);
    d.rot90_k = rot ? k : 0;

    const bool jitter = u01(rng) < s.colorjitter_chance;
    const double brightness
        = s.colorjitter_min_brightness + u01(rng) * (s.colorjitter_max_brightness - s.colorjitter_min_brightness);
    d.brightness = jitter ? brightness : 1.0;

    const bool noise = u01(rng) < s.gaussnoise_chance;
    const double std = s.gaussnoise_min + u01(rng) * (s.gaussnoise_max - s.gaussnoise_min);
    d.noise_std = noise ? std : 0.0;
    d.noise_seed = rng();

    const bool gamma = u01(rng) < s.randgamma_chance;
    const double g = (s.randgamma_min + u01(rng) * (s.randgamma_max - s.randgamma_min)) / 100.0;
    d.gamma = gamma ? g : 1.0;

    d.grayscale = u01(rng) < s.grayscale_chance;
    return d;
}

void apply_input_augmentations(
    const AugmentationSettings& s, const AugmentationDraw& d, float* chw, int channels, int height, int width)
{
    const std::size_t plane = static_cast<std::size_t>(height) * static_cast<std::size_t>(width);
    const std::size_t n = plane * static_cast<std::size_t>(channels);
    auto clip = [](float v) { return std::min(1.0f, std::max(0.0f, v)); };

    if (d.brightness != 1.0) {
        const float f = static_cast<float>(d.brightness);
        for (std::size_t i = 0; i < n; ++i)
            chw[i] = clip(chw[i] * f);
    }
    if (d.noise_std > 0.0) {
        std::mt19937_64 nrng(d.noise_seed);
        std::normal_distribution<float> normal(0.0f, static_cast<float>(d.noise_std));
        for (std::size_t i = 0; i < n; ++i)
            chw[i] = clip(chw[i] + normal(nrng));
    }
    if (d.gamma != 1.0) {
        const float g = static_cast<float>(d.gamma);
        for (std::size_t i = 0; i < n; ++i)
            chw[i] = std::pow(chw[i], g);
    }
    if (d.grayscale && channels == 3) {
        float* r = chw;
        float* g = chw + plane;
        float* b = chw + 2 * plane;
        for (std::size_t i = 0; i < plane; ++i) {
            float y;
            if (s.grayscale_method == "average")
                y = (r[i] + g[i] + b[i]) / 3.0f;
            else if (s.grayscale_method == "max")
                y = std::max({ r[i], g[i], b[i] });
            else if (s.grayscale_method == "desaturation")
                y = 0.5f * (std::max({ r[i], g[i], b[i] }) + std::min({ r[i], g[i], b[i] }));
            else
                y = 0.299f * r[i] + 0.587f * g[i] + 0.114f * b[i];
            r[i] = g[i] = b[i] = y;
        }
    }
}

} // namespace nectar
