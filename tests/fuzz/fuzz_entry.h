// SPDX-License-Identifier: Apache-2.0
#pragma once
/// @file The readers' fuzz entry points, shared by the libFuzzer targets (fuzz_<target>.cpp, built with
/// -DNECTAR_FUZZ=ON and clang) and the regression-corpus replay (tst_fuzz_corpus, every build).
///
/// Each entry point feeds arbitrary bytes to one reader through its text entry point (the same code
/// the file readers use after their size check). Bad input must end in an InputError (Rejected);
/// anything else escaping (another exception type, a crash, a hang) is a finding. An accepted input
/// is written back and read again, and that second read must accept it too (std::logic_error
/// otherwise), so a writer that produces what its reader refuses is a finding as well.

#include <string>
#include <string_view>
#include <vector>

namespace nectar::fuzz {

enum class Outcome { Accepted, Rejected };

using EntryPoint = Outcome (*)(std::string_view bytes);

struct Target {
    const char* name; ///< also the corpus folder name: tests/fuzz/corpus/<name>/
    EntryPoint run;
};

Outcome run_config(std::string_view bytes); ///< config_from_text (a NectarGAN config)
Outcome run_preset(std::string_view bytes); ///< preset_from_text, then apply_preset_to_config
Outcome run_spec(std::string_view bytes); ///< spec_from_text (a JSON spec)
Outcome run_loss_log(std::string_view bytes); ///< LossLog::parse_log_text (a loss_log.json)
Outcome run_journal(std::string_view bytes); ///< LossLog::parse_journal_text (loss_log.journal.jsonl)

/// The message of the InputError that refused the last input (empty after an accepted one).
const std::string& last_error();

/// Every target, in a fixed order.
const std::vector<Target>& targets();

} // namespace nectar::fuzz
