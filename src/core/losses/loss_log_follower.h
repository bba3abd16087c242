// SPDX-License-Identifier: Apache-2.0
#pragma once
/// @file Follows a loss-log journal that another process is writing (nectar-train on this machine, a
/// mounted server folder): each poll reads only the bytes appended since the previous one. No torch
/// and no Qt (the GUI's Review page polls it off the GUI thread).

#include <cstdint>
#include <string>

#include "losses/loss_log.h"

namespace nectar {

/// Incremental reader of experiment_dir/loss_log.journal.jsonl (LossLog's journal format).
///
/// - Reads from the last offset only; a last line without its newline (being written, or torn by a
///   kill) is held back until it is complete. A torn line that a later writer terminated is skipped
///   with a warning, as LossLog::read does.
/// - A journal that is replaced (another inode) or truncated, and a "resume" line (a continued run
///   supersedes values already shown), make the next update a reset: the whole file is read again
///   and `Update::reset` tells the caller to drop what it showed.
/// Not thread-safe: one poller per instance (any thread).
class LossLogFollower {
public:
    /// `path`: a journal file (ending in .jsonl) or an experiment folder, which may not exist yet (a run
    /// about to start). Nothing is read yet.
    explicit LossLogFollower(std::string path);

    struct Update {
        /// True: `data` holds the whole journal; drop everything shown before.
        bool reset = false;
        /// Values, edits and header fields appended since the previous poll (everything on a reset).
        /// Series hold only the new values; `order` lists the losses that have new values.
        LossLogData data;
        bool exists = false; ///< the journal exists (false: not created yet; poll again later)
        std::uint64_t bytes_read = 0; ///< bytes read by this poll (0: nothing new)
    };

    /// Reads what was appended since the previous poll, at most `max_bytes` (the rest comes at the
    /// next poll). A missing journal is not an error (Update::exists false). Throws LossLogError
    /// naming the file and line for a complete line that is not valid journal JSON, a line over
    /// LossLog::kMaxJournalLineBytes, or a read error.
    Update poll(std::uint64_t max_bytes = 64ull << 20);

    const std::string& journal_path() const { return m_path; }
    /// Bytes of the journal consumed so far (complete lines only).
    std::uint64_t offset() const { return m_offset; }

private:
    std::string m_path;
    std::uint64_t m_offset = 0; ///< end of the last complete line read
    std::string m_partial; ///< bytes after m_offset read but not yet ending in a newline
    std::uint64_t m_dev = 0, m_ino = 0;
    bool m_known = false; ///< m_dev/m_ino identify the file being followed
    int m_lines = 0; ///< complete lines consumed (for messages)
};

} // namespace nectar
