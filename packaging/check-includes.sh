#!/usr/bin/env bash
# Enforces the engine's dependency rule on #include lines (README "Layout"):
#   util <- io <- config <- {scheduling, models, data, distributed} <- losses <- objective <- training <- {evaluation, export}
# A file in src/core/<area>/ may include its own area and areas to the left of it, never one to the right
# (nor a peer in braces). The engine never includes Qt Widgets, and GUI headers never include LibTorch.
# Prints one line per violation (file:line: what and why) and exits 1 if there is any.
set -euo pipefail
cd "$(dirname "$0")/.."

declare -A level=([util]=0 [io]=1 [config]=2 [scheduling]=3 [models]=3 [data]=3 [distributed]=3 [losses]=4 [objective]=5
                  [training]=6 [evaluation]=7 [export]=7)
bad=0
report() { echo "$1" >&2; bad=$((bad + 1)); }

while IFS= read -r file; do
  area=${file#src/core/}; area=${area%%/*}
  if [[ -z ${level[$area]+x} ]]; then
    report "$file: folder src/core/$area/ is not in the dependency rule (add it to packaging/check-includes.sh and README)"
    continue
  fi
  while IFS=: read -r line text; do
    target=$(sed -E 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"([^"]+)".*/\1/' <<<"$text")
    dep=${target%%/*}
    [[ $dep == "$target" || $dep == "$area" ]] && continue
    if [[ -z ${level[$dep]+x} ]]; then
      report "$file:$line: includes \"$target\": not an engine folder"
    elif (( level[$dep] >= level[$area] )); then
      report "$file:$line: includes \"$target\": $area/ may include only folders below it ($dep/ is not)"
    fi
  done < <(grep -nE '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' "$file" || true)
  while IFS=: read -r line text; do
    report "$file:$line: $text: the engine never depends on Qt Widgets"
  done < <(grep -nE '^[[:space:]]*#[[:space:]]*include[[:space:]]*<(QtWidgets/|QtPrintSupport/|QWidget>|QApplication>|QMainWindow>|QDialog>)' "$file" || true)
done < <(git ls-files 'src/core/*.h' 'src/core/*.cpp')

while IFS= read -r file; do
  while IFS=: read -r line text; do
    report "$file:$line: $text: GUI headers stay free of LibTorch (include it in a .cpp of bridge/ or session/)"
  done < <(grep -nE '^[[:space:]]*#[[:space:]]*include[[:space:]]*<(torch|ATen|c10)/' "$file" || true)
done < <(git ls-files 'src/toolbox/*.h')

if (( bad )); then
  echo "check-includes: $bad violation(s) of the dependency rule" >&2
  exit 1
fi
echo "check-includes: src/core follows util <- io <- config <- {scheduling, models, data, distributed} <- losses <- objective <- training <- {evaluation, export}; GUI headers are free of LibTorch"
