package convunext.cli;

import static org.junit.jupiter.api.Assertions.*;

import convunext.cli.CliTest.Run;
import convunext.io.OutputFolder;
import convunext.io.SafeTensors;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The bad-input and no-lost-data catalogue of issue 9 on the commands: outputs never overwrite
 * inputs or an earlier run, unique output names, one line per error with its exit code checked
 * before any work, folder commands that finish the good files and list the bad ones.
 */
class CliSafetyTest {
    @TempDir static Path dir;
    static Path ckpt, images;

    static Run run(String... args) { return CliTest.run(args); }

    @BeforeAll static void trainTinyAndCopyImages() throws Exception {
        Run r = run("train", "--data", "testdata/synthetic", "--out", dir.resolve("run").toString(), "--device", "cpu",
                "--epochs", "1", "--batch", "2", "--crop", "64", "--base-size", "80", "--base-c", "4", "--max-steps-per-epoch", "1",
                "--tile", "128");
        assertEquals(0, r.code(), r.out() + r.err());
        ckpt = dir.resolve("run/last.safetensors");
        images = Files.createDirectories(dir.resolve("images"));
        try (Stream<Path> s = Files.list(Path.of("testdata/synthetic/test/images"))) {
            for (Path f : s.toList()) Files.copy(f, images.resolve(f.getFileName()));
        }
    }

    static String[] predict(Path in, Path out, String... more) {
        List<String> a = new ArrayList<>(List.of("predict", "-i", in.toString(), "-o", out.toString(), "--weights", ckpt.toString(),
                "--device", "cpu", "--tile", "64", "--overlap", "16"));
        a.addAll(List.of(more));
        return a.toArray(String[]::new);
    }

    /** Names and contents of a folder's files, to show nothing changed. */
    static Map<String, String> snapshot(Path folder) throws Exception {
        Map<String, String> m = new TreeMap<>();
        try (Stream<Path> s = Files.walk(folder)) {
            for (Path p : s.filter(Files::isRegularFile).toList())
                m.put(folder.relativize(p).toString(), java.util.Arrays.toString(java.security.MessageDigest.getInstance("SHA-256")
                        .digest(Files.readAllBytes(p))));
        }
        return m;
    }

    static void assertOneLine(Run r, int code, String... contains) {
        assertEquals(code, r.code(), r.out() + r.err());
        String err = r.err().lines().filter(l -> !l.startsWith("WARNING")).reduce("", (a, b) -> a + b + "\n");
        assertEquals(1, err.strip().lines().count(), err);
        assertTrue(err.startsWith("error: "), err);
        for (String c : contains) assertTrue(err.contains(c), "'" + c + "' not in: " + err);
    }

    // ---- 1. outputs never overwrite inputs or an earlier run

    @Test void predictNeverWritesIntoOrAroundItsInput() throws Exception {
        Map<String, String> before = snapshot(images);
        assertOneLine(run(predict(images, images)), Main.BAD_INPUT, "is the input folder");
        assertOneLine(run(predict(images, images.resolve("masks"))), Main.BAD_INPUT, "inside the input folder");
        assertOneLine(run(predict(images, dir)), Main.BAD_INPUT, "contains the input");
        assertOneLine(run(predict(images.resolve("syn_016.png"), images)), Main.BAD_INPUT, "is the input folder");
        Path link = Files.createSymbolicLink(dir.resolve("link-to-images"), images);
        assertOneLine(run(predict(images, link)), Main.BAD_INPUT, "is the input folder");
        assertOneLine(run(predict(link, images)), Main.BAD_INPUT, "is the input folder");
        assertEquals(before, snapshot(images), "the input folder is untouched");
    }

    @Test void earlierOutputsAreReplacedOnlyWithOverwrite() throws Exception {
        Path out = dir.resolve("pred-again");
        assertEquals(0, run(predict(images, out)).code());
        Map<String, String> first = snapshot(out);
        assertOneLine(run(predict(images, out)), Main.BAD_INPUT, "already holds", "--overwrite");
        assertEquals(first, snapshot(out));
        Run r = run(predict(images, out, "--overwrite"));
        assertEquals(0, r.code(), r.err());
        // evaluate: same rule for an explicit --out
        Path ev = dir.resolve("eval-again");
        String[] eval = {"evaluate", "--weights", ckpt.toString(), "--data", "testdata/synthetic", "--out", ev.toString(), "--device", "cpu",
                "--tile", "64", "--overlap", "16"};
        assertEquals(0, run(eval).code());
        Map<String, String> ev1 = snapshot(ev);
        assertOneLine(run(eval), Main.BAD_INPUT, "already holds an earlier evaluation", "--overwrite");
        assertEquals(ev1, snapshot(ev));
        List<String> again = new ArrayList<>(List.of(eval));
        again.add("--overwrite");
        assertEquals(0, run(again.toArray(String[]::new)).code());
    }

    @Test void trainRefusesAnEarlierRunAndAFolderInUse() throws Exception {
        Map<String, String> before = snapshot(dir.resolve("run"));
        Run r = run("train", "--data", "testdata/synthetic", "--out", dir.resolve("run").toString(), "--device", "cpu", "--epochs", "1",
                "--batch", "2", "--crop", "64", "--base-size", "80", "--base-c", "4", "--max-steps-per-epoch", "1", "--tile", "128");
        assertOneLine(r, Main.BAD_INPUT, "already holds a training run", "--resume", "--overwrite");
        before.remove(OutputFolder.LOCK_FILE);
        Map<String, String> after = snapshot(dir.resolve("run"));
        after.remove(OutputFolder.LOCK_FILE);
        assertEquals(before, after);
        Path busy = dir.resolve("busy");
        try (OutputFolder held = OutputFolder.lock(busy, "train (another run)")) {
            r = run("train", "--data", "testdata/synthetic", "--out", busy.toString(), "--device", "cpu", "--epochs", "1",
                    "--batch", "2", "--crop", "64", "--base-size", "80", "--base-c", "4", "--max-steps-per-epoch", "1", "--tile", "128");
            assertOneLine(r, Main.BAD_INPUT, "in use by another run", "pid " + ProcessHandle.current().pid());
            assertOneLine(run(predict(images, busy)), Main.BAD_INPUT, "in use by another run");
        }
    }

    @Test void trainOutputsNeverGoAmongItsInputsAndResumeNeedsALastCheckpoint() throws Exception {
        Path data = dir.resolve("data-copy");
        for (String sub : new String[] {"train/images", "train/masks"}) {
            Files.createDirectories(data.resolve(sub));
            try (Stream<Path> s = Files.list(Path.of("testdata/synthetic").resolve(sub))) {
                for (Path f : s.limit(4).toList()) Files.copy(f, data.resolve(sub).resolve(f.getFileName()));
            }
        }
        Map<String, String> before = snapshot(data);
        for (Path out : new Path[] {data, data.resolve("train/images"), data.resolve("train")}) {
            Run r = run("train", "--data", data.toString(), "--out", out.toString(), "--device", "cpu", "--epochs", "1",
                    "--batch", "2", "--crop", "64", "--base-size", "80", "--base-c", "4");
            assertOneLine(r, Main.BAD_INPUT, "--out", "data folder");
        }
        assertEquals(before, snapshot(data));
        Run r = run("train", "--data", "testdata/synthetic", "--out", dir.resolve("from-best").toString(), "--device", "cpu",
                "--epochs", "2", "--batch", "2", "--crop", "64", "--base-size", "80", "--base-c", "4",
                "--resume", dir.resolve("run/best.safetensors").toString());
        assertOneLine(r, Main.BAD_INPUT, "no optimiser state", "last.safetensors");
    }

    // ---- 2. unique output names

    @Test void inputsThatWouldWriteOneOutputAreRefusedNamingBoth() throws Exception {
        Path in = Files.createDirectories(dir.resolve("clash"));
        Files.copy(images.resolve("syn_016.png"), in.resolve("a.png"));
        javax.imageio.ImageIO.write(javax.imageio.ImageIO.read(images.resolve("syn_017.png").toFile()), "jpeg", in.resolve("a.jpg").toFile());
        assertOneLine(run(predict(in, dir.resolve("clash-out"))), Main.BAD_INPUT, in.resolve("a.png").toString(),
                in.resolve("a.jpg").toString(), "a.png");
        assertFalse(Files.exists(dir.resolve("clash-out")), "refused before anything was made");
        Path in2 = Files.createDirectories(dir.resolve("clash2"));
        Files.copy(images.resolve("syn_016.png"), in2.resolve("b.png"));
        Files.copy(images.resolve("syn_017.png"), in2.resolve("b_prob.png"));
        assertOneLine(run(predict(in2, dir.resolve("clash2-out"), "--probs")), Main.BAD_INPUT, "b_prob.png", "probability map");
        // without --probs the two write b.png and b_prob.png: no clash
        assertEquals(0, run(predict(in2, dir.resolve("clash2-out"))).code());
        assertTrue(Files.exists(dir.resolve("clash2-out/b_prob.png")) && Files.exists(dir.resolve("clash2-out/b.png")));
    }

    // ---- 3. non-finite weights

    @Test void nonFiniteWeightsAreRefusedNamingTheTensor() throws Exception {
        SafeTensors.Contents c = SafeTensors.read(ckpt);
        for (double bad : new double[] {Double.NaN, Double.POSITIVE_INFINITY}) {
            Map<String, SafeTensors.Out> t = new LinkedHashMap<>();
            c.tensors().forEach((k, v) -> {
                double[] d = v.data().clone();
                if (k.equals("in_conv.3.dwconv.weight")) d[3] = bad;
                t.put(k, new SafeTensors.Out(v.shape(), d, v.dtype().equals("I64") ? "I64" : "F32"));
            });
            Path f = dir.resolve("bad-" + bad + ".safetensors");
            SafeTensors.write(f, t, c.metadata());
            String[] a = predict(images, dir.resolve("nan-out-" + bad));
            a[6] = f.toString();
            assertOneLine(run(a), Main.BAD_INPUT, "in_conv.3.dwconv.weight", "non-finite", f.toString());
            assertFalse(Files.exists(dir.resolve("nan-out-" + bad).resolve("syn_016.png")));
        }
    }

    @Test void aNegativeRunningVarianceOrAWeightsFolderIsOneLine() throws Exception {
        SafeTensors.Contents c = SafeTensors.read(ckpt);
        Map<String, SafeTensors.Out> t = new LinkedHashMap<>();
        c.tensors().forEach((k, v) -> {
            double[] d = v.data().clone();
            if (k.equals("in_conv.1.running_var")) d[1] = -0.5;
            t.put(k, new SafeTensors.Out(v.shape(), d, v.dtype().equals("I64") ? "I64" : "F32"));
        });
        Path f = dir.resolve("negvar.safetensors");
        SafeTensors.write(f, t, c.metadata());
        String[] a = predict(images, dir.resolve("negvar-out"));
        a[6] = f.toString();
        assertOneLine(run(a), Main.BAD_INPUT, "in_conv.1.running_var", "negative variance", f.toString());
        // metadata that disagrees with the tensors, or another format
        for (String[] m : new String[][] {{"norm", "layer", "does not have"}, {"format", "other-9", "'format'"}}) {
            Map<String, String> meta = new LinkedHashMap<>(c.metadata());
            meta.put(m[0], m[1]);
            Map<String, SafeTensors.Out> ok = new LinkedHashMap<>();
            c.tensors().forEach((k, v) -> ok.put(k, new SafeTensors.Out(v.shape(), v.data(), v.dtype().equals("I64") ? "I64" : "F32")));
            Path g = dir.resolve("meta-" + m[0] + ".safetensors");
            SafeTensors.write(g, ok, meta);
            a = predict(images, dir.resolve("meta-out-" + m[0]));
            a[6] = g.toString();
            assertOneLine(run(a), Main.BAD_INPUT, m[2], g.toString());
        }
        a = predict(images, dir.resolve("folder-out"));
        a[6] = ckpt.getParent().toString();
        assertOneLine(run(a), Main.BAD_INPUT, "is a folder", ckpt.getParent().toString());
    }

    // ---- 5. one line, its exit code, before any work

    @Test void outputProblemsAreRefusedBeforeTheModelIsLoaded() throws Exception {
        Path file = Files.writeString(dir.resolve("a-file"), "x");
        for (Path bad : new Path[] {file, file.resolve("under-a-file")}) {
            Run r = run(predict(images, bad));
            assertOneLine(r, Main.BAD_INPUT, bad.toString());
            assertFalse(r.out().contains("model in="), "nothing loaded: " + r.out());
            r = run("evaluate", "--weights", ckpt.toString(), "--data", "testdata/synthetic", "--out", bad.toString(), "--device", "cpu");
            assertOneLine(r, Main.BAD_INPUT, bad.toString());
            assertFalse(r.out().contains("model in="), "nothing evaluated: " + r.out());
        }
    }

    @Test void badValuesAreOneLineBeforeAnyWork() {
        Path out = dir.resolve("never");
        String[] base = {"train", "--data", "testdata/synthetic", "--out", out.toString(), "--device", "cpu", "--base-c", "4"};
        String[][] bad = {{"--tile", "7"}, {"--classes", "300"}, {"--weight-decay", "-1"}, {"--max-steps-per-epoch", "-1"},
                {"--stop-after", "0"}, {"--val-split", "1"}, {"--val-split", "-0.1"}, {"--epochs", "0"}, {"--lr", "0"}, {"--lr", "-1e-3"},
                {"--batch", "0"}, {"--crop", "7"}, {"--val-every", "0"}, {"--batch", "100"}, {"--norm", "group"}, {"--lr", "abc"},
                {"--device", "tpu"}, {"--bogus"}, {"--resume", "nope.safetensors"}};
        for (String[] b : bad) {
            List<String> a = new ArrayList<>(List.of(base));
            a.addAll(List.of(b));
            Run r = run(a.toArray(String[]::new));
            assertOneLine(r, Main.BAD_INPUT, b[0].equals("--batch") && b[1].equals("100") ? "--batch 100" : b[0]);
            assertFalse(r.out().contains("split train"), "data was read for " + List.of(b) + ": " + r.out());
        }
        assertFalse(Files.exists(out), "no folder was made");
        assertOneLine(run(predict(images, dir.resolve("p"), "--tile", "7")), Main.BAD_INPUT, "--tile");
        assertOneLine(run(predict(images, dir.resolve("p"), "--overlap", "64")), Main.BAD_INPUT, "--overlap");
        assertOneLine(run("evaluate", "--weights", ckpt.toString(), "--data", "testdata/synthetic", "--tta", "rotate"), Main.BAD_INPUT, "--tta");
    }

    /**
     * --tile 64, the smallest the help offers, without --overlap: the overlap is then 16 (tile/4,
     * as train's validation), where the default 64 refused it over a flag nobody gave ("--overlap
     * must be in [0, 64), got 64"); larger tiles keep 64, and an --overlap given is checked as before.
     */
    @Test void theSmallestTileWorksWithoutAnOverlap() throws Exception {
        Path out = dir.resolve("tile64");
        Run r = run("predict", "-i", images.resolve("syn_016.png").toString(), "-o", out.toString(), "--weights", ckpt.toString(),
                "--device", "cpu", "--tile", "64");
        assertEquals(0, r.code(), r.out() + r.err());
        assertTrue(Files.isRegularFile(out.resolve("syn_016.png")));
        r = run("evaluate", "--weights", ckpt.toString(), "--data", "testdata/synthetic", "--out", dir.resolve("tile64-eval").toString(),
                "--device", "cpu", "--tile", "64");
        assertEquals(0, r.code(), r.out() + r.err());
        assertEquals(16, convunext.train.Predictor.overlap(null, 64));
        assertEquals(64, convunext.train.Predictor.overlap(null, 65));
        assertEquals(64, convunext.train.Predictor.overlap(null, 512));
        assertEquals(40, convunext.train.Predictor.overlap(40, 64));
        assertOneLine(run("predict", "-i", images.toString(), "-o", dir.resolve("p").toString(), "--weights", ckpt.toString(),
                "--device", "cpu", "--tile", "64", "--overlap", "64"), Main.BAD_INPUT, "--overlap must be in [0, --tile) = [0, 64), got 64");
    }

    @Test void everyExceptionIsOneLineWithItsCode() {
        java.io.StringWriter sw = new java.io.StringWriter();
        java.io.PrintWriter pw = new java.io.PrintWriter(sw);
        assertEquals(Main.INTERNAL, Main.report(pw, new NullPointerException("x is null")));
        assertEquals(Main.NO_DEVICE, Main.report(pw, new OutOfMemoryError("Java heap space")));
        assertEquals(Main.BAD_INPUT, Main.report(pw, new java.io.UncheckedIOException("cannot write out/a.png: No space left on device",
                new java.io.IOException())));
        assertEquals(Main.BAD_INPUT, Main.report(pw, new IllegalArgumentException("two\nlines")));
        List<String> lines = sw.toString().lines().toList();
        assertEquals(4, lines.size(), sw.toString());
        assertTrue(lines.get(0).contains("internal error java.lang.NullPointerException: x is null"), lines.get(0));
        assertTrue(lines.get(1).contains("out of memory") && lines.get(1).contains("--tile") && lines.get(1).contains("-Xmx"), lines.get(1));
        assertEquals("error: two lines", lines.get(3));
    }

    // ---- 8. folder commands finish the good files and list the bad ones

    @Test void folderCommandsFinishTheGoodFilesAndListTheBad() throws Exception {
        Path in = Files.createDirectories(dir.resolve("mixed"));
        Files.copy(images.resolve("syn_016.png"), in.resolve("good1.png"));
        Files.copy(images.resolve("syn_017.png"), in.resolve("good2.png"));
        byte[] png = Files.readAllBytes(images.resolve("syn_018.png"));
        Files.write(in.resolve("cut.png"), java.util.Arrays.copyOf(png, png.length / 2));
        Files.writeString(in.resolve("notes.bmp"), "not an image");
        Path out = dir.resolve("mixed-out");
        Run r = run(predict(in, out));
        assertEquals(Main.BAD_INPUT, r.code(), r.out() + r.err());
        assertTrue(Files.exists(out.resolve("good1.png")) && Files.exists(out.resolve("good2.png")), "the good files are done");
        List<String> err = r.err().lines().filter(l -> !l.startsWith("WARNING")).toList();
        assertEquals(3, err.size(), r.err());
        assertTrue(err.get(0).contains("2 of 4 images"), err.get(0));
        assertTrue(err.get(1).contains("cut.png") && err.get(2).contains("notes.bmp"), r.err());
        // all bad: said so
        Path allBad = Files.createDirectories(dir.resolve("all-bad"));
        Files.write(allBad.resolve("x.png"), java.util.Arrays.copyOf(png, 100));
        r = run(predict(allBad, dir.resolve("all-bad-out")));
        assertEquals(Main.BAD_INPUT, r.code());
        assertTrue(r.err().contains("none of the 1 images could be used (no masks were written)"), r.err());
        // evaluate: an image without a mask is listed; the others are scored and written
        Path data = dir.resolve("eval-data/test");
        Files.createDirectories(data.resolve("masks"));
        Files.createDirectories(data.resolve("images"));
        for (String n : new String[] {"syn_016.png", "syn_017.png", "syn_018.png"}) {
            Files.copy(images.resolve(n), data.resolve("images").resolve(n));
            if (!n.equals("syn_018.png")) Files.copy(Path.of("testdata/synthetic/test/masks").resolve(n), data.resolve("masks").resolve(n));
        }
        Path ev = dir.resolve("eval-mixed");
        r = run("evaluate", "--weights", ckpt.toString(), "--data", dir.resolve("eval-data").toString(), "--out", ev.toString(),
                "--device", "cpu", "--tile", "64", "--overlap", "16");
        assertEquals(Main.BAD_INPUT, r.code(), r.out() + r.err());
        assertTrue(r.err().contains("1 of 3 images") && r.err().contains("no mask for image"), r.err());
        assertEquals(1 + 2 * 2, Files.readAllLines(ev.resolve("metrics.csv")).size());
        @SuppressWarnings("unchecked")
        Map<String, Object> summary = (Map<String, Object>) convunext.io.Json.parse(Files.readString(ev.resolve("summary.json")));
        assertEquals(2L, summary.get("images"));
        assertEquals(1, ((List<?>) summary.get("failed")).size());
    }

    /** A gray 96×96 PNG of {@code bits} (8 or 16) bits: {@code value} inside the square [lo, hi)², 0 outside. */
    static void square(Path file, int lo, int hi, int value, int bits) throws Exception {
        var im = new java.awt.image.BufferedImage(96, 96, bits == 16 ? java.awt.image.BufferedImage.TYPE_USHORT_GRAY
                : java.awt.image.BufferedImage.TYPE_BYTE_GRAY);
        for (int y = lo; y < hi; y++) for (int x = lo; x < hi; x++) im.getRaster().setSample(x, y, 0, value);
        javax.imageio.ImageIO.write(im, "png", file.toFile());
    }

    /**
     * An image with no pixel to score (an all-black ROI mask, a mask all 255) is listed, not scored:
     * every metric of it was its empty case (Dice 1, HD95 0), so it counted as a perfect image and
     * lifted the mean (one black ROI among four images: mean Dice 0.30 read as 0.48).
     */
    @Test void evaluateListsAnImageWithNoPixelToScore() throws Exception {
        Path data = dir.resolve("no-pixel/test");
        Path roi = Files.createDirectories(dir.resolve("no-pixel-roi"));
        Files.createDirectories(data.resolve("images"));
        Files.createDirectories(data.resolve("masks"));
        for (String n : new String[] {"syn_016.png", "syn_017.png", "syn_018.png"}) {
            Files.copy(images.resolve(n), data.resolve("images").resolve(n));
            Files.copy(Path.of("testdata/synthetic/test/masks").resolve(n), data.resolve("masks").resolve(n));
            square(roi.resolve(n), 8, 88, 255, 8);
        }
        square(roi.resolve("syn_016.png"), 0, 0, 0, 8);            // an empty field of view
        square(data.resolve("masks/syn_017.png"), 0, 96, 255, 16);   // 255 of 65535 everywhere: every pixel "ignore"
        Path ev = dir.resolve("no-pixel-out");
        Run r = run("evaluate", "--weights", ckpt.toString(), "--data", dir.resolve("no-pixel").toString(), "--roi", roi.toString(),
                "--out", ev.toString(), "--device", "cpu", "--tile", "64", "--overlap", "16");
        assertEquals(Main.BAD_INPUT, r.code(), r.out() + r.err());
        List<String> err = r.err().lines().filter(l -> !l.startsWith("WARNING")).toList();
        assertEquals(3, err.size(), r.err());
        assertTrue(err.get(0).contains("2 of 3 images"), err.get(0));
        assertTrue(err.get(1).contains("syn_016.png has no pixel to score: its ROI mask " + roi.resolve("syn_016.png") + " is empty"),
                err.get(1));
        assertTrue(err.get(2).contains("syn_017.png has no pixel to score: its mask ") && err.get(2).contains("is 255 (ignore) everywhere"),
                err.get(2));
        assertEquals(1 + 2, Files.readAllLines(ev.resolve("metrics.csv")).size(), "only syn_018 is scored");
        @SuppressWarnings("unchecked")
        Map<String, Object> summary = (Map<String, Object>) convunext.io.Json.parse(Files.readString(ev.resolve("summary.json")));
        assertEquals(1L, summary.get("images"));
        assertEquals(2, ((List<?>) summary.get("failed")).size());
    }

    /**
     * metrics.csv quotes an image name holding a carriage return, as RFC 4180 asks (it quoted only
     * commas, quotes and line feeds): a reader that ends records at CR split that image's rows in two.
     */
    @Test void metricsCsvQuotesANameWithACarriageReturn() throws Exception {
        Path data = dir.resolve("cr/test");
        Files.createDirectories(data.resolve("images"));
        Files.createDirectories(data.resolve("masks"));
        String stem = "syn\r016";   // Linux takes any byte but '/' and NUL in a name
        Files.copy(images.resolve("syn_016.png"), data.resolve("images").resolve(stem + ".png"));
        Files.copy(Path.of("testdata/synthetic/test/masks/syn_016.png"), data.resolve("masks").resolve(stem + ".png"));
        Path ev = dir.resolve("cr-out");
        Run r = run("evaluate", "--weights", ckpt.toString(), "--data", dir.resolve("cr").toString(), "--out", ev.toString(),
                "--device", "cpu", "--tile", "64", "--overlap", "16");
        assertEquals(0, r.code(), r.out() + r.err());
        String csv = Files.readString(ev.resolve("metrics.csv"));
        List<String> records = List.of(csv.split("\n"));
        assertEquals(1 + 2, records.size(), csv);
        for (String rec : records.subList(1, 3))
            assertTrue(rec.startsWith("\"" + stem + "\","), "the name is one quoted field: " + rec.replace("\r", "\\r"));
    }

    /**
     * Images smaller than the model's 64×64 train: each is resized to the drawn short side and
     * cropped (padded) to --crop, and validation runs it at the trained scale, as evaluate does
     * (train refused a 40×40 set, "smaller than the minimum 64×64", where predict and evaluate take
     * it). One the trained scale would run below 64×64 (its short side inside a range that starts
     * below it) is refused before the folder is made, naming the --base-size that runs it.
     */
    @Test void trainTakesImagesSmallerThanTheModelsMinimum() throws Exception {
        Path data = dir.resolve("small-data");
        for (String split : new String[] {"train", "test"})
            for (String kind : new String[] {"images", "masks"}) {
                Path to = Files.createDirectories(data.resolve(split).resolve(kind));
                try (Stream<Path> s = Files.list(Path.of("testdata/synthetic").resolve(split).resolve(kind))) {
                    for (Path f : s.sorted().limit(4).toList()) {
                        var im = javax.imageio.ImageIO.read(f.toFile());
                        javax.imageio.ImageIO.write(im.getSubimage(20, 20, 40, 36), "png", to.resolve(f.getFileName()).toFile());
                    }
                }
            }
        Run r = run("train", "--data", data.toString(), "--out", dir.resolve("small-run").toString(), "--device", "cpu", "--epochs", "1",
                "--batch", "2", "--crop", "64", "--base-size", "96", "--base-c", "4", "--tile", "64");
        assertEquals(0, r.code(), r.out() + r.err());
        assertTrue(r.out().contains("width 40..40, height 36..36"), r.out());
        assertTrue(Files.isRegularFile(dir.resolve("small-run/best.safetensors")), "validated");
        Path low = dir.resolve("small-run-base40");
        r = run("train", "--data", data.toString(), "--out", low.toString(), "--device", "cpu", "--epochs", "1",
                "--batch", "2", "--crop", "64", "--base-size", "40", "--base-c", "4", "--tile", "64");
        assertOneLine(r, Main.BAD_INPUT, "validation image " + data.resolve("test/images/syn_016.png") + " is 40×36",
                "below the model's minimum 64×64; give --base-size 80 or more");
        assertFalse(Files.exists(low), "refused before the folder is made");
    }

    @Test void aFreshDefaultFolderNeverReusesAnEarlierOne() throws Exception {
        Path base = dir.resolve("runs/evaluate");
        assertEquals(base, Outputs.fresh(base, EvaluateCommand.OUTPUTS));
        Files.createDirectories(base);
        assertEquals(base, Outputs.fresh(base, EvaluateCommand.OUTPUTS), "an empty folder is fine");
        Files.writeString(base.resolve("summary.json"), "{}");
        assertEquals(dir.resolve("runs/evaluate-2"), Outputs.fresh(base, EvaluateCommand.OUTPUTS));
        // a folder whose run has written nothing yet is taken too: its lock says so
        Path second = dir.resolve("runs/evaluate-2");
        try (convunext.io.OutputFolder busy = convunext.io.OutputFolder.lock(second, "evaluate")) {
            assertEquals(dir.resolve("runs/evaluate-3"), Outputs.fresh(base, EvaluateCommand.OUTPUTS));
        }
        assertEquals(second, Outputs.fresh(base, EvaluateCommand.OUTPUTS), "free again once its run ends");
    }

    /** train --help states the defaults, which live in Recipe: the two must not drift apart. */
    @Test void trainHelpStatesTheRecipesDefaults() {
        String help = run("train", "--help").out();
        convunext.train.Recipe ref = convunext.train.Recipe.REFERENCE, syn = convunext.train.Recipe.SYNTHETIC;
        String[][] want = {{"--epochs", "default " + ref.epochs() + "; " + syn.epochs() + " on the synthetic set"},
                {"--batch", "default " + ref.batch()}, {"--crop", "default " + ref.crop() + "; " + syn.crop() + " on the synthetic"},
                {"--base-size", "default " + ref.baseSize() + "; " + syn.baseSize() + " on the synthetic"},
                {"--lr", "default " + ref.lr()}, {"--weight-decay", "default " + ref.weightDecay()},
                {"--base-c", "default " + ref.baseC() + "; " + syn.baseC() + " on the synthetic"}};
        String flat = help.replaceAll("\\s+", " ");
        for (String[] w : want) assertTrue(flat.contains(w[1].replace("0.0015", "1.5e-3").replace("5.0E-5", "5e-5")), w[0] + ": " + w[1] + " in\n" + help);
        assertEquals(syn.batch(), ref.batch(), "the help states one batch default for both");
        assertEquals(syn.lr(), ref.lr());
        assertEquals(syn.weightDecay(), ref.weightDecay());
    }
}
