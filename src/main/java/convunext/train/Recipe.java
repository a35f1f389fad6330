package convunext.train;

import convunext.data.AugmentConfig;
import convunext.nn.ParamStore;
import convunext.optim.AdamW;
import convunext.optim.PolySchedule;

/**
 * The training recipe in one place: the reference's defaults (the authors' train.py for DRIVE:
 * AdamW 1.5e-3, betas 0.9/0.999, eps 1e-8, weight decay 5e-5, batch 4, short side resized to
 * U(0.8, 1.5)·512, flips p 0.5, crop 480, 300 epochs, one warm-up epoch from 1e-3 then
 * (1 − progress)^0.9 per step, base_c 32), and the shorter run on the built-in synthetic set.
 * {@link TrainOptions} carries what the user may change per run; the rest is read from here.
 */
public record Recipe(int epochs, int batch, int crop, int baseSize, int baseC, double lr, double weightDecay,
                     float beta1, float beta2, float eps, double minScale, double maxScale, double flipP,
                     int warmupEpochs, double warmupFactor) {
    public static final Recipe REFERENCE = new Recipe(300, 4, 480, 512, 32, 1.5e-3, 5e-5,
            0.9f, 0.999f, 1e-8f, 0.8, 1.5, 0.5, 1, 1e-3);

    /** The built-in synthetic vessel set (96×96 images): about a minute on 2 CPU cores. */
    public static final Recipe SYNTHETIC = new Recipe(40, 4, 96, 96, 16, 1.5e-3, 5e-5,
            0.9f, 0.999f, 1e-8f, 0.8, 1.5, 0.5, 1, 1e-3);

    /** Resize, flips and crop for a run with these sizes. */
    public AugmentConfig augment(int runBaseSize, int runCrop) {
        return new AugmentConfig(runBaseSize, minScale, maxScale, runCrop, flipP);
    }

    /** The learning-rate schedule over {@code epochs} epochs of {@code stepsPerEpoch} steps. */
    public PolySchedule schedule(long stepsPerEpoch, long runEpochs) {
        return new PolySchedule(stepsPerEpoch, runEpochs, warmupEpochs, warmupFactor);
    }

    /** AdamW with this recipe's betas and eps and the run's weight decay. */
    public AdamW optimizer(ParamStore params, double runWeightDecay) {
        return new AdamW(params, beta1, beta2, eps, (float) runWeightDecay);
    }
}
