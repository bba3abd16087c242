// SPDX-License-Identifier: Apache-2.0
// Replays the committed fuzz regression corpus (tests/fuzz/corpus) through the same entry points the
// libFuzzer targets use (fuzz_entry.h), in the normal build and without clang. Files in corpus/<target>/
// go to that reader, files in corpus/common/ to every reader (the journal reader: see cases()). A file named ok-* must
// be accepted, bad-* must be refused with an InputError; any other name (a fuzzer's finding or seed) must only not
// crash, hang or throw anything else. The shipped specs, presets and reference files are replayed as ok seeds.
#include <QtTest/QtTest>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "fuzz_entry.h"

namespace fs = std::filesystem;
using nectar::fuzz::Outcome;

namespace {

std::string read_bytes(const fs::path& p)
{
    std::ifstream in(p, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

struct Case {
    std::string target;
    fs::path file;
    char expect; // 'a' accepted, 'r' refused, '?' only no crash
};

char expectation(const fs::path& file)
{
    const std::string name = file.filename().string();
    if (name.rfind("ok-", 0) == 0)
        return 'a';
    if (name.rfind("bad-", 0) == 0)
        return 'r';
    return '?';
}

std::vector<Case> cases()
{
    std::vector<Case> out;
    const fs::path corpus(NECTAR_FUZZ_CORPUS_DIR);
    const auto add_folder = [&](const std::string& target, const fs::path& dir) {
        if (!fs::is_directory(dir))
            return;
        std::vector<fs::path> files;
        for (const auto& e : fs::directory_iterator(dir))
            if (e.is_regular_file())
                files.push_back(e.path());
        std::sort(files.begin(), files.end());
        for (const auto& f : files)
            out.push_back({ target, f, expectation(f) });
    };
    for (const auto& t : nectar::fuzz::targets()) {
        add_folder(t.name, corpus / t.name);
        add_folder(t.name, corpus / "common");
    }
    // A journal's unterminated last line is torn by a crash and skipped (loss_log.h), so a common/ file
    // that is bad JSON can be a readable journal: there it only must not crash.
    for (auto& c : out)
        if (c.target == "journal" && c.file.parent_path().filename() == "common")
            c.expect = '?';
    // Seeds the fuzzers also start from (README "Fuzzing"): what we ship must be accepted.
    const fs::path specs(NECTAR_SPECS_SOURCE_DIR);
    for (const char* f : { "pix2pix.json", "lsgan.json" })
        out.push_back({ "spec", specs / f, 'a' });
    for (const char* f : { "pix2pix-basic-quick.json", "pix2pix-extended-sharp.json" })
        out.push_back({ "preset", specs / "presets" / f, 'a' });
    const fs::path ref = fs::path(NECTAR_TEST_DATA_DIR) / "reference";
    out.push_back({ "config", ref / "nectargan_default_config.json", 'a' });
    out.push_back({ "loss_log", ref / "nectargan_loss_log_example.json", 'a' });
    return out;
}

nectar::fuzz::EntryPoint entry(const std::string& target)
{
    for (const auto& t : nectar::fuzz::targets())
        if (target == t.name)
            return t.run;
    return nullptr;
}

} // namespace

class TestFuzzCorpus : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void replay_data()
    {
        QTest::addColumn<QString>("target");
        QTest::addColumn<QString>("file");
        QTest::addColumn<QChar>("expect");
        const auto all = cases();
        QVERIFY2(all.size() > 20, "the corpus is missing");
        for (const auto& c : all) {
            const std::string row = c.target + ":" + c.file.filename().string();
            QTest::newRow(row.c_str()) << QString::fromStdString(c.target) << QString::fromStdString(c.file.string())
                                       << QChar(c.expect);
        }
    }

    void replay()
    {
        QFETCH(QString, target);
        QFETCH(QString, file);
        QFETCH(QChar, expect);
        const fs::path path = file.toStdString();
        QVERIFY2(fs::is_regular_file(path), qPrintable(file + " is missing"));
        const auto run = entry(target.toStdString());
        QVERIFY(run);
        const std::string bytes = read_bytes(path);
        QElapsedTimer timer;
        timer.start();
        Outcome got {};
        try {
            got = run(bytes);
        } catch (const std::exception& e) {
            QFAIL(qPrintable(QStringLiteral("%1 threw %2: %3").arg(file, typeid(e).name(), e.what())));
        }
        // A reader that takes seconds on a corpus file is the first sign of a hang.
        QVERIFY2(timer.elapsed() < 10000, qPrintable(QStringLiteral("%1 took %2 ms").arg(file).arg(timer.elapsed())));
        if (expect == QLatin1Char('a'))
            QVERIFY2(got == Outcome::Accepted,
                qPrintable(file + " was refused: " + QString::fromStdString(nectar::fuzz::last_error())));
        else if (expect == QLatin1Char('r'))
            QVERIFY2(got == Outcome::Rejected, qPrintable(file + " was accepted"));
    }
};

QTEST_GUILESS_MAIN(TestFuzzCorpus)
#include "tst_fuzz_corpus.moc"
