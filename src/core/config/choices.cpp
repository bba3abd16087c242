// SPDX-License-Identifier: Apache-2.0
#include "config/choices.h"

#include "util/strings.h"

namespace nectar {

template <> const std::vector<std::string>& choice_names<Direction>()
{
    static const std::vector<std::string> names { "AtoB", "BtoA" };
    return names;
}

template <> const std::vector<std::string>& choice_names<UnetBlockType>()
{
    static const std::vector<std::string> names { "UnetBlock", "ResidualUnetBlock" };
    return names;
}

template <> const std::vector<std::string>& choice_names<UpsampleType>()
{
    static const std::vector<std::string> names { "Transposed", "Bilinear" };
    return names;
}

template <> const std::vector<std::string>& choice_names<NonFinitePolicy>()
{
    static const std::vector<std::string> names { "stop", "skip", "ignore" };
    return names;
}

std::string quoted_choices(const std::vector<std::string>& names)
{
    return join_mapped(names, [](const std::string& n) { return "\"" + n + "\""; });
}

} // namespace nectar
