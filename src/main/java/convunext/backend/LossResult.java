package convunext.backend;

import convunext.tensor.Tensor;
import java.util.function.Supplier;

/**
 * Value of the CE + Dice loss, its two parts, and d loss / d logits. On a device the three values
 * may stay in device memory until first asked for ({@link #deferred}): a training step then runs
 * forward, backward and AdamW without waiting for the host, and the loss is read after the step
 * (which a captured, replayed step requires).
 */
public final class LossResult {
    private double loss, ce, dice;
    private Supplier<double[]> source;
    private final Tensor dlogits;

    public LossResult(double loss, double ce, double dice, Tensor dlogits) {
        this.loss = loss;
        this.ce = ce;
        this.dice = dice;
        this.dlogits = dlogits;
    }

    private LossResult(Supplier<double[]> source, Tensor dlogits) {
        this.source = source;
        this.dlogits = dlogits;
    }

    /** Values read by {@code source} ({loss, ce, dice}) on first access, once. */
    public static LossResult deferred(Supplier<double[]> source, Tensor dlogits) { return new LossResult(source, dlogits); }

    private void resolve() {
        if (source == null) return;
        double[] v = source.get();
        source = null;
        loss = v[0];
        ce = v[1];
        dice = v[2];
    }

    /** Whether the values are on the host already (no device read on access). */
    public boolean resolved() { return source == null; }

    public double loss() { resolve(); return loss; }

    public double ce() { resolve(); return ce; }

    public double dice() { resolve(); return dice; }

    public Tensor dlogits() { return dlogits; }

    @Override public String toString() {
        return resolved() ? String.format("LossResult[loss=%s, ce=%s, dice=%s]", loss, ce, dice) : "LossResult[on the device]";
    }
}
