package convunext.backend.cpu.ref;

import convunext.backend.OpShapes;

/** Layout ops in float64, mirroring {@code Backend.pad2d, concat, sliceChannels} and their adjoints. */
public final class RefLayout {
    private RefLayout() {}

    /** Zero padding: [N,C,H,W] → [N,C,H+top+bottom,W+left+right]. */
    public static D pad2d(D x, int top, int bottom, int left, int right) {
        OpShapes.pad2d(x.shape, top, bottom, left, right);
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
        OpShapes.pad2dBackward(dy.shape, top, left, h, w);
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
        OpShapes.concat(a.shape, b.shape);
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
        OpShapes.sliceChannels(x.shape, c0, c1);
        int n = x.dim(0), c = x.dim(1), hw = x.dim(2) * x.dim(3), k = c1 - c0;
        D y = new D(n, k, x.dim(2), x.dim(3));
        for (int in = 0; in < n; in++)
            System.arraycopy(x.data, (in * c + c0) * hw, y.data, in * k * hw, k * hw);
        return y;
    }
}
