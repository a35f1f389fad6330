package convunext.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertNull;

import convunext.tensor.Tensor;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Backend.mlp / mlpBackward on the CUDA backend (the interface's composition of gemm.cu's GELU
 * epilogues and plain GEMMs) vs the float64 oracle (RefMlp) on odd sizes, with and without biases.
 * Tolerance 1e-5 relative, as the GEMMs.
 */
class MlpParityTest {
    static Parity p;
    static final double TOL = 1e-5;

    @BeforeAll static void open() { p = new Parity(29); }

    @AfterAll static void close() { p.close(); }

    void mlpCase(int n, int c, int hd, int co, int h, int w, boolean bias) {
        String tag = "mlp n" + n + " c" + c + " hd" + hd + " co" + co + " " + h + "x" + w + (bias ? " bias" : "");
        Tensor[] x = p.gaussT(n, c, h, w), w1 = p.gaussT(hd, c), w2 = p.gaussT(co, hd), gy = p.gaussT(n, co, h, w);
        Tensor[] b1 = bias ? p.gaussT(hd) : new Tensor[] {null, null}, b2 = bias ? p.gaussT(co) : new Tensor[] {null, null};
        Tensor[] fc = p.cuda.mlp(x[0], w1[0], b1[0], w2[0], b2[0], true), fr = p.ref.mlp(x[1], w1[1], b1[1], w2[1], b2[1], true);
        p.check(tag + " y", fc, fr, 0, TOL);
        p.check(tag + " h", fc, fr, 1, TOL);
        Tensor[] ic = p.cuda.mlp(x[0], w1[0], b1[0], w2[0], b2[0], false);
        p.check(tag + " y (infer)", ic[0], fr[0], TOL);
        assertNull(ic[1]);
        Tensor[] gc = p.cuda.mlpBackward(x[0], w1[0], w2[0], gy[0], fc[1], fc[2], true, bias, bias);
        Tensor[] gr = p.ref.mlpBackward(x[1], w1[1], w2[1], gy[1], fr[1], fr[2], true, bias, bias);
        String[] names = {"dx", "dw1", "db1", "dw2", "db2"};
        for (int i = 0; i < 5; i++)
            if (gr[i] == null) assertNull(gc[i], tag + " " + names[i]);
            else p.check(tag + " " + names[i], gc, gr, i, TOL);
    }

    @Test void smallBias() { mlpCase(2, 5, 19, 7, 9, 7, true); }

    @Test void level0ChannelsNoBias() { mlpCase(1, 32, 128, 32, 5, 9, false); }
}
