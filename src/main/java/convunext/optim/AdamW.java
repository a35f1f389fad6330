package convunext.optim;

import convunext.backend.Backend;
import convunext.nn.ParamStore;
import convunext.tensor.Tensor;

/**
 * torch.optim.AdamW over the model's flat parameter buffer: one fused update per step
 * (https://pytorch.org/docs/stable/generated/torch.optim.AdamW.html). Weight decay is decoupled
 * and applies to every parameter, as with AdamW(model.parameters()).
 */
public final class AdamW implements AutoCloseable {
    /** Weight decay of {@link #withDefaults} (the reference recipe's; train takes its own from train.Recipe). */
    public static final double DEFAULT_WD = 5e-5;

    private final ParamStore params;
    private final Backend backend;
    public final float beta1, beta2, eps, weightDecay;
    private final Tensor m, v;
    private int step;

    public AdamW(ParamStore params, float beta1, float beta2, float eps, float weightDecay) {
        this.params = params;
        this.backend = params.backend();
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.eps = eps;
        this.weightDecay = weightDecay;
        int n = Math.toIntExact(params.numParams());
        this.m = backend.zeros(n);
        this.v = backend.zeros(n);
    }

    public static AdamW withDefaults(ParamStore params) {
        return new AdamW(params, 0.9f, 0.999f, 1e-8f, (float) DEFAULT_WD);
    }

    /** Applies one update with learning rate {@code lr} using the accumulated gradients. */
    public void step(double lr) {
        step++;
        backend.adamw(params.flatParams(), params.flatGrads(), m, v, (float) lr, beta1, beta2, eps, weightDecay, step);
    }

    public int stepCount() { return step; }

    /** Optimiser state for checkpoints: first and second moments. */
    public float[] firstMoment() { return backend.download(m); }
    public float[] secondMoment() { return backend.download(v); }

    public void restore(float[] mHost, float[] vHost, int stepCount) {
        if (mHost.length != m.numel() || vHost.length != v.numel())
            throw new IllegalArgumentException("optimiser state has " + mHost.length + " moments, the model has " + m.numel() + " parameters");
        Tensor a = backend.upload(mHost, mHost.length), b = backend.upload(vHost, vHost.length);
        backend.copy(a, m);
        backend.copy(b, v);
        backend.release(a);
        backend.release(b);
        this.step = stepCount;
    }

    @Override public void close() {
        backend.release(m);
        backend.release(v);
    }
}
