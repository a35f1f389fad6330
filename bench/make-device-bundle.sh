#!/usr/bin/env bash
# Builds what bench/device-check.sh needs on the GPU machine (which has no Java) into .device/
# (git-ignored): a jlink'd Java 25 runtime as .device/jre.tgz and the jar as .device/convunext.jar,
# slimmed of JCuda native libraries our backend never loads (NVPTX compiler, NVRTC, other
# platforms) so that the working tree plus .device stay under the 64 MiB a device call carries.
# Then checks here that this runtime runs the jar's `info`.
#
#   bash bench/make-device-bundle.sh [--build]     (--build: mvn package first, even if the jar exists)
#
# Modules: java.base, java.logging (JCuda logs through it), jdk.unsupported, java.desktop (ImageIO
# for training data and curves.png), java.management (bench's heap high-water), jdk.incubator.vector
# (the CPU GEMM). JDK: $JAVA25_HOME, else /usr/lib/jvm/temurin-25-jdk-amd64 (needs only glibc 2.17).
set -euo pipefail
cd "$(dirname "$0")/.."
JDK=${JAVA25_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}
[ -x "$JDK/bin/jlink" ] || { echo "no jlink in $JDK (set JAVA25_HOME)"; exit 2; }
if [ "${1:-}" = "--build" ] || [ ! -f target/convunext.jar ]; then
    mvn -B -o -q package -DskipTests
fi
unzip -l target/convunext.jar ptx/gemm.ptx >/dev/null 2>&1 || { echo "target/convunext.jar has no PTX (nvcc missing at build time?)"; exit 2; }

mkdir -p .device
rm -rf .device/jre .device/jre.tgz
"$JDK/bin/jlink" --add-modules java.base,java.logging,jdk.unsupported,java.desktop,java.management,jdk.incubator.vector \
    --strip-debug --no-header-files --no-man-pages --compress=zip-6 --output .device/jre

cp target/convunext.jar .device/convunext.jar
# Only libJCudaDriver is loaded (the driver API; cudart is static in it). zip -d fails when
# nothing matches, hence one pattern at a time and "|| true".
for pat in 'lib/libJNvPTXCompiler*' 'lib/libJNvrtc*' 'lib/*windows*' 'lib/*apple*' 'lib/*.dll' 'lib/*.dylib' 'lib/*ppc64*' 'lib/*aarch64*'; do
    zip -q -d .device/convunext.jar "$pat" >/dev/null 2>&1 || true
done

echo "== info with the bundled runtime"
.device/jre/bin/java --add-modules jdk.incubator.vector -jar .device/convunext.jar info
.device/jre/bin/java --add-modules jdk.incubator.vector -jar .device/convunext.jar bench --device cpu --tiny --reps 1 --steps 1 \
    | tail -n 4

tar -C .device -czf .device/jre.tgz jre
rm -rf .device/jre
tree_bytes=$(git ls-files -z | xargs -0 du -cb 2>/dev/null | tail -n 1 | cut -f1)
dev_bytes=$(du -cb .device/jre.tgz .device/convunext.jar | tail -n 1 | cut -f1)
printf 'jre.tgz %s, convunext.jar %s; with the working tree %.1f MiB of the 64 MiB a device call carries\n' \
    "$(du -h .device/jre.tgz | cut -f1)" "$(du -h .device/convunext.jar | cut -f1)" "$(echo "($tree_bytes + $dev_bytes) / 1048576" | bc -l)"
echo 'next: run(command="bash bench/device-check.sh", carry=[".device"], timeout_s=600)'
