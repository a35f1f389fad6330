package convunext.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertThrows;

import convunext.tensor.Tensor;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * adamw.cu vs the float64 oracle over five steps with fresh gradients, on views into one flat
 * buffer (as the optimiser uses it). Tolerance 1e-5 relative on p, m and v.
 */
class AdamWParityTest {
    static Parity p;

    @BeforeAll static void open() { p = new Parity(81); }

    @AfterAll static void close() { p.close(); }

    @Test void fiveSteps() {
        int n = 1000;
        Tensor[] flat = p.up(p.gauss(n + 7), n + 7);
        Tensor pc = p.cuda.view(flat[0], 7, n), pr = p.ref.view(flat[1], 7, n);
        Tensor[] m = p.up(new float[n], n), v = p.up(new float[n], n);
        for (int step = 1; step <= 5; step++) {
            Tensor[] g = p.up(p.gauss(n, 0.1, 0.0), n);
            p.cuda.adamw(pc, g[0], m[0], v[0], 1e-2f, 0.9f, 0.999f, 1e-8f, 1e-4f, step);
            p.ref.adamw(pr, g[1], m[1], v[1], 1e-2f, 0.9f, 0.999f, 1e-8f, 1e-4f, step);
        }
        p.check("adamw p", pc, pr, 1e-5);
        p.check("adamw m", m[0], m[1], 1e-5);
        p.check("adamw v", v[0], v[1], 1e-5);
        p.check("adamw untouched prefix", p.cuda.view(flat[0], 0, 7), p.ref.view(flat[1], 0, 7), 0);
        assertThrows(IllegalArgumentException.class,
                () -> p.cuda.adamw(pc, m[0], v[0], p.cuda.zeros(3), 1e-2f, 0.9f, 0.999f, 1e-8f, 0f, 1));
    }
}
