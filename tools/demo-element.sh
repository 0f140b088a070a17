#!/usr/bin/env bash
# The element on real photographs: HR tiles from the sample data's test split are
# downscaled (MATLAB bicubic), pushed through `espcnupscale` with gst-launch-1.0 as
# one image sequence, and scored against the originals beside plain bicubic.
# usage: tools/demo-element.sh MODEL [N_IMAGES] [DATA_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
model=${1:?usage: tools/demo-element.sh MODEL [N_IMAGES] [DATA_DIR]}
n=${2:-10}
data=${3:-sample-data}
builddir=${ESPCN_BUILDDIR:-build}
export GST_PLUGIN_PATH="$PWD/$builddir/gst${GST_PLUGIN_PATH:+:$GST_PLUGIN_PATH}"
export ESPCN_MODEL_PATH="$PWD/presets${ESPCN_MODEL_PATH:+:$ESPCN_MODEL_PATH}"
tool="$builddir/tools/espcn-imgtool"

case "$model" in
  */*) model_file=$model ;;
  *) model_file=presets/$model ;;
esac
scale=$("$builddir/tools/espcn-inspect" "$model_file" | sed -n 's/^ *scale = //p')


work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/hr" "$work/lr" "$work/sr" "$work/bic"
i=0
while read -r id && [ "$i" -lt "$n" ]; do
  name=$(printf '%03d' "$i")
  cp "$data/images/$id.jpg" "$work/hr/$name.jpg"
  "$tool" down "$work/hr/$name.jpg" "$work/lr/$name.png" "$scale"
  "$tool" up "$work/lr/$name.png" "$work/bic/$name.png" "$scale"
  i=$((i + 1))
done < "$data/meta/test.txt"

start=$(date +%s.%N)
gst-launch-1.0 -q multifilesrc location="$work/lr/%03d.png" index=0 stop-index=$((i - 1)) \
    caps=image/png,framerate=1/1 ! pngdec ! videoconvert ! video/x-raw,format=RGB ! \
    espcnupscale model="$model" ! videoconvert ! pngenc ! \
    multifilesink location="$work/sr/%03d.png"
end=$(date +%s.%N)

sum_sr=0; sum_bic=0
for f in "$work"/hr/*.jpg; do
  b=$(basename "$f" .jpg)
  sr=$("$tool" psnr "$f" "$work/sr/$b.png" "$scale" | cut -d' ' -f1)
  bic=$("$tool" psnr "$f" "$work/bic/$b.png" "$scale" | cut -d' ' -f1)
  sum_sr=$(awk -v a="$sum_sr" -v b="$sr" 'BEGIN{print a + b}')
  sum_bic=$(awk -v a="$sum_bic" -v b="$bic" 'BEGIN{print a + b}')
done
printf 'espcnupscale model=%s (x%s) on %d photographs from %s:\n' "$model" "$scale" "$i" "$data"
awk -v n="$i" -v t="$(awk -v a="$start" -v b="$end" 'BEGIN{print b - a}')" -v sr="$sum_sr" -v bic="$sum_bic" 'BEGIN{
  printf "  %.2f frames/s through gst-launch-1.0 (PNG decode and encode included)\n", n / t
  printf "  mean Y-PSNR %.3f dB, bicubic %.3f dB (%+.3f dB)\n", sr / n, bic / n, (sr - bic) / n }'

