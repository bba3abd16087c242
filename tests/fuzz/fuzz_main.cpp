// SPDX-License-Identifier: Apache-2.0
// The libFuzzer target of one reader: CMake builds this file once per target as fuzz_<target>, with
// NECTAR_FUZZ_ENTRY set to that target's entry point (fuzz_entry.h; README "Fuzzing").
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz_entry.h"

#ifndef NECTAR_FUZZ_ENTRY
#error "NECTAR_FUZZ_ENTRY must name an entry point of fuzz_entry.h, e.g. run_config"
#endif

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    (void)nectar::fuzz::NECTAR_FUZZ_ENTRY(std::string_view(reinterpret_cast<const char*>(data), size));
    return 0;
}
