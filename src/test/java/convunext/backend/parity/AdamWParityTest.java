package convunext.backend.parity;

import convunext.backend.cpu.ref.D;
import convunext.backend.cpu.ref.RefAdamW;
import convunext.tensor.Tensor;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * AdamW steps on every backend against the float64 oracle, with fresh gradients each step, on a
 * view into a flat buffer (as the optimiser uses it; the elements before it must stay untouched).
 * Tolerance on p, m and v: 1e-6 normwise on the CPU, 1e-5 on the CUDA kernel.
 *
 * <p>The two read the float hyperparameters differently: the CPU backend as the decimals the
 * caller meant (torch gets Python doubles: 1 − β2 = 0.001), the CUDA kernel as floats
 * (1 − 0.999f = 0.00100005, a 5e-5 relative difference in v's first step). The oracle runs with
 * the matching scalars: RefAdamW on float64 state with the decimals for the CPU, RefBackend
 * (floats widened, state stored as float32 between steps) for the device.
 */
class AdamWParityTest {
    @RegisterExtension static final BackendParity.Backends BACKENDS = new BackendParity.Backends();

    @OnEveryBackend void threeStepsFromMoments(String b) throws Exception {
        try (BackendParity p = BACKENDS.open(b, 42)) {
            int n = 1001;
            Tensor[] w = p.gaussT(n), m = p.gaussT(n), v = p.uniformT(0, 0.1, n);
            steps(p, w, m, v, 3, 1, 0.1, 1e-3f, 0.05f);
        }
    }

    @OnEveryBackend void fiveStepsOnAFlatBufferView(String b) throws Exception {
        try (BackendParity p = BACKENDS.open(b, 81)) {
            int n = 1000;
            Tensor[] flat = p.gaussT(n + 7);
            Tensor[] w = {p.be.view(flat[0], 7, n), p.ref.view(flat[1], 7, n)};
            Tensor[] m = p.up(new float[n], n), v = p.up(new float[n], n);
            steps(p, w, m, v, 5, 0.1, 0, 1e-2f, 1e-4f);
            p.check("adamw untouched prefix", p.be.view(flat[0], 0, 7), p.ref.view(flat[1], 0, 7), 0);
        }
    }

    /** {@code steps} steps with gradients N(gMean, gStd²), β = (0.9, 0.999), eps 1e-8; then p, m, v checked. */
    private static void steps(BackendParity p, Tensor[] w, Tensor[] m, Tensor[] v, int steps, double gStd, double gMean,
                              float lr, float wd) {
        D pd = BackendParity.d(w[1]), md = BackendParity.d(m[1]), vd = BackendParity.d(v[1]);
        for (int step = 1; step <= steps; step++) {
            Tensor[] g = p.normalT(gStd, gMean, w[1].size());
            p.be.adamw(w[0], g[0], m[0], v[0], lr, 0.9f, 0.999f, 1e-8f, wd, step);
            if (p.onCpu()) RefAdamW.adamw(pd, BackendParity.d(g[1]), md, vd, dec(lr), 0.9, 0.999, 1e-8, dec(wd), step);
            else p.ref.adamw(w[1], g[1], m[1], v[1], lr, 0.9f, 0.999f, 1e-8f, wd, step);
        }
        if (p.onCpu()) {
            p.check("adamw p", w[0], pd, 1e-6);
            p.check("adamw m", m[0], md, 1e-6);
            p.check("adamw v", v[0], vd, 1e-6);
        } else {
            p.check("adamw p", w[0], w[1], 1e-5);
            p.check("adamw m", m[0], m[1], 1e-5);
            p.check("adamw v", v[0], v[1], 1e-5);
        }
    }

    /** The shortest decimal that rounds to f (what the caller wrote). */
    private static double dec(float f) { return Double.parseDouble(Float.toString(f)); }
}
