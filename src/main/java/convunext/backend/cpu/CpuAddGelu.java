package convunext.backend.cpu;

import static convunext.backend.OpShapes.of;

import convunext.backend.OpShapes;
import convunext.tensor.Tensor;

/**
 * The residual add and the exact GELU in one pass (ConvNeXt's block output gelu(x + branch)),
 * bit for bit gelu(add(a, b)) at the same thread count.
 */
final class CpuAddGelu {
    private CpuAddGelu() {}

    /**
     * Floats per add-then-GELU step of {@link #addGelu}: the sum (4 KiB) stays in L1 between its
     * write and GELU's read. A multiple of the vector lengths (4, 8, 16 floats), so each chunk's
     * vector/scalar split, hence every bit of the result, is the one {@link CpuGelu#gelu} gives on the sum.
     */
    private static final int ADD_GELU_STEP = 1024;

    /**
     * {out = gelu(a + b), pre = a + b (null unless keepPre)} in one pass: per step of
     * {@link #ADD_GELU_STEP} floats the sum is written (to pre, else to out) and {@code ops.gelu}
     * (the unfused op's code) turns it into out while it is in L1. Chunks as {@link CpuGelu#gelu}'s, so
     * the result equals gelu(add(a, b)) bit for bit at the same thread count; no scratch arrays.
     */
    static Tensor[] addGelu(CpuBackend be, Tensor a, Tensor b, boolean keepPre, SimdOps ops) {
        OpShapes.addGelu(of(a), of(b));
        Tensor out = be.empty(a.shape()), pre = keepPre ? be.empty(a.shape()) : null;
        Tensor s = keepPre ? pre : out;
        float[] aa = a.array(), ba = b.array(), sa = s.array(), oa = out.array();
        int ao = a.off(), bo = b.off(), so = s.off(), oo = out.off();
        CpuThreads.chunks(a.size(), CpuGelu.GRAIN, 2, (lo, hi) -> {
            for (int i = lo; i < hi; i += ADD_GELU_STEP)
                step(aa, ao + i, ba, bo + i, sa, so + i, oa, oo + i, Math.min(hi, i + ADD_GELU_STEP) - i, ops);
        });
        return new Tensor[] {out, pre};
    }

    /**
     * One step in cache: pre = a + b, then out = gelu(pre) by ops.gelu (pre may be a or b, out may be
     * pre). An element's value does not depend on where it falls in a vector, so the fused callers
     * (the MLP's epilogue, BatchNorm's affine pass) get addGelu's bits whatever their step.
     */
    static void step(float[] a, int ao, float[] b, int bo, float[] pre, int po, float[] out, int oo, int n, SimdOps ops) {
        CpuAdd.add(a, ao, b, bo, pre, po, n);
        ops.gelu(pre, po, out, oo, n);
    }
}
