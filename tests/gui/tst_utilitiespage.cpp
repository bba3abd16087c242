// SPDX-License-Identifier: Apache-2.0
// The Utilities page: pair on a fixture pair of folders (a match, an image only in B, a text file) through the
// worker, dry run first (lists exactly what the run then writes, writes nothing), then the run, then a second
// run refused inline because the output has files; split's dry run; check's report; the export's inline
// error for an epoch without checkpoint.
#include <QDir>
#include <QFile>
#include <QImage>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QtTest>

#include "bridge/evaluationbridge.h"
#include "gui_experiment_fixture.h"
#include "pages/utilitiespage.h"
#include "toolbox_test_env.h"

namespace {
constexpr int kTimeoutMs = 30000;

bool writeImage(const QString& file, int w, int h, QColor colour)
{
    QImage im(w, h, QImage::Format_RGB32);
    im.fill(colour);
    return im.save(file);
}

QStringList fileNames(const QStringList& paths)
{
    QStringList out;
    for (const QString& p : paths)
        out.append(QFileInfo(p).fileName());
    return out;
}
} // namespace

class TestUtilitiesPage : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase() { testenv::isolate(m_scratch); }

    void pairDryRunThenRun()
    {
        QTemporaryDir tmp;
        const QDir root(tmp.path());
        QVERIFY(root.mkpath(QStringLiteral("A")) && root.mkpath(QStringLiteral("B")));
        const QString a = root.filePath(QStringLiteral("A")), b = root.filePath(QStringLiteral("B"));
        const QString out = root.filePath(QStringLiteral("pairs"));
        QVERIFY(writeImage(a + QStringLiteral("/one.png"), 20, 10, Qt::red));
        QVERIFY(writeImage(b + QStringLiteral("/one.png"), 20, 10, Qt::blue));
        QVERIFY(writeImage(a + QStringLiteral("/two.png"), 20, 10, Qt::green));
        QVERIFY(writeImage(b + QStringLiteral("/two.jpg"), 20, 10, Qt::yellow));
        QVERIFY(writeImage(b + QStringLiteral("/lonely.png"), 20, 10, Qt::gray));
        QFile note(a + QStringLiteral("/notes.txt"));
        QVERIFY(note.open(QIODevice::WriteOnly));
        note.write("not an image");
        note.close();

        UtilitiesPage page;
        page.show();
        QSignalSpy finished(&page, &UtilitiesPage::toolFinished);
        QSignalSpy failed(&page, &UtilitiesPage::toolFailed);
        engine::PairRequest r;
        r.dirA = a;
        r.dirB = b;
        r.output = out;
        r.size = 8;
        r.direction = QStringLiteral("BtoA");
        page.setPairRequest(r);

        QVERIFY(page.runTool(UtilitiesPage::Tool::Pair, /*dryRun=*/true));
        QVERIFY(page.isRunning());
        QVERIFY2(finished.wait(kTimeoutMs), qPrintable(page.errorText()));
        QCOMPARE(finished.last().at(0).toBool(), true);
        const QStringList planned = page.writes();
        QCOMPARE(fileNames(planned), QStringList({ QStringLiteral("one.png"), QStringLiteral("two.png") }));
        QVERIFY(!QFileInfo::exists(out + QStringLiteral("/one.png"))); // a dry run writes nothing
        QVERIFY2(page.reportText().contains(QStringLiteral("lonely")), qPrintable(page.reportText()));
        QVERIFY2(page.reportText().contains(QStringLiteral("notes.txt")), qPrintable(page.reportText()));
        page.resize(1000, 700);
        QVERIFY(testenv::screenshot(&page, QStringLiteral("utilities_pair_dry_run")));

        QVERIFY(page.runTool(UtilitiesPage::Tool::Pair, /*dryRun=*/false));
        QVERIFY2(finished.wait(kTimeoutMs), qPrintable(page.errorText()));
        QCOMPARE(finished.last().at(1).toBool(), false); // not stopped
        QCOMPARE(page.writes(), planned); // the run wrote exactly the plan
        for (const QString& f : planned) {
            const QImage im(f);
            QCOMPARE(im.size(), QSize(16, 8)); // two 8x8 halves
        }
        // BtoA: B's half on the left. one.png: B is blue, A is red.
        const QImage one(out + QStringLiteral("/one.png"));
        QVERIFY(qBlue(one.pixel(1, 4)) > 200 && qRed(one.pixel(1, 4)) < 50);
        QVERIFY(qRed(one.pixel(12, 4)) > 200 && qBlue(one.pixel(12, 4)) < 50);
        QCOMPARE(failed.count(), 0);

        // Again into the now non-empty output: refused inline, naming the folder; nothing changes.
        QVERIFY(page.runTool(UtilitiesPage::Tool::Pair, /*dryRun=*/false));
        QVERIFY(failed.wait(kTimeoutMs));
        QVERIFY2(page.errorText().contains(QStringLiteral("pairs")), qPrintable(page.errorText()));
        QCOMPARE(QDir(out).entryList(QDir::Files).size(), 2);
    }

    void splitDryRunAndCheck()
    {
        QTemporaryDir tmp;
        const QDir root(tmp.path());
        QVERIFY(root.mkpath(QStringLiteral("pairs")));
        for (int i = 0; i < 10; ++i)
            QVERIFY(writeImage(root.filePath(QStringLiteral("pairs/%1.png").arg(i)), 16, 8, Qt::darkCyan));
        UtilitiesPage page;
        QSignalSpy finished(&page, &UtilitiesPage::toolFinished);
        engine::SplitRequest s;
        s.input = root.filePath(QStringLiteral("pairs"));
        s.output = root.filePath(QStringLiteral("data"));
        s.train = 0.6;
        s.val = 0.2;
        s.test = 0.2;
        s.seed = 3;
        page.setSplitRequest(s);
        QVERIFY(page.runTool(UtilitiesPage::Tool::Split, true));
        QVERIFY2(finished.wait(kTimeoutMs), qPrintable(page.errorText()));
        QCOMPARE(page.writes().size(), 10);
        QCOMPARE(page.writes().filter(QStringLiteral("/train/")).size(), 6);
        QCOMPARE(page.writes().filter(QStringLiteral("/val/")).size(), 2);
        QVERIFY(!QFileInfo::exists(root.filePath(QStringLiteral("data"))));
        QVERIFY(page.runTool(UtilitiesPage::Tool::Split, false));
        QVERIFY2(finished.wait(kTimeoutMs), qPrintable(page.errorText()));
        QCOMPARE(QDir(root.filePath(QStringLiteral("data/train"))).entryList(QDir::Files).size(), 6);

        page.setCheckRoot(root.filePath(QStringLiteral("data")));
        QVERIFY(page.runTool(UtilitiesPage::Tool::Check, false));
        QVERIFY2(finished.wait(kTimeoutMs), qPrintable(page.errorText()));
        QVERIFY2(page.reportText().contains(QStringLiteral("train: 6 pair(s)")), qPrintable(page.reportText()));
        QVERIFY2(page.reportText().contains(QStringLiteral("size 16x8: 6")), qPrintable(page.reportText()));
    }

    void exportErrorIsInline()
    {
        QTemporaryDir tmp;
        UtilitiesPage page;
        QSignalSpy failed(&page, &UtilitiesPage::exportFailed);
        engine::OnnxRequest r;
        r.experimentDir = QDir(tmp.path()).filePath(QStringLiteral("missing_v1"));
        r.epoch = 3;
        r.output = QDir(tmp.path()).filePath(QStringLiteral("model.onnx"));
        r.opset = engine::maxOnnxOpset();
        page.setOnnxRequest(r);
        QVERIFY(page.exportOnnx());
        QVERIFY(failed.wait(kTimeoutMs));
        QVERIFY(!page.onnxErrorText().isEmpty());
        QCOMPARE(page.onnxErrorText(), failed.last().at(0).toString());
        QVERIFY(page.onnxResultText().isEmpty());
        QVERIFY(!QFileInfo::exists(r.output));
    }

    void exportWritesTheModel()
    {
        QTemporaryDir tmp;
        const QString exp = testenv::fixtureExperiment(tmp);
        QVERIFY(!exp.isEmpty());
        UtilitiesPage page;
        QSignalSpy finished(&page, &UtilitiesPage::exportFinished);
        engine::OnnxRequest r;
        r.experimentDir = exp;
        r.epoch = 2;
        r.output = QDir(tmp.path()).filePath(QStringLiteral("model.onnx"));
        r.height = 16;
        r.width = 24;
        r.opset = 17;
        page.setOnnxRequest(r);
        QVERIFY(page.exportOnnx());
        QVERIFY2(finished.wait(kTimeoutMs), qPrintable(page.onnxErrorText()));
        QCOMPARE(finished.last().at(0).toString(), r.output);
        QVERIFY(page.onnxErrorText().isEmpty());
        // The result names the file, its size as written and the input size asked for.
        const QString text = page.onnxResultText();
        QVERIFY2(text.contains(r.output), qPrintable(text));
        QVERIFY2(
            text.contains(QLocale().toString(QFileInfo(r.output).size()) + QStringLiteral(" bytes")), qPrintable(text));
        QVERIFY2(text.contains(QStringLiteral("16 × 24")), qPrintable(text));
    }

private:
    QTemporaryDir m_scratch;
};

QTEST_MAIN(TestUtilitiesPage)
#include "tst_utilitiespage.moc"
