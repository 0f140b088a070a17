#!/bin/bash
# Dev-only: the inference figures of the README's Benchmarks section.  Three rounds,
# each PyTorch's oneDNN INT8 ESPCN right before espcn-bench at the same size, then the
# scalar reference, each x86 instruction set, and the x2/x3 presets at 1080p output.
# Needs Debian's python3-torch (not a dependency of espcn-gst).  Run on a quiet machine.
# usage: tools/bench/compare-rounds.sh [BUILDDIR]
set -euo pipefail
cd "$(dirname "$0")/../.."
B=${1:-build}/tools/espcn-bench
for round in 1 2 3; do
  for sz in 320x180 480x270; do
    echo "round $round $sz pytorch: $(/usr/bin/python3 tools/bench/pytorch-int8-espcn.py "$sz" 2 20 3 2>&1 | tail -n 1)"
    echo "round $round $sz ours: $("$B" --model presets/lsq.bin --size "$sz" --threads 2 --frames 30 --runs 5 --ref-frames 0 --json)"
  done
done
# Luma (issue 20): the luma network in PyTorch and the luma preset here (a random
# luma model of its shape when it is not shipped), at 1080p output, then the luma
# preset against the RGB one in interleaved rounds.
luma=(--random-model 4 --channels y)
[ ! -f presets/lsq-y.bin ] || luma=(--model presets/lsq-y.bin)
for round in 1 2 3; do
  echo "round $round luma 480x270 pytorch: $(/usr/bin/python3 tools/bench/pytorch-int8-espcn.py 480x270 2 20 3 1 2>&1 | tail -n 1)"
  echo "round $round luma 480x270 ours: $("$B" "${luma[@]}" --size 480x270 --threads 2 --frames 30 --runs 5 --ref-frames 0 --json)"
done
echo "luma vs rgb: $("$B" "${luma[@]}" --vs-model presets/lsq.bin --size 480x270 --threads 2 --frames 15 --runs 9 --json)"
echo "ref: $("$B" --model presets/lsq.bin --size 320x180 --threads 2 --frames 30 --runs 5 --ref-frames 1 --ref-runs 3 --json)"
for isa in sse41 avx2; do
  echo "isa $isa: $(ESPCN_CPU=$isa,orc "$B" --model presets/lsq.bin --size 320x180 --threads 2 --frames 30 --runs 5 --ref-frames 0 --json)"
done
echo "x2 960x540: $("$B" --model presets/lsq-x2.bin --size 960x540 --threads 2 --frames 10 --runs 5 --ref-frames 0 --json)"
echo "x3 640x360: $("$B" --model presets/lsq-x3.bin --size 640x360 --threads 2 --frames 10 --runs 5 --ref-frames 0 --json)"
