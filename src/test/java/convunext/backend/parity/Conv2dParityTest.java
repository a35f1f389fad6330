package convunext.backend.parity;

import static org.junit.jupiter.api.Assertions.assertNull;

import convunext.tensor.Tensor;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * conv2d forward and backward on every backend against the float64 oracle: the stem (7×7
 * reflect), the 2×2 stride-2 downsampling, 1×1 (which the backends route to their GEMM), zero
 * and reflect padding, strides, with and without dx and bias. Tolerance 1e-5 normwise (float32
 * sums of at most a few hundred products).
 */
class Conv2dParityTest {
    @RegisterExtension static final BackendParity.Backends BACKENDS = new BackendParity.Backends();
    static final double TOL = 1e-5;

    @OnEveryBackend void stem7x7Reflect(String b) throws Exception { conv(b, 1, 2, 3, 5, 13, 17, 7, 1, 3, true, true, true); }

    @OnEveryBackend void stem7x7ReflectNineOut(String b) throws Exception { conv(b, 21, 2, 3, 9, 13, 17, 7, 1, 3, true, true, true); }

    @OnEveryBackend void stem7x7ReflectWideCo(String b) throws Exception { conv(b, 22, 1, 3, 40, 9, 8, 7, 1, 3, true, true, true); }

    @OnEveryBackend void stemWithoutDx(String b) throws Exception { conv(b, 2, 2, 3, 8, 24, 27, 7, 1, 3, true, false, true); }

    @OnEveryBackend void stemWeightGradOnly(String b) throws Exception { conv(b, 23, 1, 3, 4, 8, 9, 7, 1, 3, true, false, false); }

    @OnEveryBackend void down2x2Stride2(String b) throws Exception { conv(b, 3, 2, 5, 9, 14, 18, 2, 2, 0, false, true, true); }

    @OnEveryBackend void down2x2OddInput(String b) throws Exception { conv(b, 4, 2, 5, 9, 13, 17, 2, 2, 0, false, true, true); }

    @OnEveryBackend void down2x2OddInputElevenOut(String b) throws Exception { conv(b, 24, 2, 5, 11, 13, 17, 2, 2, 0, false, true, true); }

    @OnEveryBackend void down2x2ManyChannels(String b) throws Exception { conv(b, 25, 1, 36, 70, 6, 10, 2, 2, 0, false, true, true); }

    @OnEveryBackend void pointwise(String b) throws Exception { conv(b, 5, 2, 6, 7, 9, 11, 1, 1, 0, false, true, true); }

    /** 1×1 stride 1 unpadded: the backends' linear (GEMM) path, with more output channels than a tile. */
    @OnEveryBackend void pointwiseWide(String b) throws Exception { conv(b, 26, 2, 9, 35, 11, 6, 1, 1, 0, false, true, true); }

    @OnEveryBackend void zeroPad3x3Strided(String b) throws Exception { conv(b, 6, 2, 4, 6, 11, 10, 3, 2, 1, false, true, false); }

    @OnEveryBackend void zeroPad3x3(String b) throws Exception { conv(b, 27, 2, 4, 6, 7, 9, 3, 1, 1, false, true, false); }

    @OnEveryBackend void reflect3x3(String b) throws Exception { conv(b, 7, 1, 2, 3, 5, 6, 3, 1, 2, true, true, true); }

    @OnEveryBackend void reflect5x5Stride2(String b) throws Exception { conv(b, 28, 1, 2, 5, 11, 8, 5, 2, 2, true, true, true); }

    @OnEveryBackend void reflectPadNearlyH(String b) throws Exception { conv(b, 29, 1, 2, 3, 4, 5, 3, 1, 3, true, true, true); }

    private static void conv(String backend, long seed, int n, int ci, int co, int h, int w, int k, int stride, int pad,
                             boolean reflect, boolean needDx, boolean bias) throws Exception {
        try (BackendParity p = BACKENDS.open(backend, seed)) {
            String tag = "conv2d " + k + "x" + k + " s" + stride + " p" + pad + (reflect ? " reflect" : " zero-pad") + " "
                    + n + "x" + ci + "x" + h + "x" + w + "→" + co;
            Tensor[] x = p.normalT(1, 0.3, n, ci, h, w), wt = p.gaussT(co, ci, k, k);
            Tensor[] b = bias ? p.gaussT(co) : new Tensor[] {null, null};
            Tensor yr = p.ref.conv2d(x[1], wt[1], b[1], stride, pad, reflect);
            p.check(tag + " y", p.be.conv2d(x[0], wt[0], b[0], stride, pad, reflect), yr, TOL);
            Tensor[] dy = p.normalT(1, 0.1, yr.shape());
            Tensor[] got = p.be.conv2dBackward(x[0], wt[0], dy[0], stride, pad, reflect, needDx, bias);
            Tensor[] ref = p.ref.conv2dBackward(x[1], wt[1], dy[1], stride, pad, reflect, needDx, bias);
            if (needDx) p.check(tag + " dx", got, ref, 0, TOL); else assertNull(got[0], tag + ": dx not requested");
            p.check(tag + " dw", got, ref, 1, TOL);
            if (bias) p.check(tag + " db", got, ref, 2, TOL); else assertNull(got[2], tag + ": no bias");
        }
    }
}
