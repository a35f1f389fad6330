package convunext.backend.cuda.ops;

import convunext.backend.LossResult;
import convunext.backend.cuda.DeviceBuffer;
import convunext.backend.cuda.KernelArgs;
import convunext.tensor.Shapes;
import convunext.tensor.Tensor;

/**
 * Launches loss.cu: per-pixel log-sum-exp, deterministic per-(image, class) sums, a one-block
 * finish that computes the loss and the Dice gradient coefficients in double, then the
 * gradient pass. Only four doubles (loss, CE, Dice part, 1/M) come back to the host.
 */
public final class LossOps {
    private final Launcher k;

    public LossOps(Launcher k) { this.k = k; }

    public LossResult ceDiceLoss(Tensor logits, Tensor target) {
        String op = "ceDiceLoss";
        Shapes.rank(op, "logits", logits, 4);
        int n = logits.dim(0), kc = logits.dim(1), h = logits.dim(2), w = logits.dim(3), p = h * w;
        Shapes.shape(op, "target", target, n, h, w);
        Shapes.require(n > 0 && kc > 0 && p > 0, op, "empty logits " + logits.shapeString());
        int slots = 2 + 3 * kc;
        int cpi = Math.max(1, Math.min(Launcher.ceilDiv(264, n), Launcher.ceilDiv(p, 256)));
        int len = Launcher.ceilDiv(p, cpi);
        cpi = Launcher.ceilDiv(p, len);
        Tensor dlogits = k.empty(logits.shape());
        Tensor[] inv = {logits, target};
        DeviceBuffer lse = k.workspace((long) n * p);
        DeviceBuffer part = k.workspace(2L * n * cpi * slots);
        DeviceBuffer sums = k.workspace(2L * n * slots);
        DeviceBuffer out = k.workspace(2L * (4 + 2L * n * kc));
        float[] head = new float[8];
        try {
            int[] pixGrid = {Launcher.ceilDiv(p, Launcher.THREADS), n, 1};
            k.launch(op, inv, "ce_dice_forward_lse", pixGrid, Launcher.block1D(), 0,
                    new KernelArgs().ptr(k.ptr(logits)).ptr(k.ptr(target)).ptr(lse.address()).i32(kc).i32(p));
            k.launch(op, inv, "ce_dice_forward_part", new int[]{n * cpi, 1, 1}, Launcher.block1D(), 0,
                    new KernelArgs().ptr(k.ptr(logits)).ptr(k.ptr(target)).ptr(lse.address()).ptr(part.address())
                            .i32(kc).i32(p).i32(cpi).i32(len));
            k.launch(op, inv, "ce_dice_forward_reduce", new int[]{1, 1, 1}, Launcher.block1D(), 0,
                    new KernelArgs().ptr(part.address()).ptr(sums.address()).ptr(out.address()).i32(n).i32(kc).i32(cpi));
            k.launch(op, inv, "ce_dice_backward", pixGrid, Launcher.block1D(), 0,
                    new KernelArgs().ptr(k.ptr(logits)).ptr(k.ptr(target)).ptr(lse.address()).ptr(out.address())
                            .ptr(k.ptr(dlogits)).i32(kc).i32(p));
            k.device().copyDtoH(head, 0, out.address(), 8);
        } finally {
            k.free(lse);
            k.free(part);
            k.free(sums);
            k.free(out);
        }
        return new LossResult(dbl(head, 0), dbl(head, 1), dbl(head, 2), dlogits);
    }

    /** The i-th double of a float array holding raw device doubles (little-endian). */
    static double dbl(float[] a, int i) {
        long lo = Float.floatToRawIntBits(a[2 * i]) & 0xffffffffL;
        long hi = Float.floatToRawIntBits(a[2 * i + 1]) & 0xffffffffL;
        return Double.longBitsToDouble(hi << 32 | lo);
    }
}
