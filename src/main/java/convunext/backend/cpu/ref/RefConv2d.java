package convunext.backend.cpu.ref;

import convunext.backend.OpShapes;

/**
 * Dense 2-D convolution (PyTorch cross-correlation) in float64, mirroring
 * {@code Backend.conv2d/conv2dBackward}. x [N,Ci,H,W], w [Co,Ci,kh,kw], b [Co] or null, output
 * [N,Co,(H+2p−kh)/s+1,(W+2p−kw)/s+1]. Padding is by zeros or, when {@code reflect}, by reflection
 * without repeating the edge (PyTorch 'reflect': index −1 reads 1, index H reads H−2; p &lt; H, W).
 */
public final class RefConv2d {
    private RefConv2d() {}

    /**
     * Source index of padded coordinate {@code i} (may be negative or ≥ n) along an axis of
     * length n, or −1 when it falls in the zero padding.
     */
    public static int source(int i, int n, boolean reflect) {
        if (i >= 0 && i < n) return i;
        if (!reflect) return -1;
        int r = i < 0 ? -i : 2 * (n - 1) - i;
        if (r < 0 || r >= n) throw new IllegalArgumentException("reflect padding: index " + i + " out of reach for size " + n);
        return r;
    }

    /** y = conv(x, w) + b. b may be null. */
    public static D conv2d(D x, D w, D b, int stride, int pad, boolean reflect) {
        int[] ys = OpShapes.conv2d(x.shape, w.shape, b == null ? null : b.shape, stride, pad, reflect);
        int n = x.dim(0), ci = x.dim(1), h = x.dim(2), wd = x.dim(3);
        int co = w.dim(0), kh = w.dim(2), kw = w.dim(3);
        int ho = ys[2], wo = ys[3];
        D y = new D(n, co, ho, wo);
        for (int in = 0; in < n; in++)
            for (int o = 0; o < co; o++)
                for (int oy = 0; oy < ho; oy++)
                    for (int ox = 0; ox < wo; ox++) {
                        double s = b == null ? 0 : b.data[o];
                        for (int c = 0; c < ci; c++)
                            for (int ky = 0; ky < kh; ky++) {
                                int iy = source(oy * stride - pad + ky, h, reflect);
                                if (iy < 0) continue;
                                for (int kx = 0; kx < kw; kx++) {
                                    int ix = source(ox * stride - pad + kx, wd, reflect);
                                    if (ix < 0) continue;
                                    s += w.get(o, c, ky, kx) * x.get(in, c, iy, ix);
                                }
                            }
                        y.set(in, o, oy, ox, s);
                    }
        return y;
    }

    /**
     * Gradients of Σ dy⊙conv2d(x,w,b): {dx (null unless needDx), dw [Co,Ci,kh,kw],
     * db [Co] (null unless hasBias)}. With reflection, padded taps add into their source pixel.
     */
    public static D[] conv2dBackward(D x, D w, D dy, int stride, int pad, boolean reflect,
                                     boolean needDx, boolean hasBias) {
        OpShapes.conv2dBackward(x.shape, w.shape, dy.shape, stride, pad, reflect);
        int n = x.dim(0), ci = x.dim(1), h = x.dim(2), wd = x.dim(3);
        int co = w.dim(0), kh = w.dim(2), kw = w.dim(3);
        int ho = dy.dim(2), wo = dy.dim(3);
        D dx = needDx ? new D(x.shape) : null;
        D dw = new D(w.shape);
        D db = hasBias ? new D(co) : null;
        for (int in = 0; in < n; in++)
            for (int o = 0; o < co; o++)
                for (int oy = 0; oy < ho; oy++)
                    for (int ox = 0; ox < wo; ox++) {
                        double g = dy.get(in, o, oy, ox);
                        if (db != null) db.data[o] += g;
                        for (int c = 0; c < ci; c++)
                            for (int ky = 0; ky < kh; ky++) {
                                int iy = source(oy * stride - pad + ky, h, reflect);
                                if (iy < 0) continue;
                                for (int kx = 0; kx < kw; kx++) {
                                    int ix = source(ox * stride - pad + kx, wd, reflect);
                                    if (ix < 0) continue;
                                    int wi = w.idx(o, c, ky, kx), xi = x.idx(in, c, iy, ix);
                                    dw.data[wi] += g * x.data[xi];
                                    if (dx != null) dx.data[xi] += g * w.data[wi];
                                }
                            }
                    }
        return new D[] {dx, dw, db};
    }
}
