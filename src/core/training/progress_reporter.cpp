// SPDX-License-Identifier: Apache-2.0
#include "training/progress_reporter.h"

#include <algorithm>

#include "losses/loss_manager.h"

namespace nectar {

ProgressReporter::ProgressReporter(TrainingObserver* observer, LossManager& manager)
    : m_observer(observer)
    , m_manager(manager)
{
    m_manager.set_reporting(observer != nullptr);
}

void ProgressReporter::record(const std::string& loss, std::int64_t global_iteration)
{
    if (m_observer)
        m_iterations[loss].push_back(global_iteration);
}

bool ProgressReporter::iteration_done(int rate)
{
    ++m_since_report;
    // The first iteration is reported at once: a chart should not wait `rate` iterations (50 by default,
    // about a minute for NectarGAN's full-size model on 2 cores) for its first value.
    return m_observer && (!m_reported || m_since_report >= std::max(1, rate));
}

void ProgressReporter::send(ProgressReport r, const std::vector<ReportedLoss>& losses)
{
    m_since_report = 0;
    m_reported = true;
    if (!m_observer)
        return;
    std::map<std::string, LMHistory> values = m_manager.take_unreported();
    for (const auto& l : losses) {
        LossSeriesChunk c;
        c.name = l.name;
        c.tags = l.tags;
        c.enabled = l.enabled;
        auto v = values.find(l.name);
        auto it = m_iterations.find(l.name);
        if (v != values.end() && it != m_iterations.end()) {
            // One value per recorded call; the counts match unless a loss was renamed mid-run (never).
            const std::size_t n = std::min(v->second.losses.size(), it->second.size());
            c.iterations.assign(it->second.begin(), it->second.begin() + static_cast<std::ptrdiff_t>(n));
            c.raw.assign(v->second.losses.begin(), v->second.losses.begin() + static_cast<std::ptrdiff_t>(n));
            c.weights.assign(v->second.weights.begin(), v->second.weights.begin() + static_cast<std::ptrdiff_t>(n));
            if (v->second.times.size() >= n)
                c.wall_time.assign(v->second.times.begin(), v->second.times.begin() + static_cast<std::ptrdiff_t>(n));
            for (float raw : c.raw) {
                m_epoch_sum[l.name] += raw;
                m_epoch_count[l.name] += 1;
            }
        }
        r.losses.push_back(std::move(c));
    }
    m_iterations.clear();
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
