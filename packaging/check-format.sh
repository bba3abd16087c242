#!/usr/bin/env bash
# Fails when a tracked C++ file differs from what the project's .clang-format makes of it.
# The tree is formatted with Debian 12's clang-format 14; other versions may format a few constructs
# differently, so the check warns when it runs another one. Fix: clang-format -i <files>.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v clang-format >/dev/null; then
  echo "check-format: clang-format not found (Debian: apt-get install clang-format)" >&2
  exit 1
fi
version=$(clang-format --version | sed -nE 's/.*version ([0-9]+).*/\1/p')
[[ $version == 14 ]] || echo "check-format: warning: clang-format $version; the tree is formatted with version 14" >&2
mapfile -t files < <(git ls-files 'src/*.h' 'src/*.cpp' 'tests/*.h' 'tests/*.cpp')
if ! clang-format --dry-run --Werror "${files[@]}"; then
  echo "check-format: the files above are not formatted (clang-format -i <file>)" >&2
  exit 1
fi
echo "check-format: ${#files[@]} files match .clang-format"
