package convunext.backend.cpu;

import static convunext.backend.OpShapes.of;

import convunext.backend.OpShapes;
import convunext.tensor.Tensor;

/**
 * Linear with GELU as the GEMM's epilogue ({@link CpuGemm.Epilogue}), ConvNeXt's pwconv1 → GELU
 * and, backward, pwconv2's input gradient → GELU's: each MR×NC panel of C gets its GELU (or
 * GELU') while it is still in L1, instead of a second pass over the 4C-channel tensor in memory.
 * Forward per image (M=Co, K=Ci, N=H·W as in {@link CpuLinear}): with {@code keepPre} the GEMM
 * writes pre and the epilogue h = gelu(pre); without, the GEMM writes h and the epilogue applies
 * GELU in place. Backward: dpre = Wᵀ·dy, then dpre ⊙= gelu'(pre) in place (geluBackward is
 * element by element, so dx may alias dy).
 */
final class CpuLinearGelu {
    private CpuLinearGelu() {}

    static Tensor[] forward(CpuBackend be, Tensor x, Tensor w, Tensor b, boolean keepPre, SimdOps ops) {
        OpShapes.linearGelu(of(x), of(w), of(b));
        int n = x.dim(0), ci = x.dim(1), p = x.spatial(2);
        int co = w.dim(0);
        Tensor h = be.empty(n, co, x.dim(2), x.dim(3));
        Tensor pre = keepPre ? be.empty(h.shape()) : null;
        Tensor c = keepPre ? pre : h;
        float[] xa = x.array(), wa = w.array(), ba = b == null ? null : b.array(), ca = c.array(), ha = h.array();
        int xo = x.off(), wo = w.off(), bo = b == null ? 0 : b.off();
        for (int i = 0; i < n; i++) {
            int cBase = c.off() + i * co * p, hBase = h.off() + i * co * p;
            CpuGemm.gemm(co, p, ci, wa, wo, ci, 1, xa, xo + i * ci * p, p, 1, ca, cBase, p, false, ba, bo,
                    (i0, i1, j0, j1) -> {
                        for (int r = i0; r < i1; r++) ops.gelu(ca, cBase + r * p + j0, ha, hBase + r * p + j0, j1 - j0);
                    });
        }
        return new Tensor[] {h, pre};
    }

    static Tensor backwardData(CpuBackend be, Tensor w, Tensor dy, Tensor pre, SimdOps ops) {
        OpShapes.linearBackwardDataGelu(of(w), of(dy), of(pre));
        int n = pre.dim(0), ci = pre.dim(1), p = pre.spatial(2);
        int co = w.dim(0);
        Tensor dpre = be.empty(pre.shape());
        float[] wa = w.array(), ga = dy.array(), pa = pre.array(), da = dpre.array();
        int wo = w.off();
        for (int i = 0; i < n; i++) {
            int dBase = dpre.off() + i * ci * p, pBase = pre.off() + i * ci * p;
            // dpre[ci, p] = Wᵀ[ci, co]·dy[co, p], as CpuLinear's input gradient.
            CpuGemm.gemm(ci, p, co, wa, wo, 1, ci, ga, dy.off() + i * co * p, p, 1, da, dBase, p, false, null, 0,
                    (i0, i1, j0, j1) -> {
                        for (int r = i0; r < i1; r++) {
                            int d = dBase + r * p + j0;
                            ops.geluBackward(pa, pBase + r * p + j0, da, d, da, d, j1 - j0);
                        }
                    });
        }
        return dpre;
    }
}
