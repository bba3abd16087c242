// SPDX-License-Identifier: Apache-2.0
#pragma once
/// @file Helpers shared by nectar-train and nectar-test: exit codes, error mapping, the bundled sample
/// dataset, the progress bar, the objective table and Ctrl-C handling.

#include <atomic>
#include <chrono>
#include <cstdio>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "losses/lm_types.h"
#include "training/control.h"
#include "training/progress.h"
#include "util/error.h"

class QCommandLineParser;
class QString;

namespace nectar::cli {

enum ExitCode : int {
    kExitOk = 0,
    kExitTrainingFailure = 1, ///< the run started and failed (NaN/Inf loss, I/O error during training)
    kExitBadInput = 2, ///< bad arguments, config, preset, spec, data or checkpoint (message on stderr)
};

/// Thrown for bad command-line input; main() prints the message and exits with kExitBadInput.
class UsageError : public InputError {
public:
    using InputError::InputError;
};

/// Option values as the raw bytes of argv. QCoreApplication::arguments() decodes argv as UTF-8, so a file
/// name that is not UTF-8 would come out of QCommandLineParser as another name (U+FFFD); QCommandLineParser
/// still checks the syntax, this only looks the values up again. Understands what the parser does:
/// "--name value" and "--name=value", the last one wins, "--" ends the options.
class RawArguments {
public:
    /// `value_options`: the names (without "--") of the options that take a value.
    RawArguments(int argc, char** argv, const std::set<std::string>& value_options);
    /// The value of --name as given, or "" when it is not given.
    std::string value(const std::string& name) const;

private:
    std::map<std::string, std::string> m_values;
};

/// Adds --name (with a value named `value`, or a flag when null) to `parser`; names taking a value are
/// collected in `value_options` for RawArguments.
void add_option(QCommandLineParser& parser, std::set<std::string>& value_options, const char* name, const char* desc,
    const char* value = nullptr);

/// The value of --name as an integer >= `min`; throws UsageError naming the option and the value.
int parse_int(const QCommandLineParser& parser, const QString& name, int min);

/// Folder of the bundled sample dataset (photo-colorize): $NECTAR_SAMPLE_DATA if set, else
/// <exe>/../share/nectar-toolbox/sample-data/photo-colorize (installed), else the source tree
/// (NECTAR_SAMPLE_DATA_SOURCE_DIR). Empty if none exists.
std::string find_sample_dataset();

/// The newest config copy (train<K>_config.json) of the experiment folder `experiment_dir`, as passed to
/// --experiment. Throws UsageError naming the folder when it does not exist or holds no config copy (that
/// message ends with `hint` when given).
std::string experiment_config_copy(const std::string& experiment_dir, const std::string& hint = {});

/// The resolved objective as JSON: [{name, function, weight, tags, schedule, inputs: {prediction, target}}],
/// sorted by name.
nlohmann::json objective_table(const std::map<std::string, LMLoss>& losses);

/// Formats seconds as H:MM:SS or M:SS.
std::string format_duration(double seconds);

/// Progress bar on stderr: one line per epoch, redrawn in place on a terminal (a new line per report
/// otherwise), with it/s, ETA and the latest losses grouped by tag. Messages go to stderr too.
class ProgressPrinter : public TrainingObserver {
public:
    explicit ProgressPrinter(std::FILE* out = stderr, bool quiet = false);
    void on_run_started(const RunInfo& info) override;
    void on_progress(const ProgressReport& r) override;
    void on_epoch_end(const EpochSummary& s) override;
    void on_message(MessageLevel level, const std::string& text) override;
    void on_run_finished(bool stopped) override;

private:
    void end_line();
    std::FILE* m_out;
    bool m_tty;
    bool m_quiet;
    bool m_open_line = false;
    RunInfo m_info;
    std::map<std::string, float> m_latest; // last raw value per loss
    std::map<std::string, float> m_latest_weighted;
    std::map<std::string, std::vector<std::string>> m_tags;
    std::map<std::string, bool> m_enabled;
};

/// Turns SIGINT/SIGTERM into TrainingControl::request_stop() (from a dedicated thread that waits for
/// a self-pipe, so nothing unsafe runs in the signal handler). A second signal exits at once (code 130).
/// Construct it once, in main().
class SignalStopper {
public:
    explicit SignalStopper(TrainingControl& control);
    ~SignalStopper();
    bool triggered() const { return m_triggered.load(); }
    /// What a first signal prints on stderr (a string literal; null prints nothing, e.g. on ranks > 0
    /// of a data-parallel job, where rank 0 and the launcher speak for all).
    void set_message(const char* text) { m_message.store(text); }

private:
    TrainingControl& m_control;
    std::atomic<const char*> m_message {
        "\ninterrupt: stopping after the current iteration (press Ctrl-C again to abort)\n"
    };
    std::atomic<bool> m_triggered { false };
    std::atomic<bool> m_done { false };
    std::thread m_thread;
};

/// Polls a control file every 250 ms on its own thread and applies its first word to `control`:
/// "pause" pauses, "run" (or "resume") resumes, "stop" requests a stop; a missing or empty file means
/// run. The GUI drives a child nectar-train this way (pause cannot be a signal: SIGTSTP would stop the
/// process, collectives included). Stops polling on destruction.
class ControlFileWatcher {
public:
    ControlFileWatcher(std::string path, TrainingControl& control);
    ~ControlFileWatcher();
    ControlFileWatcher(const ControlFileWatcher&) = delete;
    ControlFileWatcher& operator=(const ControlFileWatcher&) = delete;

private:
    std::string m_path;
    TrainingControl& m_control;
    std::atomic<bool> m_done { false };
    std::thread m_thread;
};

/// Runs `body`, mapping exceptions to exit codes with the message on stderr:
/// InputError (UsageError, ConfigError, PresetError, SpecError, DataError, CheckpointError) and
/// std::invalid_argument (a bad setting found while building) -> 2;
/// std::bad_alloc -> `other_code` with "out of memory" (the input readers cap what they read, so this is the
/// machine's memory, not a file); anything else -> `other_code`.
int guarded(const char* program, const std::function<int()>& body, int other_code = kExitTrainingFailure);

} // namespace nectar::cli
