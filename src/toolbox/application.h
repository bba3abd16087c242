// SPDX-License-Identifier: Apache-2.0
#pragma once
/// @file What nectar-toolbox sets up around its main window, shared by main() and the GUI smoke test
/// (tests/gui/tst_tour.cpp) so that the test runs what users run.

namespace toolbox {

/// Process-wide set-up that must happen before QApplication exists (and before any thread starts):
/// the heap policy for training, which runs in this process on a worker thread. Never throws.
void prepareProcess() noexcept;

/// Application-wide set-up on the existing QApplication, before the first QSettings or window: the
/// organization and application names (they name the settings file,
/// ~/.config/NectarToolbox/nectar-toolbox.conf) and the version.
void setupApplication();

} // namespace toolbox
