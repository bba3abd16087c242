// SPDX-License-Identifier: Apache-2.0
#include "losses/loss_log_follower.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/unique_fd.h"

namespace nectar {

LossLogFollower::LossLogFollower(std::string path)
{
    // A folder that does not exist yet (a run about to start) is a folder too: only a .jsonl is a journal.
    const bool journal = path.size() > 6 && path.compare(path.size() - 6, 6, ".jsonl") == 0;
    m_path = journal ? std::move(path) : (std::filesystem::path(path) / LossLog::kJournalFileName).string();
}

LossLogFollower::Update LossLogFollower::poll(std::uint64_t max_bytes)
{
    Update u;
    UniqueFd f;
    f.fd = ::open(m_path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (f.fd < 0) {
        if (errno == ENOENT)
            return u; // not written yet (or being replaced): try again at the next poll
        throw LossLogError("Cannot open loss log journal " + m_path + ": " + std::strerror(errno));
    }
    struct stat st { };
    if (::fstat(f.fd, &st) != 0)
        throw LossLogError("Cannot stat loss log journal " + m_path + ": " + std::strerror(errno));
    if (!S_ISREG(st.st_mode))
        throw LossLogError("loss log journal " + m_path + " is not a regular file");
    u.exists = true;
    const std::uint64_t size = std::uint64_t(st.st_size);
    const bool replaced = m_known && (std::uint64_t(st.st_dev) != m_dev || std::uint64_t(st.st_ino) != m_ino);
    if (replaced || size < m_offset + m_partial.size()) {
        m_offset = 0;
        m_partial.clear();
        m_lines = 0;
        u.reset = true;
    }
    m_known = true;
    m_dev = std::uint64_t(st.st_dev);
    m_ino = std::uint64_t(st.st_ino);

    std::uint64_t from = m_offset + m_partial.size();
    const std::uint64_t want = std::min<std::uint64_t>(size - from, max_bytes);
    std::string text = std::move(m_partial);
    m_partial.clear();
    const std::size_t held = text.size();
    text.resize(held + std::size_t(want));
    std::size_t got = 0;
    while (got < want) {
        const ssize_t n = ::pread(f.fd, text.data() + held + got, want - got, off_t(from + got));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            throw LossLogError("Cannot read loss log journal " + m_path + ": " + std::strerror(errno));
        if (n == 0)
            break;
        got += std::size_t(n);
    }
    text.resize(held + got);
    u.bytes_read = got;

    const std::size_t last_nl = text.rfind('\n');
    if (last_nl == std::string::npos) {
        if (text.size() > LossLog::kMaxJournalLineBytes)
            throw LossLogError(m_path + ": line " + std::to_string(m_lines + 1) + " has more than "
                + std::to_string(LossLog::kMaxJournalLineBytes) + " bytes, the cap per journal line");
        m_partial = std::move(text);
        return u;
    }
    std::string complete = text.substr(0, last_nl + 1);
    m_partial = text.substr(last_nl + 1);

    // A continued run supersedes values already shown: start over from the whole file.
    if (!u.reset && m_offset > 0 && complete.find("{\"resume\"") != std::string::npos) {
        m_offset = 0;
        m_partial.clear();
        m_lines = 0;
        Update again = poll(std::max<std::uint64_t>(max_bytes, size));
        again.reset = true;
        return again;
    }
    u.data = LossLog::parse_journal_text(complete, m_path + " (from line " + std::to_string(m_lines + 1) + ")");
    m_offset += complete.size();
    for (char c : complete)
        m_lines += c == '\n';
    return u;
}

} // namespace nectar
