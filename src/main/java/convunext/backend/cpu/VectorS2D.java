package convunext.backend.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * The 2×2 stride-2 gather's de-interleave (and the scatter's interleave) on the Vector API: two loads of 2L consecutive floats,
 * each permuted once per output (lane i takes 2i mod L, resp. 2i + 1 mod L), and the high half
 * taken from the second load. Loaded by name only when the module is present (as
 * VectorGemmKernel); a pure copy, so the values are those of the scalar loop.
 */
final class VectorS2D implements CpuConvS2D.Deinterleave {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();
    private static final VectorShuffle<Float> EVEN = VectorShuffle.fromOp(S, i -> 2 * i % L);
    private static final VectorShuffle<Float> ODD = VectorShuffle.fromOp(S, i -> (2 * i + 1) % L);
    private static final VectorMask<Float> HIGH = VectorMask.fromLong(S, ((1L << L) - 1) & ~((1L << (L / 2)) - 1));

    private static final VectorShuffle<Float> LOW = VectorShuffle.fromOp(S, i -> i / 2);
    private static final VectorShuffle<Float> UP = VectorShuffle.fromOp(S, i -> L / 2 + i / 2);
    private static final VectorMask<Float> ODD_LANES = VectorMask.fromLong(S, 0xAAAAAAAAAAAAAAAAL & ((1L << L) - 1));

    @Override
    public void interleave(float[] a, int ao, int bo, float[] d, int o, int n) {
        int u = 0;
        for (; u + L <= n; u += L) {
            FloatVector p = FloatVector.fromArray(S, a, ao + u), q = FloatVector.fromArray(S, a, bo + u);
            p.rearrange(LOW).blend(q.rearrange(LOW), ODD_LANES).intoArray(d, o + 2 * u);
            p.rearrange(UP).blend(q.rearrange(UP), ODD_LANES).intoArray(d, o + 2 * u + L);
        }
        for (; u < n; u++) {
            d[o + 2 * u] = a[ao + u];
            d[o + 2 * u + 1] = a[bo + u];
        }
    }

    @Override
    public void run(float[] x, int s, float[] d, int o0, int o1, int n) {
        int u = 0;
        for (; u + L <= n; u += L) {
            FloatVector a = FloatVector.fromArray(S, x, s + 2 * u), b = FloatVector.fromArray(S, x, s + 2 * u + L);
            a.rearrange(EVEN).blend(b.rearrange(EVEN), HIGH).intoArray(d, o0 + u);
            a.rearrange(ODD).blend(b.rearrange(ODD), HIGH).intoArray(d, o1 + u);
        }
        for (; u < n; u++) {
            d[o0 + u] = x[s + 2 * u];
            d[o1 + u] = x[s + 2 * u + 1];
        }
    }
}
