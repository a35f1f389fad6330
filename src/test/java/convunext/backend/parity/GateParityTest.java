package convunext.backend.parity;

import convunext.tensor.Tensor;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The gated skip attention (gateIn, gateOut and their backwards, and the inference chain around
 * them, gateChain) on every backend against the float64 oracle. Tolerance 1e-6 normwise on the CPU (σ and tanh from IEEE operations, FloatMath),
 * 1e-5 on the CUDA kernels (one float32 exp and tanh each); gateIn's backward is a copy: exact
 * (added into held gradients: one float32 add, the same tolerance).
 */
class GateParityTest {
    @RegisterExtension static final BackendParity.Backends BACKENDS = new BackendParity.Backends();

    @OnEveryBackend void odd(String b) throws Exception { gate(b, 23, 2, 5, 13, 17); }

    @OnEveryBackend void small(String b) throws Exception { gate(b, 51, 2, 5, 7, 9); }

    /**
     * The Up block's inference chain (Backend.gateChain: gate linear, gateIn, linear1, gateOut,
     * linear2, the 1×1 conv over [·; low]) at a fused width (C 5, odd plane; C 32 over several CPU
     * pixel blocks with a partial last one, no biases) and at one the CPU leaves to the composition
     * (C 264). Weights scaled by 1/√K keep every stage's output at the scale of its input, so to first
     * order the stages' errors add: four GEMM stages at 1e-5 (LinearParityTest's) and the gate's
     * ≤ 1e-5: 5e-5 normwise.
     */
    @OnEveryBackend void chainFused(String b) throws Exception { chain(b, 61, 2, 5, 3, 13, 17, true); }

    @OnEveryBackend void chainSeveralBlocksNoBias(String b) throws Exception { chain(b, 62, 1, 32, 16, 23, 29, false); }

    @OnEveryBackend void chainComposed(String b) throws Exception { chain(b, 63, 1, 264, 24, 5, 7, true); }

    private static void chain(String backend, long seed, int n, int c, int co, int h, int w, boolean bias) throws Exception {
        try (BackendParity p = BACKENDS.open(backend, seed)) {
            String tag = "gateChain " + n + "x" + c + "x" + h + "x" + w + " → " + co + (bias ? " bias" : "");
            Tensor[] low = p.gaussT(n, c, h, w), skip = p.normalT(1, 0.3, n, c, h, w);
            double k1 = 1 / Math.sqrt(c), k2 = 1 / Math.sqrt(2 * c);
            Tensor[] gw = p.normalT(k1, 0, 3 * c, c), w1 = p.normalT(k1, 0, c, c), w2 = p.normalT(k1, 0, c, c), wc = p.normalT(k2, 0, co, 2 * c);
            Tensor[] none = {null, null};
            Tensor[] gb = bias ? p.gaussT(3 * c) : none, b1 = bias ? p.gaussT(c) : none, b2 = bias ? p.gaussT(c) : none, bc = bias ? p.gaussT(co) : none;
            p.check(tag, p.be.gateChain(low[0], skip[0], gw[0], gb[0], w1[0], b1[0], w2[0], b2[0], wc[0], bc[0]),
                    p.ref.gateChain(low[1], skip[1], gw[1], gb[1], w1[1], b1[1], w2[1], b2[1], wc[1], bc[1]), 5e-5);
        }
    }

    private static void gate(String backend, long seed, int n, int c, int h, int w) throws Exception {
        try (BackendParity p = BACKENDS.open(backend, seed)) {
            double tol = p.tol(1e-6, 1e-5);
            Tensor[] g = p.gaussT(n, 3 * c, h, w), s = p.normalT(1, 0.3, n, c, h, w), a = p.gaussT(n, c, h, w);
            Tensor[] dout = p.normalT(1, 0.1, n, c, h, w), du = p.gaussT(n, c, h, w);
            p.check("gateIn", p.be.gateIn(g[0], s[0]), p.ref.gateIn(g[1], s[1]), tol);
            p.check("gateOut", p.be.gateOut(a[0], s[0], g[0]), p.ref.gateOut(a[1], s[1], g[1]), tol);
            Tensor[] got = p.be.gateOutBackward(a[0], s[0], g[0], dout[0]);
            Tensor[] ref = p.ref.gateOutBackward(a[1], s[1], g[1], dout[1]);
            p.check("gateOut da", got, ref, 0, tol);
            p.check("gateOut ds", got, ref, 1, tol);
            p.check("gateOut dg", got, ref, 2, tol);
            p.check("gateIn dg", p.be.gateInBackward(du[0], 3 * c), p.ref.gateInBackward(du[1], 3 * c), 0);
            // adding du into held dg and ds in one pass (the skip's gradient, as the tape does)
            Tensor dgc = p.be.gateInBackwardInto(du[0], 3 * c, got[2], got[1]);
            Tensor dgr = p.ref.gateInBackwardInto(du[1], 3 * c, ref[2], ref[1]);
            p.check("gateIn dg into (with ds)", dgc, dgr, tol);
            p.check("gateIn ds into", got[1], ref[1], tol);
        }
    }
}
