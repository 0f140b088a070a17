#!/usr/bin/env bash
# Dev-only: checks that a change leaves every output byte the same, comparing two
# builds of espcn-gst (e.g. the commit before a refactor and after it):
#   - every shipped preset (presets/*.bin) upscales each image of IMAGE_DIR
#     (shrunk by 4 first, so that the plain C reference takes seconds, not
#     minutes) and odd-size crops of the first three to the same PNG bytes with
#     espcn-upscale: all with the automatic kernels, the crops with the plain C
#     reference too;
#   - a short seeded training (LSQ, and float) writes the same checkpoint bytes,
#     and the same INT8 model apart from its "created" time stamp.
# usage: tools/compare-outputs.sh OLD_BUILD NEW_BUILD IMAGE_DIR WORK_DIR
# IMAGE_DIR: a few PNG images (the training run uses them as its data folder).
# OLD_BUILD may predate ESPCN_CPU: its reference run sets ESPCN_FORCE_REFERENCE=1 too.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ $# -ne 4 ]; then
  echo "usage: $0 OLD_BUILD NEW_BUILD IMAGE_DIR WORK_DIR" >&2
  exit 2
fi
old=$1 new=$2 images=$3 work=$4
mkdir -p "$work/in" "$work/old" "$work/new"
fail=0

# Inputs shrunk by 4 (espcn-imgtool), odd-size crops of the first three
# (GStreamer's videocrop, gst-plugins-good).
n=0
for img in "$images"/*.png; do
  base=$(basename "$img" .png)
  "$new/tools/espcn-imgtool" down "$img" "$work/in/$base.png" 4 >/dev/null
  [ $n -lt 3 ] || continue
  gst-launch-1.0 -q filesrc location="$work/in/$base.png" ! pngdec ! videoconvert \
    ! videocrop right=$((1 + 2 * n)) bottom=$((3 + n)) ! pngenc ! filesink location="$work/in/$base-odd.png"
  n=$((n + 1))
done

frames=0
for model in presets/*.bin; do
  m=$(basename "$model" .bin)
  for img in "$work/in"/*.png; do
    i=$(basename "$img" .png)
    "$old/tools/espcn-upscale" -m "$model" "$img" "$work/old/$m-$i.png" >/dev/null 2>&1
    "$new/tools/espcn-upscale" -m "$model" "$img" "$work/new/$m-$i.png" >/dev/null 2>&1
    outs=("$m-$i.png")
    case $i in
      *-odd)
        ESPCN_FORCE_REFERENCE=1 ESPCN_ISA=c "$old/tools/espcn-upscale" -m "$model" "$img" "$work/old/$m-$i-ref.png" \
          >/dev/null 2>&1
        ESPCN_CPU=none "$new/tools/espcn-upscale" -m "$model" "$img" "$work/new/$m-$i-ref.png" >/dev/null 2>&1
        outs+=("$m-$i-ref.png") ;;
    esac
    for f in "${outs[@]}"; do
      if ! cmp -s "$work/old/$f" "$work/new/$f"; then
        echo "DIFFERENT: $f"
        fail=1
      fi
      frames=$((frames + 1))
    done
  done
done
echo "frames: $frames compared ($(ls presets/*.bin | wc -l) presets x $(ls "$work/in"/*.png | wc -l) images, the odd crops also with the C reference)"

# Everything but the "created" time stamp of an INT8 model's metadata.
same_but_stamp () {
  local a=$1 b=$2 ma mb
  ma=$(grep -abo '"created":"[^"]*"' "$a" | head -n 1)
  mb=$(grep -abo '"created":"[^"]*"' "$b" | head -n 1)
  [ -n "$ma" ] && [ -n "$mb" ] || return 1
  local oa=${ma%%:*} ob=${mb%%:*} sa=${ma#*:} sb=${mb#*:}
  cmp -s <(head -c "$oa" "$a") <(head -c "$ob" "$b") &&
    cmp -s <(tail -c +$((oa + ${#sa} + 1)) "$a") <(tail -c +$((ob + ${#sb} + 1)) "$b")
}

for method in lsq none; do
  for side in old new; do
    build=$old
    [ $side = new ] && build=$new
    rm -rf "$work/train-$side-$method"
    "$build/tools/espcn-train" --data "$images" --out "$work/train-$side-$method" --method $method --epochs 2 \
      --warmup 1 --num-train 8 --num-val 2 --patch 48 --batch 4 --seed 1 -q >/dev/null 2>&1
  done
  a=$work/train-old-$method b=$work/train-new-$method
  if cmp "$a/$method.safetensors" "$b/$method.safetensors"; then
    echo "training $method: checkpoint identical ($(stat -c %s "$a/$method.safetensors") bytes)"
  else
    fail=1
  fi
  if ! cmp -s <(grep -v 'seconds"' "$a/$method.json") <(grep -v 'seconds"' "$b/$method.json"); then
    echo "DIFFERENT: $method.json (apart from timings)"
    fail=1
  fi
  if [ -f "$a/$method.bin" ]; then
    if same_but_stamp "$a/$method.bin" "$b/$method.bin"; then
      echo "training $method: INT8 model identical but its time stamp"
    else
      echo "DIFFERENT: $method.bin"
      fail=1
    fi
  fi
done
[ $fail = 0 ] && echo "all outputs identical"
exit $fail
