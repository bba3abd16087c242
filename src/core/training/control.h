// SPDX-License-Identifier: Apache-2.0
#pragma once
/// @file Pause / stop / live loss edits for a running trainer, from another thread (GUI, signal
/// handler). Free of Qt and LibTorch types, so GUI headers may include it.

#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace nectar {

/// Requests from another thread (GUI, signal handler), applied between iterations.
/// Pause blocks the training thread on a condition variable (no sleep-polling).
class TrainingControl {
public:
    void request_stop();
    void pause();
    void resume();
    bool stop_requested() const { return m_stop.load(std::memory_order_relaxed); }
    bool paused() const;
    /// Blocks while paused; returns false if a stop was requested.
    bool wait_while_paused();

    /// Live edits: queued and applied by the trainer before the next iteration.
    void set_loss_weight(const std::string& loss, double weight);
    void set_loss_tags(const std::string& loss, const std::vector<std::string>& tags);
    struct Edits {
        std::map<std::string, double> weights;
        std::map<std::string, std::vector<std::string>> tags;
        bool empty() const { return weights.empty() && tags.empty(); }
    };
    /// Takes the pending edits (thread-safe).
    Edits take_edits();

private:
    std::atomic<bool> m_stop { false };
    mutable std::mutex m_mutex;
    std::condition_variable m_cv;
    bool m_paused = false;
    Edits m_edits;
};

} // namespace nectar
