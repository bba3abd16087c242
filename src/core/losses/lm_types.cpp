// SPDX-License-Identifier: Apache-2.0
#include "losses/lm_types.h"
#include "util/strings.h"

#include <algorithm>
#include <stdexcept>

namespace nectar {
namespace {
struct OperandName {
    Operand op;
    const char* name;
};
constexpr OperandName kOperands[] = {
    { Operand::Input, "input" },
    { Operand::Real, "real" },
    { Operand::Fake, "fake" },
    { Operand::DFake, "D_fake" },
    { Operand::DReal, "D_real" },
    { Operand::Ones, "ones" },
    { Operand::Zeros, "zeros" },
};
} // namespace

std::string operand_name(Operand op)
{
    for (const auto& o : kOperands)
        if (o.op == op)
            return o.name;
    throw std::invalid_argument("operand_name: unknown Operand value " + std::to_string(int(op)));
}

Operand operand_from_name(const std::string& name)
{
    for (const auto& o : kOperands)
        if (name == o.name)
            return o.op;
    throw std::invalid_argument("Unknown loss operand \"" + name
        + "\"; valid operands: " + join_mapped(kOperands, [](const auto& o) { return o.name; }));
}

std::vector<std::string> operand_names()
{
    std::vector<std::string> out;
    for (const auto& o : kOperands)
        out.emplace_back(o.name);
    return out;
}

bool LMLoss::has_tag(const std::string& tag) const
{
    return std::find(tags.begin(), tags.end(), tag) != tags.end();
}

} // namespace nectar
