package convunext.cli;

import convunext.backend.Backend;
import convunext.data.SyntheticData;
import convunext.nn.Norm;
import convunext.train.Recipe;
import convunext.train.RunMeta;
import convunext.train.TrainOptions;
import convunext.train.Trainer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "train", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Trains ConvUNeXt on <data>/{train,test}/{images,masks} with the reference recipe.",
                "Without --data it trains on the built-in synthetic vessel set (about a minute on 2 CPU cores)."},
        footer = {"", "Outputs in --out: metrics.csv, curves.png, last.safetensors (resume with --resume),",
                "best.safetensors (best validation Dice; only when there is a validation set).",
                "An --out holding an earlier run is refused unless --resume continues it or --overwrite replaces it;",
                "without --out a fresh folder is chosen (runs/<data name>, then -2, -3, ...).",
                "Exit codes: 0 ok, 2 bad input, 3 no device or out of memory, 4 NaN loss, 130 Ctrl-C, 143 SIGTERM."})
final class TrainCommand implements Callable<Integer> {
    @Option(names = "--data", description = "data root with train/ (and test/) folders; default: built-in synthetic set")
    Path data;
    @Option(names = {"-o", "--out"}, description = "output folder (default: runs/<data name>, or the --resume checkpoint's folder)")
    Path out;
    @Option(names = "--overwrite", description = "replace an earlier run's files in --out (metrics.csv, checkpoints, curves.png; kept in"
            + " --out/.replaced-run until this run's first checkpoint)")
    boolean overwrite;
    @Mixin DeviceOption device;
    @Option(names = "--epochs", description = "epochs (default 300; 40 on the synthetic set)")
    Integer epochs;
    @Option(names = "--batch", description = "batch size (default 4)")
    Integer batch;
    @Option(names = "--crop", description = "random crop size, 64..8192, and batch × crop² × the widest layer "
            + "(4 × base-c, or the classes) within one Java array (default 480; 96 on the synthetic set)")
    Integer crop;
    @Option(names = "--base-size", description = "short side before the random 0.8–1.5× resize, 1..8192 (default 512; 96 on the synthetic set)")
    Integer baseSize;
    @Option(names = "--lr", description = "AdamW learning rate (default 1.5e-3)")
    Double lr;
    @Option(names = "--weight-decay", description = "AdamW weight decay (default 5e-5)")
    Double wd;
    @Option(names = "--base-c", description = "channels of the first stage (default 32; 16 on the synthetic set)")
    Integer baseC;
    @Option(names = "--norm", description = "batch or layer (default: batch)")
    String norm;
    @Option(names = "--classes", description = "number of classes incl. background, 2..255 (default: 2)")
    Integer classes;
    @Option(names = "--seed", description = "seed for weights, data order and augmentation (default: 0)")
    Long seed;
    @Option(names = "--val-split", description = "fraction of train/ held out when there is no test/, in [0, 1) (default: "
            + TrainOptions.DEFAULT_VAL_SPLIT + ")")
    Double valSplit;
    @Option(names = "--train-roi", description = "field-of-view masks for train images (outside = ignored)")
    Path trainRoi;
    @Option(names = "--test-roi", description = "field-of-view masks for test images (outside = not scored)")
    Path testRoi;
    @Option(names = "--resume", description = "continue from a last.safetensors of an earlier run; options not given take the "
            + "checkpoint's values (epochs, batch, crop, base-size, lr, weight-decay, base-c, norm, classes, seed, val-split, "
            + "max-steps-per-epoch, val-every)")
    Path resume;
    @Option(names = "--tile", defaultValue = TrainOptions.DEFAULT_TILE, description = "validation window size, ≥ 64; larger images are tiled (default: ${DEFAULT-VALUE})")
    int tile;
    @Option(names = "--max-steps-per-epoch", description = "cap on steps per epoch, ≥ 1 (default: whole epochs)")
    Integer maxSteps;
    @Option(names = "--val-every", description = "validate every N epochs (and after the last; default: 1)")
    Integer valEvery;
    @Option(names = "--stop-after", description = "end this run after N ≥ 1 epochs (continue later with --resume)")
    Integer stopAfter;

    @Override public Integer call() {
        boolean builtIn = data == null;
        Recipe recipe = builtIn ? Recipe.SYNTHETIC : Recipe.REFERENCE;
        if (maxSteps != null && maxSteps < 1) throw new UserError("--max-steps-per-epoch must be ≥ 1, got " + maxSteps, Main.BAD_INPUT);
        if (stopAfter != null && stopAfter < 1) throw new UserError("--stop-after must be ≥ 1, got " + stopAfter, Main.BAD_INPUT);
        if (resume != null && !Files.isRegularFile(resume))
            throw new UserError(Files.isDirectory(resume) ? "--resume " + resume + " is a folder; give its checkpoint file, e.g. "
                    + resume.resolve("last.safetensors") : "--resume: no such checkpoint " + resume, Main.BAD_INPUT);
        // a damaged checkpoint (metadata that disagrees with its tensors) named now, not as an option it would default
        if (resume != null) convunext.train.Checkpoint.configOf(convunext.io.SafeTensors.read(resume), resume);
        ResumeDefaults rd = new ResumeDefaults(resume);
        Norm normKind;
        try {
            normKind = Norm.parse(rd.modelText("--norm", norm, "norm", "batch"));
        } catch (IllegalArgumentException e) {
            throw new UserError("--norm: " + e.getMessage(), Main.BAD_INPUT);
        }
        if (!builtIn) Outputs.requireDataFolder(data);
        if (out != null) Outputs.requireFolder(out, "--out");
        Path root = builtIn ? Path.of("runs", "synthetic-data") : data;
        Path outDir = out;
        if (outDir == null && resume != null) outDir = resume.toAbsolutePath().getParent();
        if (outDir == null) {
            Path base = Path.of("runs", builtIn ? "synthetic" : String.valueOf(root.toAbsolutePath().normalize().getFileName()));
            outDir = Outputs.fresh(base, Trainer.OCCUPIED);
        }
        // the built-in set too: a run inside runs/synthetic-data would break every later built-in train
        if (Outputs.real(outDir).equals(Outputs.real(root)))
            throw new UserError("--out " + outDir + " is the data folder " + root + "; outputs never go among the inputs: choose another --out",
                    Main.BAD_INPUT);
        for (String split : new String[] {"train", "test"}) Outputs.refuseInside(outDir, "--out", root.resolve(split), "the data folder");
        if (trainRoi != null) Outputs.refuseInside(outDir, "--out", trainRoi, "the --train-roi folder");
        if (testRoi != null) Outputs.refuseInside(outDir, "--out", testRoi, "the --test-roi folder");
        // Every value is checked here (TrainOptions), before the data is read or a folder is made.
        TrainOptions o;
        try {
            o = new TrainOptions(root, outDir, device.device,
                    rd.integer("--epochs", epochs, "train.epochs", recipe.epochs()), rd.integer("--batch", batch, "train.batch", recipe.batch()),
                    rd.integer("--crop", crop, "train.crop", recipe.crop()), rd.integer("--base-size", baseSize, "train.base_size", recipe.baseSize()),
                    rd.real("--lr", lr, "train.lr", recipe.lr()), rd.real("--weight-decay", wd, "train.weight_decay", recipe.weightDecay()),
                    rd.modelInteger("--base-c", baseC, "base_c", recipe.baseC()), normKind,
                    rd.modelInteger("--classes", classes, "num_classes", 2), rd.longValue("--seed", seed, "seed", 0),
                    rd.real("--val-split", valSplit, RunMeta.VAL_SPLIT, Double.parseDouble(TrainOptions.DEFAULT_VAL_SPLIT)), trainRoi, testRoi,
                    resume, tile, TrainOptions.PREFETCH, true, rd.integer("--max-steps-per-epoch", maxSteps, RunMeta.MAX_STEPS_PER_EPOCH, 0),
                    or(stopAfter, 0), rd.integer("--val-every", valEvery, RunMeta.VAL_EVERY, 1), overwrite);
        } catch (IllegalArgumentException e) {
            throw rd.blame(e);   // a value the checkpoint recorded: the message says it was not given
        }
        if (builtIn) {
            SyntheticData.ensure(root);
            System.out.println("no --data given: training on the built-in synthetic vessel set in " + root
                    + " (" + SyntheticData.DEFAULT_TRAIN + " train / " + SyntheticData.DEFAULT_TEST + " test images, "
                    + SyntheticData.DEFAULT_SIZE + "×" + SyntheticData.DEFAULT_SIZE + ")");
        }
        if (out == null && resume == null) System.out.println("output folder " + outDir);
        rd.notes.forEach(System.out::println);
        try (Backend be = device.open(System.out)) {
            System.out.println("backend " + be.describe());
            long t0 = System.nanoTime();
            Trainer trainer = new Trainer(o, recipe, be, System.out);
            Interrupts.note(trainer::interruptNote);
            Trainer.Result r = trainer.run();
            double secs = (System.nanoTime() - t0) / 1e9;
            System.out.printf("done in %.1f s: %s; checkpoints and metrics in %s%n", secs, bestNote(r, resume), r.out());
            return Main.OK;
        }
    }

    /**
     * What the run ends with about best.safetensors, true to the folder: a resumed run whose best
     * epoch came before it (in another folder) wrote none here.
     */
    static String bestNote(Trainer.Result r, Path resume) {
        if (!r.validated() && r.hasValidationSet())
            return "no epoch was validated yet (--val-every; the last epoch always is), so no best.safetensors yet; "
                    + "the weights are in last.safetensors";
        if (!r.validated()) return "no validation set, so no best.safetensors; the final weights are in last.safetensors";
        String dice = String.format("best validation Dice %.4f at epoch %d", r.bestDice(), r.bestEpoch());
        Path here = r.out().resolve("best.safetensors");
        if (Files.isRegularFile(here) && bestEpochOf(here) == r.bestEpoch()) return dice + " (best.safetensors)";
        Path from = resume == null ? null : resume.toAbsolutePath().resolveSibling("best.safetensors");
        return dice + ", before this run; no best.safetensors was written in this run (no later epoch beat it)"
                + (from != null && Files.isRegularFile(from) && bestEpochOf(from) == r.bestEpoch() ? ": that epoch's weights are in " + from : "");
    }

    private static int bestEpochOf(Path best) {
        try {
            return Integer.parseInt(convunext.io.SafeTensors.readMetadata(best).getOrDefault("best_epoch", "-1"));
        } catch (RuntimeException notOurs) {
            return -1;
        }
    }

    private static int or(Integer v, int d) { return v != null ? v : d; }
}
