package convunext.backend.parity;

import convunext.tensor.Tensor;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * add and addInPlace on every backend against the float64 oracle. One float32 add per element is
 * within half an ulp of the exact sum, hence within 2⁻²⁴ ≈ 6e-8 of max|a + b| normwise:
 * tolerance 1e-7 everywhere.
 */
class AddParityTest {
    @RegisterExtension static final BackendParity.Backends BACKENDS = new BackendParity.Backends();
    static final double TOL = 1e-7;

    @OnEveryBackend void odd(String b) throws Exception { add(b, 22, 2, 5, 13, 17); }

    @OnEveryBackend void small(String b) throws Exception { add(b, 51, 2, 3, 7, 5); }

    private static void add(String backend, long seed, int... shape) throws Exception {
        try (BackendParity p = BACKENDS.open(backend, seed)) {
            Tensor[] a = p.gaussT(shape), b = p.normalT(1, 1, shape);
            p.check("add", p.be.add(a[0], b[0]), p.ref.add(a[1], b[1]), TOL);
            p.be.addInPlace(a[0], b[0]);
            p.ref.addInPlace(a[1], b[1]);
            p.check("addInPlace", a[0], a[1], TOL);
        }
    }
}
