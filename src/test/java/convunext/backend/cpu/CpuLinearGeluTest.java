package convunext.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import convunext.backend.cpu.ref.D;
import convunext.backend.cpu.ref.RefLinearGelu;
import convunext.backend.parity.BackendParity;
import convunext.tensor.Tensor;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The CPU's GELU-epilogue GEMMs (CpuLinearGelu) with both SimdOps (vector and scalar) against
 * RefLinearGelu, normwise 1e-5 as for linear (float GEMM sums; GELU's own error is ~1e-7
 * relative). Shapes cross the register tiles, the MC/NC/KC blocks (Ci or Co > 256: two K blocks;
 * Co > 144 rows: two M blocks; H·W > 512: two N blocks), leave vector tails in each row, and are
 * large enough to thread, split over N and over M. Results at 1 thread and at all threads must be
 * equal bit for bit. (The backend entry points run on every backend in parity.LinearGeluParityTest.)
 */
class CpuLinearGeluTest {
    private static final double TOL = 1e-5;
    private static final CpuBackend BE = new CpuBackend();
    private static final List<SimdOps> OPS = List.of(SimdOps.BEST, new ScalarOps());

    /** Small odd sizes: edge tiles only, one block each, one thread (under the flop threshold). */
    @Test void oddSizes() { run(2, 37, 19, 5, 7, true, 1); }

    /** Two K blocks, two M blocks, two N blocks, odd edges; split over N when threaded. */
    @Test void blocksSplitOverN() { run(2, 301, 151, 23, 29, true, 2); }

    /** Few pixels, many rows: the threaded split goes over M; no bias. */
    @Test void blocksSplitOverM() { run(1, 263, 307, 7, 9, false, 3); }

    /** One pixel per image, Ci ≥ 512: the layout the dot-product path would take (bypassed with an epilogue). */
    @Test void dotPathLayout() { run(3, 600, 37, 1, 1, true, 4); }

    private static BackendParity parity(long seed) { return new BackendParity("cpu", BE, seed, BackendParity.OFFSET, null); }

    private static void run(int n, int ci, int co, int h, int w, boolean bias, long seed) {
        BackendParity p = parity(seed);
        // pre ~ N(·, 1): GELU's curved part, both tails
        Tensor x = p.normalT(1, 0.2, n, ci, h, w)[0], wt = p.normalT(1 / Math.sqrt(ci), 0, co, ci)[0];
        Tensor b = bias ? p.normalT(1, 0.1, co)[0] : null;
        // Backward of the next Linear (W2 [Ci, Co], as in the MLP) through this GELU: dy [n, Ci, h, w].
        Tensor w2 = p.gaussT(ci, co)[0], dy = p.normalT(1, 0.1, n, ci, h, w)[0];
        D[] ref = RefLinearGelu.linearGelu(BackendParity.d(x), BackendParity.d(wt), BackendParity.d(b), true);
        String at = n + "x" + ci + "→" + co + " @" + h + "x" + w + (bias ? " bias" : "");
        for (SimdOps ops : OPS) {
            String what = at + " " + ops.describe();
            for (boolean keepPre : new boolean[] {true, false}) {
                Tensor[] got = CpuLinearGelu.forward(BE, x, wt, b, keepPre, ops);
                p.check("linearGelu h " + what, got[0], ref[0], TOL);
                if (keepPre) p.check("linearGelu pre " + what, got[1], ref[1], TOL); else assertNull(got[1]);
                release(got);
            }
            Tensor pre = p.gaussT(n, co, h, w)[0];
            p.check("linearBackwardDataGelu " + what, CpuLinearGelu.backwardData(BE, w2, dy, pre, ops),
                    RefLinearGelu.linearBackwardDataGelu(BackendParity.d(w2), BackendParity.d(dy), BackendParity.d(pre)), TOL);
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

    /** Backward with Ci = 1 and one pixel: the dx GEMM's operands are then both contiguous in K (dot layout). */
    @Test void backwardDotLayout() {
        BackendParity p = parity(6);
        Tensor w2 = p.gaussT(600, 1)[0], dy = p.gaussT(3, 600, 1, 1)[0], pre = p.gaussT(3, 1, 1, 1)[0];
        D ref = RefLinearGelu.linearBackwardDataGelu(BackendParity.d(w2), BackendParity.d(dy), BackendParity.d(pre));
        for (SimdOps ops : OPS)
            p.check("linearBackwardDataGelu ci=1 " + ops.describe(), CpuLinearGelu.backwardData(BE, w2, dy, pre, ops), ref, TOL);
    }
}
