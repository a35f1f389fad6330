package convunext.backend.cpu;

import static convunext.backend.OpShapes.of;

import convunext.backend.OpShapes;
import convunext.tensor.Tensor;

/**
 * torch.optim.AdamW (decoupled decay, bias-corrected), in place, in torch's order of float
 * operations. The element loop is {@link SimdOps#adamw}: scalar, or the same IEEE operations
 * lane by lane (products, sums, a square root and quotients, each correctly rounded: the same bits).
 */
final class CpuAdamW {
    private CpuAdamW() {}

    /**
     * One step's float scalars, formed once per step: m = m·beta1 + ob1·g, v = v·beta2 + ob2·g·g,
     * p = p·decay − stepSize·(m / (√v / bc2Sqrt + eps)).
     */
    record Coeffs(float beta1, float beta2, float ob1, float ob2, float bc2Sqrt, float eps, float decay, float stepSize) {}

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
        Coeffs k = new Coeffs(beta1, beta2, (float) (1 - b1), (float) (1 - b2), bc2Sqrt, eps, decay, stepSize);
        float[] pa = p.array(), ga = g.array(), ma = m.array(), va = v.array();
        int po = p.off(), go = g.off(), mo = m.off(), vo = v.off();
        CpuThreads.chunks(p.size(), 1 << 16, 2, (a, b) -> SimdOps.BEST.adamw(k, pa, po + a, ga, go + a, ma, mo + a, va, vo + a, b - a));
    }
}
