package convunext.backend.parity;

import convunext.tensor.Tensor;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The gated skip attention (gateIn, gateOut and their backwards, the inference chain around
 * them, gateChain, and the training chain each way, gateChainTrain and gateChainCatBackward) on every backend against the float64 oracle. Tolerance 1e-6 normwise on the CPU (σ and tanh from IEEE operations, FloatMath),
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

    /**
     * The Up block's chain in training: Backend.gateChainTrain (its six outputs) and
     * gateChainCatBackward (its ten gradients, low's added into a held one) at a width the CPU runs
     * per block and in one backward pass (C 32 over an odd 23×29 plane, two images) and at one it
     * leaves to the composition (C 8, 13×17, no biases). Forward: the inference chain's 5e-5
     * (above). Backward: each gradient is at most five GEMM stages (dY → dS2 → dS → gate → du → dlow)
     * at LinearParityTest's 1e-5 plus the gate's ≤ 1e-5 from the forward's inputs: 6e-5 normwise
     * (measured: at most 4.6e-7 on the CPU and the emulated device; a wrong gradient is O(1)).
     */
    @OnEveryBackend void trainChainOnePass(String b) throws Exception { trainChain(b, 64, 2, 32, 32, 23, 29, true); }

    @OnEveryBackend void trainChainComposedNoBias(String b) throws Exception { trainChain(b, 65, 1, 8, 12, 13, 17, false); }

    private static void trainChain(String backend, long seed, int n, int c, int co, int h, int w, boolean bias) throws Exception {
        try (BackendParity p = BACKENDS.open(backend, seed)) {
            String tag = "gateChainTrain " + n + "x" + c + "x" + h + "x" + w + " → " + co + (bias ? " bias" : "");
            Tensor[] low = p.gaussT(n, c, h, w), skip = p.normalT(1, 0.3, n, c, h, w), gy = p.gaussT(n, co, h, w);
            Tensor[] held = p.gaussT(n, c, h, w);
            double k1 = 1 / Math.sqrt(c), k2 = 1 / Math.sqrt(2 * c);
            Tensor[] gw = p.normalT(k1, 0, 3 * c, c), w1 = p.normalT(k1, 0, c, c), w2 = p.normalT(k1, 0, c, c), wc = p.normalT(k2, 0, co, 2 * c);
            Tensor[] none = {null, null};
            Tensor[] gb = bias ? p.gaussT(3 * c) : none, b1 = bias ? p.gaussT(c) : none, b2 = bias ? p.gaussT(c) : none, bc = bias ? p.gaussT(co) : none;
            Tensor[] f = p.be.gateChainTrain(low[0], skip[0], gw[0], gb[0], w1[0], b1[0], w2[0], b2[0], wc[0], bc[0]);
            Tensor[] fr = p.ref.gateChainTrain(low[1], skip[1], gw[1], gb[1], w1[1], b1[1], w2[1], b2[1], wc[1], bc[1]);
            String[] outs = {"g", "u", "a", "s", "s2", "y"};
            for (int i = 0; i < 6; i++) p.check(tag + " " + outs[i], f, fr, i, 5e-5);
            boolean[] biases = {bias, bias, bias, bias};
            Tensor[] into = new Tensor[10], intoRef = new Tensor[10];
            into[0] = held[0];
            intoRef[0] = held[1];
            Tensor[] d = p.be.gateChainCatBackward(low[0], skip[0], java.util.Arrays.copyOf(f, 5), new Tensor[] {gw[0], w1[0], w2[0], wc[0]},
                    gy[0], biases, true, true, into);
            Tensor[] dr = p.ref.gateChainCatBackward(low[1], skip[1], java.util.Arrays.copyOf(fr, 5), new Tensor[] {gw[1], w1[1], w2[1], wc[1]},
                    gy[1], biases, true, true, intoRef);
            String[] grads = {"dlow (into held)", "dskip", "dgw", "dgb", "dw1", "db1", "dw2", "db2", "dwc", "dbc"};
            for (int i = 0; i < 10; i++)
                if (dr[i] != null) p.check(tag + " " + grads[i], d, dr, i, 6e-5);
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
