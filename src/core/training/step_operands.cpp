// SPDX-License-Identifier: Apache-2.0
#include "training/step_operands.h"

#include <stdexcept>

namespace nectar {

StepOperands::StepOperands(const torch::Tensor& x, const torch::Tensor& y, torch::Tensor fake, PatchGAN disc)
    : m_x(x)
    , m_y(y)
    , m_fake(std::move(fake))
    , m_disc(std::move(disc))
{
}

void StepOperands::begin_d_step(bool needs_d_real, bool needs_d_fake)
{
    m_d_step = true;
    m_d_fake = torch::Tensor();
    m_d_real = torch::Tensor();
    if (needs_d_real && needs_d_fake) {
        const auto n = m_x.size(0);
        auto both = m_disc->forward(torch::cat({ m_x, m_x }), torch::cat({ m_y, m_fake.detach() }));
        m_d_real = both.narrow(0, 0, n);
        m_d_fake = both.narrow(0, n, n);
    }
}

void StepOperands::begin_g_step()
{
    m_d_step = false;
    m_d_fake = torch::Tensor();
    m_d_real = torch::Tensor();
}

torch::Tensor StepOperands::get(Operand op, bool& fill)
{
    fill = false;
    switch (op) {
    case Operand::Input:
        return m_x;
    case Operand::Real:
        return m_y;
    case Operand::Fake:
        return m_d_step ? m_fake.detach() : m_fake;
    case Operand::DFake:
        if (!m_d_fake.defined())
            m_d_fake = m_disc->forward(m_x, m_d_step ? m_fake.detach() : m_fake);
        return m_d_fake;
    case Operand::DReal:
        if (!m_d_real.defined()) {
            if (m_d_step) {
                m_d_real = m_disc->forward(m_x, m_y);
            } else {
                torch::NoGradGuard no_grad;
                m_d_real = m_disc->forward(m_x, m_y);
            }
        }
        return m_d_real;
    case Operand::Ones:
    case Operand::Zeros:
        fill = true;
        return {};
    }
    return {};
}

std::pair<torch::Tensor, torch::Tensor> StepOperands::resolve(const LossInputs& inputs, const std::string& loss)
{
    bool pred_fill = false, target_fill = false;
    torch::Tensor pred = get(inputs.prediction, pred_fill);
    torch::Tensor target = get(inputs.target, target_fill);
    auto filled = [](Operand op, const torch::Tensor& like) {
        return op == Operand::Ones ? torch::ones_like(like) : torch::zeros_like(like);
    };
    if (pred_fill && target_fill)
        throw std::invalid_argument("loss \"" + loss + "\": inputs (" + operand_name(inputs.prediction) + ", "
            + operand_name(inputs.target) + ") give no shape: at most one operand may be ones/zeros");
    if (pred_fill)
        pred = filled(inputs.prediction, target);
    if (target_fill)
        target = filled(inputs.target, pred);
    return { pred, target };
}

} // namespace nectar
