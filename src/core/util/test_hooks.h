// SPDX-License-Identifier: Apache-2.0
#pragma once
/// @file Test-only crash points. With the environment variable NECTAR_TEST_KILL_AT="<point>:<n>" the
/// process SIGKILLs itself the n-th time (1-based) it reaches `<point>`, so crash tests can kill a
/// real run at an exact place. Unset (always, outside tests) a point costs one cached check.
/// Points: "after-journal-append" (a loss-log journal line is on disk), "during-checkpoint-write"
/// (a checkpoint's network files are in place, its trainer file is not), "during-write:<what>"
/// (an atomic replace has written its temp file, not renamed it; e.g. "during-write:loss log").

#include <string>

namespace nectar {

/// SIGKILLs the process when NECTAR_TEST_KILL_AT names `point` and this is its n-th hit.
void test_kill_point(const std::string& point);

/// True the n-th time `point` is reached when NECTAR_TEST_NONFINITE_AT="<point>:<n>": the trainer then
/// makes that step's generator loss NaN (point "generator-loss:rank<R>"), so tests can give one rank of a
/// data-parallel job a non-finite loss. Unset, a point costs one cached check.
bool test_nonfinite_point(const std::string& point);

} // namespace nectar
