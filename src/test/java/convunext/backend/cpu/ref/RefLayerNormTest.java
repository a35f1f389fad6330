package convunext.backend.cpu.ref;

import static org.junit.jupiter.api.Assertions.*;

import java.util.Random;
import org.junit.jupiter.api.Test;

/** The channels-first LayerNorm in float64. */
class RefLayerNormTest {

    @Test void layernormGradients() {
        Random rnd = new Random(34);
        D x = D.uniform(rnd, -2, 3, 2, 5, 9, 11), gamma = D.uniform(rnd, 0.5, 1.5, 5), beta = D.uniform(rnd, -1, 1, 5);
        D[] f = RefLayerNorm.layernorm(x, gamma, beta, 1e-6);
        assertArrayEquals(new int[] {2, 9, 11}, f[1].shape);
        D r = GradCheck.weights(rnd, f[0]);
        D[] g = RefLayerNorm.layernormBackward(x, r, gamma, f[1], f[2]);
        GradCheck.check("layernorm", new String[] {"x", "gamma", "beta"}, new D[] {x, gamma, beta},
                in -> RefLayerNorm.layernorm(in[0], in[1], in[2], 1e-6)[0], r, g);
    }

    @Test void layernormByHand() {
        // One pixel, C = 2, values (1, 3): μ = 2, var = 1 → x̂ = (−1, 1)/sqrt(1+eps).
        D x = new D(new double[] {1, 3}, 1, 2, 1, 1);
        D[] f = RefLayerNorm.layernorm(x, new D(new double[] {2, 3}, 2), new D(new double[] {0.5, -0.5}, 2), 1e-6);
        double is = 1 / Math.sqrt(1 + 1e-6);
        assertEquals(2, f[1].data[0], 0);
        assertEquals(is, f[2].data[0], 1e-15);
        assertEquals(-2 * is + 0.5, f[0].data[0], 1e-15);
        assertEquals(3 * is - 0.5, f[0].data[1], 1e-15);
    }
}
