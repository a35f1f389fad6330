package convunext.backend.cpu.ref;

import static org.junit.jupiter.api.Assertions.*;

import java.util.Random;
import org.junit.jupiter.api.Test;

class RefGeluTest {

    /** (x, erf x, erfc x) from CPython's math.erf/erfc (correctly rounded to about 1 ulp). */
    private static final double[][] TABLE = {
        {-5.0, -0.9999999999984626, 1.9999999999984626},
        {-3.3, -0.9999969422902035, 1.9999969422902035},
        {-2.0, -0.9953222650189527, 1.9953222650189528},
        {-1.2, -0.9103139782296353, 1.9103139782296354},
        {-0.3, -0.3286267594591274, 1.3286267594591274},
        {0.05, 0.05637197779701663, 0.9436280222029834},
        {0.7, 0.6778011938374184, 0.32219880616258156},
        {1.5, 0.9661051464753108, 0.033894853524689274},
        {1.99, 0.995111413199617, 0.004888586800383003},
        {2.01, 0.9955248493552482, 0.004475150644751763},
        {2.7, 0.9998656672600594, 0.00013433273994052422},
        {3.9, 0.9999999652077514, 3.479224859723177e-08},
        {6.0, 1.0, 2.1519736712498916e-17},
        {7.3, 1.0, 5.502573750691923e-25},
        {12.0, 1.0, 1.3562611692059042e-64},
    };

    @Test void erfMatchesTable() {
        for (double[] t : TABLE) {
            assertEquals(t[1], RefGelu.erf(t[0]), 1.5e-15, "erf(" + t[0] + ")");
            assertEquals(t[2], RefGelu.erfc(t[0]), Math.max(1.5e-15, 1e-13 * t[2]), "erfc(" + t[0] + ")");
        }
        assertEquals(0, RefGelu.erf(0), 0);
        assertEquals(1, RefGelu.erf(Double.POSITIVE_INFINITY), 0);
        assertEquals(0, RefGelu.erfc(40), 0);
    }

    @Test void geluValues() {
        assertEquals(0, RefGelu.gelu(0.0), 0);
        assertEquals(0.5 * (1 + 0.6778011938374184) * 0.7 * Math.sqrt(2), RefGelu.gelu(0.7 * Math.sqrt(2)), 1e-15);
        assertEquals(-0.3 * Math.sqrt(2) * 0.5 * (1 - 0.3286267594591274), RefGelu.gelu(-0.3 * Math.sqrt(2)), 1e-15);
        // Far left tail keeps relative accuracy: −10·Φ(−10) = −10·erfc(7.0710678118654755)/2 (CPython).
        assertEquals(-10 * 7.619853024160498e-24, RefGelu.gelu(-10.0), 1e-36);
    }

    @Test void gradients() {
        Random rnd = new Random(41);
        D x = D.uniform(rnd, -4, 4, 2, 3, 9, 11);
        D y = RefGelu.gelu(x);
        D r = GradCheck.weights(rnd, y);
        GradCheck.check("gelu", new String[] {"x"}, new D[] {x}, in -> RefGelu.gelu(in[0]), r,
                new D[] {RefGelu.geluBackward(x, r)});
    }
}
