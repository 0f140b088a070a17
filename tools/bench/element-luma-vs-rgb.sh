#!/bin/bash
# Dev-only: frames/s of espcnupscale on I420 video with a luma model against the same
# pipeline with an RGB model, in interleaved rounds (luma, RGB, luma, RGB, ...).
# Each figure is (N_LONG - N_SHORT) frames over the difference of two whole-process
# wall times (N_LONG and N_SHORT buffers), so start-up (registry, model load, caps)
# cancels out.  Prints every round and the medians; run it on a quiet machine.
# usage: tools/bench/element-luma-vs-rgb.sh [BUILDDIR] [ROUNDS] [LUMA_MODEL] [RGB_MODEL]
# env: ESPCN_BENCH_SIZE (480x270), ESPCN_BENCH_THREADS (2), ESPCN_BENCH_FRAMES (150)
set -euo pipefail
cd "$(dirname "$0")/../.."
builddir=${1:-build}
rounds=${2:-7}
luma=${3:-presets/lsq-y.bin}
rgb=${4:-presets/lsq.bin}
size=${ESPCN_BENCH_SIZE:-480x270}
threads=${ESPCN_BENCH_THREADS:-2}
n_long=${ESPCN_BENCH_FRAMES:-150}
n_short=10
w=${size%x*}
h=${size#*x}
for m in "$luma" "$rgb"; do
  [ -f "$m" ] || { echo "element-luma-vs-rgb.sh: $m not found" >&2; exit 1; }
done
export GST_PLUGIN_PATH="$PWD/$builddir/gst${GST_PLUGIN_PATH:+:$GST_PLUGIN_PATH}"

# Wall seconds of one pipeline run of $2 buffers with model $1.
run () {
  local t0 t1
  t0=$(date +%s.%N)
  gst-launch-1.0 -q videotestsrc num-buffers="$2" pattern=smpte \
    ! "video/x-raw,format=I420,width=$w,height=$h,framerate=30/1" \
    ! espcnupscale model="$1" n-threads="$threads" ! fakesink sync=false > /dev/null
  t1=$(date +%s.%N)
  awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.4f", b - a }'
}

# Frames/s of model $1 from one long and one short run.
fps () {
  local tl ts
  tl=$(run "$1" "$n_long")
  ts=$(run "$1" "$n_short")
  awk -v l="$tl" -v s="$ts" -v n=$((n_long - n_short)) 'BEGIN { printf "%.2f", n / (l - s) }'
}

median () { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

run "$luma" 2 > /dev/null   # warm the registry and the page cache
echo "I420 $size, $threads threads, $((n_long - n_short)) frames per figure, load average $(cut -d' ' -f1-3 /proc/loadavg)"
fl=()
fr=()
ratios=()
for r in $(seq 1 "$rounds"); do
  a=$(fps "$luma")
  b=$(fps "$rgb")
  ratio=$(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.3f", a / b }')
  fl+=("$a")
  fr+=("$b")
  ratios+=("$ratio")
  echo "round $r: $(basename "$luma") $a fps, $(basename "$rgb") $b fps, ratio $ratio"
done
echo "median: $(basename "$luma") $(printf '%s\n' "${fl[@]}" | median) fps, $(basename "$rgb") $(printf '%s\n' "${fr[@]}" | median) fps, ratio per round $(printf '%s\n' "${ratios[@]}" | median)"
