package convunext.backend.parity;

import static org.junit.jupiter.api.Assertions.assertNull;

import convunext.tensor.Tensor;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Backend.mlp / mlpAddGelu / mlpBackward on every backend (the CPU's pixel-block CpuMlp; on CUDA the
 * interface's composition of gemm.cu's GELU epilogues and plain GEMMs) vs the float64 oracle
 * (RefMlp) on odd sizes, with and without biases. Tolerance 1e-5 normwise, as the GEMMs it is made
 * of. The CPU's saved state is gelu'(pre), CUDA's is pre, so s itself is not compared; the
 * gradients computed from it are.
 */
class MlpParityTest {
    @RegisterExtension static final BackendParity.Backends BACKENDS = new BackendParity.Backends();
    static final double TOL = 1e-5;

    /** w1 scaled by 1/√c so pre ~ N(·, 1) covers GELU's curved part and both tails. */
    void mlpCase(String backend, long seed, int n, int c, int hd, int co, int h, int w, boolean bias) throws Exception {
      try (BackendParity p = BACKENDS.open(backend, seed)) {
        String tag = "mlp n" + n + " c" + c + " hd" + hd + " co" + co + " " + h + "x" + w + (bias ? " bias" : "");
        Tensor[] x = p.gaussT(n, c, h, w), w1 = p.normalT(1 / Math.sqrt(c), 0, hd, c), w2 = p.normalT(1 / Math.sqrt(hd), 0, co, hd), gy = p.gaussT(n, co, h, w);
        Tensor[] b1 = bias ? p.gaussT(hd) : new Tensor[] {null, null}, b2 = bias ? p.gaussT(co) : new Tensor[] {null, null};
        Tensor[] fc = p.be.mlp(x[0], w1[0], b1[0], w2[0], b2[0], true), fr = p.ref.mlp(x[1], w1[1], b1[1], w2[1], b2[1], true);
        p.check(tag + " y", fc, fr, 0, TOL);
        p.check(tag + " h", fc, fr, 1, TOL);
        Tensor[] ic = p.be.mlp(x[0], w1[0], b1[0], w2[0], b2[0], false);
        p.check(tag + " y (infer)", ic[0], fr[0], TOL);
        assertNull(ic[1]);
        // the inference block tail: GELU's slope is at most 1.13, so y's error passes through scaled
        // by that at most, plus the add's and GELU's own roundoff (≈ 1e-7): 1.2e-5
        Tensor[] res = p.gaussT(n, co, h, w);
        p.check(tag + " gelu(res + y) (infer)", p.be.mlpAddGelu(x[0], w1[0], b1[0], w2[0], b2[0], res[0]),
                p.ref.mlpAddGelu(x[1], w1[1], b1[1], w2[1], b2[1], res[1]), 1.2e-5);
        Tensor[] gc = p.be.mlpBackward(x[0], w1[0], w2[0], gy[0], fc[1], fc[2], true, bias, bias);
        Tensor[] gr = p.ref.mlpBackward(x[1], w1[1], w2[1], gy[1], fr[1], fr[2], true, bias, bias);
        String[] names = {"dx", "dw1", "db1", "dw2", "db2"};
        for (int i = 0; i < 5; i++)
            if (gr[i] == null) assertNull(gc[i], tag + " " + names[i]);
            else p.check(tag + " " + names[i], gc, gr, i, TOL);
      }
    }

    @OnEveryBackend void smallBias(String b) throws Exception { mlpCase(b, 29, 2, 5, 19, 7, 9, 7, true); }

    @OnEveryBackend void level0ChannelsNoBias(String b) throws Exception { mlpCase(b, 30, 1, 32, 128, 32, 5, 9, false); }

    /** Several CPU pixel blocks with a partial last one; Hd > 256 (two K blocks). */
    @OnEveryBackend void wideHiddenSeveralBlocks(String b) throws Exception { mlpCase(b, 31, 1, 13, 300, 11, 17, 13, true); }
}
