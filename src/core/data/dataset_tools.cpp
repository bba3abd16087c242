// SPDX-License-Identifier: Apache-2.0
#include "data/dataset_tools.h"

#include <QFile>
#include <QImage>
#include <QImageReader>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <set>

#include "data/paired_dataset.h"
#include "io/image_io.h"
#include "util/atomic_file.h"
#include "util/limits.h"
#include "util/paths.h"

namespace fs = std::filesystem;

namespace nectar {

namespace {

QString qpath(const fs::path& p)
{
    return QFile::decodeName(QByteArray::fromStdString(p.string()));
}

const std::set<std::string>& image_suffixes()
{
    static const std::set<std::string> s = [] {
        std::set<std::string> out;
        for (const QByteArray& f : QImageReader::supportedImageFormats())
            out.insert("." + f.toLower().toStdString());
        return out;
    }();
    return s;
}

bool is_image_name(const fs::path& p)
{
    std::string ext = p.extension().string();
    std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
    return image_suffixes().count(ext) > 0;
}

struct Listing {
    std::vector<fs::path> images; // sorted by name
    std::vector<std::string> others; // display paths
};

Listing list_folder(const std::string& dir, const char* what)
{
    std::error_code ec;
    if (!fs::is_directory(dir, ec))
        throw DataError(std::string(what) + " " + display_path(dir) + ": not a folder");
    Listing l;
    for (const auto& e : fs::directory_iterator(dir, ec)) {
        if (e.is_regular_file(ec) && is_image_name(e.path()))
            l.images.push_back(e.path());
        else
            l.others.push_back(display_path(e.path().string()));
    }
    if (ec)
        throw DataError("cannot list " + display_path(dir) + ": " + ec.message());
    std::sort(l.images.begin(), l.images.end());
    std::sort(l.others.begin(), l.others.end());
    return l;
}

/// The output folder may be created, or used if empty (or `into_non_empty`); `planned` must not exist.
void check_output(const std::string& output, bool into_non_empty, const std::vector<std::string>& planned)
{
    std::error_code ec;
    if (fs::exists(output, ec)) {
        if (!fs::is_directory(output, ec))
            throw DataError("output " + display_path(output) + " exists and is not a folder");
        if (!into_non_empty && fs::directory_iterator(output, ec) != fs::directory_iterator())
            throw DataError("output folder " + display_path(output)
                + " is not empty: choose an empty or new folder (or allow writing into a non-empty one)");
    }
    for (const auto& p : planned)
        if (fs::exists(p, ec))
            throw DataError("output file " + display_path(p) + " exists already: nothing is overwritten");
}

RgbImage rgb_of(const QImage& image)
{
    const QImage q = image.convertToFormat(QImage::Format_RGB888);
    RgbImage out;
    out.width = q.width();
    out.height = q.height();
    out.rgb.resize(static_cast<std::size_t>(out.width) * out.height * 3);
    for (int y = 0; y < out.height; ++y)
        std::copy_n(q.constScanLine(y), out.width * 3, out.rgb.data() + static_cast<std::size_t>(y) * out.width * 3);
    return out;
}

std::string read_bytes(const fs::path& p)
{
    std::ifstream in(p, std::ios::binary);
    if (!in)
        throw std::runtime_error("cannot read " + display_path(p.string()));
    return { std::istreambuf_iterator<char>(in), {} };
}

} // namespace

PairReport pair_images(const PairOptions& o, bool dry_run, const ToolProgress& progress)
{
    if (o.size < 0 || o.size > limits::max_image_size)
        throw DataError("pair size " + std::to_string(o.size) + ": expected 1 .. "
            + std::to_string(limits::max_image_size) + " pixels (or 0 to keep the images' size)");
    PairReport r;
    const Listing a = list_folder(o.dir_a, "folder A"), b = list_folder(o.dir_b, "folder B");
    r.not_images = a.others;
    r.not_images.insert(r.not_images.end(), b.others.begin(), b.others.end());
    const auto by_stem = [&r](const Listing& l) {
        std::map<std::string, fs::path> out;
        for (const auto& p : l.images) {
            const std::string stem = p.stem().string();
            if (!out.emplace(stem, p).second)
                r.ambiguous.push_back(display_path(p.string()));
        }
        return out;
    };
    const auto ma = by_stem(a), mb = by_stem(b);
    struct Job {
        fs::path a, b;
        std::string out;
    };
    std::vector<Job> jobs;
    for (const auto& [stem, pa] : ma) {
        const auto it = mb.find(stem);
        if (it == mb.end()) {
            r.unmatched_a.push_back(display_path(pa.string()));
            continue;
        }
        // Headers only in the plan: a dry run reports what the real run would refuse.
        QImageReader ra(qpath(pa)), rb(qpath(it->second));
        const QSize sa = ra.size(), sb = rb.size();
        if (!sa.isValid() || !sb.isValid()) {
            const bool bad_a = !sa.isValid();
            r.unreadable.push_back(display_path((bad_a ? pa : it->second).string()) + ": "
                + (bad_a ? ra : rb).errorString().toStdString());
            continue;
        }
        if (o.size == 0 && sa != sb) {
            r.size_mismatch.push_back(stem + ": " + std::to_string(sa.width()) + "x" + std::to_string(sa.height())
                + " vs " + std::to_string(sb.width()) + "x" + std::to_string(sb.height()));
            continue;
        }
        jobs.push_back({ pa, it->second, (fs::path(o.output) / (stem + ".png")).string() });
    }
    for (const auto& [stem, pb] : mb)
        if (!ma.count(stem))
            r.unmatched_b.push_back(display_path(pb.string()));
    for (const auto& j : jobs)
        r.writes.push_back(j.out);
    check_output(o.output, o.into_non_empty, r.writes);
    if (dry_run)
        return r;
    fs::create_directories(o.output);
    std::vector<std::string> written;
    for (std::size_t i = 0; i < jobs.size(); ++i) {
        if (progress && !progress(i, jobs.size())) {
            r.stopped = true;
            break;
        }
        QImage ia(qpath(jobs[i].a)), ib(qpath(jobs[i].b));
        if (ia.isNull() || ib.isNull()) { // the header read, the pixels did not (a truncated file)
            r.unreadable.push_back(display_path((ia.isNull() ? jobs[i].a : jobs[i].b).string()) + ": cannot decode");
            continue;
        }
        if (o.size > 0) {
            ia = ia.scaled(o.size, o.size, Qt::IgnoreAspectRatio, Qt::SmoothTransformation);
            ib = ib.scaled(o.size, o.size, Qt::IgnoreAspectRatio, Qt::SmoothTransformation);
        }
        const RgbImage ra = rgb_of(ia), rb = rgb_of(ib);
        save_png(o.direction == Direction::AtoB ? hconcat({ ra, rb }) : hconcat({ rb, ra }), jobs[i].out);
        written.push_back(jobs[i].out);
    }
    if (progress && !r.stopped)
        progress(jobs.size(), jobs.size());
    r.writes = written;
    return r;
}

SplitReport split_dataset(const SplitOptions& o, bool dry_run, const ToolProgress& progress)
{
    for (const double v : { o.train, o.val, o.test })
        if (!(v >= 0) || !std::isfinite(v))
            throw DataError("split ratios " + std::to_string(o.train) + ", " + std::to_string(o.val) + ", "
                + std::to_string(o.test) + ": expected finite numbers >= 0");
    const double sum = o.train + o.val + o.test;
    if (!(sum > 0))
        throw DataError("split ratios are all 0: expected at least one > 0");
    SplitReport r;
    const Listing in = list_folder(o.input, "input folder");
    r.not_images = in.others;
    std::vector<fs::path> files = in.images;
    // Fisher-Yates with our own index draws: the split depends only on the seed and the file names.
    std::mt19937_64 rng(static_cast<std::uint64_t>(o.seed));
    for (std::size_t i = files.size(); i > 1; --i)
        std::swap(files[i - 1], files[static_cast<std::size_t>(rng() % i)]);
    const std::size_t n = files.size();
    const std::size_t n_train = std::min(n, static_cast<std::size_t>(std::llround(n * o.train / sum)));
    const std::size_t n_val = std::min(n - n_train, static_cast<std::size_t>(std::llround(n * o.val / sum)));
    std::vector<std::string> planned;
    for (std::size_t i = 0; i < n; ++i) {
        const char* split = i < n_train ? "train" : i < n_train + n_val ? "val" : "test";
        const std::string dest = (fs::path(o.output) / split / files[i].filename()).string();
        r.writes.emplace_back(files[i].string(), dest);
        planned.push_back(dest);
        ++r.counts[split];
    }
    check_output(o.output, o.into_non_empty, planned);
    if (dry_run)
        return r;
    std::vector<std::pair<std::string, std::string>> done;
    for (std::size_t i = 0; i < r.writes.size(); ++i) {
        if (progress && !progress(i, r.writes.size())) {
            r.stopped = true;
            break;
        }
        const auto& [src, dest] = r.writes[i];
        fs::create_directories(fs::path(dest).parent_path());
        std::error_code ec;
        if (o.move)
            fs::rename(src, dest, ec); // same file system: atomic
        if (!o.move || ec) {
            write_file_atomically(dest, read_bytes(src), "dataset file");
            if (o.move)
                fs::remove(src);
        }
        done.push_back(r.writes[i]);
    }
    if (progress && !r.stopped)
        progress(r.writes.size(), r.writes.size());
    r.writes = done;
    return r;
}

CheckReport check_dataset(const std::string& dataroot)
{
    CheckReport r;
    for (const char* split : { "train", "val", "test" }) {
        const fs::path dir = fs::path(dataroot) / split;
        std::error_code ec;
        if (!fs::is_directory(dir, ec))
            continue;
        CheckReport::Split s;
        s.name = split;
        DatasetOptions opts;
        opts.dataroot = dataroot;
        opts.split = split;
        try {
            const PairedDataset ds(opts);
            s.pairs = ds.size();
            s.warnings = ds.warnings();
        } catch (const DataError& e) {
            s.warnings.push_back(e.what());
        }
        for (const auto& p : list_folder(dir.string(), "split folder").images) {
            const QSize size = QImageReader(qpath(p)).size();
            if (!size.isValid())
                continue; // listed by the scan as unreadable
            ++s.sizes[std::to_string(size.width()) + "x" + std::to_string(size.height())];
            if (size.width() != 2 * size.height())
                s.wrong_aspect.push_back(display_path(p.string()));
        }
        r.splits.push_back(std::move(s));
    }
    if (r.splits.empty())
        throw DataError("dataset root " + display_path(dataroot) + " has no train/, val/ or test/ folder");
    return r;
}

} // namespace nectar
