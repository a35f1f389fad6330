package convunext.train;

import convunext.data.Normalization;
import convunext.data.Sample;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.zip.CRC32;

/** Metadata written into every checkpoint of a run, and the normalisation read back from it. */
public final class RunMeta {
    /**
     * The epoch's metrics.csv header and row, kept in the checkpoint so that a run killed between
     * writing last.safetensors and appending the row gets the row back on --resume.
     */
    public static final String METRICS_HEADER = "metrics.header", METRICS_ROW = "metrics.row";

    /**
     * Run settings besides the recipe that --resume must reuse for the uninterrupted run's bits:
     * the held-out fraction (which images train), the step cap (steps per epoch and so the LR
     * schedule) and the validation period (which epochs can become best.safetensors).
     */
    public static final String VAL_SPLIT = "train.val_split", MAX_STEPS_PER_EPOCH = "train.max_steps_per_epoch",
            VAL_EVERY = "train.val_every";

    /**
     * Which images the run trains and validates on: counts and a CRC-32 of their ids and file sizes.
     * --resume on other data (a folder added to, a wrong --data) cannot give the uninterrupted run's
     * bits, and without this it continued without a word; now it says so, as for a changed option.
     */
    public static final String DATA = "train.data";

    private RunMeta() {}

    /** The {@link #DATA} value for these samples (listing order; an unreadable size counts as -1). */
    public static String dataKey(List<Sample> train, List<Sample> val) {
        return "train " + train.size() + " images (crc32 " + crc(train) + "), validation " + val.size() + " (crc32 " + crc(val) + ")";
    }

    private static String crc(List<Sample> samples) {
        CRC32 c = new CRC32();
        for (Sample s : samples) {
            String line = s.id() + "\t" + size(s.image()) + "\t" + size(s.mask()) + "\t" + size(s.roi()) + "\n";
            c.update(line.getBytes(StandardCharsets.UTF_8));
        }
        return String.format(Locale.ROOT, "%08x", c.getValue());
    }

    private static long size(Path f) {
        if (f == null) return 0;
        try {
            return Files.size(f);
        } catch (IOException e) {
            return -1;
        }
    }

    public static Map<String, String> of(TrainOptions o, Recipe r, Normalization n, int epoch, double best, int bestEpoch) {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("epoch", Integer.toString(epoch));
        m.put("best_dice", Double.toString(best));
        m.put("best_epoch", Integer.toString(bestEpoch));
        m.put("norm_mean", join(n.mean()));
        m.put("norm_std", join(n.std()));
        m.put("seed", Long.toString(o.seed()));
        m.put("rng", "sample order: SplittableRandom(key(seed, epoch, -1)); augmentation of the sample at position i: "
                + "SplittableRandom(key(seed, epoch, i)) (TrainBatches.key)");
        m.put("train.epochs", Integer.toString(o.epochs()));
        m.put("train.batch", Integer.toString(o.batch()));
        m.put("train.crop", Integer.toString(o.crop()));
        // train.base_size, train.scale_min, train.scale_max: the scale inference runs at by default.
        new TrainingScale(o.baseSize(), r.minScale(), r.maxScale()).put(m);
        m.put("train.lr", Double.toString(o.lr()));
        m.put("train.weight_decay", Double.toString(o.weightDecay()));
        m.put(VAL_SPLIT, Double.toString(o.valSplit()));
        m.put(MAX_STEPS_PER_EPOCH, Integer.toString(o.maxStepsPerEpoch()));
        m.put(VAL_EVERY, Integer.toString(o.valEvery()));
        m.put("schedule", String.format(Locale.ROOT, "linear warm-up %d epoch(s) from %s, then (1-progress)^0.9 per step",
                r.warmupEpochs(), Double.toString(r.warmupFactor())));
        m.put("augment", String.format(Locale.ROOT, "short side U(%s, %s) x base_size, flips p %s, crop", Double.toString(r.minScale()),
                Double.toString(r.maxScale()), Double.toString(r.flipP())));
        return m;
    }

    /** The normalisation a checkpoint was trained with (norm_mean / norm_std metadata). */
    public static Normalization normalization(Map<String, String> meta, Path file) {
        String mean = meta.get("norm_mean"), std = meta.get("norm_std");
        if (mean == null || std == null)
            throw new IllegalArgumentException(file + ": checkpoint has no normalisation statistics (norm_mean/norm_std)");
        try {
            return new Normalization(parse(mean), parse(std));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(file + ": bad normalisation statistics norm_mean '" + mean + "', norm_std '" + std + "'");
        }
    }

    private static String join(float[] a) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < a.length; i++) b.append(i > 0 ? "," : "").append(a[i]);
        return b.toString();
    }

    private static float[] parse(String s) {
        String[] p = s.split(",");
        float[] a = new float[p.length];
        for (int i = 0; i < p.length; i++) {
            a[i] = Float.parseFloat(p[i].trim());
            if (!Float.isFinite(a[i])) throw new IllegalArgumentException("not finite");
        }
        return a;
    }
}
