package convunext.backend.cpu;

import convunext.tensor.Tensor;

/**
 * The GEMM-shaped ops (conv2d in every form, linear, the MLP) where an extent is 0: no image,
 * no pixel, no input channel (K = 0) or no output channel. Their fast paths assume every extent
 * is at least 1 (the narrow forward's register blocks, the MLP's pixel blocks, per-image loops
 * that start dW at the first image, and db summed by the dW GEMM as it streams dY, which does not
 * run without columns, Ci = 0), so each op returns here first, with the oracle's values (an empty
 * sum is 0): y = bias (0 without), dx = 0, dW = 0, db = Σ dY. Never on a normal shape.
 */
final class CpuEmptyShapes {
    private CpuEmptyShapes() {}

    /** Whether any of the extents is 0. */
    static boolean any(int... extents) {
        for (int e : extents) if (e == 0) return true;
        return false;
    }

    /** y [N,Co,...] = b[o] (0 where b is null) at every image and pixel: a product over K = 0 inputs. */
    static Tensor forward(CpuBackend be, int[] yShape, Tensor b) {
        Tensor y = be.zeros(yShape);
        if (b == null || y.size() == 0) return y;
        int n = yShape[0], co = yShape[1], p = y.spatial(2);
        float[] ya = y.array(), ba = b.array();
        for (int i = 0; i < n; i++)
            for (int o = 0; o < co; o++) {
                int at = y.off() + (i * co + o) * p;
                java.util.Arrays.fill(ya, at, at + p, ba[b.off() + o]);
            }
        return y;
    }

    /**
     * {dx (null unless needDx), dW, db (null unless hasBias)} of a product with an empty extent:
     * dx and dW are 0 (each term has an empty factor or there is none), db[o] = Σ dY[n,o,·] in
     * double, in order (the same bits at any thread count).
     */
    static Tensor[] backward(CpuBackend be, int[] xShape, int[] wShape, Tensor dy, boolean needDx, boolean hasBias) {
        Tensor dx = needDx ? be.zeros(xShape) : null, dw = be.zeros(wShape), db = null;
        if (hasBias) {
            int n = dy.dim(0), co = dy.dim(1), p = dy.spatial(2);
            db = be.zeros(co);
            float[] a = dy.array();
            for (int o = 0; o < co; o++) {
                double s = 0;
                for (int i = 0; i < n; i++)
                    for (int q = 0, at = dy.off() + (i * co + o) * p; q < p; q++) s += a[at + q];
                db.array()[db.off() + o] = (float) s;
            }
        }
        return new Tensor[]{dx, dw, db};
    }

    /**
     * {@link CpuMlp}'s forward with an empty extent, as its two linears (each returning here) and
     * GELU: {y, h, s} with s = gelu'(pre) as CpuMlp keeps it (h and s null unless keep); with res,
     * {gelu(res + y), null, null}.
     */
    static Tensor[] mlp(CpuBackend be, Tensor x, Tensor w1, Tensor b1, Tensor w2, Tensor b2, boolean keep, Tensor res, SimdOps ops) {
        Tensor pre = CpuLinear.forward(be, x, w1, b1);
        Tensor h = CpuGelu.gelu(be, pre), s = keep ? CpuBatchNorm.geluSlope(be, pre) : null;
        be.release(pre);
        Tensor y = CpuLinear.forward(be, h, w2, b2);
        if (!keep) be.release(h);
        if (res == null) return new Tensor[]{y, keep ? h : null, s};
        Tensor out = CpuAddGelu.addGelu(be, res, y, false, ops)[0];
        be.release(y);
        return new Tensor[]{out, null, null};
    }

    /** {@link CpuMlp}'s backward with an empty extent: the two linears' backwards, dpre = dh ⊙ s between them. */
    static Tensor[] mlpBackward(CpuBackend be, Tensor x, Tensor w1, Tensor w2, Tensor gy, Tensor h, Tensor s, boolean needDx,
                                boolean hasB1, boolean hasB2) {
        Tensor[] r2 = CpuLinear.backward(be, h, w2, gy, true, hasB2);
        Tensor dpre = r2[0];
        float[] d = dpre.array(), sa = s.array();
        for (int k = 0; k < dpre.size(); k++) d[dpre.off() + k] *= sa[s.off() + k];
        Tensor[] r1 = CpuLinear.backward(be, x, w1, dpre, needDx, hasB1);
        be.release(dpre);
        return new Tensor[]{r1[0], r1[1], r1[2], r2[1], r2[2]};
    }
}
