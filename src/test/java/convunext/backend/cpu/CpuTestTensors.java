package convunext.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import convunext.backend.parity.BackendParity;
import convunext.tensor.Tensor;
import java.util.Random;
import java.util.function.Function;

/** Random inputs for the CPU backend's tests: N(mean, 1) values in a view at an offset inside a larger array. */
final class CpuTestTensors {
    private CpuTestTensors() {}

    static Tensor randn(CpuBackend be, Random r, double mean, int... shape) {
        int n = 1;
        for (int d : shape) n *= d;
        float[] buf = new float[n + BackendParity.OFFSET + 3];
        for (int i = 0; i < buf.length; i++) buf[i] = (float) (mean + r.nextGaussian());
        return be.view(be.upload(buf, buf.length), BackendParity.OFFSET, shape);
    }

    /** t's elements multiplied by s in place (weights scaled by 1/√K keep a layer's output at its input's scale). */
    static void scale(Tensor t, double s) {
        for (int i = 0; i < t.size(); i++) t.array()[t.off() + i] *= (float) s;
    }

    /** A fresh tensor with t's shape and values (a held gradient that a call may add into). */
    static Tensor copy(CpuBackend be, Tensor t) { return be.upload(be.download(t), t.shape()); }

    /** Runs body(case, threads) for every case at 1 thread and at every thread the pool has, then restores the pool. */
    static void atOneAndAllThreads(int[][] cases, java.util.function.BiConsumer<int[], Integer> body) {
        int all = CpuThreads.threads();
        try {
            for (int threads : new int[] {1, all})
                for (int[] c : cases) {
                    CpuThreads.setThreads(threads);
                    body.accept(c, threads);
                }
        } finally {
            CpuThreads.setThreads(all);
        }
    }

    /** Raw bits of every element, for bit-for-bit comparisons. */
    static int[] bits(float[] a) {
        int[] b = new int[a.length];
        for (int i = 0; i < a.length; i++) b[i] = Float.floatToRawIntBits(a[i]);
        return b;
    }

    /**
     * An op that adds its gradients into held ones (a *BackwardInto) against its fresh results: for
     * every subset of held gradients (bit i of the mask: slot i held), at 1 thread and at every thread
     * the pool has, each slot comes back in the held tensor when one was given and equals held + fresh
     * bit for bit (else fresh). op gets one copy of the held tensors per call, null where not held.
     */
    static void checkHeldSubsets(CpuBackend be, String what, Tensor[] fresh, Tensor[] held, Function<Tensor[], Tensor[]> op) {
        int slots = fresh.length;
        for (int mask = 0; mask < 1 << slots; mask++) {
            float[][] want = new float[slots][];
            for (int i = 0; i < slots; i++) {
                float[] v = be.download(fresh[i]);
                if ((mask >> i & 1) == 1) {
                    float[] h0 = be.download(held[i]);
                    for (int j = 0; j < v.length; j++) v[j] = h0[j] + v[j];
                }
                want[i] = v;
            }
            int all = CpuThreads.threads();
            for (int threads : new int[] {1, all}) {
                Tensor[] into = new Tensor[slots];
                for (int i = 0; i < slots; i++) into[i] = (mask >> i & 1) == 1 ? copy(be, held[i]) : null;
                Tensor[] got;
                try {
                    CpuThreads.setThreads(threads);
                    got = op.apply(into);
                } finally {
                    CpuThreads.setThreads(all);
                }
                String at = what + " held " + Integer.toBinaryString(mask) + ", " + threads + " thread(s)";
                for (int i = 0; i < slots; i++) {
                    if (into[i] != null) assertSame(into[i], got[i], "gradient " + i + " comes back in the held tensor: " + at);
                    assertArrayEquals(want[i], be.download(got[i]), "gradient " + i + ": " + at);
                }
            }
        }
    }
}
