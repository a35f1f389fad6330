#!/usr/bin/env bash
# Inference scale on large images: the DRIVE test set upsampled 3× (565×584 → 1695×1752; images
# bilinear, vessel and field-of-view masks nearest-neighbour), scored with one checkpoint at the
# default scale (the training scale the checkpoint records: a short side of 1695 lies outside the
# 409–768 px that train resizes to at base 512, so each image runs at 561×579 and its
# probabilities are resized back) and at --scale native (1695×1752 as it is); the original
# DRIVE test set at the default scale (= native there) is the reference. Prints Dice and wall
# time for each.
#
# Usage:  bash bench/drive_3x.sh WEIGHTS DRIVE_ROOT [OUT]
#   WEIGHTS     a checkpoint trained on DRIVE (best.safetensors of train)
#   DRIVE_ROOT  the data set folder: test/images/*.tif, test/masks/*.tif (1st observer),
#               original_annotations/test/mask/*_mask.gif (field of view)
#   OUT         work folder (default runs/drive-3x): data-3x/ (made once, then reused), eval-*/
# Env: JAR (default target/convunext.jar), JAVA (default java), JAVA_OPTS (default -Xmx8g),
#      DEVICE (default auto), EXTRA (more evaluate flags, e.g. "--tta flip").
# Needs ImageMagick's convert (Debian: apt-get install imagemagick).
set -euo pipefail
if [ $# -lt 2 ]; then sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'; exit 2; fi
weights=$1 drive=$2 out=${3:-runs/drive-3x}
jar=${JAR:-target/convunext.jar} java=${JAVA:-java} device=${DEVICE:-auto}
read -r -a jopts <<< "${JAVA_OPTS:--Xmx8g}"
read -r -a extra <<< "${EXTRA:-}"
[ -f "$weights" ] || { echo "error: weights file not found: $weights" >&2; exit 2; }
[ -f "$jar" ] || { echo "error: $jar not found (mvn -B -q package -DskipTests)" >&2; exit 2; }
for d in "$drive/test/images" "$drive/test/masks" "$drive/original_annotations/test/mask"; do
    [ -d "$d" ] || { echo "error: no folder $d" >&2; exit 2; }
done
command -v convert > /dev/null || { echo "error: ImageMagick's convert is not installed" >&2; exit 2; }

# The 3× set, made once into a temporary folder and renamed, so an interrupted run leaves none half made.
data="$out/data-3x"
if [ ! -d "$data" ]; then
    mkdir -p "$out"
    tmp=$(mktemp -d "$out/.data-3x.XXXXXX")
    mkdir -p "$tmp/test/images" "$tmp/test/masks" "$tmp/test/roi"
    for f in "$drive"/test/images/*.tif; do
        n=$(basename "$f" .tif)
        # Triangle = bilinear interpolation; point = nearest (each mask pixel becomes 3×3).
        convert "$f" -filter Triangle -resize 300% "$tmp/test/images/$n.png"
        convert "$drive/test/masks/$n.tif" -filter point -resize 300% "$tmp/test/masks/$n.png"
        convert "$drive/original_annotations/test/mask/${n}_mask.gif" -filter point -resize 300% "$tmp/test/roi/${n}_mask.png"
    done
    mv "$tmp" "$data"
fi

run() {   # name, data, roi, scale
    local name=$1 d=$2 roi=$3 scale=$4 t0 t1 log="$out/eval-$1.log"
    t0=$(date +%s.%N)
    "$java" "${jopts[@]}" -jar "$jar" evaluate --weights "$weights" --data "$d" --roi "$roi" --device "$device" \
        --scale "$scale" --out "$out/eval-$name" --overwrite "${extra[@]}" > "$log" 2>&1 \
        || { echo "error: evaluate $name failed (exit $?); see $log" >&2; tail -3 "$log" >&2; exit 1; }
    t1=$(date +%s.%N)
    local line dice
    line=$(grep -E '^[0-9]+ images in ' "$log" | tail -1)
    dice=$(sed -E 's/.*mean foreground Dice ([0-9.]+).*/\1/' <<< "$line")
    printf '%-22s %-8s Dice %s  wall %6.1f s  (%s)\n' "$name" "$scale" "$dice" "$(echo "$t1 - $t0" | bc)" "$line"
}

run drive-1x-auto   "$drive/test" "$drive/original_annotations/test/mask" auto
run drive-3x-auto   "$data/test"  "$data/test/roi" auto
run drive-3x-native "$data/test"  "$data/test/roi" native
grep -h -E '^(scale:|note:.*training scale)' "$out/eval-drive-1x-auto.log" | head -1
