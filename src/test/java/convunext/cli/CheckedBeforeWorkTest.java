package convunext.cli;

import static convunext.cli.CliSafetyTest.assertOneLine;
import static org.junit.jupiter.api.Assertions.*;

import convunext.cli.CliTest.Run;
import convunext.io.SafeTensors;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.function.Consumer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * README: errors are "checked before any work starts (option values, output folders, weights, ...;
 * the output folder is made only after these pass)". `verify` checks every fixture's layout before
 * the first one runs, and a damaged `train --resume` checkpoint (metadata that disagrees with its
 * tensors, a NaN weight) is refused before the data is decoded and before --out is made.
 */
class CheckedBeforeWorkTest {
    @TempDir static Path dir;
    static Path ckpt;

    @BeforeAll static void trainTiny() {
        Run r = CliTest.run("train", "--data", "testdata/synthetic", "--out", dir.resolve("run").toString(), "--device", "cpu",
                "--epochs", "2", "--stop-after", "1", "--batch", "2", "--crop", "64", "--base-size", "80", "--base-c", "4",
                "--max-steps-per-epoch", "1", "--tile", "128");
        assertEquals(0, r.code(), r.out() + r.err());
        ckpt = dir.resolve("run/last.safetensors");
    }

    /** {@code from}'s tensors and metadata, changed, in a new file. */
    static Path variant(Path from, String name, Consumer<Map<String, SafeTensors.Out>> tensors, Consumer<Map<String, String>> meta) {
        return convunext.io.SafeTensorsVariant.write(from, dir.resolve(name + ".safetensors"), tensors, meta);
    }

    @Test void verifyChecksEveryFixtureBeforeTheFirstRuns() {
        Path good = Path.of("testdata/golden/convunext_c4_in1_k3_1x72x88.safetensors");
        Path bad = variant(good, "nanLogits", t -> t.get("logits").data()[5] = Double.NaN, m -> {});
        long t0 = System.nanoTime();
        Run r = CliTest.run("verify", "--device", "cpu", good.toString(), bad.toString());
        assertOneLine(r, Main.BAD_INPUT, bad.toString(), "'logits' holds NaN at element 5");
        assertFalse(r.out().contains("PASS"), "the first fixture ran before the second was checked:\n" + r.out());
        assertTrue(System.nanoTime() - t0 < 5_000_000_000L, "refused only after " + (System.nanoTime() - t0) / 1e9 + " s");
    }

    @Test void aResumeCheckpointWhoseMetadataDisagreesWithItsTensorsMakesNoFolder() {
        Path bad = variant(ckpt, "classes", t -> {}, m -> m.put("num_classes", "3"));
        Path out = dir.resolve("fromClasses");
        Run r = CliTest.run("train", "--data", "testdata/synthetic", "--device", "cpu", "--resume", bad.toString(), "--out", out.toString());
        assertOneLine(r, Main.BAD_INPUT, bad.toString(), "'out_conv.0.weight' has shape [2, 4, 1, 1]");
        assertFalse(Files.exists(out), "the refused run made " + out);
        assertFalse(r.out().contains("class balance"), "the data was checked before the checkpoint:\n" + r.out());
    }

    /** A damaged base_c is named as the checkpoint's, not as a --crop/--batch the user never gave. */
    @Test void aResumeCheckpointWithAHugeBaseCIsNamedAsDamaged() {
        Path bad = variant(ckpt, "baseC", t -> {}, m -> m.put("base_c", "100000"));
        Run r = CliTest.run("train", "--data", "testdata/synthetic", "--device", "cpu", "--resume", bad.toString(), "--out",
                dir.resolve("fromBaseC").toString());
        assertOneLine(r, Main.BAD_INPUT, bad.toString(), "'in_conv.0.weight' has shape [4, 3, 7, 7]");
    }

    @Test void aResumeCheckpointWithANaNWeightMakesNoFolder() {
        Path bad = variant(ckpt, "nanWeight", t -> t.get("down3.0.weight").data()[0] = Double.NaN, m -> {});
        Path out = dir.resolve("fromNaN");
        Run r = CliTest.run("train", "--data", "testdata/synthetic", "--device", "cpu", "--resume", bad.toString(), "--out", out.toString());
        assertOneLine(r, Main.BAD_INPUT, bad.toString(), "'down3.0.weight'", "NaN");
        assertFalse(Files.exists(out), "the refused run made " + out);
    }

    /**
     * --resume rebuilds metrics.csv from the run's own: one edited or cut short by hand (a header of
     * other columns, a torn row, a word for a number, an epoch twice) is refused naming the file and
     * its line as an editor counts it, before the data check, and left as it was (it was refused
     * only after the data check, and a torn row was first moved into the rewritten file).
     */
    @Test void aResumedRunsDamagedMetricsCsvIsNamedBeforeTheData() throws Exception {
        String good = Files.readString(dir.resolve("run/metrics.csv"));
        String row1 = good.lines().skip(1).findFirst().orElseThrow();
        String[][] cases = {
                {"header", good.replaceFirst("^epoch,", "Epoch,"), "line 1", "has the header 'Epoch,"},
                {"torn", good + "2,1.49", "line 3", "has 2 fields, its header 10"},
                {"word", "\n" + good.replace(row1, row1.replaceFirst(",[^,]*$", ",oops")), "line 3", "'oops' in column 'iou_c1' is not a number"},
                {"twice", good + row1 + "\n", "line 3", "epoch 1 comes after epoch 1"}};
        for (String[] c : cases) {
            Path run = Files.createDirectories(dir.resolve("metrics-" + c[0]));
            for (String f : new String[] {"last.safetensors", "best.safetensors", "curves.png"})
                Files.copy(dir.resolve("run").resolve(f), run.resolve(f));
            Files.writeString(run.resolve("metrics.csv"), c[1]);
            Run r = CliTest.run("train", "--data", "testdata/synthetic", "--device", "cpu", "--resume", run.resolve("last.safetensors").toString());
            assertOneLine(r, Main.BAD_INPUT, run.resolve("metrics.csv") + " " + c[2], c[3]);
            assertFalse(r.out().contains("class balance"), c[0] + ": the data was checked before metrics.csv:\n" + r.out());
            assertEquals(c[1], Files.readString(run.resolve("metrics.csv")), c[0] + ": metrics.csv was changed");
        }
    }

    /** --overwrite with --resume of the folder's own checkpoint is refused with the other output-folder checks, before the data check. */
    @Test void overwriteOfTheRunResumedIsRefusedBeforeTheData() throws Exception {
        Path run = Files.createDirectories(dir.resolve("overwrite-own"));
        for (String f : new String[] {"last.safetensors", "best.safetensors", "curves.png", "metrics.csv"})
            Files.copy(dir.resolve("run").resolve(f), run.resolve(f));
        Run r = CliTest.run("train", "--data", "testdata/synthetic", "--device", "cpu", "--resume", run.resolve("last.safetensors").toString(),
                "--overwrite");
        assertOneLine(r, Main.BAD_INPUT, "--overwrite with --resume", "would delete the run it continues");
        assertFalse(r.out().contains("class balance"), "the data was checked first:\n" + r.out());
    }

    /** A folder given where a file is wanted is named as a folder, not as missing. */
    @Test void aFolderForAFileIsNamedAsOne() {
        Path out = dir.resolve("folder-resume");
        assertOneLine(CliTest.run("train", "--data", "testdata/synthetic", "--out", out.toString(), "--device", "cpu",
                "--resume", dir.resolve("run").toString()), Main.BAD_INPUT, "is a folder", "last.safetensors");
        assertFalse(Files.exists(out));
        assertOneLine(CliTest.run("verify", dir.resolve("run").toString(), "--device", "cpu"), Main.BAD_INPUT, "is a folder");
    }

    /** bench: every value names its flag and is refused before the device opens (--rounds was checked after the model's benchmarks). */
    @Test void benchValuesNameTheirFlags() {
        String[][] bad = {{"--rounds", "0", "1"}, {"--steps", "-1", "1"}, {"--size", "3", "64"}, {"--torch-threads", "0", "1"},
                {"--batch", "0", "1"}, {"--warmup", "-2", "0"}};
        for (String[] b : bad) {
            Run r = CliTest.run("bench", "--device", "cpu", "--tiny", b[0], b[1]);
            assertOneLine(r, Main.BAD_INPUT, b[0] + " must be ≥ " + b[2] + ", got " + b[1]);
            assertFalse(r.out().contains("bench on"), "refused before the benchmarks: " + r.out());
        }
    }

    /**
     * predict and evaluate read the whole checkpoint before they open a device: a NaN weight is named
     * (exit 2) even with --device cuda, where a machine without a GPU would otherwise answer first.
     */
    @Test void predictAndEvaluateCheckTheWeightsBeforeTheDevice() {
        Path nan = variant(ckpt, "nan-weight", t -> t.get("out_conv.0.weight").data()[0] = Double.NaN, m -> { });
        Path po = dir.resolve("p-nan"), eo = dir.resolve("e-nan");
        assertOneLine(CliTest.run("predict", "-i", "testdata/synthetic/test/images", "-o", po.toString(), "--weights", nan.toString(),
                "--device", "cuda"), Main.BAD_INPUT, "out_conv.0.weight", nan.toString());
        assertOneLine(CliTest.run("evaluate", "--data", "testdata/synthetic", "--out", eo.toString(), "--weights", nan.toString(),
                "--device", "cuda"), Main.BAD_INPUT, "out_conv.0.weight", nan.toString());
        assertFalse(Files.exists(po) || Files.exists(eo));
    }

    /**
     * train's validation pools its counts, so an image with no pixel to score adds nothing and is
     * noted; with none that has one, every Dice read 1 (0/0) and each epoch a "new best": refused
     * before the folder is made, naming the first such image's ROI.
     */
    @Test void aValidationSetWithNoPixelToScoreIsRefused() throws Exception {
        Path roi = Files.createDirectories(dir.resolve("blackRoi"));
        try (var names = Files.list(Path.of("testdata/synthetic/test/images"))) {
            for (Path n : names.toList()) CliSafetyTest.square(roi.resolve(n.getFileName()), 0, 0, 0, 8);
        }
        Path out = dir.resolve("blackRoiRun");
        String[] args = {"train", "--data", "testdata/synthetic", "--device", "cpu", "--epochs", "1", "--batch", "2", "--crop", "64",
                "--base-size", "80", "--base-c", "4", "--max-steps-per-epoch", "1", "--tile", "128", "--test-roi", roi.toString(),
                "--out", out.toString()};
        Run r = CliTest.run(args);
        assertOneLine(r, Main.BAD_INPUT, "no validation image has a pixel to score", roi.toString(), "is empty (0 everywhere)");
        assertFalse(Files.exists(out), "the refused run made " + out);
        // one image's ROI with a field of view again: the run trains, noting the others
        CliSafetyTest.square(roi.resolve("syn_016.png"), 8, 88, 255, 8);
        r = CliTest.run(args);
        assertEquals(Main.OK, r.code(), r.out() + r.err());
        assertTrue(r.out().contains("note: 3 of 4 validation images add nothing to its scores"), r.out());
    }
}
