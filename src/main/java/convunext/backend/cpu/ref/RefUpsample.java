package convunext.backend.cpu.ref;

import convunext.backend.OpShapes;

/** Bilinear ×2 upsampling (align_corners=True) and its adjoint in float64, mirroring {@code Backend.upsample2x}. */
public final class RefUpsample {
    private RefUpsample() {}

    /**
     * Source coordinate of output row/column {@code o} for a ×2 upsampling with
     * align_corners=True: o·(n−1)/(2n−1) (0 when n = 1, as PyTorch).
     */
    public static double sourceCoord(int o, int n) {
        return n == 1 ? 0 : (double) o * (n - 1) / (2 * n - 1);
    }

    /** Bilinear ×2 with align_corners=True: [N,C,H,W] → [N,C,2H,2W]. */
    public static D upsample2x(D x) {
        OpShapes.upsample2x(x.shape);
        int n = x.dim(0), c = x.dim(1), h = x.dim(2), w = x.dim(3);
        D y = new D(n, c, 2 * h, 2 * w);
        for (int in = 0; in < n; in++)
            for (int ch = 0; ch < c; ch++)
                for (int oy = 0; oy < 2 * h; oy++) {
                    double sy = sourceCoord(oy, h);
                    int y0 = (int) Math.floor(sy), y1 = Math.min(y0 + 1, h - 1);
                    double ly = sy - y0;
                    for (int ox = 0; ox < 2 * w; ox++) {
                        double sx = sourceCoord(ox, w);
                        int x0 = (int) Math.floor(sx), x1 = Math.min(x0 + 1, w - 1);
                        double lx = sx - x0;
                        double v = (1 - ly) * ((1 - lx) * x.get(in, ch, y0, x0) + lx * x.get(in, ch, y0, x1))
                                + ly * ((1 - lx) * x.get(in, ch, y1, x0) + lx * x.get(in, ch, y1, x1));
                        y.set(in, ch, oy, ox, v);
                    }
                }
        return y;
    }

    /** Adjoint of upsample2x: dy [N,C,2H,2W] → dx [N,C,H,W] (each output scatters its 4 weights). */
    public static D upsample2xBackward(D dy) {
        OpShapes.upsample2xBackward(dy.shape);
        int n = dy.dim(0), c = dy.dim(1), h = dy.dim(2) / 2, w = dy.dim(3) / 2;
        D dx = new D(n, c, h, w);
        for (int in = 0; in < n; in++)
            for (int ch = 0; ch < c; ch++)
                for (int oy = 0; oy < 2 * h; oy++) {
                    double sy = sourceCoord(oy, h);
                    int y0 = (int) Math.floor(sy), y1 = Math.min(y0 + 1, h - 1);
                    double ly = sy - y0;
                    for (int ox = 0; ox < 2 * w; ox++) {
                        double sx = sourceCoord(ox, w);
                        int x0 = (int) Math.floor(sx), x1 = Math.min(x0 + 1, w - 1);
                        double lx = sx - x0;
                        double g = dy.get(in, ch, oy, ox);
                        dx.data[dx.idx(in, ch, y0, x0)] += g * (1 - ly) * (1 - lx);
                        dx.data[dx.idx(in, ch, y0, x1)] += g * (1 - ly) * lx;
                        dx.data[dx.idx(in, ch, y1, x0)] += g * ly * (1 - lx);
                        dx.data[dx.idx(in, ch, y1, x1)] += g * ly * lx;
                    }
                }
        return dx;
    }
}
