// SPDX-License-Identifier: Apache-2.0
#include "data/paired_dataset.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <random>
#include <set>

#include <fcntl.h>
#include <unistd.h>

#include <QtCore/QFile>
#include <QtGui/QImage>
#include <QtGui/QImageReader>
#include <QtGui/QPixelFormat>

#include "config/config.h"
#include "util/paths.h"
#include "util/strings.h"

namespace nectar {

namespace {

namespace fs = std::filesystem;

std::string ss(const QString& s)
{
    return s.toStdString();
}

/// Lower-case suffix after the last '.' ("PNG" -> "png"; ".DS_Store" -> "ds_store", as QFileInfo::suffix).
QByteArray suffix_of(const std::string& file_name)
{
    const auto dot = file_name.rfind('.');
    if (dot == std::string::npos)
        return {};
    return QByteArray::fromStdString(file_name.substr(dot + 1)).toLower();
}

/// An image file opened through its bytes: POSIX open() on the path as given, then QImageReader on that
/// descriptor (a QString file name would re-encode the bytes as UTF-8 and open another file, or none).
/// Reads only what the reader asks for, so the scan stays header-only.
class ImageFile {
public:
    explicit ImageFile(const std::string& path)
        : m_path(path)
    {
    }
    bool open()
    {
        const int fd = ::open(m_path.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            m_error = std::strerror(errno);
            return false;
        }
        if (!m_file.open(fd, QIODevice::ReadOnly, QFileDevice::AutoCloseHandle)) {
            ::close(fd);
            m_error = ss(m_file.errorString());
            return false;
        }
        m_reader.setDevice(&m_file);
        // The descriptor has no name: the suffix tells the reader which plugin to try first.
        m_reader.setFormat(suffix_of(fs::path(m_path).filename().string()));
        return true;
    }
    QImageReader& reader() { return m_reader; }
    const std::string& error() const { return m_error; }

private:
    std::string m_path;
    std::string m_error;
    QFile m_file;
    QImageReader m_reader;
};

/// File lists in messages stay readable: at most 20 names.
std::string join_files(const std::vector<std::string>& v)
{
    return join(v, ", ", 20);
}

bool is_gray_format(QImage::Format f)
{
    return f == QImage::Format_Grayscale8 || f == QImage::Format_Grayscale16 || f == QImage::Format_Mono
        || f == QImage::Format_MonoLSB || f == QImage::Format_Alpha8;
}

bool is_deep_format(QImage::Format f)
{
    // More than 8 bits per channel (16-bit PNG, float formats).
    const QPixelFormat pf = QImage::toPixelFormat(f);
    return f == QImage::Format_Grayscale16 || pf.bitsPerPixel() > 32
        || pf.typeInterpretation() == QPixelFormat::FloatingPoint;
}

std::uint32_t lo32(std::uint64_t v)
{
    return static_cast<std::uint32_t>(v & 0xffffffffu);
}

std::uint32_t hi32(std::uint64_t v)
{
    return static_cast<std::uint32_t>(v >> 32);
}

fs::path normal_folder(const fs::path& p)
{
    std::error_code ec;
    const fs::path abs = fs::absolute(p, ec);
    return (ec ? p : abs).lexically_normal();
}

std::string folder_text(const fs::path& folder)
{
    std::string s = folder.string();
    if (s.size() > 1 && s.back() == '/')
        s.pop_back();
    return s;
}

/// What the pre-flight scan accepts.
struct ScanRules {
    int input_nc = 3;
    bool colour_to_gray = true; ///< false: a colour image for input_nc 1 is a DataError
    bool verify_decode = false;
    bool pairs = true; ///< width must be twice the height
};

struct ScanCounts {
    std::size_t entries = 0, non_images = 0, unreadable = 0, bad_aspect = 0;
};

/// The pre-flight scan of PairedDataset and ImageFolder (headers only unless rules.verify_decode): fills
/// `files` with the usable images sorted by name bytes and `warnings` with one line per kind of finding.
/// Throws DataError when `folder` is missing, cannot be listed, or (rules.colour_to_gray false) holds a
/// colour image for a 1-channel model.
ScanCounts scan_folder(const fs::path& folder, const std::string& shown, const std::string& what,
    const std::string& expected, const ScanRules& rules, std::vector<std::string>& files,
    std::vector<std::string>& warnings)
{
    std::error_code ec;
    if (!fs::is_directory(folder, ec))
        throw DataError(what + " not found: " + display_path(shown) + " (expected " + expected + ")");

    std::set<QByteArray> formats;
    for (const QByteArray& f : QImageReader::supportedImageFormats())
        formats.insert(f.toLower());

    // Sorted by name bytes, as QDir::Name sorted them (the same order for ASCII and UTF-8 names).
    std::vector<fs::directory_entry> entries;
    for (fs::directory_iterator it(folder, ec), end; !ec && it != end; it.increment(ec))
        entries.push_back(*it);
    if (ec)
        throw DataError("cannot list " + what + " " + display_path(shown) + ": " + ec.message());
    std::sort(entries.begin(), entries.end(), [](const fs::directory_entry& a, const fs::directory_entry& b) {
        return a.path().filename().string() < b.path().filename().string();
    });

    ScanCounts counts;
    counts.entries = entries.size();
    const int nc_in = rules.input_nc;
    std::vector<std::string> non_images, unreadable, bad_aspect, gray, palette, alpha, deep, colour;
    for (const fs::directory_entry& e : entries) {
        const std::string file = e.path().string();
        const std::string name = display_path(e.path().filename().string());
        std::error_code type_ec;
        if (e.is_directory(type_ec)) {
            non_images.push_back(name + "/ (folder)");
            continue;
        }
        if (!formats.count(suffix_of(e.path().filename().string()))) {
            non_images.push_back(name);
            continue;
        }
        ImageFile image(file);
        if (!image.open()) {
            unreadable.push_back(name + " (" + image.error() + ")");
            continue;
        }
        QImageReader& reader = image.reader();
        if (!reader.canRead()) {
            unreadable.push_back(name + " (" + ss(reader.errorString()) + ")");
            continue;
        }
        const QSize size = reader.size();
        if (!size.isValid()) {
            unreadable.push_back(name + " (no size in the header)");
            continue;
        }
        if (rules.pairs && size.width() != 2 * size.height()) {
            bad_aspect.push_back(
                name + " (" + std::to_string(size.width()) + "x" + std::to_string(size.height()) + ")");
            continue;
        }
        const QImage::Format f = reader.imageFormat();
        // A palette may be all gray: only its decoded colour table tells, so such a file is decoded when a
        // colour image must be refused.
        const bool must_decode = rules.verify_decode
            || (!rules.colour_to_gray && nc_in == 1 && (f == QImage::Format_Indexed8 || f == QImage::Format_Invalid));
        QImage img;
        if (must_decode && !reader.read(&img)) {
            unreadable.push_back(name + " (" + ss(reader.errorString()) + ")");
            continue;
        }
        const QImage::Format known = f != QImage::Format_Invalid ? f : img.format();
        if (known != QImage::Format_Invalid) {
            const bool is_gray
                = is_gray_format(known) || (known == QImage::Format_Indexed8 && !img.isNull() && img.isGrayscale());
            const bool has_alpha = QImage::toPixelFormat(known).alphaUsage() == QPixelFormat::UsesAlpha
                && known != QImage::Format_Alpha8;
            if (!is_gray && nc_in == 1 && !rules.colour_to_gray)
                throw DataError("image " + display_path(file) + " has "
                    + (has_alpha ? "4 channels (RGBA)" : "3 channels (RGB)")
                    + ", but the model takes 1 channel (in_channels = dataloader.load.input_nc = 1): convert it "
                      "to grayscale first");
            if (is_gray_format(known) && nc_in == 3)
                gray.push_back(name);
            else if (known == QImage::Format_Indexed8)
                palette.push_back(name);
            else if (!is_gray_format(known) && nc_in == 1)
                colour.push_back(name);
            if (has_alpha)
                alpha.push_back(name);
            if (is_deep_format(known))
                deep.push_back(name);
        }
        files.push_back(file);
    }
    counts.non_images = non_images.size();
    counts.unreadable = unreadable.size();
    counts.bad_aspect = bad_aspect.size();

    const std::string in = " in " + display_path(shown) + ": ";
    const std::string nc = std::to_string(nc_in) + (nc_in == 1 ? " channel" : " channels");
    auto warn = [&](const std::vector<std::string>& list, const std::string& text) {
        if (!list.empty())
            warnings.push_back(text + " (" + std::to_string(list.size()) + ")" + in + join_files(list));
    };
    warn(non_images, "skipped non-image entries");
    warn(unreadable, "skipped unreadable images");
    warn(bad_aspect, "skipped images whose width is not twice their height (expected A|B pairs side by side)");
    warn(gray, "note: grayscale images converted to " + nc + " (R = G = B)");
    warn(palette, "note: palette images converted to " + nc);
    warn(colour, "note: colour images converted to 1 channel (luma)");
    warn(alpha, "note: alpha channel dropped (not composited) from images");
    warn(deep, "note: 16-bit images reduced to 8 bits per channel");
    return counts;
}

/// Decodes `file` (byte-exact) or throws DataError naming it.
QImage decode_image(const std::string& file)
{
    ImageFile image(file);
    if (!image.open())
        throw DataError("cannot open image " + display_path(file) + ": " + image.error());
    QImage img;
    if (!image.reader().read(&img))
        throw DataError("cannot decode image " + display_path(file) + ": " + ss(image.reader().errorString()));
    return img;
}

} // namespace

Direction direction_from_string(const std::string& s)
{
    return parse_choice<Direction>(s, "direction");
}

std::string to_string(Direction d)
{
    return choice_name(d);
}

DatasetOptions dataset_options_from_config(const Config& config, const std::string& split)
{
    DatasetOptions o;
    o.dataroot = config.dataloader.dataroot;
    o.split = split;
    o.direction = config.dataloader.direction;
    o.input_nc = config.dataloader.load.input_nc;
    o.load_size = config.dataloader.load.load_size;
    o.crop_size = config.dataloader.load.crop_size;
    o.train = split == "train";
    o.augmentations_both = config.dataloader.augmentations.both;
    o.augmentations_input = config.dataloader.augmentations.input;
    o.augmentations_target = config.dataloader.augmentations.target;
    return o;
}

std::uint64_t item_seed(std::uint64_t seed, std::int64_t epoch, std::uint64_t index)
{
    const auto e = static_cast<std::uint64_t>(epoch);
    std::seed_seq seq { lo32(seed), hi32(seed), lo32(e), hi32(e), lo32(index), hi32(index) };
    std::mt19937_64 g(seq);
    return g();
}

PairedDataset::PairedDataset(DatasetOptions options)
    : m_options(std::move(options))
{
    const DatasetOptions& o = m_options;
    if (o.input_nc != 1 && o.input_nc != 3)
        throw std::invalid_argument(
            "dataloader.load.input_nc: expected 1 or 3 channels, got " + std::to_string(o.input_nc));
    if (o.crop_size < 1)
        throw std::invalid_argument("dataloader.load.crop_size: expected >= 1, got " + std::to_string(o.crop_size));
    if (o.train && o.load_size < o.crop_size)
        throw std::invalid_argument("dataloader.load.load_size " + std::to_string(o.load_size)
            + " is smaller than crop_size " + std::to_string(o.crop_size)
            + " (each half is resized to load_size, then cropped to crop_size)");
    if (o.train)
        m_augmentations
            = parse_augmentations(o.augmentations_both, o.augmentations_input, o.augmentations_target, m_warnings);

    if (o.dataroot.empty())
        throw DataError("dataloader.dataroot is empty: expected a folder with train/, val/ and test/ sub-folders");
    // Byte-exact end to end (util/paths.h): std::filesystem paths, never a QString file name. An empty split reads
    // dataroot itself (testing on a folder of pairs).
    const fs::path folder = normal_folder(o.split.empty() ? fs::path(o.dataroot) : fs::path(o.dataroot) / o.split);
    m_folder = folder_text(folder);
    const std::string expected = o.split.empty()
        ? display_path(o.dataroot) + "/ holding A|B image pairs"
        : display_path(o.dataroot) + "/" + display_path(o.split) + "/ holding A|B image pairs";
    const ScanCounts n = scan_folder(folder, m_folder, "dataset folder", expected,
        { o.input_nc, o.colour_to_gray, o.verify_decode, true }, m_files, m_warnings);
    if (m_files.empty()) {
        std::string why;
        if (n.entries)
            why = " (" + std::to_string(n.entries) + " entries, none usable: " + std::to_string(n.non_images)
                + " non-image, " + std::to_string(n.unreadable) + " unreadable, " + std::to_string(n.bad_aspect)
                + " not 2:1)";
        throw DataError("no A|B image pairs in " + display_path(m_folder) + why
            + "; expected images of width 2*S and height S (A left, B right)");
    }
}

Sample PairedDataset::get(std::size_t index, std::uint64_t seed) const
{
    const std::int64_t c = m_options.input_nc;
    const std::int64_t s = m_options.crop_size;
    Sample out;
    out.a = torch::empty({ c, s, s }, torch::kFloat32);
    out.b = torch::empty({ c, s, s }, torch::kFloat32);
    out.path = path(index);
    load_into(index, seed, out.a.data_ptr<float>(), out.b.data_ptr<float>());
    return out;
}

void PairedDataset::load_into(std::size_t index, std::uint64_t seed, float* a_out, float* b_out) const
{
    const DatasetOptions& o = m_options;
    const std::string& file = path(index);
    QImage img = decode_image(file);
    const int h = img.height();
    if (img.width() != 2 * h || h < 1)
        throw DataError("image " + display_path(file) + " is " + std::to_string(img.width()) + "x" + std::to_string(h)
            + ": expected width = 2 * height (A|B pair side by side)");
    img = img.convertToFormat(o.input_nc == 3 ? QImage::Format_RGB888 : QImage::Format_Grayscale8);

    // Split first, then resample each half: nothing of B leaks into A at the seam.
    QImage half_a = img.copy(0, 0, h, h);
    QImage half_b = img.copy(h, 0, h, h);
    if (o.direction == Direction::BtoA)
        std::swap(half_a, half_b);

    std::mt19937_64 rng(seed);
    const int crop = o.crop_size;
    const int target = o.train ? o.load_size : o.crop_size;
    if (h != target) {
        half_a = half_a.scaled(target, target, Qt::IgnoreAspectRatio, Qt::SmoothTransformation);
        half_b = half_b.scaled(target, target, Qt::IgnoreAspectRatio, Qt::SmoothTransformation);
        // The smooth scaler may hand back RGB32; the index map below reads packed 8-bit channels.
        const QImage::Format fmt = o.input_nc == 3 ? QImage::Format_RGB888 : QImage::Format_Grayscale8;
        half_a = half_a.convertToFormat(fmt);
        half_b = half_b.convertToFormat(fmt);
    }
    int x0 = 0, y0 = 0;
    AugmentationDraw draw;
    if (o.train) {
        std::uniform_int_distribution<int> offset(0, target - crop);
        x0 = offset(rng);
        y0 = offset(rng);
        draw = draw_augmentations(m_augmentations, rng);
    }

    // Crop + flips + quarter turns as one index map (identical for both halves), then scale to [0, 1].
    const int nc = o.input_nc;
    const std::size_t plane = static_cast<std::size_t>(crop) * static_cast<std::size_t>(crop);
    auto fill = [&](const QImage& src, float* dst) {
        for (int i = 0; i < crop; ++i) {
            for (int j = 0; j < crop; ++j) {
                int r = i, col = j;
                for (int k = 0; k < draw.rot90_k; ++k) { // np.rot90: out[i][j] = in[j][N-1-i]
                    const int t = r;
                    r = col;
                    col = crop - 1 - t;
                }
                if (draw.v_flip)
                    r = crop - 1 - r;
                if (draw.h_flip)
                    col = crop - 1 - col;
                const uchar* px = src.constScanLine(y0 + r) + static_cast<std::size_t>(x0 + col) * nc;
                for (int ch = 0; ch < nc; ++ch)
                    dst[ch * plane + static_cast<std::size_t>(i) * crop + j] = px[ch] / 255.0f;
            }
        }
    };
    fill(half_a, a_out);
    fill(half_b, b_out);
    if (o.train)
        apply_input_augmentations(m_augmentations, draw, a_out, nc, crop, crop);

    const std::size_t n = plane * static_cast<std::size_t>(nc);
    for (std::size_t i = 0; i < n; ++i) {
        a_out[i] = (a_out[i] - 0.5f) / 0.5f;
        b_out[i] = (b_out[i] - 0.5f) / 0.5f;
    }
}

ImageFolder::ImageFolder(const std::string& folder, int input_nc, bool colour_to_gray, bool verify_decode)
    : m_input_nc(input_nc)
{
    if (input_nc != 1 && input_nc != 3)
        throw std::invalid_argument(
            "dataloader.load.input_nc: expected 1 or 3 channels, got " + std::to_string(input_nc));
    if (folder.empty())
        throw DataError("no image folder given: expected a folder of input images");
    const fs::path dir = normal_folder(folder);
    m_folder = folder_text(dir);
    const ScanCounts n = scan_folder(dir, m_folder, "image folder", display_path(folder) + "/ holding images",
        { input_nc, colour_to_gray, verify_decode, false }, m_files, m_warnings);
    if (m_files.empty()) {
        std::string why;
        if (n.entries)
            why = " (" + std::to_string(n.entries) + " entries, none usable: " + std::to_string(n.non_images)
                + " non-image, " + std::to_string(n.unreadable) + " unreadable)";
        throw DataError("no images in " + display_path(m_folder) + why);
    }
}

torch::Tensor ImageFolder::load(std::size_t index, int size, int* file_width, int* file_height) const
{
    const std::string& file = path(index);
    QImage img = decode_image(file);
    if (file_width)
        *file_width = img.width();
    if (file_height)
        *file_height = img.height();
    const QImage::Format fmt = m_input_nc == 3 ? QImage::Format_RGB888 : QImage::Format_Grayscale8;
    img = img.convertToFormat(fmt);
    if (size > 0 && (img.width() != size || img.height() != size))
        img = img.scaled(size, size, Qt::IgnoreAspectRatio, Qt::SmoothTransformation).convertToFormat(fmt);
    const int h = img.height(), w = img.width(), nc = m_input_nc;
    auto out = torch::empty({ nc, h, w }, torch::kFloat32);
    float* dst = out.data_ptr<float>();
    const std::size_t plane = static_cast<std::size_t>(h) * static_cast<std::size_t>(w);
    for (int y = 0; y < h; ++y) {
        const uchar* row = img.constScanLine(y);
        for (int x = 0; x < w; ++x)
            for (int ch = 0; ch < nc; ++ch)
                dst[ch * plane + static_cast<std::size_t>(y) * w + x] = (row[x * nc + ch] / 255.0f - 0.5f) / 0.5f;
    }
    return out;
}

} // namespace nectar
