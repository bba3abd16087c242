// SPDX-License-Identifier: Apache-2.0
// Loss log: append-only journal (crash-safe, cost ~ new values) + NectarGAN-layout loss_log.json
// written atomically; reader for both and for NectarGAN's own logs.
#include "losses/loss_log.h"
#include "util/atomic_file.h"

#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <stdexcept>

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

float decode(const ojson& j, const std::string& where)
{
    if (j.is_null())
        return std::numeric_limits<float>::quiet_NaN();
    if (j.is_number())
        return float(j.get<double>());
    if (j.is_string()) {
        const auto s = j.get<std::string>();
        if (s == "Infinity" || s == "inf")
            return std::numeric_limits<float>::infinity();
        if (s == "-Infinity" || s == "-inf")
            return -std::numeric_limits<float>::infinity();
        if (s == "NaN" || s == "nan")
            return std::numeric_limits<float>::quiet_NaN();
    }
    throw std::runtime_error(where + ": expected a number, null, \"Infinity\" or \"-Infinity\", got " + j.dump());
}

void decode_array(const ojson& j, std::vector<float>& out, const std::string& where)
{
    if (!j.is_array())
        throw std::runtime_error(where + ": expected an array, got " + j.dump().substr(0, 80));
    out.reserve(out.size() + j.size());
    for (size_t i = 0; i < j.size(); ++i)
        out.push_back(decode(j[i], where + "/" + std::to_string(i)));
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

void read_metadata(const ojson& h, LossLogData& d, const std::string& where)
{
    auto str = [&](const char* k, std::string& out) {
        if (h.contains(k)) {
            if (!h[k].is_string())
                throw std::runtime_error(where + "/" + k + ": expected a string");
            out = h[k].get<std::string>();
        }
    };
    str("device", d.device);
    str("dataroot", d.dataroot);
    str("experiment", d.experiment);
    if (h.contains("dataset_length")) {
        if (!h["dataset_length"].is_number_integer())
            throw std::runtime_error(where + "/dataset_length: expected an integer");
        d.dataset_length = h["dataset_length"].get<std::int64_t>();
    }
}

// Adds one {"loss": [...], "weights": [...], "raw_loss": [...]} object to a series.
void add_values(LossLogData& d, const std::string& name, const ojson& e, const std::string& where)
{
    if (!e.is_object())
        throw std::runtime_error(where + ": expected an object with \"loss\" and \"weights\"");
    if (!d.losses.count(name))
        d.order.push_back(name);
    auto& s = d.losses[name];
    const size_t before = s.weighted.size();
    if (e.contains("loss"))
        decode_array(e["loss"], s.weighted, where + "/loss");
    if (e.contains("weights"))
        decode_array(e["weights"], s.weights, where + "/weights");
    if (e.contains("raw_loss")) {
        decode_array(e["raw_loss"], s.raw, where + "/raw_loss");
    } else {
        // NectarGAN logs only weighted values: raw = weighted / weight.
        s.raw_derived = true;
        for (size_t i = before; i < s.weighted.size(); ++i) {
            const float w = i < s.weights.size() ? s.weights[i] : 1.0f;
            s.raw.push_back(w != 0.0f ? s.weighted[i] / w : std::numeric_limits<float>::quiet_NaN());
        }
    }
}

LossLogData read_base(const std::string& file)
{
    std::ifstream in(file);
    if (!in)
        throw std::runtime_error("Cannot open loss log " + file);
    ojson j;
    try {
        j = ojson::parse(in);
    } catch (const std::exception& e) {
        throw std::runtime_error("Loss log " + file + " is not valid JSON: " + e.what());
    }
    LossLogData d;
    d.source = file;
    if (!j.is_object() || !j.contains("LOSSMANAGER_LOG") || !j["LOSSMANAGER_LOG"].is_object())
        throw std::runtime_error(file + ": missing object /LOSSMANAGER_LOG (not a NectarGAN loss log)");
    const auto& root = j["LOSSMANAGER_LOG"];
    read_metadata(root, d, file + ": /LOSSMANAGER_LOG");
    if (root.contains("loss_functions")) {
        const auto& lf = root["loss_functions"];
        if (!lf.is_object())
            throw std::runtime_error(file + ": /LOSSMANAGER_LOG/loss_functions: expected an object");
        for (const auto& [name, e] : lf.items())
            add_values(d, name, e, file + ": /LOSSMANAGER_LOG/loss_functions/" + name);
    }
    return d;
}

LossLogData read_journal(const std::string& file)
{
    std::ifstream in(file);
    if (!in)
        throw std::runtime_error("Cannot open loss log journal " + file);
    LossLogData d;
    d.source = file;
    std::string line;
    int lineno = 0;
    while (std::getline(in, line)) {
        ++lineno;
        if (line.empty())
            continue;
        ojson j;
        try {
            j = ojson::parse(line);
        } catch (const std::exception&) {
            // Only a kill mid-append can produce this (a torn line); its values were never
            // reported as dumped.
            d.warnings.push_back(file + ": skipped torn journal line " + std::to_string(lineno));
            continue;
        }
        const std::string where = file + ": line " + std::to_string(lineno);
        if (j.contains("header"))
            read_metadata(j["header"], d, where + " /header");
        if (j.contains("losses")) {
            if (!j["losses"].is_object())
                throw std::runtime_error(where + " /losses: expected an object");
            for (const auto& [name, e] : j["losses"].items())
                add_values(d, name, e, where + " /losses/" + name);
        }
    }
    return d;
}

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
    m_fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (m_fd < 0)
        throw std::runtime_error("Cannot open " + path + ": " + std::strerror(errno));
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
    }
    if (losses.empty() && !m_meta_dirty)
        return;
    ensure_journal_open();
    std::string text;
    if (m_meta_dirty) {
        ojson h { { "header",
            ojson { { "device", m_meta.device }, { "dataroot", m_meta.dataroot },
                { "dataset_length", m_meta.dataset_length }, { "experiment", m_meta.experiment } } } };
        text += h.dump() + "\n";
    }
    if (!losses.empty())
        text += ojson { { "dump", m_dump_count }, { "losses", losses } }.dump() + "\n";
    // One write per dump (O_APPEND), then fsync: a dump that returned is on disk.
    write_all(m_fd, text, journal_path());
    if (::fsync(m_fd) != 0)
        throw std::runtime_error("Cannot fsync " + journal_path() + ": " + std::strerror(errno));
    m_meta_dirty = false;
    if (!losses.empty())
        ++m_dump_count;
}

void LossLog::export_base_log()
{
    LossLogData d;
    if (fs::exists(journal_path()))
        d = read_journal(journal_path());
    ojson functions = ojson::object();
    for (const auto& name : d.order) {
        const auto& s = d.losses.at(name);
        functions[name] = ojson { { "loss", encode_array(s.weighted) }, { "weights", encode_array(s.weights) },
            { "raw_loss", encode_array(s.raw) } };
    }
    const ojson j { { "LOSSMANAGER_LOG",
        ojson { { "device", m_meta.device }, { "dataroot", m_meta.dataroot },
            { "dataset_length", m_meta.dataset_length }, { "experiment", m_meta.experiment },
            { "loss_functions", functions } } } };
    ensure_folder();
    write_file_atomically(log_path(), j.dump(), "loss log"); // readers see the old or the new file, never half
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
        throw std::runtime_error(
            "No loss log in " + path + " (looked for " + std::string(kJournalFileName) + " and " + kLogFileName + ")");
    }
    if (!fs::exists(path))
        throw std::runtime_error("Loss log " + path + " does not exist");
    if (fs::path(path).extension() == ".jsonl")
        return read_journal(path);
    return read_base(path);
}

} // namespace nectar
