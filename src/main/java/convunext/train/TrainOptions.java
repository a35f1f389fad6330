package convunext.train;

import convunext.nn.Norm;
import java.nio.file.Path;

/**
 * Everything a training run is configured by. Defaults follow the reference recipe (batch 4,
 * short side resized to 0.8–1.5 × 512, crop 480, AdamW 1.5e-3 / 5e-5, one warm-up epoch then
 * poly, 300 epochs). {@code stopAfter} &gt; 0 ends this invocation after that many epochs (the
 * schedule still spans {@code epochs}; continue with --resume).
 */
public record TrainOptions(Path data, Path out, String device, int epochs, int batch, int crop, int baseSize,
                           double lr, double weightDecay, int baseC, Norm norm, int numClasses, long seed,
                           double valSplit, Path trainRoi, Path testRoi, Path resume, int tile, int prefetch,
                           boolean cache, int maxStepsPerEpoch, int stopAfter, int valEvery) {
    public TrainOptions {
        if (epochs < 1) throw new IllegalArgumentException("--epochs must be ≥ 1, got " + epochs);
        if (batch < 1) throw new IllegalArgumentException("--batch must be ≥ 1, got " + batch);
        if (crop < convunext.nn.ConvUNeXt.MIN_SIDE)
            throw new IllegalArgumentException("--crop must be ≥ " + convunext.nn.ConvUNeXt.MIN_SIDE + ", got " + crop);
        if (!(lr > 0)) throw new IllegalArgumentException("--lr must be > 0, got " + lr);
        if (valEvery < 1) throw new IllegalArgumentException("--val-every must be ≥ 1, got " + valEvery);
        if (valSplit < 0 || valSplit >= 1) throw new IllegalArgumentException("--val-split must be in [0,1), got " + valSplit);
    }
}
