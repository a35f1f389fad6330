package convunext.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import convunext.backend.cpu.ref.D;
import convunext.backend.cpu.ref.RefAddGelu;
import convunext.backend.cpu.ref.RefGelu;
import convunext.backend.parity.BackendParity;
import convunext.tensor.Tensor;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The fused residual add + GELU (CpuAddGelu.addGelu) with both SimdOps, pre kept or not, on odd
 * sizes (vector tails in every step and chunk; one chunk and several threaded ones). Checks: pre is
 * the float sum exactly; out per element within 1e-6 relative of the float64 GELU of that float sum
 * (as SimdOpsTest, plus float's smallest normal: below a − b ≈ −13 GELU is subnormal); out normwise within 1e-6 of RefAddGelu (whose
 * sum is not rounded to float); and, with SimdOps.BEST, out within 4 ulps of CpuBackend's unfused
 * gelu(add(a, b)). Same GELU code and chunks, so within one JIT tier the two agree bit for bit;
 * the Vector API's exp rounds differently before and after C2 compiles it (README), and a
 * recompilation between the two calls is possible, hence ulps and not equality. (The backend
 * entry point runs on every backend in parity.AddGeluParityTest.)
 */
class CpuAddGeluTest {
    private static final CpuBackend BE = new CpuBackend();
    private static final List<SimdOps> OPS = List.of(SimdOps.BEST, new ScalarOps());

    @Test void oneChunk() { run(2, 5, 13, 17, 31); }                  // 2210: two full steps and a tail

    @Test void threadedChunks() { run(3, 7, 41, 43, 32); }            // 37023: several chunks, odd boundaries

    @Test void shorterThanAVector() { run(1, 1, 1, 3, 33); }           // scalar tail only

    private static void run(int n, int c, int h, int w, long seed) {
        BackendParity p = new BackendParity("cpu", BE, seed, BackendParity.OFFSET, null);
        // a + b spans about [-13, 9]: both tails of GELU and its curved middle
        Tensor a = p.uniformT(-10, 6, n, c, h, w)[0], b = p.gaussT(n, c, h, w)[0];
        String at = n + "x" + c + "x" + h + "x" + w;
        D[] ref = RefAddGelu.addGelu(BackendParity.d(a), BackendParity.d(b), true);
        for (SimdOps ops : OPS)
            for (boolean keepPre : new boolean[] {true, false}) {
                String what = "addGelu " + at + " " + ops.describe() + (keepPre ? " keepPre" : "");
                Tensor[] got = CpuAddGelu.addGelu(BE, a, b, keepPre, ops);
                float[] out = BE.download(got[0]);
                p.check(what + " out vs RefAddGelu", got[0], ref[0], 1e-6);
                for (int i = 0; i < out.length; i++) {
                    float s = a.array()[a.off() + i] + b.array()[b.off() + i];
                    double g = RefGelu.gelu(s);
                    assertTrue(Math.abs(out[i] - g) <= 1e-6 * Math.abs(g) + Float.MIN_NORMAL,
                            what + ": gelu(" + s + ") = " + out[i] + " vs " + g + " at " + i);
                }
                if (keepPre) {
                    float[] pre = BE.download(got[1]);
                    for (int i = 0; i < pre.length; i++)
                        assertEquals(a.array()[a.off() + i] + b.array()[b.off() + i], pre[i], 0f, what + " pre at " + i);
                } else {
                    assertNull(got[1], what + ": pre must be null unless kept");
                }
                if (ops == SimdOps.BEST) {
                    float[] u = unfused(a, b);
                    for (int i = 0; i < out.length; i++)
                        assertEquals(u[i], out[i], 4 * Math.ulp(u[i]), what + ": differs from gelu(add(a, b)) at " + i);
                }
                for (Tensor t : got) if (t != null) BE.release(t);
            }
    }

    private static float[] unfused(Tensor a, Tensor b) {
        Tensor s = BE.add(a, b), y = BE.gelu(s);
        float[] v = BE.download(y);
        BE.release(s);
        BE.release(y);
        return v;
    }
}
