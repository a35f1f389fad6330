package convunext.backend.cpu;

import static convunext.backend.OpShapes.of;

import convunext.backend.OpShapes;
import convunext.tensor.Tensor;

/**
 * Layout ops: zero padding (and its adjoint, a crop) threaded over planes, channel concat and slice.
 */
final class CpuLayout {
    private CpuLayout() {}

    static Tensor pad2d(CpuBackend be, Tensor x, int top, int bottom, int left, int right) {
        OpShapes.pad2d(of(x), top, bottom, left, right);
        int n = x.dim(0), c = x.dim(1), h = x.dim(2), w = x.dim(3), ho = h + top + bottom, wo = w + left + right;
        Tensor y = be.zeros(n, c, ho, wo);
        copyPlanes(x.array(), x.off(), h, w, 0, 0, y.array(), y.off(), ho, wo, top, left, h, w, n * c);
        return y;
    }

    static Tensor pad2dBackward(CpuBackend be, Tensor dy, int top, int left, int h, int w) {
        OpShapes.pad2dBackward(of(dy), top, left, h, w);
        int n = dy.dim(0), c = dy.dim(1), ho = dy.dim(2), wo = dy.dim(3);
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
        OpShapes.concat(of(a), of(b));
        int n = a.dim(0), ca = a.dim(1), cb = b.dim(1), p = a.spatial(2);
        Tensor y = be.empty(n, ca + cb, a.dim(2), a.dim(3));
        for (int i = 0; i < n; i++) {
            System.arraycopy(a.array(), a.off() + i * ca * p, y.array(), y.off() + i * (ca + cb) * p, ca * p);
            System.arraycopy(b.array(), b.off() + i * cb * p, y.array(), y.off() + (i * (ca + cb) + ca) * p, cb * p);
        }
        return y;
    }

    static Tensor sliceChannels(CpuBackend be, Tensor x, int c0, int c1) {
        OpShapes.sliceChannels(of(x), c0, c1);
        int n = x.dim(0), c = x.dim(1), p = x.spatial(2);
        Tensor y = be.empty(n, c1 - c0, x.dim(2), x.dim(3));
        for (int i = 0; i < n; i++)
            System.arraycopy(x.array(), x.off() + (i * c + c0) * p, y.array(), y.off() + i * (c1 - c0) * p, (c1 - c0) * p);
        return y;
    }
}
