package convunext.cli;

import convunext.backend.Backend;
import convunext.backend.Backends;
import convunext.data.SyntheticData;
import convunext.nn.Norm;
import convunext.train.TrainOptions;
import convunext.train.Trainer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "train", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Trains ConvUNeXt on <data>/{train,test}/{images,masks} with the reference recipe.",
                "Without --data it trains on the built-in synthetic vessel set (about a minute on 2 CPU cores)."},
        footer = {"", "Outputs in --out: metrics.csv, curves.png, last.safetensors (resume with --resume),",
                "best.safetensors (best validation Dice). Exit codes: 0 ok, 2 bad input, 3 no device, 4 NaN loss."})
final class TrainCommand implements Callable<Integer> {
    @Option(names = "--data", description = "data root with train/ (and test/) folders; default: built-in synthetic set")
    Path data;
    @Option(names = {"-o", "--out"}, description = "output folder (default: runs/<data name>)")
    Path out;
    @Option(names = "--device", defaultValue = "auto", description = "auto, cpu, cuda or emulated (default: ${DEFAULT-VALUE})")
    String device;
    @picocli.CommandLine.Mixin
    PrecisionOption precision;
    @Option(names = "--epochs", description = "epochs (default 300; 40 on the synthetic set)")
    Integer epochs;
    @Option(names = "--batch", description = "batch size (default 4)")
    Integer batch;
    @Option(names = "--crop", description = "random crop size (default 480; 96 on the synthetic set)")
    Integer crop;
    @Option(names = "--base-size", description = "short side before the random 0.8–1.5× resize (default 512; 96 on the synthetic set)")
    Integer baseSize;
    @Option(names = "--lr", defaultValue = "1.5e-3", description = "AdamW learning rate (default: ${DEFAULT-VALUE})")
    double lr;
    @Option(names = "--weight-decay", defaultValue = "5e-5", description = "AdamW weight decay (default: ${DEFAULT-VALUE})")
    double wd;
    @Option(names = "--base-c", description = "channels of the first stage (default 32; 16 on the synthetic set)")
    Integer baseC;
    @Option(names = "--norm", defaultValue = "batch", description = "batch or layer (default: ${DEFAULT-VALUE})")
    String norm;
    @Option(names = "--classes", defaultValue = "2", description = "number of classes incl. background (default: ${DEFAULT-VALUE})")
    int classes;
    @Option(names = "--seed", defaultValue = "0", description = "seed for weights, data order and augmentation (default: ${DEFAULT-VALUE})")
    long seed;
    @Option(names = "--val-split", defaultValue = "0.2", description = "fraction of train/ held out when there is no test/ (default: ${DEFAULT-VALUE})")
    double valSplit;
    @Option(names = "--train-roi", description = "field-of-view masks for train images (outside = ignored)")
    Path trainRoi;
    @Option(names = "--test-roi", description = "field-of-view masks for test images (outside = not scored)")
    Path testRoi;
    @Option(names = "--resume", description = "continue from a last.safetensors of an earlier run")
    Path resume;
    @Option(names = "--tile", defaultValue = "768", description = "validation window size; larger images are tiled (default: ${DEFAULT-VALUE})")
    int tile;
    @Option(names = "--max-steps-per-epoch", defaultValue = "0", description = "cap on steps per epoch (0 = whole epoch)")
    int maxSteps;
    @Option(names = "--val-every", defaultValue = "1", description = "validate every N epochs (and after the last; default: ${DEFAULT-VALUE})")
    int valEvery;
    @Option(names = "--stop-after", defaultValue = "0", description = "end this run after N epochs (continue later with --resume)")
    int stopAfter;

    @Override public Integer call() {
        boolean builtIn = data == null;
        Path root = data;
        if (builtIn) {
            root = Path.of("runs", "synthetic-data");
            if (!Files.isDirectory(root.resolve("train"))) {
                SyntheticData.write(root, SyntheticData.DEFAULT_SEED, SyntheticData.DEFAULT_TRAIN, SyntheticData.DEFAULT_TEST,
                        SyntheticData.DEFAULT_SIZE);
            }
            System.out.println("no --data given: training on the built-in synthetic vessel set in " + root
                    + " (" + SyntheticData.DEFAULT_TRAIN + " train / " + SyntheticData.DEFAULT_TEST + " test images, "
                    + SyntheticData.DEFAULT_SIZE + "×" + SyntheticData.DEFAULT_SIZE + ")");
        } else if (!Files.isDirectory(root)) {
            throw new UserError("data folder not found: " + root, Main.BAD_INPUT);
        }
        Path outDir = out != null ? out : Path.of("runs", builtIn ? "synthetic" : String.valueOf(root.toAbsolutePath().normalize().getFileName()));
        TrainOptions o = new TrainOptions(root, outDir, device,
                or(epochs, builtIn ? 40 : 300), or(batch, 4), or(crop, builtIn ? 96 : 480), or(baseSize, builtIn ? 96 : 512),
                lr, wd, or(baseC, builtIn ? 16 : 32), Norm.parse(norm), classes, seed, valSplit, trainRoi, testRoi, resume,
                tile, 3, true, maxSteps, stopAfter, valEvery);
        try (Backend be = Backends.open(device, precision.get(), System.out)) {
            System.out.println("backend " + be.describe());
            long t0 = System.nanoTime();
            Trainer.Result r = new Trainer(o, be, System.out).run();
            System.out.printf("done in %.1f s: best validation Dice %.4f at epoch %d; checkpoints and metrics in %s%n",
                    (System.nanoTime() - t0) / 1e9, r.bestDice(), r.bestEpoch(), r.out());
            return Main.OK;
        } catch (Trainer.Diverged e) {
            System.err.println("error: training diverged: " + e.getMessage());
            return Main.DIVERGED;
        }
    }

    private static int or(Integer v, int d) { return v != null ? v : d; }
}
