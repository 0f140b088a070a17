#!/usr/bin/env bash
# The README's second Quick start command: build and run the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
builddir=${ESPCN_BUILDDIR:-build}
if [ -f "$builddir/build.ninja" ]; then
  meson setup --reconfigure "$builddir" >/dev/null
else
  meson setup "$builddir"
fi
meson compile -C "$builddir"
meson test -C "$builddir" --print-errorlogs --num-processes 2
