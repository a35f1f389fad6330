package convunext.optim;

/**
 * The reference learning-rate schedule (create_lr_scheduler of the ConvUNeXt training code): a
 * linear warm-up from factor {@code warmupFactor} over the first {@code warmupEpochs} epochs,
 * then (1 − progress)^0.9 per step. factor(x) multiplies the base learning rate at step x
 * (x counts optimiser steps from 0).
 */
public final class PolySchedule {
    private final long stepsPerEpoch, totalEpochs, warmupEpochs;
    private final double warmupFactor;

    public PolySchedule(long stepsPerEpoch, long totalEpochs, long warmupEpochs, double warmupFactor) {
        if (stepsPerEpoch < 1 || totalEpochs < 1) throw new IllegalArgumentException("schedule needs ≥ 1 step and epoch");
        this.stepsPerEpoch = stepsPerEpoch;
        this.totalEpochs = totalEpochs;
        // the reference divides by (epochs − warmup): keep at least one post-warm-up epoch
        this.warmupEpochs = totalEpochs > 1 ? Math.min(warmupEpochs, totalEpochs - 1) : 0;
        this.warmupFactor = warmupFactor;
    }

    /** Defaults of the reference: one warm-up epoch from 1e-3. */
    public static PolySchedule reference(long stepsPerEpoch, long epochs) {
        return new PolySchedule(stepsPerEpoch, epochs, 1, 1e-3);
    }

    public double factor(long x) {
        long warm = warmupEpochs * stepsPerEpoch;
        if (warm > 0 && x <= warm) {
            double alpha = (double) x / warm;
            return warmupFactor * (1 - alpha) + alpha;
        }
        double progress = (double) (x - warm) / ((totalEpochs - warmupEpochs) * stepsPerEpoch);
        return Math.pow(Math.max(0.0, 1 - progress), 0.9);
    }
}
