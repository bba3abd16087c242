// SPDX-License-Identifier: Apache-2.0
// The strict JSON reader (util/json_read.h) and bounded excerpts (util/error_text.h): depth, size, element,
// string and memory limits checked while parsing, JSON paths and byte offsets in errors, files that are folders
// or FIFOs, and excerpts of huge or deep values that never serialise the whole value.
#include <QTemporaryDir>
#include <QtTest/QtTest>

#include <chrono>
#include <filesystem>
#include <fstream>

#include <sys/stat.h>

#include <nlohmann/json.hpp>

#include "util/error_text.h"
#include "util/json_read.h"

using nlohmann::json;
using nlohmann::ordered_json;
using namespace nectar;
namespace fs = std::filesystem;

namespace {

const std::string kSpecs = std::string(NECTAR_TEST_DATA_DIR) + "/../../specs";

bool contains(const std::string& haystack, const std::string& needle)
{
    return haystack.find(needle) != std::string::npos;
}

std::string nested_arrays(std::size_t depth)
{
    return std::string(depth, '[') + std::string(depth, ']');
}

std::string nested_objects(std::size_t depth)
{
    std::string s;
    for (std::size_t i = 0; i < depth; ++i)
        s += "{\"a\":";
    s += "1";
    return s + std::string(depth, '}');
}

/// The JsonReadError `text` gives (empty reason/message if it parses).
template <class J = json>
JsonReadError error_of(const std::string& text, const JsonLimits& limits = json_limits::config())
{
    try {
        (void)parse_json_text<J>(text, "x.json", limits);
    } catch (const JsonReadError& e) {
        return e;
    }
    return JsonReadError(JsonReadError::Reason::File, "parsed without error");
}

void write_text(const std::string& path, const std::string& text)
{
    std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
}

} // namespace

class TestJsonRead : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void parsesLikeNlohmannAndKeepsOrder()
    {
        const std::string text = R"({"b": 1, "a": [1, 2.5, {"c": "d\u00e9"}, null, true], "z": -7})";
        QCOMPARE(parse_json_text<json>(text, "x", json_limits::config()), json::parse(text));
        const ordered_json o = parse_json_text<ordered_json>(text, "x", json_limits::config());
        QCOMPARE(o, ordered_json::parse(text));
        QCOMPARE(o.begin().key(), std::string("b")); // file order, not sorted
        QCOMPARE(o.at("a").at(2).at("c").get<std::string>(), std::string("d\xc3\xa9"));
        // Every shipped spec and the NectarGAN default config read the same as with nlohmann's parser.
        for (const std::string file : { std::string(NECTAR_TEST_DATA_DIR) + "/reference/nectargan_default_config.json",
                 kSpecs + "/pix2pix.json", kSpecs + "/lsgan.json", kSpecs + "/presets/pix2pix-extended-sharp.json" }) {
            std::ifstream in(file);
            QCOMPARE(read_json_file<ordered_json>(file, json_limits::config()), ordered_json::parse(in));
        }
    }

    void deepNestingIsRefusedWhileParsing()
    {
        // 10^5 levels: refused at level 513 with the path and offset, no stack overflow (arrays and objects).
        for (const std::string& text : { nested_arrays(100000), nested_objects(100000) }) {
            const JsonReadError e = error_of(text);
            QCOMPARE(e.reason(), JsonReadError::Reason::Limit);
            QVERIFY2(contains(e.what(), "nested deeper than 512 arrays/objects"), e.what());
            QVERIFY2(contains(e.what(), "x.json: /"), e.what());
            QVERIFY2(contains(e.what(), "more levels)"), e.what()); // the path is abbreviated, not 1 KB long
            QVERIFY2(std::string(e.what()).size() < 300, e.what());
            const JsonReadError o = error_of<ordered_json>(text);
            QCOMPARE(o.reason(), JsonReadError::Reason::Limit);
        }
        QCOMPARE(error_of(nested_arrays(100000)).offset(), std::uint64_t(512)); // the 513th '['
        QVERIFY2(contains(error_of(nested_objects(600)).what(), "x.json: /a/a/a/a/... (500 more levels)/a/a"),
            error_of(nested_objects(600)).what());
    }

    void depth512IsAcceptedAnd513Refused()
    {
        QCOMPARE(parse_json_text<json>(nested_arrays(512), "x", json_limits::config()).size(), std::size_t(1));
        QCOMPARE(parse_json_text<json>(nested_objects(511), "x", json_limits::config()).size(), std::size_t(1));
        QCOMPARE(error_of(nested_arrays(513)).reason(), JsonReadError::Reason::Limit);
        QCOMPARE(error_of(nested_objects(513)).reason(), JsonReadError::Reason::Limit);
        JsonLimits shallow = json_limits::config();
        shallow.max_depth = 2;
        QCOMPARE(parse_json_text<json>("[[1]]", "x", shallow), json::parse("[[1]]"));
        QCOMPARE(error_of("[[[1]]]", shallow).reason(), JsonReadError::Reason::Limit);
    }

    void numberOverflowNamesThePath()
    {
        const std::string text = R"({"config": {"train": {"loss": {"lambda_l1": 1e309}}}})";
        for (const JsonReadError& e : { error_of(text), error_of<ordered_json>(text) }) {
            QCOMPARE(e.reason(), JsonReadError::Reason::Syntax);
            QVERIFY2(contains(e.what(), "x.json: /config/train/loss/lambda_l1: number out of range"), e.what());
            QVERIFY2(contains(e.what(), "1e309"), e.what());
            const auto at = text.find("1e309");
            QVERIFY2(e.offset() >= at && e.offset() <= at + 5, e.what());
            QVERIFY2(contains(e.what(), "line 1, column"), e.what());
        }
        // A 4 MB digit string that overflows is not echoed whole.
        const JsonReadError big = error_of("[1" + std::string(4000000, '0') + "]");
        QVERIFY2(contains(big.what(), "x.json: /0: number out of range"), big.what());
        QVERIFY(std::string(big.what()).size() < 300);
    }

    void syntaxErrorsNameThePathAndPosition()
    {
        const JsonReadError e = error_of("{\n  \"config\": {\"train\": }\n}");
        QCOMPARE(e.reason(), JsonReadError::Reason::Syntax);
        QVERIFY2(contains(e.what(), "x.json: /config/train: not valid JSON: syntax error"), e.what());
        QVERIFY2(contains(e.what(), "(line 2, column"), e.what());
        QVERIFY2(
            contains(error_of("{\"a\": 1} x").what(), "x.json: /: not valid JSON"), error_of("{\"a\": 1} x").what());
        // Invalid UTF-8 and control characters in keys are escaped in the message.
        const JsonReadError utf = error_of("{\"a\": \"caf\xe9\"}");
        QVERIFY2(contains(utf.what(), "x.json: /a: not valid JSON") && contains(utf.what(), "\\xE9"), utf.what());
        const JsonReadError nul = error_of(R"({"k\u0000y": {"x": tru}})");
        QVERIFY2(contains(nul.what(), "x.json: /k\\x00y/x: not valid JSON"), nul.what());
        // A torn line (a kill mid-append) is a syntax error at its end.
        const JsonReadError torn = error_of(R"({"dump": 3, "losses": {"G": {"loss": [1.5, 2)");
        QCOMPARE(torn.reason(), JsonReadError::Reason::Syntax);
        QVERIFY2(contains(torn.what(), "x.json: /losses/G/loss/"), torn.what());
    }

    void duplicateKeysAreErrors()
    {
        for (const JsonReadError& e :
            { error_of(R"({"a": {"b": 1, "b": 2}})"), error_of<ordered_json>(R"({"a": {"b": 1, "b": 2}})") }) {
            QCOMPARE(e.reason(), JsonReadError::Reason::Limit);
            QVERIFY2(contains(e.what(), "x.json: /a/b: duplicate key"), e.what());
        }
    }

    void elementStringAndMemoryLimits()
    {
        std::string big = "[";
        for (int i = 0; i < 65537; ++i)
            big += i ? ",0" : "0";
        big += "]";
        const JsonReadError arr = error_of(big);
        QVERIFY2(contains(arr.what(), "x.json: /65536: array with more than 65536 elements"), arr.what());
        QCOMPARE(parse_json_text<json>(big, "x", json_limits::loss_log()).size(), std::size_t(65537));
        std::string wide = "{";
        for (int i = 0; i < 65537; ++i)
            wide += (i ? ",\"k" : "\"k") + std::to_string(i) + "\":0";
        wide += "}";
        QVERIFY2(contains(error_of<ordered_json>(wide).what(), "object with more than 65536 members"),
            error_of<ordered_json>(wide).what());
        const JsonReadError str = error_of("{\"s\": \"" + std::string(70000, 'a') + "\"}");
        QVERIFY2(contains(str.what(), "x.json: /s: string longer than 64 KiB"), str.what());
        QVERIFY(std::string(str.what()).size() < 200);
        // 2.8 MB of empty arrays (under the 4 MiB cap) would cost ~73 MB as a DOM: refused by the memory budget.
        std::string empties = "[";
        for (int k = 0; k < 14; ++k) {
            empties += k ? ",[" : "[";
            for (int i = 0; i < 65536; ++i)
                empties += i ? ",[]" : "[]";
            empties += "]";
        }
        empties += "]";
        QVERIFY(empties.size() < json_limits::config().max_bytes);
        const JsonReadError mem = error_of(empties);
        QCOMPARE(mem.reason(), JsonReadError::Reason::Limit);
        QVERIFY2(contains(mem.what(), "more than 64 MiB of memory"), mem.what());
        // Text longer than the cap is refused before parsing.
        const JsonReadError size = error_of(std::string(json_limits::spec().max_bytes + 1, ' '), json_limits::spec());
        QCOMPARE(size.reason(), JsonReadError::Reason::TooLarge);
        QVERIFY2(
            contains(size.what(), "x.json: 1048577 bytes, more than the 1 MiB limit for a spec file"), size.what());
    }

    void filesAreCheckedBeforeReading()
    {
        QTemporaryDir dir;
        const fs::path d = dir.path().toStdString();
        // A folder, a FIFO (reading it could block forever) and a missing file are refused by name.
        try {
            (void)read_json_file(d, json_limits::config(), "cfgdir");
            QFAIL("expected JsonReadError");
        } catch (const JsonReadError& e) {
            QCOMPARE(e.reason(), JsonReadError::Reason::File);
            QCOMPARE(std::string(e.what()), std::string("cfgdir: is a folder, expected a config file"));
        }
        const fs::path fifo = d / "fifo.json";
        QCOMPARE(mkfifo(fifo.c_str(), 0600), 0);
        try {
            (void)read_file_text(fifo, json_limits::preset());
            QFAIL("expected JsonReadError");
        } catch (const JsonReadError& e) {
            QVERIFY2(contains(e.what(), fifo.string() + ": not a regular file, expected a preset file"), e.what());
        }
        try {
            (void)read_file_text(d / "missing.json", json_limits::spec());
            QFAIL("expected JsonReadError");
        } catch (const JsonReadError& e) {
            QVERIFY2(contains(e.what(), "missing.json: no such file"), e.what());
        }
        // A file over the cap is refused from its size: a sparse 5 GiB file is not read (nor allocated).
        const fs::path huge = d / "huge.json";
        write_text(huge.string(), "[");
        fs::resize_file(huge, std::uint64_t(5) << 30);
        const auto t0 = std::chrono::steady_clock::now();
        try {
            (void)read_file_text(huge, json_limits::loss_log());
            QFAIL("expected JsonReadError");
        } catch (const JsonReadError& e) {
            QCOMPARE(e.reason(), JsonReadError::Reason::TooLarge);
            QVERIFY2(
                contains(e.what(), "huge.json: 5368709120 bytes, more than the 2 GiB limit for a loss log"), e.what());
        }
        QVERIFY(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(2));
        // Byte-exact names: a Latin-1 file name is opened as is.
        const fs::path latin1 = d / std::string("caf\xe9.json");
        write_text(latin1.string(), R"({"ok": true})");
        QCOMPARE(read_json_file(latin1, json_limits::config()).at("ok").get<bool>(), true);
        fs::remove(latin1); // QTemporaryDir cannot remove a name that is not UTF-8
        fs::remove(huge);
    }

    void excerptsAreBoundedWithoutSerialisingTheValue()
    {
        json huge = json::array();
        for (int i = 0; i < 1000000; ++i)
            huge.push_back(i);
        const std::string a = nectar::detail::json_text(huge);
        QCOMPARE(a.size(), std::size_t(80));
        QVERIFY2(a.rfind("[0,1,2,3,", 0) == 0 && a.substr(77) == "...", a.c_str());
        const std::string s = nectar::detail::json_text(json(std::string(20u << 20, 'x'))); // 20 MB string
        QCOMPARE(s.size(), std::size_t(80));
        // 10^5 levels built in memory (not through the reader): the excerpt walks no deeper than it prints.
        json deep = json::array();
        for (int i = 0; i < 100000; ++i) {
            json outer = json::array();
            outer.push_back(std::move(deep));
            deep = std::move(outer);
        }
        QCOMPARE(nectar::detail::json_text(deep), std::string(77, '[') + "...");
        // Small values are unchanged; invalid UTF-8 does not throw; a cut never splits a UTF-8 sequence.
        QCOMPARE(nectar::detail::json_text(json::parse(R"({"b": [1, "x"], "a": null})")),
            std::string(R"({"a":null,"b":[1,"x"]})"));
        QCOMPARE(
            nectar::detail::json_text(ordered_json::parse(R"({"b": 1, "a": 2})")), std::string(R"({"b":1,"a":2})"));
        QCOMPARE(nectar::detail::json_text(json(std::string("caf\xe9"))), std::string("\"caf\xef\xbf\xbd\""));
        const std::string cut = nectar::detail::bounded_text(std::string(76, 'a') + "\xc3\xa9\xc3\xa9\xc3\xa9", 80);
        QCOMPARE(cut, std::string(76, 'a') + "...");
        QCOMPARE(
            nectar::detail::printable(std::string("a\0b\n\xff\xc3\xa9", 7)), std::string("a\\x00b\\x0A\\xFF\xc3\xa9"));
    }

    void formatErrorsKeepTheirType()
    {
        // reading_as turns any non-format exception into the format's error, prefixed once by the source.
        struct FormatError : InputError {
            using InputError::InputError;
        };
        try {
            reading_as<FormatError>(
                "f.json", []() -> int { throw json::type_error::create(302, "type must be number", nullptr); });
            QFAIL("expected FormatError");
        } catch (const FormatError& e) {
            QVERIFY2(contains(e.what(), "f.json: [json.exception.type_error.302]"), e.what());
        }
        try {
            reading_as<FormatError>(
                "x.json", [] { return parse_json_text<json>("[", "x.json", json_limits::config()); });
            QFAIL("expected FormatError");
        } catch (const FormatError& e) {
            QVERIFY2(std::string(e.what()).rfind("x.json: /0: not valid JSON", 0) == 0, e.what());
        }
        QVERIFY_THROWS_EXCEPTION(std::bad_alloc, reading_as<FormatError>("x", []() -> int { throw std::bad_alloc(); }));
    }
};

QTEST_APPLESS_MAIN(TestJsonRead)
#include "tst_json_read.moc"
