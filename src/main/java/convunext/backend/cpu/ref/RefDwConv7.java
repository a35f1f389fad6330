package convunext.backend.cpu.ref;

import convunext.backend.OpShapes;

/**
 * Depthwise 7×7 convolution, reflect padding 3, stride 1, in float64, mirroring
 * {@code Backend.dwconv7}: x [N,C,H,W] (H,W ≥ 4), w [C,1,7,7], b [C].
 */
public final class RefDwConv7 {
    private RefDwConv7() {}

    private static final int K = 7, P = 3;

    public static D dwconv7(D x, D w, D b) {
        OpShapes.dwconv7(x.shape, w.shape, b == null ? null : b.shape);
        int n = x.dim(0), c = x.dim(1), h = x.dim(2), wd = x.dim(3);
        D y = new D(x.shape);
        for (int in = 0; in < n; in++)
            for (int ch = 0; ch < c; ch++)
                for (int oy = 0; oy < h; oy++)
                    for (int ox = 0; ox < wd; ox++) {
                        double s = b.data[ch];
                        for (int ky = 0; ky < K; ky++) {
                            int iy = RefConv2d.source(oy - P + ky, h, true);
                            for (int kx = 0; kx < K; kx++) {
                                int ix = RefConv2d.source(ox - P + kx, wd, true);
                                s += w.data[(ch * K + ky) * K + kx] * x.get(in, ch, iy, ix);
                            }
                        }
                        y.set(in, ch, oy, ox, s);
                    }
        return y;
    }

    /** {dx, dw [C,1,7,7], db [C]}. */
    public static D[] dwconv7Backward(D x, D w, D dy) {
        OpShapes.dwconv7Backward(x.shape, w.shape, dy.shape);
        int n = x.dim(0), c = x.dim(1), h = x.dim(2), wd = x.dim(3);
        D dx = new D(x.shape), dw = new D(w.shape), db = new D(c);
        for (int in = 0; in < n; in++)
            for (int ch = 0; ch < c; ch++)
                for (int oy = 0; oy < h; oy++)
                    for (int ox = 0; ox < wd; ox++) {
                        double g = dy.get(in, ch, oy, ox);
                        db.data[ch] += g;
                        for (int ky = 0; ky < K; ky++) {
                            int iy = RefConv2d.source(oy - P + ky, h, true);
                            for (int kx = 0; kx < K; kx++) {
                                int ix = RefConv2d.source(ox - P + kx, wd, true);
                                int wi = (ch * K + ky) * K + kx, xi = x.idx(in, ch, iy, ix);
                                dw.data[wi] += g * x.data[xi];
                                dx.data[xi] += g * w.data[wi];
                            }
                        }
                    }
        return new D[] {dx, dw, db};
    }
}
