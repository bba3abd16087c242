// SPDX-License-Identifier: Apache-2.0
#pragma once
/// @file nectar-train --nproc-per-node N: starts N worker processes of this program on this machine, as
/// torchrun does (RANK, WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE, MASTER_ADDR, MASTER_PORT,
/// TORCHELASTIC_USE_AGENT_STORE), hosts their rendezvous store on node 0, and supervises them:
///  - each worker's stderr is passed through (ranks > 0 prefixed "[rank K] ") and its last lines kept;
///  - SIGINT / SIGTERM to the launcher is forwarded once to every worker as SIGTERM (a stop request:
///    every rank stops after the same iteration, rank 0 saves; the workers run in their own process
///    group, so a terminal's Ctrl-C reaches them only through the launcher; a launcher that dies sends
///    them SIGTERM through PR_SET_PDEATHSIG, so no worker outlives it);
///  - when a worker fails (non-zero exit or a signal), the others get SIGTERM after 5 s and SIGKILL after
///    the collective timeout + 30 s; the launcher names the failed rank, its exit status or signal and
///    its last stderr lines, and exits 1 (2 when the failure was bad input, e.g. differing configs).

#include <string>
#include <vector>

#include <QStringList>

namespace nectar {
class TrainingControl;
}

namespace nectar::cli {

struct LaunchOptions {
    int nproc_per_node = 1;
    int nnodes = 1;
    int node_rank = 0;
    std::string master_addr = "127.0.0.1";
    int master_port = 29500;
    int collective_timeout_s = 600; ///< for the SIGKILL deadline after a failure
    QStringList worker_arguments; ///< this program's arguments without the launcher's own options
};

/// The launcher's own options (they describe the job, not a worker): removed from the workers' arguments.
inline const std::vector<std::string>& launcher_only_options()
{
    static const std::vector<std::string> names { "nproc-per-node", "nnodes", "node-rank", "master-addr",
        "master-port" };
    return names;
}

/// `args` (without the program name) minus the launcher-only options and their values.
QStringList worker_arguments(const QStringList& args);

/// Runs the job on this node; returns the launcher's exit code (0: every worker exited 0). `requests`
/// is polled for a stop request (the launcher's SignalStopper). Throws DistSetupError (exit 2) when node
/// 0 cannot host the store (port in use), before any worker starts.
int launch_workers(const LaunchOptions& options, TrainingControl& requests);

} // namespace nectar::cli
