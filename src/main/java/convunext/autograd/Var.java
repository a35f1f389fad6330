package convunext.autograd;

import convunext.tensor.Tensor;

/**
 * A tensor in the graph: its value, and (after backward) its gradient. Parameters hold a
 * persistent gradient buffer (a view into the flat gradient buffer) that backward accumulates
 * into; other variables get a gradient tensor that the tape frees when it is done.
 */
public final class Var {
    public final Tensor value;
    public final boolean requiresGrad;
    /** Accumulated d loss / d value, or null. */
    Tensor grad;
    /** True when {@code grad} is a persistent buffer owned elsewhere (parameters). */
    final boolean persistentGrad;
    public final String name;
    /**
     * Training BatchNorm statistics of {@code value} summed by the op that produced it
     * ({@link F#batchnormAddGelu} with statsOut; the tape owns them), which {@link F#batchnormTrain}
     * of this Var hands to the backend instead of summing them again; null when none.
     */
    Tensor bnStats;

    private Var(Tensor value, boolean requiresGrad, Tensor grad, boolean persistentGrad, String name) {
        this.value = value;
        this.requiresGrad = requiresGrad;
        this.grad = grad;
        this.persistentGrad = persistentGrad;
        this.name = name;
    }

    /** A value that needs no gradient (an input, a constant). */
    public static Var constant(Tensor value) { return new Var(value, false, null, false, null); }

    /** An intermediate result of an op. */
    static Var result(Tensor value, boolean requiresGrad) { return new Var(value, requiresGrad, null, false, null); }

    /** A parameter whose gradient accumulates into {@code gradBuffer} (zeroed by the optimiser). */
    public static Var parameter(String name, Tensor value, Tensor gradBuffer) {
        return new Var(value, true, gradBuffer, true, name);
    }

    public Tensor grad() { return grad; }

    public int[] shape() { return value.shape(); }

    @Override public String toString() { return (name == null ? "Var" : name) + value.shapeString(); }
}
