#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Writes tests/data/reference/ssim_reference.json: SSIM reference values computed by scikit-image, an
implementation independent of ours (evaluation/tester.h ssim()), for tst_evaluation.

Each case is a pair of small deterministic images (gradients, fixed-seed noise, a blur, an inversion), stored as
8-bit values v; the image is float32(v) / float32(255) (the C++ test builds the same float32 values), and
scikit-image computes on those values as float64 with the settings of Wang et al. 2004 that tester.h documents:
structural_similarity(x, y, gaussian_weights=True, sigma=1.5, use_sample_covariance=False, data_range=1,
channel_axis=0) (window radius int(3.5 * 1.5 + 0.5) = 5: 11x11; the mean over the valid windows and channels).
A batch case [N, C, H, W] is the mean of its images' values (each image has the same number of windows).

Run (Debian: apt-get install python3-skimage; for regenerating only, not a build dependency):
    /usr/bin/python3 packaging/reference/make_ssim_reference.py   (Debian's python3, where python3-skimage lives)
"""
import json
import os

import numpy as np
import scipy
import skimage
from skimage.metrics import structural_similarity

SEED = 20251203
OUT = os.path.join(os.path.dirname(__file__), "..", "..", "tests", "data", "reference", "ssim_reference.json")


def to_u8(a):
    return np.clip(np.rint(a * 255.0), 0, 255).astype(np.uint8)


def as_float(u8):
    return (u8.astype(np.float32) / np.float32(255)).astype(np.float64)


def ssim_chw(x, y):
    """SSIM of [C, H, W] float images with the documented settings."""
    if x.shape[0] == 1:
        return structural_similarity(x[0], y[0], gaussian_weights=True, sigma=1.5, use_sample_covariance=False,
                                     data_range=1.0)
    return structural_similarity(x, y, gaussian_weights=True, sigma=1.5, use_sample_covariance=False,
                                 data_range=1.0, channel_axis=0)


def box_blur(a):
    """3x3 mean per channel, edges replicated (a different image of the same content)."""
    p = np.pad(a, ((0, 0), (1, 1), (1, 1)), mode="edge")
    out = np.zeros_like(a)
    for di in range(3):
        for dj in range(3):
            out += p[:, di:di + a.shape[1], dj:dj + a.shape[2]]
    return out / 9.0


def main():
    rng = np.random.default_rng(SEED)
    c, h, w = 3, 16, 20
    ii, jj = np.meshgrid(np.arange(h) / (h - 1), np.arange(w) / (w - 1), indexing="ij")
    gradient = np.stack([ii, jj, 0.5 * (ii + jj)])
    noise = rng.random((c, h, w))
    noisy = np.clip(noise + 0.1 * rng.standard_normal((c, h, w)), 0, 1)
    gray = rng.random((1, 12, 11))
    pairs = [
        ("gradient vs gradient + noise", gradient, np.clip(gradient + 0.05 * rng.standard_normal((c, h, w)), 0, 1)),
        ("noise vs noise + noise", noise, noisy),
        ("noise vs its 3x3 blur", noise, box_blur(noise)),
        ("gradient vs inverted gradient", gradient, 1.0 - gradient),
        ("gradient vs noise", gradient, noise),
        ("identical", noise, noise),
        ("1 channel, 12x11 (one window column)", gray, box_blur(gray)),
    ]
    cases = []
    for name, x, y in pairs:
        xu, yu = to_u8(x), to_u8(y)
        cases.append({"name": name, "shape": list(xu.shape), "x": xu.ravel().tolist(), "y": yu.ravel().tolist(),
                      "ssim": float(ssim_chw(as_float(xu), as_float(yu)))})
    # A batch [2, 3, 16, 20]: the first two pairs.
    bx = np.stack([to_u8(pairs[0][1]), to_u8(pairs[1][1])])
    by = np.stack([to_u8(pairs[0][2]), to_u8(pairs[1][2])])
    batch = np.mean([ssim_chw(as_float(bx[k]), as_float(by[k])) for k in range(2)])
    cases.append({"name": "batch of the first two pairs", "shape": list(bx.shape), "x": bx.ravel().tolist(),
                  "y": by.ravel().tolist(), "ssim": float(batch)})
    doc = {
        "generator": "packaging/reference/make_ssim_reference.py",
        "computed_with": {"scikit-image": skimage.__version__, "numpy": np.__version__, "scipy": scipy.__version__},
        "seed": SEED,
        "settings": "structural_similarity(x, y, gaussian_weights=True, sigma=1.5, use_sample_covariance=False, "
                    "data_range=1.0, channel_axis=0); image = float32(v) / float32(255), computed as float64",
        "layout": "x, y: 8-bit values v, row-major in the order of shape ([C, H, W] or [N, C, H, W])",
        "cases": cases,
    }
    with open(OUT, "w") as f:
        json.dump(doc, f, separators=(",", ":"))
        f.write("\n")
    for case in cases:
        print(f"{case['name']}: {case['ssim']:.10f}")


if __name__ == "__main__":
    main()
