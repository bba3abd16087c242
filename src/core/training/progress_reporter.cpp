// SPDX-License-Identifier: Apache-2.0
#include "training/progress_reporter.h"

#include <algorithm>

#include <torch/torch.h>

namespace nectar {

ProgressReporter::ProgressReporter(TrainingObserver* observer)
    : m_observer(observer)
{
}

void ProgressReporter::record(
    const std::string& loss, std::int64_t global_iteration, const torch::Tensor& weighted, float weight)
{
    auto& p = m_pending[loss];
    p.iterations.push_back(global_iteration);
    p.weighted.push_back(weighted.detach().reshape({}));
    p.weights.push_back(weight);
}

torch::Tensor ProgressReporter::latest(const std::string& loss) const
{
    const auto it = m_pending.find(loss);
    return it == m_pending.end() || it->second.weighted.empty() ? torch::Tensor() : it->second.weighted.back();
}

bool ProgressReporter::iteration_done(int rate)
{
    ++m_since_report;
    if (!m_observer && m_since_report >= 256) {
        // Nobody listens: still move values off the device now and then.
        m_pending.clear();
        m_since_report = 0;
    }
    return m_observer && m_since_report >= std::max(1, rate);
}

void ProgressReporter::send(ProgressReport r, const std::vector<ReportedLoss>& losses)
{
    std::vector<torch::Tensor> all;
    for (auto& [name, p] : m_pending)
        all.insert(all.end(), p.weighted.begin(), p.weighted.end());
    std::vector<float> host;
    if (!all.empty()) {
        auto t = torch::stack(all).to(torch::kCPU, torch::kFloat32).contiguous();
        host.assign(t.data_ptr<float>(), t.data_ptr<float>() + t.numel());
    }
    std::size_t k = 0;
    std::map<std::string, LossSeriesChunk> chunks;
    for (auto& [name, p] : m_pending) {
        LossSeriesChunk c;
        c.name = name;
        c.iterations = std::move(p.iterations);
        c.weights = p.weights;
        for (std::size_t i = 0; i < p.weighted.size(); ++i, ++k) {
            const float w = p.weights[i];
            const float raw = w != 0.0f ? host[k] / w : host[k];
            c.raw.push_back(raw);
            m_epoch_sum[name] += raw;
            m_epoch_count[name] += 1;
        }
        chunks[name] = std::move(c);
    }
    m_pending.clear();
    m_since_report = 0;
    for (const auto& l : losses) {
        auto it = chunks.find(l.name);
        LossSeriesChunk c = it != chunks.end() ? std::move(it->second) : LossSeriesChunk {};
        c.name = l.name;
        c.tags = l.tags;
        c.enabled = l.enabled;
        r.losses.push_back(std::move(c));
    }
    if (m_observer)
        m_observer->on_progress(r);
}

void ProgressReporter::begin_epoch()
{
    m_epoch_sum.clear();
    m_epoch_count.clear();
}

std::map<std::string, double> ProgressReporter::epoch_means() const
{
    std::map<std::string, double> out;
    for (const auto& [name, total] : m_epoch_sum)
        out[name] = total / static_cast<double>(std::max<std::int64_t>(1, m_epoch_count.at(name)));
    return out;
}

} // namespace nectar
