package convunext.backend.cuda;

import static org.junit.jupiter.api.Assertions.*;

import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The selftest kernels (kernels/selftest.cu) checked on any {@link Device}: barriers and shared
 * memory, warp intrinsics, atomics, multi-dimensional grids. Subclasses open the device.
 */
abstract class DeviceSelftests {
    Device dev;

    static float[] random(int n, long seed) {
        Random r = new Random(seed);
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) r.nextGaussian();
        return a;
    }

    long upload(float[] a) {
        long p = dev.malloc(4L * a.length);
        dev.copyHtoD(p, a, 0, a.length);
        return p;
    }

    long uploadInts(int... v) {
        float[] f = new float[v.length];
        for (int i = 0; i < v.length; i++) f[i] = Float.intBitsToFloat(v[i]);
        return upload(f);
    }

    float[] download(long p, int n) {
        float[] a = new float[n];
        dev.copyDtoH(a, 0, p, n);
        return a;
    }

    int[] downloadInts(long p, int n) {
        float[] f = download(p, n);
        int[] r = new int[n];
        for (int i = 0; i < n; i++) r[i] = Float.floatToRawIntBits(f[i]);
        return r;
    }

    static void near(double want, double got, double tol, String what) {
        assertTrue(Math.abs(want - got) <= tol * (1 + Math.abs(want)), what + ": want " + want + " got " + got);
    }

    static int[] d(int... v) { return v; }

    /** Events around queued work: elapsed time ≥ 0 and finite; bad handles are errors, not crashes. */
    @Test void events() {
        int n = 1 << 16;
        long px = upload(random(n, 3)), py = upload(random(n, 4));
        long a = dev.eventCreate(), b = dev.eventCreate();
        try {
            assertThrows(CudaError.class, () -> dev.eventElapsedMs(a, b + 1000), "unknown event");
            for (int i = 0; i < 2; i++) {
                dev.eventRecord(a);
                dev.launch("selftest_saxpy", d((n + 255) / 256), d(256), 0, new KernelArgs().ptr(py).ptr(px).f32(0.5f).i32(n));
                dev.eventRecord(b);
                float ms = dev.eventElapsedMs(a, b);
                assertTrue(ms >= 0 && ms < 60_000, "elapsed " + ms + " ms");
            }
        } finally {
            dev.eventDestroy(a);
            dev.eventDestroy(b);
            dev.free(px);
            dev.free(py);
        }
        assertThrows(CudaError.class, () -> dev.eventRecord(a), "destroyed event");
    }

    /**
     * The tensor-core operand roundings (wmma::__float_to_tf32, __float2bfloat16_rn/_rz) bit for bit
     * against {@link convunext.backend.Precision}: on the emulator this checks its emulation, on a
     * GPU it checks both against the hardware. Special values, exact ties of both formats and
     * random values over 60 binades.
     */
    private static boolean bf16NaN(int b) {
        return (b & 0xffff0000) == 0 && (b & 0x7f80) == 0x7f80 && (b & 0x7f) != 0;
    }

    @Test void tensorCoreRoundingsAreBitExact() {
        java.util.List<Float> xs = new java.util.ArrayList<>(java.util.List.of(0f, -0f, 1f, -1f, Float.POSITIVE_INFINITY,
                Float.NEGATIVE_INFINITY, Float.NaN, Float.intBitsToFloat(0x7f800001), Float.intBitsToFloat(0xffc00000),
                Float.intBitsToFloat(0x7fffffff), Float.intBitsToFloat(0x7fa01234), Float.MAX_VALUE, -Float.MAX_VALUE, Float.MIN_VALUE, -Float.MIN_VALUE,
                Float.MIN_NORMAL, Math.nextDown(Float.MIN_NORMAL)));
        for (int base : new int[] {0x3f800000, 0x3f802000, 0xbf806000, 0x00400000, 0x7f7fe000, 0x40490000})
            for (int tail : new int[] {0x0fff, 0x1000, 0x1001, 0x3000, 0x7fff, 0x8000, 0x8001, 0x18000})
                xs.add(Float.intBitsToFloat(base + tail));
        Random r = new Random(91);
        for (int i = 0; i < 3000; i++) xs.add(Math.scalb((float) r.nextGaussian(), i % 60 - 30));
        int n = xs.size();
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = xs.get(i);
        long px = upload(x), pt = dev.malloc(4L * n), pb = dev.malloc(8L * n);
        try {
            dev.launch("selftest_round", d((n + 255) / 256), d(256), 0, new KernelArgs().ptr(px).ptr(pt).ptr(pb).i32(n));
            int[] tf = downloadInts(pt, n), bf = downloadInts(pb, 2 * n);
            // every mismatch is listed (a GPU run is rare: it should say everything at once). tf32 is
            // compared bit for bit, NaNs too (Precision.tf32 models what an H200 does with them); a
            // bf16 NaN's payload is unspecified (PTX), so it must only come back as a bf16 NaN
            java.util.List<String> bad = new java.util.ArrayList<>();
            for (int i = 0; i < n; i++) {
                String what = String.format("x = %a (0x%08x)", x[i], Float.floatToRawIntBits(x[i]));
                int wt = Float.floatToRawIntBits(convunext.backend.Precision.tf32(x[i]));
                int wr = convunext.backend.Precision.bf16Bits(x[i]), wz = convunext.backend.Precision.bf16BitsRz(x[i]);
                boolean nan = Float.isNaN(x[i]);
                if (wt != tf[i])
                    bad.add(String.format("tf32 of %s: 0x%08x, expected 0x%08x", what, tf[i], wt));
                if (nan ? !bf16NaN(bf[2 * i]) : wr != bf[2 * i])
                    bad.add(String.format("bf16 (rn) of %s: 0x%04x, expected 0x%04x", what, bf[2 * i], wr));
                if (nan ? !bf16NaN(bf[2 * i + 1]) : wz != bf[2 * i + 1])
                    bad.add(String.format("bf16 (rz) of %s: 0x%04x, expected 0x%04x", what, bf[2 * i + 1], wz));
            }
            assertTrue(bad.isEmpty(), bad.size() + " of " + 3 * n + " roundings differ, first: "
                    + String.join("; ", bad.subList(0, Math.min(8, bad.size()))));
        } finally {
            dev.free(px);
            dev.free(pt);
            dev.free(pb);
        }
    }

    /**
     * The WMMA GEMMs of selftest.cu (TF32 m16n16k8, bf16 m16n16k16) against a double reference:
     * against the rounded operands the error is float accumulation only; against the float
     * operands it is the format's (well above fp32's, below 2u sqrt(K)).
     */
    @Test void tensorCoreGemms() {
        for (int bf16 = 0; bf16 < 2; bf16++) {
            int m = 32, nn = 48, k = bf16 == 1 ? 64 : 40;
            float[] a = random(m * k, 21 + bf16), b = random(k * nn, 23 + bf16);
            long pa = upload(a), pb = upload(b), pc = dev.malloc(4L * m * nn);
            try {
                dev.launch(bf16 == 1 ? "selftest_wmma_bf16" : "selftest_wmma_tf32", d(nn / 16, m / 16), d(32), 0,
                        new KernelArgs().ptr(pa).ptr(pb).ptr(pc).i32(m).i32(nn).i32(k));
                float[] c = download(pc, m * nn);
                convunext.backend.Precision pr = bf16 == 1 ? convunext.backend.Precision.BF16 : convunext.backend.Precision.TF32;
                double dr = 0, dx = 0, ref = 0;
                for (int i = 0; i < m; i++)
                    for (int j = 0; j < nn; j++) {
                        double sr = 0, sx = 0;
                        for (int q = 0; q < k; q++) {
                            sr += (double) pr.round(a[i * k + q]) * pr.round(b[q * nn + j]);
                            sx += (double) a[i * k + q] * b[q * nn + j];
                        }
                        dr = Math.max(dr, Math.abs(c[i * nn + j] - sr));
                        dx = Math.max(dx, Math.abs(c[i * nn + j] - sx));
                        ref = Math.max(ref, Math.abs(sx));
                    }
                double u = pr.unitRoundoff();
                assertTrue(dr / ref <= k * 6e-8, pr + ": vs rounded operands " + dr / ref);
                assertTrue(dx / ref <= 2 * u * Math.sqrt(k) && dx / ref > u / 64, pr + ": vs float operands " + dx / ref);
            } finally {
                dev.free(pa);
                dev.free(pb);
                dev.free(pc);
            }
        }
    }

    @Test void saxpy() {
        int n = 1003;
        float[] x = random(n, 1), y = random(n, 2);
        long px = upload(x), py = upload(y);
        dev.launch("selftest_saxpy", d((n + 255) / 256), d(256), 0, new KernelArgs().ptr(py).ptr(px).f32(1.5f).i32(n));
        float[] r = download(py, n);
        // a*x+y may be contracted to one FMA (as nvcc does): allow the rounding of either form
        for (int i = 0; i < n; i++) assertEquals(1.5f * x[i] + y[i], r[i], 1e-6f * (1 + Math.abs(r[i])), "i=" + i);
        dev.free(px);
        dev.free(py);
    }

    void checkBlockSums(String kernel, int n, int block, int shmem, long seed) {
        float[] x = random(n, seed);
        int blocks = (n + block - 1) / block;
        long px = upload(x), po = dev.malloc(4L * blocks);
        dev.launch(kernel, d(blocks), d(block), shmem, new KernelArgs().ptr(px).ptr(po).i32(n));
        float[] r = download(po, blocks);
        for (int b = 0; b < blocks; b++) {
            double s = 0;
            for (int i = b * block; i < Math.min(n, (b + 1) * block); i++) s += x[i];
            near(s, r[b], 1e-5, kernel + " block " + b);
        }
        dev.free(px);
        dev.free(po);
    }

    @Test void sharedMemoryReductions() {
        checkBlockSums("selftest_block_sum_static", 1001, 256, 0, 3);
        checkBlockSums("selftest_block_sum_dynamic", 1001, 128, 128 * 4, 4);
        checkBlockSums("selftest_block_sum_dynamic", 77, 64, 64 * 4, 5);
    }

    @Test void warpShuffles() {
        int n = 203, block = 96, blocks = (n + block - 1) / block, warps = (n + 31) / 32;
        float[] x = random(n, 9);
        long px = upload(x), pd = dev.malloc(4L * warps), pa = dev.malloc(4L * n), ps = dev.malloc(4L * n),
                pb = dev.malloc(4L * n);
        dev.launch("selftest_warp_ops", d(blocks), d(block), 0, new KernelArgs().ptr(px).ptr(pd).ptr(pa).ptr(ps).ptr(pb).i32(n));
        float[] down = download(pd, warps), all = download(pa, n), scan = download(ps, n), bc = download(pb, n);
        for (int w = 0; w < warps; w++) {
            double s = 0;
            for (int i = w * 32; i < Math.min(n, w * 32 + 32); i++) s += x[i];
            near(s, down[w], 1e-5, "shfl_down warp " + w);
            double prefix = 0;
            for (int i = w * 32; i < Math.min(n, w * 32 + 32); i++) {
                prefix += x[i];
                near(s, all[i], 1e-5, "shfl_xor i=" + i);
                near(prefix, scan[i], 1e-5, "shfl_up scan i=" + i);
                assertEquals(w * 32 + 5 < n ? x[w * 32 + 5] : 0f, bc[i], 0f, "shfl broadcast i=" + i);
            }
        }
        for (long p : new long[] {px, pd, pa, ps, pb}) dev.free(p);
    }

    @Test void ballotAnyAll() {
        int n = 150, block = 64, blocks = 3, warps = 5;
        float[] x = random(n, 10);
        for (int i = 64; i < 96; i++) x[i] = Math.abs(x[i]) + 0.5f;   // warp 2: all positive
        for (int i = 96; i < 128; i++) x[i] = -Math.abs(x[i]) - 0.5f;  // warp 3: none positive
        long px = upload(x), pb = dev.malloc(4L * 6), pf = dev.malloc(4L * 6);
        dev.launch("selftest_ballot", d(blocks), d(block), 0, new KernelArgs().ptr(px).ptr(pb).ptr(pf).i32(n));
        int[] bits = downloadInts(pb, warps), flags = downloadInts(pf, warps);
        for (int w = 0; w < warps; w++) {
            int want = 0;
            for (int l = 0; l < 32; l++) if (w * 32 + l < n && x[w * 32 + l] > 0) want |= 1 << l;
            assertEquals(want, bits[w], "ballot warp " + w);
            int wantFlags = (want != 0 ? 1 : 0) + (want == -1 ? 2 : 0);
            assertEquals(wantFlags, flags[w], "any/all warp " + w);
        }
        assertEquals(3, flags[2]);
        assertEquals(0, flags[3]);
        dev.free(px);
        dev.free(pb);
        dev.free(pf);
    }

    @Test void atomicsAcrossBlocks() {
        int n = 5000;
        float[] x = random(n, 11);
        long px = upload(x), pf = upload(new float[] {0f}), pc = uploadInts(0), pm = uploadInts(Integer.MIN_VALUE),
                pu = uploadInts(-1), pd = upload(new float[2]);
        dev.launch("selftest_atomics", d((n + 255) / 256), d(256), 0,
                new KernelArgs().ptr(px).ptr(pf).ptr(pc).ptr(pm).ptr(pu).ptr(pd).i32(n));
        double sum = 0;
        int count = 0, max = Integer.MIN_VALUE, umin = -1;
        for (int i = 0; i < n; i++) {
            sum += x[i];
            if (x[i] > 0) count++;
            max = Math.max(max, (int) (x[i] * 1000f));
            if (x[i] < 0 && Integer.compareUnsigned(i + 1, umin) < 0) umin = i + 1;
        }
        near(sum, download(pf, 1)[0], 1e-3, "float atomicAdd");
        assertEquals(count, downloadInts(pc, 1)[0], "int atomicAdd");
        assertEquals(max, downloadInts(pm, 1)[0], "atomicMax");
        assertEquals(umin, downloadInts(pu, 1)[0], "atomicCAS min");
        int[] dbits = downloadInts(pd, 2);
        double dsum = Double.longBitsToDouble((dbits[0] & 0xFFFFFFFFL) | ((long) dbits[1] << 32));
        near(sum, dsum, 1e-12, "double atomicAdd");
        for (long p : new long[] {px, pf, pc, pm, pu, pd}) dev.free(p);
    }

    @Test void grids2dAnd3d() {
        int w = 37, h = 21;
        long po = upload(new float[w * h]);
        dev.launch("selftest_grid2d", d(3, 3), d(16, 8), 0, new KernelArgs().ptr(po).i32(w).i32(h));
        float[] r = download(po, w * h);
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++) assertEquals(y * 4096 + x, r[y * w + x], 0f, "(" + x + "," + y + ")");
        dev.free(po);

        int[] g = {3, 2, 2}, b = {4, 3, 2};
        int tpb = 24, total = 12 * tpb;
        long p3 = dev.malloc(4L * total);
        dev.launch("selftest_index3d", g, b, 0, new KernelArgs().ptr(p3));
        float[] o = download(p3, total);
        for (int bz = 0; bz < 2; bz++) for (int by = 0; by < 2; by++) for (int bx = 0; bx < 3; bx++)
            for (int tz = 0; tz < 2; tz++) for (int ty = 0; ty < 3; ty++) for (int tx = 0; tx < 4; tx++) {
                int lin = (bx + 3 * (by + 2 * bz)) * tpb + tx + 4 * (ty + 3 * tz);
                assertEquals(tx + 10 * ty + 100 * tz + 1000 * bx + 10000 * by + 100000 * bz, o[lin], 0f, "index " + lin);
            }
        dev.free(p3);
    }

    void matmul(int m, int n, int k, long seed) {
        float[] a = random(m * k, seed), b = random(k * n, seed + 1);
        long pa = upload(a), pb = upload(b), pc = dev.malloc(4L * m * n);
        dev.launch("selftest_matmul", d((n + 15) / 16, (m + 15) / 16), d(16, 16), 0,
                new KernelArgs().ptr(pa).ptr(pb).ptr(pc).i32(m).i32(n).i32(k));
        float[] c = download(pc, m * n);
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++) {
                double s = 0;
                for (int q = 0; q < k; q++) s += (double) a[i * k + q] * b[q * n + j];
                near(s, c[i * n + j], 1e-5, "C[" + i + "][" + j + "]");
            }
        dev.free(pa);
        dev.free(pb);
        dev.free(pc);
    }

    @Test void tiledMatmul() {
        matmul(37, 29, 45, 12);
    }

    @Test void syncthreadsCountAndOr() {
        int n = 300, block = 128, blocks = 3;
        float[] x = random(n, 13);
        for (int i = 128; i < 256; i++) x[i] = Math.abs(x[i]) + 1;  // block 1: all positive
        long px = upload(x), po = dev.malloc(4L * 3 * blocks);
        dev.launch("selftest_sync_count", d(blocks), d(block), 0, new KernelArgs().ptr(px).ptr(po).i32(n));
        float[] r = download(po, 3 * blocks);
        for (int b = 0; b < blocks; b++) {
            int c = 0;
            for (int i = b * block; i < (b + 1) * block; i++) if (i < n && x[i] > 0) c++;
            assertEquals(c, r[3 * b], 0f, "count block " + b);
            assertEquals(c == block ? 1 : 0, r[3 * b + 1], 0f, "and block " + b);
            assertEquals(c > 0 ? 1 : 0, r[3 * b + 2], 0f, "or block " + b);
        }
        dev.free(px);
        dev.free(po);
    }

    float[] racy(int fixed, int block) {
        long po = dev.malloc(4L * 2 * block);
        dev.launch("selftest_racy", d(2), d(block), 0, new KernelArgs().ptr(po).i32(fixed));
        float[] r = download(po, 2 * block);
        dev.free(po);
        return r;
    }

    @Test void barrierOrdersSharedMemory() {
        int block = 256;
        float[] want = new float[2 * block];
        for (int i = 0; i < 2 * block; i++) want[i] = (i % block + 1) % block + 1;
        assertArrayEquals(want, racy(1, block));
    }
}
