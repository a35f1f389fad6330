package convunext.cli;

import static org.junit.jupiter.api.Assertions.*;

import convunext.io.AtomicFiles;
import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What only a real process shows: Ctrl-C (exit 130, one line, no temporary file left), kill -9
 * (the OS drops the folder lock; the next run removes the temporary file and says so), a second
 * process refused while the first holds the folder, and OutOfMemoryError as exit 3.
 *
 * <p>The children run this JVM's classpath with {@code -Dconvunext.test.atomicWritePauseMs}, which
 * holds each atomic write between its temporary file and the rename, so the signal is sure to
 * arrive while a temporary file exists.
 */
class ProcessTest {
    @TempDir Path dir;

    static final String[] TINY = {"--data", "testdata/synthetic", "--device", "cpu", "--batch", "2", "--crop", "64",
            "--base-size", "80", "--base-c", "4", "--tile", "128"};

    static ProcessBuilder java(Path log, List<String> jvm, String... args) {
        // every flag Main would add, so that it runs in this process (no launcher in between)
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--add-modules", "jdk.incubator.vector", "-cp", System.getProperty("java.class.path")));
        cmd.addAll(1, Relaunch.VECTOR_JIT_FLAGS);
        cmd.addAll(jvm);
        cmd.add(Main.class.getName());
        cmd.addAll(List.of(args));
        return new ProcessBuilder(cmd).redirectOutput(log.resolveSibling(log.getFileName() + ".out").toFile())
                .redirectError(log.resolveSibling(log.getFileName() + ".err").toFile());
    }

    /** A tiny training command; {@code more} may set --epochs and --max-steps-per-epoch (default 1 each). */
    static String[] train(Path out, String... more) {
        List<String> a = new ArrayList<>(List.of("train", "--out", out.toString()));
        a.addAll(List.of(TINY));
        a.addAll(List.of(more));
        if (!a.contains("--epochs")) a.addAll(List.of("--epochs", "1"));
        if (!a.contains("--max-steps-per-epoch")) a.addAll(List.of("--max-steps-per-epoch", "1"));
        return a.toArray(String[]::new);
    }

    static List<Path> temps(Path folder) throws Exception {
        if (!Files.isDirectory(folder)) return List.of();
        try (Stream<Path> s = Files.list(folder)) {
            return s.filter(AtomicFiles::isTemp).toList();
        }
    }

    /** Waits until {@code folder} holds one of our temporary files; fails after 120 s or if the child ends. */
    static void awaitTemp(Process p, Path folder, Path log) throws Exception {
        await(p, log, () -> !temps(folder).isEmpty(), "a temporary file");
    }

    /** Waits until {@code ready}; fails after 120 s (naming {@code what}) or if the child ends first. */
    static void await(Process p, Path log, java.util.concurrent.Callable<Boolean> ready, String what) throws Exception {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (!ready.call()) {
            if (!p.isAlive()) fail("child ended (" + p.exitValue() + ") before " + what + ": " + read(log, ".err") + read(log, ".out"));
            if (System.nanoTime() > end) { p.destroyForcibly(); fail("no " + what + " within 120 s: " + read(log, ".out")); }
            Thread.sleep(50);
        }
    }

    /**
     * Stops the child as Ctrl-C does and returns the one error line it printed, after checking its
     * exit status. Where SIGINT is ignored from the start (a background job without job control),
     * the JVM keeps ignoring it, so Ctrl-C cannot happen there: SIGTERM goes through the same hook.
     */
    static String interruptForOneLine(Process p, Path log) throws Exception {
        boolean intIgnored = signalIgnored(2);
        new ProcessBuilder("sh", "-c", "kill -" + (intIgnored ? "TERM " : "INT ") + p.pid()).start().waitFor();   // the shell's kill
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "child did not stop");
        assertEquals(intIgnored ? 143 : 130, p.exitValue(), read(log, ".err"));
        List<String> err = errorLines(read(log, ".err"));
        assertEquals(1, err.size(), read(log, ".err"));
        return err.get(0);
    }

    static String read(Path log, String ext) throws Exception {
        Path f = log.resolveSibling(log.getFileName() + ext);
        return Files.exists(f) ? Files.readString(f, StandardCharsets.UTF_8) : "";
    }

    /** Whether this process (and so its children) ignores signal {@code sig} (Linux /proc; false elsewhere). */
    static boolean signalIgnored(int sig) {
        try {
            for (String l : Files.readAllLines(Path.of("/proc/self/status")))
                if (l.startsWith("SigIgn:")) return (Long.parseUnsignedLong(l.substring(7).strip(), 16) & (1L << (sig - 1))) != 0;
        } catch (Exception notLinux) {
            // no /proc: assume the default disposition
        }
        return false;
    }

    static List<String> errorLines(String err) {
        return err.lines().filter(l -> !l.startsWith("WARNING")).toList();
    }

    @Test void ctrlCExits130WithOneLineAndLeavesNoTemporaryFile() throws Exception {
        Path out = dir.resolve("sigint"), log = dir.resolve("sigint-log");
        Process p = java(log, List.of("-Dconvunext.test.atomicWritePauseMs=20000"), train(out)).start();
        awaitTemp(p, out, log);
        String err = interruptForOneLine(p, log);
        assertTrue(err.startsWith("error: interrupted") && err.contains("no checkpoint was written yet"), err);
        assertEquals(List.of(), temps(out), "the shutdown hook removed the temporary file");
    }

    /** Stopped after metrics.csv and before summary.json: the one line says what is there and how to complete it. */
    @Test void anEvaluationStoppedBetweenItsTwoFilesSaysWhichIsWritten() throws Exception {
        Path run = dir.resolve("w");
        CliTest.Run trained = CliTest.run(train(run));
        assertEquals(Main.OK, trained.code(), trained.out() + trained.err());
        Path ev = dir.resolve("ev"), log = dir.resolve("ev-log");
        Process p = java(log, List.of("-Dconvunext.test.atomicWritePauseMs=8000"), "evaluate", "--data", "testdata/synthetic",
                "--weights", run.resolve("last.safetensors").toString(), "--device", "cpu", "--tile", "128", "-o", ev.toString()).start();
        // metrics.csv written, summary.json's temporary file held before its rename
        await(p, log, () -> Files.exists(ev.resolve("metrics.csv")) && !temps(ev).isEmpty(), "summary.json's temporary file");
        String err = interruptForOneLine(p, log);
        assertTrue(err.contains("metrics.csv written to " + ev + ", summary.json not"), err);
        assertFalse(Files.exists(ev.resolve("summary.json")));
        assertEquals(List.of(), temps(ev));
    }

    /**
     * predict --probs --overlay stopped between an image's files: its mask is written last, so no
     * mask stands beside a missing overlay, and the one line counts only complete images and names
     * the one in progress (the mask came first: stopped there, the image had a mask but no
     * probability map or overlay, and the line said only "0 of 2 images written").
     */
    @Test void aPredictionStoppedBetweenAnImagesFilesNamesTheImageInProgress() throws Exception {
        Path run = dir.resolve("w");
        CliTest.Run trained = CliTest.run(train(run));
        assertEquals(Main.OK, trained.code(), trained.out() + trained.err());
        Path in = Files.createDirectories(dir.resolve("in"));
        for (String n : new String[] {"syn_016.png", "syn_017.png"})
            Files.copy(Path.of("testdata/synthetic/test/images").resolve(n), in.resolve(n));
        Path out = dir.resolve("pred"), log = dir.resolve("pred-log");
        Process p = java(log, List.of("-Dconvunext.test.atomicWritePauseMs=20000"), "predict", "-i", in.toString(), "-o", out.toString(),
                "--weights", run.resolve("last.safetensors").toString(), "--device", "cpu", "--tile", "128", "--probs", "--overlay").start();
        // the first file renamed, the second held before its rename
        await(p, log, () -> !outputs(out).isEmpty() && !temps(out).isEmpty(), "second file");
        String err = interruptForOneLine(p, log);
        assertTrue(err.contains("0 of 2 images written to " + out + "; " + in.resolve("syn_016.png")
                + " was in progress and its outputs may be partial"), err);
        List<String> files = outputs(out);
        assertEquals(List.of("syn_016_prob.png"), files, "the probability map first, the mask last");
        assertEquals(List.of(), temps(out));
    }

    /** The files in {@code folder} but its lock and temporary files (both named with a leading dot), sorted. */
    static List<String> outputs(Path folder) throws Exception {
        if (!Files.isDirectory(folder)) return List.of();
        try (Stream<Path> s = Files.list(folder)) {
            return s.map(f -> f.getFileName().toString()).filter(n -> !n.startsWith(".")).sorted().toList();
        }
    }

    @Test void killMinus9FreesTheFolderAndTheNextRunRemovesItsTemporaryFile() throws Exception {
        Path out = dir.resolve("kill9"), log = dir.resolve("kill9-log");
        Process p = java(log, List.of("-Dconvunext.test.atomicWritePauseMs=60000"), train(out)).start();
        awaitTemp(p, out, log);
        List<Path> left = temps(out);
        // while it runs, a second run into the folder is refused, naming the first
        CliTest.Run busy = CliTest.run(train(out));
        assertEquals(Main.BAD_INPUT, busy.code(), busy.out() + busy.err());
        assertTrue(busy.err().contains("in use by another run") && busy.err().contains("pid " + p.pid()), busy.err());
        p.destroyForcibly();   // SIGKILL: no hook runs
        assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        assertEquals(left, temps(out), "kill -9 leaves the temporary file");
        CliTest.Run next = CliTest.run(train(out));
        assertEquals(Main.OK, next.code(), next.out() + next.err());
        assertTrue(next.out().contains("removed 1 temporary file(s) an interrupted run left in " + out), next.out());
        assertEquals(List.of(), temps(out));
    }

    @Test void outOfMemoryIsExit3WithOneLineSayingWhatToTry() throws Exception {
        // a 1200×1200 RGB image decodes in a 48 MiB heap (≈ 37 MiB by ImageFiles' bound: let through), but its
        // floats and the model's activations need far more
        Path in = Files.createDirectories(dir.resolve("big"));
        java.awt.image.BufferedImage im = new java.awt.image.BufferedImage(1200, 1200, java.awt.image.BufferedImage.TYPE_3BYTE_BGR);
        javax.imageio.ImageIO.write(im, "png", in.resolve("big.png").toFile());
        Path weights = dir.resolve("w.safetensors");   // untrained weights do: only memory matters here
        try (convunext.backend.Backend be = convunext.backend.all.Backends.open("cpu", System.out);
             convunext.nn.ConvUNeXt m = new convunext.nn.ConvUNeXt(new convunext.nn.ConvUNeXt.Config(3, 2, 4, convunext.nn.Norm.BATCH), be, 0)) {
            convunext.train.Checkpoint.save(weights, m, null, null);
        }
        Path log = dir.resolve("oom-log");
        Process p = java(log, List.of("-Xmx48m"), "predict", "-i", in.toString(), "-o", dir.resolve("big-out").toString(),
                "--weights", weights.toString(), "--device", "cpu").start();
        assertTrue(p.waitFor(120, TimeUnit.SECONDS));
        assertEquals(Main.NO_DEVICE, p.exitValue(), read(log, ".err") + read(log, ".out"));
        List<String> err = errorLines(read(log, ".err"));
        assertEquals(1, err.size(), read(log, ".err"));
        assertTrue(err.get(0).contains("out of memory") && err.get(0).contains("-Xmx") && err.get(0).contains("--tile"), err.get(0));
    }

    /**
     * Two identical `train` commands in two fresh JVMs (same seed, synthetic data, cpu, 2 threads):
     * bit-identical metrics.csv (but for the wall-clock column) and checkpoint tensors. Cold JVMs
     * JIT-compile at different moments, so this also checks interpreted and compiled code agree.
     */
    @Test void twoIdenticalTrainCommandsGiveIdenticalFiles() throws Exception {
        List<Path> outs = List.of(dir.resolve("det-a"), dir.resolve("det-b"));
        List<Process> ps = new ArrayList<>();
        for (Path out : outs)   // side by side: different load and JIT timing in each
            ps.add(java(out.resolveSibling(out.getFileName() + "-log"), List.of("-Dconvunext.cpu.threads=2"),
                    train(out, "--epochs", "2", "--max-steps-per-epoch", "2", "--seed", "11")).start());
        for (int i = 0; i < 2; i++) {
            assertTrue(ps.get(i).waitFor(180, TimeUnit.SECONDS));
            Path log = outs.get(i).resolveSibling(outs.get(i).getFileName() + "-log");
            assertEquals(0, ps.get(i).exitValue(), read(log, ".err") + read(log, ".out"));
        }
        List<String> a = Files.readAllLines(outs.get(0).resolve("metrics.csv")), b = Files.readAllLines(outs.get(1).resolve("metrics.csv"));
        int secs = List.of(a.get(0).split(",")).indexOf("seconds");
        assertEquals(a.size(), b.size());
        for (int i = 0; i < a.size(); i++) {
            List<String> ra = new ArrayList<>(List.of(a.get(i).split(","))), rb = new ArrayList<>(List.of(b.get(i).split(",")));
            ra.remove(secs);
            rb.remove(secs);
            assertEquals(ra, rb, "metrics.csv line " + (i + 1));
        }
        for (String f : new String[] {"last.safetensors", "best.safetensors"}) {
            var x = convunext.io.SafeTensors.read(outs.get(0).resolve(f)).tensors();
            var y = convunext.io.SafeTensors.read(outs.get(1).resolve(f)).tensors();
            assertEquals(x.keySet(), y.keySet());
            for (String k : x.keySet()) assertArrayEquals(x.get(k).data(), y.get(k).data(), 0.0, f + " " + k);
        }
    }

    static {
        // children inherit the classpath; make sure it is there (surefire's manifest jar or a plain path)
        for (String e : System.getProperty("java.class.path").split(File.pathSeparator))
            if (!new File(e).exists()) throw new IllegalStateException("classpath entry missing: " + e);
    }
}
