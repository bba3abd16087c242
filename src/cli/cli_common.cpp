// SPDX-License-Identifier: Apache-2.0
#include "cli_common.h"

#include <csignal>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <new>
#include <sstream>

#include <QCommandLineParser>

#include <pthread.h>
#include <unistd.h>

#include <torch/torch.h>

#include "config/config.h"
#include "data/paired_dataset.h"
#include "objective/preset.h"
#include "objective/spec_registry.h"
#include "scheduling/schedule.h"
#include "training/checkpoint.h"
#include "training/experiment.h"
#include "util/paths.h"

namespace fs = std::filesystem;

namespace nectar::cli {

RawArguments::RawArguments(int argc, char** argv, const std::set<std::string>& value_options)
{
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        if (arg == "--")
            break;
        if (arg.rfind("--", 0) != 0)
            continue;
        const auto eq = arg.find('=');
        const std::string name = arg.substr(2, eq == std::string::npos ? std::string::npos : eq - 2);
        if (!value_options.count(name))
            continue;
        if (eq != std::string::npos)
            m_values[name] = arg.substr(eq + 1);
        else if (i + 1 < argc)
            m_values[name] = argv[++i];
    }
}

std::string RawArguments::value(const std::string& name) const
{
    const auto it = m_values.find(name);
    return it == m_values.end() ? std::string() : it->second;
}

void add_option(QCommandLineParser& parser, std::set<std::string>& value_options, const char* name, const char* desc,
    const char* value)
{
    if (value)
        value_options.insert(name);
    parser.addOption(value
            ? QCommandLineOption(QString::fromLatin1(name), QString::fromLatin1(desc), QString::fromLatin1(value))
            : QCommandLineOption(QString::fromLatin1(name), QString::fromLatin1(desc)));
}

int parse_int(const QCommandLineParser& p, const QString& name, int min)
{
    bool ok = false;
    const int v = p.value(name).toInt(&ok);
    if (!ok || v < min)
        throw UsageError("--" + name.toStdString() + " " + p.value(name).toStdString()
            + ": expected an integer >= " + std::to_string(min));
    return v;
}

std::string find_sample_dataset()
{
    std::vector<fs::path> candidates;
    if (const char* env = std::getenv("NECTAR_SAMPLE_DATA"))
        candidates.emplace_back(env);
    std::error_code ec;
    const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
    if (!ec)
        candidates.push_back(exe.parent_path().parent_path() / "share/nectar-toolbox/sample-data/photo-colorize");
#ifdef NECTAR_SAMPLE_DATA_SOURCE_DIR
    candidates.emplace_back(NECTAR_SAMPLE_DATA_SOURCE_DIR);
#endif
    for (const auto& c : candidates)
        if (fs::is_directory(c / "train", ec))
            return fs::absolute(c).lexically_normal().string();
    return {};
}

std::string experiment_config_copy(const std::string& experiment_dir, const std::string& hint)
{
    if (!fs::is_directory(experiment_dir))
        throw UsageError("--experiment " + display_path(experiment_dir) + ": no such folder");
    std::string path = latest_config_copy_path(experiment_dir);
    if (path.empty())
        throw UsageError("--experiment " + display_path(experiment_dir)
            + ": no train<K>_config.json in it (not an experiment folder?)" + (hint.empty() ? "" : "; " + hint));
    return path;
}

nlohmann::json objective_table(const std::map<std::string, LMLoss>& losses)
{
    nlohmann::json out = nlohmann::json::array();
    for (const auto& [name, l] : losses) {
        nlohmann::json e;
        e["name"] = name;
        e["function"] = l.function_name;
        e["weight"] = l.loss_weight;
        e["tags"] = l.tags;
        if (l.schedule.kind == Schedule::Kind::Custom)
            e["schedule"] = { { "schedule", "custom" } };
        else
            e["schedule"] = l.schedule;
        e["inputs"]
            = { { "prediction", operand_name(l.inputs.prediction) }, { "target", operand_name(l.inputs.target) } };
        out.push_back(e);
    }
    return out;
}

std::string format_duration(double seconds)
{
    if (!std::isfinite(seconds) || seconds < 0)
        return "--:--";
    long s = std::lround(seconds);
    char buf[32];
    if (s >= 3600)
        std::snprintf(buf, sizeof buf, "%ld:%02ld:%02ld", s / 3600, (s / 60) % 60, s % 60);
    else
        std::snprintf(buf, sizeof buf, "%ld:%02ld", s / 60, s % 60);
    return buf;
}

ProgressPrinter::ProgressPrinter(std::FILE* out, bool quiet)
    : m_out(out)
    , m_tty(isatty(fileno(out)) != 0)
    , m_quiet(quiet)
{
}

void ProgressPrinter::end_line()
{
    if (m_open_line) {
        std::fputc('\n', m_out);
        m_open_line = false;
    }
}

void ProgressPrinter::on_run_started(const RunInfo& info)
{
    m_info = info;
    m_tags = info.loss_tags;
    const std::string world = info.world_size > 1 || !info.backend.empty()
        ? " (rank 0 of " + std::to_string(info.world_size) + " processes, " + info.backend + ")"
        : std::string();
    std::fprintf(m_out, "experiment: %s\ndevice: %s%s, epochs %d..%d, %lld iterations per epoch%s\n",
        display_path(info.experiment_dir).c_str(), info.device.c_str(), world.c_str(), info.first_epoch,
        info.last_epoch, static_cast<long long>(info.iterations_per_epoch), world.empty() ? "" : " per rank");
    std::fflush(m_out);
}

void ProgressPrinter::on_progress(const ProgressReport& r)
{
    for (const auto& c : r.losses) {
        m_tags[c.name] = c.tags;
        m_enabled[c.name] = c.enabled;
        if (!c.raw.empty()) {
            m_latest[c.name] = c.raw.back();
            m_latest_weighted[c.name] = c.raw.back() * c.weights.back();
        }
    }
    if (m_quiet)
        return;
    const int width = 24;
    const double frac = r.iterations_per_epoch > 0 ? double(r.iteration) / double(r.iterations_per_epoch) : 0.0;
    const int filled = static_cast<int>(frac * width + 0.5);
    std::string bar(static_cast<size_t>(filled), '#');
    bar.resize(width, '-');
    // Latest weighted losses grouped by tag (a loss with several tags shows in each group).
    std::map<std::string, std::vector<std::string>> groups;
    for (const auto& [name, tags] : m_tags) {
        std::ostringstream v;
        if (!m_enabled[name])
            v << name << " off";
        else if (m_latest_weighted.count(name))
            v << name << " " << std::setprecision(4) << m_latest_weighted[name];
        else
            continue;
        for (const auto& t : tags.empty() ? std::vector<std::string> { "-" } : tags)
            groups[t].push_back(v.str());
    }
    std::ostringstream losses;
    for (const auto& [tag, items] : groups) {
        losses << " | " << tag << ":";
        for (const auto& i : items)
            losses << " " << i;
    }
    std::fprintf(m_out, "%sepoch %d/%d [%s] %lld/%lld %.2f it/s ETA %s%s%s", m_tty ? "\r\033[K" : "", r.epoch,
        r.last_epoch, bar.c_str(), static_cast<long long>(r.iteration), static_cast<long long>(r.iterations_per_epoch),
        r.iterations_per_second, format_duration(r.eta_seconds).c_str(), losses.str().c_str(), m_tty ? "" : "\n");
    m_open_line = m_tty;
    std::fflush(m_out);
}

void ProgressPrinter::on_epoch_end(const EpochSummary& s)
{
    end_line();
    std::ostringstream mean;
    for (const auto& [name, v] : s.mean_raw_loss)
        mean << " " << name << "=" << std::setprecision(4) << v;
    const bool partial = s.stopped && s.iterations < s.iterations_per_epoch;
    const std::string state = partial
        ? "stopped after " + std::to_string(s.iterations) + "/" + std::to_string(s.iterations_per_epoch) + " iterations"
        : std::string("done");
    std::fprintf(m_out, "epoch %d %s in %s, lr G %.8g D %.8g%s%s, mean raw losses:%s\n", s.epoch, state.c_str(),
        format_duration(s.seconds).c_str(), s.lr_g, s.lr_d, s.checkpoint_saved ? ", checkpoint saved" : "",
        s.examples_saved ? ", examples saved" : "", mean.str().c_str());
    std::fflush(m_out);
}

void ProgressPrinter::on_message(MessageLevel level, const std::string& text)
{
    end_line();
    const char* prefix = level == MessageLevel::Error ? "error: " : level == MessageLevel::Warning ? "warning: " : "";
    std::fprintf(m_out, "%s%s\n", prefix, text.c_str());
    std::fflush(m_out);
}

void ProgressPrinter::on_run_finished(bool stopped)
{
    end_line();
    if (stopped)
        std::fprintf(m_out, "stopped on request; checkpoint and loss log saved\n");
    std::fflush(m_out);
}

namespace {

// Self-pipe: the handler (any thread may receive the signal, including threads that libraries
// start before main) only does async-signal-safe work; the watcher thread calls into the trainer.
int g_signal_pipe[2] = { -1, -1 };
std::atomic<int> g_signal_count { 0 };

extern "C" void on_stop_signal(int sig)
{
    if (g_signal_count.fetch_add(1) >= 1) {
        const char msg[] = "\nsecond interrupt: exiting without saving\n";
        (void)!write(STDERR_FILENO, msg, sizeof msg - 1);
        _exit(130);
    }
    const char byte = static_cast<char>(sig);
    (void)!write(g_signal_pipe[1], &byte, 1);
}

} // namespace

SignalStopper::SignalStopper(TrainingControl& control)
    : m_control(control)
{
    if (pipe(g_signal_pipe) != 0)
        return;
    struct sigaction sa { };
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    sigaction(SIGINT, &sa, nullptr);
    sigaction(SIGTERM, &sa, nullptr);
    m_thread = std::thread([this] {
        char byte = 0;
        while (read(g_signal_pipe[0], &byte, 1) == 1) {
            if (m_done.load())
                return;
            m_triggered.store(true);
            if (const char* msg = m_message.load())
                (void)!write(STDERR_FILENO, msg, std::strlen(msg));
            m_control.request_stop();
        }
    });
}

SignalStopper::~SignalStopper()
{
    if (!m_thread.joinable())
        return;
    m_done.store(true);
    const char byte = 0;
    (void)!write(g_signal_pipe[1], &byte, 1);
    m_thread.join();
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
}

ControlFileWatcher::ControlFileWatcher(std::string path, TrainingControl& control)
    : m_path(std::move(path))
    , m_control(control)
{
    m_thread = std::thread([this] {
        std::string last = "run";
        while (!m_done.load()) {
            std::string word;
            {
                std::ifstream in(m_path);
                in >> word;
            }
            if (word.empty() || word == "resume")
                word = "run";
            if (word != last) {
                if (word == "pause")
                    m_control.pause();
                else if (word == "run")
                    m_control.resume();
                else if (word == "stop")
                    m_control.request_stop();
                last = word;
            }
            for (int i = 0; i < 5 && !m_done.load(); ++i)
                std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
    });
}

ControlFileWatcher::~ControlFileWatcher()
{
    m_done.store(true);
    if (m_thread.joinable())
        m_thread.join();
}

int guarded(const char* program, const std::function<int()>& body, int other_code)
{
    auto fail = [&](int code, const std::string& what) {
        std::cerr << program << ": error: " << what << std::endl;
        return code;
    };
    try {
        return body();
    } catch (const InputError& e) { // ConfigError, PresetError, SpecError, DataError, CheckpointError, UsageError
        return fail(kExitBadInput, e.what());
    } catch (const std::invalid_argument& e) {
        return fail(kExitBadInput, e.what());
    } catch (const c10::Error& e) {
        return fail(other_code, e.what_without_backtrace());
    } catch (const std::bad_alloc&) {
        return fail(other_code,
            "out of memory (std::bad_alloc): free memory, or lower the batch size, crop size or model size");
    } catch (const std::exception& e) {
        return fail(other_code, e.what());
    } catch (...) {
        return fail(other_code, "unexpected error of an unknown type");
    }
}

} // namespace nectar::cli
