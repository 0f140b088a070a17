#!/usr/bin/env bash
# The main job of the README's first Quick start command, after the packages are
# installed: build, fetch the sample photographs, and show what the project does.
set -euo pipefail
cd "$(dirname "$0")/.."
builddir=${ESPCN_BUILDDIR:-build}
if [ -f "$builddir/build.ninja" ]; then
  meson setup --reconfigure "$builddir" >/dev/null
else
  meson setup "$builddir"
fi
meson compile -C "$builddir"

# Real photographs from Debian's archive, cut into a Food-101-style tree.
"$builddir/tools/espcn-sample-data" sample-data

# The element with the shipped x4 LSQ preset on photographs of the test split:
# frames per second through gst-launch-1.0, and PSNR beside bicubic.
bash tools/demo-element.sh lsq.bin 20
