package convunext.cli;

import static org.junit.jupiter.api.Assertions.*;

import convunext.backend.Backend;
import convunext.backend.all.Backends;
import convunext.data.HugePng;
import convunext.nn.ConvUNeXt;
import convunext.nn.Norm;
import convunext.train.Checkpoint;
import convunext.train.TrainingScale;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Sizes that would overflow a Java array: an inference scale too large for an image is that
 * file's listed failure (exit 2), and train's --base-size and --crop are bounded before any work
 * (before, all three ended in exit 5: an ArithmeticException in Resize, a NegativeArraySizeException
 * in TrainBatches).
 */
class SizeLimitTest {
    @TempDir Path dir;

    private Path checkpoint(TrainingScale scale) {
        Path f = dir.resolve("w" + scale.baseSize() + ".safetensors");
        try (Backend be = Backends.open("cpu", System.out);
             ConvUNeXt m = new ConvUNeXt(new ConvUNeXt.Config(3, 2, 4, Norm.BATCH), be, 7)) {
            Map<String, String> meta = new LinkedHashMap<>();
            meta.put("norm_mean", "0.5,0.4,0.3");
            meta.put("norm_std", "0.2,0.2,0.1");
            scale.put(meta);
            Checkpoint.save(f, m, null, meta);
        }
        return f;
    }

    private static void assertEachImageListed(CliTest.Run r, String scale) {
        assertEquals(Main.BAD_INPUT, r.code(), r.out() + r.err());
        List<String> err = r.err().strip().lines().toList();
        assertTrue(err.get(0).startsWith("error: none of the 4 images could be used"), r.err());
        assertEquals(5, err.size(), r.err());
        for (String line : err.subList(1, 5)) {
            assertTrue(line.matches("  .*syn_0\\d\\d\\.png \\(96×96\\) at scale " + scale + " would be resized to \\d+×\\d+: .*"), line);
        }
    }

    /**
     * A small PNG whose header declares 40000×40000 pixels is that file's listed failure: the
     * others are written (before, its decoding's OutOfMemoryError ended the folder with exit 3,
     * naming no file, and no image after it was done).
     */
    @Test void anImageTooLargeToDecodeIsThatFilesFailure() throws Exception {
        Path w = checkpoint(new TrainingScale(96, 0.8, 1.5));
        Path in = Files.createDirectories(dir.resolve("in"));
        try (var s = Files.list(Path.of("testdata/synthetic/test/images"))) {
            for (Path f : s.toList()) Files.copy(f, in.resolve(f.getFileName()));
        }
        Path bomb = HugePng.write(in.resolve("bomb.png"), 40_000, 40_000);
        CliTest.Run p = CliTest.run("predict", "-i", in.toString(), "-o", dir.resolve("p").toString(),
                "--weights", w.toString(), "--device", "cpu");
        assertEquals(Main.BAD_INPUT, p.code(), p.out() + p.err());
        List<String> err = p.err().strip().lines().toList();
        assertEquals(2, err.size(), p.err());
        assertTrue(err.get(0).startsWith("error: 1 of 5 images could not be used"), p.err());
        assertTrue(err.get(1).contains(bomb.toString()) && err.get(1).contains("40000×40000"), err.get(1));
        for (int i = 16; i < 20; i++) assertTrue(Files.exists(dir.resolve("p/syn_0" + i + ".png")), p.out());
    }

    @Test void aScaleTooLargeForAnImageIsThatFilesFailure() {
        Path w = checkpoint(new TrainingScale(96, 0.8, 1.5));
        CliTest.Run p = CliTest.run("predict", "-i", "testdata/synthetic/test/images", "-o", dir.resolve("p").toString(),
                "--weights", w.toString(), "--device", "cpu", "--scale", "9000");
        assertEachImageListed(p, "9000");
        CliTest.Run e = CliTest.run("evaluate", "--data", "testdata/synthetic", "--out", dir.resolve("e").toString(),
                "--weights", w.toString(), "--device", "cpu", "--scale", "9000");
        assertEachImageListed(e, "9000");
    }

    @Test void aCheckpointRecordingAHugeBaseSizeFailsEachImageAtTheDefaultScale() {
        Path w = checkpoint(new TrainingScale(100000, 0.8, 1.5));
        CliTest.Run p = CliTest.run("predict", "-i", "testdata/synthetic/test/images", "-o", dir.resolve("p").toString(),
                "--weights", w.toString(), "--device", "cpu");
        assertEachImageListed(p, "auto");
        assertTrue(p.err().contains("would be resized to 109545×109545"), p.err());
    }

    @Test void trainBoundsBaseSizeAndCropBeforeWork() {
        String[][] bad = {
                {"--base-size", "2000000000"}, {"--base-size", "100000"}, {"--base-size", "8193"},
                {"--crop", "100000"}, {"--crop", "30000"}, {"--crop", "8193"},
                {"--crop", "2048", "--batch", "4", "--base-c", "32"},   // 4·2048²·128 values in one tensor
        };
        String[] want = {
                "error: --base-size must be 1..8192, got 2000000000", "error: --base-size must be 1..8192, got 100000",
                "error: --base-size must be 1..8192, got 8193",
                "error: --crop must be ≤ 8192, got 100000", "error: --crop must be ≤ 8192, got 30000", "error: --crop must be ≤ 8192, got 8193",
                "error: --batch 4 × --crop 2048² × 128 channels (the widest layer) = 2147483648 values in one tensor, more than a Java"
                        + " array holds (2147483639); use a smaller --crop or --batch",
        };
        for (int i = 0; i < bad.length; i++) {
            Path out = dir.resolve("run" + i);
            String[] args = new String[6 + bad[i].length];
            System.arraycopy(new String[] {"train", "--data", "testdata/synthetic", "--out", out.toString(), "--device=cpu"}, 0, args, 0, 6);
            System.arraycopy(bad[i], 0, args, 6, bad[i].length);
            CliTest.Run r = CliTest.run(args);
            assertEquals(Main.BAD_INPUT, r.code(), String.join(" ", bad[i]) + ": " + r.out() + r.err());
            assertEquals(want[i], r.err().strip());
            assertFalse(Files.exists(out), "nothing made for " + String.join(" ", bad[i]));
        }
        // 64 × 8192² × 4·2^30 = 2^64 values: a product that wraps around to 0 must not pass
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new convunext.train.TrainOptions(dir, dir, "cpu",
                1, 64, 8192, 8192, 1e-3, 0, 1 << 30, Norm.BATCH, 2, 0, 0.2, null, null, null, 768, 1, false, 0, 0, 1));
        assertTrue(e.getMessage().contains("more than a Java array holds"), e.getMessage());
        // a model whose weights, gradients and moments alone outgrow the heap: named before the data is decoded
        Path big = dir.resolve("bigc");
        CliTest.Run r = CliTest.run("train", "--data", "testdata/synthetic", "--out", big.toString(), "--device=cpu", "--base-c", "2000",
                "--batch", "1", "--crop", "64");
        assertEquals(Main.BAD_INPUT, r.code(), r.out() + r.err());
        assertTrue(r.err().strip().startsWith("error: --base-c 2000: the model's 13,313,984,002 parameters need at least 198.4 GiB"),
                r.err());
        assertEquals(1, r.err().strip().lines().count(), r.err());
        assertFalse(Files.exists(big));
        // The largest values themselves pass the option check (a tiny run is not started here).
        assertDoesNotThrow(() -> new convunext.train.TrainOptions(dir, dir, "cpu", 1, 1, 8192, 8192, 1e-3, 0, 4, Norm.BATCH, 2, 0,
                0.2, null, null, null, 768, 1, false, 0, 0, 1));
    }
}
