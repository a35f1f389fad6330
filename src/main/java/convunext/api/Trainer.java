package convunext.api;

import convunext.backend.Backend;
import convunext.backend.all.Backends;
import convunext.nn.Norm;
import convunext.train.TrainOptions;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;

/**
 * Training from code: what {@code convunext train --data DIR} does, with its defaults (the
 * reference recipe: batch 4, crop 480, base_c 32, 300 epochs, AdamW 1.5e-3 / 5e-5). Configure
 * with the {@code with…} methods (each returns a copy), then {@link #run()}; the best checkpoint
 * it writes opens with {@link Segmenter#open(Path, String)}.
 *
 * <pre>{@code
 * Trainer.Result r = Trainer.on(Path.of("DRIVE"), Path.of("runs/drive")).withEpochs(100).withDevice("cuda:1").run();
 * try (Segmenter s = Segmenter.open(r.bestCheckpoint(), "cuda:1")) { ... }
 * }</pre>
 *
 * <p>The data folder holds {@code train/images} and {@code train/masks} (and {@code test/…} for
 * validation; else a fraction of train is held out), masks named like their images.
 */
public final class Trainer {
    private final Path data, out;
    private final String device;
    private final int epochs, batch, crop, baseSize, baseC, classes, maxStepsPerEpoch, valEvery;
    private final double lr, weightDecay;
    private final long seed;
    private final Path resume;
    private final PrintStream log;

    /** What a run did. */
    public record Result(Path bestCheckpoint, Path lastCheckpoint, double bestDice, int bestEpoch,
                         List<Double> trainLoss, List<Double> validationDice) {}

    private Trainer(Path data, Path out, String device, int epochs, int batch, int crop, int baseSize, int baseC,
                    int classes, int maxStepsPerEpoch, int valEvery, double lr, double weightDecay, long seed,
                    Path resume, PrintStream log) {
        this.data = data;
        this.out = out;
        this.device = device;
        this.epochs = epochs;
        this.batch = batch;
        this.crop = crop;
        this.baseSize = baseSize;
        this.baseC = baseC;
        this.classes = classes;
        this.maxStepsPerEpoch = maxStepsPerEpoch;
        this.valEvery = valEvery;
        this.lr = lr;
        this.weightDecay = weightDecay;
        this.seed = seed;
        this.resume = resume;
        this.log = log;
    }

    /** Training on {@code data}, writing checkpoints and metrics to {@code out}; device auto. */
    public static Trainer on(Path data, Path out) {
        return new Trainer(Objects.requireNonNull(data, "data"), Objects.requireNonNull(out, "out"), "auto", 300, 4, 480,
                512, 32, 2, 0, 1, 1.5e-3, 5e-5, 0, null, new PrintStream(OutputStream.nullOutputStream()));
    }

    /** {@code auto}, {@code cpu}, {@code cuda}, {@code cuda:N} or {@code emulated}. */
    public Trainer withDevice(String device) {
        return new Trainer(data, out, Objects.requireNonNull(device), epochs, batch, crop, baseSize, baseC, classes,
                maxStepsPerEpoch, valEvery, lr, weightDecay, seed, resume, log);
    }

    public Trainer withEpochs(int epochs) {
        return new Trainer(data, out, device, epochs, batch, crop, baseSize, baseC, classes, maxStepsPerEpoch, valEvery, lr,
                weightDecay, seed, resume, log);
    }

    public Trainer withBatch(int batch) {
        return new Trainer(data, out, device, epochs, batch, crop, baseSize, baseC, classes, maxStepsPerEpoch, valEvery, lr,
                weightDecay, seed, resume, log);
    }

    /** Random crop side, and the short side images are resized around (0.8–1.5× it) before cropping. */
    public Trainer withCrop(int crop, int baseSize) {
        return new Trainer(data, out, device, epochs, batch, crop, baseSize, baseC, classes, maxStepsPerEpoch, valEvery, lr,
                weightDecay, seed, resume, log);
    }

    /** Channels of the first stage (32 in the paper; 16 trains 4× faster on a CPU). */
    public Trainer withBaseChannels(int baseC) {
        return new Trainer(data, out, device, epochs, batch, crop, baseSize, baseC, classes, maxStepsPerEpoch, valEvery, lr,
                weightDecay, seed, resume, log);
    }

    /** Number of classes, background included (masks hold 0..classes−1, or 0/255 for two). */
    public Trainer withClasses(int classes) {
        return new Trainer(data, out, device, epochs, batch, crop, baseSize, baseC, classes, maxStepsPerEpoch, valEvery, lr,
                weightDecay, seed, resume, log);
    }

    public Trainer withLearningRate(double lr, double weightDecay) {
        return new Trainer(data, out, device, epochs, batch, crop, baseSize, baseC, classes, maxStepsPerEpoch, valEvery, lr,
                weightDecay, seed, resume, log);
    }

    /** Seed for the weights, the data order and the augmentation. */
    public Trainer withSeed(long seed) {
        return new Trainer(data, out, device, epochs, batch, crop, baseSize, baseC, classes, maxStepsPerEpoch, valEvery, lr,
                weightDecay, seed, resume, log);
    }

    /** At most this many steps per epoch (0: whole epochs), and validation every {@code valEvery} epochs. */
    public Trainer withSchedule(int maxStepsPerEpoch, int valEvery) {
        return new Trainer(data, out, device, epochs, batch, crop, baseSize, baseC, classes, maxStepsPerEpoch, valEvery, lr,
                weightDecay, seed, resume, log);
    }

    /** Continue from a {@code last.safetensors} of an earlier run with the same settings. */
    public Trainer withResume(Path lastCheckpoint) {
        return new Trainer(data, out, device, epochs, batch, crop, baseSize, baseC, classes, maxStepsPerEpoch, valEvery, lr,
                weightDecay, seed, lastCheckpoint, log);
    }

    /** Where progress lines go (default: nowhere). */
    public Trainer withLog(PrintStream log) {
        return new Trainer(data, out, device, epochs, batch, crop, baseSize, baseC, classes, maxStepsPerEpoch, valEvery, lr,
                weightDecay, seed, resume, Objects.requireNonNull(log));
    }

    /**
     * Trains to the end, validating as configured, and returns where the checkpoints are.
     *
     * @throws IllegalArgumentException a bad setting or data folder (the message names it)
     * @throws IllegalStateException    the device cannot be opened, or the loss diverged (NaN;
     *                                  the last good checkpoint is kept)
     */
    public Result run() {
        TrainOptions o;
        try {
            o = new TrainOptions(data, out, device, epochs, batch, crop, baseSize, lr, weightDecay, baseC, Norm.BATCH, classes,
                    seed, 0.2, null, null, resume, 768, 3, true, maxStepsPerEpoch, 0, valEvery);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(e.getMessage().replace("--", ""), e);
        }
        try (Backend be = Backends.open(device, log)) {
            convunext.train.Trainer.Result r = new convunext.train.Trainer(o, be, log).run();
            return new Result(r.out().resolve("best.safetensors"), r.out().resolve("last.safetensors"), r.bestDice(),
                    r.bestEpoch(), r.trainLoss(), r.valDice());
        } catch (convunext.train.Trainer.Diverged e) {
            throw new IllegalStateException("training diverged: " + e.getMessage(), e);
        } catch (convunext.data.DataException e) {
            throw new IllegalArgumentException(e.getMessage(), e);
        }
    }
}
