// SPDX-License-Identifier: Apache-2.0
#pragma once
/// @file Preparing a pix2pix dataset before training (as NectarGAN's Toolbox dataset utilities): pair two
/// folders into A|B images, split a folder of pairs into train/val/test, and check a dataset root with the
/// loader's own pre-flight scan. Used by `nectar-data`. Images are read and written with Qt (QImageReader,
/// PNG through QImageWriter); every file is written atomically (temp file, fsync, rename), so a stop or a
/// crash leaves no half-written file. Every tool plans first: the dry run returns exactly the plan that the
/// real run then carries out, and nothing is written when the plan is refused.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "config/choices.h"

namespace nectar {

/// Progress of a tool: files done and in all, after each file; return false to stop (the files written
/// so far stay, each complete).
using ToolProgress = std::function<bool(std::size_t done, std::size_t total)>;

struct PairOptions {
    std::string dir_a, dir_b; ///< the two folders, matched by file name without extension
    std::string output; ///< gets <name>.png per pair
    int size = 0; ///< pixels: resize each half to size x size; 0 = keep (both halves must be equal then)
    Direction direction = Direction::AtoB; ///< AtoB writes A | B, BtoA writes B | A
    bool into_non_empty = false; ///< allow an output folder that has files (existing names are still refused)
};

struct PairReport {
    std::vector<std::string> writes; ///< output files, in order (planned, or written by a real run)
    std::vector<std::string> unmatched_a, unmatched_b; ///< images with no partner of the same name
    std::vector<std::string> unreadable; ///< image files whose header cannot be read, "<file>: <why>"
    std::vector<std::string> not_images; ///< other entries (text files, sub-folders)
    std::vector<std::string>
        size_mismatch; ///< pairs whose halves differ in size (without `size`), "<name>: WxH vs WxH"
    std::vector<std::string> ambiguous; ///< names found twice in one folder (x.jpg and x.png)
    bool stopped = false;
};

/// Pairs the images of dir_a and dir_b. Throws DataError (an InputError) naming the folder for a missing
/// input folder, a non-empty output without `into_non_empty`, an output file that exists already, or a
/// size outside 1..8192; std::runtime_error for a write error. `dry_run`: nothing is created.
PairReport pair_images(const PairOptions& options, bool dry_run, const ToolProgress& progress = {});

struct SplitOptions {
    std::string input; ///< folder of pair images
    std::string output; ///< gets train/, val/, test/
    double train = 0.8, val = 0.1, test = 0.1; ///< ratios (normalised; each >= 0, sum > 0)
    std::int64_t seed = 0; ///< the shuffle before splitting
    bool move = false; ///< move instead of copy
    bool into_non_empty = false;
};

struct SplitReport {
    std::vector<std::pair<std::string, std::string>> writes; ///< source -> destination, in order
    std::map<std::string, std::size_t> counts; ///< per split
    std::vector<std::string> not_images;
    bool stopped = false;
};

/// Splits input's images into output/{train,val,test}: shuffled with `seed` (the same seed, the same
/// split), the first round(n * train) to train, the next round(n * val) to val, the rest to test. Never
/// overwrites (an existing destination refuses the whole plan). Throws DataError as pair_images, and for
/// bad ratios.
SplitReport split_dataset(const SplitOptions& options, bool dry_run, const ToolProgress& progress = {});

struct CheckReport {
    struct Split {
        std::string name; ///< train, val, test
        std::size_t pairs = 0; ///< usable A|B pairs (the loader's count)
        std::vector<std::string> warnings; ///< the loader's pre-flight lines (bad files by kind), or its error
        std::map<std::string, std::size_t> sizes; ///< "WxH" -> images of that size (readable headers)
        std::vector<std::string> wrong_aspect; ///< images whose width is not twice their height
    };
    std::vector<Split> splits; ///< the split folders that exist
};

/// The dataset pre-flight scan (PairedDataset's, headers only) of each of dataroot/{train,val,test}, with
/// the size distribution. Throws DataError when dataroot has none of them.
CheckReport check_dataset(const std::string& dataroot);

} // namespace nectar
