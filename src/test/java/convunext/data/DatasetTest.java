package convunext.data;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DatasetTest {
    @TempDir Path tmp;

    @Test void syntheticSetOpensAndChecks() {
        Dataset train = Dataset.open(Fixtures.SYNTHETIC, "train", true, null);
        assertEquals(16, train.size());
        assertEquals("syn_000", train.samples().get(0).id());
        assertEquals("syn_000.png", train.samples().get(0).mask().getFileName().toString());
        assertNull(train.samples().get(0).roi());
        assertEquals(4, Dataset.open(Fixtures.SYNTHETIC, "test", true, null).size());
        DataCheck.Report r = DataCheck.run(train, 2, 3, LoadedSample.DEFAULT_MIN_SIZE);
        assertEquals(16, r.images());
        assertEquals(96, r.minWidth());
        assertEquals(96, r.maxHeight());
        double fg = r.classFractions()[1];
        assertTrue(fg > 0.05 && fg < 0.25, "vessel fraction " + fg);
        assertEquals(0, r.ignoredPixels());
        String text = r.toString();
        assertTrue(text.contains("16 images") && text.contains("class balance"), text);
        assertFalse(text.contains("warning"), text);
        // binary masks checked for 3 classes: class 2 never occurs, and the check says so
        String three = DataCheck.run(train, 3, 3, LoadedSample.DEFAULT_MIN_SIZE).toString();
        assertTrue(three.contains("warning: class(es) 2 never occur") && three.contains("--classes 3"), three);
    }

    /** A folder inside the data root (its train/ or train/images/) is refused naming the root to give. */
    @Test void aFolderInsideTheRootNamesTheRoot() {
        Path root = Fixtures.SYNTHETIC.toAbsolutePath().normalize();
        for (Path inside : new Path[] {root.resolve("train"), root.resolve("train").resolve("images")}) {
            DataException e = assertThrows(DataException.class, () -> Dataset.open(inside, "train", true, null));
            assertTrue(e.getMessage().startsWith("no image folder") && e.getMessage().endsWith("give --data " + root), e.getMessage());
        }
        assertEquals("", Dataset.rootHint(tmp));   // a folder elsewhere: no hint
    }

    @Test void driveNamingMatchesByPrefixWithRoiFolder() {
        Dataset ds = Dataset.open(Fixtures.DRIVE_MINI, "train", true, null);
        assertEquals(2, ds.size());
        Sample s = ds.samples().get(0);
        assertEquals("21_training", s.id());
        assertEquals("21_training_manual1.gif", s.mask().getFileName().toString());
        assertEquals("21_training_mask.gif", s.roi().getFileName().toString());
        DataCheck.Report r = DataCheck.run(ds, 2, 3, 64);
        assertEquals(2, r.withRoi());
        assertTrue(r.ignoredPixels() > 0.2 * 2 * 141 * 146, "outside-FOV pixels are ignored: " + r.ignoredPixels());
        // explicit ROI folder works the same
        Dataset explicit = Dataset.open(Fixtures.DRIVE_MINI, "train", true, Fixtures.DRIVE_MINI.resolve("train/roi"));
        assertEquals(s, explicit.samples().get(0));
    }

    /** An explicit ROI folder with no image in it (a parent folder given by mistake) is refused, naming it. */
    @Test void anExplicitRoiFolderWithoutImagesIsRefused() throws Exception {
        Path parent = tmp.resolve("annotations");
        Files.createDirectories(parent.resolve("mask"));
        Files.writeString(parent.resolve("README.txt"), "not a mask");
        DataException e = assertThrows(DataException.class, () -> Dataset.open(Fixtures.DRIVE_MINI, "train", true, parent));
        assertTrue(e.getMessage().contains(parent.toString()) && e.getMessage().contains("holds no images"), e.getMessage());
        Path empty = Files.createDirectories(tmp.resolve("empty"));
        assertThrows(DataException.class, () -> Dataset.open(Fixtures.DRIVE_MINI, "train", true, empty));
        // without --roi an absent or empty <split>/roi still means "no field of view"
        assertNull(Dataset.open(Fixtures.SYNTHETIC, "train", true, null).samples().get(0).roi());
    }

    @Test void meanStdInsideRoi() {
        Dataset ds = Dataset.open(Fixtures.DRIVE_MINI, "train", true, null);
        List<LoadedSample> loaded = new ArrayList<>();
        for (Sample s : ds.samples()) loaded.add(LoadedSample.load(s, 2, 3, 64));
        Normalization n = Normalization.compute(loaded);
        // brute force: per-image ROI mean and population std, averaged over the images
        for (int c = 0; c < 3; c++) {
            double ms = 0, ss = 0;
            for (LoadedSample ls : loaded) {
                int px = ls.image().pixels();
                double sum = 0, sq = 0;
                long cnt = 0;
                for (int i = 0; i < px; i++) {
                    if (!ls.roi()[i]) continue;
                    double v = ls.image().data()[c * px + i] / 255.0;
                    sum += v; sq += v * v; cnt++;
                }
                double m = sum / cnt;
                ms += m;
                ss += Math.sqrt(sq / cnt - m * m);
            }
            assertEquals(ms / loaded.size(), n.mean()[c], 1e-6);
            assertEquals(ss / loaded.size(), n.std()[c], 1e-5);
        }
        assertTrue(n.mean()[0] > n.mean()[2], "red brighter than blue in fundus images: " + n);
    }

    @Test void emptyFolderAndMissingFolders() throws Exception {
        Files.createDirectories(tmp.resolve("train/images"));
        Files.createDirectories(tmp.resolve("train/masks"));
        Files.writeString(tmp.resolve("train/images/README.txt"), "not an image");
        DataException e = assertThrows(DataException.class, () -> Dataset.open(tmp, "train", true, null));
        assertTrue(e.getMessage().contains("holds no images"), e.getMessage());
        e = assertThrows(DataException.class, () -> Dataset.open(tmp, "test", true, null));
        assertTrue(e.getMessage().contains(tmp.resolve("test/images").toString()), e.getMessage());
    }

    @Test void missingMaskNamesTheImage() throws Exception {
        Path img = Fixtures.write(Fixtures.randomRgb(70, 66, 1), "png", tmp.resolve("train/images/a.png"));
        Fixtures.write(Fixtures.randomRgb(70, 66, 2), "png", tmp.resolve("train/images/b.png"));
        Fixtures.write(Fixtures.gray(70, 66, new int[70 * 66]), "png", tmp.resolve("train/masks/b.png"));
        DataException e = assertThrows(DataException.class, () -> Dataset.open(tmp, "train", true, null));
        assertTrue(e.getMessage().contains(img.toString()), e.getMessage());
        // without requireMasks (prediction) the image is kept, maskless
        Dataset ds = Dataset.open(tmp, "train", false, null);
        assertNull(ds.samples().get(0).mask());
        assertNotNull(ds.samples().get(1).mask());
    }

    /** x.png and x.jpg would both take mask x.png (and share one sample id): refused, naming both. */
    @Test void twoImagesWithOneStemAreRefusedNamingBoth() throws Exception {
        Path png = Fixtures.write(Fixtures.randomRgb(70, 66, 1), "png", tmp.resolve("train/images/x.png"));
        Path jpg = Fixtures.write(Fixtures.randomRgb(70, 66, 1), "jpeg", tmp.resolve("train/images/x.jpg"));
        Fixtures.write(Fixtures.gray(70, 66, new int[70 * 66]), "png", tmp.resolve("train/masks/x.png"));
        for (boolean requireMasks : new boolean[] {true, false}) {
            DataException e = assertThrows(DataException.class, () -> Dataset.open(tmp, "train", requireMasks, null));
            assertTrue(e.getMessage().contains(png.toString()) && e.getMessage().contains(jpg.toString()), e.getMessage());
        }
    }

    /** A mask matched by prefix to two images (1.png and 1_a.png both take 1_a_manual.png) is refused. */
    @Test void oneMaskForTwoImagesIsRefused() throws Exception {
        Fixtures.write(Fixtures.randomRgb(70, 66, 1), "png", tmp.resolve("train/images/1.png"));
        Fixtures.write(Fixtures.randomRgb(70, 66, 2), "png", tmp.resolve("train/images/1_a.png"));
        Path mask = Fixtures.write(Fixtures.gray(70, 66, new int[70 * 66]), "png", tmp.resolve("train/masks/1_a_manual.png"));
        DataException e = assertThrows(DataException.class, () -> Dataset.open(tmp, "train", true, null));
        assertTrue(e.getMessage().contains(mask.toString()) && e.getMessage().contains("1.png") && e.getMessage().contains("1_a.png"),
                e.getMessage());
    }

    /**
     * Image a.png has no mask; a_1.png's mask a_1.png is named exactly after it and is never a's by
     * prefix: a is the image without a mask (train refuses naming it, evaluate lists it), where
     * before the whole set was refused as "mask a_1.png matches two images".
     */
    @Test void aMaskNamedAfterAnotherImageIsNotTakenByPrefix() throws Exception {
        Path a = Fixtures.write(Fixtures.randomRgb(70, 66, 1), "png", tmp.resolve("train/images/a.png"));
        Fixtures.write(Fixtures.randomRgb(70, 66, 2), "png", tmp.resolve("train/images/a_1.png"));
        Path mask = Fixtures.write(Fixtures.gray(70, 66, new int[70 * 66]), "png", tmp.resolve("train/masks/a_1.png"));
        Dataset ds = Dataset.open(tmp, "train", false, null);
        assertNull(ds.samples().get(0).mask());
        assertEquals(mask, ds.samples().get(1).mask());
        DataException e = assertThrows(DataException.class, () -> Dataset.open(tmp, "train", true, null));
        assertTrue(e.getMessage().startsWith("no mask for image " + a), e.getMessage());
    }

    @Test void prefixMatchIsNotFooledByNumbers() throws Exception {
        List<Path> masks = List.of(Path.of("m/10_manual1.gif"), Path.of("m/1_manual1.gif"), Path.of("m/1.png"));
        assertEquals(Path.of("m/1.png"), Dataset.match("1", masks, "mask", Path.of("1.tif")));
        assertEquals(Path.of("m/10_manual1.gif"), Dataset.match("10", masks.subList(0, 2), "mask", Path.of("10.tif")));
        assertEquals(Path.of("m/1_manual1.gif"), Dataset.match("1", masks.subList(0, 2), "mask", Path.of("1.tif")));
        assertNull(Dataset.match("2", masks, "mask", Path.of("2.tif")));
        List<Path> two = List.of(Path.of("m/3_a.png"), Path.of("m/3_b.png"));
        DataException e = assertThrows(DataException.class, () -> Dataset.match("3", two, "mask", Path.of("3.tif")));
        assertTrue(e.getMessage().contains("ambiguous"), e.getMessage());
    }

    @Test void maskSizeMismatchAndSmallImageAreRefused() throws Exception {
        Path img = Fixtures.write(Fixtures.randomRgb(71, 65, 1), "png", tmp.resolve("train/images/a.png"));
        Path mask = Fixtures.write(Fixtures.gray(70, 65, new int[70 * 65]), "png", tmp.resolve("train/masks/a_mask.bmp"));
        Dataset ds = Dataset.open(tmp, "train", true, null);
        DataException e = assertThrows(DataException.class, () -> DataCheck.run(ds, 2, 3, 64));
        assertTrue(e.getMessage().contains(mask.toString()) && e.getMessage().contains(img.toString())
                && e.getMessage().contains("70×65") && e.getMessage().contains("71×65"), e.getMessage());
        Path small = Fixtures.write(Fixtures.randomRgb(40, 90, 1), "png", tmp.resolve("s/train/images/x.png"));
        Fixtures.write(Fixtures.gray(40, 90, new int[40 * 90]), "png", tmp.resolve("s/train/masks/x.png"));
        Dataset sds = Dataset.open(tmp.resolve("s"), "train", true, null);
        e = assertThrows(DataException.class, () -> DataCheck.run(sds, 2, 3, 64));
        assertTrue(e.getMessage().contains(small.toString()) && e.getMessage().contains("smaller"), e.getMessage());
    }

    @Test void grayImagesAreReplicatedForRgbModels() throws Exception {
        int[] v = Fixtures.randomLabels(66 * 64, 256, 12);
        Fixtures.write(Fixtures.gray(66, 64, v), "png", tmp.resolve("train/images/g.png"));
        Fixtures.write(Fixtures.gray(66, 64, new int[66 * 64]), "png", tmp.resolve("train/masks/g.png"));
        Sample s = Dataset.open(tmp, "train", true, null).samples().get(0);
        LoadedSample ls = LoadedSample.load(s, 2, 3, 64);
        assertEquals(3, ls.image().channels());
        assertEquals(v[100], ls.image().get(2, 100 / 66, 100 % 66));
        assertEquals(1, LoadedSample.load(s, 2, 0, 64).image().channels());
    }
}
