package convunext.cli;

import convunext.backend.Backend;
import convunext.backend.Backends;
import convunext.data.Dataset;
import convunext.data.LoadedSample;
import convunext.data.Sample;
import convunext.eval.ClassMetrics;
import convunext.eval.ImageMetrics;
import convunext.eval.MetricsSummary;
import convunext.eval.MetricsWriters;
import convunext.eval.SegMetrics;
import convunext.nn.ConvUNeXt;
import convunext.train.Predictor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "evaluate", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Scores a checkpoint on labelled images.",
                "Per-image CSV and a summary JSON with Dice, IoU, precision, recall, specificity, accuracy",
                "and HD95 per class, averaged over images.",
                "--roi restricts scoring to a field-of-view mask per image (DRIVE's standard protocol)."},
        footer = {"", MetricsSummary.RULES})
final class EvaluateCommand implements Callable<Integer> {
    @Option(names = "--weights", description = "checkpoint (.safetensors)")
    Path weights;
    @Option(names = "--data", required = true, description = "a folder with images/ and masks/, or a data root whose test/ has them")
    Path data;
    @Option(names = "--roi", description = "folder of ROI / field-of-view masks (matched by image name)")
    Path roi;
    @Option(names = {"-o", "--out"}, description = "output folder for metrics.csv and summary.json (default: runs/evaluate)")
    Path out;
    @Option(names = "--device", defaultValue = "auto", description = "auto, cpu, cuda or emulated (default: ${DEFAULT-VALUE})")
    String device;
    @picocli.CommandLine.Mixin
    PrecisionOption precision;
    @Option(names = "--tile", defaultValue = "512", description = "window size (default: ${DEFAULT-VALUE})")
    int tile;
    @Option(names = "--overlap", defaultValue = "64", description = "window overlap (default: ${DEFAULT-VALUE})")
    int overlap;
    @Option(names = "--tta", description = "test-time augmentation: flip")
    String tta;

    @Override public Integer call() throws Exception {
        if (weights == null) LoadedModel.open(null, null, System.out::println);   // says what to pass
        if (!Files.isDirectory(data)) throw new UserError("data folder not found: " + data, Main.BAD_INPUT);
        Dataset ds = Files.isDirectory(data.resolve("images"))
                ? Dataset.open(data.toAbsolutePath().getParent(), data.toAbsolutePath().getFileName().toString(), true, roi)
                : Dataset.open(data, "test", true, roi);
        Path outDir = out != null ? out : Path.of("runs", "evaluate");
        try (Backend be = Backends.open(device, precision.get(), System.out); LoadedModel lm = LoadedModel.open(weights, be, System.out::println)) {
            int k = lm.model.config.numClasses();
            Predictor pred = new Predictor(lm.model, tile, overlap, "flip".equals(tta));
            MetricsSummary summary = new MetricsSummary(k);
            long t0 = System.nanoTime();
            for (Sample s : ds.samples()) {
                LoadedSample ls = LoadedSample.load(s, k, lm.model.config.inChannels(), ConvUNeXt.MIN_SIDE);
                int h = ls.image().height(), w = ls.image().width(), c = ls.image().channels();
                float[] x = new float[c * h * w];
                lm.norm.apply(ls.image(), x, 0);
                int[] p = convunext.eval.Predictions.argmax(pred.probabilities(x, c, h, w), 0, k, h, w).labels();
                ClassMetrics[] m = SegMetrics.compute(p, ls.labels().labels(), ls.roi(), h, w, k);
                ImageMetrics im = new ImageMetrics(s.id(), m);
                summary.add(im);
                System.out.printf("%-24s Dice %.4f  IoU %.4f  HD95 %.2f%n", s.id(), m[k - 1].dice(), m[k - 1].iou(), m[k - 1].hd95());
            }
            Files.createDirectories(outDir);
            MetricsWriters.writeCsv(outDir.resolve("metrics.csv"), summary.images());
            Map<String, Object> extra = new LinkedHashMap<>();
            extra.put("weights", weights.toString());
            extra.put("data", data.toString());
            extra.put("roi", roi == null ? null : roi.toString());
            extra.put("tta", tta);
            MetricsWriters.writeSummaryJson(outDir.resolve("summary.json"), summary, extra);
            System.out.printf("%d images in %.1f s: mean foreground Dice %.4f, IoU %.4f, HD95 %.2f; written %s and %s%n",
                    ds.size(), (System.nanoTime() - t0) / 1e9, summary.foregroundMean("dice"), summary.foregroundMean("iou"),
                    summary.foregroundMean("hd95"), outDir.resolve("metrics.csv"), outDir.resolve("summary.json"));
        }
        return Main.OK;
    }
}
