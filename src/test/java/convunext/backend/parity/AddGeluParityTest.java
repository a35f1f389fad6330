package convunext.backend.parity;

import static org.junit.jupiter.api.Assertions.assertNull;

import convunext.tensor.Tensor;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The fused residual add + GELU on every backend against the float64 oracle, pre kept or not, on
 * sizes with partial blocks and vector tails: out within 1e-6 normwise on the CPU, 1e-5 on the
 * CUDA kernels (as gelu); pre within 1e-7 (one float add, see AddParityTest). a + b ~ N(−0.5, 2.2²)
 * covers both tails and the curved middle of GELU.
 */
class AddGeluParityTest {
    @RegisterExtension static final BackendParity.Backends BACKENDS = new BackendParity.Backends();

    @OnEveryBackend void onePartialBlockKeepPre(String b) throws Exception { addGelu(b, 29, 1, 3, 7, 11, true); }

    @OnEveryBackend void severalBlocksNoPre(String b) throws Exception { addGelu(b, 30, 2, 5, 13, 17, false); }

    @OnEveryBackend void level0ChannelsKeepPre(String b) throws Exception { addGelu(b, 31, 2, 32, 9, 7, true); }

    @OnEveryBackend void smallNoPre(String b) throws Exception { addGelu(b, 34, 2, 3, 7, 5, false); }

    private static void addGelu(String backend, long seed, int n, int c, int h, int w, boolean keepPre) throws Exception {
        try (BackendParity p = BACKENDS.open(backend, seed)) {
            String tag = "addGelu " + n + "x" + c + "x" + h + "x" + w + (keepPre ? " keepPre" : "");
            Tensor[] a = p.normalT(2, -0.5, n, c, h, w), b = p.gaussT(n, c, h, w);
            Tensor[] got = p.be.addGelu(a[0], b[0], keepPre), ref = p.ref.addGelu(a[1], b[1], true);
            p.check(tag + " out", got, ref, 0, p.tol(1e-6, 1e-5));
            if (keepPre) p.check(tag + " pre", got, ref, 1, 1e-7);
            else assertNull(got[1], tag + ": pre must be null unless kept");
        }
    }
}
