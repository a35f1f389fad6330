package convunext.backend.parity;

import convunext.tensor.Tensor;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Bilinear ×2 upsampling (align_corners=True) and its adjoint on every backend against the
 * float64 oracle, down to 1×1 planes (PyTorch replicates). Tolerance 1e-6 normwise on the CPU
 * (float interpolation weights), 1e-5 on the CUDA kernels.
 */
class UpsampleParityTest {
    @RegisterExtension static final BackendParity.Backends BACKENDS = new BackendParity.Backends();

    @OnEveryBackend void odd(String b) throws Exception { up(b, 44, 2, 5, 13, 17); }

    @OnEveryBackend void oddThreeChannels(String b) throws Exception { up(b, 61, 2, 3, 13, 17); }

    @OnEveryBackend void tiny(String b) throws Exception {
        up(b, 32, 1, 2, 1, 3);
        up(b, 62, 1, 2, 1, 1);
        up(b, 63, 1, 1, 1, 5);
        up(b, 64, 1, 1, 2, 3);
    }

    private static void up(String backend, long seed, int n, int c, int h, int w) throws Exception {
        try (BackendParity p = BACKENDS.open(backend, seed)) {
            double tol = p.tol(1e-6, 1e-5);
            String tag = "upsample2x " + n + "x" + c + "x" + h + "x" + w;
            Tensor[] x = p.normalT(1, 0.5, n, c, h, w), dy = p.gaussT(n, c, 2 * h, 2 * w);
            p.check(tag + " y", p.be.upsample2x(x[0]), p.ref.upsample2x(x[1]), tol);
            p.check(tag + " dx", p.be.upsample2xBackward(dy[0]), p.ref.upsample2xBackward(dy[1]), tol);
        }
    }
}
