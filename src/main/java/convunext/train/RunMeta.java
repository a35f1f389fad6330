package convunext.train;

import convunext.data.Normalization;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/** Metadata written into every checkpoint of a run, and the normalisation read back from it. */
public final class RunMeta {
    private RunMeta() {}

    public static Map<String, String> of(TrainOptions o, Normalization n, int epoch, double best, int bestEpoch) {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("epoch", Integer.toString(epoch));
        m.put("best_dice", Double.toString(best));
        m.put("best_epoch", Integer.toString(bestEpoch));
        m.put("norm_mean", join(n.mean()));
        m.put("norm_std", join(n.std()));
        m.put("seed", Long.toString(o.seed()));
        m.put("rng", "batches: SplittableRandom(seed*0x9E3779B97F4A7C15 + epoch) per epoch");
        m.put("train.epochs", Integer.toString(o.epochs()));
        m.put("train.batch", Integer.toString(o.batch()));
        m.put("train.crop", Integer.toString(o.crop()));
        m.put("train.base_size", Integer.toString(o.baseSize()));
        m.put("train.lr", Double.toString(o.lr()));
        m.put("train.weight_decay", Double.toString(o.weightDecay()));
        m.put("schedule", "linear warm-up 1 epoch from 1e-3, then (1-progress)^0.9 per step");
        return m;
    }

    /** The normalisation a checkpoint was trained with (norm_mean / norm_std metadata). */
    public static Normalization normalization(Map<String, String> meta, Path file) {
        String mean = meta.get("norm_mean"), std = meta.get("norm_std");
        if (mean == null || std == null)
            throw new IllegalArgumentException(file + ": checkpoint has no normalisation statistics (norm_mean/norm_std)");
        return new Normalization(parse(mean), parse(std));
    }

    private static String join(float[] a) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < a.length; i++) b.append(i > 0 ? "," : "").append(a[i]);
        return b.toString();
    }

    private static float[] parse(String s) {
        String[] p = s.split(",");
        float[] a = new float[p.length];
        for (int i = 0; i < p.length; i++) a[i] = Float.parseFloat(p[i].trim());
        return a;
    }
}
