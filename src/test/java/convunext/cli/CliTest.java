package convunext.cli;

import static org.junit.jupiter.api.Assertions.*;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The commands end to end on the synthetic set, and their answers to bad input. */
class CliTest {
    @TempDir static Path dir;
    static Path ckpt;

    record Run(int code, String out, String err) {}

    static synchronized Run run(String... args) {
        PrintStream o = System.out, e = System.err;
        ByteArrayOutputStream bo = new ByteArrayOutputStream(), be = new ByteArrayOutputStream();
        System.setOut(new PrintStream(bo, true));
        System.setErr(new PrintStream(be, true));
        try {
            int code = Main.execute(args);
            return new Run(code, bo.toString(), be.toString());
        } finally {
            System.setOut(o);
            System.setErr(e);
        }
    }

    @BeforeAll static void trainTiny() {
        Run r = run("train", "--data", "testdata/synthetic", "--out", dir.resolve("run").toString(), "--device", "cpu",
                "--epochs", "1", "--batch", "2", "--crop", "64", "--base-size", "80", "--base-c", "4", "--max-steps-per-epoch", "2",
                "--tile", "128");
        assertEquals(0, r.code(), r.out() + r.err());
        assertTrue(r.out().contains("epoch 1/1"), r.out());
        ckpt = dir.resolve("run/last.safetensors");
        assertTrue(Files.isRegularFile(ckpt));
    }

    @Test void predictWritesOneMaskPerImage() throws Exception {
        Path out = dir.resolve("pred");
        Run r = run("predict", "-i", "testdata/synthetic/test/images", "-o", out.toString(), "--weights", ckpt.toString(),
                "--device", "cpu", "--tile", "64", "--overlap", "16", "--tta", "flip", "--probs", "--overlay");
        assertEquals(0, r.code(), r.out() + r.err());
        try (var s = Files.list(out)) { assertEquals(12, s.filter(f -> !f.getFileName().toString().startsWith(".")).count()); }
        assertTrue(Files.isRegularFile(out.resolve("syn_016.png")));
        var img = javax.imageio.ImageIO.read(out.resolve("syn_016.png").toFile());
        assertEquals(96, img.getWidth());
    }

    @Test void evaluateWritesCsvAndSummary() throws Exception {
        Path out = dir.resolve("eval");
        Run r = run("evaluate", "--weights", ckpt.toString(), "--data", "testdata/synthetic", "--out", out.toString(), "--device", "cpu");
        assertEquals(0, r.code(), r.out() + r.err());
        assertTrue(Files.readString(out.resolve("summary.json")).contains("hd95"));
        assertEquals(1 + 4 * 2, Files.readAllLines(out.resolve("metrics.csv")).size());
    }

    @Test void missingWeightsSaysWhatToPass() {
        Run r = run("predict", "-i", "testdata/synthetic/test/images", "-o", dir.resolve("x").toString());
        assertEquals(Main.BAD_INPUT, r.code());
        assertTrue(r.err().contains("--weights"), r.err());
        r = run("evaluate", "--data", "testdata/synthetic");
        assertEquals(Main.BAD_INPUT, r.code());
        assertTrue(r.err().contains("--weights"), r.err());
    }

    @Test void badInputIsOneLineAndNonZero() throws Exception {
        Run r = run("train", "--data", dir.resolve("nope").toString(), "--device", "cpu");
        assertEquals(Main.BAD_INPUT, r.code());
        assertTrue(r.err().contains("nope"), r.err());
        Path empty = Files.createDirectories(dir.resolve("empty/train/images"));
        Files.createDirectories(empty.resolveSibling("masks"));
        r = run("train", "--data", dir.resolve("empty").toString(), "--device", "cpu");
        assertEquals(Main.BAD_INPUT, r.code());
        assertTrue(r.err().contains("holds no images"), r.err());
        Path bad = dir.resolve("bad.safetensors");
        Files.write(bad, new byte[] {1, 2, 3});
        r = run("predict", "-i", "testdata/synthetic/test/images", "-o", dir.resolve("y").toString(), "--weights", bad.toString(), "--device", "cpu");
        assertEquals(Main.BAD_INPUT, r.code());
        assertTrue(r.err().contains("bad.safetensors"), r.err());
        assertEquals(1, r.err().strip().lines().count(), r.err());
        r = run("verify", "--device", "warp-drive", "testdata/golden/convunext_c4_in1_k3_1x72x88.safetensors");
        assertEquals(Main.BAD_INPUT, r.code());
        assertTrue(r.err().contains("warp-drive"), r.err());
    }

    /** A verify fixture given as weights is named as one (it said "missing key 'in_conv.0.weight'"). */
    @Test void aFixtureGivenAsWeightsIsNamedAsOne() {
        Run r = run("predict", "-i", "testdata/synthetic/test/images", "-o", dir.resolve("z").toString(),
                "--weights", "testdata/golden/convunext_c4_in1_k3_1x72x88.safetensors", "--device", "cpu");
        assertEquals(Main.BAD_INPUT, r.code());
        assertTrue(r.err().contains("a verify fixture") && r.err().contains("not a model's weights"), r.err());
        assertEquals(1, r.err().strip().lines().filter(l -> l.startsWith("error:")).count(), r.err());
    }

    @Test void checkpointWhoseShapesDisagreeWithItsConfigIsRefused() {
        // same tensors, metadata claiming another base_c: the first mismatching tensor is named
        var c = convunext.io.SafeTensors.read(ckpt);
        var t = new java.util.LinkedHashMap<String, convunext.io.SafeTensors.Out>();
        c.tensors().forEach((k, v) -> t.put(k, new convunext.io.SafeTensors.Out(v.shape(), v.data(), v.dtype().equals("I64") ? "I64" : "F32")));
        var meta = new java.util.LinkedHashMap<>(c.metadata());
        meta.put("base_c", "8");
        Path other = dir.resolve("other.safetensors");
        convunext.io.SafeTensors.write(other, t, meta);
        Run r = run("predict", "-i", "testdata/synthetic/test/images", "-o", dir.resolve("w").toString(),
                "--weights", other.toString(), "--device", "cpu");
        assertEquals(Main.BAD_INPUT, r.code());
        assertTrue(r.err().contains("in_conv.0.weight") && r.err().contains("[8, 3, 7, 7]"), r.err());
    }

    @Test void aPlainPyTorchStateDictWorksAsWeights() {
        // what the README's PyTorch snippet writes: only state_dict tensors, no metadata, no optimiser
        var c = convunext.io.SafeTensors.read(ckpt);
        var t = new java.util.LinkedHashMap<String, convunext.io.SafeTensors.Out>();
        c.tensors().forEach((k, v) -> {
            if (!k.startsWith("optim.")) t.put(k, new convunext.io.SafeTensors.Out(v.shape(), v.data(), v.dtype().equals("I64") ? "I64" : "F64"));
        });
        Path plain = dir.resolve("plain.safetensors");
        convunext.io.SafeTensors.write(plain, t, java.util.Map.of());
        Run r = run("predict", "-i", "testdata/synthetic/test/images", "-o", dir.resolve("plain-out").toString(),
                "--weights", plain.toString(), "--device", "cpu");
        assertEquals(0, r.code(), r.out() + r.err());
        assertTrue(r.out().contains("holds no normalisation statistics"), r.out());
        assertTrue(r.out().contains("base_c=4"), r.out());
    }

    @Test void resumingFromACheckpointOfAnotherConfigIsRefused() {
        Run r = run("train", "--data", "testdata/synthetic", "--out", dir.resolve("resume8").toString(), "--device", "cpu",
                "--epochs", "2", "--batch", "2", "--crop", "64", "--base-size", "80", "--base-c", "8", "--max-steps-per-epoch", "1",
                "--resume", ckpt.toString());
        assertEquals(Main.BAD_INPUT, r.code(), r.out() + r.err());
        assertTrue(r.err().contains("--base-c 8 differs from " + ckpt + "'s base_c 4") && r.err().contains("drop --base-c"), r.err());
        assertFalse(Files.exists(dir.resolve("resume8")), "refused before the folder is made");
    }

    @Test void verifyPassesOnAFixture() {
        Run r = run("verify", "--device", "cpu", "testdata/golden/convunext_c4_in1_k3_1x72x88.safetensors");
        assertEquals(0, r.code(), r.out() + r.err());
        assertTrue(r.out().contains("PASS"));
    }
}
