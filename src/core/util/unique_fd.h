// SPDX-License-Identifier: Apache-2.0
#pragma once
/// @file A POSIX file descriptor closed on every way out of a scope (atomic writes, the journal follower).

#include <unistd.h>

namespace nectar {

struct UniqueFd {
    int fd = -1;
    UniqueFd() = default;
    explicit UniqueFd(int f)
        : fd(f)
    {
    }
    UniqueFd(const UniqueFd&) = delete;
    UniqueFd& operator=(const UniqueFd&) = delete;
    ~UniqueFd()
    {
        if (fd >= 0)
            ::close(fd);
    }
};

} // namespace nectar
