package convunext.api;

import convunext.backend.Backend;
import convunext.backend.all.Backends;
import convunext.io.RealPath;
import convunext.nn.Norm;
import convunext.train.Recipe;
import convunext.train.TrainOptions;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;
import java.util.function.Consumer;

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
    // Not final so that each with… method can copy and change one setting (copy); nothing outside
    // this class mutates a Trainer, and every copy is complete before it is returned.
    private Path data, out;
    private String device = "auto";
    private int epochs, batch, crop, baseSize, baseC, classes = 2, maxStepsPerEpoch, valEvery = 1;
    private double lr, weightDecay, valSplit = Double.parseDouble(TrainOptions.DEFAULT_VAL_SPLIT);
    private long seed;
    private Norm norm = Norm.BATCH;
    private Path resume, trainRoi, testRoi;
    private PrintStream log = new PrintStream(OutputStream.nullOutputStream());

    /**
     * What a run did. {@code bestCheckpoint} is the file holding the best validated weights:
     * {@code best.safetensors} in the output folder (or, for a run resumed from another folder that
     * no later epoch improved on, the one beside the resumed checkpoint); when no epoch was validated
     * (no validation set: {@code bestEpoch} is −1) it is {@code last.safetensors}, the weights there are.
     */
    public record Result(Path bestCheckpoint, Path lastCheckpoint, double bestDice, int bestEpoch,
                         List<Double> trainLoss, List<Double> validationDice) {}

    private Trainer() {}

    private Trainer copy(Consumer<Trainer> change) {
        Trainer t = new Trainer();
        t.data = data; t.out = out; t.device = device; t.epochs = epochs; t.batch = batch; t.crop = crop;
        t.baseSize = baseSize; t.baseC = baseC; t.classes = classes; t.maxStepsPerEpoch = maxStepsPerEpoch;
        t.valEvery = valEvery; t.lr = lr; t.weightDecay = weightDecay; t.seed = seed; t.resume = resume; t.log = log;
        t.norm = norm; t.valSplit = valSplit; t.trainRoi = trainRoi; t.testRoi = testRoi;
        change.accept(t);
        return t;
    }

    /** Training on {@code data}, writing checkpoints and metrics to {@code out}; device auto; the reference recipe. */
    public static Trainer on(Path data, Path out) {
        Recipe r = Recipe.REFERENCE;
        return new Trainer().copy(t -> {
            t.data = Objects.requireNonNull(data, "data");
            t.out = Objects.requireNonNull(out, "out");
            t.epochs = r.epochs(); t.batch = r.batch(); t.crop = r.crop(); t.baseSize = r.baseSize(); t.baseC = r.baseC();
            t.lr = r.lr(); t.weightDecay = r.weightDecay();
        });
    }

    /** {@code auto}, {@code cpu}, {@code cuda}, {@code cuda:N} or {@code emulated}. */
    public Trainer withDevice(String device) { Objects.requireNonNull(device, "device"); return copy(t -> t.device = device); }

    public Trainer withEpochs(int epochs) { return copy(t -> t.epochs = epochs); }

    public Trainer withBatch(int batch) { return copy(t -> t.batch = batch); }

    /** Random crop side, and the short side images are resized around (0.8–1.5× it) before cropping. */
    public Trainer withCrop(int crop, int baseSize) { return copy(t -> { t.crop = crop; t.baseSize = baseSize; }); }

    /** Channels of the first stage (32 in the paper; 16 trains 4× faster on a CPU). */
    public Trainer withBaseChannels(int baseC) { return copy(t -> t.baseC = baseC); }

    /** Number of classes, background included (masks hold 0..classes−1, or 0/255 for two). */
    public Trainer withClasses(int classes) { return copy(t -> t.classes = classes); }

    /** The blocks' normalisation: {@code "batch"} (the paper's, default) or {@code "layer"} (ConvNeXt's). */
    public Trainer withNorm(String norm) {
        Norm n = Norm.parse(Objects.requireNonNull(norm, "norm"));   // IllegalArgumentException naming the value
        return copy(t -> t.norm = n);
    }

    /** Fraction of train/ held out for validation when the data has no test/ folder (0: none; default 0.2). */
    public Trainer withValidationSplit(double fraction) { return copy(t -> t.valSplit = fraction); }

    /**
     * Field-of-view masks (nonzero = inside) for the training and the test images, named like them;
     * either may be null (then the data's own {@code <split>/roi} folder, if any). Pixels outside
     * count neither in the loss nor in validation.
     */
    public Trainer withRoi(Path trainRoi, Path testRoi) { return copy(t -> { t.trainRoi = trainRoi; t.testRoi = testRoi; }); }

    public Trainer withLearningRate(double lr, double weightDecay) { return copy(t -> { t.lr = lr; t.weightDecay = weightDecay; }); }

    /** Seed for the weights, the data order and the augmentation. */
    public Trainer withSeed(long seed) { return copy(t -> t.seed = seed); }

    /** At most this many steps per epoch (0: whole epochs), and validation every {@code valEvery} epochs. */
    public Trainer withSchedule(int maxStepsPerEpoch, int valEvery) {
        return copy(t -> { t.maxStepsPerEpoch = maxStepsPerEpoch; t.valEvery = valEvery; });
    }

    /** Continue from a {@code last.safetensors} of an earlier run with the same settings. */
    public Trainer withResume(Path lastCheckpoint) { return copy(t -> t.resume = lastCheckpoint); }

    /** Where progress lines go (default: nowhere). */
    public Trainer withLog(PrintStream log) { Objects.requireNonNull(log, "log"); return copy(t -> t.log = log); }

    /**
     * Trains to the end, validating as configured, and returns where the checkpoints are.
     * Messages name this class's methods ({@code withBatch}, {@code withCrop's crop}, …).
     *
     * @throws IllegalArgumentException a bad setting or data folder (the message names it), or a
     *                                  step that cannot fit this JVM's heap on the CPU (refused
     *                                  before the data is read)
     * @throws IllegalStateException    the device cannot be opened, another run (another thread's
     *                                  Trainer, another process) holds {@code out}, the loss diverged (NaN; the
     *                                  last good checkpoint is kept), or the step ran out of memory
     *                                  (heap or GPU) anyway: the message names batch, crop and base
     *                                  channels; the device is closed and this Trainer can run
     *                                  again with smaller settings
     * @throws java.util.concurrent.CancellationException (an IllegalStateException) the calling
     *                                  thread was interrupted ({@link Thread#interrupt}, a
     *                                  {@code Future.cancel(true)}): the run stops before its next step,
     *                                  validation or checkpoint; the message names the last checkpoint
     *                                  (the last whole epoch's) to continue from with {@link #withResume};
     *                                  the thread's interrupt status stays set
     */
    public Result run() {
        convunext.train.Trainer[] running = new convunext.train.Trainer[1];
        try {
            return train(running);
        } catch (OutOfMemoryError e) {
            // the step's tensors are unreachable once the stack has unwound (the backend and the
            // run's state are closed by their try-with-resources), so the heap is usable again
            throw new IllegalStateException(String.format(java.util.Locale.ROOT, "out of memory training withBatch %d, withCrop %d (baseSize"
                    + " %d), withBaseChannels %d on device %s (%s; max heap %d MiB): use a smaller withBatch, withCrop or"
                    + " withBaseChannels, or give Java more memory (-Xmx)", batch, crop, baseSize, baseC, device,
                    e.getMessage() == null ? "Java heap" : e.getMessage(), Runtime.getRuntime().maxMemory() >> 20), e);
        } catch (RuntimeException e) {
            // A run stopped by its thread's interrupt (the step boundary's check, the wait for the next
            // batch, a file write refused by the interrupted channel) reports the interruption.
            if (Thread.currentThread().isInterrupted() && byInterrupt(e)) {
                String left = running[0] == null ? "no checkpoint was written" : running[0].interruptNote();
                java.util.concurrent.CancellationException c = new java.util.concurrent.CancellationException(
                        ApiNames.trainer("training interrupted (Thread.interrupt; the thread stays interrupted): " + left));
                c.initCause(e);
                throw c;
            }
            throw ApiNames.rename(e, ApiNames::trainer);
        }
    }

    /** Whether {@code e} or a cause of it is how an interrupt stops a thread's work. */
    private static boolean byInterrupt(Throwable e) {
        for (Throwable c = e; c != null; c = c.getCause())
            if (c instanceof java.util.concurrent.CancellationException || c instanceof InterruptedException
                    || c instanceof java.nio.channels.ClosedByInterruptException || c instanceof java.io.InterruptedIOException)
                return true;
        return false;
    }

    private Result train(convunext.train.Trainer[] running) {
        refuseOutAmongInputs(data, out, trainRoi, testRoi);
        TrainOptions o = new TrainOptions(data, out, device, epochs, batch, crop, baseSize, lr, weightDecay, baseC, norm, classes,
                seed, valSplit, trainRoi, testRoi, resume,
                Integer.parseInt(TrainOptions.DEFAULT_TILE), TrainOptions.PREFETCH, true, maxStepsPerEpoch, 0, valEvery);
        PrintStream named = ApiNames.trainerLog(log);   // train's lines name its flags; ours name the methods
        try (Backend be = Backends.open(device, named)) {
            running[0] = new convunext.train.Trainer(o, be, named);
            convunext.train.Trainer.Result r = running[0].run();
            Path best = r.out().resolve("best.safetensors"), last = r.out().resolve("last.safetensors");
            if (!r.validated()) best = last;   // no validation set: no best.safetensors was written
            else if (!java.nio.file.Files.isRegularFile(best) && resume != null) best = resume.toAbsolutePath().resolveSibling("best.safetensors");
            return new Result(best, last, r.bestDice(), r.bestEpoch(), r.trainLoss(), r.valDice());
        } catch (convunext.train.Trainer.Diverged e) {
            throw new IllegalStateException("training diverged: " + e.getMessage(), e);
        } catch (convunext.data.DataException e) {
            throw new IllegalArgumentException(e.getMessage(), e);
        }
    }

    /**
     * As {@code train} refuses its --out: never the data folder or inside its train/ or test/, nor
     * inside an ROI folder (symbolic links resolved), where checkpoints and curves.png would go among
     * the inputs.
     */
    private static void refuseOutAmongInputs(Path data, Path out, Path... rois) {
        Path o = RealPath.of(out), d = RealPath.of(data);
        String why = o.equals(d) ? "is the data folder " + data
                : o.startsWith(d.resolve("train")) || o.startsWith(d.resolve("test")) ? "is inside the data folder " + data : null;
        for (Path roi : rois)
            if (why == null && roi != null && o.startsWith(RealPath.of(roi))) why = "is inside the ROI folder " + roi;
        if (why != null)
            throw new IllegalArgumentException("out " + out + " " + why + "; outputs never go among the inputs: choose another out");
    }
}
