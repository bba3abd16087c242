// SPDX-License-Identifier: Apache-2.0
#pragma once
/// @file Paired A|B image dataset of pix2pix (Isola et al. 2017), as NectarGAN's
/// `nectargan/dataset/paired_dataset.py` (`PairedDataset`) with its bugs fixed:
///  - each file under dataroot/<split> is one image of width 2*S and height S: A = left half, B = right half;
///  - the halves are split BEFORE resampling (NectarGAN resizes the whole pair first, so A and B bleed into
///    each other at the seam), then each half is resized to load_size and randomly cropped to crop_size (the
///    same crop for both halves) for training, or resized to crop_size otherwise;
///  - augmentations from dataloader.augmentations (see data/augmentations.h), geometric ones identical on both;
///  - normalised to [-1, 1] ((x / 255 - 0.5) / 0.5, as NectarGAN's A.Normalize(0.5, 0.5)).
/// Decoding uses Qt's QImage / QImageReader (QtGui, no widgets); resizing is QImage::scaled with
/// Qt::SmoothTransformation (bilinear with area averaging when shrinking).
///
/// Bad data is found by a pre-flight scan in the constructor (headers only, via QImageReader) and reported as
/// data in warnings(), one line per kind: non-image entries (.DS_Store, notes.txt, sub-folders), unreadable
/// headers, pairs whose width is not twice their height (skipped, never stretched), and notes for images that
/// are converted (grayscale, palette, alpha, 16-bit) to input_nc channels. A file whose header is fine but
/// whose pixels do not decode (truncated) throws DataError naming the file when it is read (or is skipped at
/// scan time with verify_decode = true).

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "config/choices.h"
#include "data/augmentations.h"
#include "util/error.h"

namespace nectar {

struct Config;

/// Error in the data: what() names the folder or file and what was expected.
class DataError : public InputError {
public:
    using InputError::InputError;
};

/// "AtoB" | "BtoA"; throws std::invalid_argument otherwise.
Direction direction_from_string(const std::string& s);
std::string to_string(Direction d);

struct DatasetOptions {
    std::string dataroot; ///< folder with train/, val/, test/
    std::string split = "train"; ///< sub-folder to read; empty: dataroot itself holds the pairs
    Direction direction = Direction::AtoB;
    int input_nc = 3; ///< 1 (grayscale) or 3 (RGB); every image is converted to this
    int load_size = 286; ///< pixels: each half is resized to this before the random crop
    int crop_size = 256; ///< pixels: output size (<= load_size when training)
    bool train = true; ///< random crop + augmentations; false: resize to crop_size only
    nlohmann::json augmentations_both = nlohmann::json::object();
    nlohmann::json augmentations_input = nlohmann::json::object();
    nlohmann::json augmentations_target = nlohmann::json::object();
    bool verify_decode = false; ///< scan decodes every file (slower) and skips undecodable ones
    /// input_nc 1: colour images are converted to luma (a note in warnings); false: the scan throws DataError
    /// naming the first colour image, its channels and input_nc (testing a 1-channel model on a folder).
    bool colour_to_gray = true;
};

/// From dataloader.* of the config; train = (split == "train").
DatasetOptions dataset_options_from_config(const Config& config, const std::string& split);

/// One transformed pair. a = generator input (A for AtoB, B for BtoA), b = target; float32 [C, H, W] in
/// [-1, 1], C = input_nc, H = W = crop_size.
struct Sample {
    torch::Tensor a;
    torch::Tensor b;
    std::string path;
};

class PairedDataset {
public:
    /// Scans dataroot/split (dataroot itself for an empty split). Throws DataError when the folder is missing or holds
    /// no usable pair (naming the folder and what was skipped), std::invalid_argument for bad options (naming the
    /// option and value).
    explicit PairedDataset(DatasetOptions options);

    std::size_t size() const { return m_files.size(); }
    const std::string& path(std::size_t index) const { return m_files.at(index); }
    const std::vector<std::string>& paths() const { return m_files; }
    /// Absolute path of dataroot/split.
    const std::string& folder() const { return m_folder; }
    const DatasetOptions& options() const { return m_options; }
    const AugmentationSettings& augmentations() const { return m_augmentations; }
    /// Scan findings and unsupported augmentations, one line per kind (not printed anywhere).
    const std::vector<std::string>& warnings() const { return m_warnings; }

    /// Decodes and transforms pair `index`. All randomness (crop position, augmentations) comes from
    /// `seed`, so the same (index, seed) gives the same tensors on any thread. Thread-safe.
    /// Throws DataError naming the file if it cannot be decoded or is not a 2:1 pair.
    Sample get(std::size_t index, std::uint64_t seed = 0) const;

    /// Writes the sample straight into the float buffers `a` and `b` (C*H*W floats each, [C, H, W]).
    void load_into(std::size_t index, std::uint64_t seed, float* a, float* b) const;

private:
    DatasetOptions m_options;
    AugmentationSettings m_augmentations;
    std::string m_folder;
    std::vector<std::string> m_files;
    std::vector<std::string> m_warnings;
};

/// The plain images of a folder (input-only testing): PairedDataset's pre-flight scan without the 2:1 rule
/// (non-image entries, unreadable headers and conversions reported in warnings(); grayscale into input_nc 3
/// is replicated; colour into input_nc 1 is converted to luma, or refused per `colour_to_gray` as in
/// DatasetOptions). Decoding and resizing as PairedDataset (Qt, Qt::SmoothTransformation).
class ImageFolder {
public:
    /// Throws DataError when `folder` is missing or holds no usable image (naming it and what was skipped),
    /// or for a refused colour image (naming the file, its channels and input_nc); std::invalid_argument for
    /// input_nc other than 1 or 3.
    ImageFolder(const std::string& folder, int input_nc, bool colour_to_gray = true, bool verify_decode = false);

    std::size_t size() const { return m_files.size(); }
    const std::string& path(std::size_t index) const { return m_files.at(index); }
    const std::vector<std::string>& paths() const { return m_files; }
    /// Absolute path of the folder.
    const std::string& folder() const { return m_folder; }
    const std::vector<std::string>& warnings() const { return m_warnings; }

    /// Image `index` as float32 [input_nc, H, W] in [-1, 1] (as PairedDataset's samples): at the file's own
    /// size, or resized to size x size when `size` > 0; `file_width` / `file_height` (when given) receive the
    /// file's own size in pixels. Throws DataError naming the file if it cannot be decoded. Thread-safe.
    torch::Tensor load(std::size_t index, int size = 0, int* file_width = nullptr, int* file_height = nullptr) const;

private:
    int m_input_nc;
    std::string m_folder;
    std::vector<std::string> m_files;
    std::vector<std::string> m_warnings;
};

/// Seed of item `index` in `epoch` for a run seeded with `seed` (mixes all three through std::seed_seq).
std::uint64_t item_seed(std::uint64_t seed, std::int64_t epoch, std::uint64_t index);

} // namespace nectar
