package convunext.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import convunext.backend.Precision;
import convunext.backend.cuda.ops.LinearOps;
import convunext.tensor.Tensor;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The split-K weight gradient's finish in the weight-part launch (gemm_splitk.cuh: the blocks that
 * draw the last tickets sum the partials, in groups of G splits then across the groups) against the
 * float64 oracle, on odd and on 4-aligned sizes with enough pixels for many splits (S = 20 to 40:
 * several groups, so both levels run), with and without the bias gradient, replacing and adding
 * into held gradients (accumulate bits), for gemm.cu's and conv2d.cu's kernels, fp32 and the
 * tensor-core forms; the same bits under shuffled block schedules (whichever block finishes last);
 * and the tickets left at zero (a second launch, or a CUDA graph's replay, starts clean: checked by
 * running every case twice). Tolerance: LinearTilesParityTest's 1e-5 relative (fp32);
 * TensorCoreParityTest's derived bound for the tensor-core forms.
 */
class SplitKFinishTest {
    static Parity p;
    static final double TOL = 1e-5;

    @BeforeAll static void open() { p = new Parity(43); }

    @AfterAll static void close() { p.close(); }

    /** dw, db of linear (and added into held gradients) vs the oracle, twice (tickets reset). */
    void linearCase(int n, int ci, int co, int h, int w, boolean bias) {
        String tag = "linear n" + n + " ci" + ci + " co" + co + " " + h + "x" + w + (bias ? " +db" : "");
        Tensor[] x = p.gaussT(n, ci, h, w), wt = p.gaussT(co, ci), dy = p.gaussT(n, co, h, w);
        for (int rep = 0; rep < 2; rep++) {
            Tensor[] gc = p.cuda.linearBackward(x[0], wt[0], dy[0], false, bias);
            Tensor[] gr = p.ref.linearBackward(x[1], wt[1], dy[1], false, bias);
            p.check(tag + " dw", gc, gr, 1, TOL);
            if (bias) p.check(tag + " db", gc, gr, 2, TOL);
        }
        Tensor[] hw = p.gaussT(co, ci), hb = p.gaussT(co);
        Tensor[] gc = p.cuda.linearBackwardInto(x[0], wt[0], dy[0], false, bias, null, hw[0], bias ? hb[0] : null);
        Tensor[] gr = p.ref.linearBackwardInto(x[1], wt[1], dy[1], false, bias, null, hw[1], bias ? hb[1] : null);
        p.check(tag + " dw added", gc, gr, 1, TOL);
        if (bias) p.check(tag + " db added", gc, gr, 2, TOL);
    }

    @Test void manySplitsOddSizes() {
        linearCase(2, 33, 70, 37, 41, true);    // 1517 pixels: S = 24, scalar finish (N = 33)
        linearCase(1, 7, 130, 45, 47, false);   // tiles 128x32 over two rows, no db
    }

    @Test void manySplitsAlignedSizes() {
        linearCase(2, 36, 64, 32, 40, true);     // N % 4 == 0: the 16-byte finish, aligned operand loads
        linearCase(1, 128, 128, 40, 44, true);   // 128x128
        linearCase(1, 120, 20, 40, 40, true);    // 32x128
    }

    @Test void convManySplits() {
        for (int[] c : new int[][]{{1, 3, 9, 30, 34, 7, 1, 3}, {2, 6, 20, 41, 39, 2, 2, 0}}) {
            String tag = "conv k" + c[5] + " ci" + c[1] + " co" + c[2] + " " + c[3] + "x" + c[4];
            Tensor[] x = p.gaussT(c[0], c[1], c[3], c[4]), wt = p.gaussT(c[2], c[1], c[5], c[5]);
            Tensor yr = p.ref.conv2d(x[1], wt[1], null, c[6], c[7], c[5] == 7);
            Tensor[] dy = p.up(p.gauss((int) yr.numel()), yr.shape());
            Tensor[] hw = p.gaussT(c[2], c[1], c[5], c[5]), hb = p.gaussT(c[2]);
            Tensor[] gc = p.cuda.conv2dBackwardInto(x[0], wt[0], dy[0], c[6], c[7], c[5] == 7, false, true, null, hw[0], hb[0]);
            Tensor[] gr = p.ref.conv2dBackwardInto(x[1], wt[1], dy[1], c[6], c[7], c[5] == 7, false, true, null, hw[1], hb[1]);
            p.check(tag + " dw added", gc, gr, 1, TOL);
            p.check(tag + " db added", gc, gr, 2, TOL);
        }
    }

    /** The same bits whichever block finishes last: default schedule vs two shuffled ones. */
    @Test void sameBitsUnderShuffledSchedules() throws Exception {
        Parity.requireEmulator();
        org.junit.jupiter.api.Assumptions.assumeTrue(Parity.onEmulator(), "schedules are the emulator's");
        Tensor[] x = p.gaussT(2, 33, 37, 41), wt = p.gaussT(70, 33), dy = p.gaussT(2, 70, 37, 41);
        Tensor[] xa = p.gaussT(1, 36, 40, 40), wa = p.gaussT(64, 36), dya = p.gaussT(1, 64, 40, 40);
        float[][] first = null;
        for (long seed : new long[]{0, 5, 11}) {
            AutoCloseable mode = seed == 0 ? () -> { } : EmulatorSchedule.shuffled(p.cuda, seed);
            try (mode) {
                Tensor[] g = p.cuda.linearBackward(x[0], wt[0], dy[0], false, true);
                Tensor[] ga = p.cuda.linearBackward(xa[0], wa[0], dya[0], false, true);
                float[][] got = {p.cuda.download(g[1]), p.cuda.download(g[2]), p.cuda.download(ga[1]), p.cuda.download(ga[2])};
                if (first == null) first = got;
                else for (int i = 0; i < got.length; i++) assertArrayEquals(first[i], got[i], "schedule " + seed + ", output " + i);
            }
        }
    }

    /** The splits of these shapes really form several groups (both levels of the finish run). */
    @Test void severalGroups() {
        assertTrue(LinearOps.group(24) == 5 && LinearOps.group(20) == 5 && LinearOps.group(1) == 1 && LinearOps.group(4) == 2);
    }

    @ParameterizedTest @EnumSource(value = Precision.class, names = {"TF32", "BF16"})
    void tensorCoreManySplits(Precision pr) {
        try (TensorCoreParityTest.Case c = new TensorCoreParityTest.Case(pr)) {
            TensorCoreParityTest t = new TensorCoreParityTest();
            t.linearCase(c, 2, 33, 70, 37, 41);    // dW 32x32 tiles, S = 24, scalar finish
            t.linearCase(c, 1, 36, 64, 32, 40);    // 4-aligned: 16-byte loads and finish
            t.convCase(c, 2, 6, 20, 41, 39, 2, 2, 0, false);
        }
    }
}
