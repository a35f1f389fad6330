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

    /**
     * The loss is read after AdamW, not between forward and backward: on a device the whole step is
     * then queued without a host round trip (and can be captured and replayed). A non-finite loss
     * therefore also runs its backward and update (the parameters become NaN); the caller stops
     * on it (Trainer's Diverged), and the checkpoints on disk are from before.
     */
    public static Result run(ConvUNeXt model, AdamW opt, Tensor images, Tensor targets, double lr) {
        Backend be = model.backend();
        LossResult lr0;
        try (Backend.StepScope s = be.step("train")) {
            model.params.zeroGrads();
            try (Tape t = new Tape(be, true)) {
                Var logits = model.forward(t, images, true);
                lr0 = be.ceDiceLoss(logits.value, targets);
                t.backward(logits, lr0.dlogits());
            }
            opt.step(lr);
        }
        return new Result(lr0.loss(), lr0.ce(), lr0.dice());
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
            Tensor logits;
            // repeated inference at one shape (predict's tiles, validation, bench) is captured and replayed
            try (Backend.StepScope s = be.step("infer " + java.util.Arrays.toString(images.shape()))) {
                logits = model.forward(t, images, false).value;
            }
            return be.download(logits);
        }
    }
}
