// SPDX-License-Identifier: Apache-2.0
#pragma once
/// @file Joining a data-parallel job (distributed/) for a Pix2pixTrainer run: the per-rank device, CPU
/// threads and seed, and the digest that proves every rank trains the same thing. Used by nectar-train's
/// workers (started by its --nproc-per-node launcher or by torchrun).

#include <memory>
#include <string>
#include <vector>

#include "config/config.h"
#include "distributed/dist_context.h"
#include "objective/objective.h"

namespace nectar {

/// Hex SHA-256 of the config (as config_to_json writes it) and the objective (its record: every loss's
/// weight, tags and schedule). Ranks with different digests refuse to train together.
std::string run_digest(const Config& config, const Objective& objective);

/// Joins the job `settings` describes, to train `config` on `objective`, and adapts `config` to this rank:
///  - device: cuda:LOCAL_RANK when common.device is "auto" or "cuda" and that GPU exists; "cuda:N" is
///    taken as the first GPU of this machine's ranks (cuda:N+LOCAL_RANK); otherwise the CPU;
///  - threads: with common.num_threads = 0 (all cores) the cores are split between the local ranks
///    (at least 1 each); an explicit count is kept;
///  - seed: a negative common.seed becomes rank 0's random draw, the same on every rank (the shuffle
///    order must be shared).
/// The digest is computed before these changes. `notes` gets what was chosen (may be null).
/// Throws DistSetupError (port in use, missing ranks, differing digests, no NCCL) or InputError.
std::unique_ptr<DistContext> join_data_parallel(const DistSettings& settings, Config& config,
    const Objective& objective, std::vector<std::string>* notes = nullptr);

} // namespace nectar
