package convunext.backend.cpu.ref;

/**
 * Resampling and layout ops in float64, mirroring {@code Backend.upsample2x, pad2d, concat,
 * sliceChannels} and their adjoints.
 */
public final class RefResample {
    private RefResample() {}

    /**
     * Source coordinate of output row/column {@code o} for a ×2 upsampling with
     * align_corners=True: o·(n−1)/(2n−1) (0 when n = 1, as PyTorch).
     */
    public static double sourceCoord(int o, int n) {
        return n == 1 ? 0 : (double) o * (n - 1) / (2 * n - 1);
    }

    /** Bilinear ×2 with align_corners=True: [N,C,H,W] → [N,C,2H,2W]. */
    public static D upsample2x(D x) {
        D.rank("upsample2x", "x", x, 4);
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
        String op = "upsample2xBackward";
        D.rank(op, "dy", dy, 4);
        D.require(dy.dim(2) % 2 == 0 && dy.dim(3) % 2 == 0, op, "dy spatial size must be even, got " + dy.shapeString());
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

    /** Zero padding: [N,C,H,W] → [N,C,H+top+bottom,W+left+right]. */
    public static D pad2d(D x, int top, int bottom, int left, int right) {
        String op = "pad2d";
        D.rank(op, "x", x, 4);
        D.require(top >= 0 && bottom >= 0 && left >= 0 && right >= 0, op,
                "padding must be ≥ 0, got " + top + "," + bottom + "," + left + "," + right);
        int n = x.dim(0), c = x.dim(1), h = x.dim(2), w = x.dim(3);
        D y = new D(n, c, h + top + bottom, w + left + right);
        for (int in = 0; in < n; in++)
            for (int ch = 0; ch < c; ch++)
                for (int iy = 0; iy < h; iy++)
                    for (int ix = 0; ix < w; ix++) y.set(in, ch, iy + top, ix + left, x.get(in, ch, iy, ix));
        return y;
    }

    /** Adjoint of pad2d: the [N,C,h,w] window of dy at (top,left). */
    public static D pad2dBackward(D dy, int top, int left, int h, int w) {
        String op = "pad2dBackward";
        D.rank(op, "dy", dy, 4);
        D.require(top >= 0 && left >= 0 && h >= 0 && w >= 0 && top + h <= dy.dim(2) && left + w <= dy.dim(3), op,
                "window (" + top + "," + left + ") " + h + "×" + w + " outside dy " + dy.shapeString());
        int n = dy.dim(0), c = dy.dim(1);
        D dx = new D(n, c, h, w);
        for (int in = 0; in < n; in++)
            for (int ch = 0; ch < c; ch++)
                for (int iy = 0; iy < h; iy++)
                    for (int ix = 0; ix < w; ix++) dx.set(in, ch, iy, ix, dy.get(in, ch, iy + top, ix + left));
        return dx;
    }

    /** Channel concat: a [N,Ca,H,W], b [N,Cb,H,W] → [N,Ca+Cb,H,W]. */
    public static D concat(D a, D b) {
        String op = "concat";
        D.rank(op, "a", a, 4);
        D.rank(op, "b", b, 4);
        D.require(a.dim(0) == b.dim(0) && a.dim(2) == b.dim(2) && a.dim(3) == b.dim(3), op,
                "a " + a.shapeString() + " and b " + b.shapeString() + " differ outside the channel axis");
        int n = a.dim(0), ca = a.dim(1), cb = b.dim(1), hw = a.dim(2) * a.dim(3);
        D y = new D(n, ca + cb, a.dim(2), a.dim(3));
        for (int in = 0; in < n; in++) {
            System.arraycopy(a.data, in * ca * hw, y.data, in * (ca + cb) * hw, ca * hw);
            System.arraycopy(b.data, in * cb * hw, y.data, (in * (ca + cb) + ca) * hw, cb * hw);
        }
        return y;
    }

    /** Channels [c0,c1) of x: [N,C,H,W] → [N,c1−c0,H,W] (the adjoint of concat). */
    public static D sliceChannels(D x, int c0, int c1) {
        String op = "sliceChannels";
        D.rank(op, "x", x, 4);
        D.require(0 <= c0 && c0 <= c1 && c1 <= x.dim(1), op, "channels [" + c0 + "," + c1 + ") outside x " + x.shapeString());
        int n = x.dim(0), c = x.dim(1), hw = x.dim(2) * x.dim(3), k = c1 - c0;
        D y = new D(n, k, x.dim(2), x.dim(3));
        for (int in = 0; in < n; in++)
            System.arraycopy(x.data, (in * c + c0) * hw, y.data, in * k * hw, k * hw);
        return y;
    }
}
