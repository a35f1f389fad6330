#!/usr/bin/env bash
# Builds what bench/device-check.sh needs on the GPU machine (which has no Java and no Maven) into
# .device/ (git-ignored):
#   jre.tar.xz           a jlink'd Java 25 runtime (xz: 21 MB where gzip gives 33; jre.tgz when this
#                        machine has no xz; the device unpacks either, without xz through Python)
#   convunext.jar        the jar, slimmed of JCuda native libraries our backend never loads (NVPTX
#                        compiler, NVRTC, other platforms)
#   convunext-tests.jar  the compiled tests (target/test-classes)
#   junit-console.jar    JUnit's console launcher (junit-platform-console-standalone, the platform
#                        version matching junit.version in pom.xml; fetched into ~/.m2 once)
# so that the working tree plus .device stay under the 64 MiB a device call carries. Then checks
# here that this runtime runs the jar's `info`, a one-step bench (with --breakdown) and a package
# scan of the tests (one class).
#
#   bash bench/make-device-bundle.sh [--build]     (--build: mvn package first, even if the jar exists)
#
# Modules: java.base, java.logging (JCuda logs through it), jdk.unsupported, java.desktop (ImageIO
# for training data and curves.png; brings java.xml, which JUnit's XML report needs),
# java.management (bench's heap high-water), jdk.management (com.sun.management.ThreadMXBean:
# bench --breakdown's per-thread CPU time), jdk.incubator.vector (the CPU GEMM), jdk.zipfs (JUnit
# scans the tests jar for a package through the "jar" file system). JDK:
# $JAVA25_HOME, else /usr/lib/jvm/temurin-25-jdk-amd64 (needs only glibc 2.17). The image is left
# uncompressed (--compress=zip-0) because the archive compresses it better; libjvm.so's symbol table
# is stripped (29 -> 25 MB) and the X11 and splash-screen libraries are left out (headless only).
# It ends by printing what a device call carries (tracked tree + .device) against the 64 MiB limit,
# and fails when less than MARGIN_MIB (default 1) would remain (61.1 MiB carried, margin 2.9, ran on the
# H200 on 2026-12-04; the limit counts the tree as it is plus .device).
set -euo pipefail
cd "$(dirname "$0")/.."
JDK=${JAVA25_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}
[ -x "$JDK/bin/jlink" ] || { echo "no jlink in $JDK (set JAVA25_HOME)"; exit 2; }
if [ "${1:-}" = "--build" ] || [ ! -f target/convunext.jar ] || [ ! -d target/test-classes/convunext ]; then
    mvn -B -o -q package -DskipTests   # compiles the tests too (skipTests only skips running them)
fi
stale=$(find src/main kernels -newer target/convunext.jar \( -name '*.java' -o -name '*.cu' -o -name '*.h' \) | head -n 3)
[ -z "$stale" ] || echo "WARNING: sources newer than target/convunext.jar (use --build): $stale"
unzip -l target/convunext.jar ptx/gemm.ptx >/dev/null 2>&1 || { echo "target/convunext.jar has no PTX (nvcc missing at build time?)"; exit 2; }

unzip -l target/convunext.jar 'cubin/*.cubin' >/dev/null 2>&1 || echo "WARNING: target/convunext.jar has no sm_90 cubins: the GPU will JIT the PTX"

mkdir -p .device
rm -rf .device/jre .device/jre.tgz .device/jre.tar.xz
"$JDK/bin/jlink" --add-modules java.base,java.logging,jdk.unsupported,java.desktop,java.management,jdk.management,jdk.incubator.vector,jdk.zipfs \
    --strip-debug --no-header-files --no-man-pages --compress=zip-0 \
    --exclude-files='**/libawt_xawt.so,**/libsplashscreen.so' --output .device/jre
command -v strip >/dev/null 2>&1 && strip --strip-unneeded .device/jre/lib/server/libjvm.so

cp target/convunext.jar .device/convunext.jar
# Only libJCudaDriver is loaded (the driver API; cudart is static in it). zip -d fails when
# nothing matches, hence one pattern at a time and "|| true".
# libJCudaRuntime is never loaded either (every call goes through the driver API).
for pat in 'lib/libJNvPTXCompiler*' 'lib/libJNvrtc*' 'lib/libJCudaRuntime*' 'lib/*windows*' 'lib/*apple*' 'lib/*.dll' 'lib/*.dylib' 'lib/*ppc64*' 'lib/*aarch64*'; do
    zip -q -d .device/convunext.jar "$pat" >/dev/null 2>&1 || true
done

# The tests without Maven: their classes as a jar, and JUnit's console launcher. Platform 1.x.y
# goes with Jupiter 5.x.y; a missing launcher is fetched once (the only online step).
rm -f .device/convunext-tests.jar
"$JDK/bin/jar" cf .device/convunext-tests.jar -C target/test-classes .
platform=$(sed -n 's:.*<junit.version>5\.\([0-9.]*\)</junit.version>.*:1.\1:p' pom.xml)
[ -n "$platform" ] || { echo "junit.version 5.x.y not found in pom.xml"; exit 2; }
console=org.junit.platform:junit-platform-console-standalone:$platform
dep=org.apache.maven.plugins:maven-dependency-plugin:3.7.1:copy
if ! mvn -B -o -q "$dep" -Dartifact="$console" -DoutputDirectory=.device -Dmdep.stripVersion=true >/dev/null 2>&1; then
    echo "fetching $console from Maven Central (once)"
    mvn -B -q "$dep" -Dartifact="$console" -DoutputDirectory=.device -Dmdep.stripVersion=true
fi
mv -f .device/junit-platform-console-standalone.jar .device/junit-console.jar

echo "== info with the bundled runtime"
.device/jre/bin/java --add-modules jdk.incubator.vector -jar .device/convunext.jar info
.device/jre/bin/java --add-modules jdk.incubator.vector -jar .device/convunext.jar bench --device cpu --tiny --reps 1 --steps 1 \
    --breakdown | grep -E '^(model|train|inference|memory|sum of ops)'
echo "== a package scan of the tests with the bundled runtime and launcher (device-check.sh runs all of convunext.backend.cuda)"
.device/jre/bin/java --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -Xss8m \
    -cp .device/junit-console.jar:.device/convunext-tests.jar:.device/convunext.jar \
    org.junit.platform.console.ConsoleLauncher execute --disable-banner --details=summary \
    --fail-if-no-tests --select-package convunext.backend.cuda --include-classname '.*DevicesTest' 2>&1 | grep -E "tests (successful|failed)"

if command -v xz >/dev/null 2>&1; then
    tar -C .device -cf - jre | xz -9 -T"$(nproc 2>/dev/null || echo 1)" > .device/jre.tar.xz
else
    tar -C .device -czf .device/jre.tgz jre
fi
rm -rf .device/jre
# What travels: tracked files, untracked files git does not ignore, and the carried .device.
tree_bytes=$( { git ls-files -z; git ls-files -z --others --exclude-standard; } | xargs -0 du -cb 2>/dev/null \
              | awk '$2 == "total" { s += $1 } END { print s + 0 }')
dev_bytes=$(du -cb .device/* | tail -n 1 | cut -f1)
for f in .device/*; do printf '%s %s, ' "${f#.device/}" "$(du -h "$f" | cut -f1)"; done
echo
total_mib=$(echo "($tree_bytes + $dev_bytes) / 1048576" | bc -l)
margin=$(echo "64 - $total_mib" | bc -l)
printf 'carried: working tree %.1f MiB + .device %.1f MiB = %.1f MiB of the 64 MiB limit (margin %.1f MiB)\n' \
    "$(echo "$tree_bytes / 1048576" | bc -l)" "$(echo "$dev_bytes / 1048576" | bc -l)" "$total_mib" "$margin"
if [ "$(echo "$margin < ${MARGIN_MIB:-1}" | bc)" = 1 ]; then
    echo "ERROR: less than ${MARGIN_MIB:-1} MiB margin under the 64 MiB a device call carries"; exit 1
fi
echo "next: on the GPU machine, in this checkout with .device/ beside it: bash bench/device-check.sh (allow 540 s)"
