// SPDX-License-Identifier: Apache-2.0
#pragma once
/// @file Compact storage of one chart line and its min/max level-of-detail pyramid, so that drawing
/// costs O(plot width) whatever the number of samples, and no spike is ever dropped (M4 aggregation:
/// Jugel et al., "M4: A Visualization-Oriented Time Series Data Aggregation", VLDB 2014).
///
/// Plain C++ (no Qt), used by LossChart and by nectar-bench-charts.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

namespace charts {

/// The samples of consecutive indices [begin, end) of a series, as drawn in one pixel column.
struct Column {
    std::int64_t begin = 0; ///< first sample index
    std::int64_t count = 0; ///< number of samples (>= 1)
    double xFirst = 0.0; ///< x of the first and last sample
    double xLast = 0.0;
    float first = 0.0f; ///< value of the first / last sample (may be NaN)
    float last = 0.0f;
    float min = 0.0f; ///< min / max over the finite samples; NaN when there is none
    float max = 0.0f;
    std::int64_t nonFinite = 0; ///< samples that are NaN or ±Inf
};

/// One line: x (non-decreasing), a float32 value, and the debiased-EMA smoothed value.
///
/// Memory: x is kept as arithmetic runs (a loss log's iterations are one run per resume segment, so
/// about 0 bytes per point), values as float32 in blocks of 4,096 (4 bytes per point, no reallocation
/// copies), and per view (raw, smoothed) a pyramid of min/max per 16^k samples (~0.53 bytes per point).
/// The smoothed values are not stored: an EMA state every 16 samples (0.5 bytes per point) lets any run
/// of them be recomputed. About 5.6 bytes per point in all, under 8 with the vectors' spare capacity.
///
/// Appending is O(log16 n) (one partial bucket per level), i.e. O(1) in practice; queries over any index
/// range cost O(16 · log16 n). Non-finite values are kept (NaN/Inf) and ignored by min/max.
class SeriesStore {
public:
    enum class View { Raw, Smoothed };

    /// `smoothing`: TensorBoard's EMA weight in [0, 1) (0 = none), clamped to [0, 0.999].
    explicit SeriesStore(double smoothing = 0.6);
    ~SeriesStore();
    SeriesStore(SeriesStore&&) noexcept;
    SeriesStore& operator=(SeriesStore&&) noexcept;

    /// Appends one sample. `x` must be >= the last x (an earlier x is clamped to it: the line never
    /// goes back). `y` may be NaN or ±Inf.
    void append(double x, double y);
    void clear();

    std::int64_t size() const { return m_size; }
    bool empty() const { return m_size == 0; }
    double x(std::int64_t i) const;
    float value(std::int64_t i) const;
    /// The debiased EMA at sample i (TensorBoard's smoothing: non-finite samples are skipped and are
    /// NaN here). Equals value(i) when the smoothing is 0.
    float smoothed(std::int64_t i) const;
    float at(View view, std::int64_t i) const { return view == View::Raw ? value(i) : smoothed(i); }
    std::int64_t nonFiniteCount() const { return static_cast<std::int64_t>(m_nonFinite.size()); }
    /// Indices of the non-finite samples, ascending.
    const std::vector<std::int64_t>& nonFiniteIndices() const { return m_nonFinite; }

    /// First index with x(i) >= x (size() if none).
    std::int64_t lowerBound(double x) const;
    /// First index with x(i) > x (size() if none).
    std::int64_t upperBound(double x) const;

    /// Sum of the finite raw samples of [begin, end) (double), O(512 + 16 · log16 n): for the centred
    /// running average. Finite samples in the range: (end - begin) - nonFiniteIn(begin, end).
    double sum(std::int64_t begin, std::int64_t end) const;
    /// Mean of the finite raw samples of [begin, end) (NaN if there is none).
    double mean(std::int64_t begin, std::int64_t end) const;
    /// Min/max of the finite samples of [begin, end) in `view`; false if there is none.
    bool minMax(View view, std::int64_t begin, std::int64_t end, float* min, float* max) const;
    /// Non-finite samples in [begin, end).
    std::int64_t nonFiniteIn(std::int64_t begin, std::int64_t end) const;
    /// One aggregate of [begin, end) (begin < end <= size()).
    Column column(View view, std::int64_t begin, std::int64_t end) const;

    /// M4 decimation of the samples whose x lies in [x0, x1], plus the nearest sample outside on each
    /// side (so the line reaches the plot edges), into at most `columns` pixel columns of equal x width.
    /// A column aggregates the samples it covers (first, last, min, max), so every extreme is kept.
    std::vector<Column> decimate(View view, double x0, double x1, int columns) const;

    /// Sets the EMA weight and recomputes the smoothed pyramid: O(n), for a user action.
    void setSmoothing(double weight);
    double smoothing() const { return m_smoothing; }

    /// Bytes held by this series (capacity, not just size).
    std::size_t memoryBytes() const;

private:
    struct Run { // samples firstIndex .. firstIndex+count-1 have x = x0 + step * k
        std::int64_t firstIndex;
        double x0;
        double step;
        std::int64_t count;
    };
    struct MinMax {
        float min;
        float max;
    };
    struct Checkpoint { // EMA state before sample k * kEmaStride
        float ema;
        std::uint32_t finite; ///< finite samples before it (the debiasing exponent)
    };
    using Pyramid = std::vector<std::vector<MinMax>>; // level k-1 aggregates 16^k samples

    void addToPyramid(Pyramid& p, std::int64_t i, float v);
    void pushSmoothed(std::int64_t i, float v);
    template <class Fn> void forSmoothed(std::int64_t begin, std::int64_t end, Fn&& fn) const;

    static constexpr int kBlockBits = 12; // 4,096 floats per value block
    static constexpr int kFanoutBits = 4; // 16 samples (or buckets) per pyramid bucket
    static constexpr int kEmaStride = 16;

    std::vector<std::unique_ptr<float[]>> m_blocks;
    std::int64_t m_size = 0;
    std::vector<Run> m_runs;
    std::vector<std::int64_t> m_nonFinite;
    Pyramid m_raw;
    Pyramid m_smooth;
    std::vector<Checkpoint> m_checkpoints;
    // Sums of finite raw samples per 16^(k+2) samples (level k; 256 samples and up, ~0.03 bytes per point).
    std::vector<std::vector<double>> m_sums;
    double m_sumAll = 0.0;
    double m_smoothing = 0.6;
    double m_ema = 0.0; // running EMA state (double) and finite-sample count
    std::int64_t m_finite = 0;
    double m_weightPower = 1.0; // w^m_finite
};

} // namespace charts
