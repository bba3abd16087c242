// SPDX-License-Identifier: Apache-2.0
#pragma once
/// @file Table model of the objective's losses: the single source the trainer's objective is built from.

#include <QAbstractTableModel>
#include <QStringList>
#include <QVariantMap>

#include <vector>

#include "scheduling/schedule.h"

/// One loss as the GUI holds it (a value snapshot; no tensors, no callables).
struct LossRow {
    QString name;
    QString function; ///< LossFunctionRegistry name
    double weight = 1.0; ///< lambda, used when the schedule is "none"
    QStringList tags;
    nectar::Schedule schedule;
    QString prediction; ///< operand name (engine's operand_names())
    QString target;
    /// Why the loss cannot be built on this machine (the engine's message, e.g. missing VGG19 weights);
    /// empty when it can. Not part of the objective: ignored by ==, presets and specs.
    QString unavailable;
    /// The objective's values (everything but `unavailable`) are equal.
    bool operator==(const LossRow& o) const;
};

/// Rows = losses; columns = name, function, weight, tags, schedule, inputs.
/// Weight, tags and schedule are editable. setData validates (weight finite and >= 0, tags
/// trimmed and non-empty and including G or D, schedule fields valid with ordered epochs; a
/// scheduled loss's weight follows its schedule, so typing another weight there is refused);
/// an invalid edit changes nothing, returns false and emits editRejected() with a message the
/// page shows inline. Rows loaded with setRows are shown as they are: an unavailable loss is
/// greyed with the reason in its tooltip, a loss without G or D says that it trains nothing.
class LossTableModel : public QAbstractTableModel {
    Q_OBJECT
public:
    enum Columns { NameColumn, FunctionColumn, WeightColumn, TagsColumn, ScheduleColumn, InputsColumn, ColumnCount };
    enum Roles {
        NameRole = Qt::UserRole + 1,
        FunctionRole, ///< QString
        WeightRole, ///< double
        TagsRole, ///< QStringList
        ScheduleRole, ///< QVariantMap {schedule, start_epoch, end_epoch, initial_value, target_value}
        InputsRole, ///< QStringList {prediction, target}
        UnavailableRole, ///< QString: why the loss cannot be built here; empty when it can
    };

    explicit LossTableModel(QObject* parent = nullptr);
    ~LossTableModel() override;

    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;
    Qt::ItemFlags flags(const QModelIndex& index) const override;
    bool setData(const QModelIndex& index, const QVariant& value, int role = Qt::EditRole) override;
    QHash<int, QByteArray> roleNames() const override;

    void setRows(std::vector<LossRow> rows);
    /// Non-empty: weight, tags and schedule are read-only and setData refuses with this message (e.g.
    /// during a multi-process run, which live edits cannot reach). Empty (default): editable.
    void setReadOnlyReason(const QString& reason);
    QString readOnlyReason() const { return m_readOnlyReason; }
    const std::vector<LossRow>& rows() const { return m_rows; }
    int rowOf(const QString& name) const;
    /// Names of the rows whose loss cannot be built here (LossRow::unavailable set).
    QStringList unavailableLosses() const;
    /// Sets LossRow::unavailable of `row` (empty: it can be built now); emits dataChanged for the row.
    void setUnavailable(int row, const QString& reason);
    /// Appends a loss. Returns false (and sets *error) for an empty or duplicate name, bad weight or tags
    /// (as setData: tags without G or D are refused).
    bool addLoss(const LossRow& row, QString* error);
    bool removeLoss(int row);

    static QVariantMap scheduleToMap(const nectar::Schedule& s);
    /// Parses and validates; returns false with a message naming the field on error.
    static bool scheduleFromMap(const QVariantMap& map, nectar::Schedule* out, QString* error);
    /// Parses "G, D" or a QStringList into trimmed tags; false with a message if one is empty.
    static bool parseTags(const QVariant& value, QStringList* out, QString* error);
    /// The trainer's rule (Pix2pixTrainer: G-tagged losses train the generator, D-tagged the
    /// discriminator, tags are case-sensitive): true if `tags` has G or D. Otherwise false with a
    /// message naming `loss` that says the loss would train nothing and how to switch a loss off.
    static bool checkTrainingTags(const QString& loss, const QStringList& tags, QString* error);
    /// Short schedule text for the table cell ("linear 0 → 5, ep 1–10"); scheduleDescription() is the long one.
    static QString scheduleText(const nectar::Schedule& s);
    /// "linear: weight 0 up to epoch 1, then towards 5, reached at epoch 10" (tooltips and messages).
    static QString scheduleDescription(const nectar::Schedule& s);
    /// Parses a weight (number or text); false with a message unless finite and >= 0.
    static bool parseWeight(const QVariant& value, double* out, QString* error);

Q_SIGNALS:
    /// An edit was refused; nothing changed.
    void editRejected(const QString& message);
    /// Weight or tags of a loss changed through setData (for live edits during training).
    void lossEdited(const QString& name);

private:
    std::vector<LossRow> m_rows;
    QString m_readOnlyReason;
};
