package convunext.cli;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Plain {@code java -cp … convunext.cli.Main} (no --add-modules) re-executes itself with the
 * Vector API module: the SIMD path runs, the exit status comes back, a SIGTERM to the launcher
 * reaches the command and a SIGKILLed launcher leaves no command running.
 */
class RelaunchTest {
    @TempDir Path dir;

    Process launch(String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx1g", "-cp", System.getProperty("java.class.path"), "convunext.cli.Main"));
        cmd.addAll(List.of(args));
        return new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true)
                .redirectOutput(dir.resolve("out.txt").toFile()).start();
    }

    String output() throws Exception { return Files.readString(dir.resolve("out.txt")); }

    @Test void plainJavaGetsTheVectorModuleAndTheExitStatus() throws Exception {
        Process p = launch("info");
        assertTrue(p.waitFor(120, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), output());
        assertTrue(output().contains("jdk.incubator.vector present"), output());
        assertTrue(output().contains("-XX:PerBytecodeTrapLimit=100 -XX:PerMethodTrapLimit=10000 in effect"), output());
        p = launch("train", "--data", "no-such-folder");
        assertTrue(p.waitFor(120, TimeUnit.SECONDS));
        assertEquals(Main.BAD_INPUT, p.exitValue(), output());
        assertTrue(output().contains("no-such-folder"), output());
    }

    @Test void theMechanismCanBeTurnedOff() throws Exception {
        List<String> cmd = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Dconvunext.relaunch=false",
                "-cp", System.getProperty("java.class.path"), "convunext.cli.Main", "info");
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(dir.resolve("out.txt").toFile()).start();
        assertTrue(p.waitFor(120, TimeUnit.SECONDS));
        assertTrue(output().contains("jdk.incubator.vector absent"), output());
        assertTrue(output().contains("-XX:PerMethodTrapLimit=10000 not in effect"), output());
    }

    /** The training child, once it runs (a few seconds after the launcher starts). */
    ProcessHandle runningChild(Process launcher) throws Exception {
        for (int i = 0; i < 600; i++) {
            var kids = launcher.toHandle().children().toList();
            if (!kids.isEmpty() && output().contains("epoch")) return kids.get(0);
            assertTrue(launcher.isAlive(), output());
            Thread.sleep(100);
        }
        throw new AssertionError("no training child after 60 s: " + output());
    }

    @Test void sigtermToTheLauncherStopsTheCommandAndReturnsItsStatus() throws Exception {
        Process p = launch("train", "--epochs", "1000", "--out", "run", "--device", "cpu");
        ProcessHandle child = runningChild(p);
        p.destroy();   // SIGTERM to the launcher only
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        assertEquals(143, p.exitValue(), output());
        assertFalse(child.isAlive(), "the command outlived its launcher");
    }

    @Test void aSigkilledLauncherLeavesNoCommandRunning() throws Exception {
        Process p = launch("train", "--epochs", "1000", "--out", "run", "--device", "cpu");
        ProcessHandle child = runningChild(p);
        p.destroyForcibly();   // SIGKILL: the launcher cannot pass anything on
        child.onExit().get(30, TimeUnit.SECONDS);
        assertFalse(child.isAlive());
    }

    /** Ctrl-C in a terminal: SIGINT to launcher and child at once. The child's own SIGINT decides: 130. */
    @Test void ctrlCReachingBothExitsWith130() throws Exception {
        Process p = launch("train", "--epochs", "1000", "--out", "run", "--device", "cpu");
        ProcessHandle child = runningChild(p);
        Process kill = new ProcessBuilder("kill", "-INT", Long.toString(p.pid()), Long.toString(child.pid())).start();
        assertEquals(0, kill.waitFor());
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        assertEquals(130, p.exitValue(), output());
        assertFalse(child.isAlive(), "the command outlived its launcher");
    }

    /** A launcher killed before its child started watching it (the child then belongs to init). */
    @Test void aChildWhoseLauncherIsAlreadyGoneStops() throws Exception {
        Process gone = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-version").start();
        gone.waitFor();
        List<String> cmd = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx1g",
                "--add-modules=" + Relaunch.VECTOR_MODULE, "-D" + Relaunch.MARKER + "=" + gone.pid(),
                "-cp", System.getProperty("java.class.path"), "convunext.cli.Main", "train", "--epochs", "1000", "--out", "run");
        Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true)
                .redirectOutput(dir.resolve("out.txt").toFile()).start();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), output());
        assertEquals(143, p.exitValue(), output());
        assertTrue(output().contains("launcher process " + gone.pid() + " ended"), output());
    }

    @Test void flagsAlreadyInEffectNeedNoChild() {
        // this test JVM runs with --add-modules jdk.incubator.vector (pom.xml argLine)
        assertTrue(Relaunch.missing(List.of("--add-modules=jdk.incubator.vector")).isEmpty());
        assertEquals(List.of("-Dconvunext.test.unset=1"), Relaunch.missing(List.of("-Dconvunext.test.unset=1")));
        assertFalse(Relaunch.missing(List.of("--add-opens=java.base/java.time.chrono=ALL-UNNAMED")).isEmpty());
        assertTrue(Relaunch.missing(List.of("--add-modules=jdk.no.such.module")).isEmpty());
        // -XX options are read back: the JIT flags are in pom.xml's argLine too; an option at its
        // default is missing when another value is asked for; one set on the command line is the
        // user's choice and kept; one this JVM does not know cannot be applied by a child either
        assertTrue(Relaunch.missing(Relaunch.VECTOR_JIT_FLAGS).isEmpty(), Relaunch.missing(Relaunch.VECTOR_JIT_FLAGS).toString());
        assertEquals(List.of("-XX:PerBytecodeRecompilationCutoff=201"), Relaunch.missing(List.of("-XX:PerBytecodeRecompilationCutoff=201")));
        assertTrue(Relaunch.missing(List.of("-XX:PerMethodTrapLimit=5")).isEmpty());
        assertTrue(Relaunch.missing(List.of("-XX:NoSuchOptionAnywhere=1")).isEmpty());
        // boolean options likewise (Spark's list carries -XX:+IgnoreUnrecognizedVMOptions, set by pom.xml's test JVMs)
        assertTrue(Relaunch.missing(List.of("-XX:+IgnoreUnrecognizedVMOptions")).isEmpty());
        assertEquals(List.of("-XX:+PrintFlagsFinal"), Relaunch.missing(List.of("-XX:+PrintFlagsFinal")));
        // Spark's list: its -XX options and the JIT flags only accompany a child
        String[] spark = {"-XX:+IgnoreUnrecognizedVMOptions", "--add-opens=java.base/java.lang=ALL-UNNAMED"};
        assertEquals(List.of("--add-opens=java.base/java.lang=ALL-UNNAMED"), Relaunch.sparkOptions(spark));
        List<String> child = new ArrayList<>(List.of("-XX:+IgnoreUnrecognizedVMOptions"));
        child.addAll(Relaunch.VECTOR_JIT_FLAGS);
        child.addAll(Relaunch.pageFlags());
        child.addAll(Relaunch.heapFlags());
        assertEquals(child, Relaunch.sparkChildOptions(spark));
    }

    /** The max heap `info` prints, in MiB. */
    long infoMaxHeapMiB() throws Exception {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("max heap (\\d+) MiB").matcher(output());
        assertTrue(m.find(), output());
        return Long.parseLong(m.group(1));
    }

    @Test void aLargerHeapOnlyWhereNobodyChoseOne() throws Exception {
        assertEquals(List.of(Relaunch.HEAP_FLAG), Relaunch.heapFlags(name -> false));
        for (String n : List.of("MaxHeapSize", "MaxRAM", "MaxRAMPercentage", "MaxRAMFraction"))
            assertEquals(List.of(), Relaunch.heapFlags(n::equals), n);
        assertEquals(List.of(), Relaunch.heapFlags(), "this JVM runs with -Xmx (the build's argLine): a child keeps it");
        // -Xmx1g on the launcher: the child inherits it
        Process p = launch("info");
        assertTrue(p.waitFor(120, TimeUnit.SECONDS));
        assertEquals(1024, infoMaxHeapMiB(), output());
        // no heap option: three quarters of the memory, not Java's default quarter
        List<String> cmd = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), "convunext.cli.Main", "info");
        p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(dir.resolve("out.txt").toFile()).start();
        assertTrue(p.waitFor(120, TimeUnit.SECONDS));
        long total = ((com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean())
                .getTotalMemorySize() >> 20;
        long heap = infoMaxHeapMiB();
        assertTrue(heap > total / 2 && heap <= total * 3 / 4 + 64, heap + " MiB of " + total + ": " + output());
    }

    @Test void hugePagesOnlyWhereTheKernelGivesThemOnRequest() {
        assertEquals("madvise", Relaunch.thpMode("always [madvise] never\n"));
        assertEquals("always", Relaunch.thpMode("[always] madvise never"));
        assertEquals("never", Relaunch.thpMode("always madvise [never]"));
        assertEquals("", Relaunch.thpMode(""));
        assertEquals("", Relaunch.thpMode("always madvise never"));
        assertEquals(List.of("-XX:+UseTransparentHugePages"), Relaunch.pageFlags("madvise"));
        // always: the heap gets them without the flag; never or unknown: the JVM would only warn
        assertTrue(Relaunch.pageFlags("always").isEmpty());
        assertTrue(Relaunch.pageFlags("never").isEmpty());
        assertTrue(Relaunch.pageFlags("").isEmpty());
        // the flag is at its default in this test JVM, so a child would get it
        assertEquals(Relaunch.pageFlags(), Relaunch.missing(Relaunch.pageFlags()));
    }
}
