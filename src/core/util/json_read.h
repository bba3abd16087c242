// SPDX-License-Identifier: Apache-2.0
#pragma once
/// @file The one strict JSON reader for every file the engine reads (config and its copies, preset and objective
/// records, spec, checkpoint metadata, loss log and journal). It parses through nlohmann's SAX interface into a
/// DOM without recursion and checks, while parsing, the limits of the file's kind (JsonLimits): nesting depth,
/// elements per array or object, string length, an estimate of the parsed value's memory, and the text size
/// (a file larger than its cap is refused before it is read). Every error names the source, the JSON path of the
/// position, the problem and where it is (line, column, byte offset); nothing is echoed at length. Duplicate
/// keys are errors (the first value would be silently lost).

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <new>
#include <string>
#include <string_view>
#include <type_traits>

#include <nlohmann/json.hpp>

#include "util/error.h"

namespace nectar {

/// What one kind of JSON document may hold. Each kind's values are in json_limits:: below.
struct JsonLimits {
    const char* kind = "JSON file"; ///< names the kind in messages ("config file")
    std::uint64_t max_bytes = 4u << 20; ///< the whole text; a larger file is refused before it is read
    std::size_t max_depth = 512; ///< nested arrays/objects ("[]" is depth 1, "[[]]" depth 2)
    std::size_t max_elements = 65536; ///< elements of one array, members of one object
    std::size_t max_string_bytes = 64u << 10; ///< one string or key, in UTF-8 bytes
    /// Estimated memory of the parsed value (16 bytes a value, 64 more a container or string, plus the
    /// string's bytes): bounds what a small text of many empty containers would cost.
    std::uint64_t max_memory_bytes = 64u << 20;
};

/// The caps of each kind (README "Reading files"). Depth is 512 for all.
namespace json_limits {
/// A --config file, a config copy train<K>_config.json: 4 MiB, 65,536 elements, 64 KiB strings, 64 MiB parsed.
JsonLimits config();
/// A preset or an objective record train<K>_objective.json: as config().
JsonLimits preset();
/// A loss spec file: 1 MiB, 65,536 elements, 64 KiB strings, 16 MiB parsed.
JsonLimits spec();
/// The JSON metadata ("extra") inside epoch<N>_trainer.pt: 1 MiB, 65,536 elements, 64 KiB strings, 16 MiB parsed.
JsonLimits checkpoint_metadata();
/// loss_log.json: 2 GiB (LossLog::kMaxLogBytes), 2^28 elements, 1 MiB strings, 4 GiB parsed.
JsonLimits loss_log();
/// One line of loss_log.journal.jsonl (one dump): 512 MiB (LossLog::kMaxJournalLineBytes), 2^26 elements,
/// 1 MiB strings, 1 GiB parsed.
JsonLimits journal_line();
} // namespace json_limits

/// A JSON text that could not be read. what(): "<source>: <JSON path>: <problem> (line L, column C, byte B)"
/// for the text, "<source>: <problem>" for the file itself (missing, a folder, too large, unreadable).
class JsonReadError : public InputError {
public:
    enum class Reason {
        File, ///< missing, not a regular file, unreadable
        TooLarge, ///< more bytes than JsonLimits::max_bytes
        Syntax, ///< not JSON (also a torn line), invalid UTF-8, a number that overflows a double
        Limit, ///< depth, elements, string length, memory, or a duplicate key
    };
    JsonReadError(Reason reason, const std::string& message, std::uint64_t offset = 0)
        : InputError(message)
        , m_reason(reason)
        , m_offset(offset)
    {
    }
    Reason reason() const { return m_reason; }
    /// Byte offset in the text near the problem (0 for Reason::File / TooLarge).
    std::uint64_t offset() const { return m_offset; }

private:
    Reason m_reason;
    std::uint64_t m_offset;
};

/// Parses `text` (one JSON value, nothing after it but whitespace) with `limits`. `source` (a file name, or e.g.
/// "checkpoint X: extra") starts every message. Throws JsonReadError (also for text longer than max_bytes).
/// Instantiated for nlohmann::json and nlohmann::ordered_json (key order kept).
template <class BasicJson = nlohmann::json>
BasicJson parse_json_text(std::string_view text, const std::string& source, const JsonLimits& limits);

/// The bytes of `path` (opened byte-exact through std::filesystem). Throws JsonReadError naming `source` (empty:
/// the path) when it does not exist, is a folder or not a regular file (a FIFO could block forever), cannot be
/// read, or is larger than limits.max_bytes (checked before reading).
std::string read_file_text(const std::filesystem::path& path, const JsonLimits& limits, const std::string& source = {});

/// read_file_text + parse_json_text. Throws JsonReadError.
template <class BasicJson = nlohmann::json>
BasicJson read_json_file(const std::filesystem::path& path, const JsonLimits& limits, const std::string& source = {})
{
    const std::string name = source.empty() ? path.string() : source;
    return parse_json_text<BasicJson>(read_file_text(path, limits, name), name, limits);
}

extern template nlohmann::json parse_json_text<nlohmann::json>(std::string_view, const std::string&, const JsonLimits&);
extern template nlohmann::ordered_json parse_json_text<nlohmann::ordered_json>(
    std::string_view, const std::string&, const JsonLimits&);

/// Runs `read` (a format's reader) and lets only `Error` (an InputError subclass) out for bad input: any
/// other exception (a JsonReadError, a nlohmann type_error from a later get<>, a std::invalid_argument from a
/// nested parser) becomes `Error` with the same text, prefixed by "<source>: " unless it starts with it.
/// std::bad_alloc passes unchanged (not an input error; the CLIs report it).
template <class Error, class Fn> auto reading_as(const std::string& source, Fn&& read) -> decltype(read())
{
    static_assert(std::is_base_of_v<InputError, Error>, "reading_as: Error must be an InputError");
    try {
        return read();
    } catch (const Error&) {
        throw;
    } catch (const std::bad_alloc&) {
        throw;
    } catch (const std::exception& e) {
        const std::string what = e.what();
        if (source.empty() || what.compare(0, source.size() + 1, source + ":") == 0)
            throw Error(what);
        throw Error(source + ": " + what);
    }
}

} // namespace nectar
