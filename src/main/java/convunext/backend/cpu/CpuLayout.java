package convunext.backend.cpu;

import convunext.tensor.Shapes;
import convunext.tensor.Tensor;

/**
 * Layout ops: zero padding (and its adjoint, a crop) threaded over planes, channel concat and slice.
 */
final class CpuLayout {
    private CpuLayout() {}

    static Tensor pad2d(CpuBackend be, Tensor x, int top, int bottom, int left, int right) {
        Shapes.rank("pad2d", "x", x, 4);
        Shapes.require(top >= 0 && bottom >= 0 && left >= 0 && right >= 0, "pad2d", "negative padding");
        int n = x.dim(0), c = x.dim(1), h = x.dim(2), w = x.dim(3), ho = h + top + bottom, wo = w + left + right;
        Tensor y = be.zeros(n, c, ho, wo);
        copyPlanes(x.array(), x.off(), h, w, 0, 0, y.array(), y.off(), ho, wo, top, left, h, w, n * c);
        return y;
    }

    static Tensor pad2dBackward(CpuBackend be, Tensor dy, int top, int left, int h, int w) {
        Shapes.rank("pad2dBackward", "dy", dy, 4);
        int n = dy.dim(0), c = dy.dim(1), ho = dy.dim(2), wo = dy.dim(3);
        Shapes.require(top >= 0 && left >= 0 && h >= 0 && w >= 0 && top + h <= ho && left + w <= wo, "pad2dBackward",
                "crop (" + top + "," + left + ") " + h + "x" + w + " outside dy " + dy.shapeString());
        Tensor dx = be.empty(n, c, h, w);
        copyPlanes(dy.array(), dy.off(), ho, wo, top, left, dx.array(), dx.off(), h, w, 0, 0, h, w, n * c);
        return dx;
    }

    /** Copies an h×w window at (sy,sx) of each source plane to (dy,dx) of each destination plane. */
    private static void copyPlanes(float[] s, int so, int sh, int sw, int sy, int sx, float[] d, int dof, int dh, int dw,
                                   int ty, int tx, int h, int w, int planes) {
        CpuThreads.chunks(planes, 8, 2, (p0, p1) -> {
            for (int pl = p0; pl < p1; pl++)
                for (int r = 0; r < h; r++)
                    System.arraycopy(s, so + pl * sh * sw + (sy + r) * sw + sx, d, dof + pl * dh * dw + (ty + r) * dw + tx, w);
        });
    }

    static Tensor concat(CpuBackend be, Tensor a, Tensor b) {
        Shapes.rank("concat", "a", a, 4);
        Shapes.rank("concat", "b", b, 4);
        Shapes.require(a.dim(0) == b.dim(0) && a.dim(2) == b.dim(2) && a.dim(3) == b.dim(3), "concat",
                "N,H,W differ: " + a.shapeString() + " vs " + b.shapeString());
        int n = a.dim(0), ca = a.dim(1), cb = b.dim(1), p = a.spatial(2);
        Tensor y = be.empty(n, ca + cb, a.dim(2), a.dim(3));
        for (int i = 0; i < n; i++) {
            System.arraycopy(a.array(), a.off() + i * ca * p, y.array(), y.off() + i * (ca + cb) * p, ca * p);
            System.arraycopy(b.array(), b.off() + i * cb * p, y.array(), y.off() + (i * (ca + cb) + ca) * p, cb * p);
        }
        return y;
    }

    static Tensor sliceChannels(CpuBackend be, Tensor x, int c0, int c1) {
        Shapes.rank("sliceChannels", "x", x, 4);
        int n = x.dim(0), c = x.dim(1), p = x.spatial(2);
        Shapes.require(0 <= c0 && c0 <= c1 && c1 <= c, "sliceChannels", "range [" + c0 + "," + c1 + ") outside " + x.shapeString());
        Tensor y = be.empty(n, c1 - c0, x.dim(2), x.dim(3));
        for (int i = 0; i < n; i++)
            System.arraycopy(x.array(), x.off() + (i * c + c0) * p, y.array(), y.off() + i * (c1 - c0) * p, (c1 - c0) * p);
        return y;
    }
}
