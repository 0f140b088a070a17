#!/usr/bin/env bash
# Regenerates every figure of the README's "Results": per scale, a markdown table
# (bicubic, GStreamer's videoscale lanczos, the float model, each INT8 preset
# through the integer engine: Set5 / Set14 / sample-val Y-PSNR, sample-val SSIM,
# model size, frames/s), the luma presets' rows beside them when they exist, the
# quality bars as PASS/FAIL lines, and the x4 comparison image docs/comparison-x4.png.
# Bars: every RGB float and INT8 preset at least 0.3 dB over the first-edition float
# models on Set5 and Set14 (issue 19); INT8 within 0.10 dB of its float model (APoT,
# DoReFa 0.25) and at least 1.0 dB over lanczos on Set5 (issue 7); every luma preset
# within 0.10 dB of the RGB preset of its method and scale, or better (issue 20).
# usage: tools/results.sh [SCALES...]   (default: 4 3 2)
# env: ESPCN_BUILDDIR (build), ESPCN_RUNS (runs: float checkpoints in
#      presets-x<s>/none.safetensors, luma: presets-y-x<s>/), ESPCN_DATASETS (../shared/datasets),
#      ESPCN_SAMPLE_DATA (sample-data), ESPCN_RESULTS_NO_IMAGE=1 (skip the image).
set -euo pipefail
cd "$(dirname "$0")/.."
builddir=${ESPCN_BUILDDIR:-build}
runs=${ESPCN_RUNS:-runs}
datasets=${ESPCN_DATASETS:-../shared/datasets}
sample=${ESPCN_SAMPLE_DATA:-sample-data}
eval_bin="$builddir/tools/espcn-eval"
bench_bin="$builddir/tools/espcn-bench"
inspect_bin="$builddir/tools/espcn-inspect"
methods=(lsq pact adaround apot dorefa ste)
scales=("$@")
[ ${#scales[@]} -gt 0 ] || scales=(4 3 2)

for b in "$eval_bin" "$bench_bin" "$inspect_bin"; do
  [ -x "$b" ] || { echo "results.sh: $b not built (ninja -C $builddir)" >&2; exit 1; }
done
for d in "$datasets/Set5" "$datasets/Set14"; do
  [ -d "$d" ] || { echo "results.sh: $d not found (set ESPCN_DATASETS)" >&2; exit 1; }
done
[ -d "$sample/images" ] || "$builddir/tools/espcn-sample-data" "$sample"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Model files, in table order, for scale $1 (sets the globals float and presets),
# and the luma ones (yfloat, ypresets: empty unless all six luma presets exist).
find_models () {
  local s=$1 m p x=
  [ "$s" = 4 ] || x=-x$s
  float="$runs/presets-x$s/none.safetensors"
  [ -f "$float" ] || float=
  presets=()
  missing=()
  for m in "${methods[@]}"; do
    p="presets/$m$x.bin"
    if [ -f "$p" ]; then presets+=("$p"); else missing+=("$p"); fi
  done
  yfloat="$runs/presets-y-x$s/none.safetensors"
  [ -f "$yfloat" ] || yfloat=
  ypresets=()
  for m in "${methods[@]}"; do
    p="presets/$m-y$x.bin"
    [ -f "$p" ] && ypresets+=("$p")
  done
  [ ${#ypresets[@]} -eq ${#methods[@]} ] || ypresets=()
}

# The first-edition float models' Set5 / Set14 Y-PSNR (README "Shipped presets",
# before issue 19): the retrained presets must beat them by 0.3 dB.
old_float () {
  case $1 in
  4) echo "29.87 26.96" ;;
  3) echo "31.79 28.55" ;;
  2) echo "35.59 31.66" ;;
  esac
}

# Field $3 (2 Y-PSNR, 4 SSIM) of row $2 in the TSV file $1.
get () { awk -F'\t' -v n="$2" -v f="$3" '$1 == n { print $f; exit }' "$1"; }

# Kilobytes of a model: the INT8 file as shipped; for the float model the float32
# weights (the checkpoint file also holds the optimizer state).
size_kb () {
  local f=$1 feat s
  case "$f" in
  *.safetensors)
    feat=$("$inspect_bin" "$f" | awk '$1 == "features" { print $3 }')
    s=$("$inspect_bin" "$f" | awk '$1 == "scale" { print $3 }')
    awk -v F="$feat" -v s="$s" 'BEGIN { h = F / 2; o = 3 * s * s;
      printf "%.0f", 4 * (3 * F * 25 + F + F * h * 9 + h + h * o * 9 + o) / 1024 }' ;;
  *) awk -v b="$(stat -c %s "$f")" 'BEGIN { printf "%.0f", b / 1024 }' ;;
  esac
}

# The LR size whose output is 1280x720 (x3: 426x240 gives 1278x720).
bench_size () { case $1 in 2) echo 640x360 ;; 3) echo 426x240 ;; 4) echo 320x180 ;; esac; }

fps () {
  "$bench_bin" --model "$1" --size "$(bench_size "$2")" --threads 2 --frames 15 --runs 3 --ref-frames 0 --json |
    sed -n 's/.*"fps": *\([0-9.]*\).*/\1/p'
}

# PASS/FAIL line: check "$label" "$value" "$op" "$limit".
n_pass=0
n_fail=0
check () {
  if awk -v v="$2" -v l="$4" -v op="$3" 'BEGIN { exit !(op == ">=" ? v >= l : v <= l) }'; then
    echo "PASS $1: $2 $3 $4"; n_pass=$((n_pass + 1))
  else
    echo "FAIL $1: $2 (bar $3 $4)"; n_fail=$((n_fail + 1))
  fi
}

for s in "${scales[@]}"; do
  case $s in 2|3|4) ;; *) echo "results.sh: scale must be 2, 3 or 4, got $s" >&2; exit 1 ;; esac
  find_models "$s"
  if [ ${#missing[@]} -gt 0 ]; then
    echo "x$s: skipped, presets missing: ${missing[*]}"
    echo
    continue
  fi
  models=()
  [ -z "$float" ] || models+=(-m "$float")
  for p in "${presets[@]}"; do models+=(-m "$p"); done
  [ -z "$yfloat" ] || [ ${#ypresets[@]} -eq 0 ] || models+=(-m "$yfloat")
  for p in "${ypresets[@]}"; do models+=(-m "$p"); done
  "$eval_bin" --tsv --lanczos -s "$s" -d "$datasets/Set5" "${models[@]}" > "$tmp/set5.tsv"
  "$eval_bin" --tsv --lanczos -s "$s" -d "$datasets/Set14" "${models[@]}" > "$tmp/set14.tsv"
  "$eval_bin" --tsv --lanczos -s "$s" -d "$sample" --num 100 "${models[@]}" > "$tmp/val.tsv"
  load=$(cut -d' ' -f1 /proc/loadavg)

  echo "### x$s"
  echo
  echo "| model | Set5 Y-PSNR | Set14 Y-PSNR | sample-val Y-PSNR | sample-val SSIM | size (KB) | fps, $(bench_size "$s") in, 2 threads |"
  echo "|---|---|---|---|---|---|---|"
  row () {  # row LABEL TSV-NAME SIZE FPS
    printf '| %s | %.2f | %.2f | %.2f | %.4f | %s | %s |\n' "$1" "$(get "$tmp/set5.tsv" "$2" 2)" \
      "$(get "$tmp/set14.tsv" "$2" 2)" "$(get "$tmp/val.tsv" "$2" 2)" "$(get "$tmp/val.tsv" "$2" 4)" "$3" "$4"
  }
  row "bicubic" "bicubic" "-" "-"
  row "lanczos (GStreamer videoscale)" "lanczos (videoscale)" "-" "-"
  [ -z "$float" ] || row "float ($float)" "$float (float)" "$(size_kb "$float")" "-"
  for p in "${presets[@]}"; do
    row "$(basename "$p" .bin) INT8" "$p" "$(size_kb "$p")" "$(printf %.1f "$(fps "$p" "$s")")"
  done
  if [ ${#ypresets[@]} -gt 0 ]; then
    [ -z "$yfloat" ] || row "luma float ($yfloat)" "$yfloat (float)" "$(size_kb "$yfloat")" "-"
    for p in "${ypresets[@]}"; do
      row "$(basename "$p" .bin) INT8 (luma)" "$p" "$(size_kb "$p")" "$(printf %.1f "$(fps "$p" "$s")")"
    done
  fi
  echo
  echo "(fps: espcn-bench median of 3 runs x 15 frames, load average $load on $(nproc) CPUs when the scores were taken)"
  echo

  lz5=$(get "$tmp/set5.tsv" "lanczos (videoscale)" 2)
  read -r old5 old14 <<< "$(old_float "$s")"
  # Issue 19: float and every RGB INT8 preset 0.3 dB over the first-edition float.
  for p in ${float:+"$float (float)"} "${presets[@]}"; do
    label=$(basename "$p" .bin)
    [ "$p" != "$float (float)" ] || label=float
    check "x$s $label Set5 over the first-edition float ($old5)" \
      "$(awk -v a="$(get "$tmp/set5.tsv" "$p" 2)" -v b="$old5" 'BEGIN { printf "%+.4f", a - b }')" ">=" 0.3
    check "x$s $label Set14 over the first-edition float ($old14)" \
      "$(awk -v a="$(get "$tmp/set14.tsv" "$p" 2)" -v b="$old14" 'BEGIN { printf "%+.4f", a - b }')" ">=" 0.3
  done
  if [ -n "$float" ]; then
    f5=$(get "$tmp/set5.tsv" "$float (float)" 2)
    check "x$s float Set5 over lanczos ($lz5)" "$(awk -v a="$f5" -v b="$lz5" 'BEGIN { printf "%+.4f", a - b }')" ">=" 1.0
  else
    echo "FAIL x$s: no float model ($runs/presets-x$s/none.safetensors) to compare the presets with"
    n_fail=$((n_fail + 1))
  fi
  for p in "${presets[@]}"; do
    m=$(basename "$p" .bin); m=${m%-x[23]}
    tol=0.10
    case $m in apot|dorefa) tol=0.25 ;; esac
    if [ -n "$float" ]; then
      for set in set5 set14; do
        v=$(get "$tmp/$set.tsv" "$p" 2)
        fl=$(get "$tmp/$set.tsv" "$float (float)" 2)
        check "x$s $m ${set/set/Set} drop from float ($fl -> $v)" \
          "$(awk -v a="$fl" -v b="$v" 'BEGIN { printf "%.4f", a - b }')" "<=" "$tol"
      done
    fi
    # x2 and x3: every preset; x4: the LSQ preset, which the presets test checks too
    if [ "$s" != 4 ] || [ "$m" = lsq ]; then
      v=$(get "$tmp/set5.tsv" "$p" 2)
      check "x$s $m Set5 over lanczos ($lz5)" "$(awk -v a="$v" -v b="$lz5" 'BEGIN { printf "%+.4f", a - b }')" ">=" 1.0
    fi
  done
  # Issue 20: each luma preset within 0.10 dB of the RGB preset of its method, or
  # better, and within its INT8 bar of the luma float model.
  for i in "${!ypresets[@]}"; do
    p=${ypresets[$i]}
    m=$(basename "$p" .bin); m=${m%-x[23]}; m=${m%-y}
    tol=0.10
    case $m in apot|dorefa) tol=0.25 ;; esac
    for set in set5 set14; do
      v=$(get "$tmp/$set.tsv" "$p" 2)
      r=$(get "$tmp/$set.tsv" "${presets[$i]}" 2)
      check "x$s $m luma ${set/set/Set} against RGB ($r -> $v)" \
        "$(awk -v a="$v" -v b="$r" 'BEGIN { printf "%+.4f", a - b }')" ">=" -0.10
      if [ -n "$yfloat" ]; then
        fl=$(get "$tmp/$set.tsv" "$yfloat (float)" 2)
        check "x$s $m luma ${set/set/Set} drop from luma float ($fl -> $v)" \
          "$(awk -v a="$fl" -v b="$v" 'BEGIN { printf "%.4f", a - b }')" "<=" "$tol"
      fi
    done
  done
  echo

  if [ "$s" = 4 ] && [ -z "${ESPCN_RESULTS_NO_IMAGE:-}" ] && [ -n "$float" ]; then
    # Set5 butterfly: thin wing stripes, which the models resolve and lanczos blurs.
    mkdir -p "$tmp/img" docs
    ln -s "$(realpath "$datasets/Set5/butterfly.png")" "$tmp/img/butterfly.png"
    ymodel=()
    [ ! -f presets/lsq-y.bin ] || ymodel=(-m presets/lsq-y.bin)
    "$eval_bin" -q --lanczos -m "$float" -m presets/lsq.bin "${ymodel[@]}" -d "$tmp/img" --save "$tmp/cmp" --crop 40,150,64,64 >/dev/null
    cp "$tmp/cmp/comparison.png" docs/comparison-x4.png
    echo "docs/comparison-x4.png: Set5 butterfly, HR crop at 40,150, 64x64, 2x zoom; columns: LR (nearest), lanczos (videoscale), float, LSQ INT8${ymodel:+, LSQ luma INT8 (chroma bicubic)}, ground truth"
    echo
  fi
done
echo "bar: $n_pass PASS, $n_fail FAIL"
