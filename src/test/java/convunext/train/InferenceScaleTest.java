package convunext.train;

import static org.junit.jupiter.api.Assertions.*;

import convunext.backend.Backend;
import convunext.backend.all.Backends;
import convunext.data.DataException;
import convunext.data.FloatImage;
import convunext.data.ImageFiles;
import convunext.nn.ConvUNeXt;
import convunext.nn.Norm;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The inference-scale rule, its parsing, the checkpoint fields, and the pipeline at factor 1 and without the fields. */
class InferenceScaleTest {
    static final TrainingScale REFERENCE = new TrainingScale(512, 0.8, 1.5);
    static final Path DRIVE_IMAGE = Path.of("testdata/drive-mini/full/images/23_training.tif");   // 565×584
    @TempDir Path dir;

    @Test void referenceRecipeRange() {
        assertEquals(409, REFERENCE.minShortSide());
        assertEquals(768, REFERENCE.maxShortSide());
        assertEquals(561, REFERENCE.centre());   // 512·√1.2 = 560.87
        assertEquals(105, new TrainingScale(96, 0.8, 1.5).centre());
    }

    @Test void autoKeepsImagesInsideTheTrainedRangeAndMovesOthersToItsCentre() {
        InferenceScale a = InferenceScale.AUTO;
        assertArrayEquals(new int[] {584, 565}, a.size(584, 565, REFERENCE, "drive"));      // DRIVE: native, factor 1
        assertArrayEquals(new int[] {409, 600}, a.size(409, 600, REFERENCE, "x"));
        assertArrayEquals(new int[] {900, 768}, a.size(900, 768, REFERENCE, "x"));
        assertArrayEquals(new int[] {561, 823}, a.size(408, 599, REFERENCE, "x"));          // 561·599/408 = 823.6, rounded down
        assertArrayEquals(new int[] {579, 561}, a.size(1752, 1695, REFERENCE, "drive 3×"));  // 561·1752/1695 = 579.9
        assertArrayEquals(new int[] {561, 748}, a.size(1944, 2592, REFERENCE, "isic"));
        assertArrayEquals(new int[] {1752, 1695}, a.size(1752, 1695, null, "no record"));    // nothing recorded: native
        assertArrayEquals(new int[] {1752, 1695}, InferenceScale.NATIVE.size(1752, 1695, REFERENCE, "x"));
        assertArrayEquals(new int[] {64, 128}, a.size(300, 600, new TrainingScale(40, 0.8, 1.5), "x"));   // centre 44 < the model's 64
    }

    @Test void factorsScaleTheShortSide() {
        assertArrayEquals(new int[] {584, 565}, InferenceScale.parse("1").size(584, 565, REFERENCE, "x"));
        assertArrayEquals(new int[] {292, 283}, InferenceScale.parse("0.5").size(584, 565, REFERENCE, "x"));   // 282.5 → 283
        assertArrayEquals(new int[] {300, 600}, InferenceScale.parse("3").size(100, 200, null, "x"));
        DataException e = assertThrows(DataException.class, () -> InferenceScale.parse("1e6").size(584, 565, REFERENCE, "big.png"));
        assertTrue(e.getMessage().startsWith("big.png (565×584) at scale 1000000"), e.getMessage());
    }

    /**
     * The resized size is bounded by area as well as by side, so c·h·w never overflows an int:
     * a factor of 9000 on 100×100, or a checkpoint recording base_size 100000, is one image's
     * DataException naming it, its size and the size it would have (it was an ArithmeticException).
     */
    @Test void resizedSizesAreBoundedByArea() {
        DataException e = assertThrows(DataException.class, () -> InferenceScale.parse("9000").size(100, 100, null, "a.png", 3));
        assertEquals("a.png (100×100) at scale 9000 would be resized to 900000×900000: more than the 268435456 pixels (16384×16384)"
                + " an image may run at; pass a smaller --scale", e.getMessage());
        TrainingScale huge = new TrainingScale(100000, 0.8, 1.5);   // centre 109545
        e = assertThrows(DataException.class, () -> InferenceScale.AUTO.size(100, 120, huge, "b.png", 3));
        assertEquals("b.png (120×100) at scale auto would be resized to 131454×109545: more than the 268435456 pixels (16384×16384)"
                + " an image may run at; pass a smaller --scale or --scale native", e.getMessage());
        // A base size past int range saturates instead of wrapping to a negative (then 64 px) target.
        assertEquals(Integer.MAX_VALUE, new TrainingScale(2_000_000_000, 0.8, 1.5).centre());
        assertThrows(DataException.class, () -> InferenceScale.AUTO.size(100, 100, new TrainingScale(2_000_000_000, 0.8, 1.5), "c.png"));
        // The limit itself runs; with 255 classes the probabilities of 10000² pixels would not fit one array.
        assertArrayEquals(new int[] {16384, 16384}, InferenceScale.parse("163.84").size(100, 100, null, "x", 3));
        assertArrayEquals(new int[] {10000, 10000}, InferenceScale.parse("100").size(100, 100, null, "x", 3));
        e = assertThrows(DataException.class, () -> InferenceScale.parse("100").size(100, 100, null, "d.png", 255));
        assertTrue(e.getMessage().startsWith("d.png (100×100) at scale 100 would be resized to 10000×10000: 255 planes of 100000000 values"),
                e.getMessage());
    }

    /**
     * A 1-pixel strip brought to the training scale (9500×1 at short side 105: 997500×105) needs
     * gigabytes of buffers: refused naming it when they exceed the heap (it was an OutOfMemoryError
     * that ended the folder, or the Spark task); the same resize fits a larger heap, and an image
     * run at its own size is never refused here.
     */
    @Test void resizesBeyondTheHeapAreRefusedNamingTheImage() {
        int[] s = InferenceScale.AUTO.size(1, 9500, new TrainingScale(96, 0.8, 1.5), "strip.png", 3);
        assertArrayEquals(new int[] {105, 997500}, s);
        DataException e = assertThrows(DataException.class,
                () -> InferenceScale.requireHeap("strip.png", 1, 9500, s[0], s[1], 3, 1L << 30));
        assertEquals("strip.png (9500×1) would be resized to 997500×105: about 5.1 GiB of buffers, more than this JVM's heap (1.0 GiB);"
                + " pass a smaller --scale, --scale native, or a larger -Xmx", e.getMessage());
        InferenceScale.requireHeap("strip.png", 1, 9500, s[0], s[1], 3, 8L << 30);
        InferenceScale.requireHeap("big.png", 20000, 20000, 20000, 20000, 3, 1L << 30);
    }

    /** Through the pipeline: the checkpoint's recorded base_size 100000 refuses the image, naming it (no overflow). */
    @Test void aCheckpointWithAHugeTrainingScaleRefusesTheImage() {
        try (Backend be = Backends.open("cpu", System.out)) {
            Path ckpt = checkpoint(dir, new TrainingScale(100000, 0.8, 1.5), be);
            DataException e = assertThrows(DataException.class,
                    () -> segment(ckpt, be, InferenceScale.AUTO, noise(3, 100, 100), new ArrayList<>()));
            assertTrue(e.getMessage().startsWith("img (100×100) at scale auto would be resized to 109545×109545"), e.getMessage());
        }
    }

    @Test void parsing() {
        assertEquals(InferenceScale.AUTO, InferenceScale.parse("auto"));
        assertEquals(InferenceScale.AUTO, InferenceScale.parse(" AUTO "));
        assertEquals(InferenceScale.NATIVE, InferenceScale.parse("Native"));
        assertEquals(0.25, InferenceScale.parse("0.25").factor());
        assertEquals(0.5, InferenceScale.parse(".5").factor());
        assertEquals(2.0, InferenceScale.parse("2").factor());
        assertEquals(1500.0, InferenceScale.parse("1.5e3").factor());
        for (String bad : new String[] {"", " ", "0", "-1", "-0.5", "0.0", "abc", "nan", "NaN", "inf", "Infinity", "1e999", "0x1p1",
                "2d", "1,5", "50%", "3x", "1e-400"}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> InferenceScale.parse(bad), bad);
            assertTrue(e.getMessage().startsWith("must be 'auto'") && e.getMessage().endsWith("got '" + bad + "'"), e.getMessage());
        }
        assertEquals("native", InferenceScale.NATIVE.describe());
        assertEquals("0.5", InferenceScale.parse("0.50").describe());
        assertEquals("2", InferenceScale.parse("2.0").describe());
    }

    @Test void metadataFields() {
        Map<String, String> m = new LinkedHashMap<>();
        assertNull(TrainingScale.of(m, Path.of("a")));
        REFERENCE.put(m);
        assertEquals(Map.of("train.base_size", "512", "train.scale_min", "0.8", "train.scale_max", "1.5"), m);
        assertEquals(REFERENCE, TrainingScale.of(m, Path.of("a")));
        // A checkpoint of an earlier train: only base_size and the recipe line.
        Map<String, String> legacy = new LinkedHashMap<>(Map.of("train.base_size", "96",
                "augment", "short side U(0.8, 1.5) x base_size, flips p 0.5, crop"));
        assertEquals(new TrainingScale(96, 0.8, 1.5), TrainingScale.of(legacy, Path.of("a")));
        legacy.put("augment", "something else");
        assertNull(TrainingScale.of(legacy, Path.of("a")));
        assertNull(TrainingScale.of(Map.of("augment", "short side U(0.8, 1.5) x base_size"), Path.of("a")));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> TrainingScale.of(
                Map.of("train.base_size", "512", "train.scale_min", "x", "train.scale_max", "1.5"), Path.of("w.safetensors")));
        assertTrue(e.getMessage().startsWith("w.safetensors: bad training scale"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> TrainingScale.of(
                Map.of("train.base_size", "512", "train.scale_min", "2", "train.scale_max", "1.5"), Path.of("w")));
    }

    /** A random-weight checkpoint; {@code scale} null writes no training-scale fields (an older checkpoint). */
    static Path checkpoint(Path dir, TrainingScale scale, Backend be) {
        Path f = dir.resolve(scale == null ? "old.safetensors" : "new.safetensors");
        try (ConvUNeXt m = new ConvUNeXt(new ConvUNeXt.Config(3, 2, 4, Norm.BATCH), be, 7)) {
            Map<String, String> meta = new LinkedHashMap<>();
            meta.put("norm_mean", "0.5,0.4,0.3");
            meta.put("norm_std", "0.2,0.2,0.1");
            if (scale != null) scale.put(meta);
            Checkpoint.save(f, m, null, meta);
        }
        return f;
    }

    static InferenceModel.Result segment(Path ckpt, Backend be, InferenceScale s, FloatImage img, List<String> log) {
        try (InferenceModel m = InferenceModel.open(ckpt, be, 512, 64, false, s, log::add)) {
            return m.segment(img, "img");
        }
    }

    /** At factor 1 (DRIVE's 565×584 against a 512 × 0.8–1.5 checkpoint) the default is today's path, bit for bit. */
    @Test void driveSizedImagesRunExactlyAsAtNativeScale() {
        FloatImage img = ImageFiles.readImage(DRIVE_IMAGE);
        assertEquals(565, img.width());
        try (Backend be = Backends.open("cpu", System.out)) {
            Path ckpt = checkpoint(dir, REFERENCE, be);
            List<String> log = new ArrayList<>();
            InferenceModel.Result auto = segment(ckpt, be, InferenceScale.AUTO, img, log);
            assertTrue(log.get(log.size() - 1).startsWith("scale: trained at short side 409–768 px (512 × 0.8–1.5)"), log.toString());
            assertFalse(auto.resized());
            InferenceModel.Result one = segment(ckpt, be, InferenceScale.parse("1.0"), img, new ArrayList<>());
            float[] today;
            try (InferenceModel m = InferenceModel.open(ckpt, be, 512, 64, false, InferenceScale.NATIVE, s -> {})) {
                // The steps as the pipeline ran them before the scale existed.
                FloatImage p = m.prepare(img, "img");
                today = m.probabilities(m.normalize(p), 3, 584, 565);
                assertArrayEquals(InferenceModel.labels(today, 2, 584, 565).labels(), auto.labels().labels());
            }
            assertArrayEquals(today, auto.probabilities(), 0f);
            assertArrayEquals(today, one.probabilities(), 0f);
            float lo = 1, hi = 0;
            for (int i = 0; i < 565 * 584; i++) { lo = Math.min(lo, today[i]); hi = Math.max(hi, today[i]); }
            assertTrue(hi - lo > 1e-3, "probabilities vary over the image: " + lo + ".." + hi);   // a real comparison
        }
    }

    /** A checkpoint without the fields keeps today's behaviour (native) and says so in one line. */
    @Test void olderCheckpointsRunAtNativeSizeAndSaySo() {
        FloatImage img = noise(3, 300, 240);
        try (Backend be = Backends.open("cpu", System.out)) {
            Path old = checkpoint(dir, null, be);
            List<String> log = new ArrayList<>();
            InferenceModel.Result auto = segment(old, be, InferenceScale.AUTO, img, log);
            List<String> notes = log.stream().filter(l -> l.contains("training scale")).toList();
            assertEquals(1, notes.size(), log.toString());
            assertTrue(notes.get(0).startsWith("note: " + old + " records no training scale"), notes.get(0));
            assertFalse(auto.resized());
            InferenceModel.Result nat = segment(old, be, InferenceScale.NATIVE, img, new ArrayList<>());
            assertArrayEquals(nat.probabilities(), auto.probabilities(), 0f);
            // The same image with a recorded scale of 96 × 0.8–1.5 is resized to a short side of 105.
            Path fresh = checkpoint(dir, new TrainingScale(96, 0.8, 1.5), be);
            InferenceModel.Result r = segment(fresh, be, InferenceScale.AUTO, img, new ArrayList<>());
            assertTrue(r.resized());
            assertEquals(131, r.inferHeight());   // 105·300/240 = 131.25
            assertEquals(105, r.inferWidth());
            assertEquals(300, r.labels().height());
            assertEquals(240, r.labels().width());
            float[] p = r.probabilities();
            int hw = 300 * 240;
            assertEquals(2 * hw, p.length);
            // Interpolated probabilities stay a distribution (float32 roundoff of two convex combinations).
            for (int i = 0; i < hw; i++) assertEquals(1f, p[i] + p[hw + i], 1e-6f);
            // A factor that would leave a side below the model's minimum is refused naming the image.
            DataException e = assertThrows(DataException.class, () -> segment(fresh, be, InferenceScale.parse("0.1"), img, new ArrayList<>()));
            assertEquals("img (240×300) would be 24×30 at scale 0.1, smaller than the model's minimum 64×64; --scale 0.27 or more resizes it",
                    e.getMessage());   // the factor that would run it, as README promises (0.27·240 = 64.8 → 65)
        }
    }

    /**
     * The side minimum applies to the size the model runs at: an image below it that the scale rule
     * resizes up (auto with a recorded training scale, or a factor) is segmented at its native size;
     * at native scale it is refused naming the image and the factor that would resize it.
     */
    @Test void smallImagesRunWhenTheScaleResizesThemUp() {
        FloatImage img = noise(3, 30, 41);
        try (Backend be = Backends.open("cpu", System.out)) {
            Path fresh = checkpoint(dir, new TrainingScale(96, 0.8, 1.5), be);
            InferenceModel.Result r = segment(fresh, be, InferenceScale.AUTO, img, new ArrayList<>());
            assertTrue(r.resized());
            assertEquals(105, r.inferHeight());   // the short side to the trained centre
            assertEquals(143, r.inferWidth());    // 105·41/30 = 143.5, rounded down
            assertEquals(30, r.labels().height());
            assertEquals(41, r.labels().width());
            InferenceModel.Result f = segment(fresh, be, InferenceScale.parse("2.14"), img, new ArrayList<>());
            assertEquals(64, f.inferHeight());    // 2.14·30 = 64.2 → 64: the smallest factor the message names
            for (InferenceScale s : new InferenceScale[] {InferenceScale.NATIVE, InferenceScale.parse("2.1")}) {
                DataException e = assertThrows(DataException.class, () -> segment(fresh, be, s, img, new ArrayList<>()), s.describe());
                String want = s == InferenceScale.NATIVE
                        ? "img is 41×30, smaller than the model's minimum 64×64 at scale native; --scale 2.14 or more resizes it"
                        : "img (41×30) would be 86×63 at scale 2.1, smaller than the model's minimum 64×64; --scale 2.14 or more resizes it";
                assertEquals(want, e.getMessage());
            }
        }
    }

    static FloatImage noise(int c, int h, int w) {
        SplittableRandom r = new SplittableRandom(3);
        float[] d = new float[c * h * w];
        for (int i = 0; i < d.length; i++) d[i] = (float) (r.nextDouble() * 255);
        return new FloatImage(c, h, w, d);
    }

}
