package convunext.train;

import convunext.autograd.Tape;
import convunext.autograd.Var;
import convunext.backend.Backend;
import convunext.backend.LossResult;
import convunext.nn.ConvUNeXt;
import convunext.optim.AdamW;
import convunext.tensor.Tensor;

/**
 * One optimisation step on a device-resident batch: zero the gradients, forward in train mode,
 * CE + Dice loss, backward, AdamW. All temporaries go back to the backend's pool at the end, so
 * a steady-state step allocates no new device memory.
 */
public final class TrainStep {
    private TrainStep() {}

    /** Result of a step: the loss and its parts. */
    public record Result(double loss, double ce, double dice) {}

    public static Result run(ConvUNeXt model, AdamW opt, Tensor images, Tensor targets, double lr) {
        Backend be = model.backend();
        model.params.zeroGrads();
        LossResult loss;
        try (Tape t = new Tape(be, true)) {
            Var logits = model.forward(t, images, true);
            loss = be.ceDiceLoss(logits.value, targets);
            if (!Double.isFinite(loss.loss())) {
                be.release(loss.dlogits());
                return new Result(loss.loss(), loss.ce(), loss.dice());
            }
            t.backward(logits, loss.dlogits());
        }
        opt.step(lr);
        return new Result(loss.loss(), loss.ce(), loss.dice());
    }

    /** Forward and backward only (no update): for benchmarks and gradient inspection. */
    public static double forwardBackward(ConvUNeXt model, Tensor images, Tensor targets) {
        Backend be = model.backend();
        model.params.zeroGrads();
        try (Tape t = new Tape(be, true)) {
            Var logits = model.forward(t, images, true);
            LossResult r = be.ceDiceLoss(logits.value, targets);
            t.backward(logits, r.dlogits());
            return r.loss();
        }
    }

    /** Eval-mode logits, downloaded to the host ([N,classes,H,W] flattened). */
    public static float[] inferLogits(ConvUNeXt model, Tensor images) {
        Backend be = model.backend();
        try (Tape t = new Tape(be, false)) {
            return be.download(model.forward(t, images, false).value);
        }
    }
}
