package convunext.backend.cuda;

import convunext.tensor.Tensor;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The 16-byte (float4) paths of the elementwise, gate, concat and BatchNorm kernels against the
 * float64 oracle. The op parity suite puts every input {@code BackendParity.OFFSET} = 5 floats into
 * a larger buffer, so it takes the scalar paths only; here inputs are plain (16-byte aligned)
 * uploads at sizes where a plane or image is a multiple of 4 floats, which is where the model runs
 * them, plus totals that leave a scalar tail after the float4 part (cu_for4). The emulated launches
 * are recorded, so the sanitizer replay checks these paths' extents too. Tolerances as the ops'
 * own parity tests.
 */
class Float4PathsParityTest {
    static Parity p;

    @BeforeAll static void open() { p = new Parity(61); }

    @AfterAll static void close() { p.close(); }

    /** add, addInPlace, fill, gelu and its backward, add+GELU (cu_for4): 378 = 94 pieces + a tail of 2. */
    @Test void elementwise() {
        int[] s = {2, 3, 7, 9};
        Tensor[] a = p.gaussT(s), b = p.gaussT(s), dy = p.gaussT(s);
        p.check("add", p.cuda.add(a[0], b[0]), p.ref.add(a[1], b[1]), 1e-6);
        p.check("gelu", p.cuda.gelu(a[0]), p.ref.gelu(a[1]), 1e-5);
        p.check("geluBackward", p.cuda.geluBackward(a[0], dy[0]), p.ref.geluBackward(a[1], dy[1]), 1e-5);
        Tensor[] gc = p.cuda.addGelu(a[0], b[0], true), gr = p.ref.addGelu(a[1], b[1], true);
        p.check("addGelu h", gc, gr, 0, 1e-5);
        p.check("addGelu pre", gc, gr, 1, 1e-6);
        Tensor[] acc = p.gaussT(s);
        p.cuda.addInPlace(acc[0], b[0]);
        p.ref.addInPlace(acc[1], b[1]);
        p.check("addInPlace", acc[0], acc[1], 1e-6);
        p.cuda.fill(acc[0], 0.375f);
        p.ref.fill(acc[1], 0.375f);
        p.check("fill", acc[0], acc[1], 0);
    }

    /** gate.cu's four kernels with C*H*W % 4 == 0 (the float4 piece per thread, 2 blocks per image). */
    @Test void gate() {
        int n = 2, c = 4, h = 16, w = 18;
        Tensor[] g = p.gaussT(n, 3 * c, h, w), s = p.normalT(1, 0.3, n, c, h, w), a = p.gaussT(n, c, h, w);
        Tensor[] dout = p.normalT(1, 0.1, n, c, h, w), du = p.gaussT(n, c, h, w);
        p.check("gateIn", p.cuda.gateIn(g[0], s[0]), p.ref.gateIn(g[1], s[1]), 1e-5);
        p.check("gateOut", p.cuda.gateOut(a[0], s[0], g[0]), p.ref.gateOut(a[1], s[1], g[1]), 1e-5);
        Tensor[] got = p.cuda.gateOutBackward(a[0], s[0], g[0], dout[0]);
        Tensor[] ref = p.ref.gateOutBackward(a[1], s[1], g[1], dout[1]);
        p.check("gateOut da", got, ref, 0, 1e-5);
        p.check("gateOut ds", got, ref, 1, 1e-5);
        p.check("gateOut dg", got, ref, 2, 1e-5);
        p.check("gateIn dg", p.cuda.gateInBackward(du[0], 3 * c), p.ref.gateInBackward(du[1], 3 * c), 0);
        // adding into gateOut's dg, as the tape does for the skip's gradient
        p.check("gateIn dg into", p.cuda.gateInBackwardInto(du[0], 3 * c, got[2]), p.ref.gateInBackwardInto(du[1], 3 * c, ref[2]),
                1e-5);
        p.check("gateIn dg into (with ds)", p.cuda.gateInBackwardInto(du[0], 3 * c, got[2], got[1]),
                p.ref.gateInBackwardInto(du[1], 3 * c, ref[2], ref[1]), 1e-5);
        p.check("gateIn ds into", got[1], ref[1], 1e-5);
    }

    /** concat and its backward (concat_backward) with H*W % 4 == 0. */
    @Test void concat() {
        Tensor[] a = p.gaussT(2, 3, 8, 12), b = p.gaussT(2, 5, 8, 12);
        Tensor[] yc = {p.cuda.concat(a[0], b[0]), p.ref.concat(a[1], b[1])};
        p.check("concat", yc[0], yc[1], 0);
        p.check("slice 0:3", p.cuda.sliceChannels(yc[0], 0, 3), p.ref.sliceChannels(yc[1], 0, 3), 0);
        p.check("slice 3:8", p.cuda.sliceChannels(yc[0], 3, 8), p.ref.sliceChannels(yc[1], 3, 8), 0);
        Tensor[] sc = p.cuda.concatBackward(yc[0], 3), sr = p.ref.concatBackward(yc[1], 3);
        p.check("concatBackward a", sc, sr, 0, 0);
        p.check("concatBackward b", sc, sr, 1, 0);
    }

    /** BatchNorm's float4 apply (training, eval, backward, backward into) with H*W % 4 == 0 and several blocks per plane. */
    @Test void batchnorm() {
        int n = 2, c = 3, h = 72, w = 60;   // 4320 floats per plane: two apply blocks of BN_EPB
        Tensor[] x = p.normalT(2, 0.7, n, c, h, w), g = p.normalT(0.5, 1.0, c), beta = p.gaussT(c);
        Tensor[] rm = p.gaussT(c), rv = p.uniformT(0.5, 2.0, c);
        Tensor[] got = p.cuda.batchnormTrain(x[0], g[0], beta[0], rm[0], rv[0], 0.1f, 1e-5f);
        Tensor[] ref = p.ref.batchnormTrain(x[1], g[1], beta[1], rm[1], rv[1], 0.1f, 1e-5f);
        p.check("bn y", got, ref, 0, 1e-4);
        p.check("bn running_mean", rm[0], rm[1], 1e-4);
        p.check("bn running_var", rv[0], rv[1], 1e-4);
        p.check("bn eval", p.cuda.batchnormEval(x[0], g[0], beta[0], rm[0], rv[0], 1e-5f),
                p.ref.batchnormEval(x[1], g[1], beta[1], rm[1], rv[1], 1e-5f), 1e-4);
        Tensor[] dy = p.normalT(1, 0.2, n, c, h, w);
        Tensor[] gb = p.cuda.batchnormBackward(x[0], dy[0], g[0], got[1], got[2]);
        Tensor[] gr = p.ref.batchnormBackward(x[1], dy[1], g[1], ref[1], ref[2]);
        p.check("bn dx", gb, gr, 0, 1e-4);
        p.check("bn dgamma", gb, gr, 1, 1e-4);
        p.check("bn dbeta", gb, gr, 2, 1e-4);
        Tensor[] held = p.gaussT(n, c, h, w);
        Tensor[] gi = p.cuda.batchnormBackwardInto(x[0], dy[0], g[0], got[1], got[2], held[0], null, null);
        Tensor[] gir = p.ref.batchnormBackwardInto(x[1], dy[1], g[1], ref[1], ref[2], held[1], null, null);
        p.check("bn dx into", gi, gir, 0, 1e-4);
    }
}
