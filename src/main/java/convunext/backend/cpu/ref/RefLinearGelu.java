package convunext.backend.cpu.ref;

import convunext.backend.OpShapes;

/**
 * Linear with GELU fused on either side, in float64, mirroring {@code Backend.linearGelu} and
 * {@code Backend.linearBackwardDataGelu}: the oracle for the GEMM epilogues that save a pass over
 * ConvNeXt's 4C-channel hidden tensor. Defined as the composition of {@link RefLinear} and
 * {@link RefGelu}, so any fused backend is tested against the unfused math.
 */
public final class RefLinearGelu {
    private RefLinearGelu() {}

    /** {h = gelu(pre), pre = linear(x, w, b) (null unless keepPre)}. */
    public static D[] linearGelu(D x, D w, D b, boolean keepPre) {
        OpShapes.linearGelu(x.shape, w.shape, b == null ? null : b.shape);
        D pre = RefLinear.linear(x, w, b);
        return new D[] {RefGelu.gelu(pre), keepPre ? pre : null};
    }

    /** dpre = (wᵀ·dy) ⊙ gelu'(pre); w [Co,Ci], dy [N,Co,H,W], pre [N,Ci,H,W]. */
    public static D linearBackwardDataGelu(D w, D dy, D pre) {
        OpShapes.linearBackwardDataGelu(w.shape, dy.shape, pre.shape);
        int n = pre.dim(0), ci = pre.dim(1), hw = pre.dim(2) * pre.dim(3), co = w.dim(0);
        D dpre = new D(pre.shape);
        for (int in = 0; in < n; in++)
            for (int i = 0; i < ci; i++)
                for (int p = 0; p < hw; p++) {
                    double s = 0;
                    for (int o = 0; o < co; o++) s += w.data[o * ci + i] * dy.data[(in * co + o) * hw + p];
                    int e = (in * ci + i) * hw + p;
                    dpre.data[e] = s * RefGelu.geluGrad(pre.data[e]);
                }
        return dpre;
    }
}
