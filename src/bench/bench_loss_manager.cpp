// SPDX-License-Identifier: Apache-2.0
// nectar-bench-loss-manager: LossManager overhead per compute_loss_xy call on 1x1x30x30 CPU
// tensors, beyond the bare loss + multiply (NectarGAN's Python LossManager adds 22-33 us).
// Prints figures only; asserts nothing about time.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <vector>

#include <torch/torch.h>

#include "config/config.h"
#include "losses/loss_manager.h"

namespace {
using Clock = std::chrono::steady_clock;

template <typename F> double us_per_call(int calls, F&& f)
{
    const auto t0 = Clock::now();
    for (int i = 0; i < calls; ++i)
        f();
    return std::chrono::duration<double, std::micro>(Clock::now() - t0).count() / calls;
}
} // namespace

int main(int argc, char** argv)
{
    torch::set_num_threads(1);
    // Short interleaved rounds and the minimum per variant: robust to other load on the machine.
    const int calls = argc > 1 ? std::max(100, std::atoi(argv[1])) : 2000;
    const int rounds = 41;
    auto bce = torch::nn::BCEWithLogitsLoss().ptr();
    auto fn = [bce](const torch::Tensor& x, const torch::Tensor& y) { return bce->forward(x, y); };
    const auto x = torch::randn({ 1, 1, 30, 30 }, torch::requires_grad());
    const auto y = torch::ones({ 1, 1, 30, 30 });
    const double weight = 1.0;

    const auto dir = std::filesystem::temp_directory_path() / "nectar-bench-loss-manager";
    std::filesystem::remove_all(dir);
    nectar::LossManager logged(nectar::Config {}, dir.string(), true);
    nectar::LossManager unlogged(nectar::Config {}, {}, false);
    for (auto* lm : { &logged, &unlogged }) {
        lm->register_loss_fn("D_real", fn, 1.0, {}, { "D" });
        lm->register_loss_fn("G_L1", fn, 100.0, {}, { "G" });
    }

    std::vector<double> bare, managed, managed_nolog;
    for (int r = 0; r < rounds; ++r) {
        bare.push_back(us_per_call(calls, [&] {
            auto v = fn(x, y) * weight;
            (void)v;
        }));
        managed.push_back(us_per_call(calls, [&] {
            auto v = logged.compute_loss_xy("D_real", x, y, 1);
            (void)v;
        }));
        managed_nolog.push_back(us_per_call(calls, [&] {
            auto v = unlogged.compute_loss_xy("D_real", x, y, 1);
            (void)v;
        }));
        logged.update_loss_log(); // per-epoch dump, outside the timed loop as in training
    }
    auto best = [](const std::vector<double>& v) { return *std::min_element(v.begin(), v.end()); };
    const double b = best(bare), m = best(managed), mn = best(managed_nolog);
    std::printf(
        "nectar-bench-loss-manager: %d calls x %d rounds, 1x1x30x30 float32 CPU, BCEWithLogits, 1 thread, best round\n",
        calls, rounds);
    std::printf("  bare loss + multiply        : %7.2f us/call\n", b);
    std::printf("  LossManager (logging on)    : %7.2f us/call  -> overhead %5.2f us/call\n", m, m - b);
    std::printf("  LossManager (logging off)   : %7.2f us/call  -> overhead %5.2f us/call\n", mn, mn - b);
    std::printf("  goal: overhead <= 5 us/call (NectarGAN's Python LossManager: 22-33 us/call)\n");
    std::filesystem::remove_all(dir);
    return 0;
}
