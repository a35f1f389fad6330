package convunext.autograd;

import static org.junit.jupiter.api.Assertions.*;

import convunext.backend.Backend;
import convunext.backend.cpu.ref.RefBackend;
import convunext.tensor.Tensor;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** F.mlp (GELU fused into both GEMMs) against the unfused chain F.linear → F.gelu → F.linear. */
class MlpTest {
    private final Backend be = new RefBackend();

    private Tensor rand(Random r, int... shape) {
        int n = 1;
        for (int d : shape) n *= d;
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) (r.nextDouble() * 4 - 2);
        return be.upload(a, shape);
    }

    /** {y, dx, dw1, db1, dw2, db2} for one forward/backward with the given gradient of y. */
    private float[][] run(boolean fused, Tensor x0, Tensor w10, Tensor b10, Tensor w20, Tensor b20, Tensor gy0) {
        try (Tape t = new Tape(be, true)) {
            Var x = Var.parameter("x", x0, be.zeros(x0.shape()));
            Var w1 = Var.parameter("w1", w10, be.zeros(w10.shape())), b1 = Var.parameter("b1", b10, be.zeros(b10.shape()));
            Var w2 = Var.parameter("w2", w20, be.zeros(w20.shape())), b2 = Var.parameter("b2", b20, be.zeros(b20.shape()));
            Var y = fused ? F.mlp(t, x, w1, b1, w2, b2) : F.linear(t, F.gelu(t, F.linear(t, x, w1, b1)), w2, b2);
            float[] yv = be.download(y.value);
            Tensor g = be.empty(gy0.shape());
            be.copy(gy0, g);
            t.backward(y, g);
            return new float[][] {yv, be.download(x.grad()), be.download(w1.grad()), be.download(b1.grad()),
                    be.download(w2.grad()), be.download(b2.grad())};
        }
    }

    @Test void fusedEqualsUnfused() {
        Random r = new Random(5);
        int n = 2, c = 3, h = 5, w = 7;
        Tensor x = rand(r, n, c, h, w), w1 = rand(r, 4 * c, c), b1 = rand(r, 4 * c), w2 = rand(r, c, 4 * c),
                b2 = rand(r, c), gy = rand(r, n, c, h, w);
        float[][] a = run(true, x, w1, b1, w2, b2, gy), u = run(false, x, w1, b1, w2, b2, gy);
        String[] names = {"y", "dx", "dw1", "db1", "dw2", "db2"};
        for (int k = 0; k < a.length; k++)
            for (int i = 0; i < a[k].length; i++)
                assertEquals(u[k][i], a[k][i], 1e-5f * Math.max(1f, Math.abs(u[k][i])), names[k] + "[" + i + "]");
    }

    @Test void inferenceKeepsNoHiddenTensor() {
        Random r = new Random(6);
        Tensor x = rand(r, 1, 2, 3, 4), w1 = rand(r, 8, 2), w2 = rand(r, 2, 8);
        try (Tape t = new Tape(be, false)) {
            Var y = F.mlp(t, Var.constant(x), Var.constant(w1), null, Var.constant(w2), null);
            assertEquals(t.mark(), 1, "only the output is owned in inference");
            assertArrayEquals(new int[] {1, 2, 3, 4}, y.value.shape());
        }
    }
}
