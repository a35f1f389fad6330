package convunext.backend.cpu;

import static convunext.backend.OpShapes.of;

import convunext.backend.OpShapes;
import convunext.tensor.Tensor;

/**
 * linear over cat(a, b) on the CPU: the concat (CpuLayout), then CpuLinear, so every bit is what
 * the unfused concat + linear gave (the model's PyTorch fixtures and the CPU's digests are
 * unchanged, SIMD and scalar alike). The concat's copy is a small part of the CPU's time next to
 * the GEMM; the GPU is where it mattered (gemm_cat.cu).
 */
final class CpuLinearCat {
    private CpuLinearCat() {}

    static Tensor forward(CpuBackend be, Tensor a, Tensor b, Tensor w, Tensor bias) {
        OpShapes.linearCat(of(a), of(b), of(w), of(bias));
        Tensor x = be.concat(a, b);
        try {
            return CpuLinear.forward(be, x, w, bias);
        } finally {
            be.release(x);
        }
    }

    /** {da, db, dw, dbias} (da / db / dbias null when not asked for). */
    static Tensor[] backward(CpuBackend be, Tensor a, Tensor b, Tensor w, Tensor dy, boolean needDa, boolean needDb,
                             boolean hasBias) {
        OpShapes.linearCatBackward(of(a), of(b), of(w), of(dy));
        int ca = a.dim(1), c = ca + b.dim(1);
        Tensor x = be.concat(a, b);
        Tensor[] r;
        try {
            r = CpuLinear.backward(be, x, w, dy, needDa || needDb, hasBias);
        } finally {
            be.release(x);
        }
        Tensor da = null, db = null;
        if (r[0] != null) {
            if (needDa) da = be.sliceChannels(r[0], 0, ca);
            if (needDb) db = be.sliceChannels(r[0], ca, c);
            be.release(r[0]);
        }
        return new Tensor[] {da, db, r[1], r[2]};
    }
}
