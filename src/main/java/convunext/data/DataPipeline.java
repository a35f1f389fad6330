package convunext.data;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Everything between a data folder and the model, in one place for the train / predict /
 * evaluate commands: opens {@code <root>/train} and {@code <root>/test}, computes the
 * normalisation over the training images (inside their ROI), and hands out background loaders
 * of augmented training batches (per epoch, deterministic from the seed) and of whole-image
 * validation batches.
 */
public final class DataPipeline {
    /** Settings; {@code roiTrain}/{@code roiTest} may be null ({@code <split>/roi} is used if present). */
    public record Config(Path root, int numClasses, int channels, AugmentConfig augment, int batchSize,
                         boolean dropLast, long seed, int prefetch, Path roiTrain, Path roiTest, int minSize,
                         boolean cacheDecoded) {
        public static Config defaults(Path root, int numClasses, int channels, AugmentConfig augment, int batchSize, long seed) {
            return new Config(root, numClasses, channels, augment, batchSize, false, seed, 3, null, null,
                    LoadedSample.DEFAULT_MIN_SIZE, true);
        }
    }

    private final Config cfg;
    private final Dataset train, test;
    private final SampleCache trainData, testData;
    private final Normalization norm;

    private DataPipeline(Config cfg, Normalization norm) {
        this.cfg = cfg;
        this.train = Dataset.open(cfg.root(), "train", true, cfg.roiTrain());
        this.test = Dataset.open(cfg.root(), "test", true, cfg.roiTest());
        this.trainData = new SampleCache(train.samples(), cfg.numClasses(), cfg.channels(), cfg.minSize(), cfg.cacheDecoded());
        this.testData = new SampleCache(test.samples(), cfg.numClasses(), cfg.channels(), cfg.minSize(), cfg.cacheDecoded());
        if (norm == null) {
            List<LoadedSample> all = new ArrayList<>();
            for (int i = 0; i < trainData.size(); i++) all.add(trainData.get(i));
            norm = Normalization.compute(all);
        }
        if (norm.channels() != (cfg.channels() > 0 ? cfg.channels() : trainData.get(0).image().channels()))
            throw new DataException("normalisation has " + norm.channels() + " channels, the model expects " + cfg.channels());
        this.norm = norm;
    }

    /** Opens the data set; {@code norm} null = compute it from the training images. */
    public static DataPipeline open(Config cfg, Normalization norm) { return new DataPipeline(cfg, norm); }

    public Normalization normalization() { return norm; }
    public Dataset train() { return train; }
    public Dataset test() { return test; }

    /** The data check of both splits, as printable text (throws at the first bad file). */
    public String check() {
        return DataCheck.run(train, cfg.numClasses(), cfg.channels(), cfg.minSize()).toString()
                + DataCheck.run(test, cfg.numClasses(), cfg.channels(), cfg.minSize()).toString()
                + "normalisation (train): " + norm + "\n";
    }

    /** Number of training batches per epoch. */
    public int batchesPerEpoch() {
        int n = train.size();
        return cfg.dropLast() ? n / cfg.batchSize() : (n + cfg.batchSize() - 1) / cfg.batchSize();
    }

    /** Augmented training batches of one epoch (1-based or 0-based, any int), computed ahead. */
    public BatchLoader trainEpoch(int epoch) {
        return new BatchLoader(new TrainBatches(trainData, new Augmenter(cfg.augment(), norm), cfg.batchSize(),
                cfg.dropLast(), cfg.seed(), epoch), cfg.prefetch());
    }

    /** Whole test images, normalised, one per batch, targets with the ROI as 255. */
    public BatchLoader validation() {
        return new BatchLoader(new WholeImageBatches(testData, norm), cfg.prefetch());
    }

    /** The decoded test sample {@code i} (for overlays and per-image metrics with its ROI). */
    public LoadedSample testSample(int i) { return testData.get(i); }
}
