package convunext.backend.cpu;

import convunext.backend.parity.BackendParity;
import convunext.tensor.Tensor;
import java.util.Random;

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

    /** Raw bits of every element, for bit-for-bit comparisons. */
    static int[] bits(float[] a) {
        int[] b = new int[a.length];
        for (int i = 0; i < a.length; i++) b[i] = Float.floatToRawIntBits(a[i]);
        return b;
    }
}
