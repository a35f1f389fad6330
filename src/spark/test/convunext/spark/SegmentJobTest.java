package convunext.spark;

import static org.junit.jupiter.api.Assertions.*;

import convunext.api.Segmenter;
import convunext.api.SegmenterOptions;
import convunext.cli.Main;
import convunext.data.DataException;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import org.apache.spark.TaskContext;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Spark job in local[2] (tasks retried up to 4 times): same masks as predict, same Dice/IoU as
 * evaluate, large JPEGs with a corrupt file and a non-image among them, a task that fails halfway
 * and is retried, a second run refused, and the README's command line in a fresh JVM.
 */
class SegmentJobTest {
    static final Path IMAGES = Path.of("testdata/synthetic/test/images"), MASKS = Path.of("testdata/synthetic/test/masks");
    @TempDir static Path dir;
    static Path ckpt;
    static SparkSession spark;

    static String quiet(Runnable r) {
        PrintStream o = System.out;
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        System.setOut(new PrintStream(b, true));
        try {
            r.run();
        } finally {
            System.setOut(o);
        }
        return b.toString();
    }

    @BeforeAll static void setUp() {
        quiet(() -> assertEquals(0, Main.execute("train", "--data", "testdata/synthetic", "--out", dir.resolve("run").toString(),
                "--device", "cpu", "--epochs", "1", "--batch", "2", "--crop", "64", "--base-size", "80", "--base-c", "4",
                "--max-steps-per-epoch", "3", "--tile", "128")));
        ckpt = dir.resolve("run/last.safetensors");
        SegmentJob.quietLogs();   // Spark's INFO lines; the injected failure's ERROR lines stay
        spark = SparkSession.builder().master("local[2,4]").appName("SegmentJobTest")
                .config("spark.ui.enabled", "false").config("spark.driver.host", "127.0.0.1")
                .config("spark.driver.bindAddress", "127.0.0.1").config("spark.sql.shuffle.partitions", "2")
                .getOrCreate();
    }

    @AfterAll static void tearDown() {
        if (spark != null) spark.stop();
        ExecutorSegmenters.closeAll();
        SegmentPartition.beforeRename = null;
    }

    static SegmentJob job(Path images, Path out, String... more) {
        SegmentJob j = new SegmentJob();
        new picocli.CommandLine(j).parseArgs(Stream.concat(Stream.of("--images", images.toString(), "--out", out.toString(),
                "--weights", ckpt.toString(), "--device", "cpu"), Stream.of(more)).toArray(String[]::new));
        return j;
    }

    static SegmentJob.Summary run(SegmentJob j) {
        SegmentJob.Summary[] s = new SegmentJob.Summary[1];
        quiet(() -> {
            try {
                s[0] = j.run(spark);
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        });
        return s[0];
    }

    static Map<String, Row> table(Path out) {
        Map<String, Row> m = new HashMap<>();
        for (Row r : spark.read().parquet(out.resolve("results.parquet").toString()).collectAsList())
            assertNull(m.put(r.getString(r.fieldIndex("path")), r), "duplicate row " + r);
        return m;
    }

    static List<String> names(Path folder) throws Exception {
        try (Stream<Path> s = Files.list(folder)) {
            return s.map(p -> p.getFileName().toString()).filter(n -> !n.startsWith(".")).sorted().toList();   // not predict's lock
        }
    }

    @Test void segmentsAFolderAsPredictAndScoresItAsEvaluate() throws Exception {
        Path out = dir.resolve("job1"), pred = dir.resolve("pred1"), eval = dir.resolve("eval1");
        SegmentJob.Summary s = run(job(IMAGES, out, "--masks", MASKS.toString(), "--tile", "64", "--overlap", "16", "--tta", "flip"));
        assertTrue(s.consistent(), s.toString());
        assertEquals(4, s.inputs());
        assertEquals(4, s.ok());
        quiet(() -> assertEquals(0, Main.execute("predict", "-i", IMAGES.toString(), "-o", pred.toString(), "--weights", ckpt.toString(),
                "--device", "cpu", "--tile", "64", "--overlap", "16", "--tta", "flip")));
        assertEquals(names(pred), names(out.resolve("masks")));
        for (String n : names(pred))
            assertArrayEquals(Files.readAllBytes(pred.resolve(n)), Files.readAllBytes(out.resolve("masks").resolve(n)), n);
        quiet(() -> assertEquals(0, Main.execute("evaluate", "--weights", ckpt.toString(), "--data", "testdata/synthetic",
                "--out", eval.toString(), "--device", "cpu", "--tile", "64", "--overlap", "16", "--tta", "flip")));
        Map<String, Row> rows = table(out);
        List<String> csv = Files.readAllLines(eval.resolve("metrics.csv"));
        int checked = 0;
        for (String line : csv.subList(1, csv.size())) {
            String[] f = line.split(",");   // image,class,tp,fp,fn,tn,dice,iou,...
            Row r = rows.entrySet().stream().filter(e -> e.getKey().endsWith("/" + f[0] + ".png")).map(Map.Entry::getValue)
                    .findFirst().orElse(null);
            assertNotNull(r, "no row for " + f[0] + " in " + rows.keySet());
            int c = Integer.parseInt(f[1]);
            // metrics.csv prints 6 decimals: equal to its rounding
            assertEquals(Double.parseDouble(f[6]), r.<Double>getList(r.fieldIndex("dice")).get(c), 5e-7, line);
            assertEquals(Double.parseDouble(f[7]), r.<Double>getList(r.fieldIndex("iou")).get(c), 5e-7, line);
            checked++;
        }
        assertEquals(8, checked);
        Row any = rows.values().iterator().next();
        assertEquals(96, any.getInt(any.fieldIndex("width")));
        List<Long> px = any.getList(any.fieldIndex("pixels"));
        assertEquals(96 * 96, px.get(0) + px.get(1));
        double fg = any.getDouble(any.fieldIndex("mean_foreground_probability"));
        assertTrue(fg > 0 && fg < 1, "" + fg);
        assertTrue(Files.readString(out.resolve("summary.json")).contains("\"mean_dice_per_class\""));
    }

    /** Large JPEGs (1280×960, 3×2 windows of 512), one of them truncated, a text file and a name with a space. */
    /** A gray 96×96 PNG of {@code bits} (8 or 16) bits: {@code value} inside the square [lo, hi)², 0 outside. */
    static void square(Path file, int lo, int hi, int value, int bits) throws Exception {
        BufferedImage im = new BufferedImage(96, 96, bits == 16 ? BufferedImage.TYPE_USHORT_GRAY : BufferedImage.TYPE_BYTE_GRAY);
        for (int y = lo; y < hi; y++) for (int x = lo; x < hi; x++) im.getRaster().setSample(x, y, 0, value);
        assertTrue(ImageIO.write(im, "png", file.toFile()));
    }

    /**
     * An image with no pixel to score (an all-black ROI mask, a mask 255 everywhere inside the ROI)
     * is an error row naming that file, as evaluate lists it: its Dice and IoU were 1, a perfect
     * image in the means. A truth with no foreground inside the ROI is scored (every pixel a negative).
     */
    @Test void anImageWithNoPixelToScoreIsAnErrorRow() throws Exception {
        Path masks = Files.createDirectories(dir.resolve("no-pixel-masks")), roi = Files.createDirectories(dir.resolve("no-pixel-roi"));
        for (String n : new String[] {"syn_016.png", "syn_017.png", "syn_018.png", "syn_019.png"}) {
            Files.copy(MASKS.resolve(n), masks.resolve(n));
            square(roi.resolve(n), 8, 88, 255, 8);
        }
        square(roi.resolve("syn_016.png"), 0, 0, 0, 8);              // an empty field of view
        square(masks.resolve("syn_017.png"), 0, 96, 255, 16);         // 255 of 65535 everywhere: every pixel "ignore"
        square(masks.resolve("syn_019.png"), 0, 0, 0, 8);             // healthy: no foreground, every pixel scored
        Path out = dir.resolve("no-pixel-out");
        SegmentJob.Summary s = run(job(IMAGES, out, "--masks", masks.toString(), "--roi", roi.toString(), "--tile", "64", "--overlap", "16"));
        assertTrue(s.consistent(), s.toString());
        assertEquals(4, s.inputs());
        assertEquals(2, s.ok());
        assertEquals(2, s.errors());
        assertEquals(List.of("syn_018.png", "syn_019.png"), names(out.resolve("masks")));
        Map<String, Row> rows = table(out);
        for (Map.Entry<String, Row> e : rows.entrySet()) {
            Row r = e.getValue();
            String err = r.getString(r.fieldIndex("error"));
            if (e.getKey().endsWith("syn_016.png"))
                assertTrue(err.contains("syn_016.png has no pixel to score: its ROI mask ") && err.contains("no-pixel-roi/syn_016.png is empty"), err);
            else if (e.getKey().endsWith("syn_017.png"))
                assertTrue(err.contains("syn_017.png has no pixel to score: its mask ") && err.contains("no-pixel-masks/syn_017.png is 255 (ignore)"), err);
            else {
                assertNull(err, e.getKey());   // syn_019 too: its background is scored
                assertEquals(2, r.getList(r.fieldIndex("dice")).size(), e.getKey());
            }
        }
    }

    @Test void largeJpegsWithACorruptOne() throws Exception {
        Path in = Files.createDirectories(dir.resolve("jpegs")), out = dir.resolve("job2");
        List<Path> src = convunext.data.Dataset.listImages(IMAGES);
        for (int i = 0; i < 3; i++) {
            BufferedImage small = ImageIO.read(src.get(i).toFile()), big = new BufferedImage(1280, 960, BufferedImage.TYPE_INT_RGB);
            Graphics2D g = big.createGraphics();
            g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_BILINEAR);
            g.drawImage(small, 0, 0, 1280, 960, null);
            g.dispose();
            assertTrue(ImageIO.write(big, "jpg", in.resolve((i == 2 ? "fundus big " : "fundus_") + i + ".jpg").toFile()));
        }
        byte[] jpg = Files.readAllBytes(in.resolve("fundus_0.jpg"));
        Files.write(in.resolve("fundus_corrupt.jpg"), java.util.Arrays.copyOf(jpg, jpg.length * 2 / 5));
        Files.writeString(in.resolve("notes.txt"), "not an image\n");
        Files.write(in.resolve("empty.png"), new byte[0]);   // Spark's file scan drops it: the driver adds its row
        SegmentJob.Summary s = run(job(in, out, "--partitions", "3"));
        assertTrue(s.consistent(), s.toString());
        assertEquals(6, s.inputs());
        assertEquals(3, s.ok());
        assertEquals(3, s.errors());
        assertEquals(List.of("fundus big 2.png", "fundus_0.png", "fundus_1.png"), names(out.resolve("masks")));
        Map<String, Row> rows = table(out);
        for (Map.Entry<String, Row> e : rows.entrySet()) {
            Row r = e.getValue();
            String err = r.getString(r.fieldIndex("error"));
            if (e.getKey().endsWith("fundus_corrupt.jpg")) assertTrue(err.contains("fundus_corrupt.jpg") && err.contains("JPEG"), err);
            else if (e.getKey().endsWith("notes.txt")) assertTrue(err.contains("notes.txt") && err.contains("not a PNG"), err);
            else if (e.getKey().endsWith("empty.png")) assertTrue(err.contains("empty.png") && err.contains("(empty file)"), err);
            else {
                assertNull(err, e.getKey());
                BufferedImage m = ImageIO.read(Path.of(new org.apache.hadoop.fs.Path(r.getString(r.fieldIndex("mask"))).toUri()).toFile());
                assertEquals(1280, m.getWidth());
                assertEquals(960, m.getHeight());
            }
        }
        // the same mask as the library gives for that file
        try (Segmenter seg = Segmenter.open(ckpt, "cpu")) {
            assertArrayEquals(seg.segment(in.resolve("fundus_1.jpg")).toMaskPng(), Files.readAllBytes(out.resolve("masks/fundus_1.png")));
        }
    }

    /** The first attempt of one task dies between writing a mask's temporary file and its rename. */
    @Test void aRetriedTaskRewritesItsMasksOnceAndAtomically() throws Exception {
        Path out = dir.resolve("job3");
        AtomicInteger failures = new AtomicInteger(), retries = new AtomicInteger();
        SegmentPartition.beforeRename = (tmp, target) -> {
            if (!target.getName().equals("syn_017.png")) return;
            if (TaskContext.get().attemptNumber() == 0) {
                failures.incrementAndGet();
                throw new IllegalStateException("injected failure before renaming " + tmp);
            }
            retries.incrementAndGet();
        };
        SegmentJob.Summary s;
        try {
            s = run(job(IMAGES, out, "--partitions", "2"));
        } finally {
            SegmentPartition.beforeRename = null;
        }
        assertEquals(1, failures.get());
        assertEquals(1, retries.get());
        assertTrue(s.consistent(), s.toString());
        assertEquals(4, s.rows());
        assertEquals(List.of("syn_016.png", "syn_017.png", "syn_018.png", "syn_019.png"), names(out.resolve("masks")));
        try (Segmenter seg = Segmenter.open(ckpt, "cpu")) {
            for (String n : names(out.resolve("masks")))
                assertArrayEquals(seg.segment(IMAGES.resolve(n)).toMaskPng(), Files.readAllBytes(out.resolve("masks").resolve(n)), n);
        }
        assertEquals(List.of("masks", "results.parquet", "summary.json"), names(out));
    }

    @Test void anEarlierRunIsNeverOverwritten() throws Exception {
        Path out = dir.resolve("job4");
        assertTrue(run(job(IMAGES, out, "--glob", "syn_01[67].png")).consistent());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> job(IMAGES, out).run(spark));
        assertTrue(e.getMessage().contains("job4") && e.getMessage().contains("already holds results"), e.getMessage());
        assertEquals(2, table(out).size());
        e = assertThrows(IllegalArgumentException.class, () -> job(IMAGES, dir.resolve("job5"), "--tile", "64", "--overlap", "64").run(spark));
        assertTrue(e.getMessage().contains("overlap"), e.getMessage());
        SegmentJob noWeights = job(IMAGES, dir.resolve("job6"));
        noWeights.weights = dir.resolve("none.safetensors").toString();
        RuntimeException w = assertThrows(RuntimeException.class, () -> noWeights.run(spark));
        assertTrue(w.getMessage().contains("none.safetensors"), w.getMessage());
        noWeights.weights = dir.resolve("run").toString();   // the run's folder, not its checkpoint
        e = assertThrows(IllegalArgumentException.class, () -> noWeights.run(spark));
        assertTrue(e.getMessage().contains("--weights " + dir.resolve("run")) && e.getMessage().contains("is a folder"), e.getMessage());
        noWeights.weights = Files.writeString(dir.resolve("garbage.safetensors"), "not a checkpoint").toString();
        e = assertThrows(IllegalArgumentException.class, () -> noWeights.run(spark));
        assertTrue(e.getMessage().contains("garbage.safetensors") && e.getMessage().contains("not a safetensors file"), e.getMessage());
        assertFalse(Files.exists(dir.resolve("job6")), "refused before any output");
        e = assertThrows(IllegalArgumentException.class, () -> job(IMAGES, dir.resolve("job7"), "--glob", "*.nothing").run(spark));
        assertTrue(e.getMessage().contains("no files"), e.getMessage());
        // outputs never among the inputs: --out the images folder, inside it, around it, or inside --masks
        for (Path bad : new Path[] {IMAGES, IMAGES.resolve("out"), IMAGES.getParent()}) {
            IllegalArgumentException a = assertThrows(IllegalArgumentException.class, () -> job(IMAGES, bad).run(spark));
            assertTrue(a.getMessage().contains("--images") && a.getMessage().contains("choose another --out"), a.getMessage());
        }
        Path link = dir.resolve("images-link");
        Files.createSymbolicLink(link, IMAGES.toAbsolutePath());
        e = assertThrows(IllegalArgumentException.class, () -> job(link, link.resolve("masks-out")).run(spark));
        assertTrue(e.getMessage().contains("lies inside the --images folder"), e.getMessage());
        Path truth = Path.of("testdata/synthetic/test/masks");
        e = assertThrows(IllegalArgumentException.class, () -> job(IMAGES, truth.resolve("x"), "--masks", truth.toString()).run(spark));
        assertTrue(e.getMessage().contains("--masks"), e.getMessage());
        assertFalse(Files.exists(IMAGES.resolve("out")) || Files.exists(truth.resolve("x")));
    }

    /**
     * Spark's file listing skips names starting with '_' (and, recursively, folders so named) though
     * predict reads them: each still gets a row, an error naming it, and counts as an input.
     */
    @Test void namesSparkSkipsStillGetARow() throws Exception {
        Path in = dir.resolve("underscore"), out = dir.resolve("job-underscore");
        List<Path> src = convunext.data.Dataset.listImages(IMAGES);
        Files.createDirectories(in.resolve("sub"));
        Files.createDirectories(in.resolve("_sub"));
        Files.copy(src.get(0), in.resolve("a.png"));
        Files.copy(src.get(1), in.resolve("_b.png"));
        Files.copy(src.get(2), in.resolve("sub/d.png"));
        Files.copy(src.get(3), in.resolve("_sub/c.png"));
        Files.copy(src.get(3), in.resolve(".hidden.png"));   // hidden to predict as well: no row
        Files.write(in.resolve("_SUCCESS"), new byte[0]);     // a Hadoop marker, no image to predict either: no row
        SegmentJob.Summary s = run(job(in, out, "--recursive"));
        assertTrue(s.consistent(), s.toString());
        assertEquals(4, s.inputs());
        assertEquals(2, s.ok());
        assertEquals(2, s.errors());
        assertEquals(List.of("a.png", "d.png"), names(out.resolve("masks")));
        for (Map.Entry<String, Row> e : table(out).entrySet()) {
            String err = e.getValue().getString(e.getValue().fieldIndex("error"));
            if (e.getKey().endsWith("/_b.png") || e.getKey().endsWith("/_sub/c.png"))
                assertTrue(err != null && err.contains(e.getKey()) && err.contains("starting with '_'"), e.getKey() + ": " + err);
            else assertNull(err, e.getKey());
        }
    }

    /** Options and an --out that is a file are refused before any work, naming them (exit 2, not a stack trace). */
    @Test void badOptionsAndAFileAsOutAreRefused() throws Exception {
        Path file = Files.writeString(dir.resolve("a-file"), "x");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> job(IMAGES, file).run(spark));
        assertTrue(e.getMessage().contains("a-file") && e.getMessage().contains("existing file"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> job(IMAGES, dir.resolve("neg"), "--partitions", "-2").run(spark));
        assertTrue(e.getMessage().contains("--partitions") && e.getMessage().contains("-2"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> job(IMAGES, dir.resolve("small"), "--tile", "32", "--overlap", "8").run(spark));
        assertTrue(e.getMessage().contains("--tile") && e.getMessage().contains("32"), e.getMessage());
        SegmentJob tpu = job(IMAGES, dir.resolve("tpu"));
        tpu.device = "tpu";   // on a cluster only CPU probes open on the driver: the name is checked up front
        e = assertThrows(IllegalArgumentException.class, () -> tpu.run(spark));
        assertTrue(e.getMessage().contains("tpu"), e.getMessage());
        assertFalse(Files.exists(dir.resolve("neg")) || Files.exists(dir.resolve("small")) || Files.exists(dir.resolve("tpu")));
    }

    /**
     * A file that is listed but cannot be read (no read permission, a failing disk: here a file
     * system that refuses to open it) is an error row saying why, and the job goes on; it failed
     * its task four times and the job with it.
     */
    @Test void anUnreadableFileIsAnErrorRow() throws Exception {
        Path in = Files.createDirectories(dir.resolve("unreadable-in"));
        for (String n : new String[] {"syn_016.png", "syn_017.png"}) Files.copy(IMAGES.resolve(n), in.resolve(n));
        Files.copy(IMAGES.resolve("syn_018.png"), in.resolve("unreadable.png"));
        spark.sparkContext().hadoopConfiguration().set("fs.faulty.impl", FaultyFileSystem.class.getName());
        spark.sparkContext().hadoopConfiguration().set("fs.faulty.impl.disable.cache", "true");
        SegmentJob j = new SegmentJob();
        new picocli.CommandLine(j).parseArgs("--images", "faulty://" + in.toAbsolutePath(), "--out", dir.resolve("unreadable-out").toString(),
                "--weights", ckpt.toString(), "--device", "cpu");
        SegmentJob.Summary s = run(j);
        assertTrue(s.consistent(), s.toString());
        assertEquals(3, s.inputs());
        assertEquals(2, s.ok());
        Row bad = table(dir.resolve("unreadable-out")).get("faulty:" + in.toAbsolutePath().resolve("unreadable.png"));
        assertNotNull(bad, table(dir.resolve("unreadable-out")).keySet().toString());
        String error = bad.getString(bad.fieldIndex("error"));
        assertTrue(error.contains("unreadable.png") && error.contains("Permission denied"), error);
    }

    /**
     * A symbolic link named as an image whose target is missing (a data disk not mounted) is an
     * error row naming the link and its target, as predict refuses it; Hadoop's local listing
     * dropped it, so the job segmented one image fewer and its check said OK. Through a folder,
     * with --recursive, and through a glob; a dangling link not named as an image stays out, as in predict.
     */
    @Test void aDanglingImageLinkIsAnErrorRow() throws Exception {
        Path in = Files.createDirectories(dir.resolve("dangling-in").resolve("sub"));
        in = in.getParent();
        for (String n : new String[] {"syn_016.png", "syn_017.png"}) Files.copy(IMAGES.resolve(n), in.resolve(n));
        Path link = Files.createSymbolicLink(in.resolve("gone.png"), dir.resolve("unmounted/gone.png"));
        Path deep = Files.createSymbolicLink(in.resolve("sub/deep.png"), dir.resolve("unmounted/deep.png"));
        Files.createSymbolicLink(in.resolve("notes.txt"), dir.resolve("unmounted/notes.txt"));
        String[][] runs = {{in.toString()}, {in.toString(), "--recursive"}, {in + "/*.png"}};
        for (int k = 0; k < runs.length; k++) {
            Path out = dir.resolve("dangling-out" + k);
            String[] more = java.util.Arrays.copyOfRange(runs[k], 1, runs[k].length);
            SegmentJob.Summary s = run(job(Path.of(runs[k][0]), out, more));
            List<Path> links = k == 1 ? List.of(link, deep) : List.of(link);
            assertTrue(s.consistent(), s.toString());
            assertEquals(2 + links.size(), s.inputs(), String.join(" ", runs[k]));
            assertEquals(2, s.ok());
            Map<String, Row> rows = table(out);
            for (Path l : links) {
                Row bad = rows.get("file:" + l);
                assertNotNull(bad, l + " not in " + rows.keySet());
                String error = bad.getString(bad.fieldIndex("error"));
                assertTrue(error.contains(l.toString()) && error.contains("symbolic link to " + dir.resolve("unmounted"))
                        && error.contains("does not exist"), error);
            }
        }
        // one named directly: refused as a missing --images, naming what the link points to
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> job(link, dir.resolve("dangling-direct")).run(spark));
        assertTrue(e.getMessage().contains("--images") && e.getMessage().contains("unmounted/gone.png"), e.getMessage());
    }

    /**
     * A mask or ROI mask that is a dangling symbolic link gives its image an error row naming the
     * link and its missing target, as a dangling image link does and as evaluate says: Hadoop's
     * listing dropped it, and the row said "no mask for image".
     */
    @Test void aDanglingMaskOrRoiLinkIsAnErrorRow() throws Exception {
        Path masks = Files.createDirectories(dir.resolve("dangling-masks")), roi = Files.createDirectories(dir.resolve("dangling-roi"));
        for (String n : new String[] {"syn_016.png", "syn_017.png", "syn_018.png", "syn_019.png"}) {
            if (!n.equals("syn_017.png")) Files.copy(MASKS.resolve(n), masks.resolve(n));
            if (!n.equals("syn_018.png")) square(roi.resolve(n), 8, 88, 255, 8);
        }
        Path mask = Files.createSymbolicLink(masks.resolve("syn_017.png"), dir.resolve("unmounted/masks/syn_017.png"));
        Path fov = Files.createSymbolicLink(roi.resolve("syn_018_mask.png"), dir.resolve("unmounted/roi/syn_018_mask.png"));
        Path out = dir.resolve("dangling-masks-out");
        SegmentJob.Summary s = run(job(IMAGES, out, "--masks", masks.toString(), "--roi", roi.toString(), "--tile", "64", "--overlap", "16"));
        assertTrue(s.consistent(), s.toString());
        assertEquals(4, s.inputs());
        assertEquals(2, s.ok());
        assertEquals(List.of("syn_016.png", "syn_019.png"), names(out.resolve("masks")));
        Map<String, Row> rows = table(out);
        Map<String, Path> links = Map.of("syn_017.png", mask, "syn_018.png", fov);
        for (Map.Entry<String, Path> l : links.entrySet()) {
            Row bad = rows.get("file:" + IMAGES.toAbsolutePath().resolve(l.getKey()));
            assertNotNull(bad, l.getKey() + " not in " + rows.keySet());
            String error = bad.getString(bad.fieldIndex("error"));
            assertTrue(error.contains(l.getValue().toString()) && error.contains("symbolic link to " + dir.resolve("unmounted"))
                    && error.contains("does not exist"), error);
        }
        // every mask a dangling link: refused before any task, naming them
        Path none = Files.createDirectories(dir.resolve("dangling-only"));
        Files.createSymbolicLink(none.resolve("syn_016.png"), dir.resolve("unmounted/masks/syn_016.png"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> job(IMAGES, dir.resolve("dangling-only-out"), "--masks", none.toString()).run(spark));
        assertTrue(e.getMessage().contains("no masks in " + none) && e.getMessage().contains("unmounted/masks/syn_016.png"), e.getMessage());
    }

    /**
     * A missing --images or --masks, or a glob matching nothing, is one line naming the flag, checked
     * before Spark reads it (Spark logged a FileNotFoundException's stack trace, then failed with
     * its PATH_NOT_FOUND AnalysisException).
     */
    @Test void missingInputsAreNamedBeforeSparkReadsThem() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> job(dir.resolve("no-images"), dir.resolve("m1")).run(spark));
        assertTrue(e.getMessage().contains("--images") && e.getMessage().contains("no-images") && e.getMessage().contains("no such"),
                e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> job(IMAGES.resolve("*.jpeg"), dir.resolve("m2")).run(spark));
        assertTrue(e.getMessage().contains("--images") && e.getMessage().contains("*.jpeg"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> job(IMAGES, dir.resolve("m3"), "--masks", dir.resolve("no-masks").toString()).run(spark));
        assertTrue(e.getMessage().contains("--masks") && e.getMessage().contains("no-masks"), e.getMessage());
        assertFalse(Files.exists(dir.resolve("m1")) || Files.exists(dir.resolve("m2")) || Files.exists(dir.resolve("m3")));
    }

    /** A second job in the same JVM with other weights at the same path uses the new weights, not the executor's cached model. */
    @Test void weightsReplacedAtTheSamePathAreReloaded() throws Exception {
        Path other = dir.resolve("run-seed7");
        quiet(() -> assertEquals(0, Main.execute("train", "--data", "testdata/synthetic", "--out", other.toString(),
                "--device", "cpu", "--epochs", "1", "--batch", "2", "--crop", "64", "--base-size", "80", "--base-c", "4",
                "--max-steps-per-epoch", "2", "--tile", "128", "--seed", "7")));
        Path one = IMAGES.resolve("syn_016.png");
        Path[] sources = {ckpt, other.resolve("last.safetensors")};
        spark.sparkContext().hadoopConfiguration().set("fs.faulty.impl", FaultyFileSystem.class.getName());
        spark.sparkContext().hadoopConfiguration().set("fs.faulty.impl.disable.cache", "true");
        // a Hadoop file system's (downloaded: the first copy was reused after the file changed), and a local path
        for (String where : new String[] {"remote", "local"}) {
            Path w = dir.resolve("replaced-" + where + ".safetensors");
            double[] fg = new double[2];
            int open = 0;
            for (int i = 0; i < 2; i++) {
                Files.copy(sources[i], w, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
                Files.setLastModifiedTime(w, java.nio.file.attribute.FileTime.fromMillis(1_000_000L * (i + 1)));
                SegmentJob j = job(IMAGES, dir.resolve("job-replaced-" + where + i), "--glob", "syn_016.png");
                j.weights = where.equals("local") ? w.toString() : "faulty://" + w.toAbsolutePath();
                assertTrue(run(j).consistent());
                Row r = table(dir.resolve("job-replaced-" + where + i)).values().iterator().next();
                fg[i] = r.getDouble(r.fieldIndex("mean_foreground_probability"));
                try (Segmenter s = Segmenter.open(sources[i], "cpu")) {
                    float[] p0 = s.segment(one).probabilities(0);
                    double sum = 0;
                    for (float p : p0) sum += p;
                    assertEquals(1 - sum / p0.length, fg[i], 0.0, where + " job " + i + " used other weights than " + sources[i]);
                }
                if (i == 0) open = ExecutorSegmenters.openCount();
            }
            assertNotEquals(fg[0], fg[1]);
            assertEquals(open, ExecutorSegmenters.openCount(), where + ": the replaced weights' Segmenter is still open");
        }
    }

    @Test void masksAreMatchedAsEvaluateMatchesThem() {
        var ds = convunext.data.Dataset.open(Path.of("testdata/drive-mini"), "train", true, null);
        List<String> masks = new ArrayList<>(), rois = new ArrayList<>();
        for (var s : ds.samples()) {
            masks.add(s.mask().toString());
            rois.add(s.roi().toString());
        }
        masks.add("testdata/drive-mini/train/masks/210_training_manual1.gif");   // starts with 21 but not 21_
        MaskIndex mi = new MaskIndex(masks, "mask", "m"), ri = new MaskIndex(rois, "ROI mask", "r");
        for (var s : ds.samples()) {
            assertEquals(s.mask().toString(), mi.find(s.id(), s.image().toString()));
            assertEquals(s.roi().toString(), ri.find(s.id(), s.image().toString()));
        }
        assertNull(mi.find("23_training", "x"));
        MaskIndex two = new MaskIndex(List.of("a/x_1.png", "a/x_2.png"), "mask", "a");
        DataException e = assertThrows(DataException.class, () -> two.find("x", "img/x.png"));
        assertTrue(e.getMessage().contains("ambiguous mask") && e.getMessage().contains("x_2.png"), e.getMessage());
        assertEquals(Map.of("b/x.png", "mask name x.png is already the mask of a/x.jpg; rename one of them"),
                SegmentJob.collisions(List.of("a/x.jpg", "b/x.png", "c/y.png")));
    }

    /** README's command: plain java, no Spark flags (the job re-executes itself with Spark's), local mode. */
    @Test void theCommandLineRunsInAFreshJvm() throws Exception {
        Path out = dir.resolve("job-cli"), log = dir.resolve("job-cli.log");
        List<String> cmd = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx2g",
                "-cp", System.getProperty("java.class.path"), "convunext.spark.SegmentJob", "--master", "local[2]",
                "--images", IMAGES.toString(), "--masks", MASKS.toString(), "--weights", ckpt.toString(), "--out", out.toString());
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        assertTrue(p.waitFor(300, TimeUnit.SECONDS), Files.readString(log));
        String text = Files.readString(log);
        assertEquals(0, p.exitValue(), text);
        assertTrue(text.contains("check: 4 inputs = 4 ok + 0 error rows (4 rows, 4 distinct paths): OK"), text);
        assertEquals(4, names(out.resolve("masks")).size());
        Path bad = dir.resolve("job-cli-bad.log");
        Process q = new ProcessBuilder(List.of(cmd.get(0), "-cp", cmd.get(3), "convunext.spark.SegmentJob", "--tta", "rotate",
                "--images", IMAGES.toString(), "--weights", ckpt.toString(), "--out", dir.resolve("x").toString()))
                .redirectErrorStream(true).redirectOutput(bad.toFile()).start();
        assertTrue(q.waitFor(300, TimeUnit.SECONDS));
        assertEquals(2, q.exitValue(), Files.readString(bad));
        assertTrue(Files.readString(bad).contains("error: --tta accepts only 'flip', got 'rotate'"), Files.readString(bad));
    }

    @Test void theTaskDeviceFollowsSparksGpuAssignment() {
        assertEquals("cpu", ExecutorSegmenters.deviceFor("cpu", null));
        assertEquals("auto", ExecutorSegmenters.deviceFor("auto", null));
        assertEquals("cuda:1", ExecutorSegmenters.deviceFor("cuda:1", null));
        // what a task sees with spark.task.resource.gpu.amount=1 on an executor whose discovery script listed GPUs 2 and 3
        var gpu = Map.of("gpu", new org.apache.spark.resource.ResourceInformation("gpu", new String[] {"3"}));
        assertEquals("cuda:3", ExecutorSegmenters.device("auto", gpu));
        assertEquals("cpu", ExecutorSegmenters.device("cpu", gpu));
        assertEquals("auto", ExecutorSegmenters.device("auto", Map.of()));
    }

    /** --tile 64 without --overlap runs with overlap 16, as predict's; a given --overlap is checked as before. */
    @Test void theSmallestTileWorksWithoutAnOverlap() throws Exception {
        assertEquals(16, job(IMAGES, dir.resolve("tile64"), "--tile", "64").options().overlap());
        assertEquals(64, job(IMAGES, dir.resolve("tile64"), "--tile", "65").options().overlap());
        assertEquals(64, job(IMAGES, dir.resolve("tile64")).options().overlap());
        SegmentJob.Summary s = run(job(IMAGES, dir.resolve("tile64"), "--tile", "64"));
        assertTrue(s.consistent(), s.toString());
        assertEquals(4, s.ok());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> job(IMAGES, dir.resolve("tile64-64"), "--tile", "64", "--overlap", "64").run(spark));
        assertTrue(e.getMessage().contains("--overlap") && e.getMessage().contains("64"), e.getMessage());
    }

    @Test void unusedOptionsAreDefaults() {
        assertEquals(SegmenterOptions.defaults().tile(), job(IMAGES, dir.resolve("unused")).tile);
    }
}
