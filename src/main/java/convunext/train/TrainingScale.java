package convunext.train;

import convunext.data.AugmentConfig;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The scale a checkpoint was trained at: {@code train} resizes each image so its short side is an
 * integer drawn uniformly from [⌊minScale·baseSize⌋, ⌊maxScale·baseSize⌋] ({@link AugmentConfig}),
 * then crops. Stored in the checkpoint's metadata as {@code train.base_size},
 * {@code train.scale_min} and {@code train.scale_max}.
 *
 * <p>Inference's default target ({@link #centre()}) is the geometric centre of that range,
 * baseSize·√(minScale·maxScale) (561 px for 512 × 0.8–1.5): the scale with the same ratio to
 * both ends of what the model saw (0.73× the largest, 1.37× the smallest at the reference
 * recipe), so an image whose objects are a little larger or smaller than the training images'
 * still lands inside the trained range.
 */
public record TrainingScale(int baseSize, double minScale, double maxScale) {
    public static final String BASE_SIZE = "train.base_size", SCALE_MIN = "train.scale_min", SCALE_MAX = "train.scale_max";

    /** {@link RunMeta}'s human-readable recipe line, which checkpoints held before the numeric keys. */
    private static final Pattern LEGACY = Pattern.compile("short side U\\(([^,()]+), ([^,()]+)\\) x base_size\\b.*");

    public TrainingScale {
        if (baseSize <= 0 || !(minScale > 0) || !(maxScale >= minScale) || !Double.isFinite(maxScale))
            throw new IllegalArgumentException("bad training scale: base_size " + baseSize + ", scale " + minScale + "–" + maxScale);
    }

    /** The smallest short side training drew. */
    public int minShortSide() { return augment().minShortSide(); }

    /** The largest short side training drew. */
    public int maxShortSide() { return augment().maxShortSide(); }

    /** Whether a short side of {@code side} pixels is one training drew. */
    public boolean contains(int side) { return side >= minShortSide() && side <= maxShortSide(); }

    /** The default inference short side: baseSize·√(minScale·maxScale), rounded. */
    public int centre() {
        // Saturates (a checkpoint's metadata may say anything): a cast of a long would wrap negative.
        return (int) Math.min(Integer.MAX_VALUE, Math.round(baseSize * Math.sqrt(minScale * maxScale)));
    }

    private AugmentConfig augment() { return new AugmentConfig(baseSize, minScale, maxScale, 1, 0); }

    /** The metadata entries {@code train} writes. */
    public void put(Map<String, String> meta) {
        meta.put(BASE_SIZE, Integer.toString(baseSize));
        meta.put(SCALE_MIN, Double.toString(minScale));
        meta.put(SCALE_MAX, Double.toString(maxScale));
    }

    /**
     * The training scale a checkpoint's metadata records, or null when it records none (a PyTorch
     * export, a checkpoint of an older {@code train}). Reads the numeric keys, or else the recipe
     * line {@code augment} ("short side U(0.8, 1.5) x base_size, …") that earlier versions wrote
     * beside {@code train.base_size}. A value that is there but unreadable is refused naming it.
     */
    public static TrainingScale of(Map<String, String> meta, Path file) {
        String base = meta.get(BASE_SIZE);
        if (base == null) return null;
        String lo = meta.get(SCALE_MIN), hi = meta.get(SCALE_MAX);
        String where = SCALE_MIN + "/" + SCALE_MAX;
        if (lo == null || hi == null) {
            String line = meta.get("augment");
            Matcher m = line == null ? null : LEGACY.matcher(line.strip());
            if (m == null || !m.matches()) return null;
            lo = m.group(1);
            hi = m.group(2);
            where = "augment";
        }
        try {
            return new TrainingScale(Integer.parseInt(base.strip()), Double.parseDouble(lo.strip()), Double.parseDouble(hi.strip()));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(file + ": bad training scale in the metadata (" + BASE_SIZE + " '" + base + "', "
                    + where + " '" + lo + "', '" + hi + "')");
        }
    }

    @Override public String toString() {
        return String.format(Locale.ROOT, "short side %d–%d px (%d × %s–%s)", minShortSide(), maxShortSide(), baseSize,
                fmt(minScale), fmt(maxScale));
    }

    static String fmt(double v) {
        return v == Math.rint(v) && Math.abs(v) < 1e9 ? Long.toString((long) v) : Double.toString(v);
    }
}
