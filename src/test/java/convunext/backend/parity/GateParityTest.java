package convunext.backend.parity;

import convunext.tensor.Tensor;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The gated skip attention (gateIn, gateOut and their backwards) on every backend against the
 * float64 oracle. Tolerance 1e-6 normwise on the CPU (σ and tanh from IEEE operations, FloatMath),
 * 1e-5 on the CUDA kernels (one float32 exp and tanh each); gateIn's backward is a copy: exact
 * (added into held gradients: one float32 add, the same tolerance).
 */
class GateParityTest {
    @RegisterExtension static final BackendParity.Backends BACKENDS = new BackendParity.Backends();

    @OnEveryBackend void odd(String b) throws Exception { gate(b, 23, 2, 5, 13, 17); }

    @OnEveryBackend void small(String b) throws Exception { gate(b, 51, 2, 5, 7, 9); }

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
