// SPDX-License-Identifier: Apache-2.0
// Dataset preparation (data/dataset_tools.h and nectar-data): pair with unmatched, unreadable, non-image
// and mismatched files; split by ratios and seed; check; dry runs equal to the real runs; no overwrite.

#include <QDir>
#include <QFile>
#include <QImage>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest/QtTest>

#include <filesystem>

#include "data/dataset_tools.h"
#include "data/paired_dataset.h"

using namespace nectar;
namespace fs = std::filesystem;

namespace {

const QString kData = QStringLiteral(NECTAR_DATA_EXE);

void image(const QString& path, int w, int h, QColor color)
{
    QImage img(w, h, QImage::Format_RGB888);
    img.fill(color);
    QVERIFY(img.save(path));
}

void text(const QString& path, const QByteArray& bytes)
{
    QFile f(path);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write(bytes);
}

/// A/ and B/ with two good pairs, one name in each alone, a broken file, a text file and a size mismatch.
void make_folders(const QString& root)
{
    QDir().mkpath(root + QStringLiteral("/A"));
    QDir().mkpath(root + QStringLiteral("/B"));
    image(root + QStringLiteral("/A/x1.png"), 32, 32, Qt::red);
    image(root + QStringLiteral("/B/x1.png"), 32, 32, Qt::blue);
    image(root + QStringLiteral("/A/x2.jpg"), 32, 32, Qt::red);
    image(root + QStringLiteral("/B/x2.png"), 32, 32, Qt::blue);
    image(root + QStringLiteral("/A/only_a.png"), 32, 32, Qt::red);
    image(root + QStringLiteral("/B/only_b.png"), 32, 32, Qt::blue);
    image(root + QStringLiteral("/A/mis.png"), 32, 32, Qt::red);
    image(root + QStringLiteral("/B/mis.png"), 16, 16, Qt::blue);
    text(root + QStringLiteral("/A/broken.png"), "not a png at all");
    image(root + QStringLiteral("/B/broken.png"), 32, 32, Qt::blue);
    text(root + QStringLiteral("/A/notes.txt"), "hello");
}

/// make_folders' A/ and B/ into <root>/pairs.
PairOptions pair_options(const QString& root)
{
    PairOptions o;
    o.dir_a = (root + QStringLiteral("/A")).toStdString();
    o.dir_b = (root + QStringLiteral("/B")).toStdString();
    o.output = (root + QStringLiteral("/pairs")).toStdString();
    return o;
}

std::vector<std::string> names(const std::vector<std::string>& paths)
{
    std::vector<std::string> out;
    for (const auto& p : paths)
        out.push_back(fs::path(p).filename().string());
    return out;
}

struct Run {
    int code = -1;
    QString out, err;
};

Run nectar_data(const QStringList& args)
{
    QProcess p;
    p.start(kData, args);
    Run r;
    if (!p.waitForFinished(60000))
        return r;
    r.code = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -2;
    r.out = QString::fromUtf8(p.readAllStandardOutput());
    r.err = QString::fromUtf8(p.readAllStandardError());
    return r;
}

} // namespace

class TestDataTools : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void pairMatchesByNameAndReportsTheRest()
    {
        QTemporaryDir tmp;
        make_folders(tmp.path());
        PairOptions o = pair_options(tmp.path());
        const PairReport plan = pair_images(o, /*dry_run=*/true);
        QCOMPARE(names(plan.writes), (std::vector<std::string> { "x1.png", "x2.png" }));
        QCOMPARE(names(plan.unmatched_a), (std::vector<std::string> { "only_a.png" }));
        QCOMPARE(names(plan.unmatched_b), (std::vector<std::string> { "only_b.png" }));
        QCOMPARE(plan.unreadable.size(), std::size_t(1));
        QVERIFY2(plan.unreadable[0].find("A/broken.png") != std::string::npos, plan.unreadable[0].c_str());
        QCOMPARE(names(plan.not_images), (std::vector<std::string> { "notes.txt" }));
        QCOMPARE(plan.size_mismatch, (std::vector<std::string> { "mis: 32x32 vs 16x16" }));
        QVERIFY(!fs::exists(o.output)); // a dry run creates nothing

        const PairReport done = pair_images(o, false);
        QCOMPARE(done.writes, plan.writes); // the dry run listed exactly what was written
        const QImage x1(QString::fromStdString(done.writes[0]));
        QCOMPARE(x1.size(), QSize(64, 32));
        QCOMPARE(x1.pixelColor(5, 5), QColor(Qt::red)); // A | B
        QCOMPARE(x1.pixelColor(40, 5), QColor(Qt::blue));
        QCOMPARE(QDir(QString::fromStdString(o.output)).entryList(QDir::Files).size(), 2);

        // Never overwritten: a non-empty output is refused, and with into_non_empty the existing names are.
        QVERIFY_THROWS_EXCEPTION(DataError, pair_images(o, false));
        o.into_non_empty = true;
        try {
            pair_images(o, false);
            QFAIL("an existing output file was overwritten");
        } catch (const DataError& e) {
            QVERIFY2(QString::fromUtf8(e.what()).contains(QStringLiteral("exists already")), e.what());
        }

        // BtoA and a size: B | A, both halves resized, so the mismatched pair is paired too.
        o.output = (tmp.path() + QStringLiteral("/pairs16")).toStdString();
        o.into_non_empty = false;
        o.size = 16;
        o.direction = Direction::BtoA;
        const PairReport sized = pair_images(o, false);
        QCOMPARE(names(sized.writes), (std::vector<std::string> { "mis.png", "x1.png", "x2.png" }));
        const QImage m(QString::fromStdString(sized.writes[0]));
        QCOMPARE(m.size(), QSize(32, 16));
        QCOMPARE(m.pixelColor(2, 2), QColor(Qt::blue));
        QCOMPARE(m.pixelColor(20, 2), QColor(Qt::red));
    }

    void pairStopsBetweenFiles()
    {
        QTemporaryDir tmp;
        make_folders(tmp.path());
        PairOptions o = pair_options(tmp.path());
        const PairReport r = pair_images(o, false, [](std::size_t done, std::size_t) { return done < 1; });
        QVERIFY(r.stopped);
        QCOMPARE(names(r.writes), (std::vector<std::string> { "x1.png" }));
        // Only complete files: no temp file is left behind.
        QCOMPARE(QDir(QString::fromStdString(o.output)).entryList(QDir::Files | QDir::Hidden),
            QStringList { QStringLiteral("x1.png") });
    }

    void splitByRatiosAndSeed()
    {
        QTemporaryDir tmp;
        const QString in = tmp.path() + QStringLiteral("/in");
        QDir().mkpath(in);
        for (int i = 0; i < 10; ++i)
            image(in + QStringLiteral("/p%1.png").arg(i), 64, 32, QColor(i * 20, 0, 0));
        text(in + QStringLiteral("/readme.md"), "x");
        SplitOptions o;
        o.input = in.toStdString();
        o.output = (tmp.path() + QStringLiteral("/out")).toStdString();
        o.train = 0.6;
        o.val = 0.2;
        o.test = 0.2;
        o.seed = 3;
        const SplitReport plan = split_dataset(o, true);
        QCOMPARE(plan.counts.at("train"), std::size_t(6));
        QCOMPARE(plan.counts.at("val"), std::size_t(2));
        QCOMPARE(plan.counts.at("test"), std::size_t(2));
        QCOMPARE(names(plan.not_images), (std::vector<std::string> { "readme.md" }));
        QVERIFY(!fs::exists(o.output));
        QCOMPARE(split_dataset(o, true).writes, plan.writes); // the same seed, the same split
        SplitOptions other = o;
        other.seed = 4;
        QVERIFY(split_dataset(other, true).writes != plan.writes);

        const SplitReport done = split_dataset(o, false);
        QCOMPARE(done.writes, plan.writes);
        for (const auto& [src, dest] : done.writes) {
            QVERIFY(fs::exists(dest));
            QVERIFY(fs::exists(src)); // copied, not moved
        }
        QVERIFY_THROWS_EXCEPTION(DataError, split_dataset(o, false)); // never overwrites

        // Move: the sources go.
        o.output = (tmp.path() + QStringLiteral("/moved")).toStdString();
        o.move = true;
        const SplitReport moved = split_dataset(o, false);
        for (const auto& [src, dest] : moved.writes) {
            QVERIFY(fs::exists(dest));
            QVERIFY(!fs::exists(src));
        }
        o.train = -1;
        QVERIFY_THROWS_EXCEPTION(DataError, split_dataset(o, true));
    }

    void checkReportsCountsSizesAndAspect()
    {
        const CheckReport tiny = check_dataset(std::string(NECTAR_TEST_DATA_DIR) + "/tiny");
        QCOMPARE(tiny.splits.size(), std::size_t(3));
        QCOMPARE(tiny.splits[0].name, std::string("train"));
        QCOMPARE(tiny.splits[0].pairs, std::size_t(8));
        QCOMPARE(tiny.splits[0].sizes.at("128x64"), std::size_t(8));
        QVERIFY(tiny.splits[0].wrong_aspect.empty());

        QTemporaryDir tmp;
        QDir().mkpath(tmp.path() + QStringLiteral("/train"));
        image(tmp.path() + QStringLiteral("/train/ok.png"), 64, 32, Qt::red);
        image(tmp.path() + QStringLiteral("/train/square.png"), 32, 32, Qt::red);
        text(tmp.path() + QStringLiteral("/train/broken.png"), "nope");
        const CheckReport r = check_dataset(tmp.path().toStdString());
        QCOMPARE(r.splits.size(), std::size_t(1));
        QCOMPARE(r.splits[0].pairs, std::size_t(1));
        QCOMPARE(r.splits[0].wrong_aspect.size(), std::size_t(1));
        QCOMPARE(r.splits[0].sizes.at("32x32"), std::size_t(1));
        QString warnings;
        for (const auto& w : r.splits[0].warnings)
            warnings += QString::fromStdString(w) + QLatin1Char('\n');
        QVERIFY2(warnings.contains(QStringLiteral("broken.png")), qPrintable(warnings));
        QVERIFY_THROWS_EXCEPTION(DataError, check_dataset((tmp.path() + QStringLiteral("/train")).toStdString()));
    }

    void commandLineDryRunListsTheRealRun()
    {
        QTemporaryDir tmp;
        make_folders(tmp.path());
        const QStringList args { QStringLiteral("pair"), QStringLiteral("--a"), tmp.path() + QStringLiteral("/A"),
            QStringLiteral("--b"), tmp.path() + QStringLiteral("/B"), QStringLiteral("--output"),
            tmp.path() + QStringLiteral("/pairs") };
        const Run dry = nectar_data(args + QStringList { QStringLiteral("--dry-run") });
        QCOMPARE(dry.code, 0);
        QVERIFY(!QDir(tmp.path() + QStringLiteral("/pairs")).exists());
        const Run real = nectar_data(args);
        QCOMPARE(real.code, 0);
        QCOMPARE(real.out, dry.out);
        QCOMPARE(real.out.count(QStringLiteral("write ")), 2);
        QVERIFY2(real.err.contains(QStringLiteral("only in A (1)")), qPrintable(real.err));
        const Run again = nectar_data(args);
        QCOMPARE(again.code, 2);
        QVERIFY2(again.err.contains(QStringLiteral("is not empty")), qPrintable(again.err));
        QCOMPARE(nectar_data({ QStringLiteral("pair"), QStringLiteral("--a"), tmp.path() }).code, 2);
        const Run check = nectar_data(
            { QStringLiteral("check"), QStringLiteral("--dataroot"), QStringLiteral(NECTAR_TEST_DATA_DIR "/tiny") });
        QCOMPARE(check.code, 0);
        QVERIFY2(check.out.startsWith(QStringLiteral("train: 8 pair(s)")), qPrintable(check.out));
    }
};

QTEST_GUILESS_MAIN(TestDataTools)
#include "tst_data_tools.moc"
