package convunext.backend.cpu;

import static org.junit.jupiter.api.Assertions.*;

import java.util.SplittableRandom;
import jdk.incubator.vector.FloatVector;
import org.junit.jupiter.api.Test;

/** The GEMM's lane sum runs in a fixed order (reduceLanes' order differs before and after JIT compilation). */
class VectorMathTest {
    static final int L = FloatVector.SPECIES_PREFERRED.length();

    @Test void laneSumIsSequential() {
        SplittableRandom r = new SplittableRandom(13);
        float[] a = new float[L];
        for (int i = 0; i < L; i++) a[i] = (float) (r.nextGaussian() * Math.pow(10, r.nextInt(8)));
        float t = 0;
        for (float x : a) t += x;
        assertEquals(t, VectorGemmKernel.sum(FloatVector.fromArray(FloatVector.SPECIES_PREFERRED, a, 0)));
    }
}
