// SPDX-License-Identifier: Apache-2.0
// tune_allocator_for_training (util/allocator.h): glibc keeps freed gradient-sized blocks in the heap.
#include <QtTest/QtTest>

#include <cstdlib>
#include <cstring>

#include "util/allocator.h"

#if defined(__GLIBC__)
#include <malloc.h>
#endif

using namespace nectar;

class TestAllocator : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void allocatorKeepsFreedBlocks()
    {
#if defined(__SANITIZE_ADDRESS__)
        QVERIFY(!tune_allocator_for_training());
        QSKIP("AddressSanitizer has its own allocator: glibc's heap policy does not apply");
#elif defined(__GLIBC__)
        {
            // The user's own malloc tuning wins.
            qputenv("MALLOC_TRIM_THRESHOLD_", "1");
            const auto restore = qScopeGuard([] { qunsetenv("MALLOC_TRIM_THRESHOLD_"); });
            QVERIFY(!tune_allocator_for_training());
        }
        QVERIFY(tune_allocator_for_training());
        // A 24 MiB block (a large gradient) now comes from the heap, not from mmap, and stays there
        // after free, ready for the next iteration.
        const auto before = mallinfo2();
        void* block = std::malloc(24u << 20);
        QVERIFY(block);
        std::memset(block, 1, 24u << 20);
        const auto during = mallinfo2();
        QCOMPARE(during.hblks, before.hblks); // no new mmap'ed block
        std::free(block);
        const auto after = mallinfo2();
        QVERIFY2(after.fordblks >= (24u << 20), "the freed block stays in the heap");
#else
        QSKIP("heap tuning applies to glibc only");
#endif
    }
};

QTEST_GUILESS_MAIN(TestAllocator)
#include "tst_allocator.moc"
