// SPDX-License-Identifier: Apache-2.0
// LossTableModel: model invariants (QAbstractItemModelTester), validated edits, add/remove.
#include <QAbstractItemModelTester>
#include <QSignalSpy>
#include <QtTest>

#include <cmath>

#include "objective/losstabledelegate.h"
#include "objective/losstablemodel.h"

#include <QColor>
#include <QComboBox>
#include <QLineEdit>
#include <QSpinBox>
#include <QStyleOptionViewItem>

class TestLossTableModel : public QObject {
    Q_OBJECT
private:
    static std::vector<LossRow> sampleRows()
    {
        LossRow a;
        a.name = QStringLiteral("G_L1");
        a.function = QStringLiteral("L1");
        a.weight = 100.0;
        a.tags = { QStringLiteral("G") };
        a.prediction = QStringLiteral("fake");
        a.target = QStringLiteral("real");
        LossRow b = a;
        b.name = QStringLiteral("D_real");
        b.function = QStringLiteral("BCEWithLogits");
        b.weight = 1.0;
        b.tags = { QStringLiteral("D") };
        b.prediction = QStringLiteral("D_real");
        b.target = QStringLiteral("ones");
        return { a, b };
    }

private Q_SLOTS:
    void modelTester()
    {
        LossTableModel model;
        QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
        model.setRows(sampleRows());
        QCOMPARE(model.rowCount(), 2);
        QCOMPARE(model.columnCount(), int(LossTableModel::ColumnCount));
        LossRow c = sampleRows()[0];
        c.name = QStringLiteral("G_L2");
        QString error;
        QVERIFY(model.addLoss(c, &error));
        QVERIFY(model.setData(model.index(0, LossTableModel::WeightColumn), 5.0));
        QVERIFY(model.removeLoss(1));
        QCOMPARE(model.rowCount(), 2);
        model.setRows({});
        QCOMPARE(model.rowCount(), 0);
    }

    void displayAndRoles()
    {
        LossTableModel model;
        model.setRows(sampleRows());
        const QModelIndex w = model.index(0, LossTableModel::WeightColumn);
        QCOMPARE(w.data(Qt::DisplayRole).toString(), QStringLiteral("100"));
        QCOMPARE(w.data(LossTableModel::WeightRole).toDouble(), 100.0);
        QCOMPARE(model.index(1, LossTableModel::InputsColumn).data().toString(), QStringLiteral("(D_real, ones)"));
        QCOMPARE(model.index(1, 0).data(LossTableModel::InputsRole).toStringList(),
            QStringList({ QStringLiteral("D_real"), QStringLiteral("ones") }));
        QCOMPARE(model.index(0, LossTableModel::ScheduleColumn).data().toString(), QStringLiteral("none"));
        QVERIFY(model.flags(w) & Qt::ItemIsEditable);
        QVERIFY(!(model.flags(model.index(0, LossTableModel::NameColumn)) & Qt::ItemIsEditable));
        QVERIFY(!(model.flags(model.index(0, LossTableModel::FunctionColumn)) & Qt::ItemIsEditable));
    }

    void setWeight_data()
    {
        QTest::addColumn<QVariant>("value");
        QTest::addColumn<bool>("accepted");
        QTest::addColumn<double>("expected");
        QTest::newRow("number") << QVariant(50.0) << true << 50.0;
        QTest::newRow("text") << QVariant(QStringLiteral(" 12.5 ")) << true << 12.5;
        QTest::newRow("zero") << QVariant(0.0) << true << 0.0;
        QTest::newRow("negative") << QVariant(-1.0) << false << 100.0;
        QTest::newRow("nan") << QVariant(std::nan("")) << false << 100.0;
        QTest::newRow("inf") << QVariant(INFINITY) << false << 100.0;
        QTest::newRow("garbage") << QVariant(QStringLiteral("abc")) << false << 100.0;
        QTest::newRow("inf text") << QVariant(QStringLiteral("inf")) << false << 100.0;
    }
    void setWeight()
    {
        QFETCH(QVariant, value);
        QFETCH(bool, accepted);
        QFETCH(double, expected);
        LossTableModel model;
        model.setRows(sampleRows());
        QSignalSpy rejected(&model, &LossTableModel::editRejected);
        QSignalSpy changed(&model, &LossTableModel::dataChanged);
        QSignalSpy edited(&model, &LossTableModel::lossEdited);
        QCOMPARE(model.setData(model.index(0, LossTableModel::WeightColumn), value), accepted);
        QCOMPARE(model.rows()[0].weight, expected);
        QCOMPARE(rejected.count(), accepted ? 0 : 1);
        QCOMPARE(changed.count(), accepted && expected != 100.0 ? 1 : 0);
        QCOMPARE(edited.count(), accepted && expected != 100.0 ? 1 : 0);
        if (!accepted) {
            const QString msg = rejected.first().first().toString();
            QVERIFY2(msg.contains(QStringLiteral("G_L1")) && msg.contains(QStringLiteral("≥ 0")), qPrintable(msg));
        }
    }

    void setTags_data()
    {
        QTest::addColumn<QVariant>("value");
        QTest::addColumn<bool>("accepted");
        QTest::addColumn<QStringList>("expected");
        const QStringList g { QStringLiteral("G") };
        QTest::newRow("trimmed") << QVariant(QStringLiteral("  G ,  edges ")) << true
                                 << QStringList { QStringLiteral("G"), QStringLiteral("edges") };
        QTest::newRow("list") << QVariant(QStringList { QStringLiteral(" D ") }) << true
                              << QStringList { QStringLiteral("D") };
        QTest::newRow("duplicates merged") << QVariant(QStringLiteral("G, G")) << true << g;
        QTest::newRow("G and another") << QVariant(QStringLiteral("structure, D")) << true
                                       << QStringList { QStringLiteral("structure"), QStringLiteral("D") };
        // Issue #11 item 5: a loss in neither the G nor the D step trains nothing; refused where it is edited.
        QTest::newRow("empty = trains nothing") << QVariant(QStringLiteral("  ")) << false << g;
        QTest::newRow("empty list") << QVariant(QStringList {}) << false << g;
        QTest::newRow("neither G nor D") << QVariant(QStringLiteral("edges")) << false << g;
        QTest::newRow("lowercase g") << QVariant(QStringLiteral("g")) << false << g;
        QTest::newRow("empty tag") << QVariant(QStringLiteral("G,,D")) << false << g;
        QTest::newRow("trailing comma") << QVariant(QStringLiteral("G,")) << false << g;
        QTest::newRow("blank in list") << QVariant(QStringList { QStringLiteral("G"), QStringLiteral(" ") }) << false
                                       << g;
    }
    void setTags()
    {
        QFETCH(QVariant, value);
        QFETCH(bool, accepted);
        QFETCH(QStringList, expected);
        LossTableModel model;
        model.setRows(sampleRows());
        QSignalSpy rejected(&model, &LossTableModel::editRejected);
        QCOMPARE(model.setData(model.index(0, LossTableModel::TagsColumn), value), accepted);
        QCOMPARE(model.rows()[0].tags, expected);
        QCOMPARE(rejected.count(), accepted ? 0 : 1);
        const QString tag = QString::fromLatin1(QTest::currentDataTag());
        const QStringList trainsNothing { QStringLiteral("empty = trains nothing"), QStringLiteral("empty list"),
            QStringLiteral("neither G nor D"), QStringLiteral("lowercase g") };
        if (trainsNothing.contains(tag)) {
            const QString msg = rejected.first().first().toString();
            QVERIFY2(msg.startsWith(QStringLiteral("G_L1: ")) && msg.contains(QStringLiteral("trains nothing"))
                    && msg.contains(QStringLiteral("weight to 0")),
                qPrintable(msg));
            if (tag.contains(QStringLiteral("lowercase")))
                QVERIFY2(msg.contains(QStringLiteral("case-sensitive")), qPrintable(msg));
        }
    }

    // Specs and presets may hold losses without G or D: they load as they are and the cell says what that means.
    void untaggedRowFromASpecIsShownAndFlagged()
    {
        LossTableModel model;
        auto rows = sampleRows();
        rows[0].tags = {};
        rows[1].tags = { QStringLiteral("edges") };
        model.setRows(rows);
        QCOMPARE(model.rows()[0].tags, QStringList {});
        const QModelIndex t0 = model.index(0, LossTableModel::TagsColumn);
        const QModelIndex t1 = model.index(1, LossTableModel::TagsColumn);
        QCOMPARE(t0.data().toString(), QStringLiteral("(none)"));
        QCOMPARE(t1.data().toString(), QStringLiteral("edges"));
        for (const QModelIndex& i : { t0, t1 }) {
            QVERIFY2(i.data(Qt::ToolTipRole).toString().contains(QStringLiteral("trains nothing")),
                qPrintable(i.data(Qt::ToolTipRole).toString()));
            QVERIFY(i.data(Qt::ForegroundRole).isValid());
        }
        model.setRows(sampleRows());
        QVERIFY(!model.index(0, LossTableModel::TagsColumn).data(Qt::ForegroundRole).isValid());
        QVERIFY(!model.index(0, LossTableModel::TagsColumn)
                     .data(Qt::ToolTipRole)
                     .toString()
                     .contains(QStringLiteral("trains nothing")));
        // The editor gets the tags themselves, not the cell's "(none)".
        model.setRows(rows);
        LossTableDelegate delegate;
        QWidget parent;
        auto* edit = qobject_cast<QLineEdit*>(delegate.createEditor(&parent, QStyleOptionViewItem(), t0));
        QVERIFY(edit);
        delegate.setEditorData(edit, model.index(0, LossTableModel::TagsColumn));
        QCOMPARE(edit->text(), QString());
    }

    void setSchedule()
    {
        LossTableModel model;
        model.setRows(sampleRows());
        QSignalSpy rejected(&model, &LossTableModel::editRejected);
        const QModelIndex i = model.index(0, LossTableModel::ScheduleColumn);
        QVariantMap m { { QStringLiteral("schedule"), QStringLiteral("linear") }, { QStringLiteral("start_epoch"), 10 },
            { QStringLiteral("end_epoch"), 20 }, { QStringLiteral("initial_value"), 0.0 },
            { QStringLiteral("target_value"), 50.0 } };
        QVERIFY(model.setData(i, m, LossTableModel::ScheduleRole));
        QCOMPARE(model.rows()[0].schedule.kind, nectar::Schedule::Kind::Linear);
        QCOMPARE(model.rows()[0].schedule.start_epoch, 10);
        QCOMPARE(model.rows()[0].schedule.target_value, 50.0);
        QCOMPARE(i.data(LossTableModel::ScheduleRole).toMap().value(QStringLiteral("end_epoch")).toInt(), 20);
        QVERIFY(i.data().toString().contains(QStringLiteral("linear")));
        // The weight cell shows where the schedule starts; editing still edits λ.
        const QModelIndex w = model.index(0, LossTableModel::WeightColumn);
        QCOMPARE(w.data().toString(), QStringLiteral("0 (scheduled)"));
        QCOMPARE(w.data(Qt::EditRole).toDouble(), model.rows()[0].weight);

        // Unordered epochs: refused, unchanged.
        QVariantMap bad = m;
        bad[QStringLiteral("start_epoch")] = 30;
        QVERIFY(!model.setData(i, bad, Qt::EditRole));
        QCOMPARE(model.rows()[0].schedule.start_epoch, 10);
        QCOMPARE(rejected.count(), 1);
        // Unknown kind: refused with the engine's list of kinds.
        bad = m;
        bad[QStringLiteral("schedule")] = QStringLiteral("cosine");
        QVERIFY(!model.setData(i, bad, Qt::EditRole));
        QVERIFY2(rejected.last().first().toString().contains(QStringLiteral("linear")),
            qPrintable(rejected.last().first().toString()));
        // Negative value refused.
        bad = m;
        bad[QStringLiteral("target_value")] = -1.0;
        QVERIFY(!model.setData(i, bad, Qt::EditRole));
        QCOMPARE(model.rows()[0].schedule.target_value, 50.0);
        // Back to none.
        QVERIFY(model.setData(i, QVariantMap { { QStringLiteral("schedule"), QStringLiteral("none") } }, Qt::EditRole));
        QVERIFY(!model.rows()[0].schedule.active());
    }

    void readOnlyColumnsRefuse()
    {
        LossTableModel model;
        model.setRows(sampleRows());
        QVERIFY(!model.setData(model.index(0, LossTableModel::NameColumn), QStringLiteral("X")));
        QCOMPARE(model.rows()[0].name, QStringLiteral("G_L1"));
    }

    void delegatesEditThroughTheModel()
    {
        LossTableModel model;
        model.setRows(sampleRows());
        LossTableDelegate delegate;
        QWidget parent;
        QStyleOptionViewItem option;
        QSignalSpy rejected(&model, &LossTableModel::editRejected);
        // Weight: free text, validated by the model.
        const QModelIndex w = model.index(0, LossTableModel::WeightColumn);
        auto* edit = qobject_cast<QLineEdit*>(delegate.createEditor(&parent, option, w));
        QVERIFY(edit);
        delegate.setEditorData(edit, w);
        QCOMPARE(edit->text(), QStringLiteral("100"));
        edit->setText(QStringLiteral("-2"));
        delegate.setModelData(edit, &model, w);
        QCOMPARE(model.rows()[0].weight, 100.0);
        QCOMPARE(rejected.count(), 1);
        edit->setText(QStringLiteral("50"));
        delegate.setModelData(edit, &model, w);
        QCOMPARE(model.rows()[0].weight, 50.0);
        // Schedule: kinds listed from the engine registry (without "custom").
        const QModelIndex si = model.index(0, LossTableModel::ScheduleColumn);
        auto* editor = qobject_cast<ScheduleEditor*>(delegate.createEditor(&parent, option, si));
        QVERIFY(editor);
        auto* kind = editor->findChild<QComboBox*>();
        QStringList kinds;
        for (int i = 0; i < kind->count(); ++i)
            kinds.append(kind->itemText(i));
        QVERIFY(kinds.contains(QStringLiteral("linear")) && kinds.contains(QStringLiteral("exponential")));
        QVERIFY(!kinds.contains(QStringLiteral("custom")));
        QVariantMap m = editor->value();
        m[QStringLiteral("schedule")] = QStringLiteral("linear");
        m[QStringLiteral("start_epoch")] = 3;
        m[QStringLiteral("end_epoch")] = 6;
        m[QStringLiteral("target_value")] = 4.0;
        editor->setValue(m, 50.0, 10);
        delegate.setModelData(editor, &model, si);
        QCOMPARE(model.rows()[0].schedule.kind, nectar::Schedule::Kind::Linear);
        QCOMPARE(model.rows()[0].schedule.end_epoch, 6);
    }

    void addDuplicateRefused()
    {
        LossTableModel model;
        model.setRows(sampleRows());
        QString error;
        LossRow dup = sampleRows()[0];
        dup.name = QStringLiteral(" G_L1 ");
        QVERIFY(!model.addLoss(dup, &error));
        QVERIFY(error.contains(QStringLiteral("G_L1")));
        LossRow bad = sampleRows()[0];
        bad.name = QStringLiteral("G_X");
        bad.weight = -3;
        QVERIFY(!model.addLoss(bad, &error));
        // Issue #11 item 5: the Add-a-loss form follows the table's rule on tags.
        LossRow untagged = sampleRows()[0];
        untagged.name = QStringLiteral("G_X");
        untagged.tags = {};
        QVERIFY(!model.addLoss(untagged, &error));
        QVERIFY2(error.startsWith(QStringLiteral("G_X: ")) && error.contains(QStringLiteral("trains nothing")),
            qPrintable(error));
        untagged.tags = { QStringLiteral("structure") };
        QVERIFY(!model.addLoss(untagged, &error));
        QCOMPARE(model.rowCount(), 2);
        untagged.tags = { QStringLiteral("structure"), QStringLiteral("G") };
        QVERIFY2(model.addLoss(untagged, &error), qPrintable(error));
        QCOMPARE(model.rowCount(), 3);
        QCOMPARE(model.rowOf(QStringLiteral("D_real")), 1);
    }

    // Issue #11 item 4: a weight typed into a scheduled row is refused with the reason, not silently hidden.
    void scheduledWeightIsRefusedAndNoneShowsTheWeightAtOnce()
    {
        LossTableModel model;
        model.setRows(sampleRows());
        const QModelIndex w = model.index(0, LossTableModel::WeightColumn);
        const QModelIndex si = model.index(0, LossTableModel::ScheduleColumn);
        QVERIFY(model.setData(si,
            QVariantMap { { QStringLiteral("schedule"), QStringLiteral("linear") },
                { QStringLiteral("start_epoch"), 2 }, { QStringLiteral("end_epoch"), 8 },
                { QStringLiteral("initial_value"), 5.0 }, { QStringLiteral("target_value"), 20.0 } },
            LossTableModel::ScheduleRole));
        QCOMPARE(w.data().toString(), QStringLiteral("5 (scheduled)"));
        QVERIFY2(w.data(Qt::ToolTipRole).toString().contains(QStringLiteral("set the schedule to none")),
            qPrintable(w.data(Qt::ToolTipRole).toString()));
        QSignalSpy rejected(&model, &LossTableModel::editRejected);
        QSignalSpy edited(&model, &LossTableModel::lossEdited);
        QVERIFY(!model.setData(w, QStringLiteral("7")));
        QCOMPARE(model.rows()[0].weight, 100.0);
        QCOMPARE(rejected.count(), 1);
        QCOMPARE(edited.count(), 0);
        const QString msg = rejected.first().first().toString();
        QVERIFY2(msg.startsWith(QStringLiteral("G_L1: ")) && msg.contains(QStringLiteral("linear"))
                && msg.contains(QStringLiteral("reached at epoch 8")) && msg.contains(QStringLiteral("7"))
                && msg.contains(QStringLiteral("schedule to none")),
            qPrintable(msg));
        // The unchanged λ (what the weight editor starts with) is not an edit.
        QVERIFY(model.setData(w, QStringLiteral("100")));
        QCOMPARE(rejected.count(), 1);
        // The delegate's weight editor starts from λ, not from the cell's text.
        LossTableDelegate delegate;
        QWidget parent;
        auto* edit = qobject_cast<QLineEdit*>(delegate.createEditor(&parent, QStyleOptionViewItem(), w));
        delegate.setEditorData(edit, w);
        QCOMPARE(edit->text(), QStringLiteral("100"));

        // Back to none: the weight cell changes in the same dataChanged (no repaint needed) and shows λ.
        QSignalSpy changed(&model, &LossTableModel::dataChanged);
        QVERIFY(model.setData(
            si, QVariantMap { { QStringLiteral("schedule"), QStringLiteral("none") } }, LossTableModel::ScheduleRole));
        bool weightChanged = false;
        for (const auto& args : changed) {
            const auto from = args.at(0).value<QModelIndex>(), to = args.at(1).value<QModelIndex>();
            weightChanged |= from.row() <= 0 && to.row() >= 0 && from.column() <= LossTableModel::WeightColumn
                && to.column() >= LossTableModel::WeightColumn;
        }
        QVERIFY(weightChanged);
        QCOMPARE(w.data().toString(), QStringLiteral("100"));
        QVERIFY(model.setData(w, QStringLiteral("7")));
        QCOMPARE(model.rows()[0].weight, 7.0);
    }

    // Issue #11 item 3: choosing a kind starts from the loss's weight (0 stays 0) over the run's epochs.
    void scheduleEditorPrefillsFromTheWeight()
    {
        LossTableModel model;
        auto rows = sampleRows();
        rows[0].weight = 0.0;
        model.setRows(rows);
        LossTableDelegate delegate;
        delegate.setLastEpochSource([] { return 12; });
        QWidget parent;
        const QModelIndex si = model.index(0, LossTableModel::ScheduleColumn);
        auto* editor = qobject_cast<ScheduleEditor*>(delegate.createEditor(&parent, QStyleOptionViewItem(), si));
        QVERIFY(editor);
        delegate.setEditorData(editor, si);
        auto* kind = qobject_cast<QComboBox*>(editor->fields().first());
        QCOMPARE(kind->currentText(), QStringLiteral("none"));
        kind->setCurrentText(QStringLiteral("linear")); // as a user picks it
        for (QWidget* f : editor->fields())
            QVERIFY(f->isEnabled());
        QVariantMap v = editor->value();
        QCOMPARE(v.value(QStringLiteral("initial_value")).toDouble(), 0.0);
        QCOMPARE(v.value(QStringLiteral("target_value")).toDouble(), 0.0);
        QCOMPARE(v.value(QStringLiteral("start_epoch")).toInt(), 1);
        QCOMPARE(v.value(QStringLiteral("end_epoch")).toInt(), 12);
        delegate.setModelData(editor, &model, si);
        QCOMPARE(model.rows()[0].schedule.kind, nectar::Schedule::Kind::Linear);
        QCOMPARE(model.rows()[0].schedule.initial_value, 0.0);
        QCOMPARE(model.rows()[0].schedule.target_value, 0.0); // still off: nothing switched on silently

        // An existing schedule is shown as it is; an unknown last epoch keeps the map's epochs.
        editor->setValue(LossTableModel::scheduleToMap(nectar::Schedule::linear(3, 7, 2.0, 9.0)), 50.0, 12);
        v = editor->value();
        QCOMPARE(v.value(QStringLiteral("initial_value")).toDouble(), 2.0);
        QCOMPARE(v.value(QStringLiteral("end_epoch")).toInt(), 7);
        editor->setValue(LossTableModel::scheduleToMap(nectar::Schedule {}), 50.0, 0);
        v = editor->value();
        QCOMPARE(v.value(QStringLiteral("initial_value")).toDouble(), 50.0);
        QCOMPARE(v.value(QStringLiteral("end_epoch")).toInt(), nectar::Schedule {}.end_epoch);
    }

    // Issue #11 item 8: a loss that cannot be built here keeps its row, greyed, with the reason.
    void unavailableRowIsShownGreyedWithTheReason()
    {
        LossTableModel model;
        auto rows = sampleRows();
        rows[0].unavailable = QStringLiteral("VGG19 weights not found; get them with curl");
        model.setRows(rows);
        QCOMPARE(model.unavailableLosses(), QStringList { QStringLiteral("G_L1") });
        QVERIFY(model.rows() == sampleRows()); // not part of the objective
        for (int c = 0; c < LossTableModel::ColumnCount; ++c) {
            const QModelIndex i = model.index(0, c);
            QCOMPARE(i.data(Qt::ForegroundRole).value<QColor>(), QColor(Qt::gray));
            QVERIFY2(i.data(Qt::ToolTipRole).toString().contains(QStringLiteral("curl")),
                qPrintable(i.data(Qt::ToolTipRole).toString()));
            QVERIFY(!model.index(1, c).data(Qt::ToolTipRole).toString().contains(QStringLiteral("curl")));
        }
        QCOMPARE(model.index(0, LossTableModel::FunctionColumn).data().toString(), QStringLiteral("L1 (unavailable)"));
        QCOMPARE(model.index(0, LossTableModel::FunctionColumn).data(LossTableModel::FunctionRole).toString(),
            QStringLiteral("L1"));
        QCOMPARE(model.index(0, 0).data(LossTableModel::UnavailableRole).toString(), rows[0].unavailable);
        // Still editable: its weight goes into presets and specs.
        QVERIFY(model.flags(model.index(0, LossTableModel::WeightColumn)) & Qt::ItemIsEditable);
        QVERIFY(model.setData(model.index(0, LossTableModel::WeightColumn), 3.0));
        QCOMPARE(model.rows()[0].weight, 3.0);
        QCOMPARE(model.rows()[0].unavailable, rows[0].unavailable);
    }
};

QTEST_MAIN(TestLossTableModel)
#include "tst_losstablemodel.moc"
