#!/usr/bin/env bash
# Images/s of the Spark job in local[1] and local[2] against `predict` on the same images, runs
# alternated (predict, local[1], local[2], predict, …) so a busy machine hits all three alike.
# Usage: bash src/spark/bench-vs-predict.sh IMAGES_DIR WEIGHTS [REPEATS=3]
# Needs: mvn -B -q package -DskipTests -Pspark. Prints per run and the medians: the segmentation
# loop (predict: "N image(s) in X s"; Spark: the job that reads, segments and writes the table)
# and the whole command's wall time (JVM start, model load, Spark session).
set -euo pipefail
images=$1 weights=$2 reps=${3:-3}
n=$(find "$images" -maxdepth 1 -type f ! -name '.*' | wc -l)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp="target/convunext-spark.jar:target/spark-libs/*"
declare -A loop wall
for r in $(seq 1 "$reps"); do
  for mode in predict 'local[1]' 'local[2]'; do
    out="$work/$r-${mode//[^a-z0-9]/}"
    t0=$(date +%s.%N)
    if [ "$mode" = predict ]; then
      s=$(java -jar target/convunext.jar predict -i "$images" -o "$out" --weights "$weights" --device cpu 2>&1 \
          | sed -n 's/.* image(s) in \([0-9.]*\) s/\1/p')
    else
      s=$(java -cp "$cp" convunext.spark.SegmentJob --master "$mode" --device cpu --images "$images" \
          --weights "$weights" --out "$out" 2>&1 | sed -n 's/.* images segmented in \([0-9.]*\) s.*/\1/p')
    fi
    t1=$(date +%s.%N)
    w=$(echo "$t1 - $t0" | bc)
    printf '%-9s run %d: loop %6.1f s (%.3f images/s), whole command %6.1f s\n' "$mode" "$r" "$s" "$(echo "$n / $s" | bc -l)" "$w"
    loop[$mode]+="$s "
    wall[$mode]+="$w "
  done
done
median() { tr ' ' '\n' | grep . | sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
p=$(echo "${loop[predict]}" | median)
echo "medians over $reps runs, $n images:"
for mode in predict 'local[1]' 'local[2]'; do
  m=$(echo "${loop[$mode]}" | median); w=$(echo "${wall[$mode]}" | median)
  printf '%-9s loop %6.1f s  %.3f images/s  (%+.1f%% vs predict)   whole command %6.1f s\n' "$mode" "$m" \
    "$(echo "$n / $m" | bc -l)" "$(echo "($m / $p - 1) * 100" | bc -l)" "$w"
done
