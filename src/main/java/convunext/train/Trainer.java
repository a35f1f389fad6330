package convunext.train;

import convunext.backend.Backend;
import convunext.data.Augmenter;
import convunext.data.Batch;
import convunext.data.BatchLoader;
import convunext.data.DataCheck;
import convunext.data.DataException;
import convunext.data.Dataset;
import convunext.data.FloatImage;
import convunext.data.LoadedSample;
import convunext.data.Normalization;
import convunext.data.Sample;
import convunext.data.SampleCache;
import convunext.data.TrainBatches;
import convunext.eval.TrainingCurves;
import convunext.eval.TrainingLog;
import convunext.io.OutputFolder;
import convunext.io.SafeTensors;
import convunext.nn.ConvUNeXt;
import convunext.optim.AdamW;
import convunext.optim.PolySchedule;
import convunext.tensor.Tensor;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.IntConsumer;

/**
 * The training loop: data check, normalisation statistics, augmented batches decoded on a
 * background thread, AdamW with the recipe's schedule, validation (Dice and IoU per class),
 * metrics.csv and a curve PNG, and `best`/`last` checkpoints written atomically.
 *
 * <p>The output folder is locked for the run ({@link OutputFolder}) and an earlier run in it is
 * never replaced silently: it is continued (--resume of its last.safetensors) or replaced only
 * with {@code overwrite}. Each epoch writes best.safetensors (when it is the best so far), then
 * last.safetensors carrying the epoch's metrics row, then metrics.csv, so a kill at any point
 * leaves files that agree: --resume rebuilds metrics.csv up to the checkpoint's epoch.
 *
 * <p>Resuming continues with the same weights, moments, step count, BN statistics and data
 * (batches are a pure function of seed, epoch and position), so its losses equal an
 * uninterrupted run's (to float32 rounding: the CPU backend's vector exp/tanh round differently
 * before and after JIT compilation).
 */
public final class Trainer {
    /** Thrown when the loss stops being finite. */
    public static final class Diverged extends RuntimeException {
        Diverged(String m) { super(m); }
    }

    /** What a run returns: per-epoch train loss and validation Dice (foreground mean; NaN when not validated). */
    public record Result(List<Double> trainLoss, List<Double> valDice, double bestDice, int bestEpoch, Path out,
                         boolean hasValidationSet) {
        /** Whether any epoch was validated (otherwise there is no best.safetensors). */
        public boolean validated() { return bestEpoch > 0; }
    }

    /** Files that make a folder "an earlier run". */
    static final List<String> RUN_FILES = List.of("metrics.csv", "last.safetensors", "best.safetensors", "curves.png");
    /** Where --overwrite keeps the earlier run's files until this run's first checkpoint is written. */
    static final String REPLACED = ReplacedRun.DIR;
    /** What makes an output folder taken: an earlier run's files, or one that --overwrite is replacing. */
    public static final List<String> OCCUPIED = java.util.stream.Stream.concat(RUN_FILES.stream(), java.util.stream.Stream.of(REPLACED)).toList();
    /** The run being replaced, while it is kept (null: none); read by interruptNote. */
    private volatile ReplacedRun replacing;

    private final TrainOptions o;
    private final Recipe recipe;
    private final Backend be;
    private final PrintStream log;
    private volatile Path lastCheckpoint;
    private String dataKey;   // RunMeta.DATA of this run's samples
    private volatile int checkpointEpoch;

    /** Test hook: runs after an epoch's last.safetensors is written, before its metrics row (epoch 1-based). */
    IntConsumer afterCheckpoint = e -> {};

    public Trainer(TrainOptions options, Backend backend, PrintStream log) {
        this(options, Recipe.REFERENCE, backend, log);
    }

    public Trainer(TrainOptions options, Recipe recipe, Backend backend, PrintStream log) {
        this.o = options;
        this.recipe = recipe;
        this.be = backend;
        this.log = log;
    }

    /** What an interruption now leaves behind, for the one line printed on Ctrl-C. */
    public String interruptNote() {
        Path last = lastCheckpoint;
        ReplacedRun kept = replacing;
        if (last == null && kept != null)
            return "no checkpoint was written yet; the run --overwrite was replacing is kept in " + kept.dir()
                    + " (move its files back to restore it)";
        return last == null ? "no checkpoint was written yet"
                : "the last checkpoint is " + last + " (epoch " + checkpointEpoch + "); continue with --resume " + last;
    }

    /** The data sets as listed (nothing decoded yet) and the checkpoint to resume from. */
    private record Inputs(Dataset train, List<Sample> trainSamples, List<Sample> valSamples, boolean splitVal,
                          SafeTensors.Contents resumed) {}

    /** Everything one run holds between epochs. */
    private static final class State implements AutoCloseable {
        SampleCache trainData, valData;
        Normalization norm;
        ConvUNeXt model;
        AdamW opt;
        Augmenter aug;
        int stepsPerEpoch, startEpoch, endEpoch, bestEpoch = -1;
        double best = -1;
        PolySchedule sched;
        TrainingLog metrics;
        Progress progress;
        final List<Double> losses = new ArrayList<>(), dices = new ArrayList<>();

        @Override public void close() {
            if (opt != null) opt.close();
            if (model != null) model.close();
        }
    }

    public Result run() {
        // a backend whose tensors live in the heap (no device memory: Backend.deviceMemoryPeak) holds
        // the step there: a step that cannot fit is refused before the data is read
        if (be.deviceMemoryPeak() == null) o.requireStepFitsHeap(Runtime.getRuntime().maxMemory());
        Inputs in = inputs();
        // an earlier run in --out refused before the images are decoded (claimOutput checks again under the
        // lock; an interrupted --overwrite's .replaced-run is left to it: ReplacedRun says what to do there)
        try {
            if (!Files.exists(o.out().resolve(ReplacedRun.DIR))) refuseEarlierRun(earlierRunFiles(), continuesThisFolder());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + o.out() + ": " + e.getMessage(), e);
        }
        checkResumedMetrics();
        // images decoded and checked before the output folder is made: bad data leaves no empty folder
        try (State s = loadData(in); OutputFolder folder = claimOutput()) {
            try {
                setUp(s, in);
                for (int epoch = s.startEpoch; epoch < s.endEpoch; epoch++) {
                    long t0 = System.nanoTime();
                    double loss = trainEpoch(s, epoch);
                    validateAndCheckpoint(s, epoch, loss, t0);
                }
            } catch (RuntimeException | Error e) {
                restoreReplaced();
                throw e;
            }
            restoreReplaced();   // wrote no checkpoint (nothing left to train): the earlier run stays
            return new Result(s.losses, s.dices, s.best, s.bestEpoch, o.out(), s.valData != null);
        }
    }

    /** After this run's first checkpoint: the run --overwrite replaced is removed. */
    private void dropReplaced() {
        ReplacedRun r = replacing;
        replacing = null;
        if (r != null) r.drop();
    }

    /** This run ends without a checkpoint: the run it was replacing goes back where it was. */
    private void restoreReplaced() {
        ReplacedRun r = replacing;
        replacing = null;
        if (r != null) r.restore();
    }

    /** Lists the data and reads the resume checkpoint: cheap checks before the output folder is touched. */
    private Inputs inputs() {
        Dataset train = Dataset.open(o.data(), "train", true, o.trainRoi());
        List<Sample> trainSamples = new ArrayList<>(train.samples());
        List<Sample> valSamples;
        boolean split = !Files.isDirectory(o.data().resolve("test").resolve("images"));
        if (!split) {
            valSamples = Dataset.open(o.data(), "test", true, o.testRoi()).samples();
        } else {
            valSamples = splitOff(trainSamples, o.valSplit(), o.seed());
            if (trainSamples.isEmpty())
                throw new IllegalArgumentException("--val-split " + o.valSplit() + " leaves no training images of "
                        + train.size() + " in " + o.data().resolve("train"));
        }
        TrainBatches.count(trainSamples.size(), o.batch(), true);   // a batch larger than the data set
        dataKey = RunMeta.dataKey(trainSamples, valSamples);
        SafeTensors.Contents resumed = null;
        if (o.resume() != null) {
            if (!Files.isRegularFile(o.resume())) throw new IllegalArgumentException("--resume: no such checkpoint " + o.resume());
            resumed = SafeTensors.read(o.resume());
            ConvUNeXt.Config have = Checkpoint.configOf(resumed, o.resume());
            if (have.numClasses() != o.numClasses() || have.baseC() != o.baseC() || have.norm() != o.norm())
                throw new IllegalArgumentException(o.resume() + ": checkpoint is for " + Checkpoint.describe(have) + ", this run is "
                        + Checkpoint.describe(new ConvUNeXt.Config(have.inChannels(), o.numClasses(), o.baseC(), o.norm())));
            String had = resumed.metadata().get(RunMeta.DATA);   // absent in checkpoints of earlier versions
            if (had != null && !had.equals(dataKey))
                log.println("note: the data differs from " + o.resume() + "'s (then " + had + "; now " + dataKey
                        + "): the run continues on this data, so it is not the uninterrupted run");
            if (!resumed.tensors().containsKey(Checkpoint.EXP_AVG))
                throw new IllegalArgumentException(o.resume() + " has no optimiser state (" + Checkpoint.EXP_AVG
                        + "): resume from a last.safetensors, not a best.safetensors or an exported state_dict");
            // every tensor too (shapes, NaN/Inf, AdamW's moments), before the data is decoded and the folder is made
            try (Backend probe = new convunext.backend.cpu.ref.RefBackend(); ConvUNeXt m = new ConvUNeXt(have, probe, 0);
                 AdamW opt = recipe.optimizer(m.params, o.weightDecay())) {
                Checkpoint.loadWeights(m, resumed, o.resume());
                Checkpoint.loadOptimizer(opt, resumed, o.resume());
            }
        }
        return new Inputs(train, trainSamples, valSamples, split, resumed);
    }

    /**
     * The metrics.csv a resumed run rebuilds its own from ({@link #reconcileMetrics}: --out's, unless
     * --overwrite sets it aside, else the one beside the checkpoint), checked with the other inputs:
     * a line edited or cut short by hand is refused naming the file and line before the data check,
     * and the file is left as it was.
     */
    private void checkResumedMetrics() {
        if (o.resume() == null) return;
        Path here = o.out().resolve("metrics.csv");
        Path source = Files.isRegularFile(here) && !o.overwrite() ? here : o.resume().toAbsolutePath().resolveSibling("metrics.csv");
        if (Files.isRegularFile(source)) TrainingLog.dataLines(source, String.join(",", columns(o.numClasses())));
    }

    /**
     * Locks the output folder, removes a killed run's temporary files, and refuses to mix this run
     * with an earlier one unless it continues it (--resume of its checkpoint) or replaces it.
     */
    private OutputFolder claimOutput() {
        OutputFolder folder = OutputFolder.lock(o.out(), "train");
        try {
            if (folder.staleNote() != null) log.println(folder.staleNote());
            List<String> earlier = earlierRunFiles();
            refuseEarlierRun(earlier, continuesThisFolder());
            replacing = ReplacedRun.setAside(o.out(), earlier, o.overwrite(), log);
            return folder;
        } catch (IOException e) {
            folder.close();
            throw new UncheckedIOException("cannot prepare " + o.out() + ": " + e.getMessage(), e);
        } catch (RuntimeException e) {
            folder.close();
            throw e;
        }
    }

    /** The files of an earlier run in --out (none if it does not exist). */
    private List<String> earlierRunFiles() {
        List<String> earlier = new ArrayList<>();
        for (String f : RUN_FILES) if (Files.exists(o.out().resolve(f))) earlier.add(f);
        return earlier;
    }

    /** Whether --resume names a checkpoint in --out itself (the run continues there). */
    private boolean continuesThisFolder() throws IOException {
        return o.resume() != null && Files.isDirectory(o.out()) && Files.isSameFile(o.resume().toAbsolutePath().getParent(), o.out());
    }

    /**
     * An earlier run in --out is neither continued nor replaced, or both at once (--overwrite would
     * delete the run --resume continues): refused, saying how to do either.
     */
    private void refuseEarlierRun(List<String> earlier, boolean continuesThisFolder) {
        if (o.overwrite() && continuesThisFolder && !earlier.isEmpty())
            throw new IllegalArgumentException("--overwrite with --resume " + o.resume() + " would delete the run it continues ("
                    + String.join(", ", earlier) + " in " + o.out() + "): drop --overwrite to continue it, or --resume to replace it");
        if (!earlier.isEmpty() && !o.overwrite() && !continuesThisFolder)
            throw new IllegalArgumentException(o.out() + " already holds a training run (" + String.join(", ", earlier) + "); "
                    + (earlier.contains("last.safetensors") ? "continue it with --resume " + o.out().resolve("last.safetensors") + ", "
                            : "it has no last.safetensors to continue (stopped before its first one was written): ")
                    + "replace it with --overwrite, or choose another --out");
    }

    /** The data check and the decoded samples: every image read, nothing written yet. */
    private State loadData(Inputs in) {
        int k = o.numClasses();
        // No side minimum on the files: a training image is resized to the drawn short side, then
        // cropped (padded with ignore) to --crop, and a validation image runs at the size the
        // trained scale gives it (checkValidation), so a 40×40 image is fine where predict and
        // evaluate take it (the files' own 64×64 minimum refused it).
        DataCheck.Report check = DataCheck.run(in.train(), k, 0, 1);
        log.println(check);
        State s = new State();
        s.trainData = new SampleCache(in.trainSamples(), k, 0, 1, o.cache());
        int channels = s.trainData.get(0).image().channels();
        if (check.channels().size() > 1) requireChannels(s.trainData, channels);
        if (in.resumed() != null) checkResumedChannels(in.resumed(), channels, in.trainSamples().get(0));
        // Validation images get the model's channels by inference's rule (gray → RGB), checked now.
        s.valData = in.valSamples().isEmpty() ? null : new SampleCache(in.valSamples(), k, channels, 1, o.cache());
        if (s.valData != null) checkValidation(s.valData, Math.max(channels, k));
        return s;
    }

    /**
     * Every training image has the first one's channels (one model input; the normalisation has one
     * mean and std per channel): refused here, naming the image, before the output folder is made
     * (a fresh run left an empty folder behind; a resumed one stopped at its first batch with a
     * Normalization error naming no file). Only when the data check saw several channel counts, so
     * a mixed set is decoded twice, a uniform one once.
     */
    private static void requireChannels(SampleCache train, int channels) {
        for (int i = 1; i < train.size(); i++) {
            LoadedSample ls = train.get(i);
            if (ls.image().channels() != channels)
                throw new DataException("image " + ls.sample().image() + " has " + ls.image().channels()
                        + " channels, the first training image (" + train.sample(0).image() + ") has " + channels
                        + "; training images must all be gray or all colour");
        }
    }

    /**
     * A checkpoint continues only on data with its input channels, and its normalisation must have
     * one mean and std per channel: both refused here, before the output folder is touched, naming
     * the checkpoint and a training image.
     */
    private void checkResumedChannels(SafeTensors.Contents r, int channels, Sample first) {
        ConvUNeXt.Config have = Checkpoint.configOf(r, o.resume());
        if (have.inChannels() != channels)
            throw new IllegalArgumentException("--resume " + o.resume() + ": checkpoint is for " + have.inChannels()
                    + "-channel images, the training data has " + channels + " (e.g. " + first.image() + ")");
        Normalization n = RunMeta.normalization(r.metadata(), o.resume());
        if (n.channels() != channels)
            throw new IllegalArgumentException("--resume " + o.resume() + ": its normalisation has " + n.channels()
                    + " channels (norm_mean/norm_std), its model and the data " + channels);
    }

    /** The rest of the run's state, under the output folder's lock (metrics.csv may be rewritten on resume). */
    private void setUp(State s, Inputs in) {
        int k = o.numClasses();
        if (s.valData == null)
            log.println("no validation set (" + (in.splitVal() ? "--val-split " + o.valSplit() + " and no test/ folder" : "empty test/")
                    + "): every epoch is trained without validation, and best.safetensors is not written "
                    + "(last.safetensors holds the latest weights)");
        else if (in.splitVal())   // the data check above counted all of train/, these included
            log.println("validation: " + in.valSamples().size() + " of " + in.train().size() + " images of train/ held out (--val-split "
                    + o.valSplit() + "), trained on the other " + in.trainSamples().size() + ": "
                    + String.join(", ", in.valSamples().stream().map(Sample::id).toList()));
        int channels = s.trainData.get(0).image().channels();
        SafeTensors.Contents r = in.resumed();
        s.norm = r != null ? RunMeta.normalization(r.metadata(), o.resume()) : normalization(s.trainData);
        log.println("normalisation " + s.norm);
        ConvUNeXt.Config cfg = new ConvUNeXt.Config(channels, k, o.baseC(), o.norm());
        s.model = new ConvUNeXt(cfg, be, o.seed());
        s.opt = recipe.optimizer(s.model.params, o.weightDecay());
        log.printf("model   %s, %,d parameters, backend %s%n", Checkpoint.describe(cfg), s.model.params.numParams(), be.describe());
        s.aug = new Augmenter(recipe.augment(o.baseSize(), o.crop()), s.norm);
        s.stepsPerEpoch = TrainBatches.count(s.trainData.size(), o.batch(), true);
        if (o.maxStepsPerEpoch() > 0) s.stepsPerEpoch = Math.min(s.stepsPerEpoch, o.maxStepsPerEpoch());
        s.sched = recipe.schedule(s.stepsPerEpoch, o.epochs());
        s.metrics = new TrainingLog(o.out().resolve("metrics.csv"), columns(k));
        if (r != null) {
            resume(s, r);
            // a kill during the last redraw leaves an older plot behind; this run may train nothing
            if (java.nio.file.Files.isRegularFile(o.out().resolve("metrics.csv"))) plotCurves(o.out(), k);
        }
        s.progress = new Progress(log);
        s.endEpoch = o.stopAfter() > 0 ? Math.min(o.epochs(), s.startEpoch + o.stopAfter()) : o.epochs();
        if (s.startEpoch == o.epochs())
            log.println("the checkpoint has already trained all " + o.epochs() + " epochs; nothing to do (raise --epochs to continue)");
        else if (s.startEpoch > o.epochs())
            log.println("the checkpoint has already trained " + s.startEpoch + " epochs, more than --epochs " + o.epochs()
                    + "; nothing to do (--epochs above " + s.startEpoch + " continues it)");
    }

    /** The scale this run trains at, which validation (like predict's default) scores at. */
    private TrainingScale trainedScale() {
        return new TrainingScale(o.baseSize(), recipe.minScale(), recipe.maxScale());
    }

    /**
     * Decodes every validation image before the first epoch, so one validation cannot use (its
     * channels, its mask, a size the trained scale cannot run it at) is refused naming it now
     * rather than after an epoch of training. One with no pixel to score (an all-black ROI, a mask
     * 255 everywhere inside it: evaluate's failure) adds nothing to validation's pooled counts and
     * is noted; where none has one, every Dice would read 1 (0/0) and each epoch a "new best", so
     * that is refused.
     */
    private void checkValidation(SampleCache val, int planes) {
        List<String> unscored = new ArrayList<>();
        for (int i = 0; i < val.size(); i++) {
            LoadedSample ls = val.get(i);
            Sample sm = val.sample(i);
            try {
                convunext.eval.SegMetrics.requireScoredPixels(ls.labels().labels(), ls.roi(), String.valueOf(sm.image()),
                        String.valueOf(sm.mask()), String.valueOf(sm.roi()));
            } catch (DataException e) {
                unscored.add(e.getMessage());
            }
            FloatImage img = ls.image();
            String name = "validation image " + sm.image();
            int[] at = InferenceScale.AUTO.size(img.height(), img.width(), trainedScale(), name, planes);
            // resized ones are brought to at least the minimum; one inside a trained range that starts below it is not
            if (Math.min(at[0], at[1]) < ConvUNeXt.MIN_SIDE) {
                int base = o.baseSize();
                while (new TrainingScale(base, recipe.minScale(), recipe.maxScale()).minShortSide() < ConvUNeXt.MIN_SIDE) base++;
                throw new DataException(name + " is " + img.width() + "×" + img.height() + ": its short side is in the trained range, "
                        + trainedScale() + ", so it runs at its own size, below the model's minimum " + ConvUNeXt.MIN_SIDE + "×"
                        + ConvUNeXt.MIN_SIDE + "; give --base-size " + base + " or more, or larger validation images");
            }
        }
        if (unscored.size() == val.size())
            throw new DataException("no validation image has a pixel to score (every Dice would read 1): " + unscored.get(0));
        if (!unscored.isEmpty())
            log.println("note: " + unscored.size() + " of " + val.size() + " validation images add nothing to its scores: " + unscored.get(0));
    }

    private static List<String> columns(int k) {
        List<String> cols = new ArrayList<>(List.of("epoch", "train_loss", "val_dice", "val_iou", "lr", "seconds"));   // SECONDS: index 5
        for (int c = 0; c < k; c++) { cols.add("dice_c" + c); cols.add("iou_c" + c); }
        return cols;
    }

    /** Restores weights, moments, epoch and best score, and makes metrics.csv end at the checkpoint's epoch. */
    private void resume(State s, SafeTensors.Contents r) {
        Path file = o.resume();
        Checkpoint.loadWeights(s.model, r, file);
        Checkpoint.loadOptimizer(s.opt, r, file);
        s.startEpoch = r.metadata().containsKey("epoch") ? Checkpoint.intMeta(r, "epoch", file) : 0;
        if (s.startEpoch < 0) throw new IllegalArgumentException(file + ": metadata 'epoch' is " + s.startEpoch + ", expected ≥ 0");
        s.best = Checkpoint.numberMeta(r, "best_dice", -1, file);
        s.bestEpoch = (int) Checkpoint.numberMeta(r, "best_epoch", -1, file);
        // A kill between best.safetensors and last.safetensors leaves a best newer than the checkpoint says.
        Path bestFile = o.out().resolve("best.safetensors");
        if (Files.isRegularFile(bestFile)) {
            try {
                Map<String, String> bm = SafeTensors.readMetadata(bestFile);
                double d = Double.parseDouble(bm.getOrDefault("best_dice", "-1"));
                if (d > s.best) { s.best = d; s.bestEpoch = Integer.parseInt(bm.getOrDefault("best_epoch", "-1")); }
            } catch (RuntimeException notOurs) {
                log.println("note: " + bestFile + " is not readable as a checkpoint of this run (" + notOurs.getMessage()
                        + "); the next best epoch replaces it");
            }
        }
        lastCheckpoint = file;
        checkpointEpoch = s.startEpoch;
        reconcileMetrics(s, r);
        log.printf("resumed from %s at epoch %d, step %d%n", file, s.startEpoch, s.opt.stepCount());
    }

    /**
     * metrics.csv after a resume: the rows before the checkpoint's epoch (from this folder's
     * metrics.csv, else from the one beside the checkpoint), then the checkpoint's own row (kept
     * in its metadata), and nothing after it — so no epoch is lost or repeated, wherever a kill struck.
     */
    private void reconcileMetrics(State s, SafeTensors.Contents r) {
        TrainingLog m = s.metrics;
        Path source = Files.isRegularFile(m.file()) ? m.file() : o.resume().toAbsolutePath().resolveSibling("metrics.csv");
        List<String> old = Files.isRegularFile(source) ? TrainingLog.dataLines(source, m.header()) : List.of();
        String ckptRow = m.header().equals(r.metadata().get(RunMeta.METRICS_HEADER)) ? r.metadata().get(RunMeta.METRICS_ROW) : null;
        List<String> rows = new ArrayList<>();
        String atCheckpoint = null;
        int dropped = 0;
        for (String line : old) {
            int e = TrainingLog.epochOf(line);
            if (e < s.startEpoch) rows.add(line);
            else if (e == s.startEpoch) atCheckpoint = line;
            else dropped++;
        }
        // the checkpoint's row (seconds left out) wins unless metrics.csv has that very row with its seconds
        if (ckptRow != null && (atCheckpoint == null || !sameButSeconds(atCheckpoint, ckptRow))) atCheckpoint = ckptRow;
        if (atCheckpoint != null) rows.add(atCheckpoint);
        if (dropped > 0) log.println("metrics.csv: dropped " + dropped + " row(s) after epoch " + s.startEpoch + ", the checkpoint's epoch");
        if (!rows.equals(old) || !source.equals(m.file())) m.rewrite(rows);
    }

    /** metrics.csv's wall-clock column ({@link #columns}), left out of the checkpoint's copy of a row. */
    private static final int SECONDS = 5;

    /** Whether two metrics.csv rows agree in every column but {@link #SECONDS}. */
    static boolean sameButSeconds(String a, String b) {
        String[] x = a.split(",", -1), y = b.split(",", -1);
        if (x.length != y.length) return false;
        for (int i = 0; i < x.length; i++) if (i != SECONDS && !x[i].equals(y[i])) return false;
        return true;
    }

    /** One epoch of training steps; returns the mean loss. */
    private double trainEpoch(State s, int epoch) {
        double sum = 0;
        int steps = 0;
        s.progress.beginEpoch();
        try (BatchLoader loader = new BatchLoader(new TrainBatches(s.trainData, s.aug, o.batch(), true, o.seed(), epoch), o.prefetch())) {
            while (!stopIfInterrupted() && loader.hasNext() && steps < s.stepsPerEpoch) {
                Batch b = loader.next();
                double lr = o.lr() * s.sched.factor(s.opt.stepCount());
                Tensor x = be.upload(b.images(), b.imageShape());
                Tensor y = be.upload(b.targets(), b.targetShape());
                TrainStep.Result r;
                try {
                    r = TrainStep.run(s.model, s.opt, x, y, lr);
                } finally {
                    be.release(x);
                    be.release(y);
                }
                if (!Double.isFinite(r.loss())) {
                    Path last = lastCheckpoint;
                    // the first step after a checkpoint computes its loss from that checkpoint's weights (before any
                    // update, in the same data order on resume): resuming from it repeats this NaN at any --lr
                    throw new Diverged("loss is " + r.loss() + " at epoch " + (epoch + 1) + ", step " + s.opt.stepCount()
                            + " (global); " + (last != null && steps == 0 && epoch == checkpointEpoch
                            ? "the last checkpoint, " + last + " (epoch " + checkpointEpoch + "), holds the weights that give this loss"
                                    + " (it is this step's input), so --resume from it repeats it; start again with a lower --lr"
                                    + (s.bestEpoch > 0 && s.bestEpoch < checkpointEpoch && Files.isRegularFile(o.out().resolve("best.safetensors"))
                                            ? " (best.safetensors keeps epoch " + s.bestEpoch + "'s weights)" : "")
                            : lastGood() + "; try a lower --lr"));
                }
                sum += r.loss();
                steps++;
                s.progress.step(epoch + 1, o.epochs(), steps, s.stepsPerEpoch, r.loss(), lr, b.size());
            }
        }
        return sum / steps;
    }

    /** The divergence message's account of the last checkpoint, whose weights gave finite losses after them. */
    private String lastGood() {
        Path last = lastCheckpoint;
        return last != null ? "the last good checkpoint is kept in " + last + " (epoch " + checkpointEpoch + ")" : "no checkpoint was written before it";
    }

    /**
     * The calling thread was interrupted (Thread.interrupt: the API's caller cancelling a run): the
     * run stops here, between steps, before the next step or the epoch's validation and checkpoint,
     * so the last checkpoint stays the last whole epoch's. The interrupt status stays set.
     */
    private static boolean stopIfInterrupted() {
        if (Thread.currentThread().isInterrupted()) throw new java.util.concurrent.CancellationException("training interrupted");
        return false;
    }

    /** Validation when due, then best → last (with the metrics row) → metrics.csv → curves.png. */
    private void validateAndCheckpoint(State s, int epoch, double trainLoss, long t0) {
        stopIfInterrupted();
        boolean validate = s.valData != null && ((epoch + 1) % o.valEvery() == 0 || epoch + 1 == o.epochs());
        Validation.Scores v = validate ? Validation.run(s.model, s.valData, s.norm, o.tile(), trainedScale()) : null;
        // the epoch's last update can break the weights with a finite loss before it: such weights are no checkpoint
        if (v != null && v.nonFinite() != null)
            throw new Diverged("the model's outputs are NaN or Inf after epoch " + (epoch + 1) + " (validation image " + v.nonFinite()
                    + "), though its training losses were finite; " + lastGood() + "; try a lower --lr");
        double secs = (System.nanoTime() - t0) / 1e9;
        double dice = v == null ? Double.NaN : v.foregroundDice();
        boolean isBest = v != null && dice > s.best;
        if (isBest) { s.best = dice; s.bestEpoch = epoch + 1; }
        s.progress.endEpoch();
        double lr = o.lr() * s.sched.factor(Math.max(0, s.opt.stepCount() - 1));
        log.printf("epoch %d/%d  train loss %.4f  %s  %.1f s%s%n", epoch + 1, o.epochs(), trainLoss,
                v != null ? v.summary() : s.valData == null ? "(no validation set)" : "(validation every " + o.valEvery() + " epochs)",
                secs, isBest ? "  * new best" : "");
        int k = o.numClasses();
        double[] row = new double[6 + 2 * k];
        row[0] = epoch + 1; row[1] = trainLoss; row[2] = dice; row[3] = v == null ? Double.NaN : v.foregroundIou();
        row[4] = lr; row[SECONDS] = secs;
        for (int c = 0; c < k; c++) {
            row[6 + 2 * c] = v == null ? Double.NaN : v.dice()[c];
            row[7 + 2 * c] = v == null ? Double.NaN : v.iou()[c];
        }
        String line = s.metrics.row(row);
        Map<String, String> meta = RunMeta.of(o, recipe, s.norm, epoch + 1, s.best, s.bestEpoch);
        meta.put(RunMeta.METRICS_HEADER, s.metrics.header());
        meta.put(RunMeta.DATA, dataKey);
        // the checkpoint keeps the row without its wall-clock seconds: the same run writes the same bytes
        row[SECONDS] = Double.NaN;
        meta.put(RunMeta.METRICS_ROW, s.metrics.row(row));
        if (isBest) Checkpoint.save(o.out().resolve("best.safetensors"), s.model, null, meta);
        Path last = o.out().resolve("last.safetensors");
        Checkpoint.save(last, s.model, s.opt, meta);
        lastCheckpoint = last;
        checkpointEpoch = epoch + 1;
        afterCheckpoint.accept(epoch + 1);
        s.metrics.appendLine(line);
        plotCurves(o.out(), k);
        dropReplaced();
        s.losses.add(trainLoss);
        s.dices.add(dice);
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

    private static Normalization normalization(SampleCache data) {
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
