// SPDX-License-Identifier: Apache-2.0
#include "training/trainer.h"

#include <chrono>

#include "data/data_loader.h"
#include "training/control.h"

namespace nectar {

EpochLoopResult Trainer::run_epochs(
    int first, int last, DataLoader& loader, TrainingControl* control, const torch::Device& device)
{
    using Clock = std::chrono::steady_clock;
    EpochLoopResult result;
    for (int epoch = first; epoch <= last; ++epoch) {
        if (control && control->stop_requested()) {
            result.stopped = true;
            on_stopped_before(epoch);
            return result;
        }
        on_epoch_start(epoch);
        loader.begin_epoch(epoch);
        std::int64_t idx = 0;
        auto t = Clock::now();
        while (auto batch = loader.next()) {
            on_batch_ready(std::chrono::duration<double>(Clock::now() - t).count());
            before_iteration();
            if (control && (!control->wait_while_paused() || control->stop_requested())) {
                result.stopped = true;
                break;
            }
            const auto x = batch->a.to(device, /*non_blocking=*/true);
            const auto y = batch->b.to(device, /*non_blocking=*/true);
            train_step(x, y, idx++);
            t = Clock::now();
        }
        if (result.stopped) {
            loader.stop();
            if (idx == 0) {
                on_stopped_before(epoch);
                return result;
            }
        }
        on_epoch_end(epoch, result.stopped);
        result.last_epoch_completed = epoch;
        if (result.stopped)
            return result;
    }
    return result;
}

} // namespace nectar
