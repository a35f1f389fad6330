package convunext.data;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.SplittableRandom;

/**
 * One epoch of augmented training batches as a pure function of (seed, epoch, index): the sample
 * order is a Fisher–Yates shuffle drawn from a generator keyed by (seed, epoch), and the sample at
 * position {@code index} of the epoch draws its augmentation from its own generator keyed by
 * (seed, epoch, index). Nothing depends on the batch size, on which thread computes a batch or
 * on what was computed before, so {@link BatchLoader}'s background thread, a resumed run and an
 * uninterrupted one see the same pixels.
 */
public final class TrainBatches implements Iterator<Batch> {
    private final SampleCache data;
    private final Augmenter aug;
    private final int batchSize;
    private final int[] order;
    private final int count;
    private final long seed;
    private final int epoch;
    private int next;

    public TrainBatches(SampleCache data, Augmenter aug, int batchSize, boolean dropLast, long seed, int epoch) {
        int n = data.size();
        int batches = count(n, batchSize, dropLast);
        this.data = data;
        this.aug = aug;
        this.batchSize = batchSize;
        this.seed = seed;
        this.epoch = epoch;
        this.order = order(n, seed, epoch);
        this.count = dropLast ? batches * batchSize : n;
    }

    /**
     * Batches in an epoch of {@code n} samples; with {@code dropLast} the incomplete last batch is
     * left out. Refuses a batch larger than the data set under drop-last (the epoch would be empty).
     */
    public static int count(int n, int batchSize, boolean dropLast) {
        if (batchSize <= 0) throw new IllegalArgumentException("batch size must be > 0, got " + batchSize);
        if (dropLast && n < batchSize)
            throw new DataException("--batch " + batchSize + " exceeds the " + n + " training images (incomplete batches are dropped)");
        return dropLast ? n / batchSize : (n + batchSize - 1) / batchSize;
    }

    /** The sample order of an epoch: a permutation of 0..n−1 keyed by (seed, epoch). */
    public static int[] order(int n, long seed, int epoch) {
        SplittableRandom rng = new SplittableRandom(key(seed, epoch, -1));
        int[] order = new int[n];
        for (int i = 0; i < n; i++) order[i] = i;
        for (int i = n - 1; i > 0; i--) {
            int j = rng.nextInt(i + 1);
            int t = order[i]; order[i] = order[j]; order[j] = t;
        }
        return order;
    }

    /** The augmentation generator of the sample at {@code index} in the epoch's order. */
    public static SplittableRandom sampleRandom(long seed, int epoch, int index) {
        return new SplittableRandom(key(seed, epoch, index));
    }

    /** Mixes (seed, epoch, index) into one 64-bit key (SplitMix64's finaliser per component). */
    static long key(long seed, long epoch, long index) {
        long h = mix(seed ^ 0x9E3779B97F4A7C15L);
        h = mix(h ^ (epoch + 0x632BE59BD9B4E019L));
        return mix(h ^ (index + 0x8CB92BA72F3D8DD7L));
    }

    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /** Batches in this epoch. */
    public int batches() { return (count + batchSize - 1) / batchSize; }

    @Override public boolean hasNext() { return next < count; }

    @Override public Batch next() {
        if (!hasNext()) throw new NoSuchElementException();
        int b = Math.min(batchSize, count - next);
        int s = aug.config().cropSize();
        int c = aug.normalization().channels();
        float[] img = new float[b * c * s * s];
        float[] tgt = new float[b * s * s];
        List<String> ids = new ArrayList<>(b);
        for (int k = 0; k < b; k++) {
            int index = next + k;
            LoadedSample ls = data.get(order[index]);
            aug.apply(ls, sampleRandom(seed, epoch, index), img, k * c * s * s, tgt, k * s * s);
            ids.add(ls.sample().id());
        }
        next += b;
        return new Batch(b, c, s, s, img, tgt, ids);
    }
}
