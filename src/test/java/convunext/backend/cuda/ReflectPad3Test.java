package convunext.backend.cuda;

import convunext.backend.cuda.baseline.CudnnDwConv7;
import convunext.backend.cuda.baseline.ReflectPad3;
import static org.junit.jupiter.api.Assertions.*;

import convunext.tensor.Tensor;
import org.junit.jupiter.api.Test;

/**
 * The reflect pad and its adjoint that pair our kernels with cuDNN ({@link ReflectPad3}), on the
 * emulated device (or the device -Dconvunext.test.device names): the pad is exact against a host
 * reflect pad, the fold equals the host adjoint and satisfies ⟨pad(x), d⟩ = ⟨x, fold(d)⟩.
 */
class ReflectPad3Test {

    static int refl(int i, int n) { return i < 0 ? -i : i >= n ? 2 * (n - 1) - i : i; }

    void check(Parity p, ReflectPad3 r, int n, int c, int h, int w) {
        String tag = n + "x" + c + "x" + h + "x" + w;
        int hp = h + 6, wp = w + 6;
        float[] x = p.gauss(n * c * h * w), d = p.gauss(n * c * hp * wp);
        Tensor xp = r.pad(p.cuda.upload(x, n, c, h, w));
        assertArrayEquals(new int[]{n, c, hp, wp}, xp.shape(), tag);
        float[] got = p.cuda.download(xp), want = new float[got.length];
        double[] fold = new double[x.length];
        for (int pl = 0; pl < n * c; pl++)
            for (int y = 0; y < hp; y++)
                for (int xx = 0; xx < wp; xx++) {
                    int src = pl * h * w + refl(y - 3, h) * w + refl(xx - 3, w), dst = (pl * hp + y) * wp + xx;
                    want[dst] = x[src];
                    fold[src] += d[dst];
                }
        assertArrayEquals(want, got, tag + ": pad");
        float[] dx = p.cuda.download(r.fold(p.cuda.upload(d, n, c, hp, wp)));
        double maxErr = 0, maxRef = 0, lhs = 0, rhs = 0, mag = 0;
        for (int i = 0; i < dx.length; i++) {
            maxErr = Math.max(maxErr, Math.abs(dx[i] - fold[i]));
            maxRef = Math.max(maxRef, Math.abs(fold[i]));
            rhs += (double) x[i] * dx[i];
            mag += Math.abs((double) x[i] * dx[i]);
        }
        for (int i = 0; i < got.length; i++) lhs += (double) got[i] * d[i];
        assertTrue(maxRef > 0 && maxErr <= 1e-6 * maxRef, tag + ": fold error " + maxErr + " of " + maxRef);
        assertEquals(lhs, rhs, 1e-6 * mag, tag + ": <pad x, d> vs <x, fold d>");
    }

    @Test void padIsExactAndFoldIsItsAdjoint() {
        try (Parity p = new Parity(91); ReflectPad3 r = new ReflectPad3(p.cuda)) {
            check(p, r, 2, 3, 4, 4);     // every pixel a border pixel
            check(p, r, 1, 5, 13, 7);    // odd
            check(p, r, 2, 2, 9, 70);    // a plane wider than one 64-pixel tile row
        }
    }

    @Test void rejectsPlanesBelowFour() {
        try (Parity p = new Parity(92); ReflectPad3 r = new ReflectPad3(p.cuda)) {
            Tensor x = p.cuda.upload(p.gauss(2 * 3 * 5), 1, 2, 3, 5);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> r.pad(x));
            assertTrue(e.getMessage().contains("[1, 2, 3, 5]"), e.getMessage());
            Tensor d = p.cuda.upload(p.gauss(9 * 12), 1, 1, 9, 12);
            e = assertThrows(IllegalArgumentException.class, () -> r.fold(d));
            assertTrue(e.getMessage().contains("[1, 1, 9, 12]"), e.getMessage());
        }
    }
}
