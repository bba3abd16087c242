// SPDX-License-Identifier: Apache-2.0
// File names as bytes (util/paths.h): names that are not UTF-8 are shown escaped and read back exactly.
#include <QtTest/QtTest>

#include <string>

#include "util/paths.h"

using namespace nectar;

class TestPaths : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void validUtf8IsUnchanged()
    {
        const std::string utf8 = "/data/caf\xc3\xa9/\xe6\x97\xa5\xe6\x9c\xac/\xf0\x9f\x98\x80.png";
        QVERIFY(is_valid_utf8(utf8));
        QCOMPARE(display_path(utf8), utf8);
        QCOMPARE(display_path("plain/ascii_v1"), std::string("plain/ascii_v1"));
    }

    void otherBytesAreEscaped()
    {
        // Latin-1 e-acute, a lone continuation byte, an overlong '/', a surrogate, a truncated sequence.
        QVERIFY(!is_valid_utf8("caf\xe9.png"));
        QCOMPARE(display_path("caf\xe9.png"), std::string("caf\\xe9.png"));
        QCOMPARE(display_path("a\x80z"), std::string("a\\x80z"));
        QCOMPARE(display_path("\xc0\xaf"), std::string("\\xc0\\xaf"));
        QCOMPARE(display_path("\xed\xa0\x80"), std::string("\\xed\\xa0\\x80"));
        QCOMPARE(display_path("x\xe6\x97"), std::string("x\\xe6\\x97"));
        QCOMPARE(display_path("\xf4\x90\x80\x80"), std::string("\\xf4\\x90\\x80\\x80")); // > U+10FFFF
        QVERIFY(is_valid_utf8(display_path("runs\xff\xfe/caf\xe9")));
    }

    void displayFormReadsBackToTheSameBytes()
    {
        for (const std::string& p : { std::string("/tmp/caf\xe9/runs\xe9\xff"), std::string("caf\xc3\xa9"),
                 std::string("\x80\x81\x82"), std::string("a\\b\\x41") }) {
            QCOMPARE(path_from_display(display_path(p)), p);
        }
        // Only bytes >= 0x80 are escapes; "\x41" is text.
        QCOMPARE(path_from_display("a\\x41b"), std::string("a\\x41b"));
        QCOMPARE(path_from_display("a\\xE9"), std::string("a\xe9"));
        QCOMPARE(path_from_display("end\\x"), std::string("end\\x"));
        QCOMPARE(path_from_display("end\\xe"), std::string("end\\xe"));
    }
};

QTEST_GUILESS_MAIN(TestPaths)
#include "tst_paths.moc"
