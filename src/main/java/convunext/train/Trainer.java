package convunext.train;

import convunext.backend.Backend;
import convunext.data.AugmentConfig;
import convunext.data.Augmenter;
import convunext.data.Batch;
import convunext.data.BatchLoader;
import convunext.data.DataCheck;
import convunext.data.Dataset;
import convunext.data.LoadedSample;
import convunext.data.Normalization;
import convunext.data.Sample;
import convunext.data.SampleCache;
import convunext.data.TrainBatches;
import convunext.eval.TrainingCurves;
import convunext.eval.TrainingLog;
import convunext.io.SafeTensors;
import convunext.nn.ConvUNeXt;
import convunext.optim.AdamW;
import convunext.optim.PolySchedule;
import convunext.tensor.Tensor;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * The training loop: data check, normalisation statistics, augmented batches decoded on a
 * background thread, AdamW with the reference schedule, validation (Dice and IoU per class) each
 * epoch, metrics.csv and a curve PNG, and `best`/`last` checkpoints written atomically. Resuming
 * from `last` continues with the same weights, moments, step count, BN statistics and the same
 * data order (batches depend only on seed and epoch), so its losses equal an uninterrupted run's
 * (to float32 rounding: the CPU backend's vector exp/tanh round differently before and after JIT
 * compilation).
 */
public final class Trainer {
    /** Thrown when the loss stops being finite; the last good checkpoint is kept. */
    public static final class Diverged extends RuntimeException {
        Diverged(String m) { super(m); }
    }

    /** What a run returns: per-epoch train loss and validation Dice (foreground mean). */
    public record Result(List<Double> trainLoss, List<Double> valDice, double bestDice, int bestEpoch, Path out) {}

    private final TrainOptions o;
    private final Backend be;
    private final PrintStream log;

    public Trainer(TrainOptions options, Backend backend, PrintStream log) {
        this.o = options;
        this.be = backend;
        this.log = log;
    }

    public Result run() {
        int k = o.numClasses();
        Dataset train = Dataset.open(o.data(), "train", true, o.trainRoi());
        List<Sample> trainSamples = new ArrayList<>(train.samples());
        List<Sample> valSamples;
        if (Files.isDirectory(o.data().resolve("test").resolve("images"))) {
            valSamples = Dataset.open(o.data(), "test", true, o.testRoi()).samples();
        } else {
            valSamples = splitOff(trainSamples, o.valSplit(), o.seed());
        }
        log.println(DataCheck.run(train, k, 0, ConvUNeXt.MIN_SIDE));
        SampleCache trainData = new SampleCache(trainSamples, k, 0, ConvUNeXt.MIN_SIDE, o.cache());
        SampleCache valData = valSamples.isEmpty() ? null : new SampleCache(valSamples, k, 0, ConvUNeXt.MIN_SIDE, o.cache());
        int channels = trainData.get(0).image().channels();

        SafeTensors.Contents resumed = o.resume() == null ? null : SafeTensors.read(o.resume());
        Normalization norm = resumed != null ? RunMeta.normalization(resumed.metadata(), o.resume())
                : normalization(trainData);
        log.println("normalisation " + norm);
        ConvUNeXt.Config cfg = new ConvUNeXt.Config(channels, k, o.baseC(), o.norm());
        try (ConvUNeXt model = new ConvUNeXt(cfg, be, o.seed());
             AdamW opt = new AdamW(model.params, 0.9f, 0.999f, 1e-8f, (float) o.weightDecay())) {
            log.printf("model   %s, %,d parameters, backend %s%n", Checkpoint.describe(cfg), model.params.numParams(), be.describe());
            Augmenter aug = new Augmenter(new AugmentConfig(o.baseSize(), 0.8, 1.5, o.crop(), 0.5), norm);
            int stepsPerEpoch = new TrainBatches(trainData, aug, o.batch(), true, o.seed(), 0).batches();
            if (o.maxStepsPerEpoch() > 0) stepsPerEpoch = Math.min(stepsPerEpoch, o.maxStepsPerEpoch());
            PolySchedule sched = PolySchedule.reference(stepsPerEpoch, o.epochs());
            int startEpoch = 0;
            double best = -1;
            int bestEpoch = -1;
            if (resumed != null) {
                Checkpoint.loadWeights(model, resumed, o.resume());
                Checkpoint.loadOptimizer(opt, resumed, o.resume());
                startEpoch = Integer.parseInt(resumed.metadata().getOrDefault("epoch", "0"));
                best = Double.parseDouble(resumed.metadata().getOrDefault("best_dice", "-1"));
                bestEpoch = Integer.parseInt(resumed.metadata().getOrDefault("best_epoch", "-1"));
                log.printf("resumed from %s at epoch %d, step %d%n", o.resume(), startEpoch, opt.stepCount());
            }
            Files.createDirectories(o.out());
            List<String> cols = new ArrayList<>(List.of("epoch", "train_loss", "val_dice", "val_iou", "lr", "seconds"));
            for (int c = 0; c < k; c++) { cols.add("dice_c" + c); cols.add("iou_c" + c); }
            TrainingLog metrics = new TrainingLog(o.out().resolve("metrics.csv"), cols);
            List<Double> losses = new ArrayList<>(), dices = new ArrayList<>();
            Progress progress = new Progress(log);
            int endEpoch = o.stopAfter() > 0 ? Math.min(o.epochs(), startEpoch + o.stopAfter()) : o.epochs();
            for (int epoch = startEpoch; epoch < endEpoch; epoch++) {
                long t0 = System.nanoTime();
                double sum = 0;
                int steps = 0;
                double lr = 0;
                try (BatchLoader loader = new BatchLoader(new TrainBatches(trainData, aug, o.batch(), true, o.seed(), epoch), o.prefetch())) {
                    while (loader.hasNext() && steps < stepsPerEpoch) {
                        Batch b = loader.next();
                        lr = o.lr() * sched.factor(opt.stepCount());
                        Tensor x = be.upload(b.images(), b.imageShape());
                        Tensor y = be.upload(b.targets(), b.targetShape());
                        TrainStep.Result r;
                        try {
                            r = TrainStep.run(model, opt, x, y, lr);
                        } finally {
                            be.release(x);
                            be.release(y);
                        }
                        if (!Double.isFinite(r.loss()))
                            throw new Diverged("loss is " + r.loss() + " at epoch " + (epoch + 1) + ", step " + opt.stepCount()
                                    + " (global); the last good checkpoint is kept in " + o.out().resolve("last.safetensors"));
                        sum += r.loss();
                        steps++;
                        progress.step(epoch + 1, o.epochs(), steps, stepsPerEpoch, r.loss(), lr, b.size());
                    }
                }
                double trainLoss = sum / steps;
                boolean validate = valData != null && ((epoch + 1) % o.valEvery() == 0 || epoch + 1 == o.epochs());
                Validation.Scores v = validate ? Validation.run(model, valData, norm, o.tile()) : null;
                double secs = (System.nanoTime() - t0) / 1e9;
                double dice = v == null ? Double.NaN : v.foregroundDice();
                boolean isBest = v != null && dice > best;
                if (isBest) { best = dice; bestEpoch = epoch + 1; }
                progress.endEpoch();
                log.printf("epoch %d/%d  train loss %.4f  %s  %.1f s%s%n", epoch + 1, o.epochs(), trainLoss,
                        v != null ? v.summary() : valData == null ? "(no validation set)" : "(validation every " + o.valEvery() + " epochs)", secs, isBest ? "  * new best" : "");
                double[] row = new double[cols.size()];
                row[0] = epoch + 1; row[1] = trainLoss; row[2] = dice; row[3] = v == null ? Double.NaN : v.foregroundIou();
                row[4] = lr; row[5] = secs;
                for (int c = 0; c < k; c++) {
                    row[6 + 2 * c] = v == null ? Double.NaN : v.dice()[c];
                    row[7 + 2 * c] = v == null ? Double.NaN : v.iou()[c];
                }
                metrics.append(row);
                plotCurves(o.out(), k);
                Map<String, String> meta = RunMeta.of(o, norm, epoch + 1, best, bestEpoch);
                Checkpoint.save(o.out().resolve("last.safetensors"), model, opt, meta);
                if (isBest) Checkpoint.save(o.out().resolve("best.safetensors"), model, null, meta);
                losses.add(trainLoss);
                dices.add(dice);
            }
            return new Result(losses, dices, best, bestEpoch, o.out());
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException("cannot write to " + o.out() + ": " + e.getMessage(), e);
        }
    }

    /**
     * curves.png: training loss and the validation Dice/IoU (foreground mean); per-class Dice only
     * when there are several foreground classes (with two classes it equals val_dice).
     */
    static void plotCurves(Path out, int numClasses) {
        TrainingLog.Table all = TrainingLog.readTable(out.resolve("metrics.csv"));
        List<String> keep = new ArrayList<>(List.of("epoch", "train_loss", "val_dice", "val_iou"));
        if (numClasses > 2) for (int c = 1; c < numClasses; c++) keep.add("dice_c" + c);
        List<double[]> rows = new ArrayList<>();
        for (double[] r : all.rows()) {
            double[] v = new double[keep.size()];
            for (int i = 0; i < v.length; i++) v[i] = r[all.column(keep.get(i))];
            rows.add(v);
        }
        TrainingCurves.plot(out.resolve("curves.png"), new TrainingLog.Table(keep, rows), "ConvUNeXt " + out.getFileName());
    }

    private Normalization normalization(SampleCache data) {
        List<LoadedSample> all = new ArrayList<>();
        for (int i = 0; i < data.size(); i++) all.add(data.get(i));
        return Normalization.compute(all);
    }

    /** Deterministically moves a fraction of {@code train} into a validation list. */
    static List<Sample> splitOff(List<Sample> train, double fraction, long seed) {
        int n = (int) Math.round(train.size() * fraction);
        if (fraction > 0 && n == 0 && train.size() > 1) n = 1;
        List<Sample> val = new ArrayList<>();
        if (n == 0) return val;
        SplittableRandom rng = new SplittableRandom(seed ^ 0x5bd1e995L);
        List<Sample> pool = new ArrayList<>(train);
        for (int i = pool.size() - 1; i > 0; i--) {
            int j = rng.nextInt(i + 1);
            Sample t = pool.get(i); pool.set(i, pool.get(j)); pool.set(j, t);
        }
        val.addAll(pool.subList(0, n));
        train.removeAll(val);
        return val;
    }
}
