package convunext.data;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.SplittableRandom;

/**
 * One epoch of augmented training batches, computed synchronously and deterministically from
 * (seed, epoch): the sample order is a Fisher–Yates shuffle, then each sample draws its
 * augmentation from the same generator in order. Wrap in {@link BatchLoader} to compute ahead
 * on a background thread (identical batches).
 */
public final class TrainBatches implements Iterator<Batch> {
    private final SampleCache data;
    private final Augmenter aug;
    private final int batchSize;
    private final int[] order;
    private final int count;
    private final SplittableRandom rng;
    private int next;

    public TrainBatches(SampleCache data, Augmenter aug, int batchSize, boolean dropLast, long seed, int epoch) {
        if (batchSize <= 0) throw new IllegalArgumentException("TrainBatches: batch size must be > 0, got " + batchSize);
        this.data = data;
        this.aug = aug;
        this.batchSize = batchSize;
        this.rng = new SplittableRandom(seed * 0x9E3779B97F4A7C15L + epoch);
        int n = data.size();
        order = new int[n];
        for (int i = 0; i < n; i++) order[i] = i;
        for (int i = n - 1; i > 0; i--) {
            int j = rng.nextInt(i + 1);
            int t = order[i]; order[i] = order[j]; order[j] = t;
        }
        count = dropLast ? n / batchSize * batchSize : n;
        if (count == 0)
            throw new DataException("batch size " + batchSize + " exceeds the " + n + " training images with drop-last");
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
            LoadedSample ls = data.get(order[next + k]);
            aug.apply(ls, rng, img, k * c * s * s, tgt, k * s * s);
            ids.add(ls.sample().id());
        }
        next += b;
        return new Batch(b, c, s, s, img, tgt, ids);
    }
}
