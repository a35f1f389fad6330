package convunext.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import convunext.backend.Precision;
import convunext.backend.parity.BackendParity;
import convunext.tensor.Tensor;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * gemm_cat.cu against gemm.cu on the materialised concat, in every precision (fp32 and the
 * tensor-core forms _tf32 / _bf16): linearCat = linear(concat(a, b)) and its backward =
 * linearBackward then concatBackward, bit for bit on the emulator (the same tile, the same slice
 * order, the same epilogue: only the loaders' addresses differ), within 1e-6 on a GPU (FMA
 * contraction may differ between two compiled kernels; kernels/README rule 7). gemm.cu's kernels
 * are held to the float64 oracle within each format's bound by TensorCoreParityTest /
 * LinearParityTest, so this carries those bounds over; LinearCatParityTest checks fp32 against the
 * oracle directly. The cases reach every kernel: forward / data BM 128, 64, 32 and the five weight
 * tiles, aligned (H·W % 4 == 0: 16-byte pieces) and unaligned rows, split-K with several chunks,
 * the added-into gradients, and one half's gradient alone (a null part of the data store).
 */
class LinearCatKernelsTest {
    /** {n, ca, cb, co, h, w}: fwd BM (by co), data BM (by ca+cb), weight tile (co x ca+cb). */
    static final int[][] CASES = {
            {2, 3, 5, 5, 7, 9},        // bm32, bm32, 32x32; unaligned
            {2, 23, 29, 50, 5, 8},     // bm64, bm64, 64x64; aligned
            {1, 61, 67, 100, 6, 6},    // bm128, bm128, 128x128; aligned
            {2, 7, 13, 100, 3, 5},     // bm128, bm32, 128x32
            {1, 45, 55, 20, 4, 4},     // bm32, bm128, 32x128
            {3, 3, 5, 5, 23, 25},      // long K: split-K chunks, several column tiles per block
    };

    private final Random rnd = new Random(97);

    private float[] gauss(int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) rnd.nextGaussian();
        return a;
    }

    @ParameterizedTest
    @EnumSource(Precision.class)
    void equalsConcatThenGemm(Precision p) {
        try (CudaBackend be = CudaBackend.open(Parity.DEVICE, p)) {
            if (p != Precision.FP32)
                for (String k : new String[]{"gemm_cat_forward_bm128", "gemm_cat_backward_data_bm32", "gemm_cat_backward_weight_part_64x64"})
                    assertEquals(k + "_" + p, be.launcher().variant(k), k + " has no _" + p + " form");
            double tol = Parity.onEmulator() ? 0 : 1e-6;
            for (int[] c : CASES) run(be, p, c, tol);
        }
    }

    private void run(CudaBackend be, Precision p, int[] c, double tol) {
        int n = c[0], ca = c[1], cb = c[2], co = c[3], h = c[4], w = c[5], ci = ca + cb;
        String tag = p + " " + n + "x(" + ca + "+" + cb + ")→" + co + " @" + h + "x" + w;
        Tensor a = be.upload(gauss(n * ca * h * w), n, ca, h, w), b = be.upload(gauss(n * cb * h * w), n, cb, h, w);
        Tensor wt = be.upload(gauss(co * ci), co, ci, 1, 1), bias = be.upload(gauss(co), co);
        Tensor dy = be.upload(gauss(n * co * h * w), n, co, h, w);
        Tensor x = be.concat(a, b);
        same(tag + " y", be, be.linearCat(a, b, wt, bias), be.linear(x, wt, bias), tol);
        same(tag + " y (no bias)", be, be.linearCat(a, b, wt, null), be.linear(x, wt, null), tol);
        Tensor[] got = be.linearCatBackward(a, b, wt, dy, true, true, true);
        Tensor[] lin = be.linearBackward(x, wt, dy, true, true);
        Tensor[] split = be.concatBackward(lin[0], ca);
        same(tag + " da", be, got[0], split[0], tol);
        same(tag + " db", be, got[1], split[1], tol);
        same(tag + " dw", be, got[2], lin[1], tol);
        same(tag + " dbias", be, got[3], lin[2], tol);
        // one half alone: the other half's rows are computed but not stored
        Tensor[] onlyB = be.linearCatBackward(a, b, wt, dy, false, true, false);
        assertNull(onlyB[0], tag + ": da not requested");
        assertNull(onlyB[3], tag + ": no bias gradient requested");
        same(tag + " db alone", be, onlyB[1], split[1], tol);
        same(tag + " dw (no bias)", be, onlyB[2], lin[1], tol);
        Tensor[] onlyA = be.linearCatBackward(a, b, wt, dy, true, false, true);
        assertNull(onlyA[1], tag + ": db not requested");
        same(tag + " da alone", be, onlyA[0], split[0], tol);
        // added into held gradients, as the tape passes them: against gemm.cu adding into the same values
        float[] da0 = gauss(n * ca * h * w), db0 = gauss(n * cb * h * w), dw0 = gauss(co * ci), dbias0 = gauss(co);
        Tensor[] into = be.linearCatBackwardInto(a, b, wt, dy, true, true, true, be.upload(da0, n, ca, h, w),
                be.upload(db0, n, cb, h, w), be.upload(dw0, co, ci, 1, 1), be.upload(dbias0, co));
        Tensor dx0 = be.concat(be.upload(da0, n, ca, h, w), be.upload(db0, n, cb, h, w));
        Tensor[] linInto = be.linearBackwardInto(x, wt, dy, true, true, dx0, be.upload(dw0, co, ci, 1, 1), be.upload(dbias0, co));
        Tensor[] splitInto = be.concatBackward(linInto[0], ca);
        same(tag + " da +=", be, into[0], splitInto[0], tol);
        same(tag + " db +=", be, into[1], splitInto[1], tol);
        same(tag + " dw +=", be, into[2], linInto[1], tol);
        same(tag + " dbias +=", be, into[3], linInto[2], tol);
        // one half held, the other fresh (each part's own accumulate flag)
        Tensor[] heldA = be.linearCatBackwardInto(a, b, wt, dy, false, true, false, be.upload(da0, n, ca, h, w), null, null, null);
        same(tag + " da += (db fresh)", be, heldA[0], splitInto[0], tol);
        same(tag + " db fresh (da +=)", be, heldA[1], split[1], tol);
        Tensor[] heldB = be.linearCatBackwardInto(a, b, wt, dy, true, false, false, null, be.upload(db0, n, cb, h, w), null, null);
        same(tag + " da fresh (db +=)", be, heldB[0], split[0], tol);
        same(tag + " db += (da fresh)", be, heldB[1], splitInto[1], tol);
    }

    private static void same(String what, CudaBackend be, Tensor got, Tensor want, double tol) {
        assertEquals(java.util.Arrays.toString(want.shape()), java.util.Arrays.toString(got.shape()), what + ": shape");
        float[] g = be.download(got), w = be.download(want);
        if (tol == 0) {
            for (int i = 0; i < g.length; i++)
                if (Float.floatToRawIntBits(g[i]) != Float.floatToRawIntBits(w[i]))
                    throw new AssertionError(what + ": element " + i + " is " + g[i] + ", gemm.cu on the concat gives " + w[i]);
        } else {
            double e = BackendParity.relErr(g, w);
            assertTrue(e <= tol, what + ": relative error " + e + " > " + tol);
        }
    }
}
