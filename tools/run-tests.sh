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
rc=0
meson test -C "$builddir" --print-errorlogs --num-processes 2 "$@" || rc=$?
# One plain closing line, counted from meson's own log.
log="$builddir/meson-logs/testlog.json"
if [ -f "$log" ]; then
  passed=$(grep -c '"result": "OK"' "$log" || true)
  skipped=$(grep -c '"result": "SKIP"' "$log" || true)
  failed=$(grep -c '"result": "\(FAIL\|TIMEOUT\|ERROR\|UNEXPECTEDPASS\)"' "$log" || true)
  echo "tests: $passed passed, $failed failed, $skipped skipped"
fi
exit $rc
