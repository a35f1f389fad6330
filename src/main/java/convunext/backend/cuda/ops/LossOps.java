package convunext.backend.cuda.ops;

import convunext.backend.LossResult;
import convunext.backend.cuda.DeviceBuffer;
import convunext.backend.cuda.Kernels;
import convunext.tensor.Shapes;
import convunext.tensor.Tensor;

/**
 * Launches loss.cu: deterministic per-(image, class) sums that also write each pixel's
 * log-sum-exp for the backward, a one-block
 * finish that computes the loss and the Dice gradient coefficients in double, then the
 * gradient pass. The three loss values stay on the device (a stream-ordered copy into a small
 * buffer of this launcher) until the {@link LossResult} is first read, so a training step needs
 * no host round trip before its backward pass; an older result still unread when the next loss
 * is computed is read first, so none is ever lost.
 */
public final class LossOps {
    private final Launcher k;
    private DeviceBuffer result;        // loss, CE, Dice part as doubles: the head of loss.cu's `out`
    private Pending unread;

    public LossOps(Launcher k) { this.k = k; }

    /** A result not yet on the host; read() copies it from the device once. */
    private final class Pending {
        double[] values;

        double[] read() {
            if (values == null) {
                float[] head = new float[6];
                k.copyDtoH(head, 0, result.address(), 6);
                values = new double[]{dbl(head, 0), dbl(head, 1), dbl(head, 2)};
                if (unread == this) unread = null;
            }
            return values;
        }
    }

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
        if (unread != null) unread.read();   // the buffer is about to be overwritten
        if (result == null) result = k.persistent(6);
        Tensor dlogits = k.empty(logits.shape());
        Tensor[] inv = {logits, target};
        DeviceBuffer lse = k.workspace((long) n * p);
        DeviceBuffer part = k.workspace(2L * n * cpi * slots);
        DeviceBuffer sums = k.workspace(2L * n * slots);
        DeviceBuffer out = k.workspace(2L * (4 + 2L * n * kc));
        try {
            // ce_dice_backward: 4 pixels per thread (one float4 per plane where P % 4 == 0)
            int[] pixGrid = {Launcher.ceilDiv(p, 4 * Launcher.THREADS), n, 1};
            Kernels.ce_dice_forward_part(k.at(op, inv, new int[]{n * cpi, 1, 1}, Launcher.block1D(), 0))
                    .logits(k.ptr(logits)).target(k.ptr(target)).lse(lse.address()).partial(part.address())
                    .K(kc).P(p).cpi(cpi).L(len).launch();
            Kernels.ce_dice_forward_reduce(k.at(op, inv, new int[]{1, 1, 1}, Launcher.block1D(), 0))
                    .partial(part.address()).sums(sums.address()).out(out.address()).N(n).K(kc).cpi(cpi).launch();
            Kernels.ce_dice_backward(k.at(op, inv, pixGrid, Launcher.block1D(), 0))
                    .logits(k.ptr(logits)).target(k.ptr(target)).lse(lse.address()).out(out.address())
                    .dlogits(k.ptr(dlogits)).K(kc).P(p).launch();
            k.copyDtoD(result.address(), out.address(), 24);
        } finally {
            k.free(lse);
            k.free(part);
            k.free(sums);
            k.free(out);
        }
        Pending pending = new Pending();
        unread = pending;
        return LossResult.deferred(pending::read, dlogits);
    }

    /** The i-th double of a float array holding raw device doubles (little-endian). */
    static double dbl(float[] a, int i) {
        long lo = Float.floatToRawIntBits(a[2 * i]) & 0xffffffffL;
        long hi = Float.floatToRawIntBits(a[2 * i + 1]) & 0xffffffffL;
        return Double.longBitsToDouble(hi << 32 | lo);
    }
}
