package convunext.backend.cuda;

import convunext.tensor.Tensor;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * elementwise.cu's two-level bias gradient (bias_backward_part, bias_backward: Launcher.biasGrad),
 * db[c] = Σ_{n,p} dy[n,c,p] in a fixed order. Our GEMMs take db from the weight-gradient pass, so
 * only the cuBLAS path of LinearOps runs these kernels; they are checked here directly (a GPU with
 * cuBLAS would otherwise be their only caller) against the float64 oracle's linear db, with one
 * chunk and with several chunks per image. Tolerance 1e-6: the partial sums are doubles.
 */
class BiasGradTest {
    static Parity p;

    @BeforeAll static void open() { p = new Parity(71); }

    @AfterAll static void close() { p.close(); }

    void db(int n, int c, int h, int w) {
        Tensor[] x = p.gaussT(n, 2, h, w), wt = p.gaussT(c, 2), dy = p.gaussT(n, c, h, w);
        Tensor got = p.cuda.launcher().empty(c);
        p.cuda.launcher().biasGrad("biasGrad", dy[0], got, n, c, h * w);
        p.check("db " + n + "x" + c + "x" + h + "x" + w, got, p.ref.linearBackward(x[1], wt[1], dy[1], false, true)[2], 1e-6);
    }

    @Test void oneChunk() { db(2, 5, 3, 7); }

    @Test void manyChunks() { db(3, 4, 31, 29); }
}
