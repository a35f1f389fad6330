package convunext.backend.cpu;

import static convunext.backend.cpu.Parity.*;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import convunext.backend.cpu.ref.D;
import convunext.backend.cpu.ref.RefLinear;
import convunext.backend.cpu.ref.RefLinearGelu;
import convunext.tensor.Tensor;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The GELU-epilogue GEMMs (CpuLinearGelu) against RefLinearGelu, normwise 1e-5 as for linear
 * (float GEMM sums; GELU's own error is ~1e-7 relative), with both SimdOps (vector and scalar).
 * Shapes cross the register tiles, the MC/NC/KC blocks (Ci or Co > 256: two K blocks; Co > 144
 * rows: two M blocks; H·W > 512: two N blocks), leave vector tails in each row, and are large
 * enough to thread, split over N and over M. Results at 1 thread and at all threads must be equal
 * bit for bit.
 */
class LinearGeluParityTest {
    private static final double TOL = 1e-5;
    private static final List<SimdOps> OPS = List.of(SimdOps.BEST, new ScalarOps());

    /** Small odd sizes: edge tiles only, one block each, one thread (under the flop threshold). */
    @Test void oddSizes() { run(2, 37, 19, 5, 7, true, 1); }

    /** Two K blocks, two M blocks, two N blocks, odd edges; split over N when threaded. */
    @Test void blocksSplitOverN() { run(2, 301, 151, 23, 29, true, 2); }

    /** Few pixels, many rows: the threaded split goes over M; no bias. */
    @Test void blocksSplitOverM() { run(1, 263, 307, 7, 9, false, 3); }

    /** One pixel per image, Ci ≥ 512: the layout the dot-product path would take (bypassed with an epilogue). */
    @Test void dotPathLayout() { run(3, 600, 37, 1, 1, true, 4); }

    private static void run(int n, int ci, int co, int h, int w, boolean bias, long seed) {
        Random r = new Random(seed);
        Tensor x = randn(r, 0.2, n, ci, h, w), wt = randn(r, 0, co, ci), b = bias ? randn(r, 0.1, co) : null;
        // Backward of the next Linear (W2 [Ci, Co], as in the MLP) through this GELU: dy [n, Ci, h, w].
        int cn = ci;
        Tensor w2 = randn(r, 0, cn, co), dy = randn(r, 0.1, n, cn, h, w);
        scale(wt, 1 / Math.sqrt(ci));   // pre ~ N(·, 1): GELU's curved part, both tails
        D[] ref = RefLinearGelu.linearGelu(d(x), d(wt), d(b), true);
        String at = n + "x" + ci + "→" + co + " @" + h + "x" + w + (bias ? " bias" : "");
        for (SimdOps ops : OPS) {
            String what = at + " " + ops.describe();
            for (boolean keepPre : new boolean[] {true, false}) {
                Tensor[] got = CpuLinearGelu.forward(BE, x, wt, b, keepPre, ops);
                check("linearGelu h " + what, ref[0], got[0], TOL);
                if (keepPre) check("linearGelu pre " + what, ref[1], got[1], TOL); else assertNull(got[1]);
                release(got);
            }
            Tensor pre = randn(r, 0, n, co, h, w);
            check("linearBackwardDataGelu " + what, RefLinearGelu.linearBackwardDataGelu(d(w2), d(dy), d(pre)),
                    CpuLinearGelu.backwardData(BE, w2, dy, pre, ops), TOL);
            threadsAgree(what, x, wt, b, w2, dy, pre, ops);
        }
    }

    /** Same bits at 1 thread and at every thread the pool has (a no-op comparison on a 1-core machine). */
    private static void threadsAgree(String what, Tensor x, Tensor wt, Tensor b, Tensor w2, Tensor dy, Tensor pre, SimdOps ops) {
        int all = CpuThreads.threads();
        float[][] one, many;
        try {
            CpuThreads.setThreads(1);
            one = fused(x, wt, b, w2, dy, pre, ops);
        } finally {
            CpuThreads.setThreads(all);
        }
        many = fused(x, wt, b, w2, dy, pre, ops);
        assertArrayEquals(one[1], many[1], "linearGelu pre, 1 vs " + all + " threads: " + what);
        assertArrayEquals(one[0], many[0], "linearGelu h (keepPre), 1 vs " + all + " threads: " + what);
        assertArrayEquals(one[2], many[2], "linearGelu h (in place), 1 vs " + all + " threads: " + what);
        assertArrayEquals(one[3], many[3], "linearBackwardDataGelu, 1 vs " + all + " threads: " + what);
    }

    private static float[][] fused(Tensor x, Tensor wt, Tensor b, Tensor w2, Tensor dy, Tensor pre, SimdOps ops) {
        Tensor[] kept = CpuLinearGelu.forward(BE, x, wt, b, true, ops), inPlace = CpuLinearGelu.forward(BE, x, wt, b, false, ops);
        Tensor dpre = CpuLinearGelu.backwardData(BE, w2, dy, pre, ops);
        float[][] out = {BE.download(kept[0]), BE.download(kept[1]), BE.download(inPlace[0]), BE.download(dpre)};
        release(kept);
        release(inPlace);
        BE.release(dpre);
        return out;
    }

    private static void release(Tensor[] ts) { for (Tensor t : ts) if (t != null) BE.release(t); }

    private static void scale(Tensor t, double s) {
        for (int i = 0; i < t.size(); i++) t.array()[t.off() + i] *= (float) s;
    }

    /** The CpuBackend entry points are these with SimdOps.BEST, and equal the unfused chain's reference. */
    @Test void backendEntryPoints() {
        Random r = new Random(5);
        Tensor x = randn(r, 0, 2, 13, 6, 5), wt = randn(r, 0, 21, 13), b = randn(r, 0, 21);
        Tensor[] got = BE.linearGelu(x, wt, b, true);
        check("linearGelu pre", RefLinear.linear(d(x), d(wt), d(b)), got[1], TOL);
        check("linearGelu h", RefLinearGelu.linearGelu(d(x), d(wt), d(b), false)[0], got[0], TOL);
        Tensor w2 = randn(r, 0, 9, 21), dy = randn(r, 0, 2, 9, 6, 5);
        check("linearBackwardDataGelu", RefLinearGelu.linearBackwardDataGelu(d(w2), d(dy), d(got[1])),
                BE.linearBackwardDataGelu(w2, dy, got[1]), TOL);
        // A 1×1 conv weight [Co, Ci, 1, 1] is accepted like [Co, Ci].
        Tensor w4 = BE.view(wt, 0, 21, 13, 1, 1);
        check("linearGelu w[Co,Ci,1,1]", RefLinearGelu.linearGelu(d(x), d(wt), d(b), false)[0],
                BE.linearGelu(x, w4, b, false)[0], TOL);
    }

    /** Backward with Ci = 1 and one pixel: the dx GEMM's operands are then both contiguous in K (dot layout). */
    @Test void backwardDotLayout() {
        Random r = new Random(6);
        Tensor w2 = randn(r, 0, 600, 1), dy = randn(r, 0, 3, 600, 1, 1), pre = randn(r, 0, 3, 1, 1, 1);
        D ref = RefLinearGelu.linearBackwardDataGelu(d(w2), d(dy), d(pre));
        for (SimdOps ops : OPS) check("linearBackwardDataGelu ci=1 " + ops.describe(), ref,
                CpuLinearGelu.backwardData(BE, w2, dy, pre, ops), TOL);
    }

    @Test void shapeMismatchNamesOp() {
        Random r = new Random(7);
        var e1 = assertThrows(IllegalArgumentException.class,
                () -> BE.linearGelu(randn(r, 0, 1, 3, 2, 2), randn(r, 0, 4, 5), null, true));
        assertTrue(e1.getMessage().startsWith("linearGelu"), e1.getMessage());
        var e2 = assertThrows(IllegalArgumentException.class,
                () -> BE.linearBackwardDataGelu(randn(r, 0, 4, 5), randn(r, 0, 1, 4, 2, 2), randn(r, 0, 1, 6, 2, 2)));
        assertTrue(e2.getMessage().startsWith("linearBackwardDataGelu"), e2.getMessage());
    }
}
