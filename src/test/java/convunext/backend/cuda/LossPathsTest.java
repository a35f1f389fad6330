package convunext.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import convunext.backend.LossResult;
import convunext.tensor.Tensor;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * loss.cu's ce_dice_backward on both of its paths against the float64 oracle: plain (16-byte
 * aligned) uploads with P % 4 == 0 take the float4 loads / stores; P % 4 != 0, or logits and target
 * as views at an odd offset, take the scalar one. K = 2 and 3, N = 1 and 2, 1 in 5 pixels ignored
 * plus a whole 4-pixel group (pixels 0..3 of image 0), so a float4 holds kept and ignored pixels
 * alike; several forward chunks and backward blocks per image. Tolerances as LossParityTest's CUDA
 * ones (1e-5 on the loss and its parts, 1e-4 on the gradient). Determinism: the same bits (loss
 * values and dlogits) under two shuffled schedules on both paths (the forward sums through
 * shared-memory trees behind barriers; the lse it writes is read back by the backward).
 */
class LossPathsTest {
    static Parity p;

    @BeforeAll static void open() { p = new Parity(131); }

    @AfterAll static void close() { p.close(); }

    private static final int[][] SHAPES = {
        {2, 3, 12, 16},    // P = 192: vector path
        {1, 2, 40, 52},    // P = 2080: vector, 3 backward blocks, 9 forward chunks
        {2, 2, 15, 30},    // P = 450 (% 4 == 2): scalar
        {1, 3, 9, 11},     // P = 99, odd: scalar, a tail group of 3
        {2, 3, 1, 4}};     // one float4 per plane

    /** {logits, target} for {@code s} at offset {@code off} of larger buffers: [0] the CUDA ones, [1] the oracle's. */
    private static Tensor[][] inputs(int[] s, int off) {
        int n = s[0], k = s[1], h = s[2], w = s[3], np = n * h * w;
        float[] t = new float[np];
        for (int i = 0; i < np; i++) t[i] = p.rnd.nextInt(5) == 0 || i < 4 ? 255f : p.rnd.nextInt(k);
        float[] z = p.gauss(n * k * h * w, 2.0, 0);
        return new Tensor[][] {
            {view(z, off, s), view(t, off, n, h, w)},
            {p.ref.upload(z, s), p.ref.upload(t, n, h, w)}};
    }

    private static Tensor view(float[] data, int off, int... shape) {
        float[] buf = new float[data.length + off];
        java.util.Arrays.fill(buf, Float.NaN);   // a read outside the view gets NaN
        System.arraycopy(data, 0, buf, off, data.length);
        return p.cuda.view(p.cuda.upload(buf, buf.length), off, shape);
    }

    private static void loss(int[] s, int off) {
        Tensor[][] in = inputs(s, off);
        String tag = java.util.Arrays.toString(s) + " offset " + off;
        LossResult got = p.cuda.ceDiceLoss(in[0][0], in[0][1]), ref = p.ref.ceDiceLoss(in[1][0], in[1][1]);
        assertEquals(ref.loss(), got.loss(), 1e-5 * Math.abs(ref.loss()), tag + " loss");
        assertEquals(ref.ce(), got.ce(), 1e-5 * Math.abs(ref.ce()), tag + " ce");
        assertEquals(ref.dice(), got.dice(), 1e-5 * Math.max(Math.abs(ref.dice()), 1e-3), tag + " dice");
        p.check("ceDice dlogits " + tag, got.dlogits(), ref.dlogits(), 1e-4);
        float[] d = p.cuda.download(got.dlogits());
        int hw = s[2] * s[3];
        for (int k = 0; k < s[1]; k++)
            for (int i = 0; i < 4 && i < hw; i++) assertEquals(0f, d[k * hw + i], tag + ": ignored pixel " + i + " class " + k);
    }

    @Test void aligned() {
        for (int[] s : SHAPES) loss(s, 0);
    }

    @Test void offset() {
        for (int[] s : SHAPES) loss(s, 5);
    }

    @Test void deterministic() throws Exception {
        Parity.requireEmulator();
        org.junit.jupiter.api.Assumptions.assumeTrue(Parity.onEmulator(), "shuffled schedules are the emulator's");
        for (int off : new int[] {0, 3}) {
            Tensor[] in = inputs(new int[] {2, 3, 20, 36}, off)[0];
            long[] a = bits(p.cuda.ceDiceLoss(in[0], in[1]));
            for (long seed : new long[] {0x5eed1L, 0xbadc0deL})
                try (AutoCloseable s = EmulatorSchedule.shuffled(p.cuda, seed)) {
                    assertArrayEquals(a, bits(p.cuda.ceDiceLoss(in[0], in[1])), "offset " + off + " under seed " + seed);
                }
        }
    }

    /** loss, ce, dice and every dlogits value, as raw bits. */
    private static long[] bits(LossResult r) {
        float[] d = p.cuda.download(r.dlogits());
        long[] b = new long[3 + d.length];
        b[0] = Double.doubleToRawLongBits(r.loss());
        b[1] = Double.doubleToRawLongBits(r.ce());
        b[2] = Double.doubleToRawLongBits(r.dice());
        for (int i = 0; i < d.length; i++) b[3 + i] = Float.floatToRawIntBits(d[i]);
        return b;
    }
}
