package convunext.backend.cpu;

import static org.junit.jupiter.api.Assertions.*;

import java.util.SplittableRandom;
import jdk.incubator.vector.FloatVector;
import org.junit.jupiter.api.Test;

/**
 * The Vector-API exp/tanh and lane sum that replace lanewise(EXP/TANH) and reduceLanes (whose
 * results differ before and after JIT compilation): accurate, and the sum in its fixed order.
 */
class VectorMathTest {
    static final int L = FloatVector.SPECIES_PREFERRED.length();

    @Test void expIsWithinTwoUlpsDownToTheSubnormals() {
        SplittableRandom r = new SplittableRandom(11);
        float[] x = new float[L], y = new float[L];
        for (int rep = 0; rep < 4000; rep++) {
            for (int i = 0; i < L; i++) x[i] = (float) (r.nextDouble() * 190 - 102);
            VectorOps.exp(FloatVector.fromArray(FloatVector.SPECIES_PREFERRED, x, 0)).intoArray(y, 0);
            for (int i = 0; i < L; i++) {
                float ref = (float) Math.exp(x[i]);
                float tol = ref >= Float.MIN_NORMAL ? 2 * Math.ulp(ref) : 2 * Float.MIN_VALUE;
                assertEquals(ref, y[i], tol, "exp(" + x[i] + ")");
            }
        }
    }

    @Test void tanhIsAccurateNearZeroAndInTheTails() {
        SplittableRandom r = new SplittableRandom(12);
        float[] x = new float[L], y = new float[L];
        for (int rep = 0; rep < 4000; rep++) {
            for (int i = 0; i < L; i++) x[i] = (float) ((r.nextBoolean() ? 1e-3 : 6) * (r.nextDouble() * 2 - 1));
            VectorOps.tanh(FloatVector.fromArray(FloatVector.SPECIES_PREFERRED, x, 0)).intoArray(y, 0);
            for (int i = 0; i < L; i++) {
                double ref = Math.tanh(x[i]);
                assertEquals(ref, y[i], 3e-7 * Math.abs(ref) + 1e-30, "tanh(" + x[i] + ")");
            }
        }
    }

    @Test void laneSumIsTheFixedPairwiseTree() {
        SplittableRandom r = new SplittableRandom(13);
        float[] a = new float[L];
        for (int i = 0; i < L; i++) a[i] = (float) (r.nextGaussian() * Math.pow(10, r.nextInt(8)));
        float[] t = a.clone();
        for (int half = L / 2; half >= 1; half /= 2)
            for (int i = 0; i < half; i++) t[i] = t[i] + t[i + half];
        assertEquals(t[0], VectorGemmKernel.sum(FloatVector.fromArray(FloatVector.SPECIES_PREFERRED, a, 0)));
    }
}
