// SPDX-License-Identifier: Apache-2.0
/// nectar-data: dataset preparation (data/dataset_tools.h).
///   nectar-data pair  --a DIR --b DIR --output DIR [--size S] [--direction AtoB|BtoA]
///   nectar-data split --input DIR --output DIR [--ratios 0.8,0.1,0.1] [--seed N] [--move]
///   nectar-data check --dataroot DIR
/// pair and split take --dry-run (list what would be written, write nothing) and --into-non-empty.
/// stdout: one line per file written (or planned): "write <path>" / "copy <src> -> <dest>" / "move ...";
/// stderr: the report. Exit codes: 0 done, 1 a write failed or Ctrl-C stopped it, 2 bad input.

#include <iostream>
#include <set>

#include <QCommandLineParser>
#include <QCoreApplication>

#include "cli_common.h"
#include "data/dataset_tools.h"
#include "util/paths.h"

using namespace nectar;
using namespace nectar::cli;

namespace {

void list(const char* what, const std::vector<std::string>& items)
{
    if (items.empty())
        return;
    std::cerr << what << " (" << items.size() << "):\n";
    for (const auto& i : items)
        std::cerr << "  " << i << "\n";
}

} // namespace

int main(int argc, char** argv)
{
    TrainingControl control;
    SignalStopper stopper(control);
    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName(QStringLiteral("nectar-data"));
    return guarded("nectar-data", [&]() -> int {
        QCommandLineParser p;
        p.setApplicationDescription(QStringLiteral("Prepare pix2pix datasets: pair | split | check."));
        p.addHelpOption();
        p.addPositionalArgument(QStringLiteral("command"), QStringLiteral("pair, split or check"));
        std::set<std::string> value_options;
        auto opt = [&](const char* name, const char* desc, const char* value = nullptr) {
            add_option(p, value_options, name, desc, value);
        };
        opt("a", "pair: folder of A images.", "DIR");
        opt("b", "pair: folder of B images (matched to A by file name without extension).", "DIR");
        opt("size", "pair: resize each half to S x S pixels (default: keep; the halves must be equal).", "S");
        opt("direction", "pair: AtoB writes A | B (default), BtoA writes B | A.", "D");
        opt("input", "split: folder of pair images.", "DIR");
        opt("ratios", "split: train,val,test ratios (default 0.8,0.1,0.1).", "R");
        opt("seed", "split: shuffle seed (default 0).", "N");
        opt("move", "split: move the files instead of copying them.");
        opt("dataroot", "check: dataset root with train/ val/ test/.", "DIR");
        opt("output", "pair, split: output folder (new or empty).", "DIR");
        opt("dry-run", "pair, split: list what would be written; write nothing.");
        opt("into-non-empty", "pair, split: allow an output folder that has files (existing names stay refused).");
        if (!p.parse(app.arguments()))
            throw UsageError(p.errorText().toStdString() + " (see --help)");
        if (p.isSet(QStringLiteral("help"))) {
            std::cout << p.helpText().toStdString();
            return kExitOk;
        }
        const QStringList pos = p.positionalArguments();
        if (pos.size() != 1)
            throw UsageError("expected one command: pair, split or check (see --help)");
        const std::string command = pos.first().toStdString();
        const RawArguments raw(argc, argv, value_options);
        const auto set = [&](const char* n) { return p.isSet(QString::fromLatin1(n)); };
        const auto need = [&](const char* n) {
            if (!set(n))
                throw UsageError(command + " needs --" + n);
            return raw.value(n);
        };
        const bool dry = set("dry-run");
        const ToolProgress progress = [&](std::size_t, std::size_t) { return !control.stop_requested(); };

        if (command == "pair") {
            PairOptions o;
            o.dir_a = need("a");
            o.dir_b = need("b");
            o.output = need("output");
            o.into_non_empty = set("into-non-empty");
            if (set("size"))
                o.size = parse_int(p, QStringLiteral("size"), 1);
            if (set("direction"))
                o.direction = parse_choice<Direction>(raw.value("direction"), "--direction");
            const PairReport r = pair_images(o, dry, progress);
            for (const auto& w : r.writes)
                std::cout << "write " << display_path(w) << "\n";
            std::cout.flush();
            list("not paired: only in A", r.unmatched_a);
            list("not paired: only in B", r.unmatched_b);
            list("not paired: unreadable", r.unreadable);
            list("not paired: halves of different sizes (use --size)", r.size_mismatch);
            list("not paired: name found twice in one folder", r.ambiguous);
            list("skipped: not images", r.not_images);
            std::cerr << (dry   ? "dry run: would write "
                    : r.stopped ? "stopped: wrote "
                                : "wrote ")
                      << r.writes.size() << " pair image(s) to " << display_path(o.output) << std::endl;
            return r.stopped ? kExitTrainingFailure : kExitOk;
        }
        if (command == "split") {
            SplitOptions o;
            o.input = need("input");
            o.output = need("output");
            o.move = set("move");
            o.into_non_empty = set("into-non-empty");
            if (set("seed")) {
                bool ok = false;
                o.seed = p.value(QStringLiteral("seed")).toLongLong(&ok);
                if (!ok)
                    throw UsageError("--seed " + raw.value("seed") + ": expected an integer");
            }
            if (set("ratios")) {
                const QStringList parts = p.value(QStringLiteral("ratios")).split(QLatin1Char(','));
                bool ok = parts.size() == 3;
                double v[3] = { 0, 0, 0 };
                for (int i = 0; ok && i < 3; ++i)
                    v[i] = parts[i].toDouble(&ok);
                if (!ok)
                    throw UsageError("--ratios " + raw.value("ratios") + ": expected three numbers train,val,test");
                o.train = v[0];
                o.val = v[1];
                o.test = v[2];
            }
            const SplitReport r = split_dataset(o, dry, progress);
            for (const auto& [src, dest] : r.writes)
                std::cout << (o.move ? "move " : "copy ") << display_path(src) << " -> " << display_path(dest) << "\n";
            std::cout.flush();
            list("skipped: not images", r.not_images);
            std::cerr << (dry   ? "dry run: would "
                    : r.stopped ? "stopped after: "
                                : "")
                      << (o.move ? "move " : "copy ") << r.writes.size() << " file(s):";
            for (const auto& [split, n] : r.counts)
                std::cerr << " " << split << " " << n;
            std::cerr << std::endl;
            return r.stopped ? kExitTrainingFailure : kExitOk;
        }
        if (command == "check") {
            const CheckReport r = check_dataset(need("dataroot"));
            for (const auto& s : r.splits) {
                std::cout << s.name << ": " << s.pairs << " pair(s)\n";
                for (const auto& [size, n] : s.sizes)
                    std::cout << "  size " << size << ": " << n << "\n";
                if (!s.wrong_aspect.empty())
                    std::cout << "  width not twice the height: " << s.wrong_aspect.size() << "\n";
                for (const auto& w : s.warnings)
                    std::cout << "  " << w << "\n";
            }
            return kExitOk;
        }
        throw UsageError("unknown command \"" + command + "\": expected pair, split or check");
    });
}
