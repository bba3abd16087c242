// SPDX-License-Identifier: Apache-2.0
#include "util/test_hooks.h"

#include <atomic>
#include <csignal>
#include <cstdlib>

#include <unistd.h>

namespace nectar {

namespace {
struct KillAt {
    std::string point;
    long hit = 0;
};

KillAt read_point(const char* variable)
{
    KillAt out;
    const char* env = std::getenv(variable);
    if (!env)
        return out;
    const std::string s(env);
    const auto colon = s.rfind(':'); // points may contain ':' themselves
    if (colon == std::string::npos || colon == 0)
        return out;
    out.hit = std::strtol(s.c_str() + colon + 1, nullptr, 10);
    if (out.hit >= 1)
        out.point = s.substr(0, colon);
    return out;
}

const KillAt& kill_at()
{
    static const KillAt k = read_point("NECTAR_TEST_KILL_AT");
    return k;
}
} // namespace

void test_kill_point(const std::string& point)
{
    const KillAt& k = kill_at();
    if (k.point.empty() || k.point != point)
        return;
    static std::atomic<long> hits { 0 };
    if (++hits == k.hit)
        ::kill(::getpid(), SIGKILL);
}

bool test_nonfinite_point(const std::string& point)
{
    static const KillAt k = read_point("NECTAR_TEST_NONFINITE_AT");
    if (k.point.empty() || k.point != point)
        return false;
    static std::atomic<long> hits { 0 };
    return ++hits == k.hit;
}

} // namespace nectar
