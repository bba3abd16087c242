// SPDX-License-Identifier: Apache-2.0
// Loss log: append-only journal (crash-safe, cost ~ new values) + NectarGAN-layout loss_log.json
// written atomically; reader for both and for NectarGAN's own logs.
#include "losses/loss_log.h"
#include "util/atomic_file.h"
#include "util/json_read.h"
#include "util/test_hooks.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <tuple>

#include <fcntl.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

namespace nectar {
namespace fs = std::filesystem;
using ojson = nlohmann::ordered_json;

namespace {

ojson encode(float v)
{
    if (std::isnan(v))
        return nullptr;
    if (std::isinf(v))
        return v > 0 ? "Infinity" : "-Infinity";
    return double(v); // same digits as Python's json for a float32 widened to double
}

ojson encode_array(const std::vector<float>& values)
{
    ojson a = ojson::array();
    for (float v : values)
        a.push_back(encode(v));
    return a;
}

// Wall times at millisecond precision (shorter lines; the clock is no finer in practice).
double to_ms(double t)
{
    return std::round(t * 1000.0) / 1000.0;
}

ojson encode_times(const std::vector<double>& times)
{
    ojson a = ojson::array();
    for (double t : times)
        a.push_back(std::isfinite(t) ? ojson(to_ms(t)) : ojson(nullptr));
    return a;
}

// The fields a live edit can change (journal "edit" lines).
bool is_edit_field(const std::string& field)
{
    return field == "weight" || field == "tags" || field == "schedule";
}

[[noreturn]] void bad(const std::string& message)
{
    throw LossLogError(message);
}

// A short, safe excerpt of a value for messages: scalars as JSON (bounded), containers by kind.
std::string excerpt(const ojson& j)
{
    if (j.is_object())
        return "an object";
    if (j.is_array())
        return "an array";
    std::string s = j.dump(-1, ' ', false, ojson::error_handler_t::replace);
    if (s.size() > 80)
        s = s.substr(0, 80) + "...";
    return s;
}

// The one place loss-log text becomes JSON: the engine's strict reader (util/json_read.h: depth 512 while
// parsing, element, string and memory limits; its size caps equal kMaxLogBytes / kMaxJournalLineBytes).
ojson parse_json(std::string_view text, const std::string& where, bool journal_line)
{
    return parse_json_text<ojson>(text, where, journal_line ? json_limits::journal_line() : json_limits::loss_log());
}

float decode(const ojson& j, const std::string& where)
{
    if (j.is_null())
        return std::numeric_limits<float>::quiet_NaN();
    if (j.is_number())
        return float(j.get<double>());
    if (j.is_string()) {
        const auto& s = j.get_ref<const std::string&>();
        if (s == "Infinity" || s == "inf")
            return std::numeric_limits<float>::infinity();
        if (s == "-Infinity" || s == "-inf")
            return -std::numeric_limits<float>::infinity();
        if (s == "NaN" || s == "nan")
            return std::numeric_limits<float>::quiet_NaN();
    }
    bad(where + ": expected a number, null, \"Infinity\" or \"-Infinity\", got " + excerpt(j));
}

void decode_array(const ojson& j, std::vector<float>& out, const std::string& where)
{
    if (!j.is_array())
        bad(where + ": expected an array, got " + excerpt(j));
    out.reserve(out.size() + j.size());
    for (size_t i = 0; i < j.size(); ++i)
        out.push_back(decode(j[i], where + "/" + std::to_string(i)));
}

std::int64_t read_int(const ojson& j, const std::string& where, std::int64_t min, std::int64_t max)
{
    if (!j.is_number_integer() || (j.is_number_unsigned() && j.get<std::uint64_t>() > std::uint64_t(max))
        || j.get<std::int64_t>() < min || j.get<std::int64_t>() > max)
        bad(where + ": expected an integer from " + std::to_string(min) + " to " + std::to_string(max) + ", got "
            + excerpt(j));
    return j.get<std::int64_t>();
}

// Unknown keys: an error in our journal, a warning in loss_log.json (NectarGAN may add keys).
void check_keys(const ojson& j, std::initializer_list<const char*> known, const std::string& where, bool strict,
    std::vector<std::string>& warnings)
{
    for (const auto& [k, v] : j.items()) {
        (void)v;
        bool ok = false;
        for (const char* n : known)
            ok = ok || k == n;
        if (ok)
            continue;
        std::string list;
        for (const char* n : known)
            list += std::string(list.empty() ? "" : ", ") + n;
        const std::string msg = where + "/" + k + ": unknown key (expected " + list + ")";
        if (strict)
            bad(msg);
        warnings.push_back(msg);
    }
}

void read_metadata(const ojson& h, LossLogData& d, const std::string& where, bool strict)
{
    if (!h.is_object())
        bad(where + ": expected an object, got " + excerpt(h));
    check_keys(h, { "device", "dataroot", "dataset_length", "experiment", "world_size", "backend", "devices" }, where,
        strict, d.warnings);
    auto str = [&](const char* k, std::string& out) {
        const auto it = h.find(k);
        if (it == h.end())
            return;
        if (!it->is_string())
            bad(where + "/" + k + ": expected a string, got " + excerpt(*it));
        out = it->get<std::string>();
    };
    str("device", d.device);
    str("dataroot", d.dataroot);
    str("experiment", d.experiment);
    const auto it = h.find("dataset_length");
    if (it != h.end())
        d.dataset_length = read_int(*it, where + "/dataset_length", 0, std::numeric_limits<std::int64_t>::max());
    const auto ws = h.find("world_size");
    if (ws != h.end())
        d.world_size = static_cast<int>(read_int(*ws, where + "/world_size", 1, 1 << 20));
    str("backend", d.backend);
    const auto dv = h.find("devices");
    if (dv != h.end()) {
        if (!dv->is_array())
            bad(where + "/devices: expected an array of device names, got " + excerpt(*dv));
        d.devices.clear();
        for (std::size_t i = 0; i < dv->size(); ++i) {
            if (!(*dv)[i].is_string())
                bad(where + "/devices/" + std::to_string(i) + ": expected a string, got " + excerpt((*dv)[i]));
            d.devices.push_back((*dv)[i].get<std::string>());
        }
    }
}

// The header fields, as the journal's header line and loss_log.json's root hold them.
ojson metadata_json(const LossLogMetadata& m)
{
    ojson j { { "device", m.device }, { "dataroot", m.dataroot }, { "dataset_length", m.dataset_length },
        { "experiment", m.experiment } };
    if (m.world_size > 0) {
        j["world_size"] = m.world_size;
        j["backend"] = m.backend;
        j["devices"] = m.devices;
    }
    return j;
}

LossLogMetadata metadata_of(const LossLogData& d)
{
    LossLogMetadata m;
    m.device = d.device;
    m.dataroot = d.dataroot;
    m.dataset_length = d.dataset_length;
    m.experiment = d.experiment;
    m.world_size = d.world_size;
    m.backend = d.backend;
    m.devices = d.devices;
    return m;
}

// One {"loss": [...], "weights": [...], "raw_loss": [...]} object (equal lengths; raw_loss optional).
LossSeries read_entry(const ojson& e, const std::string& where, bool strict, std::vector<std::string>& warnings)
{
    if (!e.is_object())
        bad(where + ": expected an object with \"loss\" and \"weights\", got " + excerpt(e));
    check_keys(e, { "loss", "weights", "raw_loss", "wall_time" }, where, strict, warnings);
    LossSeries s;
    for (const char* k : { "loss", "weights" }) {
        const auto it = e.find(k);
        if (it == e.end())
            bad(where + "/" + k + ": missing (expected an array)");
        decode_array(*it, std::string(k) == "loss" ? s.weighted : s.weights, where + "/" + k);
    }
    if (s.weights.size() != s.weighted.size())
        bad(where + ": \"loss\" has " + std::to_string(s.weighted.size()) + " values but \"weights\" "
            + std::to_string(s.weights.size()) + " (expected one weight per value)");
    const auto raw = e.find("raw_loss");
    if (raw != e.end()) {
        decode_array(*raw, s.raw, where + "/raw_loss");
        if (s.raw.size() != s.weighted.size())
            bad(where + ": \"raw_loss\" has " + std::to_string(s.raw.size()) + " values but \"loss\" "
                + std::to_string(s.weighted.size()) + " (expected one per value)");
    }
    const auto wt = e.find("wall_time");
    if (wt != e.end()) {
        if (!wt->is_array() || wt->size() != s.weighted.size())
            bad(where + "/wall_time: expected an array of " + std::to_string(s.weighted.size())
                + " Unix times (one per value), got " + excerpt(*wt));
        s.wall_time.reserve(wt->size());
        for (size_t i = 0; i < wt->size(); ++i) {
            const auto& t = (*wt)[i];
            if (!t.is_null() && !t.is_number())
                bad(where + "/wall_time/" + std::to_string(i) + ": expected a number (Unix seconds) or null, got "
                    + excerpt(t));
            s.wall_time.push_back(t.is_null() ? std::numeric_limits<double>::quiet_NaN() : t.get<double>());
        }
    }
    if (raw == e.end()) {
        // NectarGAN logs only weighted values: raw = weighted / weight.
        s.raw_derived = true;
        for (size_t i = 0; i < s.weighted.size(); ++i) {
            const float w = s.weights[i];
            s.raw.push_back(w != 0.0f ? s.weighted[i] / w : std::numeric_limits<float>::quiet_NaN());
        }
    }
    return s;
}

void append_series(LossSeries& to, const LossSeries& from)
{
    // iterations are empty or one per value: values without a position follow the previous value.
    if (!from.iterations.empty() || !to.iterations.empty()) {
        auto next = [&to] { return to.iterations.empty() ? std::int64_t(0) : to.iterations.back() + 1; };
        while (to.iterations.size() < to.raw.size())
            to.iterations.push_back(next());
        if (from.iterations.empty())
            for (std::size_t i = 0; i < from.raw.size(); ++i)
                to.iterations.push_back(next());
        else
            to.iterations.insert(to.iterations.end(), from.iterations.begin(), from.iterations.end());
    }
    // wall_time is empty or one per value: values without a time (older dumps) get NaN.
    if (!from.wall_time.empty() || !to.wall_time.empty()) {
        to.wall_time.resize(to.raw.size(), std::numeric_limits<double>::quiet_NaN());
        if (from.wall_time.empty())
            to.wall_time.resize(to.raw.size() + from.raw.size(), std::numeric_limits<double>::quiet_NaN());
        else
            to.wall_time.insert(to.wall_time.end(), from.wall_time.begin(), from.wall_time.end());
    }
    to.weighted.insert(to.weighted.end(), from.weighted.begin(), from.weighted.end());
    to.raw.insert(to.raw.end(), from.raw.begin(), from.raw.end());
    to.weights.insert(to.weights.end(), from.weights.begin(), from.weights.end());
    to.raw_derived = to.raw_derived || from.raw_derived;
}

void add_named(std::vector<std::string>& order, std::map<std::string, LossSeries>& losses, const std::string& name,
    const LossSeries& s)
{
    if (!losses.count(name))
        order.push_back(name);
    append_series(losses[name], s);
}

// A weight as text: shortest round-trip digits ("100", "0.5").
std::string value_text(const ojson& v)
{
    if (v.is_string())
        return v.get<std::string>();
    if (v.is_null())
        return "none";
    if (v.is_array()) {
        std::string out;
        for (const auto& x : v)
            out += (out.empty() ? "" : ", ") + value_text(x);
        return out.empty() ? "(none)" : out;
    }
    return v.dump();
}

// One {"iteration", "epoch", "wall_time", "loss", "field", "old", "new", "source"} object.
LossEdit read_edit(const ojson& e, const std::string& where, std::vector<std::string>& warnings)
{
    if (!e.is_object())
        bad(where + ": expected an edit object, got " + excerpt(e));
    check_keys(
        e, { "iteration", "epoch", "wall_time", "loss", "field", "old", "new", "source" }, where, true, warnings);
    LossEdit out;
    for (const char* k : { "iteration", "loss", "field", "old", "new" })
        if (!e.contains(k))
            bad(where + "/" + k + ": missing");
    out.iteration = read_int(e["iteration"], where + "/iteration", 0, std::numeric_limits<std::int64_t>::max());
    if (e.contains("epoch"))
        out.epoch = int(read_int(e["epoch"], where + "/epoch", 0, std::numeric_limits<int>::max()));
    if (e.contains("wall_time")) {
        if (!e["wall_time"].is_number())
            bad(where + "/wall_time: expected a number (Unix seconds), got " + excerpt(e["wall_time"]));
        out.wall_time = e["wall_time"].get<double>();
    }
    auto str = [&](const char* k, std::string& to) {
        if (!e[k].is_string())
            bad(where + "/" + k + ": expected a string, got " + excerpt(e[k]));
        to = e[k].get<std::string>();
    };
    str("loss", out.loss);
    str("field", out.field);
    if (!is_edit_field(out.field))
        bad(where + "/field: expected \"weight\", \"tags\" or \"schedule\", got " + excerpt(e["field"]));
    if (e.contains("source"))
        str("source", out.source);
    out.old_value = value_text(e["old"]);
    out.new_value = value_text(e["new"]);
    return out;
}

LossLogData parse_base(std::string_view text, const std::string& file)
{
    ojson j;
    try {
        j = parse_json(text, file, false);
    } catch (const JsonReadError& e) {
        bad(e.what());
    }
    LossLogData d;
    d.source = file;
    if (!j.is_object() || !j.contains("LOSSMANAGER_LOG") || !j["LOSSMANAGER_LOG"].is_object())
        bad(file + ": missing object /LOSSMANAGER_LOG (not a NectarGAN loss log)");
    check_keys(j, { "LOSSMANAGER_LOG" }, file + ": ", false, d.warnings);
    const auto& root = j["LOSSMANAGER_LOG"];
    const std::string where = file + ": /LOSSMANAGER_LOG";
    check_keys(root,
        { "device", "dataroot", "dataset_length", "experiment", "world_size", "backend", "devices", "loss_functions",
            "edits" },
        where, false, d.warnings);
    ojson meta = ojson::object();
    for (const char* k : { "device", "dataroot", "dataset_length", "experiment", "world_size", "backend", "devices" })
        if (root.contains(k))
            meta[k] = root[k];
    read_metadata(meta, d, where, false);
    const auto lf = root.find("loss_functions");
    if (lf != root.end()) {
        if (!lf->is_object())
            bad(where + "/loss_functions: expected an object, got " + excerpt(*lf));
        for (const auto& [name, e] : lf->items())
            add_named(d.order, d.losses, name, read_entry(e, where + "/loss_functions/" + name, false, d.warnings));
    }
    const auto ed = root.find("edits");
    if (ed != root.end()) {
        if (!ed->is_array())
            bad(where + "/edits: expected an array of edit events, got " + excerpt(*ed));
        for (size_t i = 0; i < ed->size(); ++i)
            d.edits.push_back(read_edit((*ed)[i], where + "/edits/" + std::to_string(i), d.warnings));
    }
    return d;
}

// One dump line's values and the position it was written at (-1: unknown).
struct Dump {
    int epoch = -1;
    std::int64_t iteration = -1;
    std::vector<std::pair<std::string, LossSeries>> values;
};

// A "resume" line: dumps of epochs after the checkpoint the run continued from are superseded.
void supersede(std::vector<Dump>& active, int epoch, std::int64_t iteration, int line, LossLogData& d)
{
    // Edits made in the superseded epochs belong to values no longer counted.
    d.edits.erase(
        std::remove_if(d.edits.begin(), d.edits.end(), [epoch](const LossEdit& e) { return e.epoch > epoch; }),
        d.edits.end());
    const auto split = std::stable_partition(
        active.begin(), active.end(), [epoch](const Dump& r) { return r.epoch < 0 || r.epoch <= epoch; });
    if (split == active.end())
        return;
    std::map<std::string, size_t> kept;
    for (auto it = active.begin(); it != split; ++it)
        for (const auto& [name, s] : it->values)
            kept[name] += s.weighted.size();
    SupersededSegment seg;
    seg.resume_epoch = epoch;
    seg.resume_iteration = iteration;
    seg.resume_line = line;
    seg.first_epoch = split->epoch;
    for (auto it = split; it != active.end(); ++it) {
        seg.first_epoch = std::min(seg.first_epoch, it->epoch);
        seg.last_epoch = std::max(seg.last_epoch, it->epoch);
        for (const auto& [name, s] : it->values) {
            if (!seg.losses.count(name))
                seg.start[name] = kept[name];
            add_named(seg.order, seg.losses, name, s);
        }
    }
    d.superseded.push_back(std::move(seg));
    active.erase(split, active.end());
}

LossLogData parse_journal(std::string_view text, const std::string& file)
{
    LossLogData d;
    d.source = file;
    std::vector<Dump> active;
    size_t pos = 0;
    int lineno = 0;
    while (pos < text.size()) {
        const size_t nl = text.find('\n', pos);
        const size_t end = nl == std::string_view::npos ? text.size() : nl;
        const std::string_view line = text.substr(pos, end - pos);
        pos = end + 1;
        ++lineno;
        if (line.find_first_not_of(" \t\r") == std::string_view::npos)
            continue;
        const std::string where = file + ": line " + std::to_string(lineno);
        if (line.size() > LossLog::kMaxJournalLineBytes)
            bad(where + ": " + std::to_string(line.size()) + " bytes, more than the cap of "
                + std::to_string(LossLog::kMaxJournalLineBytes) + " bytes per journal line");
        ojson j;
        try {
            j = parse_json(line, where, true);
        } catch (const JsonReadError& e) {
            // A prefix of a valid line (the parser ran out of input): a kill mid-append tore it; its
            // values were never reported as dumped. Anything else (also a limit) is damage.
            if (e.reason() == JsonReadError::Reason::Syntax && e.offset() >= line.size()) {
                d.warnings.push_back(file + ": skipped torn journal line " + std::to_string(lineno));
                continue;
            }
            bad(e.what());
        }
        if (!j.is_object())
            bad(where + ": expected a JSON object (a header, dump or resume line), got " + excerpt(j));
        if (j.contains("header")) {
            check_keys(j, { "header" }, where + " ", true, d.warnings);
            read_metadata(j["header"], d, where + " /header", true);
        } else if (j.contains("resume")) {
            check_keys(j, { "resume" }, where + " ", true, d.warnings);
            const auto& r = j["resume"];
            const std::string rw = where + " /resume";
            if (!r.is_object() || !r.contains("epoch"))
                bad(rw + ": expected an object {\"epoch\": N, \"iteration\": I}, got " + excerpt(r));
            check_keys(r, { "epoch", "iteration" }, rw, true, d.warnings);
            const int epoch = int(read_int(r["epoch"], rw + "/epoch", 0, std::numeric_limits<int>::max()));
            const std::int64_t iteration = r.contains("iteration")
                ? read_int(r["iteration"], rw + "/iteration", 0, std::numeric_limits<std::int64_t>::max())
                : -1;
            supersede(active, epoch, iteration, lineno, d);
        } else if (j.contains("edit")) {
            check_keys(j, { "edit" }, where + " ", true, d.warnings);
            d.edits.push_back(read_edit(j["edit"], where + " /edit", d.warnings));
        } else if (j.contains("losses")) {
            check_keys(j, { "dump", "epoch", "iteration", "losses", "rebuilt_from" }, where + " ", true, d.warnings);
            Dump r;
            if (j.contains("dump"))
                read_int(j["dump"], where + " /dump", 0, std::numeric_limits<std::int64_t>::max());
            if (j.contains("epoch"))
                r.epoch = int(read_int(j["epoch"], where + " /epoch", 0, std::numeric_limits<int>::max()));
            if (j.contains("iteration"))
                r.iteration
                    = read_int(j["iteration"], where + " /iteration", 0, std::numeric_limits<std::int64_t>::max());
            if (j.contains("rebuilt_from") && !j["rebuilt_from"].is_string())
                bad(where + " /rebuilt_from: expected a string, got " + excerpt(j["rebuilt_from"]));
            const auto& losses = j["losses"];
            if (!losses.is_object())
                bad(where + " /losses: expected an object, got " + excerpt(losses));
            for (const auto& [name, e] : losses.items()) {
                LossSeries v = read_entry(e, where + " /losses/" + name, true, d.warnings);
                if (r.iteration >= 0) { // the dump's last n iterations (see LossSeries::iterations)
                    const auto n = static_cast<std::int64_t>(v.raw.size());
                    const std::int64_t first = std::max<std::int64_t>(0, r.iteration - n);
                    v.iterations.resize(v.raw.size());
                    for (std::int64_t i = 0; i < n; ++i)
                        v.iterations[static_cast<std::size_t>(i)] = first + i;
                }
                r.values.emplace_back(name, std::move(v));
            }
            active.push_back(std::move(r));
        } else {
            bad(where + ": expected a \"header\", \"dump\" (with \"losses\"), \"edit\" or \"resume\" line");
        }
    }
    for (const auto& r : active) {
        for (const auto& [name, s] : r.values)
            add_named(d.order, d.losses, name, s);
        if (r.epoch >= 0) {
            d.last_epoch = r.epoch;
            d.last_iteration = r.iteration;
        }
    }
    return d;
}

// Reads a whole file of at most `cap` bytes; LossLogError naming it otherwise.
std::string read_text_file(const std::string& file, std::uint64_t cap, const std::string& what)
{
    std::error_code ec;
    const auto st = fs::status(file, ec);
    if (ec || !fs::exists(st))
        bad("Cannot open " + what + " " + file + ": " + (ec ? ec.message() : "no such file"));
    if (fs::is_directory(st))
        bad(what + " " + file + " is a directory, not a file");
    if (!fs::is_regular_file(st)) // opening a FIFO would wait for a writer forever
        bad(what + " " + file + " is not a regular file");
    const auto size = fs::is_regular_file(st) ? fs::file_size(file, ec) : 0;
    if (!ec && size > cap)
        bad(what + " " + file + " has " + std::to_string(size) + " bytes, more than the cap of " + std::to_string(cap)
            + " bytes");
    std::ifstream in(file, std::ios::binary);
    if (!in)
        bad("Cannot open " + what + " " + file + ": " + std::strerror(errno));
    std::string text;
    text.resize(std::size_t(size));
    in.read(text.data(), std::streamsize(size));
    if (in.bad() || std::uint64_t(in.gcount()) != size)
        bad("Cannot read " + what + " " + file + ": " + std::strerror(errno));
    return text;
}

// The text entry points throw nothing but LossLogError for bad bytes.
template <class F> LossLogData guarded_parse(const std::string& source, F&& f)
{
    try {
        return f();
    } catch (const LossLogError&) {
        throw;
    } catch (const nlohmann::json::exception& e) {
        bad(source + ": " + e.what());
    }
}

LossLogData read_base(const std::string& file)
{
    const std::string text = read_text_file(file, LossLog::kMaxLogBytes, "loss log");
    return LossLog::parse_log_text(text, file);
}

LossLogData read_journal(const std::string& file)
{
    const std::string text = read_text_file(file, LossLog::kMaxJournalBytes, "loss log journal");
    return LossLog::parse_journal_text(text, file);
}

void write_all(int fd, const std::string& data, const std::string& path)
{
    const char* p = data.data();
    size_t left = data.size();
    while (left > 0) {
        const ssize_t n = ::write(fd, p, left);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            throw std::runtime_error("Cannot write " + path + ": " + std::strerror(errno));
        }
        p += n;
        left -= size_t(n);
    }
}

// Appends one line to a journal (terminating a torn last line first) and fsyncs it.
void append_journal_line(const std::string& path, const std::string& line)
{
    const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0)
        throw std::runtime_error("Cannot open " + path + ": " + std::strerror(errno));
    try {
        const off_t size = ::lseek(fd, 0, SEEK_END);
        char last = '\n';
        std::string text = line + "\n";
        if (size > 0 && ::pread(fd, &last, 1, size - 1) == 1 && last != '\n')
            text = "\n" + text;
        write_all(fd, text, path);
        if (::fsync(fd) != 0)
            throw std::runtime_error("Cannot fsync " + path + ": " + std::strerror(errno));
    } catch (...) {
        ::close(fd);
        throw;
    }
    ::close(fd);
}

ojson edit_json(const LossEdit& e)
{
    ojson j { { "iteration", e.iteration } };
    if (e.epoch >= 0)
        j["epoch"] = e.epoch;
    if (std::isfinite(e.wall_time))
        j["wall_time"] = to_ms(e.wall_time);
    j["loss"] = e.loss;
    j["field"] = e.field;
    j["old"] = e.old_value;
    j["new"] = e.new_value;
    if (!e.source.empty())
        j["source"] = e.source;
    return j;
}

ojson log_json(const LossLogData& d, const LossLogMetadata& m)
{
    ojson functions = ojson::object();
    for (const auto& name : d.order) {
        const auto& s = d.losses.at(name);
        functions[name] = ojson { { "loss", encode_array(s.weighted) }, { "weights", encode_array(s.weights) },
            { "raw_loss", encode_array(s.raw) } };
        if (!s.wall_time.empty())
            functions[name]["wall_time"] = encode_times(s.wall_time);
    }
    ojson root = metadata_json(m);
    root["loss_functions"] = functions;
    if (!d.edits.empty()) {
        ojson edits = ojson::array();
        for (const auto& e : d.edits)
            edits.push_back(edit_json(e));
        root["edits"] = std::move(edits);
    }
    return ojson { { "LOSSMANAGER_LOG", std::move(root) } };
}

// First free K for `<dir>/<stem><K><ext>` over all given (stem, ext) pairs.
int first_free(const fs::path& dir, const std::vector<std::pair<std::string, std::string>>& names)
{
    for (int k = 1;; ++k) {
        bool free = true;
        for (const auto& [stem, ext] : names) {
            std::error_code ec;
            free = free && !fs::exists(fs::symlink_status(dir / (stem + std::to_string(k) + ext), ec));
        }
        if (free)
            return k;
    }
}

void move_file(const fs::path& from, const fs::path& to)
{
    std::error_code ec;
    fs::rename(from, to, ec);
    if (ec)
        throw std::runtime_error("Cannot move " + from.string() + " to " + to.string() + ": " + ec.message());
}

const char* const kWayOut
    = " (to continue anyway, start a new loss log: nectar-train ... --new-log moves loss_log.json and the journal "
      "aside as loss_log.old<K>.json and loss_log.journal.old<K>.jsonl, never deleting them; or repair the file)";

} // namespace

std::string LossLog::encode_value(float v)
{
    return encode(v).dump();
}

LossLog::LossLog(std::string experiment_dir)
    : m_dir(std::move(experiment_dir))
{
}

LossLog::~LossLog()
{
    if (m_fd >= 0)
        ::close(m_fd);
}

std::string LossLog::log_path() const
{
    return (fs::path(m_dir) / kLogFileName).string();
}
std::string LossLog::journal_path() const
{
    return (fs::path(m_dir) / kJournalFileName).string();
}

void LossLog::set_metadata(const LossLogMetadata& metadata)
{
    m_meta = metadata;
    m_meta_dirty = true;
}

void LossLog::set_position(int epoch, std::int64_t iteration)
{
    m_epoch = epoch;
    m_iteration = iteration;
}

void LossLog::ensure_folder() const
{
    if (m_dir.empty())
        throw std::runtime_error("LossLog: no experiment folder given, cannot write the loss log");
    std::error_code ec;
    fs::create_directories(m_dir, ec);
    if (ec)
        throw std::runtime_error("Cannot create experiment folder " + m_dir + ": " + ec.message());
}

void LossLog::ensure_journal_open()
{
    if (m_fd >= 0)
        return;
    ensure_folder();
    const auto path = journal_path();
    const bool existed = fs::exists(path);
    m_fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (m_fd < 0)
        throw std::runtime_error("Cannot open " + path + ": " + std::strerror(errno));
    if (!existed)
        sync_folder(m_dir); // the new journal's folder entry
    // A previous process killed mid-append may have left a torn last line: terminate it so
    // the next record starts on its own line (the reader skips the torn one).
    const off_t size = ::lseek(m_fd, 0, SEEK_END);
    if (size > 0) {
        char last = '\n';
        if (::pread(m_fd, &last, 1, size - 1) == 1 && last != '\n')
            write_all(m_fd, "\n", path);
    }
}

void LossLog::append(const std::vector<Entry>& entries)
{
    ojson losses = ojson::object();
    for (const auto& e : entries) {
        if (e.raw.size() != e.weights.size())
            throw std::invalid_argument("LossLog::append: loss " + e.name + " has " + std::to_string(e.raw.size())
                + " raw values but " + std::to_string(e.weights.size()) + " weights");
        if (!e.weighted.empty() && e.weighted.size() != e.raw.size())
            throw std::invalid_argument("LossLog::append: loss " + e.name + " has mismatched weighted values");
        if (!e.wall_time.empty() && e.wall_time.size() != e.raw.size())
            throw std::invalid_argument("LossLog::append: loss " + e.name + " has " + std::to_string(e.raw.size())
                + " values but " + std::to_string(e.wall_time.size()) + " wall times");
        if (e.raw.empty())
            continue;
        std::vector<float> weighted = e.weighted;
        if (weighted.empty()) {
            weighted.reserve(e.raw.size());
            for (size_t i = 0; i < e.raw.size(); ++i)
                weighted.push_back(e.raw[i] * e.weights[i]);
        }
        losses[e.name] = ojson { { "loss", encode_array(weighted) }, { "weights", encode_array(e.weights) },
            { "raw_loss", encode_array(e.raw) } };
        if (!e.wall_time.empty())
            losses[e.name]["wall_time"] = encode_times(e.wall_time);
    }
    if (losses.empty() && !m_meta_dirty)
        return;
    ensure_journal_open();
    std::string text;
    if (m_meta_dirty) {
        ojson h { { "header", metadata_json(m_meta) } };
        text += h.dump() + "\n";
    }
    const bool has_dump = !losses.empty();
    if (has_dump) {
        ojson dump { { "dump", m_dump_count } };
        if (m_epoch >= 0) {
            dump["epoch"] = m_epoch;
            dump["iteration"] = m_iteration;
        }
        dump["losses"] = std::move(losses);
        text += dump.dump() + "\n";
    }
    // One write per dump (O_APPEND), then fsync: a dump that returned is on disk.
    write_synced(text);
    m_meta_dirty = false;
    if (has_dump)
        ++m_dump_count;
    test_kill_point("after-journal-append");
}

void LossLog::write_synced(const std::string& text)
{
    // One write (O_APPEND), then fsync: a line that returned is on disk.
    write_all(m_fd, text, journal_path());
    if (::fsync(m_fd) != 0)
        throw std::runtime_error("Cannot fsync " + journal_path() + ": " + std::strerror(errno));
}

void LossLog::append_edit(const LossEdit& edit)
{
    if (!is_edit_field(edit.field))
        throw std::invalid_argument("LossLog::append_edit: field must be weight, tags or schedule, got " + edit.field);
    ensure_journal_open();
    const std::string text = ojson { { "edit", edit_json(edit) } }.dump() + "\n";
    write_synced(text);
}

void LossLog::export_base_log()
{
    LossLogData d;
    if (fs::exists(journal_path()))
        d = read_journal(journal_path());
    ensure_folder();
    // Readers see the old or the new file, never half; superseded values are left out.
    write_file_atomically(log_path(), log_json(d, m_meta).dump(), "loss log");
}

LossLogData LossLog::parse_log_text(std::string_view text, const std::string& source)
{
    if (text.size() > kMaxLogBytes)
        bad("loss log " + source + " has " + std::to_string(text.size()) + " bytes, more than the cap of "
            + std::to_string(kMaxLogBytes) + " bytes");
    return guarded_parse(source, [&] { return parse_base(text, source); });
}

LossLogData LossLog::parse_journal_text(std::string_view text, const std::string& source)
{
    if (text.size() > kMaxJournalBytes)
        bad("loss log journal " + source + " has " + std::to_string(text.size()) + " bytes, more than the cap of "
            + std::to_string(kMaxJournalBytes) + " bytes");
    return guarded_parse(source, [&] { return parse_journal(text, source); });
}

std::vector<std::string> LossLog::prepare_continue(
    const std::string& experiment_dir, int epoch, std::int64_t iteration, bool new_log)
{
    std::vector<std::string> notes;
    const fs::path dir(experiment_dir);
    const fs::path journal = dir / kJournalFileName;
    const fs::path base = dir / kLogFileName;
    std::error_code ec;
    const bool has_journal = fs::exists(fs::symlink_status(journal, ec));
    const bool has_base = fs::exists(fs::symlink_status(base, ec));
    if (new_log) {
        if (!has_journal && !has_base)
            return notes;
        const int k = first_free(dir, { { "loss_log.old", ".json" }, { "loss_log.journal.old", ".jsonl" } });
        for (const auto& [from, stem, ext] : { std::tuple { journal, "loss_log.journal.old", ".jsonl" },
                 std::tuple { base, "loss_log.old", ".json" } }) {
            if (!fs::exists(fs::symlink_status(from, ec)))
                continue;
            const fs::path to = dir / (std::string(stem) + std::to_string(k) + ext);
            move_file(from, to);
            notes.push_back("--new-log: moved " + from.string() + " to " + to.string() + "; the loss log starts anew");
        }
        sync_folder(experiment_dir);
        return notes;
    }
    LossLogData data;
    if (has_journal) {
        try {
            data = read_journal(journal.string());
        } catch (const LossLogError& e) {
            bad(std::string("cannot continue the loss log: ") + e.what() + kWayOut);
        }
        std::optional<LossLogData> b;
        if (has_base) {
            try {
                b = read_base(base.string());
            } catch (const LossLogError& e) {
                // The journal holds every value: keep the damaged copy, loss_log.json is re-exported.
                const int k = first_free(dir, { { "loss_log.unreadable", ".json" } });
                const fs::path to = dir / ("loss_log.unreadable" + std::to_string(k) + ".json");
                move_file(base, to);
                notes.push_back(std::string(e.what()) + ": moved it to " + to.string()
                    + "; loss_log.json is rewritten from the journal");
            }
        }
        for (const auto& name : b ? b->order : std::vector<std::string> {}) {
            size_t recorded = data.losses.count(name) ? data.losses.at(name).weighted.size() : 0;
            for (const auto& seg : data.superseded)
                if (seg.losses.count(name))
                    recorded += seg.losses.at(name).weighted.size();
            const size_t in_base = b->losses.at(name).weighted.size();
            if (in_base > recorded)
                bad("cannot continue the loss log: " + base.string() + " holds " + std::to_string(in_base)
                    + " values of " + name + ", the journal " + journal.string() + " only " + std::to_string(recorded)
                    + ": the journal is not the complete record and rewriting loss_log.json from it would lose "
                      "values (remove the journal to rebuild it from loss_log.json)"
                    + kWayOut);
        }
    } else if (has_base) {
        try {
            data = read_base(base.string());
        } catch (const LossLogError& e) {
            bad(std::string("cannot continue the loss log: the journal ") + journal.string()
                + " is missing and loss_log.json cannot be read: " + e.what() + kWayOut);
        }
        // Rebuild the journal from loss_log.json: its values count as logged before this checkpoint.
        ojson losses = ojson::object();
        for (const auto& name : data.order) {
            const auto& s = data.losses.at(name);
            ojson e { { "loss", encode_array(s.weighted) }, { "weights", encode_array(s.weights) } };
            if (!s.raw_derived)
                e["raw_loss"] = encode_array(s.raw);
            losses[name] = std::move(e);
        }
        const ojson header { { "header", metadata_json(metadata_of(data)) } };
        const ojson dump { { "dump", 0 }, { "rebuilt_from", kLogFileName }, { "losses", losses } };
        write_file_atomically(journal.string(), header.dump() + "\n" + dump.dump() + "\n", "loss log journal");
        notes.push_back("the journal " + journal.string() + " was missing: rebuilt it from " + base.string());
        // loss_log.json has no epochs: all its values are kept. More values than the checkpoint's iterations
        // (a loss is computed at most once per step and network) means some were logged after it.
        for (const auto& name : data.order)
            if (iteration >= 0 && std::int64_t(data.losses.at(name).weighted.size()) > 2 * iteration) {
                notes.push_back(base.string() + " holds " + std::to_string(data.losses.at(name).weighted.size())
                    + " values of " + name + ", more than the checkpoint of epoch " + std::to_string(epoch)
                    + " can have (" + std::to_string(iteration)
                    + " iterations): it has no epochs to tell which came later, so all are kept; --new-log starts "
                      "a new log instead");
                break;
            }
    } else {
        notes.push_back(
            "no loss log in " + experiment_dir + ": the loss log starts at epoch " + std::to_string(epoch + 1));
        return notes;
    }
    for (const auto& w : data.warnings)
        notes.push_back(w);
    const size_t superseded_before = data.superseded.size();
    append_journal_line(journal.string(),
        ojson { { "resume",
                    iteration >= 0 ? ojson { { "epoch", epoch }, { "iteration", iteration } }
                                   : ojson { { "epoch", epoch } } } }
            .dump());
    LossLogData now = read_journal(journal.string());
    if (now.superseded.size() > superseded_before) {
        const auto& seg = now.superseded.back();
        size_t n = 0;
        for (const auto& [name, s] : seg.losses)
            n = std::max(n, s.weighted.size());
        notes.push_back("the loss log holds values of epochs " + std::to_string(seg.first_epoch) + ".."
            + std::to_string(seg.last_epoch) + " (up to " + std::to_string(n)
            + " per loss) logged after the checkpoint of epoch " + std::to_string(epoch)
            + ": they stay in the journal as a superseded segment and are left out of loss_log.json");
    }
    if (iteration >= 0 && now.last_iteration >= 0 && now.last_iteration != iteration)
        notes.push_back("the loss log's kept values end at iteration " + std::to_string(now.last_iteration)
            + " but the checkpoint of epoch " + std::to_string(epoch) + " at iteration " + std::to_string(iteration));
    write_file_atomically(base.string(), log_json(now, metadata_of(now)).dump(), "loss log");
    return notes;
}

LossLogData LossLog::read(const std::string& path)
{
    if (fs::is_directory(path)) {
        const auto journal = fs::path(path) / kJournalFileName;
        const auto base = fs::path(path) / kLogFileName;
        if (fs::exists(journal))
            return read_journal(journal.string());
        if (fs::exists(base))
            return read_base(base.string());
        bad("No loss log in " + path + " (looked for " + std::string(kJournalFileName) + " and " + kLogFileName + ")");
    }
    if (!fs::exists(path))
        bad("Loss log " + path + " does not exist");
    if (fs::path(path).extension() == ".jsonl")
        return read_journal(path);
    return read_base(path);
}

} // namespace nectar
