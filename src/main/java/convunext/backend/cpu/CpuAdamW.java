package convunext.backend.cpu;

import static convunext.backend.OpShapes.of;

import convunext.backend.OpShapes;
import convunext.tensor.Tensor;

/** torch.optim.AdamW (decoupled decay, bias-corrected), in place, in torch's order of float operations. */
final class CpuAdamW {
    private CpuAdamW() {}

    /** The shortest decimal that rounds to f, as a double. */
    private static double dec(float f) { return Double.parseDouble(Float.toString(f)); }

    static void step(Tensor p, Tensor g, Tensor m, Tensor v, float lr, float beta1, float beta2,
                     float eps, float weightDecay, int step) {
        OpShapes.adamw(of(p), of(g), of(m), of(v), step);
        // Scalars as torch forms them from Python doubles: recover the decimal the caller meant
        // (0.999f → 0.999) so that 1 − β2 is 0.001f and not 0.00099998713f.
        double b1 = dec(beta1), b2 = dec(beta2), lrD = dec(lr);
        float decay = (float) (1 - lrD * dec(weightDecay));
        float stepSize = (float) (lrD / (1 - Math.pow(b1, step)));
        float bc2Sqrt = (float) Math.sqrt(1 - Math.pow(b2, step));
        float ob1 = (float) (1 - b1), ob2 = (float) (1 - b2);
        float[] pa = p.array(), ga = g.array(), ma = m.array(), va = v.array();
        int po = p.off(), go = g.off(), mo = m.off(), vo = v.off();
        CpuThreads.chunks(p.size(), 1 << 16, 2, (a, b) -> {
            for (int i = a; i < b; i++) {
                float gi = ga[go + i];
                float mi = ma[mo + i] * beta1 + ob1 * gi;
                float vi = va[vo + i] * beta2 + ob2 * gi * gi;
                ma[mo + i] = mi;
                va[vo + i] = vi;
                float denom = (float) Math.sqrt(vi) / bc2Sqrt + eps;
                pa[po + i] = pa[po + i] * decay - stepSize * (mi / denom);
            }
        });
    }
}
