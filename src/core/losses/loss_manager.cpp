// SPDX-License-Identifier: Apache-2.0
// LossManager after NectarGAN `nectargan/losses/loss_manager.py`, without its per-call
// `.item()` sync: batch means stay on the device until one batched copy (sync_history).
#include "losses/loss_manager.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <limits>
#include <sstream>
#include <stdexcept>
#include <unordered_map>
#include <utility>

#include <torch/torch.h>

#include "losses/loss_log.h"
#include "util/paths.h"
#include "util/strings.h"

namespace nectar {
namespace {

// Wall time of a value (recorded on the host at the call, no device sync).
double unix_seconds()
{
    return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// Python's round(v, precision) (correctly rounded via the exact decimal expansion).
double py_round(double v, int precision)
{
    if (precision < 0 || !std::isfinite(v))
        return v;
    char buf[512];
    std::snprintf(buf, sizeof buf, "%.*f", precision, v);
    return std::strtod(buf, nullptr);
}

// Python's repr(float): shortest round-trip digits, fixed notation for 1e-4 <= |v| < 1e16.
std::string py_repr(double v)
{
    if (std::isnan(v))
        return "nan";
    if (std::isinf(v))
        return v > 0 ? "inf" : "-inf";
    if (v == 0.0)
        return std::signbit(v) ? "-0.0" : "0.0";
    char buf[64];
    int prec = 1;
    for (; prec <= 17; ++prec) {
        std::snprintf(buf, sizeof buf, "%.*e", prec - 1, v);
        if (std::strtod(buf, nullptr) == v)
            break;
    }
    // buf = "[-]d.ddde[+-]XX"
    std::string s(buf);
    const auto epos = s.find('e');
    const int exp10 = std::atoi(s.c_str() + epos + 1);
    std::string mant = s.substr(0, epos);
    const bool neg = mant[0] == '-';
    if (neg)
        mant.erase(0, 1);
    std::string digits;
    for (char c : mant)
        if (c != '.')
            digits += c;
    while (digits.size() > 1 && digits.back() == '0')
        digits.pop_back();
    std::string out;
    if (exp10 >= -5 + 1 && exp10 < 16) { // Python: 'r' uses fixed when -4 <= exp < 16
        if (exp10 >= 0) {
            if (int(digits.size()) <= exp10 + 1) {
                out = digits + std::string(size_t(exp10 + 1 - int(digits.size())), '0') + ".0";
            } else {
                out = digits.substr(0, size_t(exp10 + 1)) + "." + digits.substr(size_t(exp10 + 1));
            }
        } else {
            out = "0." + std::string(size_t(-exp10 - 1), '0') + digits;
        }
    } else {
        out = digits.substr(0, 1);
        if (digits.size() > 1)
            out += "." + digits.substr(1);
        char e[16];
        std::snprintf(e, sizeof e, "e%c%02d", exp10 < 0 ? '-' : '+', std::abs(exp10));
        out += e;
    }
    return neg ? "-" + out : out;
}

bool matches(const LMLoss& l, const std::vector<std::string>& query)
{
    if (query.empty())
        return true;
    for (const auto& t : query)
        if (l.has_tag(t))
            return true;
    return false;
}

std::int64_t count_entries(const std::string& dir)
{
    std::error_code ec;
    if (dir.empty() || !std::filesystem::is_directory(dir, ec))
        return 0;
    std::int64_t n = 0;
    for (auto it = std::filesystem::directory_iterator(dir, ec); !ec && it != std::filesystem::directory_iterator();
         it.increment(ec))
        ++n;
    return n;
}

} // namespace

struct LossManager::Impl {
    struct State {
        LMLoss loss;
        // Per call since the last sync, on the loss's device (0-d, detached).
        std::vector<torch::Tensor> pending_raw, pending_weighted;
        std::vector<float> pending_weights;
        std::vector<double> pending_times;
        // Values synced but not yet written to the log.
        std::vector<float> unlogged_weighted;
        // Values synced but not yet taken by take_unreported() (only while reporting is on).
        LMHistory unreported;
        float last_raw = std::numeric_limits<float>::quiet_NaN();
        float last_weighted = std::numeric_limits<float>::quiet_NaN();
        float last_weight = std::numeric_limits<float>::quiet_NaN();
    };

    mutable std::mutex mutex;
    std::vector<std::unique_ptr<State>> order; // registration order (NectarGAN dict order)
    std::unordered_map<std::string, State*> by_name;
    bool enable_logging = true;
    size_t buffer_size = 50000;
    int sync_interval = 64;
    bool reporting = false;
    int calls_since_sync = 0;
    std::function<void(torch::Tensor&)> reducer; // data-parallel: averages the stacked values across ranks
    std::unique_ptr<LossLog> log;

    State& find(const std::string& name)
    {
        const auto it = by_name.find(name);
        if (it == by_name.end()) {
            const std::string valid = join_mapped(order, [](const auto& s) { return s->loss.name; });
            throw std::invalid_argument(
                "Unknown loss \"" + name + "\"; registered losses: " + (valid.empty() ? "(none)" : valid));
        }
        return *it->second;
    }

    void sync_locked()
    {
        std::vector<torch::Tensor> all;
        for (const auto& s : order) {
            all.insert(all.end(), s->pending_raw.begin(), s->pending_raw.end());
            all.insert(all.end(), s->pending_weighted.begin(), s->pending_weighted.end());
        }
        calls_since_sync = 0;
        if (all.empty())
            return;
        torch::Tensor host;
        try {
            // One device->host copy for every pending value of every loss.
            host = torch::stack(all).to(torch::kFloat32);
        } catch (const c10::Error&) {
            // Mixed devices/dtypes (rare): copy one by one.
            std::vector<torch::Tensor> cpu;
            for (const auto& t : all)
                cpu.push_back(t.to(torch::kCPU, torch::kFloat32));
            host = torch::stack(cpu);
        }
        if (reducer)
            reducer(host);
        host = host.to(torch::kCPU).contiguous();
        const float* p = host.data_ptr<float>();
        for (const auto& s : order) {
            const size_t n = s->pending_raw.size();
            if (n == 0)
                continue;
            const float* raw = p;
            const float* weighted = p + n;
            p += 2 * n;
            auto& h = s->loss.history;
            h.losses.insert(h.losses.end(), raw, raw + n);
            h.weights.insert(h.weights.end(), s->pending_weights.begin(), s->pending_weights.end());
            h.times.insert(h.times.end(), s->pending_times.begin(), s->pending_times.end());
            s->unlogged_weighted.insert(s->unlogged_weighted.end(), weighted, weighted + n);
            if (reporting) {
                s->unreported.losses.insert(s->unreported.losses.end(), raw, raw + n);
                s->unreported.weights.insert(
                    s->unreported.weights.end(), s->pending_weights.begin(), s->pending_weights.end());
                s->unreported.times.insert(s->unreported.times.end(), s->pending_times.begin(), s->pending_times.end());
            }
            s->last_raw = raw[n - 1];
            s->last_weighted = weighted[n - 1];
            s->last_weight = s->pending_weights.back();
            s->pending_raw.clear();
            s->pending_weighted.clear();
            s->pending_weights.clear();
            s->pending_times.clear();
        }
        enforce_buffer_locked();
    }

    // history_buffer_size: with logging, a full history is dumped to the journal and cleared
    // (NectarGAN's behaviour); without logging, the oldest half is dropped.
    void enforce_buffer_locked()
    {
        bool full = false;
        for (const auto& s : order)
            full = full || s->loss.history.losses.size() >= buffer_size;
        if (!full)
            return;
        if (enable_logging) {
            dump_locked();
        } else {
            for (const auto& s : order) {
                auto& h = s->loss.history;
                if (h.losses.size() < buffer_size)
                    continue;
                const size_t drop = h.losses.size() - buffer_size / 2;
                h.losses.erase(h.losses.begin(), h.losses.begin() + std::ptrdiff_t(drop));
                h.weights.erase(h.weights.begin(), h.weights.begin() + std::ptrdiff_t(drop));
                h.times.erase(h.times.begin(), h.times.begin() + std::ptrdiff_t(std::min(drop, h.times.size())));
                s->unlogged_weighted.clear();
            }
        }
    }

    void dump_locked()
    {
        std::vector<LossLog::Entry> entries;
        for (const auto& s : order) {
            auto& h = s->loss.history;
            LossLog::Entry e;
            e.name = s->loss.name;
            e.raw = std::move(h.losses);
            e.weights = std::move(h.weights);
            e.weighted = std::move(s->unlogged_weighted);
            e.wall_time = std::move(h.times);
            entries.push_back(std::move(e));
            h.losses.clear();
            h.weights.clear();
            h.times.clear();
            s->unlogged_weighted.clear();
        }
        try {
            log->append(entries);
        } catch (...) {
            // Keep the values in memory so a later dump can retry.
            for (size_t i = 0; i < order.size(); ++i) {
                auto& h = order[i]->loss.history;
                h.losses = std::move(entries[i].raw);
                h.weights = std::move(entries[i].weights);
                h.times = std::move(entries[i].wall_time);
                order[i]->unlogged_weighted = std::move(entries[i].weighted);
            }
            throw;
        }
    }
};

LossManager::LossManager(Config config, std::string experiment_dir, bool enable_logging, int history_buffer_size)
    : m_config(std::move(config))
    , m_experiment_dir(std::move(experiment_dir))
    , m_impl(std::make_unique<Impl>())
{
    if (history_buffer_size < 1)
        throw std::invalid_argument(
            "LossManager: history_buffer_size must be >= 1, got " + std::to_string(history_buffer_size));
    m_impl->enable_logging = enable_logging;
    m_impl->buffer_size = size_t(history_buffer_size);
    m_impl->log = std::make_unique<LossLog>(m_experiment_dir);
    LossLogMetadata meta;
    meta.device = m_config.common.device;
    // The log is UTF-8 JSON: names that are not UTF-8 are recorded as display_path (\xNN).
    meta.dataroot = display_path(m_config.dataloader.dataroot);
    // NectarGAN: number of entries in dataroot/train.
    meta.dataset_length = count_entries((std::filesystem::path(m_config.dataloader.dataroot) / "train").string());
    meta.experiment = display_path(std::filesystem::path(m_experiment_dir).filename().string());
    m_impl->log->set_metadata(meta);
}

LossManager::~LossManager() = default;

void LossManager::register_loss_fn(const std::string& name, LossFn fn, double loss_weight, Schedule schedule,
    std::vector<std::string> tags, LossInputs inputs, std::string function_name)
{
    LMLoss l;
    l.name = name;
    l.function = std::move(fn);
    l.function_name = std::move(function_name);
    l.loss_weight = loss_weight;
    l.schedule = std::move(schedule); // a copy per loss: never shared (NectarGAN bug)
    l.tags = std::move(tags);
    l.inputs = inputs;
    register_loss(std::move(l));
}

void LossManager::register_loss(LMLoss loss)
{
    if (loss.name.empty())
        throw std::invalid_argument("LossManager: a loss needs a non-empty name");
    if (!loss.function)
        throw std::invalid_argument("LossManager: loss \"" + loss.name + "\" has no function");
    if (!is_valid_weight(loss.loss_weight)) {
        std::ostringstream os;
        os << "LossManager: loss \"" << loss.name << "\" has weight " << loss.loss_weight
           << "; expected a number in [0, 1e6]";
        throw std::invalid_argument(os.str());
    }
    try {
        loss.schedule.validate();
    } catch (const std::invalid_argument& e) {
        throw std::invalid_argument("LossManager: loss \"" + loss.name + "\": " + e.what());
    }
    if (loss.schedule.active())
        loss.schedule.current_value = loss.schedule.initial_value;
    loss.history = {};
    loss.last_loss_map = torch::Tensor();
    std::lock_guard<std::mutex> lock(m_impl->mutex);
    if (m_impl->by_name.count(loss.name))
        throw std::invalid_argument("LossManager: loss name already in use: " + loss.name);
    auto st = std::make_unique<Impl::State>();
    st->loss = std::move(loss);
    m_impl->by_name[st->loss.name] = st.get();
    m_impl->order.push_back(std::move(st));
}

torch::Tensor LossManager::compute_loss_xy(
    const std::string& name, const torch::Tensor& x, const torch::Tensor& y, int epoch)
{
    Impl& d = *m_impl;
    Impl::State* st;
    double weight;
    {
        std::lock_guard<std::mutex> lock(d.mutex);
        st = &d.find(name);
        weight = st->loss.schedule.active() ? st->loss.schedule.step(epoch) : st->loss.loss_weight;
    }
    // The function runs outside the lock: a GUI thread editing weights never waits for it.
    // States are never removed, so `st` stays valid.
    const torch::Tensor raw = st->loss.function(x, y);
    torch::Tensor weighted = raw * weight;
    torch::Tensor detached = weighted.detach(); // alias, no copy
    torch::Tensor raw_mean = raw.dim() == 0 ? raw.detach() : raw.detach().mean();
    torch::Tensor weighted_mean = weighted.dim() == 0 ? detached : detached.mean();
    {
        std::lock_guard<std::mutex> lock(d.mutex);
        st->loss.last_loss_map = detached;
        st->pending_raw.push_back(std::move(raw_mean));
        st->pending_weighted.push_back(std::move(weighted_mean));
        st->pending_weights.push_back(float(weight));
        st->pending_times.push_back(unix_seconds());
        if (++d.calls_since_sync >= d.sync_interval
            || st->loss.history.losses.size() + st->pending_raw.size() >= d.buffer_size)
            d.sync_locked();
    }
    return weighted;
}

std::map<std::string, LMLoss> LossManager::get_registered_losses(const std::vector<std::string>& query_tags, bool strip)
{
    std::lock_guard<std::mutex> lock(m_impl->mutex);
    if (!strip)
        m_impl->sync_locked();
    std::map<std::string, LMLoss> out;
    for (const auto& s : m_impl->order) {
        if (!matches(s->loss, query_tags))
            continue;
        if (strip) {
            LMLoss l;
            l.name = s->loss.name;
            l.function = s->loss.function;
            l.function_name = s->loss.function_name;
            l.module = s->loss.module;
            l.loss_weight = s->loss.loss_weight;
            l.schedule = s->loss.schedule;
            l.tags = s->loss.tags;
            l.inputs = s->loss.inputs;
            out.emplace(l.name, std::move(l));
        } else {
            out.emplace(s->loss.name, s->loss);
        }
    }
    return out;
}

std::map<std::string, double> LossManager::get_loss_values(const std::vector<std::string>& query_tags, int precision)
{
    std::lock_guard<std::mutex> lock(m_impl->mutex);
    m_impl->sync_locked();
    std::map<std::string, double> out;
    for (const auto& s : m_impl->order)
        if (matches(s->loss, query_tags))
            out[s->loss.name] = py_round(s->last_weighted, precision);
    return out;
}

std::map<std::string, double> LossManager::get_raw_loss_values(const std::vector<std::string>& query_tags)
{
    std::lock_guard<std::mutex> lock(m_impl->mutex);
    m_impl->sync_locked();
    std::map<std::string, double> out;
    for (const auto& s : m_impl->order)
        if (matches(s->loss, query_tags))
            out[s->loss.name] = s->last_raw;
    return out;
}

void LossManager::set_reporting(bool on)
{
    std::lock_guard<std::mutex> lock(m_impl->mutex);
    m_impl->reporting = on;
    if (!on)
        for (const auto& s : m_impl->order)
            s->unreported = {};
}

std::map<std::string, LMHistory> LossManager::take_unreported()
{
    std::lock_guard<std::mutex> lock(m_impl->mutex);
    m_impl->sync_locked();
    std::map<std::string, LMHistory> out;
    for (const auto& s : m_impl->order)
        if (!s->unreported.losses.empty())
            out[s->loss.name] = std::exchange(s->unreported, LMHistory {});
    return out;
}

std::map<std::string, torch::Tensor> LossManager::get_loss_tensors(const std::vector<std::string>& query_tags)
{
    std::lock_guard<std::mutex> lock(m_impl->mutex);
    std::map<std::string, torch::Tensor> out;
    for (const auto& s : m_impl->order)
        if (matches(s->loss, query_tags))
            out[s->loss.name] = s->loss.last_loss_map;
    return out;
}

namespace {
double current_weight(const LMLoss& l)
{
    // NectarGAN: schedule.current_value, i.e. the weight applied at the last call.
    return l.schedule.active() ? l.schedule.current_value : l.loss_weight;
}
} // namespace

std::map<std::string, double> LossManager::get_loss_weights(const std::vector<std::string>& query_tags, int precision)
{
    std::lock_guard<std::mutex> lock(m_impl->mutex);
    std::map<std::string, double> out;
    for (const auto& s : m_impl->order)
        if (matches(s->loss, query_tags))
            out[s->loss.name] = py_round(current_weight(s->loss), precision);
    return out;
}

std::string LossManager::print_losses(int epoch, int iter, int precision)
{
    std::lock_guard<std::mutex> lock(m_impl->mutex);
    m_impl->sync_locked();
    std::string out = "(epoch: " + std::to_string(epoch) + ", iters: " + std::to_string(iter) + ") Loss:";
    for (const auto& s : m_impl->order)
        out += " " + s->loss.name + ": " + py_repr(py_round(s->last_weighted, precision));
    return out;
}

std::string LossManager::print_weights(int precision)
{
    std::lock_guard<std::mutex> lock(m_impl->mutex);
    std::string out = "Loss weights:";
    for (const auto& s : m_impl->order)
        out += " " + s->loss.name + ": " + py_repr(py_round(current_weight(s->loss), precision));
    return out;
}

void LossManager::update_loss_log()
{
    std::lock_guard<std::mutex> lock(m_impl->mutex);
    if (!m_impl->enable_logging)
        return; // NectarGAN warns and returns
    m_impl->sync_locked();
    m_impl->dump_locked();
}

void LossManager::export_base_log()
{
    std::lock_guard<std::mutex> lock(m_impl->mutex);
    if (!m_impl->enable_logging)
        return;
    m_impl->log->export_base_log();
}

void LossManager::set_loss_weight(const std::string& name, double weight)
{
    if (!is_valid_weight(weight)) {
        std::ostringstream os;
        os << "LossManager::set_loss_weight(" << name << "): weight " << weight << " is not a number in [0, 1e6]";
        throw std::invalid_argument(os.str());
    }
    std::lock_guard<std::mutex> lock(m_impl->mutex);
    auto& l = m_impl->find(name).loss;
    l.loss_weight = weight;
    // An explicit edit overrides a schedule: the new weight applies from the next call on.
    l.schedule = Schedule {};
}

void LossManager::set_tags(const std::string& name, std::vector<std::string> tags)
{
    std::lock_guard<std::mutex> lock(m_impl->mutex);
    m_impl->find(name).loss.tags = std::move(tags);
}

void LossManager::record_edit(LossEdit edit)
{
    if (!std::isfinite(edit.wall_time))
        edit.wall_time = unix_seconds();
    std::lock_guard<std::mutex> lock(m_impl->mutex);
    if (!m_impl->enable_logging)
        return;
    m_impl->log->append_edit(edit);
}

void LossManager::sync_history()
{
    std::lock_guard<std::mutex> lock(m_impl->mutex);
    m_impl->sync_locked();
}

void LossManager::set_sync_interval(int calls)
{
    if (calls < 1)
        throw std::invalid_argument(
            "LossManager::set_sync_interval: expected >= 1 calls, got " + std::to_string(calls));
    std::lock_guard<std::mutex> lock(m_impl->mutex);
    m_impl->sync_interval = calls;
}

std::vector<std::string> LossManager::names() const
{
    std::lock_guard<std::mutex> lock(m_impl->mutex);
    std::vector<std::string> out;
    for (const auto& s : m_impl->order)
        out.push_back(s->loss.name);
    return out;
}

LMHistory LossManager::history(const std::string& name)
{
    std::lock_guard<std::mutex> lock(m_impl->mutex);
    m_impl->sync_locked();
    return m_impl->find(name).loss.history;
}

void LossManager::set_log_position(int epoch, std::int64_t iteration)
{
    std::lock_guard<std::mutex> lock(m_impl->mutex);
    m_impl->log->set_position(epoch, iteration);
}

void LossManager::set_value_reducer(std::function<void(torch::Tensor&)> reduce)
{
    std::lock_guard<std::mutex> lock(m_impl->mutex);
    m_impl->reducer = std::move(reduce);
}

void LossManager::edit_log_metadata(const std::function<void(LossLogMetadata&)>& edit)
{
    std::lock_guard<std::mutex> lock(m_impl->mutex);
    LossLogMetadata meta = m_impl->log->metadata();
    edit(meta);
    m_impl->log->set_metadata(meta);
}

void LossManager::set_log_world(int world_size, const std::string& backend, const std::vector<std::string>& devices)
{
    edit_log_metadata([&](LossLogMetadata& m) {
        m.world_size = world_size;
        m.backend = backend;
        m.devices = devices;
    });
}

void LossManager::set_log_metadata(const std::string& device, const std::string& dataroot, std::int64_t dataset_length)
{
    edit_log_metadata([&](LossLogMetadata& m) {
        m.device = device;
        m.dataroot = dataroot;
        m.dataset_length = dataset_length;
    });
}

} // namespace nectar
