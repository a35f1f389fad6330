package convunext.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import convunext.tensor.Tensor;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * {@link AlignedScratch}: where the offset is known it is the one that puts a humongous G1 array's
 * element on a 64-byte boundary, buffers have room for it, and the kernels that read their
 * operands from such buffers (CpuLinearBwd's spans and parked accumulators, CpuGemm's dot spans and
 * packed B, CpuMlp's hidden block, the gate chain's block) and the pool's tensors give the same bits aligned and at element 0 — so a kernel that
 * packed at one offset and read at another fails here. (With another collector the offset is 0 and
 * the comparisons are of one path with itself.)
 */
class AlignedScratchTest {
    private static final CpuBackend BE = new CpuBackend();

    @Test void offsetAndRoom() throws Exception {
        int at = AlignedScratch.knownOffset();
        assertTrue(at >= 0 && at < 16, "offset " + at);
        var hs = java.lang.management.ManagementFactory.getPlatformMXBean(com.sun.management.HotSpotDiagnosticMXBean.class);
        boolean g1 = Boolean.parseBoolean(hs.getVMOption("UseG1GC").getValue());
        long region = Long.parseLong(hs.getVMOption("G1HeapRegionSize").getValue());
        if (g1 && region <= AlignedScratch.MAX_REGION)
            assertEquals((64 - AlignedScratch.floatBaseOffset() % 64) % 64 / 4, at, "G1, region " + region);
        AlignedScratch s = new AlignedScratch();
        for (int n : new int[] {1, 1000, 1 << 20})
            assertTrue(s.get(n).length >= n + AlignedScratch.at(), "room for " + n);
    }

    @Test void sameBitsAlignedOrNot() {
        Random r = new Random(22);
        // the MLP at level-0 channels over an odd pixel count: fused backward (CpuLinearBwd), hidden block, packed GEMMs
        Tensor x = CpuTestTensors.randn(BE, r, 0.1, 2, 32, 45, 47), w1 = CpuTestTensors.randn(BE, r, 0, 128, 32);
        Tensor w2 = CpuTestTensors.randn(BE, r, 0, 32, 128), gy = CpuTestTensors.randn(BE, r, 0, 2, 32, 45, 47);
        Tensor b1 = CpuTestTensors.randn(BE, r, 0.1, 128), b2 = CpuTestTensors.randn(BE, r, 0.1, 32);
        // a long-K product through CpuGemm's dot spans (dW of a linear at level-2 channels) and a packed one
        float[] a = new float[136 * 5000], b = new float[72 * 5000], p = new float[200 * 300], q = new float[300 * 150];
        // the inference gate chain at 24 channels over 37×41 pixels (its block scratch)
        Tensor low = CpuTestTensors.randn(BE, r, 0, 1, 24, 37, 41), skip = CpuTestTensors.randn(BE, r, 0, 1, 24, 37, 41);
        Tensor gw = CpuTestTensors.randn(BE, r, 0, 72, 24), gb = CpuTestTensors.randn(BE, r, 0, 72);
        Tensor cw1 = CpuTestTensors.randn(BE, r, 0, 24, 24), cb1 = CpuTestTensors.randn(BE, r, 0, 24);
        Tensor cw2 = CpuTestTensors.randn(BE, r, 0, 24, 24), cb2 = CpuTestTensors.randn(BE, r, 0, 24);
        Tensor wc = CpuTestTensors.randn(BE, r, 0, 16, 48), bc = CpuTestTensors.randn(BE, r, 0, 16);
        for (float[] v : new float[][] {a, b, p, q})
            for (int i = 0; i < v.length; i++) v[i] = (float) r.nextGaussian();
        boolean saved = AlignedScratch.aligned;
        try {
            float[][][] out = new float[2][][];
            for (int v = 0; v < 2; v++) {
                AlignedScratch.aligned = v == 1;
                Tensor[] f = CpuMlp.forward(BE, x, w1, b1, w2, b2, true, SimdOps.BEST);
                Tensor[] g = CpuMlp.backward(BE, x, w1, w2, gy, f[1], f[2], true, true, true, SimdOps.BEST);
                float[] dot = new float[136 * 72], packed = new float[200 * 150];
                CpuGemm.gemm(136, 72, 5000, a, 0, 5000, 1, b, 0, 1, 5000, dot, 0, 72, false);
                CpuGemm.gemm(200, 150, 300, p, 0, 300, 1, q, 0, 150, 1, packed, 0, 150, false);
                out[v] = new float[][] {BE.download(f[0]), BE.download(f[1]), BE.download(f[2]),
                        BE.download(g[0]), BE.download(g[1]), BE.download(g[2]), BE.download(g[3]), BE.download(g[4]), dot, packed,
                        BE.download(CpuGate.chain(BE, low, skip, gw, gb, cw1, cb1, cw2, cb2, wc, bc, SimdOps.BEST))};
            }
            String[] names = {"y", "h", "s", "dx", "dw1", "db1", "dw2", "db2", "dot-path product", "packed product", "gate chain"};
            for (int k = 0; k < names.length; k++)
                assertArrayEquals(out[0][k], out[1][k], names[k] + ": aligned buffers (offset " + AlignedScratch.knownOffset() + ") against element 0");
        } finally {
            AlignedScratch.aligned = saved;
        }
    }
}
