package convunext.backend.cpu;

import static convunext.backend.OpShapes.of;

import convunext.backend.OpShapes;
import convunext.tensor.Tensor;

/**
 * Exact GELU and its derivative, threaded over contiguous chunks ({@link SimdOps}; the erfc fit
 * has relative error below 1.2e-7 everywhere, so Φ(x) stays accurate in the far negative tail).
 * Every element's value is a function of its input alone ({@link FloatMath}), not of where a chunk
 * boundary falls, so results do not depend on the thread count.
 */
final class CpuGelu {
    private CpuGelu() {}

    /** Floats per task at least; {@link CpuAddGelu} chunks the same way (its bits equal gelu's). */
    static final int GRAIN = 1 << 14;

    static Tensor gelu(CpuBackend be, Tensor x) {
        Tensor y = be.empty(x.shape());
        float[] xa = x.array(), ya = y.array();
        int xo = x.off(), yo = y.off();
        CpuThreads.chunks(x.size(), GRAIN, 2, (a, b) -> SimdOps.BEST.gelu(xa, xo + a, ya, yo + a, b - a));
        return y;
    }

    static Tensor geluBackward(CpuBackend be, Tensor x, Tensor dy) {
        OpShapes.geluBackward(of(x), of(dy));
        Tensor dx = be.empty(x.shape());
        float[] xa = x.array(), ga = dy.array(), da = dx.array();
        int xo = x.off(), go = dy.off(), dxo = dx.off();
        CpuThreads.chunks(x.size(), GRAIN, 2, (a, b) -> SimdOps.BEST.geluBackward(xa, xo + a, ga, go + a, da, dxo + a, b - a));
        return dx;
    }
}
