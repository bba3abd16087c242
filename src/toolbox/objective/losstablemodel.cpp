// SPDX-License-Identifier: Apache-2.0
#include "objective/losstablemodel.h"

#include <QColor>

#include <cmath>
#include <stdexcept>

bool LossRow::operator==(const LossRow& o) const
{
    auto sameSchedule = [](const nectar::Schedule& a, const nectar::Schedule& b) {
        if (a.kind != b.kind)
            return false;
        if (!a.active())
            return true;
        return a.start_epoch == b.start_epoch && a.end_epoch == b.end_epoch && a.initial_value == b.initial_value
            && a.target_value == b.target_value;
    };
    return name == o.name && function == o.function && weight == o.weight && tags == o.tags
        && sameSchedule(schedule, o.schedule) && prediction == o.prediction && target == o.target;
}

LossTableModel::LossTableModel(QObject* parent)
    : QAbstractTableModel(parent)
{
}

LossTableModel::~LossTableModel() = default;

int LossTableModel::rowCount(const QModelIndex& parent) const
{
    return parent.isValid() ? 0 : static_cast<int>(m_rows.size());
}

int LossTableModel::columnCount(const QModelIndex& parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QVariantMap LossTableModel::scheduleToMap(const nectar::Schedule& s)
{
    QVariantMap m;
    m.insert(QStringLiteral("schedule"), QString::fromStdString(nectar::Schedule::kind_name(s.kind)));
    m.insert(QStringLiteral("start_epoch"), s.start_epoch);
    m.insert(QStringLiteral("end_epoch"), s.end_epoch);
    m.insert(QStringLiteral("initial_value"), s.initial_value);
    m.insert(QStringLiteral("target_value"), s.target_value);
    return m;
}

bool LossTableModel::scheduleFromMap(const QVariantMap& map, nectar::Schedule* out, QString* error)
{
    nectar::Schedule s;
    try {
        s.kind = nectar::Schedule::kind_from_name(
            map.value(QStringLiteral("schedule"), QStringLiteral("none")).toString().toStdString());
    } catch (const std::exception& e) {
        *error = QString::fromStdString(e.what());
        return false;
    }
    if (s.kind == nectar::Schedule::Kind::Custom) {
        *error = tr("A custom schedule cannot be set from the table (it needs a C++ function).");
        return false;
    }
    if (s.active()) {
        bool ok1 = false, ok2 = false, ok3 = false, ok4 = false;
        s.start_epoch = map.value(QStringLiteral("start_epoch")).toInt(&ok1);
        s.end_epoch = map.value(QStringLiteral("end_epoch")).toInt(&ok2);
        s.initial_value = map.value(QStringLiteral("initial_value")).toDouble(&ok3);
        s.target_value = map.value(QStringLiteral("target_value")).toDouble(&ok4);
        if (!(ok1 && ok2 && ok3 && ok4)) {
            *error = tr("Schedule needs integer start/end epochs and numeric initial/target values.");
            return false;
        }
        s.current_value = s.initial_value;
        try {
            s.validate();
        } catch (const std::exception& e) {
            *error = QString::fromStdString(e.what());
            return false;
        }
    }
    *out = s;
    return true;
}

QString LossTableModel::scheduleText(const nectar::Schedule& s)
{
    const QString kind = QString::fromStdString(nectar::Schedule::kind_name(s.kind));
    if (!s.active())
        return kind;
    return tr("%1 %2 → %3, ep %4–%5")
        .arg(kind)
        .arg(s.initial_value, 0, 'g', 6)
        .arg(s.target_value, 0, 'g', 6)
        .arg(s.start_epoch)
        .arg(s.end_epoch);
}

QString LossTableModel::scheduleDescription(const nectar::Schedule& s)
{
    const QString kind = QString::fromStdString(nectar::Schedule::kind_name(s.kind));
    if (!s.active())
        return tr("%1: the loss uses its fixed weight λ").arg(kind);
    const QString from = QString::number(s.initial_value, 'g', 8);
    const QString to = QString::number(s.target_value, 'g', 8);
    if (s.start_epoch == s.end_epoch) // a step (schedule.h)
        return tr("%1: weight %2 before epoch %3, %4 from epoch %3 on").arg(kind, from).arg(s.start_epoch).arg(to);
    return tr("%1: weight %2 up to epoch %3, then towards %4, reached at epoch %5")
        .arg(kind, from)
        .arg(s.start_epoch)
        .arg(to)
        .arg(s.end_epoch);
}

bool LossTableModel::parseTags(const QVariant& value, QStringList* out, QString* error)
{
    QStringList parts
        = value.typeId() == QMetaType::QStringList ? value.toStringList() : value.toString().split(QLatin1Char(','));
    if (value.typeId() != QMetaType::QStringList && value.toString().trimmed().isEmpty())
        parts.clear(); // an empty field means "untagged"
    QStringList tags;
    for (const QString& p : parts) {
        const QString t = p.trimmed();
        if (t.isEmpty()) {
            *error = tr("Empty tag in \"%1\": tags are separated by commas and must not be blank.")
                         .arg(value.typeId() == QMetaType::QStringList ? value.toStringList().join(QStringLiteral(", "))
                                                                       : value.toString());
            return false;
        }
        if (!tags.contains(t))
            tags.append(t);
    }
    *out = tags;
    return true;
}

bool LossTableModel::checkTrainingTags(const QString& loss, const QStringList& tags, QString* error)
{
    // Pix2pixTrainer's steps select losses by these exact tags (in_g = has_tag("G"), in_d = has_tag("D")).
    if (tags.contains(QStringLiteral("G")) || tags.contains(QStringLiteral("D")))
        return true;
    const bool wrongCase = tags.contains(QStringLiteral("G"), Qt::CaseInsensitive)
        || tags.contains(QStringLiteral("D"), Qt::CaseInsensitive);
    const QString why = tags.isEmpty()
        ? tr("%1: a loss without tags trains nothing").arg(loss)
        : tr("%1: tags \"%2\" have neither G nor D%3, so the loss trains nothing")
              .arg(loss, tags.join(QStringLiteral(", ")), wrongCase ? tr(" (tags are case-sensitive)") : QString());
    *error = tr("%1. Keep G (generator step) or D (discriminator step) among its tags; to switch the loss off, "
                "set its weight to 0.")
                 .arg(why);
    return false;
}

bool LossTableModel::parseWeight(const QVariant& value, double* out, QString* error)
{
    bool ok = false;
    const double w
        = value.typeId() == QMetaType::QString ? value.toString().trimmed().toDouble(&ok) : value.toDouble(&ok);
    if (!ok || !nectar::is_valid_weight(w)) {
        *error = tr("Invalid weight \"%1\": expected a finite number ≥ 0.").arg(value.toString());
        return false;
    }
    *out = w;
    return true;
}

QVariant LossTableModel::data(const QModelIndex& index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const LossRow& r = m_rows[static_cast<std::size_t>(index.row())];
    const bool trains = r.tags.contains(QStringLiteral("G")) || r.tags.contains(QStringLiteral("D"));
    switch (role) {
    case NameRole:
        return r.name;
    case FunctionRole:
        return r.function;
    case WeightRole:
        return r.weight;
    case TagsRole:
        return r.tags;
    case ScheduleRole:
        return scheduleToMap(r.schedule);
    case InputsRole:
        return QStringList { r.prediction, r.target };
    case UnavailableRole:
        return r.unavailable;
    case Qt::DisplayRole:
    case Qt::EditRole:
        switch (index.column()) {
        case NameColumn:
            return r.name;
        case FunctionColumn:
            if (role == Qt::DisplayRole && !r.unavailable.isEmpty())
                return tr("%1 (unavailable)").arg(r.function);
            return r.function;
        case WeightColumn:
            if (role == Qt::EditRole)
                return r.weight;
            // A schedule sets the weight while training: show where it starts, not the unused λ.
            return r.schedule.active()
                ? QVariant(tr("%1 (scheduled)").arg(QString::number(r.schedule.initial_value, 'g', 8)))
                : QVariant(QString::number(r.weight, 'g', 8));
        case TagsColumn:
            if (role == Qt::DisplayRole && r.tags.isEmpty())
                return tr("(none)");
            return r.tags.join(QStringLiteral(", "));
        case ScheduleColumn:
            return role == Qt::EditRole ? QVariant(scheduleToMap(r.schedule)) : QVariant(scheduleText(r.schedule));
        case InputsColumn:
            return QStringLiteral("(%1, %2)").arg(r.prediction, r.target);
        default:
            return {};
        }
    case Qt::ToolTipRole: {
        QString tip;
        switch (index.column()) {
        case WeightColumn:
            tip = r.schedule.active()
                ? tr("Scheduled (%1): the weight follows the schedule and λ = %2 is not used. To use a fixed weight, "
                     "set the schedule to none.")
                      .arg(scheduleDescription(r.schedule))
                      .arg(r.weight)
                : tr("λ: the loss is multiplied by this weight (0 switches it off); double-click to edit");
            break;
        case TagsColumn:
            tip = trains ? tr("Comma-separated tags; G-tagged losses train the generator, D-tagged the discriminator")
                         : tr("Neither G nor D: this loss is in neither training step and trains nothing. Add G or D "
                              "(double-click); set the weight to 0 to switch a loss off.");
            break;
        case ScheduleColumn:
            tip = tr("%1 (epochs are 1-based); double-click to edit").arg(scheduleDescription(r.schedule));
            break;
        case InputsColumn:
            tip = tr("function(%1, %2)").arg(r.prediction, r.target);
            break;
        default:
            tip = r.name;
        }
        if (!r.unavailable.isEmpty())
            tip = tr("%1 cannot be built here, so training with it is refused:\n%2\n\n%3")
                      .arg(r.name, r.unavailable, tip);
        return tip;
    }
    case Qt::ForegroundRole:
        if (!r.unavailable.isEmpty())
            return QVariant::fromValue(QColor(Qt::gray)); // the whole row: it cannot be built here
        if (index.column() == WeightColumn && r.weight == 0.0 && !r.schedule.active())
            return QVariant::fromValue(QColor(Qt::gray)); // weight 0: the trainer skips this loss
        if (index.column() == TagsColumn && !trains)
            return QVariant::fromValue(QColor(0xb0, 0x00, 0x20)); // trains nothing (the inline-message red)
        return {};
    default:
        return {};
    }
}

QVariant LossTableModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return QAbstractTableModel::headerData(section, orientation, role);
    switch (section) {
    case NameColumn:
        return tr("Name");
    case FunctionColumn:
        return tr("Function");
    case WeightColumn:
        return tr("Weight (λ)");
    case TagsColumn:
        return tr("Tags");
    case ScheduleColumn:
        return tr("Schedule");
    case InputsColumn:
        return tr("Inputs");
    default:
        return {};
    }
}

void LossTableModel::setReadOnlyReason(const QString& reason)
{
    if (reason == m_readOnlyReason)
        return;
    m_readOnlyReason = reason;
    if (!m_rows.empty()) // the flags changed: views re-query them
        Q_EMIT dataChanged(index(0, 0), index(rowCount() - 1, ColumnCount - 1));
}

Qt::ItemFlags LossTableModel::flags(const QModelIndex& index) const
{
    Qt::ItemFlags f = QAbstractTableModel::flags(index);
    if (index.isValid() && m_readOnlyReason.isEmpty()
        && (index.column() == WeightColumn || index.column() == TagsColumn || index.column() == ScheduleColumn))
        f |= Qt::ItemIsEditable;
    return f;
}

bool LossTableModel::setData(const QModelIndex& index, const QVariant& value, int role)
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return false;
    if (!m_readOnlyReason.isEmpty()) {
        Q_EMIT editRejected(m_readOnlyReason);
        return false;
    }
    LossRow& r = m_rows[static_cast<std::size_t>(index.row())];
    int column = index.column();
    if (role == WeightRole)
        column = WeightColumn;
    else if (role == TagsRole)
        column = TagsColumn;
    else if (role == ScheduleRole)
        column = ScheduleColumn;
    else if (role != Qt::EditRole)
        return false;

    QString error;
    switch (column) {
    case WeightColumn: {
        double w = 0.0;
        if (!parseWeight(value, &w, &error))
            break;
        if (r.schedule.active() && w != r.weight) {
            // The schedule sets the weight while training: a typed λ would silently do nothing.
            error = tr("the weight follows its schedule (%1), so %2 would not be used. To use a fixed weight, set "
                       "the schedule to none first.")
                        .arg(scheduleDescription(r.schedule), QString::number(w, 'g', 8));
            break;
        }
        if (w != r.weight) {
            r.weight = w;
            const QModelIndex i = this->index(index.row(), WeightColumn);
            Q_EMIT dataChanged(i, i);
            Q_EMIT lossEdited(r.name);
        }
        return true;
    }
    case TagsColumn: {
        QStringList tags;
        if (!parseTags(value, &tags, &error))
            break;
        if (tags != r.tags && !checkTrainingTags(r.name, tags, &error)) {
            Q_EMIT editRejected(error); // names the loss already
            return false;
        }
        if (tags != r.tags) {
            r.tags = tags;
            const QModelIndex i = this->index(index.row(), TagsColumn);
            Q_EMIT dataChanged(i, i);
            Q_EMIT lossEdited(r.name);
        }
        return true;
    }
    case ScheduleColumn: {
        nectar::Schedule s;
        if (!scheduleFromMap(value.toMap(), &s, &error))
            break;
        r.schedule = s;
        // The weight cell shows the schedule's start or λ: it changes with the schedule.
        Q_EMIT dataChanged(this->index(index.row(), WeightColumn), this->index(index.row(), ScheduleColumn));
        return true;
    }
    default:
        return false;
    }
    Q_EMIT editRejected(tr("%1: %2").arg(r.name, error));
    return false;
}

QHash<int, QByteArray> LossTableModel::roleNames() const
{
    QHash<int, QByteArray> roles = QAbstractTableModel::roleNames();
    roles.insert(NameRole, "name");
    roles.insert(FunctionRole, "function");
    roles.insert(WeightRole, "weight");
    roles.insert(TagsRole, "tags");
    roles.insert(ScheduleRole, "schedule");
    roles.insert(InputsRole, "inputs");
    roles.insert(UnavailableRole, "unavailable");
    return roles;
}

void LossTableModel::setRows(std::vector<LossRow> rows)
{
    beginResetModel();
    m_rows = std::move(rows);
    endResetModel();
}

int LossTableModel::rowOf(const QString& name) const
{
    for (std::size_t i = 0; i < m_rows.size(); ++i)
        if (m_rows[i].name == name)
            return static_cast<int>(i);
    return -1;
}

QStringList LossTableModel::unavailableLosses() const
{
    QStringList out;
    for (const LossRow& r : m_rows)
        if (!r.unavailable.isEmpty())
            out.append(r.name);
    return out;
}

void LossTableModel::setUnavailable(int row, const QString& reason)
{
    if (row < 0 || row >= rowCount() || m_rows[static_cast<std::size_t>(row)].unavailable == reason)
        return;
    m_rows[static_cast<std::size_t>(row)].unavailable = reason;
    Q_EMIT dataChanged(index(row, 0), index(row, ColumnCount - 1));
}

bool LossTableModel::addLoss(const LossRow& row, QString* error)
{
    LossRow r = row;
    r.name = r.name.trimmed();
    if (r.name.isEmpty()) {
        *error = tr("A loss needs a name.");
        return false;
    }
    if (rowOf(r.name) >= 0) {
        *error = tr("A loss named \"%1\" already exists.").arg(r.name);
        return false;
    }
    if (r.function.isEmpty()) {
        *error = tr("Loss \"%1\" needs a function.").arg(r.name);
        return false;
    }
    double w = 0.0;
    QStringList tags;
    if (!parseWeight(r.weight, &w, error) || !parseTags(r.tags, &tags, error)
        || !checkTrainingTags(r.name, tags, error))
        return false;
    r.tags = tags;
    const int at = rowCount();
    beginInsertRows({}, at, at);
    m_rows.push_back(r);
    endInsertRows();
    return true;
}

bool LossTableModel::removeLoss(int row)
{
    if (row < 0 || row >= rowCount())
        return false;
    beginRemoveRows({}, row, row);
    m_rows.erase(m_rows.begin() + row);
    endRemoveRows();
    return true;
}
