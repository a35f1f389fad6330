package convunext.backend.cpu;

import static convunext.backend.OpShapes.of;

import convunext.backend.OpShapes;
import convunext.tensor.Tensor;

/** a + b into a new tensor, and dst += src in place, threaded over contiguous chunks. */
final class CpuAdd {
    private CpuAdd() {}

    private static final int GRAIN = 1 << 14;

    static Tensor add(CpuBackend be, Tensor a, Tensor b) {
        OpShapes.add(of(a), of(b));
        Tensor y = be.empty(a.shape());
        float[] aa = a.array(), ba = b.array(), ya = y.array();
        int ao = a.off(), bo = b.off(), yo = y.off();
        CpuThreads.chunks(a.size(), GRAIN * 4, 2, (s, e) -> {
            add(aa, ao + s, ba, bo + s, ya, yo + s, e - s);
        });
        return y;
    }

    /** dst ← dst + src in place (Backend.addInPlace). */
    static void addInPlace(Tensor dst, Tensor src) {
        OpShapes.addInPlace(of(dst), of(src));
        float[] d = dst.array(), s = src.array();
        int dof = dst.off(), so = src.off();
        CpuThreads.chunks(dst.size(), 1 << 16, 2, (a, b) -> {
            add(d, dof + a, s, so + a, d, dof + a, b - a);
        });
    }

    /**
     * y[yo + i] = a[ao + i] + b[bo + i] for i &lt; n (y may be a or b at the same offset): the
     * elementwise add every CPU op uses (a held gradient + a fresh one, a residual + a branch), by
     * {@link SimdOps#add}. IEEE addition is commutative, so which operand is a does not change a bit.
     */
    static void add(float[] a, int ao, float[] b, int bo, float[] y, int yo, int n) {
        SimdOps.BEST.add(a, ao, b, bo, y, yo, n);
    }
}
