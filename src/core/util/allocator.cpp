// SPDX-License-Identifier: Apache-2.0
#include "util/allocator.h"

#include <cstdlib>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace nectar {

bool tune_allocator_for_training() noexcept
{
#if defined(__GLIBC__)
    for (const char* var : { "GLIBC_TUNABLES", "MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_" })
        if (std::getenv(var))
            return false; // the user's own setting wins
    // glibc refuses thresholds above HEAP_MAX/2 = 32 MiB on 64-bit.
    const int mmap_ok = mallopt(M_MMAP_THRESHOLD, 32 * 1024 * 1024);
    const int trim_ok = mallopt(M_TRIM_THRESHOLD, 1024 * 1024 * 1024);
    return mmap_ok == 1 && trim_ok == 1;
#else
    return false;
#endif
}

} // namespace nectar
