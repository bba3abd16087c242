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
///      {"dump": <n>, "losses": {"<name>": {"loss": [...], "weights": [...], "raw_loss": [...]}, ...}}
///    A kill mid-write can only leave a torn LAST line; the reader skips it and the writer
///    terminates it before appending again. The journal is the complete record.
///  - loss_log.json  NectarGAN layout, rewritten atomically (temp + fsync + rename) by
///    export_base_log() at the end of a run, on stop and on request:
///      {"LOSSMANAGER_LOG": {"device": str, "dataroot": str, "dataset_length": int,
///        "experiment": str, "loss_functions": {"<name>": {"loss": [weighted...],
///        "weights": [...], "raw_loss": [raw...]}}}}
///    `loss` holds WEIGHTED batch means (raw x weight, as NectarGAN logs them), `weights` the
///    weight actually applied, `raw_loss` (our extra key) the unweighted batch means.
///
/// Non-finite values (valid JSON everywhere): NaN -> null, +Inf -> "Infinity",
/// -Inf -> "-Infinity". The reader maps them back (also accepts "NaN").

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace nectar {

/// One loss's values over time (one entry per compute_loss_xy call, in call order).
struct LossSeries {
    std::vector<float> weighted; ///< raw x weight (NectarGAN's logged "loss")
    std::vector<float> raw; ///< unweighted batch means
    std::vector<float> weights; ///< weight applied at each call
    /// True when `raw` was not stored in the file (NectarGAN logs) and was derived as
    /// weighted / weight (NaN where the weight is 0). NectarGAN logs a scheduled loss's frozen
    /// initial weight, so derived raw values of scheduled losses can be wrong.
    bool raw_derived = false;
};

/// Everything a loss log holds.
struct LossLogData {
    std::string device;
    std::string dataroot;
    std::int64_t dataset_length = 0;
    std::string experiment;
    std::vector<std::string> order; ///< loss names in first-logged order
    std::map<std::string, LossSeries> losses;
    std::vector<std::string> warnings; ///< e.g. "skipped torn journal line 12"
    std::string source; ///< file(s) read
};

/// Header fields of LOSSMANAGER_LOG.
struct LossLogMetadata {
    std::string device = "cpu";
    std::string dataroot;
    std::int64_t dataset_length = 0;
    std::string experiment;
};

/// Writer (used by LossManager) and static reader. Not thread-safe: one writer per folder.
class LossLog {
public:
    static constexpr const char* kLogFileName = "loss_log.json";
    static constexpr const char* kJournalFileName = "loss_log.journal.jsonl";

    /// Files go to `experiment_dir` (created on first write). Nothing is written yet.
    explicit LossLog(std::string experiment_dir);

    void set_metadata(const LossLogMetadata& metadata); ///< journaled at the next dump
    const LossLogMetadata& metadata() const { return m_meta; }

    /// One dump: per loss (in the given order) its new raw values and weights (equal lengths;
    /// weighted = float(raw * weight) is computed here unless `weighted` is given non-empty).
    struct Entry {
        std::string name;
        std::vector<float> raw;
        std::vector<float> weights;
        std::vector<float> weighted; ///< optional; empty = raw * weight in float32
    };
    /// Appends one journal line and fsyncs it. Empty entries are skipped; nothing is written if
    /// every entry is empty. Throws std::runtime_error naming the file on I/O errors and
    /// std::invalid_argument when raw/weights lengths differ.
    void append(const std::vector<Entry>& entries);

    /// Rewrites loss_log.json atomically from the journal (all values so far) and the metadata.
    /// Throws std::runtime_error naming the file on I/O errors.
    void export_base_log();

    std::string log_path() const;
    std::string journal_path() const;
    const std::string& experiment_dir() const { return m_dir; }

    /// Reads a loss log. `path` is an experiment folder (the journal is used when present, else
    /// loss_log.json), a loss_log.json (NectarGAN's or ours) or a .jsonl journal.
    /// Throws std::runtime_error naming the file when nothing readable is found or the JSON
    /// layout is wrong (the message gives the JSON path).
    static LossLogData read(const std::string& path);

    /// JSON text of one float with the non-finite encoding above (exposed for tests).
    static std::string encode_value(float v);

private:
    void ensure_folder() const; ///< creates the experiment folder; throws naming it
    void ensure_journal_open();
    std::string m_dir;
    LossLogMetadata m_meta;
    bool m_meta_dirty = true;
    std::int64_t m_dump_count = 0;
    int m_fd = -1;

public:
    ~LossLog();
    LossLog(const LossLog&) = delete;
    LossLog& operator=(const LossLog&) = delete;
};

} // namespace nectar
