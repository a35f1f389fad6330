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
            for (int i = s; i < e; i++) ya[yo + i] = aa[ao + i] + ba[bo + i];
        });
        return y;
    }

    /** dst ← dst + src in place (Backend.addInPlace). */
    static void addInPlace(Tensor dst, Tensor src) {
        OpShapes.addInPlace(of(dst), of(src));
        float[] d = dst.array(), s = src.array();
        int dof = dst.off(), so = src.off();
        CpuThreads.chunks(dst.size(), 1 << 16, 2, (a, b) -> {
            for (int i = a; i < b; i++) d[dof + i] += s[so + i];
        });
    }
}
