package convunext.cli;

import static convunext.cli.CliSafetyTest.assertOneLine;
import static convunext.cli.CliSafetyTest.snapshot;
import static org.junit.jupiter.api.Assertions.*;

import convunext.cli.CliTest.Run;
import convunext.io.OutputFolder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The audit's defects on the commands: long names, symlinked inputs and lock files, outputs among
 * the inputs, folders made before a refusal, stale results, the exit code without a command,
 * cuda:N and --tol. Each test fails without its fix.
 */
class CliAuditTest {
    @TempDir static Path dir;
    static Path ckpt, syn016;

    static Run run(String... args) { return CliTest.run(args); }

    @BeforeAll static void trainTiny() {
        Run r = run("train", "--data", "testdata/synthetic", "--out", dir.resolve("run").toString(), "--device", "cpu",
                "--epochs", "1", "--batch", "2", "--crop", "64", "--base-size", "80", "--base-c", "4", "--max-steps-per-epoch", "1",
                "--tile", "128");
        assertEquals(0, r.code(), r.out() + r.err());
        ckpt = dir.resolve("run/last.safetensors");
        syn016 = Path.of("testdata/synthetic/test/images/syn_016.png");
    }

    static String[] predict(Path in, Path out, String... more) {
        List<String> a = new ArrayList<>(List.of("predict", "-i", in.toString(), "-o", out.toString(), "--weights", ckpt.toString(),
                "--device", "cpu", "--tile", "64", "--overlap", "16"));
        a.addAll(List.of(more));
        return a.toArray(String[]::new);
    }

    static String[] evaluate(Path data, Path out, String... more) {
        List<String> a = new ArrayList<>(List.of("evaluate", "--weights", ckpt.toString(), "--data", data.toString(), "--out", out.toString(),
                "--device", "cpu", "--tile", "64", "--overlap", "16"));
        a.addAll(List.of(more));
        return a.toArray(String[]::new);
    }

    /** A data root with test/images and test/masks holding {@code n} synthetic test images (masks unless {@code noMasks}). */
    static Path testData(String name, int n, boolean noMasks) throws Exception {
        Path root = dir.resolve(name);
        Files.createDirectories(root.resolve("test/images"));
        Files.createDirectories(root.resolve("test/masks"));
        try (Stream<Path> s = Files.list(Path.of("testdata/synthetic/test/images"))) {
            for (Path f : s.sorted().limit(n).toList()) {
                Files.copy(f, root.resolve("test/images").resolve(f.getFileName()));
                if (!noMasks) Files.copy(Path.of("testdata/synthetic/test/masks").resolve(f.getFileName()),
                        root.resolve("test/masks").resolve(f.getFileName()));
            }
        }
        return root;
    }

    // ---- D5: long names; a write failure is that file's failure

    @Test void longNamesAreWrittenAndAFailedWriteIsListedWhileTheOthersAreDone() throws Exception {
        Path in = Files.createDirectories(dir.resolve("long"));
        String ok = "x".repeat(240), tooLong = "y".repeat(250);   // y…_overlay.png is 262 bytes: no file system takes it
        Files.copy(syn016, in.resolve(ok + ".png"));
        Files.copy(syn016, in.resolve(tooLong + ".png"));
        Files.copy(syn016, in.resolve("z.png"));
        Path out = dir.resolve("long-out");
        Run r = run(predict(in, out, "--overlay"));
        assertEquals(Main.BAD_INPUT, r.code(), r.out() + r.err());
        assertTrue(Files.isRegularFile(out.resolve(ok + ".png")) && Files.isRegularFile(out.resolve(ok + "_overlay.png")), r.err());
        assertTrue(Files.isRegularFile(out.resolve("z.png")) && Files.isRegularFile(out.resolve("z_overlay.png")), "the run went on: " + r.err());
        List<String> err = r.err().lines().filter(l -> !l.startsWith("WARNING")).toList();
        assertEquals(2, err.size(), r.err());
        assertTrue(err.get(0).contains("1 of 3 images"), err.get(0));
        assertTrue(err.get(1).contains(tooLong + "_overlay.png"), err.get(1));
        assertEquals(List.of(), ProcessTest.temps(out), "no temporary file left");
    }

    // ---- D6: an input reached through a symlink is never an output

    @Test void aSymlinkedInputIsNeverReplacedByItsMask() throws Exception {
        Path victim = Files.createDirectories(dir.resolve("victim"));
        Files.copy(syn016, victim.resolve("photo.png"));
        Path sl = Files.createDirectories(dir.resolve("sl"));
        Files.createSymbolicLink(sl.resolve("photo.png"), victim.resolve("photo.png"));
        Map<String, String> before = snapshot(victim);
        assertOneLine(run(predict(sl.resolve("photo.png"), victim, "--overwrite")), Main.BAD_INPUT, victim.toString());
        assertOneLine(run(predict(sl.resolve("photo.png"), victim)), Main.BAD_INPUT, victim.toString());
        // a folder whose entry links into -o: refused naming the input and the output
        Path folder = Files.createDirectories(dir.resolve("sl-folder"));
        Files.copy(syn016, folder.resolve("real.png"));
        Files.createSymbolicLink(folder.resolve("photo.png"), victim.resolve("photo.png"));
        assertOneLine(run(predict(folder, victim, "--overwrite")), Main.BAD_INPUT, folder.resolve("photo.png").toString(),
                victim.resolve("photo.png").toString());
        assertEquals(before, snapshot(victim), "the real input is untouched");
    }

    // ---- D14: the lock file is never followed

    @Test void aSymlinkedLockFileIsRefusedAndItsTargetUntouched() throws Exception {
        Path other = Files.writeString(dir.resolve("precious.txt"), "keep me");
        Path out = Files.createDirectories(dir.resolve("lock-link"));
        Files.createSymbolicLink(out.resolve(OutputFolder.LOCK_FILE), other);
        assertOneLine(run(predict(syn016, out)), Main.BAD_INPUT, OutputFolder.LOCK_FILE, "symbolic link");
        assertEquals("keep me", Files.readString(other));
        assertFalse(Files.exists(out.resolve("syn_016.png")));
    }

    // ---- D4: evaluate --data /

    @Test void evaluateOnTheFileSystemRootIsOneLine() {
        Run r = run("evaluate", "--weights", ckpt.toString(), "--data", "/", "--device", "cpu");
        assertOneLine(r, Main.BAD_INPUT, "mask folder");
    }

    // ---- D12: the final line names a best.safetensors that exists

    @Test void aResumedRunInAnotherFolderDoesNotClaimABestCheckpointItDidNotWrite() {
        Path g2 = dir.resolve("g2");
        Run r = run("train", "--data", "testdata/synthetic", "--out", g2.toString(), "--device", "cpu", "--epochs", "1", "--batch", "2",
                "--crop", "64", "--base-size", "80", "--base-c", "4", "--max-steps-per-epoch", "1", "--tile", "128",
                "--resume", ckpt.toString());
        assertEquals(0, r.code(), r.out() + r.err());
        assertFalse(Files.exists(g2.resolve("best.safetensors")));
        String done = r.out().lines().filter(l -> l.startsWith("done in")).findFirst().orElseThrow();
        assertFalse(done.contains("(best.safetensors)"), done);
        assertTrue(done.contains("no best.safetensors was written in this run") && done.contains(dir.resolve("run/best.safetensors").toString()), done);
    }

    // ---- D13: outputs never go among the inputs (built-in data, ROI folders, evaluate's data)

    @Test void outputsInsideTheBuiltInDataOrAnRoiOrEvaluatesDataAreRefused() throws Exception {
        Path builtIn = Path.of("runs", "synthetic-data", "train", "images");
        boolean existed = Files.exists(builtIn);
        Run r = run("train", "--out", builtIn.toString(), "--device", "cpu", "--epochs", "1", "--batch", "2", "--base-c", "4",
                "--max-steps-per-epoch", "1");
        assertOneLine(r, Main.BAD_INPUT, "--out", "data folder");
        if (!existed) assertFalse(Files.exists(builtIn), "no folder was made");
        Path roi = Files.createDirectories(dir.resolve("roi-train"));
        for (Path out : new Path[] {roi, roi.resolve("sub")}) {
            r = run("train", "--data", "testdata/synthetic", "--out", out.toString(), "--train-roi", roi.toString(), "--device", "cpu",
                    "--epochs", "1", "--base-c", "4");
            assertOneLine(r, Main.BAD_INPUT, "--out", "--train-roi folder");
            r = run("train", "--data", "testdata/synthetic", "--out", out.toString(), "--test-roi", roi.toString(), "--device", "cpu",
                    "--epochs", "1", "--base-c", "4");
            assertOneLine(r, Main.BAD_INPUT, "--out", "--test-roi folder");
        }
        assertFalse(Files.exists(roi.resolve("sub")));
        Path data = testData("ev", 2, false);
        Map<String, String> before = snapshot(data);
        for (Path out : new Path[] {data.resolve("test/masks"), data.resolve("test/images/x"), data.resolve("test/masks/y")}) {
            assertOneLine(run(evaluate(data, out)), Main.BAD_INPUT, "--out", "folder");
            assertOneLine(run(evaluate(data.resolve("test"), out, "--overwrite")), Main.BAD_INPUT, "--out", "folder");
        }
        assertOneLine(run(evaluate(data, roi.resolve("e"), "--roi", roi.toString())), Main.BAD_INPUT, "--roi folder");
        assertEquals(before, snapshot(data));
    }

    // ---- D15a: a refusal leaves no output folder behind

    @Test void refusedWeightsOrDataLeaveNoOutputFolder() throws Exception {
        Path bad = Files.write(dir.resolve("bad.safetensors"), new byte[] {1, 2, 3});
        Path out = dir.resolve("never-p");
        String[] a = predict(syn016, out);
        a[6] = bad.toString();
        assertOneLine(run(a), Main.BAD_INPUT, "bad.safetensors");
        assertFalse(Files.exists(out), "predict made " + out);
        a = evaluate(Path.of("testdata/synthetic"), dir.resolve("never-e"));
        a[2] = bad.toString();
        assertOneLine(run(a), Main.BAD_INPUT, "bad.safetensors");
        assertFalse(Files.exists(dir.resolve("never-e")), "evaluate made its --out");
        Path data = dir.resolve("junk-data/train");
        Files.createDirectories(data.resolve("images"));
        Files.createDirectories(data.resolve("masks"));
        Files.writeString(data.resolve("images/a.png"), "not an image");
        Files.copy(Path.of("testdata/synthetic/train/masks/syn_000.png"), data.resolve("masks/a.png"));
        Run r = run("train", "--data", data.getParent().toString(), "--out", dir.resolve("never-t").toString(), "--device", "cpu",
                "--batch", "1", "--base-c", "4");
        assertOneLine(r, Main.BAD_INPUT, "a.png");
        assertFalse(Files.exists(dir.resolve("never-t")), "train made its --out");
    }

    // ---- D15b: --overwrite with no usable image keeps the earlier results and says whose they are

    @Test void overwriteWithNothingUsableSaysTheResultsAreAnEarlierRuns() throws Exception {
        Path out = dir.resolve("ev-stale");
        assertEquals(0, run(evaluate(testData("ev-good", 2, false), out)).code());
        Map<String, String> first = snapshot(out);
        first.remove(OutputFolder.LOCK_FILE);
        Run r = run(evaluate(testData("ev-nomask", 2, true), out, "--overwrite"));
        assertEquals(Main.BAD_INPUT, r.code(), r.out() + r.err());
        assertTrue(r.err().contains("no metrics were written") && r.err().contains("metrics.csv and summary.json in " + out)
                && r.err().contains("earlier run's"), r.err());
        Map<String, String> after = snapshot(out);
        after.remove(OutputFolder.LOCK_FILE);
        assertEquals(first, after, "left as they were");
    }

    // ---- D15c: no command is a usage error; --help lists 143

    @Test void noCommandIsAUsageErrorAndHelpListsSigterm() {
        Run r = run();
        assertEquals(Main.BAD_INPUT, r.code());
        assertTrue(r.err().startsWith("error: no command given"), r.err());
        assertTrue(r.out().contains("Usage:"), r.out());
        r = run("--help");
        assertEquals(0, r.code());
        assertTrue(r.out().contains("143") && r.out().contains("SIGTERM"), r.out());
    }

    // ---- D10: cuda:N is accepted; bad forms are usage errors

    @Test void cudaWithAnOrdinalIsAcceptedAndBadFormsAreRefused() {
        String fixture = "testdata/golden/convunext_c4_in1_k3_1x72x88.safetensors";
        for (String bad : new String[] {"cuda:", "cuda:x", "cuda:-1", "cuda:0:1"})
            assertOneLine(run("verify", "--device", bad, fixture), Main.BAD_INPUT, bad);
        // GPU 99 is nowhere: the device is unavailable (exit 3, one line), never an unknown name or a crash
        assertOneLine(run("verify", "--device", "cuda:99", fixture), Main.NO_DEVICE);
        Run r = run("verify", "--device", "cuda:0", fixture);
        if (r.code() != 0) assertOneLine(r, Main.NO_DEVICE);   // 0 where GPU 0 works
    }

    // ---- D11: --tol is finite and positive

    @Test void verifyRefusesAToleranceThatChecksNothing() {
        for (String tol : new String[] {"-1", "0", "NaN", "Infinity", "-Infinity"}) {
            Run r = run("verify", "--device", "cpu", "--tol", tol, "testdata/golden/convunext_c4_in1_k3_1x72x88.safetensors");
            assertOneLine(r, Main.BAD_INPUT, "--tol");
            assertFalse(r.out().contains("PASS") || r.out().contains("FAIL"), "nothing ran for " + tol + ": " + r.out());
        }
    }
}
