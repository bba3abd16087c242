// SPDX-License-Identifier: Apache-2.0
#include "training/control.h"

namespace nectar {

void TrainingControl::request_stop()
{
    {
        std::lock_guard<std::mutex> lock(m_mutex);
        m_stop.store(true);
    }
    m_cv.notify_all();
}

void TrainingControl::pause()
{
    std::lock_guard<std::mutex> lock(m_mutex);
    m_paused = true;
}

void TrainingControl::resume()
{
    {
        std::lock_guard<std::mutex> lock(m_mutex);
        m_paused = false;
    }
    m_cv.notify_all();
}

bool TrainingControl::paused() const
{
    std::lock_guard<std::mutex> lock(m_mutex);
    return m_paused;
}

bool TrainingControl::wait_while_paused()
{
    std::unique_lock<std::mutex> lock(m_mutex);
    m_cv.wait(lock, [this] { return !m_paused || m_stop.load(); });
    return !m_stop.load();
}

void TrainingControl::set_loss_weight(const std::string& loss, double weight)
{
    std::lock_guard<std::mutex> lock(m_mutex);
    m_edits.weights[loss] = weight;
}

void TrainingControl::set_loss_tags(const std::string& loss, const std::vector<std::string>& tags)
{
    std::lock_guard<std::mutex> lock(m_mutex);
    m_edits.tags[loss] = tags;
}

TrainingControl::Edits TrainingControl::take_edits()
{
    std::lock_guard<std::mutex> lock(m_mutex);
    Edits out = std::move(m_edits);
    m_edits = Edits {};
    return out;
}

} // namespace nectar
