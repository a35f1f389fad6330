#!/usr/bin/env bash
# Images/s of the Spark job in local[1] and local[2] against `predict` on the same images, runs
# alternated (predict, local[1], local[2], predict, …) so a busy machine hits all three alike.
# Usage: bash src/spark/bench-vs-predict.sh IMAGES_DIR WEIGHTS [REPEATS=3]
# Needs: mvn -B -q package -DskipTests -Pspark, and /usr/bin/time.
# Per run and as medians: the segmentation loop's wall time (predict: its "N image(s) in X s";
# Spark: the job that reads, segments and writes the table), CPU seconds (predict: the whole
# process, so JVM start and model load included; Spark: this JVM during the job, which in local
# mode is the executor's work), and the whole command's wall time (JVM, model, Spark session).
set -euo pipefail
images=$1 weights=$2 reps=${3:-3}
n=$(find "$images" -maxdepth 1 -type f ! -name '.*' | wc -l)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp="target/convunext-spark.jar:target/spark-libs/*"
declare -A loop cpu wall
for r in $(seq 1 "$reps"); do
  for mode in predict 'local[1]' 'local[2]'; do
    out="$work/$r-${mode//[^a-z0-9]/}" log="$work/log" tm="$work/time"
    if [ "$mode" = predict ]; then
      /usr/bin/time -f '%e %U %S' -o "$tm" java -jar target/convunext.jar predict -i "$images" -o "$out" \
          --weights "$weights" --device cpu > "$log" 2>&1
      s=$(sed -n 's/.* image(s) in \([0-9.]*\) s.*/\1/p' "$log")
      c=$(awk '{print $2 + $3}' "$tm")
    else
      /usr/bin/time -f '%e %U %S' -o "$tm" java -cp "$cp" convunext.spark.SegmentJob --master "$mode" --device cpu \
          --images "$images" --weights "$weights" --out "$out" > "$log" 2>&1
      s=$(sed -n 's/.* images segmented in \([0-9.]*\) s.*/\1/p' "$log")
      c=$(sed -n 's/.*, \([0-9.]*\) CPU-s in this JVM.*/\1/p' "$log")
    fi
    w=$(awk '{print $1}' "$tm")
    [ -n "$s" ] || { echo "$mode failed:"; cat "$log"; exit 1; }
    printf '%-9s run %d: loop %6.1f s (%.3f images/s), %6.1f CPU-s; whole command %6.1f s\n' "$mode" "$r" "$s" \
        "$(echo "$n / $s" | bc -l)" "$c" "$w"
    loop[$mode]+="$s "; cpu[$mode]+="$c "; wall[$mode]+="$w "
  done
done
median() { tr ' ' '\n' | grep . | sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
p=$(echo "${loop[predict]}" | median) pc=$(echo "${cpu[predict]}" | median)
echo "medians over $reps runs, $n images:"
for mode in predict 'local[1]' 'local[2]'; do
  m=$(echo "${loop[$mode]}" | median) c=$(echo "${cpu[$mode]}" | median) w=$(echo "${wall[$mode]}" | median)
  printf '%-9s loop %6.1f s  %.3f images/s  (%+.1f%% vs predict)   %6.1f CPU-s (%+.1f%%)   whole command %6.1f s\n' "$mode" \
    "$m" "$(echo "$n / $m" | bc -l)" "$(echo "($m / $p - 1) * 100" | bc -l)" "$c" "$(echo "($c / $pc - 1) * 100" | bc -l)" "$w"
done
