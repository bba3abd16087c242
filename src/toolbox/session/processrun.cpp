// SPDX-License-Identifier: Apache-2.0
#include "session/processrun.h"

#include <QCoreApplication>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QImage>
#include <QRegularExpression>
#include <QSaveFile>
#include <QThread>

#include <algorithm>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bridge/enginebridge.h"
#include "losses/loss_log_follower.h"

namespace {

/// A loopback port nobody listens on now (the kernel's pick).
int freePort()
{
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a {};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    int port = 29500;
    if (fd >= 0 && ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0
        && ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0)
        port = ntohs(a.sin_port);
    if (fd >= 0)
        ::close(fd);
    return port;
}

nectar::RgbImage toRgb(const QImage& image)
{
    nectar::RgbImage out;
    const QImage rgb = image.convertToFormat(QImage::Format_RGB888);
    out.width = rgb.width();
    out.height = rgb.height();
    out.rgb.resize(static_cast<std::size_t>(out.width) * out.height * 3);
    for (int y = 0; y < out.height; ++y)
        std::copy_n(rgb.constScanLine(y), out.width * 3, out.rgb.data() + static_cast<std::size_t>(y) * out.width * 3);
    return out;
}

} // namespace

/// One poll of the journal and the examples folder, done on a worker thread.
struct ProcessRun::Poll {
    std::shared_ptr<nectar::LossLogFollower> follower;
    QString examples; // <experiment>/examples
    // Results of the poll in flight:
    std::shared_ptr<nectar::LossLogFollower::Update> update;
    std::shared_ptr<QString> error;
    std::shared_ptr<int> exampleEpoch; // newest example epoch found (> the last shown), 0: none
    std::shared_ptr<std::array<nectar::RgbImage, 3>> example;
};

ProcessRun::ProcessRun(QObject* parent)
    : QObject(parent)
{
    m_timer.setInterval(250);
    connect(&m_timer, &QTimer::timeout, this, &ProcessRun::poll);
    connect(&m_process, &QProcess::readyReadStandardError, this, &ProcessRun::onStderr);
    connect(&m_process, &QProcess::finished, this, &ProcessRun::onProcessFinished);
    connect(&m_process, &QProcess::errorOccurred, this, [this](QProcess::ProcessError e) {
        if (e == QProcess::FailedToStart && !m_exited) {
            m_exited = true;
            Q_EMIT failed(tr("could not start %1: %2").arg(m_process.program(), m_process.errorString()));
        }
    });
}

ProcessRun::~ProcessRun()
{
    m_timer.stop();
    if (m_process.state() != QProcess::NotRunning) {
        m_process.terminate();
        if (!m_process.waitForFinished(30000)) {
            m_process.kill();
            m_process.waitForFinished(5000);
        }
    }
    if (m_poller)
        m_poller->wait();
}

QString ProcessRun::trainProgram()
{
    const QString env = qEnvironmentVariable("NECTAR_TRAIN_PROGRAM");
    if (!env.isEmpty())
        return QFileInfo(env).isExecutable() ? env : QString();
    const QString next = QCoreApplication::applicationDirPath() + QStringLiteral("/nectar-train");
    return QFileInfo(next).isExecutable() ? next : QString();
}

void ProcessRun::setPollInterval(int ms)
{
    m_timer.setInterval(ms);
}

bool ProcessRun::start(const TrainingJob& job, int processes, QString* error)
{
    const QString program = trainProgram();
    if (program.isEmpty()) {
        *error = tr("nectar-train was not found next to %1 (set NECTAR_TRAIN_PROGRAM)")
                     .arg(QCoreApplication::applicationFilePath());
        return false;
    }
    if (!m_dir.isValid()) {
        *error = tr("no temporary folder for the run's files: %1").arg(m_dir.errorString());
        return false;
    }
    const QString config = m_dir.filePath(QStringLiteral("config.json"));
    const QString objective = m_dir.filePath(QStringLiteral("objective.json"));
    QString why;
    if (!engine::saveConfig(job.config, config, &why)
        || !engine::savePreset(objective, QString::fromStdString(job.config.train.loss.spec),
            QString::fromStdString(job.config.train.loss.subspec), job.rows, nullptr, &why)) {
        *error = why;
        return false;
    }
    m_info = {};
    m_info.world_size = processes;
    for (const LossRow& r : job.rows) {
        std::vector<std::string> tags;
        for (const QString& t : r.tags)
            tags.push_back(t.toStdString());
        m_tags[r.name.toStdString()] = tags;
        m_info.loss_names.push_back(r.name.toStdString());
        m_info.loss_tags[r.name.toStdString()] = tags;
    }
    m_jobConfig = job.config;
    m_process.setProgram(program);
    m_process.setArguments({ QStringLiteral("--config"), config, QStringLiteral("--preset"), objective,
        QStringLiteral("--nproc-per-node"), QString::number(processes), QStringLiteral("--master-port"),
        QString::number(freePort()), QStringLiteral("--live-journal"), QStringLiteral("--control-file"),
        m_dir.filePath(QStringLiteral("control")), QStringLiteral("--quiet") });
    m_process.setProcessChannelMode(QProcess::SeparateChannels);
    m_process.setStandardOutputFile(QProcess::nullDevice());
    m_clock.start();
    m_process.start();
    return true;
}

void ProcessRun::writeControl(const char* word)
{
    QSaveFile f(m_dir.filePath(QStringLiteral("control")));
    if (f.open(QIODevice::WriteOnly)) {
        f.write(word);
        f.write("\n");
        f.commit();
    }
}

void ProcessRun::pause()
{
    writeControl("pause");
}

void ProcessRun::resume()
{
    writeControl("run");
}

void ProcessRun::stop()
{
    m_stopRequested = true;
    if (m_process.state() != QProcess::NotRunning)
        m_process.terminate(); // SIGTERM: the launcher passes it to every rank
}

void ProcessRun::onStderr()
{
    m_partial += QString::fromUtf8(m_process.readAllStandardError());
    qsizetype nl;
    while ((nl = m_partial.indexOf(QLatin1Char('\n'))) >= 0) {
        onLine(m_partial.left(nl));
        m_partial.remove(0, nl + 1);
    }
}

void ProcessRun::onLine(const QString& line)
{
    m_tail.append(line);
    if (m_tail.size() > 12)
        m_tail.removeFirst();
    if (line.startsWith(QLatin1String("[rank ")))
        return; // the other ranks' lines: kept for a failure's message only
    static const QRegularExpression device(
        QStringLiteral("^device: (\\S+).*, epochs (\\d+)\\.\\.(\\d+), (\\d+) iterations per epoch"));
    if (line.startsWith(QLatin1String("experiment: "))) {
        m_experiment = line.mid(12).trimmed();
        m_poll = std::make_unique<Poll>();
        m_poll->follower = std::make_shared<nectar::LossLogFollower>(m_experiment.toStdString());
        m_poll->examples = m_experiment + QStringLiteral("/examples");
        m_info.experiment_dir = m_experiment.toStdString();
        m_timer.start();
    } else if (const auto m = device.match(line); m.hasMatch() && !m_started) {
        m_info.device = m.captured(1).toStdString();
        m_info.first_epoch = m.captured(2).toInt();
        m_info.last_epoch = m.captured(3).toInt();
        m_info.iterations_per_epoch = m.captured(4).toLongLong();
        m_info.backend = line.contains(QLatin1String("nccl")) ? "nccl" : "gloo";
        m_info.device += " (" + std::to_string(m_info.world_size) + " processes, " + m_info.backend + ")";
        m_started = true;
        Q_EMIT runStarted(m_info);
    } else if (line.startsWith(QLatin1String("warning: "))) {
        Q_EMIT message(int(nectar::MessageLevel::Warning), line.mid(9));
    }
}

void ProcessRun::poll()
{
    if (!m_poll || m_poller)
        return;
    Poll& p = *m_poll;
    p.update = std::make_shared<nectar::LossLogFollower::Update>();
    p.error = std::make_shared<QString>();
    p.exampleEpoch = std::make_shared<int>(0);
    p.example = std::make_shared<std::array<nectar::RgbImage, 3>>();
    m_poller = QThread::create([follower = p.follower, update = p.update, error = p.error, epoch = p.exampleEpoch,
                                   example = p.example, examples = p.examples, shown = m_lastExampleEpoch] {
        try {
            *update = follower->poll();
        } catch (const std::exception& e) {
            *error = QString::fromStdString(e.what());
            return;
        }
        // The newest example (input | generated | target), when an epoch newer than the shown one has one.
        static const QRegularExpression name(QStringLiteral("^epoch(\\d+)_1\\.png$"));
        int newest = shown;
        QString file;
        for (const QString& f : QDir(examples).entryList({ QStringLiteral("epoch*_1.png") }, QDir::Files)) {
            const auto m = name.match(f);
            if (m.hasMatch() && m.captured(1).toInt() > newest) {
                newest = m.captured(1).toInt();
                file = examples + QLatin1Char('/') + f;
            }
        }
        if (file.isEmpty())
            return;
        const QImage image(file);
        if (!image.isNull() && image.width() >= 3) {
            const int w = image.width() / 3;
            for (int i = 0; i < 3; ++i)
                (*example)[static_cast<std::size_t>(i)] = toRgb(image.copy(i * w, 0, w, image.height()));
            *epoch = newest;
        }
    });
    connect(m_poller, &QThread::finished, this, &ProcessRun::applyPoll);
    m_poller->start();
}

void ProcessRun::applyPoll()
{
    m_poller->deleteLater();
    m_poller = nullptr;
    const Poll& p = *m_poll;
    if (!p.error->isEmpty())
        Q_EMIT message(int(nectar::MessageLevel::Warning), tr("following the run's journal: %1").arg(*p.error));
    const auto& d = p.update->data;
    nectar::ProgressReport r;
    bool any = false;
    for (const auto& name : d.order) {
        const auto& s = d.losses.at(name);
        if (s.raw.empty())
            continue;
        nectar::LossSeriesChunk c;
        c.name = name;
        c.tags = m_tags.count(name) ? m_tags.at(name) : std::vector<std::string> {};
        c.raw = s.raw;
        c.weights = s.weights;
        c.wall_time = s.wall_time;
        c.iterations = s.iterations;
        if (c.iterations.size() != c.raw.size()) // a journal without positions: continue after the last
            c.iterations.clear();
        r.losses.push_back(std::move(c));
        any = true;
    }
    if (*p.exampleEpoch > m_lastExampleEpoch) {
        m_lastExampleEpoch = *p.exampleEpoch;
        r.example_input = (*p.example)[0];
        r.example_generated = (*p.example)[1];
        r.example_target = (*p.example)[2];
        any = true;
    }
    if (any && m_started) {
        if (m_firstIteration < 0) {
            // The first dump holds this run's first values: it started that many iterations before it.
            qint64 n = 0;
            for (const auto& c : r.losses)
                n = std::max<qint64>(n, static_cast<qint64>(c.raw.size()));
            m_firstIteration = std::max<qint64>(0, d.last_iteration - n);
        }
        const qint64 done = std::max<qint64>(0, d.last_iteration - m_firstIteration);
        const qint64 ipe = std::max<qint64>(1, m_info.iterations_per_epoch);
        r.first_epoch = m_info.first_epoch;
        r.last_epoch = m_info.last_epoch;
        r.epoch = d.last_epoch > 0 ? d.last_epoch : m_info.first_epoch;
        r.iterations_per_epoch = ipe;
        r.iteration = std::clamp<qint64>(done - (r.epoch - m_info.first_epoch) * ipe, 0, ipe);
        r.global_iteration = done;
        r.elapsed_seconds = m_clock.elapsed() / 1000.0;
        r.iterations_per_second = r.elapsed_seconds > 0 ? done / r.elapsed_seconds : 0.0;
        const qint64 total = ipe * (m_info.last_epoch - m_info.first_epoch + 1);
        r.eta_seconds = done > 0 ? r.elapsed_seconds / done * std::max<qint64>(0, total - done) : 0.0;
        const auto [lr_g, lr_d] = engine::learningRates(m_jobConfig, r.epoch);
        r.lr_g = lr_g;
        r.lr_d = lr_d;
        Q_EMIT progress(r);
    }
    if (m_exited) {
        if (m_finalPoll)
            finish();
        else {
            m_finalPoll = true; // this poll may have read before the last dump
            poll();
        }
    }
}

void ProcessRun::onProcessFinished(int code, QProcess::ExitStatus status)
{
    onStderr();
    if (!m_partial.isEmpty())
        onLine(m_partial);
    m_partial.clear();
    m_timer.stop();
    m_exitCode = code;
    m_exitStatus = status;
    if (m_exited)
        return; // failed to start: reported
    m_exited = true;
    // One last poll for the values of the final dump, then finished() / failed() (from applyPoll).
    if (!m_poll) {
        finish();
    } else if (!m_poller) {
        m_finalPoll = true;
        poll();
    }
}

void ProcessRun::finish()
{
    if (m_finished)
        return;
    m_finished = true;
    if (m_exitStatus == QProcess::NormalExit && m_exitCode == 0) {
        Q_EMIT finished(m_stopRequested, m_experiment);
        return;
    }
    const QString how
        = m_exitStatus == QProcess::CrashExit ? tr("crashed") : tr("exited with status %1").arg(m_exitCode);
    Q_EMIT failed(tr("nectar-train %1:\n%2").arg(how, m_tail.join(QLatin1Char('\n'))));
}
