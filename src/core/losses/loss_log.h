// SPDX-License-Identifier: Apache-2.0
#pragma once
/// @file The loss log: experiment_dir/loss_log.json in NectarGAN's layout plus a crash-safe,
/// append-only journal beside it. Also the reader the GUI Review page uses for both NectarGAN's
/// logs and ours. No torch and no Qt in this header (the GUI includes it).
///
/// Files in an experiment folder:
///  - loss_log.journal.jsonl  one JSON object per line, appended and fsynced at every dump
///    (cost ~ the new values only). Line kinds:
///      {"header": {"device":..,"dataroot":..,"dataset_length":..,"experiment":..}}
///      (a data-parallel run adds "world_size": N, "backend": "gloo"|"nccl", "devices": [per rank])
///      {"dump": <n>, "epoch": E, "iteration": I,
///       "losses": {"<name>": {"loss": [...], "weights": [...], "raw_loss": [...]}, ...}}
///      {"resume": {"epoch": N, "iteration": I}}
///      {"edit": {"iteration": I, "epoch": E, "wall_time": T, "loss": "G_L1", "field": "weight",
///                "old": "100", "new": "50", "source": "table"}}
///    Each loss of a dump may carry "wall_time": [Unix seconds, ms precision], one per value (our
///    key; NectarGAN logs have none, older journals neither). An "edit" line records a live
///    objective edit (field weight, tags or schedule; old/new as display text) made at global
///    iteration I (the edit applies from that iteration on).
///    A dump's `epoch` is the 1-based epoch being trained when it was written and `iteration` the
///    global iterations completed then (both absent in journals written before they existed, and
///    in a journal rebuilt from loss_log.json, which has "rebuilt_from": "loss_log.json" instead).
///    The trainer dumps before every checkpoint, so no dump spans a checkpoint's epoch boundary.
///    A `resume` line is written when a run continues from the checkpoint of epoch N: dumps before
///    it with epoch > N (written after that checkpoint, by a run killed before its next one or
///    continued from an older checkpoint) become a superseded segment: kept in the file, left out
///    of LossLogData::losses and loss_log.json, listed in LossLogData::superseded.
///    A kill mid-write can only leave a torn line (a prefix of a valid one); the reader skips it
///    with a warning and the writer terminates it before appending again. The journal is the
///    complete record. Any other line that is not one of these layouts is a LossLogError.
///  - loss_log.json  NectarGAN layout, rewritten atomically (temp + fsync + rename) by
///    export_base_log() at the end of a run, on stop and on request:
///      {"LOSSMANAGER_LOG": {"device": str, "dataroot": str, "dataset_length": int,
///        "experiment": str, "loss_functions": {"<name>": {"loss": [weighted...],
///        "weights": [...], "raw_loss": [raw...], "wall_time": [...]}}, "edits": [...]}}
///    `loss` holds WEIGHTED batch means (raw x weight, as NectarGAN logs them), `weights` the
///    weight actually applied, `raw_loss` (our extra key) the unweighted batch means.
///
/// Non-finite values (valid JSON everywhere): NaN -> null, +Inf -> "Infinity",
/// -Inf -> "-Infinity". The reader maps them back (also accepts "NaN").
///
/// Reading policy: every layout error is a LossLogError naming the file, the journal line and the
/// JSON path; "loss", "weights" and "raw_loss" of one entry must have equal lengths. Unknown keys
/// are errors in the journal (our format) and warnings in loss_log.json (NectarGAN's format).
/// Size caps, checked before parsing: loss_log.json kMaxLogBytes, a journal kMaxJournalBytes, one
/// journal line kMaxJournalLineBytes.

#include <cstdint>
#include <limits>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "util/error.h"

namespace nectar {

/// A loss log or journal that cannot be read or continued: what() names the file, the journal line
/// and the JSON path (and, for a continued run, the way out). Bad input: CLI exit code 2.
class LossLogError : public InputError {
public:
    using InputError::InputError;
};

/// One loss's values over time (one entry per compute_loss_xy call, in call order).
struct LossSeries {
    std::vector<float> weighted; ///< raw x weight (NectarGAN's logged "loss")
    std::vector<float> raw; ///< unweighted batch means
    std::vector<float> weights; ///< weight applied at each call
    /// True when `raw` was not stored in the file (NectarGAN logs) and was derived as
    /// weighted / weight (NaN where the weight is 0). NectarGAN logs a scheduled loss's frozen
    /// initial weight, so derived raw values of scheduled losses can be wrong.
    bool raw_derived = false;
    /// Unix seconds of each value (one per value), or empty when the file has none (NectarGAN logs,
    /// journals written before wall times existed). NaN for single values without one.
    std::vector<double> wall_time;
    /// Global iteration (0-based) of each value, or empty when unknown (loss_log.json, NectarGAN logs,
    /// journals without dump positions). Read from the journal: a dump at iteration I holding n values
    /// of a loss places them at I - n .. I - 1 (a loss is computed at every iteration of a dump unless
    /// its weight is 0; schedules change weights per epoch and dumps do not span epochs, so a loss
    /// skipped at weight 0 is missing whole dumps; only a live edit to weight 0 mid-dump shifts that
    /// dump's values of the loss to its end). Values of a dump without a position follow the previous
    /// value.
    std::vector<std::int64_t> iterations;
};

/// One live objective edit made during training (journal "edit" line).
struct LossEdit {
    std::int64_t iteration = 0; ///< global iteration (0-based) from which the new value applies
    int epoch = -1; ///< 1-based epoch being trained (-1: unknown)
    double wall_time = std::numeric_limits<double>::quiet_NaN(); ///< Unix seconds
    std::string loss;
    std::string field; ///< "weight", "tags" or "schedule"
    std::string old_value, new_value; ///< display text, e.g. "100" -> "50", "G" -> "G, D"
    std::string source; ///< "table", "preset", ... ("" unknown)
};

/// Values a journal keeps but no longer counts: dumps written after the checkpoint a later run
/// continued from (see the journal's "resume" lines).
struct SupersededSegment {
    int resume_epoch = 0; ///< the checkpoint epoch the run continued from
    std::int64_t resume_iteration = -1; ///< its global iteration count (-1: unknown)
    int resume_line = 0; ///< journal line of the "resume" marker
    int first_epoch = 0, last_epoch = 0; ///< epochs the superseded values were logged in
    std::vector<std::string> order;
    std::map<std::string, LossSeries> losses;
    /// Per loss: the index in LossLogData::losses[name] (the kept values) these values followed,
    /// i.e. their x offset when plotted against call number.
    std::map<std::string, std::size_t> start;
};

/// Everything a loss log holds.
struct LossLogData {
    std::string device;
    std::string dataroot;
    std::int64_t dataset_length = 0;
    std::string experiment;
    /// Data-parallel runs (0: a single-process run, whose logs have none of these keys).
    int world_size = 0;
    std::string backend; ///< "gloo" | "nccl"
    std::vector<std::string> devices; ///< per rank, e.g. {"cuda:0", "cuda:1"}
    std::vector<std::string> order; ///< loss names in first-logged order
    std::map<std::string, LossSeries> losses;
    std::vector<std::string> warnings; ///< e.g. "skipped torn journal line 12"
    std::string source; ///< file(s) read
    std::vector<SupersededSegment> superseded; ///< journal only, oldest first
    std::vector<LossEdit> edits; ///< live edits in journal order (superseded epochs' left out)
    /// Position of the last kept dump that carries one (-1: none does, e.g. NectarGAN logs).
    int last_epoch = -1;
    std::int64_t last_iteration = -1;
};

/// Header fields of LOSSMANAGER_LOG.
struct LossLogMetadata {
    std::string device = "cpu"; ///< rank 0's in a data-parallel run
    std::string dataroot;
    std::int64_t dataset_length = 0; ///< the whole train split, also in a data-parallel run
    std::string experiment;
    /// Data-parallel runs only (written as "world_size", "backend", "devices" when world_size > 0).
    int world_size = 0;
    std::string backend;
    std::vector<std::string> devices;
};

/// Writer (used by LossManager) and static reader. Not thread-safe: one writer per folder.
class LossLog {
public:
    static constexpr const char* kLogFileName = "loss_log.json";
    static constexpr const char* kJournalFileName = "loss_log.journal.jsonl";
    static constexpr std::uint64_t kMaxLogBytes = 2ull << 30; ///< 2 GiB
    static constexpr std::uint64_t kMaxJournalBytes = 4ull << 30; ///< 4 GiB
    static constexpr std::uint64_t kMaxJournalLineBytes = 512ull << 20; ///< 512 MiB

    /// Files go to `experiment_dir` (created on first write). Nothing is written yet.
    explicit LossLog(std::string experiment_dir);

    void set_metadata(const LossLogMetadata& metadata); ///< journaled at the next dump
    const LossLogMetadata& metadata() const { return m_meta; }
    /// Where training is: written into the following dump lines (epoch 1-based, iteration = global
    /// iterations completed). Negative = unknown (not written).
    void set_position(int epoch, std::int64_t iteration);

    /// One dump: per loss (in the given order) its new raw values and weights (equal lengths;
    /// weighted = float(raw * weight) is computed here unless `weighted` is given non-empty).
    struct Entry {
        std::string name;
        std::vector<float> raw;
        std::vector<float> weights;
        std::vector<float> weighted; ///< optional; empty = raw * weight in float32
        std::vector<double> wall_time; ///< optional Unix seconds, one per value
    };
    /// Appends one journal line and fsyncs it. Empty entries are skipped; nothing is written if
    /// every entry is empty. Throws std::runtime_error naming the file on I/O errors and
    /// std::invalid_argument when raw/weights lengths differ.
    void append(const std::vector<Entry>& entries);

    /// Appends an "edit" line and fsyncs it. Throws std::invalid_argument for an unknown field and
    /// std::runtime_error naming the file on I/O errors.
    void append_edit(const LossEdit& edit);

    /// Rewrites loss_log.json atomically from the journal (all values so far) and the metadata.
    /// Throws std::runtime_error naming the file on I/O errors.
    void export_base_log();

    std::string log_path() const;
    std::string journal_path() const;
    const std::string& experiment_dir() const { return m_dir; }

    /// Reads a loss log. `path` is an experiment folder (the journal is used when present, else
    /// loss_log.json), a loss_log.json (NectarGAN's or ours) or a .jsonl journal.
    /// Throws LossLogError naming the file when nothing readable is found, a file is too large or
    /// the JSON layout is wrong (the message gives the line and the JSON path).
    static LossLogData read(const std::string& path);

    /// Text entry points of the readers (also for fuzzers): a loss_log.json's text and a journal's
    /// text; `source` names the file in messages. Throw only LossLogError, whatever the bytes.
    static LossLogData parse_log_text(std::string_view text, const std::string& source);
    static LossLogData parse_journal_text(std::string_view text, const std::string& source);

    /// Prepares `experiment_dir`'s loss log for a run continued from the checkpoint of `epoch`
    /// (`iteration` = its global iteration count, -1 unknown), before anything trains:
    ///  - `new_log`: moves loss_log.json and the journal aside (loss_log.old<K>.json,
    ///    loss_log.journal.old<K>.jsonl; never deleted) and starts a new log;
    ///  - else validates the journal and loss_log.json: LossLogError when the journal is
    ///    unreadable, a directory or has a bad line, when loss_log.json holds values the journal
    ///    lacks, or when only loss_log.json exists and it is unreadable;
    ///  - rebuilds the journal from loss_log.json when only that exists; moves an unreadable
    ///    loss_log.json aside (loss_log.unreadable<K>.json) when the journal is sound;
    ///  - appends the "resume" line (later values become a superseded segment) and re-exports
    ///    loss_log.json without them.
    /// Returns warnings for the user (torn lines skipped, values superseded, files moved).
    static std::vector<std::string> prepare_continue(
        const std::string& experiment_dir, int epoch, std::int64_t iteration, bool new_log);

    /// JSON text of one float with the non-finite encoding above (exposed for tests).
    static std::string encode_value(float v);

private:
    void ensure_folder() const; ///< creates the experiment folder; throws naming it
    void ensure_journal_open();
    void write_synced(const std::string& text); ///< appends text to the open journal and fsyncs it
    std::string m_dir;
    LossLogMetadata m_meta;
    bool m_meta_dirty = true;
    int m_epoch = -1;
    std::int64_t m_iteration = -1;
    std::int64_t m_dump_count = 0;
    int m_fd = -1;

public:
    ~LossLog();
    LossLog(const LossLog&) = delete;
    LossLog& operator=(const LossLog&) = delete;
};

} // namespace nectar
