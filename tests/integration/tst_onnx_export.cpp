// SPDX-License-Identifier: Apache-2.0
// ONNX export of the generator (export/onnx_export.h), issue #14 part 4: every block / upsample type is
// exported, re-read and checked by ONNX's checker, then run on an independent runtime in its own process
// (tests/onnx/ort_run.cpp on onnxruntime's C++ API where libonnxruntime-dev exists, Debian 13; else
// tests/onnx/ort_run.mjs on npm's onnxruntime-node, Debian 12) and compared with LibTorch's output.
#include <QtTest/QtTest>

#include <fstream>

#include <QFile>
#include <QProcess>
#include <QStandardPaths>
#include <QTemporaryDir>

#include <onnx/checker.h>
#include <onnx/onnx_pb.h>
#include <torch/torch.h>

#include "config/config.h"
#include "export/onnx_export.h"
#include "models/model_types.h"
#include "models/unet.h"
#include "training/checkpoint.h"
#include "training/experiment.h"

using namespace nectar;

namespace {

constexpr double kTolerance = 1e-4; // the bound on max |onnx - libtorch|

// The runtime command before its arguments, or empty with why in `missing`.
QStringList runtime(QString* missing)
{
#ifdef NECTAR_ORT_RUN_EXE
    return { QStringLiteral(NECTAR_ORT_RUN_EXE) };
#else
    const QString node = QStandardPaths::findExecutable(QStringLiteral("node"));
    QString prefix = qEnvironmentVariable("NECTAR_ONNXRUNTIME_NODE");
    if (prefix.isEmpty())
        prefix = QStringLiteral("/usr/local/lib/nectar-toolbox/onnxruntime-node");
    if (node.isEmpty())
        *missing = QStringLiteral("no onnxruntime: libonnxruntime-dev is not installed and node is not on PATH");
    else if (!QFile::exists(prefix + QStringLiteral("/node_modules/onnxruntime-node/package.json")))
        *missing = QStringLiteral("no onnxruntime: libonnxruntime-dev is not installed and onnxruntime-node is not in ")
            + prefix + QStringLiteral(" (packaging/install-deps.sh installs it)");
    else
        return { node, QStringLiteral(NECTAR_ORT_RUN_MJS) };
    return {};
#endif
}

void write_raw(const QString& path, const torch::Tensor& t)
{
    const auto c = t.contiguous();
    std::ofstream(path.toStdString(), std::ios::binary)
        .write(static_cast<const char*>(c.data_ptr()), static_cast<std::streamsize>(c.numel() * sizeof(float)));
}

torch::Tensor read_raw(const QString& path, torch::IntArrayRef shape)
{
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly))
        return {};
    const QByteArray b = f.readAll();
    auto t = torch::empty(shape, torch::kFloat32);
    if (b.size() != static_cast<qsizetype>(t.numel() * sizeof(float)))
        return {};
    std::memcpy(t.data_ptr(), b.constData(), static_cast<std::size_t>(b.size()));
    return t;
}

UnetOptions options_of(UnetBlockType block, UpsampleType up, int channels = 3, int n_downs = 2)
{
    UnetOptions o;
    o.input_size = std::max(32, 1 << (n_downs + 2));
    o.in_channels = channels;
    o.features = 8;
    o.n_downs = n_downs;
    o.use_dropout_layers = 2; // dropout is removed in the export (eval mode)
    o.block_type = block;
    o.upsample_type = up;
    return o;
}

// Seeded, larger-than-init weights so that every layer matters in the comparison.
UnetGenerator random_generator(const UnetOptions& o, std::uint64_t seed)
{
    torch::manual_seed(seed);
    UnetGenerator g(o);
    torch::NoGradGuard no_grad;
    for (auto& p : g->parameters())
        p.normal_(0.0, 0.2);
    g->eval();
    return g;
}

} // namespace

class TestOnnxExport : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void exportMatchesLibTorch_data()
    {
        QTest::addColumn<int>("block");
        QTest::addColumn<int>("upsample");
        QTest::addColumn<int>("channels");
        QTest::addColumn<int>("n_downs");
        QTest::addColumn<int>("batch");
        QTest::addColumn<int>("height");
        QTest::addColumn<int>("width");
        const int unet = static_cast<int>(UnetBlockType::UnetBlock);
        const int res = static_cast<int>(UnetBlockType::ResidualUnetBlock);
        const int tr = static_cast<int>(UpsampleType::Transposed);
        const int bi = static_cast<int>(UpsampleType::Bilinear);
        QTest::newRow("UnetBlock Transposed") << unet << tr << 3 << 2 << 1 << 32 << 32;
        QTest::newRow("UnetBlock Bilinear") << unet << bi << 3 << 2 << 1 << 32 << 32;
        QTest::newRow("ResidualUnetBlock Transposed") << res << tr << 3 << 2 << 1 << 32 << 32;
        QTest::newRow("ResidualUnetBlock Bilinear") << res << bi << 3 << 2 << 1 << 32 << 32;
        QTest::newRow("non-square 32x64, n_downs 3") << unet << bi << 3 << 3 << 1 << 32 << 64;
        QTest::newRow("dynamic batch of 2, residual") << res << tr << 3 << 1 << 2 << 16 << 24;
        // 128 px: at 64 px the 2x2 map of ups[0] is nearly constant, and InstanceNorm then magnifies float
        // rounding (2.7e-4 between two correct runtimes).
        QTest::newRow("1 channel, n_downs 4") << res << bi << 1 << 4 << 1 << 128 << 128;
    }

    void exportMatchesLibTorch()
    {
        QFETCH(int, block);
        QFETCH(int, upsample);
        QFETCH(int, channels);
        QFETCH(int, n_downs);
        QFETCH(int, batch);
        QFETCH(int, height);
        QFETCH(int, width);
        const UnetOptions uo
            = options_of(static_cast<UnetBlockType>(block), static_cast<UpsampleType>(upsample), channels, n_downs);
        UnetGenerator gen = random_generator(uo, 7 + static_cast<std::uint64_t>(block * 2 + upsample));

        QTemporaryDir tmp;
        const QString model = tmp.filePath(QStringLiteral("g.onnx"));
        OnnxExportOptions eo;
        eo.height = height;
        eo.width = width;
        eo.dynamic_batch = batch > 1;
        const OnnxExportReport r = export_generator_onnx(*gen, model.toStdString(), eo);
        QCOMPARE(r.parameters, count_parameters(*gen));
        QCOMPARE(r.height, height);
        QCOMPARE(r.width, width);
        QCOMPARE(r.opset, 17);
        QCOMPARE(static_cast<qint64>(r.bytes), QFileInfo(model).size());

        // Structural check on the file as written (always, whatever runtime exists).
        {
            onnx::ModelProto m;
            std::ifstream in(model.toStdString(), std::ios::binary);
            QVERIFY(m.ParseFromIstream(&in));
            onnx::checker::check_model(m); // throws onnx::checker::ValidationError
            QCOMPARE(m.graph().input(0).name(), std::string("input"));
            QCOMPARE(m.graph().output(0).name(), std::string("output"));
            const auto& dim0 = m.graph().input(0).type().tensor_type().shape().dim(0);
            QCOMPARE(dim0.has_dim_param(), batch > 1);
            for (const auto& n : m.graph().node())
                QVERIFY2(n.op_type() != "Dropout", "dropout left in the exported graph");
        }

        QString missing;
        const QStringList cmd = runtime(&missing);
        if (cmd.isEmpty())
            QSKIP(qPrintable(missing + QStringLiteral(" (the structural check above passed)")));

        torch::manual_seed(99);
        const auto x = torch::rand({ batch, channels, height, width }) * 2 - 1;
        torch::Tensor expected;
        {
            torch::NoGradGuard no_grad;
            expected = gen->forward(x);
        }
        write_raw(tmp.filePath(QStringLiteral("x.f32")), x);
        QProcess p;
        p.setProcessChannelMode(QProcess::MergedChannels);
        p.start(cmd.front(),
            cmd.mid(1) << model << tmp.filePath(QStringLiteral("x.f32")) << QString::number(batch)
                       << QString::number(channels) << QString::number(height) << QString::number(width)
                       << tmp.filePath(QStringLiteral("y.f32")));
        QVERIFY(p.waitForFinished(120000));
        const QByteArray log = p.readAll();
        QVERIFY2(p.exitStatus() == QProcess::NormalExit && p.exitCode() == 0, log.constData());
        const auto got = read_raw(tmp.filePath(QStringLiteral("y.f32")), expected.sizes());
        QVERIFY2(got.defined(), "the runtime's output has another size than LibTorch's");
        const double diff = (got - expected).abs().max().item<double>();
        qInfo("%s; max |onnx - libtorch| = %.3g (output range %.3g .. %.3g)", log.trimmed().constData(), diff,
            expected.min().item<double>(), expected.max().item<double>());
        QVERIFY2(diff <= kTolerance, qPrintable(QStringLiteral("max abs difference %1 > 1e-4").arg(diff)));
        // The comparison means something only if the output is not flat.
        QVERIFY(expected.std().item<double>() > 0.05);
    }

    void badOptionsWriteNothing()
    {
        UnetGenerator gen = random_generator(options_of(UnetBlockType::UnetBlock, UpsampleType::Transposed), 1);
        QTemporaryDir tmp;
        const std::string model = tmp.filePath(QStringLiteral("g.onnx")).toStdString();
        const auto refused = [&](OnnxExportOptions o, const char* expected) {
            try {
                export_generator_onnx(*gen, model, o);
            } catch (const std::invalid_argument& e) {
                QVERIFY2(std::string(e.what()).find(expected) != std::string::npos, e.what());
                QVERIFY(!QFile::exists(QString::fromStdString(model)));
                return;
            }
            QFAIL(qPrintable(QStringLiteral("accepted, expected an error with ") + QLatin1String(expected)));
        };
        OnnxExportOptions o;
        o.opset = 10;
        refused(o, "opset 10: expected 11");
        o.opset = max_onnx_opset() + 1;
        refused(o, ("opset " + std::to_string(max_onnx_opset() + 1)).c_str());
        o = {};
        o.height = 40; // n_downs 2: a multiple of 16
        refused(o, "height 40");
        o = {};
        o.width = 8;
        refused(o, "width 8");
    }

    void experimentExportAndCli()
    {
        QTemporaryDir tmp;
        const std::string exp = tmp.filePath(QStringLiteral("run_v1")).toStdString();
        QDir().mkpath(QString::fromStdString(exp));
        Config config;
        config.dataloader.load.load_size = 32;
        config.dataloader.load.crop_size = 32;
        config.train.generator.features = 8;
        config.train.generator.n_downs = 2;
        config.train.generator.block_type = UnetBlockType::ResidualUnetBlock;
        UnetGenerator saved = random_generator(unet_options_from_config(config), 3);
        {
            torch::serialize::OutputArchive ar, model, optim;
            saved->save(model);
            ar.write("model", model);
            ar.write("optimizer", optim);
            ar.save_to(checkpoint_file(exp, 2, "netG"));
        }
        const std::string out = tmp.filePath(QStringLiteral("m.onnx")).toStdString();
        try {
            export_experiment_onnx(exp, 2, out);
            QFAIL("exported from a folder without a config copy");
        } catch (const CheckpointError& e) {
            QVERIFY2(std::string(e.what()).find("not an experiment folder") != std::string::npos, e.what());
        }
        write_config_copy(config, exp);
        try {
            export_experiment_onnx(exp, 5, out);
            QFAIL("exported an epoch without checkpoint");
        } catch (const CheckpointError& e) {
            QVERIFY2(std::string(e.what()).find("epoch5_netG.pt") != std::string::npos, e.what());
        }
        QVERIFY(!QFile::exists(QString::fromStdString(out)));
        const OnnxExportReport r = export_experiment_onnx(exp, 2, out);
        QCOMPARE(r.parameters, count_parameters(*saved));
        QCOMPARE(r.height, 32);

        // The CLI: exit 0 and the file; bad input exits 2 naming the problem and writes nothing.
        const auto run = [](const QStringList& args, QByteArray* err) {
            QProcess p;
            p.start(QStringLiteral(NECTAR_EXPORT_EXE), args);
            p.waitForFinished(120000);
            *err = p.readAllStandardError() + p.readAllStandardOutput();
            return p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1;
        };
        const QString e = QString::fromStdString(exp);
        QByteArray msg;
        const QString cli_out = tmp.filePath(QStringLiteral("cli.onnx"));
        QCOMPARE(run({ QStringLiteral("--experiment"), e, QStringLiteral("--epoch"), QStringLiteral("2"),
                         QStringLiteral("--output"), cli_out, QStringLiteral("--height"), QStringLiteral("48"),
                         QStringLiteral("--dynamic-batch") },
                     &msg),
            0);
        QVERIFY2(msg.contains("48, 32]"), msg.constData());
        QVERIFY(QFile::exists(cli_out));
        const QString bad = tmp.filePath(QStringLiteral("bad.onnx"));
        QCOMPARE(run({ QStringLiteral("--experiment"), e, QStringLiteral("--epoch"), QStringLiteral("3"),
                         QStringLiteral("--output"), bad },
                     &msg),
            2);
        QVERIFY2(msg.contains("epoch3_netG.pt"), msg.constData());
        QCOMPARE(run({ QStringLiteral("--experiment"), e, QStringLiteral("--epoch"), QStringLiteral("2"),
                         QStringLiteral("--output"), bad, QStringLiteral("--opset"), QStringLiteral("9") },
                     &msg),
            2);
        QVERIFY2(msg.contains("opset 9"), msg.constData());
        QCOMPARE(run({ QStringLiteral("--experiment"), e, QStringLiteral("--output"), bad }, &msg), 2);
        QVERIFY2(msg.contains("--epoch"), msg.constData());
        QVERIFY(!QFile::exists(bad));
    }
};

QTEST_GUILESS_MAIN(TestOnnxExport)
#include "tst_onnx_export.moc"
