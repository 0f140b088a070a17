#!/usr/bin/env bash
# Retrains the shipped presets from the sample data with fixed seeds: per scale, a
# long float run, then each of the six methods fine-tuned from it with quantization
# on from the first step (--init, --warmup 0).  The exact command of every model is
# in its metadata ("recipe").
# usage: tools/train-presets.sh [SCALES...]   (default: 4 3 2)
# env: ESPCN_PRESET_JOBS=N fine-tunes N methods at once, one thread each (default 1:
#      one at a time on all cores; the models are the same either way);
#      ESPCN_PRESET_FLOAT_EPOCHS, ESPCN_PRESET_QAT_EPOCHS override the epochs below;
#      ESPCN_PRESET_METHODS="adaround ..." retrains only these methods (default: all six);
#      ESPCN_PRESET_CHANNELS="rgb y" trains the RGB presets (<method>[-x<s>].bin), the
#      luma ones (<method>-y[-x<s>].bin, espcn-train --channels y, the same recipe on
#      BT.601 Y) or both (default: rgb);
#      ESPCN_PRESET_SEEDS="42 43 44" overrides the fine-tune seeds of every scale
#      (below); ESPCN_PRESET_REUSE=1 keeps a fine-tune whose model is already there
#      and newer than its float checkpoint (to resume an interrupted run).
set -euo pipefail
cd "$(dirname "$0")/.."
builddir=${ESPCN_BUILDDIR:-build}
train="$builddir/tools/espcn-train"
data=${ESPCN_PRESET_DATA:-sample-data}
jobs=${ESPCN_PRESET_JOBS:-1}
all_methods=(lsq pact adaround apot dorefa ste)
read -r -a methods <<< "${ESPCN_PRESET_METHODS:-${all_methods[*]}}"
for m in "${methods[@]}"; do
  case " ${all_methods[*]} " in *" $m "*) ;; *) echo "ESPCN_PRESET_METHODS: unknown method '$m'" >&2; exit 2 ;; esac
done
# Flips, rotations and zoom (windows up to 2x wider, shrunk): the sample data is a
# few dozen photographs, most of them soft at full size.
zoom_min=0.5
augment=(--dihedral --zoom-min "$zoom_min")
# Epochs drawn class by class, on every train tile: in the first edition of the
# sample data the 8 training wallpapers gave 192 of the 209 tiles (README "Shipped
# presets": float Set5, x2 35.31 -> 35.59 dB, x3 31.56 -> 31.79, x4 29.62 ->
# 29.87).  1000 > the train tiles of either edition (209, 204): all of them (the
# default is 200).
sampling=(--balance-classes --num-train 1000)
# No weight decay, float and fine-tunes alike.  Adam's L2 term (the reference
# experiment's 1e-4) is normalised like the gradient, so it shrinks every weight
# whose task gradient is small at about the learning rate per step: in the x4
# float model of the old recipe (4800 epochs) 42 of conv1's 64 channels had
# weights of norm < 0.05 (median 0.000).  After 200 epochs of that recipe:
# weight decay 1e-4, 48 of 64 alive, sample val 24.368 dB; none, 64 of 64,
# 24.534 dB (README "Training", weight decay).
regular=(--weight-decay 0)
# A fine-tune's folder: seed 42's in the scale's run folder, the others' in seed<N>/.
seed_dir () { if [ "$2" = 42 ]; then echo "$1"; else echo "$1/seed$2"; fi; }
read -r -a channel_sets <<< "${ESPCN_PRESET_CHANNELS:-rgb}"
for c in "${channel_sets[@]}"; do
  case "$c" in rgb|y) ;; *) echo "ESPCN_PRESET_CHANNELS: '$c' is not rgb or y" >&2; exit 2 ;; esac
done
scales=("$@")
[ ${#scales[@]} -gt 0 ] || scales=(4 3 2)
[ -d "$data/images" ] || "$builddir/tools/espcn-sample-data" "$data"
mkdir -p presets
for c in "${channel_sets[@]}"; do
for s in "${scales[@]}"; do
  # RGB: runs/presets-x4, presets/lsq.bin; luma: runs/presets-y-x4, presets/lsq-y.bin.
  out=runs/presets-x$s suffix=
  [ "$c" = y ] && out=runs/presets-y-x$s suffix=-y
  # LR patches of 24 pixels and thousands of short epochs at every scale: for the same
  # number of pixels seen, more and smaller steps pay more than larger patches
  # (x4 float, sample data: 30 epochs of 192 px patches 30.3 dB, 120 epochs of
  # 96 px 31.95 dB; README "Shipped presets").
  lr_patch=${ESPCN_PRESET_LR_PATCH:-24}
  # 2400 float epochs at every scale (with weight decay, x4 needed 4800; without,
  # 200 epochs already pass the 4800 of the old recipe on the sample validation).
  # x2 fine-tunes longer: its models are the most precise, so the 7-bit hidden
  # activations cost the most there (old recipe, Set5 drop from float, 480 -> 960
  # epochs: LSQ 0.084 -> 0.051 dB, PACT 0.097 -> 0.075, AdaRound 0.099 -> 0.068).
  epochs=2400 qat_epochs=200 float_lr=0.001
  [ "$s" = 2 ] && qat_epochs=480
  epochs=${ESPCN_PRESET_FLOAT_EPOCHS:-$epochs}
  qat_epochs=${ESPCN_PRESET_QAT_EPOCHS:-$qat_epochs}
  patch=$(( lr_patch * s ))
  # A finished float run of this recipe is reused (its history has every epoch and
  # the same zoom, learning rate, sampling and the interpolator start), so a failed
  # fine-tune does not cost the float run again.
  [ -f "$out/none.safetensors" ] && [ "$(grep -c '"epoch"' "$out/none.json" 2>/dev/null || echo 0)" -ge "$epochs" ] &&
    grep -q "\"zoom_min\" : $zoom_min" "$out/none.json" && grep -q "\"lr\" : $float_lr" "$out/none.json" &&
    grep -q '"balance_classes" : true' "$out/none.json" && grep -q '"start" : "interp"' "$out/none.json" &&
    grep -q '"weight_decay" : 0' "$out/none.json" ||
    "$train" --data "$data" --method none --channels "$c" --scale "$s" --patch "$patch" --epochs "$epochs" --val-every 100 \
      --lr "$float_lr" --seed 42 "${augment[@]}" "${sampling[@]}" "${regular[@]}" --out "$out" --no-progress
  # x2 fine-tunes with three seeds, and the model that scores best on the sample
  # data's validation split (espcn-eval on its test.txt, the 52 tiles of the README's
  # "sample val") is shipped.  At x2 the seed alone moves a fine-tune's outcome by
  # more than the INT8 drop bar: the STE x2 fine-tune of seed 42 scored 29.119 dB
  # there, of seed 43 29.170 (float 29.192).  Every candidate's score goes to
  # $out/<method>.choice.
  seeds=(42)
  [ "$s" = 2 ] && seeds=(42 43 44)
  [ -n "${ESPCN_PRESET_SEEDS:-}" ] && read -r -a seeds <<< "$ESPCN_PRESET_SEEDS"
  threads=0
  [ "$jobs" -gt 1 ] && threads=1
  pids=()
  for seed in "${seeds[@]}"; do
    dir=$(seed_dir "$out" "$seed")
    mkdir -p "$dir"
    for m in "${methods[@]}"; do
      [ "${ESPCN_PRESET_REUSE:-0}" = 1 ] && [ "$dir/$m.bin" -nt "$out/none.safetensors" ] && continue
      # 8-bit hidden activations for the int8-weight methods at x2 and x3, where the
      # 7-bit grid cost most (x2 luma LSQ, sample val after 480 epochs: 7 bits
      # 28.783 dB, 8 bits 28.858, float 28.90); x4, the real-time case, keeps the
      # fast int8 path (8 bits ran the x4 luma network 1.38x slower).
      bits=()
      case "$s:$m" in [23]:lsq|[23]:pact|[23]:adaround|[23]:ste) bits=(--act-bits 8) ;; esac
      "$train" --data "$data" --method "$m" --channels "$c" --scale "$s" --patch "$patch" --epochs "$qat_epochs" --warmup 0 \
        "${bits[@]}" \
        --lr 2e-4 --val-every 20 --init "$out/none.safetensors" --seed "$seed" "${augment[@]}" "${sampling[@]}" "${regular[@]}" \
        --threads "$threads" \
        --out "$dir" --no-progress > "$dir/$m.log" 2>&1 &
      pids+=($!)
      if [ ${#pids[@]} -ge "$jobs" ]; then wait "${pids[0]}"; pids=("${pids[@]:1}"); fi
    done
  done
  for p in "${pids[@]}"; do wait "$p"; done
  for m in "${methods[@]}"; do
    best= best_psnr=
    : > "$out/$m.choice"
    for seed in "${seeds[@]}"; do
      dir=$(seed_dir "$out" "$seed")
      tail -n 1 "$dir/$m.log"
      # the model's row of espcn-eval's table: path, Y-PSNR, RGB PSNR, SSIM
      psnr=$("$builddir/tools/espcn-eval" --quiet --data "$data" --model "$dir/$m.bin" | awk -v f="$dir/$m.bin" '$1 == f { print $2 }')
      [ -n "$psnr" ] || { echo "espcn-eval gave no score for $dir/$m.bin" >&2; exit 1; }
      echo "seed $seed $dir/$m.bin sample-val Y-PSNR $psnr" >> "$out/$m.choice"
      if [ -z "$best" ] || awk -v a="$psnr" -v b="$best_psnr" 'BEGIN { exit !(a > b) }'; then
        best=$dir/$m.bin best_psnr=$psnr
      fi
    done
    echo "chosen: $best" >> "$out/$m.choice"
    [ ${#seeds[@]} -gt 1 ] && cat "$out/$m.choice"
    if [ "$s" = 4 ]; then cp "$best" "presets/$m$suffix.bin"; else cp "$best" "presets/$m$suffix-x$s.bin"; fi
  done
done
done
