// SPDX-License-Identifier: Apache-2.0
// PairedDataset / DataLoader on tests/data/tiny (8 train, 2 val, 2 test pairs of 128x64 PNG; A = BT.601 luma of
// B in all three channels) and on bad-data fixtures generated in a QTemporaryDir.
#include <chrono>
#include <filesystem>
#include <fstream>

#include <QtCore/QDir>
#include <QtCore/QFile>
#include <QtCore/QTemporaryDir>
#include <QtGui/QImage>
#include <QtTest/QtTest>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "data/augmentations.h"
#include "data/data_loader.h"
#include "data/paired_dataset.h"
#include "util/strings.h"

using nlohmann::json;
using namespace nectar;

namespace {

const QString kTiny = QStringLiteral(NECTAR_TEST_DATA_DIR "/tiny");

DatasetOptions tiny(const std::string& split = "train", int load = 64, int crop = 64)
{
    DatasetOptions o;
    o.dataroot = kTiny.toStdString();
    o.split = split;
    o.load_size = load;
    o.crop_size = crop;
    o.train = split == "train";
    return o;
}

bool contains(const std::vector<std::string>& warnings, const QString& needle)
{
    for (const auto& w : warnings)
        if (QString::fromStdString(w).contains(needle))
            return true;
    return false;
}

int count_containing(const std::vector<std::string>& warnings, const QString& needle)
{
    int n = 0;
    for (const auto& w : warnings)
        n += QString::fromStdString(w).contains(needle) ? 1 : 0;
    return n;
}

// A 2:1 pair: A is a horizontal gray ramp, B a solid colour.
QImage make_pair(int h, QImage::Format format = QImage::Format_RGB888)
{
    QImage img(2 * h, h, QImage::Format_RGB888);
    for (int y = 0; y < h; ++y)
        for (int x = 0; x < 2 * h; ++x)
            img.setPixelColor(x, y, x < h ? QColor(x * 255 / h, x * 255 / h, x * 255 / h) : QColor(200, 40, 10));
    return img.convertToFormat(format);
}

/// Removes a folder whose names need not be UTF-8 (QTemporaryDir removes through QString names).
struct RemoveAll {
    std::string path;
    ~RemoveAll()
    {
        std::error_code ec;
        std::filesystem::remove_all(path, ec);
    }
};

void write_bytes(const QString& path, const QByteArray& bytes)
{
    QFile f(path);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write(bytes);
}

} // namespace

class TestDataset : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void shapesAndRange();
    void halvesDoNotBleed();
    void valMatchesPixelsExactly();
    void directionSwapsHalves();
    void geometricAugmentationsIdenticalOnBothHalves();
    void inputAugmentationsOnlyTouchInput();
    void augmentationWarnings();
    void deterministicPerSeed();
    void badDataIsReported();
    void imageKindsConvertedToInputNc();
    void truncatedImageReportedByPath();
    void emptyOrMissingSplitIsAnError();
    void loaderBatches();
    void workersEqualInlineLoading();
    void stopMidEpochDoesNotHang();
    void workerErrorPropagates();
    void badOptions();
    void nonUtf8NamesAreKeptAndShownEscaped();
};

void TestDataset::shapesAndRange()
{
    PairedDataset ds(tiny("train", 72, 64));
    QCOMPARE(ds.size(), std::size_t { 8 });
    QVERIFY(ds.warnings().empty());
    const Sample s = ds.get(0, 1);
    QCOMPARE(s.a.sizes().vec(), (std::vector<std::int64_t> { 3, 64, 64 }));
    QCOMPARE(s.b.sizes().vec(), (std::vector<std::int64_t> { 3, 64, 64 }));
    QCOMPARE(s.a.dtype(), torch::kFloat32);
    QVERIFY(s.a.min().item<float>() >= -1.0f && s.a.max().item<float>() <= 1.0f);
    QVERIFY(s.b.min().item<float>() >= -1.0f && s.b.max().item<float>() <= 1.0f);
    QVERIFY(s.b.max().item<float>() - s.b.min().item<float>() > 1.0f); // real content, not a constant
    QVERIFY(QString::fromStdString(s.path).endsWith(QStringLiteral("train/0001.png")));

    DatasetOptions gray = tiny("val");
    gray.input_nc = 1;
    const Sample g = PairedDataset(gray).get(0);
    QCOMPARE(g.a.sizes().vec(), (std::vector<std::int64_t> { 1, 64, 64 }));
}

void TestDataset::halvesDoNotBleed()
{
    // tiny's A half is gray (R = G = B) and B is colour: after resampling (64 -> 80, crop 64) A must still be
    // exactly gray everywhere, including the columns next to the seam.
    for (const bool btoa : { false, true }) {
        DatasetOptions o = tiny("train", 80, 64);
        o.direction = btoa ? Direction::BtoA : Direction::AtoB;
        PairedDataset ds(o);
        for (std::size_t i = 0; i < ds.size(); ++i) {
            const Sample s = ds.get(i, 100 + i);
            const torch::Tensor gray = btoa ? s.b : s.a;
            const torch::Tensor colour = btoa ? s.a : s.b;
            QVERIFY2(torch::equal(gray[0], gray[1]) && torch::equal(gray[1], gray[2]), s.path.c_str());
            QVERIFY(!torch::equal(colour[0], colour[1]) || !torch::equal(colour[1], colour[2]));
        }
    }
    // Also when shrinking (the seam is where a whole-image resize mixes A and B).
    PairedDataset ds(tiny("val", 48, 48));
    const Sample s = ds.get(1);
    QVERIFY(torch::equal(s.a[0], s.a[2]));
}

void TestDataset::valMatchesPixelsExactly()
{
    PairedDataset ds(tiny("val"));
    const Sample s = ds.get(0);
    QImage img(QString::fromStdString(ds.path(0)));
    img = img.convertToFormat(QImage::Format_RGB888);
    for (const auto& [x, y] :
        std::vector<std::pair<int, int>> { { 0, 0 }, { 63, 0 }, { 5, 17 }, { 63, 63 }, { 31, 40 } }) {
        const QColor a = img.pixelColor(x, y);
        const QColor b = img.pixelColor(64 + x, y);
        QCOMPARE(s.a[0][y][x].item<float>(), (a.red() / 255.0f - 0.5f) / 0.5f);
        QCOMPARE(s.b[0][y][x].item<float>(), (b.red() / 255.0f - 0.5f) / 0.5f);
        QCOMPARE(s.b[1][y][x].item<float>(), (b.green() / 255.0f - 0.5f) / 0.5f);
        QCOMPARE(s.b[2][y][x].item<float>(), (b.blue() / 255.0f - 0.5f) / 0.5f);
    }
}

void TestDataset::directionSwapsHalves()
{
    DatasetOptions o = tiny("test");
    const Sample ab = PairedDataset(o).get(1);
    o.direction = Direction::BtoA;
    const Sample ba = PairedDataset(o).get(1);
    QVERIFY(torch::equal(ab.a, ba.b));
    QVERIFY(torch::equal(ab.b, ba.a));
    QVERIFY(!torch::equal(ab.a, ab.b));
    // Training crops: same seed -> same crop, so the swap holds there too.
    DatasetOptions t = tiny("train", 80, 64);
    const Sample tab = PairedDataset(t).get(3, 9);
    t.direction = Direction::BtoA;
    const Sample tba = PairedDataset(t).get(3, 9);
    QVERIFY(torch::equal(tab.a, tba.b));
}

void TestDataset::geometricAugmentationsIdenticalOnBothHalves()
{
    DatasetOptions base = tiny("train", 80, 64);
    const PairedDataset plain(base);

    DatasetOptions h = base;
    h.augmentations_both = { { "h_flip_chance", 1.0 } };
    DatasetOptions v = base;
    v.augmentations_both = { { "v_flip_chance", 1.0 } };
    DatasetOptions r = base;
    r.augmentations_both = { { "rot90_chance", 1.0 } };
    const PairedDataset hds(h), vds(v), rds(r);

    int rotations_seen = 0;
    for (std::uint64_t seed = 1; seed <= 6; ++seed) {
        const Sample p = plain.get(2, seed);
        const Sample hs = hds.get(2, seed); // same seed -> same crop offsets
        QVERIFY(torch::equal(hs.a, torch::flip(p.a, { 2 })));
        QVERIFY(torch::equal(hs.b, torch::flip(p.b, { 2 })));
        const Sample vs = vds.get(2, seed);
        QVERIFY(torch::equal(vs.a, torch::flip(p.a, { 1 })));
        QVERIFY(torch::equal(vs.b, torch::flip(p.b, { 1 })));
        const Sample rs = rds.get(2, seed);
        int k_found = -1;
        for (int k = 0; k < 4 && k_found < 0; ++k)
            if (torch::equal(rs.a, torch::rot90(p.a, k, { 1, 2 })))
                k_found = k;
        QVERIFY(k_found >= 0);
        QVERIFY(torch::equal(rs.b, torch::rot90(p.b, k_found, { 1, 2 }))); // same turn on the target
        rotations_seen |= 1 << k_found;
    }
    QVERIFY(rotations_seen != 1); // not always the identity
}

void TestDataset::inputAugmentationsOnlyTouchInput()
{
    DatasetOptions base = tiny("train", 64, 64);
    const PairedDataset plain(base);
    const Sample p = plain.get(5, 3);

    struct Case {
        const char* name;
        json input;
    };
    const std::vector<Case> cases {
        { "colorjitter",
            { { "colorjitter_chance", 1.0 }, { "colorjitter_min_brightness", 1.3 },
                { "colorjitter_max_brightness", 1.4 } } },
        { "gaussnoise", { { "gaussnoise_chance", 1.0 }, { "gaussnoise_min", 0.1 }, { "gaussnoise_max", 0.2 } } },
        { "randgamma", { { "randgamma_chance", 1.0 }, { "randgamma_min", 150 }, { "randgamma_max", 160 } } },
        { "grayscale", { { "grayscale_chance", 1.0 } } },
    };
    for (const auto& c : cases) {
        DatasetOptions o = base;
        o.augmentations_input = c.input;
        const Sample s = PairedDataset(o).get(5, 3);
        QVERIFY2(torch::equal(s.b, p.b), c.name);
        QVERIFY2(!torch::equal(s.a, p.a), c.name);
        QVERIFY2(s.a.min().item<float>() >= -1.0f && s.a.max().item<float>() <= 1.0f, c.name);
    }
    // Brightness x1.3..1.4 brightens; gamma 1.5..1.6 darkens (values in [0, 1]).
    DatasetOptions bright = base;
    bright.augmentations_input = cases[0].input;
    QVERIFY(PairedDataset(bright).get(5, 3).a.mean().item<float>() > p.a.mean().item<float>());
    DatasetOptions gamma = base;
    gamma.augmentations_input = cases[2].input;
    QVERIFY(PairedDataset(gamma).get(5, 3).a.mean().item<float>() < p.a.mean().item<float>());
    // Grayscale on a colour input (BtoA: the input is the colour half).
    DatasetOptions g = base;
    g.direction = Direction::BtoA;
    g.augmentations_input = cases[3].input;
    const Sample gs = PairedDataset(g).get(5, 3);
    QVERIFY(torch::equal(gs.a[0], gs.a[1]) && torch::equal(gs.a[0], gs.a[2]));
}

void TestDataset::augmentationWarnings()
{
    // NectarGAN's default config: everything it lists is either supported or has chance 0 -> no warning.
    std::ifstream in(NECTAR_TEST_DATA_DIR "/reference/nectargan_default_config.json");
    const json cfg = json::parse(in);
    const json& aug = cfg.at("config").at("dataloader").at("augmentations");
    std::vector<std::string> warnings;
    const AugmentationSettings s = parse_augmentations(aug.at("both"), aug.at("input"), aug.at("target"), warnings);
    QVERIFY(warnings.empty());
    QCOMPARE(s.h_flip_chance, 0.5);
    QCOMPARE(s.gaussnoise_max, 0.44);

    // Unsupported ones with a non-zero chance: one line naming each.
    json both = aug.at("both");
    both["elastic_transform_chance"] = 0.3;
    json input = aug.at("input");
    input["motionblur_chance"] = 0.2;
    json target = { { "h_flip_chance", 0.5 }, { "brand_new", 1 } };
    parse_augmentations(both, input, target, warnings);
    QCOMPARE(warnings.size(), std::size_t { 1 });
    const QString w = QString::fromStdString(warnings[0]);
    QVERIFY2(w.contains(QStringLiteral("both.elastic_transform_chance=0.3"))
            && w.contains(QStringLiteral("input.motionblur_chance=0.2"))
            && w.contains(QStringLiteral("target.h_flip_chance=0.5")) && w.contains(QStringLiteral("target.brand_new")),
        warnings[0].c_str());

    // Reported through the dataset, once.
    DatasetOptions o = tiny("train");
    o.augmentations_both = both;
    PairedDataset ds(o);
    QCOMPARE(count_containing(ds.warnings(), QStringLiteral("elastic_transform")), 1);
    // Not for val/test (no augmentations there).
    o.split = "val";
    o.train = false;
    QVERIFY(PairedDataset(o).warnings().empty());

    std::vector<std::string> ignored;
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument,
        parse_augmentations(json { { "h_flip_chance", 1.5 } }, json::object(), json::object(), ignored));
    try {
        parse_augmentations(json { { "v_flip_chance", "often" } }, json::object(), json::object(), ignored);
        QFAIL("string chance accepted");
    } catch (const std::invalid_argument& e) {
        QVERIFY(QString::fromUtf8(e.what()).contains(QStringLiteral("dataloader.augmentations.both.v_flip_chance")));
    }
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument,
        parse_augmentations(
            json::object(), json { { "gaussnoise_min", 0.5 }, { "gaussnoise_max", 0.1 } }, json::object(), ignored));
}

void TestDataset::deterministicPerSeed()
{
    DatasetOptions o = tiny("train", 86, 64);
    o.augmentations_both = { { "h_flip_chance", 0.5 }, { "rot90_chance", 0.5 } };
    o.augmentations_input = { { "gaussnoise_chance", 0.5 }, { "colorjitter_chance", 0.5 } };
    const PairedDataset ds(o);
    QVERIFY(torch::equal(ds.get(4, 77).a, ds.get(4, 77).a));
    QVERIFY(torch::equal(ds.get(4, 77).b, ds.get(4, 77).b));
    bool differs = false;
    for (std::uint64_t s = 78; s < 82 && !differs; ++s)
        differs = !torch::equal(ds.get(4, 77).b, ds.get(4, s).b);
    QVERIFY(differs);
    QVERIFY(item_seed(1, 2, 3) == item_seed(1, 2, 3));
    QVERIFY(item_seed(1, 2, 3) != item_seed(1, 3, 3));
    QVERIFY(item_seed(1, 2, 3) != item_seed(2, 2, 3));
    QVERIFY(item_seed(1, 2, 3) != item_seed(1, 2, 4));
}

void TestDataset::badDataIsReported()
{
    QTemporaryDir tmp;
    QVERIFY(tmp.isValid());
    QDir root(tmp.path());
    QVERIFY(root.mkpath(QStringLiteral("train/sub")));
    const QString train = root.filePath(QStringLiteral("train"));
    QVERIFY(QFile::copy(kTiny + QStringLiteral("/train/0001.png"), train + QStringLiteral("/0001.png")));
    QVERIFY(QFile::copy(kTiny + QStringLiteral("/train/0002.png"), train + QStringLiteral("/0002.png")));
    write_bytes(train + QStringLiteral("/.DS_Store"), QByteArray("\0\0\0\1Bud1", 8));
    write_bytes(train + QStringLiteral("/notes.txt"), QByteArray("pairs from the beach trip\n"));
    write_bytes(train + QStringLiteral("/broken.png"), QByteArray("this is not a png at all"));
    QVERIFY(make_pair(32).scaled(96, 32).save(train + QStringLiteral("/wide.png"))); // 3:1
    QVERIFY(make_pair(32).scaled(64, 64).save(train + QStringLiteral("/square.png"))); // 1:1

    DatasetOptions o = tiny("train");
    o.dataroot = tmp.path().toStdString();
    const PairedDataset bad(o);
    QCOMPARE(bad.size(), std::size_t { 2 });
    const auto& w = bad.warnings();
    QCOMPARE(count_containing(w, QStringLiteral("non-image")), 1);
    QVERIFY(contains(w, QStringLiteral(".DS_Store")));
    QVERIFY(contains(w, QStringLiteral("notes.txt")));
    QVERIFY(contains(w, QStringLiteral("sub/ (folder)")));
    QCOMPARE(count_containing(w, QStringLiteral("unreadable")), 1);
    QVERIFY(contains(w, QStringLiteral("broken.png")));
    QCOMPARE(count_containing(w, QStringLiteral("not twice")), 1);
    QVERIFY(contains(w, QStringLiteral("wide.png (96x32)")));
    QVERIFY(contains(w, QStringLiteral("square.png (64x64)")));
    QCOMPARE(w.size(), std::size_t { 3 });
    // The usable pairs still load.
    QCOMPARE(bad.get(1).a.size(1), std::int64_t { 64 });
}

void TestDataset::imageKindsConvertedToInputNc()
{
    QTemporaryDir tmp;
    QDir root(tmp.path());
    QVERIFY(root.mkpath(QStringLiteral("val")));
    const QString val = root.filePath(QStringLiteral("val"));

    QVERIFY(make_pair(32, QImage::Format_Grayscale8).save(val + QStringLiteral("/gray.png")));
    QImage rgba = make_pair(32, QImage::Format_ARGB32);
    rgba.setPixelColor(40, 3, QColor(200, 40, 10, 128));
    QVERIFY(rgba.save(val + QStringLiteral("/rgba.png")));
    QImage pal = make_pair(32).convertToFormat(QImage::Format_Indexed8, Qt::ThresholdDither);
    QCOMPARE(pal.format(), QImage::Format_Indexed8);
    QVERIFY(pal.save(val + QStringLiteral("/palette.png")));
    QVERIFY(make_pair(32, QImage::Format_RGBX64).save(val + QStringLiteral("/deep.png")));

    DatasetOptions o;
    o.dataroot = tmp.path().toStdString();
    o.split = "val";
    o.train = false;
    o.crop_size = 32;
    const PairedDataset ds(o);
    QCOMPARE(ds.size(), std::size_t { 4 });
    const auto& w = ds.warnings();
    QVERIFY2(contains(w, QStringLiteral("grayscale images converted to 3 channels"))
            && contains(w, QStringLiteral("gray.png")),
        qPrintable(QString::fromStdString(w.empty() ? std::string() : w[0])));
    QVERIFY(contains(w, QStringLiteral("palette images converted")) && contains(w, QStringLiteral("palette.png")));
    QVERIFY(contains(w, QStringLiteral("alpha channel dropped")) && contains(w, QStringLiteral("rgba.png")));
    QVERIFY(contains(w, QStringLiteral("16-bit")) && contains(w, QStringLiteral("deep.png")));

    for (std::size_t i = 0; i < ds.size(); ++i) {
        const Sample s = ds.get(i);
        QCOMPARE(s.a.size(0), std::int64_t { 3 });
        // B is solid (200, 40, 10) in every file (palette: nearest palette colour, so allow a little).
        const float tol = QString::fromStdString(s.path).endsWith(QStringLiteral("palette.png")) ? 0.1f : 0.01f;
        if (QString::fromStdString(s.path).endsWith(QStringLiteral("gray.png"))) {
            QVERIFY(torch::equal(s.b[0], s.b[1])); // gray file: R = G = B after conversion
            continue;
        }
        QVERIFY2(std::abs(s.b[0][5][5].item<float>() - (200 / 127.5f - 1)) < tol, s.path.c_str());
        QVERIFY2(std::abs(s.b[1][5][5].item<float>() - (40 / 127.5f - 1)) < tol, s.path.c_str());
        // A is a gray ramp: R = G = B.
        QVERIFY2(torch::allclose(s.a[0], s.a[2], 0, tol), s.path.c_str());
    }

    o.input_nc = 1;
    const PairedDataset one(o);
    QVERIFY(contains(one.warnings(), QStringLiteral("colour images converted to 1 channel")));
    QCOMPARE(one.get(2).a.sizes().vec(), (std::vector<std::int64_t> { 1, 32, 32 }));
}

void TestDataset::truncatedImageReportedByPath()
{
    QTemporaryDir tmp;
    QDir root(tmp.path());
    QVERIFY(root.mkpath(QStringLiteral("train")));
    const QString train = root.filePath(QStringLiteral("train"));
    QVERIFY(QFile::copy(kTiny + QStringLiteral("/train/0003.png"), train + QStringLiteral("/0003.png")));
    QFile good(kTiny + QStringLiteral("/train/0004.png"));
    QVERIFY(good.open(QIODevice::ReadOnly));
    const QByteArray bytes = good.readAll();
    write_bytes(train + QStringLiteral("/cut.png"), bytes.left(bytes.size() / 3)); // header intact, pixels cut

    DatasetOptions o = tiny("train");
    o.dataroot = tmp.path().toStdString();
    const PairedDataset ds(o); // header-only scan: it looks fine
    QCOMPARE(ds.size(), std::size_t { 2 });
    try {
        ds.get(1, 0);
        QFAIL("truncated PNG decoded without error");
    } catch (const DataError& e) {
        QVERIFY2(QString::fromUtf8(e.what()).contains(QStringLiteral("cut.png")), e.what());
    }
    // With verify_decode the scan finds it and skips it.
    o.verify_decode = true;
    const PairedDataset verified(o);
    QCOMPARE(verified.size(), std::size_t { 1 });
    QVERIFY(contains(verified.warnings(), QStringLiteral("cut.png")));
}

void TestDataset::emptyOrMissingSplitIsAnError()
{
    QTemporaryDir tmp;
    QDir root(tmp.path());
    QVERIFY(root.mkpath(QStringLiteral("train")));
    DatasetOptions o = tiny("train");
    o.dataroot = tmp.path().toStdString();
    try {
        PairedDataset ds(o);
        QFAIL("empty split accepted");
    } catch (const DataError& e) {
        QVERIFY2(QString::fromUtf8(e.what()).contains(root.filePath(QStringLiteral("train"))), e.what());
    }
    write_bytes(root.filePath(QStringLiteral("train/notes.txt")), "x");
    try {
        PairedDataset ds(o);
        QFAIL("split with only notes.txt accepted");
    } catch (const DataError& e) {
        QVERIFY2(QString::fromUtf8(e.what()).contains(QStringLiteral("1 non-image")), e.what());
    }
    o.split = "val";
    try {
        PairedDataset ds(o);
        QFAIL("missing split accepted");
    } catch (const DataError& e) {
        QVERIFY2(QString::fromUtf8(e.what()).contains(QStringLiteral("not found")), e.what());
    }
    o.dataroot.clear();
    QVERIFY_THROWS_EXCEPTION(DataError, PairedDataset { o });
}

void TestDataset::loaderBatches()
{
    auto ds = std::make_shared<const PairedDataset>(tiny("train", 72, 64));
    DataLoader loader(ds, 3, /*shuffle=*/true, /*num_workers=*/0, /*seed=*/5);
    QCOMPARE(loader.size(), std::size_t { 8 });
    QCOMPARE(loader.batches_per_epoch(), std::size_t { 3 });
    QVERIFY(!loader.next().has_value()); // no epoch begun
    loader.begin_epoch(1);
    std::vector<std::int64_t> sizes;
    std::set<std::string> seen;
    while (auto b = loader.next()) {
        QCOMPARE(b->a.dim(), std::int64_t { 4 });
        QCOMPARE(b->a.sizes(), b->b.sizes());
        QCOMPARE(b->a.size(1), std::int64_t { 3 });
        QCOMPARE(static_cast<std::int64_t>(b->paths.size()), b->a.size(0));
        sizes.push_back(b->a.size(0));
        seen.insert(b->paths.begin(), b->paths.end());
    }
    QCOMPARE(sizes, (std::vector<std::int64_t> { 3, 3, 2 })); // drop_last = false
    QCOMPARE(seen.size(), std::size_t { 8 });
    QVERIFY(!loader.next().has_value());
}

void TestDataset::workersEqualInlineLoading()
{
    DatasetOptions o = tiny("train", 80, 64);
    o.augmentations_both = { { "h_flip_chance", 0.5 }, { "rot90_chance", 0.5 } };
    o.augmentations_input = { { "gaussnoise_chance", 0.5 } };
    auto ds = std::make_shared<const PairedDataset>(o);
    DataLoader inline_loader(ds, 3, true, 0, 11);
    DataLoader worker_loader(ds, 3, true, 3, 11, /*prefetch=*/2);
    std::vector<std::string> order1, order2;
    for (int epoch = 1; epoch <= 2; ++epoch) {
        inline_loader.begin_epoch(epoch);
        worker_loader.begin_epoch(epoch);
        for (;;) {
            auto x = inline_loader.next();
            auto y = worker_loader.next();
            QCOMPARE(x.has_value(), y.has_value());
            if (!x)
                break;
            QCOMPARE(x->paths, y->paths);
            QVERIFY(torch::equal(x->a, y->a));
            QVERIFY(torch::equal(x->b, y->b));
            auto& order = epoch == 1 ? order1 : order2;
            order.insert(order.end(), x->paths.begin(), x->paths.end());
        }
    }
    QVERIFY(order1 != order2); // reshuffled per epoch
    // Same seed, new loader: same epoch-1 order.
    DataLoader again(ds, 3, true, 2, 11);
    again.begin_epoch(1);
    std::vector<std::string> order_again;
    while (auto b = again.next())
        order_again.insert(order_again.end(), b->paths.begin(), b->paths.end());
    QCOMPARE(order_again, order1);
}

void TestDataset::stopMidEpochDoesNotHang()
{
    auto ds = std::make_shared<const PairedDataset>(tiny("train", 72, 64));
    const auto start = std::chrono::steady_clock::now();
    {
        DataLoader loader(ds, 1, true, 4, 1, /*prefetch=*/2);
        loader.begin_epoch(1);
        QVERIFY(loader.next().has_value());
        loader.begin_epoch(2); // abandons epoch 1 with workers blocked on a full window
        QVERIFY(loader.next().has_value());
        QVERIFY(loader.next().has_value());
        loader.stop();
        QVERIFY(!loader.next().has_value());
        loader.begin_epoch(3);
        QVERIFY(loader.next().has_value());
    } // destructor mid-epoch
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    QVERIFY2(seconds < 10.0, qPrintable(QString::number(seconds)));
}

void TestDataset::workerErrorPropagates()
{
    QTemporaryDir tmp;
    QDir root(tmp.path());
    QVERIFY(root.mkpath(QStringLiteral("train")));
    const QString train = root.filePath(QStringLiteral("train"));
    for (const char* f : { "0001.png", "0002.png", "0003.png", "0004.png" })
        QVERIFY(QFile::copy(
            kTiny + QStringLiteral("/train/") + QLatin1String(f), train + QLatin1Char('/') + QLatin1String(f)));
    QFile good(kTiny + QStringLiteral("/train/0005.png"));
    QVERIFY(good.open(QIODevice::ReadOnly));
    write_bytes(train + QStringLiteral("/0005.png"), good.readAll().left(200));

    DatasetOptions o = tiny("train");
    o.dataroot = tmp.path().toStdString();
    auto ds = std::make_shared<const PairedDataset>(o);
    QCOMPARE(ds->size(), std::size_t { 5 });
    for (int workers : { 0, 2 }) {
        DataLoader loader(ds, 2, true, workers, 3);
        loader.begin_epoch(1);
        bool thrown = false;
        try {
            while (loader.next()) { }
        } catch (const DataError& e) {
            thrown = true;
            QVERIFY2(QString::fromUtf8(e.what()).contains(QStringLiteral("0005.png")), e.what());
        }
        QVERIFY(thrown);
        QVERIFY(!loader.next().has_value()); // the epoch ended; no hang
    }
}

void TestDataset::badOptions()
{
    DatasetOptions o = tiny("train", 32, 64);
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, PairedDataset { o });
    o = tiny();
    o.input_nc = 2;
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, PairedDataset { o });
    auto ds = std::make_shared<const PairedDataset>(tiny());
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, DataLoader(ds, 0, false, 0, 0));
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, DataLoader(ds, 1, false, -1, 0));
    QCOMPARE(direction_from_string("BtoA"), Direction::BtoA);
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, direction_from_string("AtoC"));
}

void TestDataset::nonUtf8NamesAreKeptAndShownEscaped()
{
    // Issue #10, item 2: a Linux file name is bytes. Latin-1 names (not UTF-8) in the dataroot and in train/
    // are enumerated, opened and reported as the bytes they are; messages show them escaped (\xe9).
    namespace fs = std::filesystem;
    QTemporaryDir tmp;
    const std::string root = tmp.path().toStdString() + "/d\xe9ta";
    const RemoveAll cleanup { root }; // QTemporaryDir cannot remove names that are not UTF-8
    const std::string train = root + "/train";
    fs::create_directories(train);
    const std::string tiny_train = kTiny.toStdString() + "/train/";
    fs::copy_file(tiny_train + "0001.png", train + "/0001.png");
    fs::copy_file(tiny_train + "0002.png", train + "/0002.png");
    fs::copy_file(tiny_train + "0003.png", train + "/caf\xe9.png");
    std::ofstream(train + "/notes\xe9.txt") << "not an image\n";
    std::ofstream(train + "/broken\xe9.png") << "not a png at all";

    DatasetOptions o = tiny("train");
    o.dataroot = root;
    const PairedDataset ds(o);
    QCOMPARE(ds.size(), std::size_t { 3 }); // the old QString scan lost caf\xe9.png
    QCOMPARE(ds.folder(), train);
    QCOMPARE(ds.path(2), train + "/caf\xe9.png"); // byte order, as QDir::Name sorts ASCII
    QCOMPARE(ds.path(0), train + "/0001.png");
    // Decoded through its real bytes: the same pixels as tiny/train/0003.png.
    const PairedDataset reference(tiny("train"));
    QCOMPARE(reference.path(2), tiny_train + "0003.png");
    QVERIFY(torch::equal(ds.get(2, 7).a, reference.get(2, 7).a));
    QVERIFY(torch::equal(ds.get(2, 7).b, reference.get(2, 7).b));
    // Entries that are skipped are named, escaped, never dropped in silence.
    QVERIFY2(contains(ds.warnings(), QStringLiteral("notes\\xe9.txt")), join(ds.warnings(), "\n").c_str());
    QVERIFY2(contains(ds.warnings(), QStringLiteral("broken\\xe9.png")), join(ds.warnings(), "\n").c_str());
    for (const auto& w : ds.warnings())
        QVERIFY2(!QString::fromStdString(w).contains(QChar(0xfffd)), w.c_str());
    // A missing split names the dataroot escaped, not with U+FFFD.
    o.split = "val";
    try {
        PairedDataset missing(o);
        QFAIL("missing split accepted");
    } catch (const DataError& e) {
        QVERIFY2(std::string(e.what()).find("d\\xe9ta/val") != std::string::npos, e.what());
    }
}

QTEST_GUILESS_MAIN(TestDataset)
#include "tst_dataset.moc"
