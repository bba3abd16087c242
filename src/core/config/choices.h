// SPDX-License-Identifier: Apache-2.0
#pragma once
/// @file The config's choices as enums with one name table each: the names the config files, the GUI's
/// combo boxes and error messages use (NectarGAN's spellings). Free of LibTorch and Qt types.

#include <optional>
#include <string>
#include <vector>

namespace nectar {

/// dataloader.direction: which half of an A|B image is the input (NectarGAN "AtoB" | "BtoA").
enum class Direction { AtoB, BtoA };
/// train.generator.block_type (NectarGAN `nectargan/models/unet/blocks.py`: UnetBlock, ResidualUnetBlock).
enum class UnetBlockType { UnetBlock, ResidualUnetBlock };
/// train.generator.upsample_type: upsampling in the UNet decoder (NectarGAN `upconv_type`).
enum class UpsampleType { Transposed, Bilinear };
/// train.nonfinite_policy (training/nonfinite.h): what a NaN/Inf total loss does.
enum class NonFinitePolicy { Stop, Skip, Ignore };

/// Names in display order: Direction {"AtoB", "BtoA"}, UnetBlockType {"UnetBlock", "ResidualUnetBlock"},
/// UpsampleType {"Transposed", "Bilinear"}, NonFinitePolicy {"stop", "skip", "ignore"}.
template <class E> const std::vector<std::string>& choice_names();
template <> const std::vector<std::string>& choice_names<Direction>();
template <> const std::vector<std::string>& choice_names<UnetBlockType>();
template <> const std::vector<std::string>& choice_names<UpsampleType>();
template <> const std::vector<std::string>& choice_names<NonFinitePolicy>();

/// The name of a value (enumerators are numbered as their names are listed).
template <class E> const std::string& choice_name(E value)
{
    return choice_names<E>().at(static_cast<std::size_t>(value));
}

/// Exact (case-sensitive) match; std::nullopt for any other text.
template <class E> std::optional<E> choice_from_name(const std::string& name)
{
    const auto& names = choice_names<E>();
    for (std::size_t i = 0; i < names.size(); ++i)
        if (names[i] == name)
            return static_cast<E>(i);
    return std::nullopt;
}

/// "\"AtoB\", \"BtoA\"": the valid names quoted, for messages.
std::string quoted_choices(const std::vector<std::string>& names);

/// Like choice_from_name, but throws std::invalid_argument "<what> = \"<name>\": expected one of ...".
template <class E> E parse_choice(const std::string& name, const std::string& what)
{
    if (const auto v = choice_from_name<E>(name))
        return *v;
    throw std::invalid_argument(what + " = \"" + name + "\": expected one of " + quoted_choices(choice_names<E>()));
}

} // namespace nectar
