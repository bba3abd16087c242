// SPDX-License-Identifier: Apache-2.0
#include "charts/seriesstore.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace charts {

namespace {
constexpr float kInf = std::numeric_limits<float>::infinity();
constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

bool sameX(double a, double b)
{
    return std::abs(a - b) <= 1e-9 * std::max(1.0, std::abs(a));
}
} // namespace

SeriesStore::SeriesStore(double smoothing)
    : m_smoothing(std::clamp(smoothing, 0.0, 0.999))
{
}

SeriesStore::~SeriesStore() = default;
SeriesStore::SeriesStore(SeriesStore&&) noexcept = default;
SeriesStore& SeriesStore::operator=(SeriesStore&&) noexcept = default;

void SeriesStore::clear()
{
    const double w = m_smoothing;
    *this = SeriesStore(w);
}

void SeriesStore::addToPyramid(Pyramid& p, std::int64_t i, float v)
{
    const bool finite = std::isfinite(v);
    for (std::size_t level = 0;; ++level) {
        const auto bits = static_cast<int>((level + 1) * kFanoutBits);
        if (level == p.size()) {
            // Level k (buckets of 16^k samples) starts once level k-1 has a second bucket; its first bucket
            // then aggregates level k-1's first one (or, for level 1, nothing yet).
            if (level > 0 && i < (std::int64_t(1) << (bits - kFanoutBits)))
                return;
            p.emplace_back();
            if (level > 0)
                p.back().push_back(p[level - 1].front());
        }
        auto& buckets = p[level];
        const auto j = static_cast<std::size_t>(i >> bits);
        if (j == buckets.size())
            buckets.push_back({ kInf, -kInf });
        if (finite) {
            buckets[j].min = std::min(buckets[j].min, v);
            buckets[j].max = std::max(buckets[j].max, v);
        }
    }
}

void SeriesStore::pushSmoothed(std::int64_t i, float v)
{
    if (i % kEmaStride == 0)
        m_checkpoints.push_back({ static_cast<float>(m_ema), static_cast<std::uint32_t>(m_finite) });
    float s = kNaN;
    if (std::isfinite(v)) {
        const double w = m_smoothing;
        m_ema = m_ema * w + (1.0 - w) * v;
        ++m_finite;
        m_weightPower *= w; // w^finite without a pow() per sample
        const double debias = 1.0 - m_weightPower;
        s = static_cast<float>(debias > 0.0 ? m_ema / debias : v);
    }
    addToPyramid(m_smooth, i, s);
}

void SeriesStore::append(double x, double y)
{
    const std::int64_t i = m_size;
    if ((i >> kBlockBits) == static_cast<std::int64_t>(m_blocks.size()))
        m_blocks.push_back(std::make_unique<float[]>(std::size_t(1) << kBlockBits));
    const auto v = static_cast<float>(y);
    m_blocks.back()[static_cast<std::size_t>(i & ((1 << kBlockBits) - 1))] = v;
    ++m_size;

    if (!m_runs.empty()) {
        Run& r = m_runs.back();
        const double lastX = r.x0 + r.step * static_cast<double>(r.count - 1);
        x = std::max(x, lastX);
        if (r.count == 1) {
            r.step = x - r.x0;
            r.count = 2;
        } else if (sameX(x, r.x0 + r.step * static_cast<double>(r.count))) {
            // Refit the step to the newest x, so that long runs of fractional epochs do not drift.
            r.step = (x - r.x0) / static_cast<double>(r.count);
            ++r.count;
        } else {
            m_runs.push_back({ i, x, 0.0, 1 });
        }
    } else {
        m_runs.push_back({ i, x, 0.0, 1 });
    }
    if (!std::isfinite(v))
        m_nonFinite.push_back(i);
    addToPyramid(m_raw, i, v);
    pushSmoothed(i, v);
    const double add = std::isfinite(v) ? static_cast<double>(v) : 0.0;
    for (std::size_t k = 0;; ++k) {
        const auto bits = static_cast<int>((k + 2) * kFanoutBits);
        if (k == m_sums.size()) {
            if (i < (std::int64_t(1) << bits))
                break;
            m_sums.emplace_back(1, m_sumAll); // created at i == 16^(k+2): bucket 0 is everything before
        }
        auto& level = m_sums[k];
        const auto j = static_cast<std::size_t>(i >> bits);
        if (j == level.size())
            level.push_back(0.0);
        level[j] += add;
    }
    m_sumAll += add;
}

double SeriesStore::sum(std::int64_t begin, std::int64_t end) const
{
    begin = std::max<std::int64_t>(begin, 0);
    end = std::min(end, m_size);
    double s = 0.0;
    auto samples = [&](std::int64_t b, std::int64_t e) {
        for (std::int64_t j = b; j < e; ++j) {
            const float v = value(j);
            if (std::isfinite(v))
                s += v;
        }
    };
    constexpr std::int64_t base = std::int64_t(1) << (2 * kFanoutBits);
    if (m_sums.empty() || end - begin <= 2 * base) {
        samples(begin, end);
        return s;
    }
    const std::int64_t loUp = std::min(end, (begin + base - 1) / base * base);
    const std::int64_t hiDown = std::max(loUp, end / base * base);
    samples(begin, loUp);
    samples(hiDown, end);
    constexpr std::int64_t fan = std::int64_t(1) << kFanoutBits;
    std::int64_t lo = loUp / base, hi = hiDown / base;
    for (std::size_t k = 0; lo < hi; ++k) {
        auto scan = [&](std::int64_t b, std::int64_t e) {
            for (std::int64_t j = b; j < e; ++j)
                s += m_sums[k][static_cast<std::size_t>(j)];
        };
        if (k + 1 == m_sums.size() || hi - lo <= fan) {
            scan(lo, hi);
            break;
        }
        const std::int64_t up = std::min(hi, (lo + fan - 1) / fan * fan);
        scan(lo, up);
        lo = up;
        const std::int64_t down = std::max(lo, hi / fan * fan);
        scan(down, hi);
        hi = down;
        lo /= fan;
        hi /= fan;
    }
    return s;
}

double SeriesStore::mean(std::int64_t begin, std::int64_t end) const
{
    begin = std::max<std::int64_t>(begin, 0);
    end = std::min(end, m_size);
    const std::int64_t finite = (end - begin) - nonFiniteIn(begin, end);
    return finite > 0 ? sum(begin, end) / static_cast<double>(finite) : std::numeric_limits<double>::quiet_NaN();
}

double SeriesStore::x(std::int64_t i) const
{
    auto it = std::upper_bound(
        m_runs.begin(), m_runs.end(), i, [](std::int64_t v, const Run& r) { return v < r.firstIndex; });
    const Run& r = *(it - 1);
    return r.x0 + r.step * static_cast<double>(i - r.firstIndex);
}

float SeriesStore::value(std::int64_t i) const
{
    return m_blocks[static_cast<std::size_t>(i >> kBlockBits)][static_cast<std::size_t>(i & ((1 << kBlockBits) - 1))];
}

template <class Fn> void SeriesStore::forSmoothed(std::int64_t begin, std::int64_t end, Fn&& fn) const
{
    if (begin >= end)
        return;
    const std::int64_t c = begin / kEmaStride;
    const Checkpoint& cp = m_checkpoints[static_cast<std::size_t>(c)];
    double ema = cp.ema;
    const double w = m_smoothing;
    double weightPower = std::pow(w, static_cast<double>(cp.finite));
    for (std::int64_t j = c * kEmaStride; j < end; ++j) {
        const float v = value(j);
        float s = kNaN;
        if (std::isfinite(v)) {
            ema = ema * w + (1.0 - w) * v;
            weightPower *= w;
            const double debias = 1.0 - weightPower;
            s = static_cast<float>(debias > 0.0 ? ema / debias : v);
        }
        if (j >= begin)
            fn(j, s);
    }
}

float SeriesStore::smoothed(std::int64_t i) const
{
    float out = kNaN;
    forSmoothed(i, i + 1, [&out](std::int64_t, float s) { out = s; });
    return out;
}

std::int64_t SeriesStore::lowerBound(double xv) const
{
    // The first run whose last x is >= xv holds the answer (runs are sorted and do not overlap).
    auto it = std::lower_bound(m_runs.begin(), m_runs.end(), xv,
        [](const Run& r, double v) { return r.x0 + r.step * static_cast<double>(r.count - 1) < v; });
    if (it == m_runs.end())
        return m_size;
    if (xv <= it->x0 || it->step <= 0.0)
        return it->firstIndex;
    auto k = static_cast<std::int64_t>(std::ceil((xv - it->x0) / it->step));
    k = std::clamp<std::int64_t>(k, 0, it->count - 1);
    // Floating-point rounding: step back or forward to the exact first index with x >= xv.
    while (k > 0 && it->x0 + it->step * static_cast<double>(k - 1) >= xv)
        --k;
    while (k < it->count - 1 && it->x0 + it->step * static_cast<double>(k) < xv)
        ++k;
    return it->firstIndex + k;
}

std::int64_t SeriesStore::upperBound(double xv) const
{
    auto it = std::upper_bound(m_runs.begin(), m_runs.end(), xv, [](double v, const Run& r) { return v < r.x0; });
    // Every run before `it` starts at or before xv; the answer lies in the last of them or at `it`.
    if (it == m_runs.begin())
        return 0;
    const Run& r = *(it - 1);
    const double lastX = r.x0 + r.step * static_cast<double>(r.count - 1);
    if (xv >= lastX)
        return it == m_runs.end() ? m_size : it->firstIndex;
    auto k = static_cast<std::int64_t>(std::floor((xv - r.x0) / r.step)) + 1;
    k = std::clamp<std::int64_t>(k, 1, r.count);
    while (k > 1 && r.x0 + r.step * static_cast<double>(k - 1) > xv)
        --k;
    while (k < r.count && r.x0 + r.step * static_cast<double>(k) <= xv)
        ++k;
    return r.firstIndex + k;
}

bool SeriesStore::minMax(View view, std::int64_t begin, std::int64_t end, float* outMin, float* outMax) const
{
    begin = std::max<std::int64_t>(begin, 0);
    end = std::min(end, m_size);
    float mn = kInf, mx = -kInf;
    auto take = [&mn, &mx](float v) {
        if (std::isfinite(v)) {
            mn = std::min(mn, v);
            mx = std::max(mx, v);
        }
    };
    auto samples = [&](std::int64_t b, std::int64_t e) {
        if (view == View::Raw) {
            for (std::int64_t j = b; j < e; ++j)
                take(value(j));
        } else {
            forSmoothed(b, e, [&take](std::int64_t, float s) { take(s); });
        }
    };
    const Pyramid& p = view == View::Raw ? m_raw : m_smooth;
    constexpr std::int64_t fan = std::int64_t(1) << kFanoutBits;
    std::int64_t lo = begin, hi = end;
    for (std::size_t level = 0; lo < hi; ++level) {
        // At `level`, lo/hi count samples (0) or buckets of 16^level samples.
        auto scan = [&](std::int64_t b, std::int64_t e) {
            if (level == 0) {
                samples(b, e);
            } else {
                for (std::int64_t j = b; j < e; ++j) {
                    const MinMax& m = p[level - 1][static_cast<std::size_t>(j)];
                    mn = std::min(mn, m.min);
                    mx = std::max(mx, m.max);
                }
            }
        };
        if (level == p.size() || hi - lo <= fan) {
            scan(lo, hi);
            break;
        }
        const std::int64_t loUp = std::min(hi, (lo + fan - 1) / fan * fan);
        scan(lo, loUp);
        lo = loUp;
        const std::int64_t hiDown = std::max(lo, hi / fan * fan);
        scan(hiDown, hi);
        hi = hiDown;
        lo /= fan;
        hi /= fan;
    }
    if (mn > mx)
        return false;
    *outMin = mn;
    *outMax = mx;
    return true;
}

std::int64_t SeriesStore::nonFiniteIn(std::int64_t begin, std::int64_t end) const
{
    auto a = std::lower_bound(m_nonFinite.begin(), m_nonFinite.end(), begin);
    auto b = std::lower_bound(a, m_nonFinite.end(), end);
    return b - a;
}

Column SeriesStore::column(View view, std::int64_t begin, std::int64_t end) const
{
    Column c;
    c.begin = begin;
    c.count = end - begin;
    c.xFirst = x(begin);
    c.xLast = x(end - 1);
    c.first = at(view, begin);
    c.last = end - 1 == begin ? c.first : at(view, end - 1);
    if (!minMax(view, begin, end, &c.min, &c.max))
        c.min = c.max = kNaN;
    c.nonFinite = nonFiniteIn(begin, end);
    return c;
}

std::vector<Column> SeriesStore::decimate(View view, double x0, double x1, int columns) const
{
    std::vector<Column> out;
    if (m_size == 0 || columns < 1 || !(x1 >= x0))
        return out;
    const std::int64_t inBegin = lowerBound(x0);
    const std::int64_t inEnd = upperBound(x1);
    if (inBegin > 0)
        out.push_back(column(view, inBegin - 1, inBegin));
    if (inEnd - inBegin <= 2 * static_cast<std::int64_t>(columns)) {
        for (std::int64_t i = inBegin; i < inEnd; ++i)
            out.push_back(column(view, i, i + 1));
    } else {
        out.reserve(static_cast<std::size_t>(columns) + 2);
        std::int64_t b = inBegin;
        for (int c = 1; c <= columns && b < inEnd; ++c) {
            const std::int64_t e
                = c == columns ? inEnd : std::clamp(lowerBound(x0 + (x1 - x0) * c / columns), b, inEnd);
            if (e > b)
                out.push_back(column(view, b, e));
            b = e;
        }
    }
    if (inEnd < m_size && inEnd >= inBegin)
        out.push_back(column(view, inEnd, inEnd + 1));
    return out;
}

void SeriesStore::setSmoothing(double weight)
{
    const double w = std::clamp(weight, 0.0, 0.999);
    if (w == m_smoothing)
        return;
    m_smoothing = w;
    m_smooth.clear();
    m_checkpoints.clear();
    m_ema = 0.0;
    m_finite = 0;
    m_weightPower = 1.0;
    for (std::int64_t i = 0; i < m_size; ++i)
        pushSmoothed(i, value(i));
}

std::size_t SeriesStore::memoryBytes() const
{
    std::size_t bytes = sizeof(*this) + m_blocks.capacity() * sizeof(m_blocks[0])
        + m_blocks.size() * (std::size_t(1) << kBlockBits) * sizeof(float) + m_runs.capacity() * sizeof(Run)
        + m_nonFinite.capacity() * sizeof(std::int64_t) + m_checkpoints.capacity() * sizeof(Checkpoint);
    bytes += m_sums.capacity() * sizeof(std::vector<double>);
    for (const auto& level : m_sums)
        bytes += level.capacity() * sizeof(double);
    for (const Pyramid* p : { &m_raw, &m_smooth }) {
        bytes += p->capacity() * sizeof(std::vector<MinMax>);
        for (const auto& level : *p)
            bytes += level.capacity() * sizeof(MinMax);
    }
    return bytes;
}

} // namespace charts
