package convunext.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import convunext.tensor.Tensor;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * upsample.cu's tiled kernels and adamw.cu's 4-wide path against the float64 oracle on both of
 * their paths: plain (16-byte aligned) uploads, where W % 4 == 0 (or W even for the forward's
 * stores and the backward's dy loads) takes the 128-bit loads / stores, and views at an odd offset
 * that take the scalar ones; odd H and W, several tiles per plane in x and y, 1-pixel planes. The op
 * parity suite (UpsampleParityTest, AdamWParityTest: inputs at offset 5) covers only the scalar
 * paths. Tolerances: AdamW 1e-5 against the float reference op, as AdamWParityTest; upsample 1e-5
 * as UpsampleParityTest up to 2·max(2H, 2W)·2^-24·2 beyond: the kernels compute the source
 * coordinate as PyTorch's float path does (scale rounded, then scale·o rounded), so each axis's
 * weight is off by up to 2H·2^-24 (2W·2^-24), which at 272 columns (1.0e-5 measured) passes 1e-5. Determinism: the same bits under two shuffled schedules (the forward
 * stages its tile in shared memory behind a barrier).
 */
class UpsampleAdamWPathsTest {
    static Parity p;

    @BeforeAll static void open() { p = new Parity(97); }

    @AfterAll static void close() { p.close(); }

    private static final int[][] SHAPES = {
        {2, 3, 13, 17},    // odd W: scalar loads, scalar stores
        {1, 2, 21, 24},    // W % 4 == 0: 128-bit loads and stores
        {1, 3, 15, 30},    // W % 4 == 2: forward scalar loads / vector stores, backward vector dy loads / scalar stores
        {2, 2, 37, 136},   // 3 forward tiles in x (272 columns), 5 in y; 2 backward blocks in x
        {1, 1, 9, 1}, {1, 1, 1, 5}, {1, 1, 1, 1}};

    private static void up(int off, int[] s) {
        int n = convunext.backend.parity.BackendParity.numel(s);
        Tensor[] flat = p.normalT(1, 0.5, n + off), dflat = p.gaussT(4 * n + off);
        Tensor xc = p.cuda.view(flat[0], off, s), xr = p.ref.view(flat[1], off, s);
        int[] so = {s[0], s[1], 2 * s[2], 2 * s[3]};
        Tensor dc = p.cuda.view(dflat[0], off, so), dr = p.ref.view(dflat[1], off, so);
        String tag = java.util.Arrays.toString(s) + " offset " + off;
        double tol = Math.max(1e-5, 4.0 * Math.max(so[2], so[3]) * Math.ulp(1.0f) / 2);   // 2^-24 = ulp(1)/2
        p.check("upsample2x " + tag, p.cuda.upsample2x(xc), p.ref.upsample2x(xr), tol);
        p.check("upsample2xBackward " + tag, p.cuda.upsample2xBackward(dc), p.ref.upsample2xBackward(dr), tol);
    }

    @Test void upsampleAligned() {
        for (int[] s : SHAPES) up(0, s);
    }

    @Test void upsampleOffset() {
        for (int[] s : SHAPES) up(5, s);
    }

    /** n = 1003: 250 float4 pieces and a tail of 3; then the same on a view at offset 7 (scalar path). */
    @Test void adamwBothPaths() {
        for (int off : new int[]{0, 7}) {
            int n = 1003;
            Tensor[] flat = p.gaussT(n + off), m = p.gaussT(n), v = p.uniformT(0, 0.1, n);
            Tensor[] w = {p.cuda.view(flat[0], off, n), p.ref.view(flat[1], off, n)};
            for (int step = 1; step <= 3; step++) {
                Tensor[] g = p.normalT(1, 0.1, n);
                p.cuda.adamw(w[0], g[0], m[0], v[0], 1e-3f, 0.9f, 0.999f, 1e-8f, 0.05f, step);
                p.ref.adamw(w[1], g[1], m[1], v[1], 1e-3f, 0.9f, 0.999f, 1e-8f, 0.05f, step);
            }
            p.check("adamw p offset " + off, w[0], w[1], 1e-5);
            p.check("adamw m offset " + off, m[0], m[1], 1e-5);
            p.check("adamw v offset " + off, v[0], v[1], 1e-5);
        }
    }

    @Test void upsampleDeterministic() throws Exception {
        Parity.requireEmulator();
        org.junit.jupiter.api.Assumptions.assumeTrue(Parity.onEmulator(), "shuffled schedules are the emulator's");
        Tensor x = p.normalT(1, 0.5, 2, 2, 37, 136)[0], dy = p.gaussT(2, 2, 74, 272)[0];
        float[][] a = {p.cuda.download(p.cuda.upsample2x(x)), p.cuda.download(p.cuda.upsample2xBackward(dy))};
        for (long seed : new long[]{0x5eed1L, 0xbadc0deL})
            try (AutoCloseable s = EmulatorSchedule.shuffled(p.cuda, seed)) {
                float[][] b = {p.cuda.download(p.cuda.upsample2x(x)), p.cuda.download(p.cuda.upsample2xBackward(dy))};
                for (int i = 0; i < 2; i++) assertArrayEquals(bits(a[i]), bits(b[i]), "output " + i + " under seed " + seed);
            }
    }

    private static int[] bits(float[] f) {
        int[] b = new int[f.length];
        for (int i = 0; i < f.length; i++) b[i] = Float.floatToRawIntBits(f[i]);
        return b;
    }

}
