#!/bin/sh
# The README's uninstalled commands, as written, inside `meson devenv`: it must
# set the plugin path and the model path by itself (nothing inherited here).
# Usage: test-devenv.sh MESON BUILD_DIR
set -eu
meson=$1
build=$2
unset GST_PLUGIN_PATH ESPCN_MODEL_PATH
"$meson" devenv -C "$build" gst-inspect-1.0 espcnupscale > /dev/null
# From a folder holding no model: bare names come from $ESPCN_MODEL_PATH.
"$meson" devenv -C "$build" --workdir / gst-launch-1.0 -q videotestsrc num-buffers=2 ! \
    video/x-raw,width=32,height=24 ! espcnupscale model=lsq.bin ! fakesink
"$meson" devenv -C "$build" --workdir / gst-launch-1.0 -q videotestsrc num-buffers=2 ! \
    video/x-raw,width=32,height=24 ! espcnupscale ! fakesink
