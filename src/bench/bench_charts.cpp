// SPDX-License-Identifier: Apache-2.0
// nectar-bench-charts: one LossChart with 7 lines at 10^4 .. 10^7 points per line. Prints the append cost
// per point, the bytes per point per line (resident memory and the stores' own count) and the replot time
// (whole run in view, and zoomed to a tenth), each the median of repeated runs. Asserts nothing.
//
// Usage: nectar-bench-charts [--max-points N] [--repeats R]   (QT_QPA_PLATFORM defaults to offscreen)
#include <QApplication>
#include <QElapsedTimer>

#include <malloc.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "charts/losschart.h"

namespace {

double residentBytes()
{
    std::ifstream statm("/proc/self/statm");
    long pages = 0, resident = 0;
    statm >> pages >> resident;
    return static_cast<double>(resident) * static_cast<double>(sysconf(_SC_PAGESIZE));
}

double median(std::vector<double> v)
{
    std::sort(v.begin(), v.end());
    return v.empty() ? 0.0 : v[v.size() / 2];
}

} // namespace

int main(int argc, char** argv)
{
    if (qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM"))
        qputenv("QT_QPA_PLATFORM", "offscreen");
    long long maxPoints = 10000000;
    int repeats = 15;
    bool aliased = false;
    for (int i = 1; i < argc; ++i)
        aliased = aliased || std::strcmp(argv[i], "--aliased") == 0;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (std::strcmp(argv[i], "--max-points") == 0)
            maxPoints = std::atoll(argv[i + 1]);
        else if (std::strcmp(argv[i], "--repeats") == 0)
            repeats = std::max(1, std::atoi(argv[i + 1]));
    }
    QApplication app(argc, argv);
    constexpr int kLines = 7;
    constexpr int kChunk = 1000; // points per append call, as a progress report of 1,000 iterations
    std::printf("one LossChart 1280x700, %d lines (raw + EMA-smoothed each), offscreen; medians of %d replots\n",
        kLines, repeats);
    std::printf("%12s %14s %14s %14s %16s %16s %14s\n", "points/line", "append ns/pt", "RSS B/pt/line",
        "store B/pt/line", "replot ms (all)", "replot ms (1/10)", "decimate ms");
    double firstReplot = 0.0, lastReplot = 0.0;
    for (long long n = 10000; n <= maxPoints; n *= 10) {
        malloc_trim(0);
        auto chart = std::make_unique<LossChart>(QStringLiteral("G"));
        chart->resize(1280, 700);
        chart->show();
        chart->setSmoothing(0.6);
        if (aliased)
            chart->setNotAntialiasedElements(QCP::aePlottables);
        std::vector<QString> keys;
        for (int l = 0; l < kLines; ++l) {
            keys.push_back(QStringLiteral("0/L%1").arg(l));
            chart->addSeries(keys.back(), keys.back(), QColor::fromHsv(l * 50, 200, 200));
        }
        QCoreApplication::processEvents();
        const double rssBefore = residentBytes();
        std::mt19937 rng(1);
        std::normal_distribution<double> noise(0.0, 0.05);
        std::vector<double> x(kChunk), y(kChunk);
        double appendNs = 0.0;
        for (int l = 0; l < kLines; ++l) {
            for (long long from = 0; from < n; from += kChunk) {
                for (int i = 0; i < kChunk; ++i) {
                    x[static_cast<std::size_t>(i)] = static_cast<double>(from + i);
                    y[static_cast<std::size_t>(i)] = 1.0 / (1.0 + 1e-5 * static_cast<double>(from + i)) + noise(rng);
                }
                QElapsedTimer t;
                t.start();
                chart->appendPoints(keys[static_cast<std::size_t>(l)], x, y);
                appendNs += static_cast<double>(t.nsecsElapsed());
            }
        }
        const double rssPerPoint = (residentBytes() - rssBefore) / (static_cast<double>(n) * kLines);
        double storeBytes = 0.0;
        for (const QString& k : keys)
            storeBytes += static_cast<double>(chart->store(k)->memoryBytes());
        std::vector<double> full, zoomed;
        for (int r = 0; r < repeats; ++r) {
            chart->setAutoRange(true);
            QElapsedTimer t;
            t.start();
            chart->replotNow();
            full.push_back(static_cast<double>(t.nsecsElapsed()) / 1e6);
        }
        chart->setAutoRange(false);
        for (int r = 0; r < repeats; ++r) {
            // A pan across the run at a tenth of its length: each replot has a new x range.
            const double w = static_cast<double>(n) / 10.0;
            const double x0 = (static_cast<double>(n) - w) * r / std::max(1, repeats - 1);
            chart->xAxis->setRange(x0, x0 + w);
            QElapsedTimer t;
            t.start();
            chart->replot();
            zoomed.push_back(static_cast<double>(t.nsecsElapsed()) / 1e6);
        }
        std::vector<double> decimation;
        for (int r = 0; r < repeats; ++r) {
            QElapsedTimer t;
            t.start();
            std::size_t cols = 0;
            for (const QString& k : keys)
                for (auto view : { charts::SeriesStore::View::Raw, charts::SeriesStore::View::Smoothed })
                    cols += chart->store(k)
                                ->decimate(view, 0, static_cast<double>(n), chart->axisRect()->width())
                                .size();
            decimation.push_back(static_cast<double>(t.nsecsElapsed()) / 1e6);
            if (cols == 0)
                std::printf("no columns\n");
        }
        const double replotMs = median(full);
        if (n == 10000)
            firstReplot = replotMs;
        lastReplot = replotMs;
        std::printf("%12lld %14.1f %14.2f %14.2f %16.2f %16.2f %14.2f\n", n,
            appendNs / (static_cast<double>(n) * kLines), rssPerPoint, storeBytes / (static_cast<double>(n) * kLines),
            replotMs, median(zoomed), median(decimation));
        std::fflush(stdout);
    }
    if (firstReplot > 0.0)
        std::printf("replot at the largest size / replot at 10^4: %.2fx\n", lastReplot / firstReplot);
    return 0;
}
