// SPDX-License-Identifier: Apache-2.0
#include "launcher.h"

#include <csignal>
#include <cstring>
#include <deque>
#include <iostream>
#include <memory>
#include <optional>

#include <QCoreApplication>
#include <QEventLoop>
#include <QProcess>
#include <QProcessEnvironment>
#include <QTimer>
#include <sys/prctl.h>
#include <unistd.h>

#include "cli_common.h"
#include "distributed/dist_context.h"
#include "training/control.h"

namespace nectar::cli {

QStringList worker_arguments(const QStringList& args)
{
    QStringList out;
    for (int i = 0; i < args.size(); ++i) {
        const QString& a = args[i];
        bool dropped = false;
        for (const auto& name : launcher_only_options()) {
            const QString flag = QStringLiteral("--") + QString::fromStdString(name);
            if (a == flag) {
                ++i; // and its value
                dropped = true;
            } else if (a.startsWith(flag + QLatin1Char('='))) {
                dropped = true;
            }
            if (dropped)
                break;
        }
        if (a == QStringLiteral("--")) {
            out << args.mid(i);
            break;
        }
        if (!dropped)
            out << a;
    }
    return out;
}

namespace {

struct Worker {
    int rank = 0;
    std::unique_ptr<QProcess> process;
    std::deque<std::string> tail; // last stderr lines
    std::string partial; // stderr after the last newline
    bool finished = false;
    int exit_code = 0;
    bool crashed = false; // killed by a signal (exit_code is the signal number)
    bool signalled_by_us = false;
};

std::string describe_exit(const Worker& w)
{
    if (w.crashed) {
        const char* name = strsignal(w.exit_code);
        return "killed by signal " + std::to_string(w.exit_code) + " (" + (name ? name : "?") + ")";
    }
    return "exit status " + std::to_string(w.exit_code);
}

void send(Worker& w, int sig)
{
    if (w.finished || w.process->state() == QProcess::NotRunning)
        return;
    const qint64 pid = w.process->processId();
    if (pid > 0)
        ::kill(static_cast<pid_t>(pid), sig);
    w.signalled_by_us = true;
}

} // namespace

int launch_workers(const LaunchOptions& o, TrainingControl& requests)
{
    const int world = o.nnodes * o.nproc_per_node;
    std::optional<RendezvousHost> host;
    if (o.node_rank == 0)
        host.emplace(o.master_addr, o.master_port); // throws DistSetupError: nothing started yet

    std::cerr << "launching " << o.nproc_per_node << " worker(s) on node " << o.node_rank << " of " << o.nnodes
              << " (world size " << world << ", rendezvous at " << o.master_addr << ":" << o.master_port << ")"
              << std::endl;

    std::vector<Worker> workers(static_cast<std::size_t>(o.nproc_per_node));
    QEventLoop loop;
    int running = 0;
    std::optional<std::size_t> first_failure;
    QTimer term_timer, kill_timer;
    term_timer.setSingleShot(true);
    kill_timer.setSingleShot(true);
    QObject::connect(&term_timer, &QTimer::timeout, [&] {
        for (auto& w : workers)
            send(w, SIGTERM);
    });
    QObject::connect(&kill_timer, &QTimer::timeout, [&] {
        for (auto& w : workers)
            send(w, SIGKILL);
    });

    const auto flush_line = [](Worker& w, const std::string& line) {
        if (line.empty() && w.rank != 0)
            return;
        if (w.rank == 0)
            std::cerr << line << "\n";
        else
            std::cerr << "[rank " << w.rank << "] " << line << "\n";
        w.tail.push_back(line);
        if (w.tail.size() > 20)
            w.tail.pop_front();
    };

    for (std::size_t i = 0; i < workers.size(); ++i) {
        Worker& w = workers[i];
        w.rank = o.node_rank * o.nproc_per_node + static_cast<int>(i);
        w.process = std::make_unique<QProcess>();
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert(QStringLiteral("RANK"), QString::number(w.rank));
        env.insert(QStringLiteral("WORLD_SIZE"), QString::number(world));
        env.insert(QStringLiteral("LOCAL_RANK"), QString::number(i));
        env.insert(QStringLiteral("LOCAL_WORLD_SIZE"), QString::number(o.nproc_per_node));
        env.insert(QStringLiteral("GROUP_RANK"), QString::number(o.node_rank));
        env.insert(QStringLiteral("MASTER_ADDR"), QString::fromStdString(o.master_addr));
        env.insert(QStringLiteral("MASTER_PORT"), QString::number(o.master_port));
        env.insert(QStringLiteral("TORCHELASTIC_USE_AGENT_STORE"), QStringLiteral("True"));
        w.process->setProcessEnvironment(env);
        w.process->setProgram(QCoreApplication::applicationFilePath());
        w.process->setArguments(o.worker_arguments);
        w.process->setProcessChannelMode(QProcess::ForwardedOutputChannel);
        // Own process group: a terminal's Ctrl-C reaches the workers once, through the launcher. And a
        // launcher that dies (a second Ctrl-C exits at once, a SIGKILL) takes them along: SIGTERM, a stop.
        w.process->setChildProcessModifier([] {
            ::setpgid(0, 0);
            ::prctl(PR_SET_PDEATHSIG, SIGTERM);
        });
        QObject::connect(w.process.get(), &QProcess::readyReadStandardError, [&w, &flush_line] {
            w.partial += w.process->readAllStandardError().toStdString();
            std::size_t nl;
            while ((nl = w.partial.find('\n')) != std::string::npos) {
                flush_line(w, w.partial.substr(0, nl));
                w.partial.erase(0, nl + 1);
            }
            std::cerr.flush();
        });
        QObject::connect(w.process.get(), &QProcess::finished, [&, i](int code, QProcess::ExitStatus status) {
            Worker& me = workers[i];
            me.partial += me.process->readAllStandardError().toStdString();
            if (!me.partial.empty())
                flush_line(me, me.partial);
            me.partial.clear();
            me.finished = true;
            me.exit_code = code;
            me.crashed = status == QProcess::CrashExit;
            if ((code != 0 || me.crashed) && !first_failure) {
                first_failure = i;
                std::cerr << "nectar-train: rank " << me.rank << " failed (" << describe_exit(me)
                          << "): stopping the other ranks" << std::endl;
                term_timer.start(5000);
                kill_timer.start((o.collective_timeout_s + 30) * 1000);
            }
            if (--running == 0)
                loop.quit();
        });
        QObject::connect(w.process.get(), &QProcess::errorOccurred, [&, i](QProcess::ProcessError e) {
            if (e != QProcess::FailedToStart)
                return;
            Worker& me = workers[i];
            std::cerr << "nectar-train: rank " << me.rank
                      << " could not start: " << me.process->errorString().toStdString() << std::endl;
            me.finished = true;
            me.exit_code = kExitTrainingFailure;
            if (!first_failure)
                first_failure = i;
            for (auto& other : workers)
                send(other, SIGTERM);
            if (--running == 0)
                loop.quit();
        });
        ++running;
        w.process->start();
    }

    QTimer poll;
    bool forwarded = false;
    QObject::connect(&poll, &QTimer::timeout, [&] {
        if (!forwarded && requests.stop_requested()) {
            forwarded = true;
            for (auto& w : workers)
                send(w, SIGTERM);
        }
    });
    poll.start(100);
    if (running > 0)
        loop.exec();

    if (!first_failure)
        return kExitOk;
    // The culprit: a rank killed from outside explains the others' failed collectives.
    std::size_t culprit = *first_failure;
    for (std::size_t i = 0; i < workers.size(); ++i)
        if (workers[i].crashed && !workers[i].signalled_by_us) {
            culprit = i;
            break;
        }
    const Worker& w = workers[culprit];
    std::cerr << "nectar-train: error: rank " << w.rank << " failed (" << describe_exit(w) << ")";
    if (!w.tail.empty()) {
        std::cerr << "; its last stderr lines:\n";
        for (const auto& line : w.tail)
            std::cerr << "  | " << line << "\n";
    } else {
        std::cerr << "; it wrote nothing on stderr\n";
    }
    for (const auto& other : workers)
        if (&other != &w && (other.exit_code != 0 || other.crashed))
            std::cerr << "nectar-train: rank " << other.rank << ": " << describe_exit(other) << "\n";
    std::cerr.flush();
    return !w.crashed && w.exit_code == kExitBadInput ? kExitBadInput : kExitTrainingFailure;
}

} // namespace nectar::cli
