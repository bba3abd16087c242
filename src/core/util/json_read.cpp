// SPDX-License-Identifier: Apache-2.0
#include "util/json_read.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>
#include <unordered_set>
#include <utility>
#include <vector>

#include "util/error_text.h"

namespace fs = std::filesystem;

namespace nectar {

namespace json_limits {

JsonLimits config()
{
    return JsonLimits { "config file", 4u << 20, 512, 65536, 64u << 10, 64u << 20 };
}
JsonLimits preset()
{
    return JsonLimits { "preset file", 4u << 20, 512, 65536, 64u << 10, 64u << 20 };
}
JsonLimits spec()
{
    return JsonLimits { "spec file", 1u << 20, 512, 65536, 64u << 10, 16u << 20 };
}
JsonLimits checkpoint_metadata()
{
    return JsonLimits { "checkpoint metadata", 1u << 20, 512, 65536, 64u << 10, 16u << 20 };
}
JsonLimits loss_log()
{
    return JsonLimits { "loss log", std::uint64_t(2) << 30, 512, std::size_t(1) << 28, 1u << 20,
        std::uint64_t(4) << 30 };
}
JsonLimits journal_line()
{
    return JsonLimits { "loss log journal line", 512u << 20, 512, std::size_t(1) << 26, 1u << 20,
        std::uint64_t(1) << 30 };
}

} // namespace json_limits

namespace {

std::string size_text(std::uint64_t bytes)
{
    for (const auto& [unit, shift] : { std::pair<const char*, int> { "GiB", 30 }, { "MiB", 20 }, { "KiB", 10 } })
        if (bytes >= (std::uint64_t(1) << shift) && bytes % (std::uint64_t(1) << shift) == 0)
            return std::to_string(bytes >> shift) + " " + unit;
    return std::to_string(bytes) + " bytes";
}

std::string prefixed(const std::string& source, const std::string& msg)
{
    return source.empty() ? msg : source + ": " + msg;
}

// RFC 6901 token, bounded and printable (detail::printable).
std::string path_token(const std::string& key)
{
    return detail::pointer_token(detail::printable(detail::bounded_text(key, 40)));
}

// The iterator nlohmann's lexer reads through: it records how far the lexer got, so that errors raised in
// the SAX callbacks (which get no position) still give one.
struct CountingIterator {
    using iterator_category = std::forward_iterator_tag;
    using value_type = char;
    using difference_type = std::ptrdiff_t;
    using pointer = const char*;
    using reference = const char&;

    const char* p = nullptr;
    const char** cursor = nullptr;

    reference operator*() const
    {
        *cursor = p + 1; // the lexer consumes the byte it reads
        return *p;
    }
    CountingIterator& operator++()
    {
        ++p;
        return *this;
    }
    CountingIterator operator++(int)
    {
        CountingIterator old = *this;
        ++p;
        return old;
    }
    bool operator==(const CountingIterator& o) const { return p == o.p; }
    bool operator!=(const CountingIterator& o) const { return p != o.p; }
};

template <class T> struct is_ordered_map : std::false_type {
};
template <class K, class V, class L, class A>
struct is_ordered_map<nlohmann::ordered_map<K, V, L, A>> : std::true_type {
};

// SAX handler that builds the DOM with an explicit stack (never recursing) and checks the limits.
template <class BasicJson> class StrictBuilder {
public:
    using number_integer_t = typename BasicJson::number_integer_t;
    using number_unsigned_t = typename BasicJson::number_unsigned_t;
    using number_float_t = typename BasicJson::number_float_t;
    using string_t = typename BasicJson::string_t;
    using binary_t = typename BasicJson::binary_t;
    using object_t = typename BasicJson::object_t;
    static constexpr bool kOrdered = is_ordered_map<object_t>::value;

    StrictBuilder(const JsonLimits& limits, const std::string& source, const char* begin)
        : m_limits(limits)
        , m_source(source)
        , m_begin(begin)
        , m_cursor(begin)
    {
    }

    const char** cursor() { return &m_cursor; }
    BasicJson take_root() { return std::move(m_root); }
    bool failed() const { return !m_error.empty(); }
    const std::string& error() const { return m_error; }
    JsonReadError::Reason reason() const { return m_reason; }
    std::uint64_t offset() const { return m_offset; }

    bool null() { return value(BasicJson(nullptr)); }
    bool boolean(bool v) { return value(BasicJson(v)); }
    bool number_integer(number_integer_t v) { return value(BasicJson(v)); }
    bool number_unsigned(number_unsigned_t v) { return value(BasicJson(v)); }
    bool number_float(number_float_t v, const string_t&) { return value(BasicJson(v)); }
    bool string(string_t& s)
    {
        if (s.size() > m_limits.max_string_bytes)
            return limit("string longer than " + size_text(m_limits.max_string_bytes));
        if (!charge(64 + s.size()))
            return false;
        return value(BasicJson(std::move(s)));
    }
    bool binary(binary_t&) { return limit("binary values are not JSON text"); }
    bool start_object(std::size_t) { return open(BasicJson::value_t::object); }
    bool start_array(std::size_t) { return open(BasicJson::value_t::array); }
    bool key(string_t& k)
    {
        Frame& f = m_stack.back();
        if (k.size() > m_limits.max_string_bytes)
            return limit("key longer than " + size_text(m_limits.max_string_bytes));
        if (f.members == m_limits.max_elements)
            return limit("object with more than " + std::to_string(m_limits.max_elements) + " members");
        bool duplicate = false;
        if constexpr (kOrdered)
            duplicate = !f.keys.insert(k).second;
        else
            duplicate = f.value.template get_ref<object_t&>().count(k) > 0;
        f.key = std::move(k);
        f.has_key = true;
        if (duplicate)
            return limit("duplicate key (its first value would be lost)");
        return charge(64 + f.key.size());
    }
    bool end_object() { return close(); }
    bool end_array() { return close(); }
    bool parse_error(std::size_t position, const std::string& last_token, const nlohmann::detail::exception& ex)
    {
        std::string msg;
        if (ex.id == 406) {
            msg = "number out of range (does not fit a double): "
                + detail::printable(detail::bounded_text(last_token, 40));
        } else {
            // "[json.exception.parse_error.101] parse error at line 1, column 5: syntax error ..." -> the part
            // after the location (ours says where), with the echoed token bounded.
            msg = ex.what();
            if (const auto p = msg.find("] "); p != std::string::npos)
                msg.erase(0, p + 2);
            if (msg.rfind("parse error", 0) == 0)
                if (const auto p = msg.find(": "); p != std::string::npos)
                    msg.erase(0, p + 2);
            if (const auto p = msg.find("last read: '"); p != std::string::npos)
                msg = msg.substr(0, p) + "last read: '" + detail::printable(detail::bounded_text(last_token, 40)) + "'";
            msg = "not valid JSON: " + msg;
        }
        fail(JsonReadError::Reason::Syntax, msg, position > 0 ? position - 1 : 0);
        return false;
    }

private:
    struct Frame {
        BasicJson value;
        string_t key;
        bool has_key = false;
        std::size_t members = 0;
        std::unordered_set<string_t> keys; // ordered objects only: ordered_map lookups are linear
    };

    bool charge(std::uint64_t bytes)
    {
        m_memory += bytes;
        if (m_memory > m_limits.max_memory_bytes)
            return limit("the parsed value would need more than " + size_text(m_limits.max_memory_bytes)
                + " of memory (the limit for a " + m_limits.kind + ")");
        return true;
    }

    bool open(typename BasicJson::value_t type)
    {
        if (m_stack.size() >= m_limits.max_depth)
            return limit("nested deeper than " + std::to_string(m_limits.max_depth) + " arrays/objects");
        if (!room() || !charge(16 + 64))
            return false;
        Frame f;
        f.value = BasicJson(type);
        m_stack.push_back(std::move(f));
        return true;
    }

    bool close()
    {
        BasicJson done = std::move(m_stack.back().value);
        m_stack.pop_back();
        return insert(std::move(done));
    }

    /// A scalar: its room in the parent is checked, then it is inserted.
    bool value(BasicJson v)
    {
        if (!room() || !charge(16))
            return false;
        return insert(std::move(v));
    }

    /// Whether the parent array can take one more element (objects are checked per key).
    bool room()
    {
        if (m_stack.empty() || !m_stack.back().value.is_array())
            return true;
        if (m_stack.back().value.size() < m_limits.max_elements)
            return true;
        return limit("array with more than " + std::to_string(m_limits.max_elements) + " elements");
    }

    bool insert(BasicJson v)
    {
        if (m_stack.empty()) {
            m_root = std::move(v);
            return true;
        }
        Frame& f = m_stack.back();
        if (f.value.is_array()) {
            f.value.template get_ref<typename BasicJson::array_t&>().push_back(std::move(v));
            return true;
        }
        auto& obj = f.value.template get_ref<object_t&>();
        if constexpr (kOrdered)
            static_cast<typename object_t::Container&>(obj).emplace_back(std::move(f.key), std::move(v));
        else
            obj.emplace(std::move(f.key), std::move(v));
        f.key = string_t();
        f.has_key = false;
        ++f.members;
        return true;
    }

    std::string path() const
    {
        std::vector<std::string> tokens;
        for (const Frame& f : m_stack) {
            if (f.value.is_array())
                tokens.push_back(std::to_string(f.value.size()));
            else if (f.has_key)
                tokens.push_back(path_token(f.key));
        }
        // Bounded: at most the first 4 and the last 8 tokens of a deep path.
        std::string out;
        for (std::size_t i = 0; i < tokens.size(); ++i) {
            if (tokens.size() > 12 && i == 4) {
                out += "/... (" + std::to_string(tokens.size() - 12) + " more levels)";
                i = tokens.size() - 9;
                continue;
            }
            out += "/" + tokens[i];
        }
        return out.empty() ? "/" : out;
    }

    bool limit(const std::string& problem)
    {
        // The last byte the lexer read (0-based), as nlohmann's own positions.
        const auto read = static_cast<std::uint64_t>(m_cursor - m_begin);
        fail(JsonReadError::Reason::Limit, problem, read > 0 ? read - 1 : 0);
        return false;
    }

    void fail(JsonReadError::Reason reason, const std::string& problem, std::uint64_t offset)
    {
        if (failed())
            return;
        m_reason = reason;
        m_offset = offset;
        m_error = detail::located(m_source, path(), problem);
    }

    const JsonLimits& m_limits;
    const std::string& m_source;
    const char* m_begin;
    const char* m_cursor;
    std::vector<Frame> m_stack;
    BasicJson m_root;
    std::uint64_t m_memory = 0;
    std::string m_error;
    JsonReadError::Reason m_reason = JsonReadError::Reason::Syntax;
    std::uint64_t m_offset = 0;
};

std::string where_in(std::string_view text, std::uint64_t offset)
{
    offset = std::min<std::uint64_t>(offset, text.size());
    std::uint64_t line = 1, column = 1;
    for (std::uint64_t i = 0; i < offset; ++i) {
        if (text[i] == '\n') {
            ++line;
            column = 1;
        } else {
            ++column;
        }
    }
    return " (line " + std::to_string(line) + ", column " + std::to_string(column) + ", byte " + std::to_string(offset)
        + ")";
}

} // namespace

template <class BasicJson>
BasicJson parse_json_text(std::string_view text, const std::string& source, const JsonLimits& limits)
{
    if (text.size() > limits.max_bytes)
        throw JsonReadError(JsonReadError::Reason::TooLarge,
            prefixed(source,
                std::to_string(text.size()) + " bytes, more than the " + size_text(limits.max_bytes) + " limit for a "
                    + limits.kind));
    StrictBuilder<BasicJson> builder(limits, source, text.data());
    const CountingIterator first { text.data(), builder.cursor() };
    const CountingIterator last { text.data() + text.size(), builder.cursor() };
    const bool ok = BasicJson::sax_parse(first, last, &builder);
    if (!ok || builder.failed()) {
        const std::string msg = builder.failed() ? builder.error() : prefixed(source, "/: not valid JSON");
        throw JsonReadError(builder.reason(), msg + where_in(text, builder.offset()), builder.offset());
    }
    return builder.take_root();
}

template nlohmann::json parse_json_text<nlohmann::json>(std::string_view, const std::string&, const JsonLimits&);
template nlohmann::ordered_json parse_json_text<nlohmann::ordered_json>(
    std::string_view, const std::string&, const JsonLimits&);

std::string read_file_text(const fs::path& path, const JsonLimits& limits, const std::string& source_name)
{
    const std::string source = source_name.empty() ? path.string() : source_name;
    auto fail = [&](JsonReadError::Reason reason, const std::string& msg) {
        throw JsonReadError(reason, prefixed(source, msg));
    };
    std::error_code ec;
    const fs::file_status st = fs::status(path, ec);
    if (st.type() == fs::file_type::not_found)
        fail(JsonReadError::Reason::File, "no such file (expected a " + std::string(limits.kind) + ")");
    if (ec)
        fail(JsonReadError::Reason::File, "cannot read the " + std::string(limits.kind) + ": " + ec.message());
    if (fs::is_directory(st))
        fail(JsonReadError::Reason::File, "is a folder, expected a " + std::string(limits.kind));
    if (!fs::is_regular_file(st))
        fail(JsonReadError::Reason::File, "not a regular file, expected a " + std::string(limits.kind));
    const std::uintmax_t size = fs::file_size(path, ec);
    if (!ec && size > limits.max_bytes)
        fail(JsonReadError::Reason::TooLarge,
            std::to_string(size) + " bytes, more than the " + size_text(limits.max_bytes) + " limit for a "
                + limits.kind);
    errno = 0;
    std::ifstream in(path, std::ios::binary);
    if (!in)
        fail(JsonReadError::Reason::File,
            "cannot open the " + std::string(limits.kind)
                + " for reading: " + (errno ? std::strerror(errno) : "unknown reason"));
    // Read at most one byte past the cap: the file may have grown since it was measured.
    std::string text;
    text.reserve(ec ? 0 : static_cast<std::size_t>(size));
    char buf[1 << 16];
    while (in) {
        in.read(buf, sizeof buf);
        text.append(buf, static_cast<std::size_t>(in.gcount()));
        if (text.size() > limits.max_bytes)
            fail(JsonReadError::Reason::TooLarge,
                "more than the " + size_text(limits.max_bytes) + " limit for a " + std::string(limits.kind));
    }
    if (in.bad())
        fail(JsonReadError::Reason::File,
            "cannot read the " + std::string(limits.kind) + ": " + (errno ? std::strerror(errno) : "I/O error"));
    return text;
}

} // namespace nectar
