package convunext.data;

import static org.junit.jupiter.api.Assertions.*;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Augmentation and batch order are pure functions of (seed, epoch, index): the same for any batch
 * size, on the loader's background thread or not, computed in any order, and in a new JVM
 * (the key is fixed arithmetic, pinned below).
 */
class TrainBatchesDeterminismTest {
    static final Normalization NORM = BatchLoaderTest.NORM;

    /** Per-sample crops (image and target) of one epoch, in order, from batches of {@code batch}. */
    static List<float[]> samples(SampleCache data, int batch, int epoch, boolean background) {
        Augmenter aug = new Augmenter(convunext.train.Recipe.REFERENCE.augment(96, 64), NORM);
        List<float[]> out = new ArrayList<>();
        java.util.Iterator<Batch> it = new TrainBatches(data, aug, batch, false, 42, epoch);
        BatchLoader bl = background ? new BatchLoader(it, 2) : null;
        try {
            if (bl != null) it = bl;
            while (it.hasNext()) {
                Batch b = it.next();
                int n = 3 * 64 * 64, t = 64 * 64;
                for (int k = 0; k < b.size(); k++) {
                    float[] s = new float[n + t];
                    System.arraycopy(b.images(), k * n, s, 0, n);
                    System.arraycopy(b.targets(), k * t, s, n, t);
                    out.add(s);
                }
            }
        } finally {
            if (bl != null) bl.close();
        }
        return out;
    }

    @Test void samplesDependOnlyOnSeedEpochAndIndex() {
        SampleCache data = BatchLoaderTest.synthetic(true);
        List<float[]> ref = samples(data, 1, 3, false);
        assertEquals(7, ref.size());
        for (int batch : new int[] {2, 3, 7})
            for (boolean bg : new boolean[] {false, true}) {
                List<float[]> got = samples(BatchLoaderTest.synthetic(bg), batch, 3, bg);
                assertEquals(ref.size(), got.size());
                for (int i = 0; i < ref.size(); i++)
                    assertArrayEquals(ref.get(i), got.get(i), "batch " + batch + (bg ? " (background)" : "") + ", sample " + i);
            }
        // another epoch or seed gives other crops; the same (seed, epoch) again gives the same bits
        assertFalse(java.util.Arrays.equals(ref.get(0), samples(data, 1, 4, false).get(0)));
        for (int i = 0; i < ref.size(); i++) assertArrayEquals(ref.get(i), samples(data, 1, 3, false).get(i));
    }

    @Test void theKeyIsFixedArithmetic() {
        // Pinned values: a change here changes every run's data, and must be deliberate.
        assertArrayEquals(new int[] {1, 4, 0, 2, 6, 3, 5}, TrainBatches.order(7, 42, 3));
        assertEquals(-1164851971601662126L, TrainBatches.key(42, 3, 5));
        SplittableRandom a = TrainBatches.sampleRandom(42, 3, 5), b = TrainBatches.sampleRandom(42, 3, 5);
        assertEquals(a.nextLong(), b.nextLong());
        assertNotEquals(TrainBatches.key(42, 3, 5), TrainBatches.key(42, 5, 3));
        assertNotEquals(TrainBatches.key(42, 0, -1), TrainBatches.key(43, 0, -1));
    }

    @Test void batchCountIsStatic() {
        assertEquals(5, TrainBatches.count(16, 3, true));
        assertEquals(6, TrainBatches.count(16, 3, false));
        assertEquals(1, TrainBatches.count(4, 4, true));
        DataException e = assertThrows(DataException.class, () -> TrainBatches.count(3, 4, true));
        assertTrue(e.getMessage().contains("--batch 4") && e.getMessage().contains("3 training images"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> TrainBatches.count(3, 0, false));
    }
}
