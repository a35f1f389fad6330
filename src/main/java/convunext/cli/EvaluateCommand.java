package convunext.cli;

import convunext.backend.Backend;
import convunext.data.DataException;
import convunext.data.Dataset;
import convunext.data.LoadedSample;
import convunext.data.Sample;
import convunext.eval.ClassMetrics;
import convunext.eval.ImageMetrics;
import convunext.eval.MetricsSummary;
import convunext.eval.MetricsWriters;
import convunext.eval.SegMetrics;
import convunext.io.OutputFolder;
import convunext.train.InferenceModel;
import convunext.train.InferenceScale;
import convunext.train.TrainingScale;
import convunext.train.Predictor;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "evaluate", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Scores a checkpoint on labelled images.",
                "Per-image CSV and a summary JSON with Dice, IoU, precision, recall, specificity, accuracy",
                "and HD95 per class, averaged over images.",
                "--roi restricts scoring to a field-of-view mask per image (DRIVE's standard protocol)."},
        footer = {"", "Scale: each image runs at the training scale its checkpoint records (the",
                "image resized, the class probabilities resized back); results are always",
                "at the image's own size. Checkpoints without it run at native size.", "", "Without --out the results go to a fresh folder (runs/evaluate, then -2, -3, ...); an --out",
                "holding metrics.csv or summary.json is refused unless --overwrite. Images that cannot be",
                "scored (unreadable, no mask, sizes disagree, no pixel to score: an all-black ROI) are",
                "listed at the end and left out of the averages (summary.json lists them under \"failed\"):",
                "exit code 2. When none can be scored",
                "nothing is written: an earlier run's files in --out stay (the message says so).", "", MetricsSummary.RULES})
final class EvaluateCommand implements Callable<Integer> {
    static final List<String> OUTPUTS = List.of("metrics.csv", "summary.json");

    @Mixin WeightsOption weights;
    @Option(names = "--data", required = true, description = "a folder with images/ and masks/, or a data root whose test/ has them")
    Path data;
    @Option(names = "--roi", description = "folder of ROI / field-of-view masks (matched by image name)")
    Path roi;
    @Option(names = {"-o", "--out"}, description = "output folder for metrics.csv and summary.json (default: a fresh runs/evaluate)")
    Path out;
    @Option(names = "--overwrite", description = "replace metrics.csv and summary.json of an earlier evaluation in --out")
    boolean overwrite;
    @Mixin DeviceOption device;
    @Mixin ScaleOption scaleOption;
    @Option(names = "--tile", defaultValue = "512", description = "window size, ≥ 64 (default: ${DEFAULT-VALUE})")
    int tile;
    @Option(names = "--overlap", description = PredictCommand.OVERLAP_HELP)
    Integer overlap;
    @Option(names = "--tta", description = "test-time augmentation: flip")
    String tta;

    @Override public Integer call() throws Exception {
        // Everything that can be refused is refused before the model is loaded.
        if (tta != null && !tta.equals("flip")) throw new UserError("--tta accepts only 'flip', got '" + tta + "'", Main.BAD_INPUT);
        int overlap = Predictor.overlap(this.overlap, tile);
        Predictor.checkSettings(tile, overlap);
        InferenceScale scale = scaleOption.require();
        InferenceModel.Weights w = weights.require();
        Outputs.requireDataFolder(data);
        Path abs = data.toAbsolutePath().normalize();
        Path root = data;
        String split = "test";
        if (Files.isDirectory(data.resolve("images")) && abs.getParent() != null) {   // `/` has no parent: a data root then
            root = abs.getParent();
            split = abs.getFileName().toString();
        }
        Path masks = root.resolve(split).resolve("masks");
        if (!Files.isDirectory(masks)) throw new UserError("no mask folder " + masks + " (evaluate needs labelled images)"
                + convunext.data.Dataset.rootHint(data), Main.BAD_INPUT);
        Path outDir;
        if (out != null) {
            Outputs.requireFolder(out, "--out");
            Outputs.refuseInside(out, "--out", root.resolve(split).resolve("images"), "the image folder");
            Outputs.refuseInside(out, "--out", masks, "the mask folder");
            if (roi != null) Outputs.refuseInside(out, "--out", roi, "the --roi folder");
            Outputs.refuseEarlier(out, OUTPUTS, overwrite, "an earlier evaluation");
            outDir = out;
        } else {
            outDir = Outputs.fresh(Path.of("runs", "evaluate"), OUTPUTS);
        }
        Dataset ds = Dataset.open(root, split, false, roi);
        Path roiUsed = ds.roiFolder();   // without --roi the data's own <split>/roi folder, when there is one: said below
        List<String> failed = new ArrayList<>();
        List<Map<String, Object>> failedJson = new ArrayList<>();
        // device and checkpoint first: a refused one leaves no output folder behind
        try (Backend be = device.open(System.out);
             InferenceModel lm = InferenceModel.open(w, be, tile, overlap, "flip".equals(tta), scale, System.out::println);
             OutputFolder folder = lockChecked(outDir, lm, w.path())) {
            if (folder.staleNote() != null) System.out.println(folder.staleNote());
            if (roi == null && roiUsed != null)
                System.out.println("field of view: ROI masks from " + roiUsed + " (the data's roi/ folder; --roi names another)");
            int k = lm.classes();
            MetricsSummary summary = new MetricsSummary(k);
            Map<String, Object> scaled = new LinkedHashMap<>();
            long t0 = System.nanoTime();
            Interrupts.note(() -> summary.images().size() + " of " + ds.size() + " images scored; nothing written to " + outDir + " yet");
            for (Sample s : ds.samples()) {
                try {
                    if (s.mask() == null)
                        throw new DataException("no mask for image " + s.image() + " in " + masks
                                + " (looked for a file named " + s.id() + ".* or " + s.id() + "_*.*)");
                    ClassMetrics[] m = scoreOne(s, lm, k, scaled);
                    summary.add(new ImageMetrics(s.id(), m));
                    double dice = 0, iou = 0, hd95 = 0;   // foreground mean (classes 1..K−1), as the summary line
                    for (int c = 1; c < k; c++) { dice += m[c].dice(); iou += m[c].iou(); hd95 += m[c].hd95(); }
                    System.out.printf("%-24s Dice %.4f  IoU %.4f  HD95 %.2f%n", s.id(), dice / (k - 1), iou / (k - 1), hd95 / (k - 1));
                } catch (DataException | UserError | UncheckedIOException e) {   // an unreadable file is that image's failure too
                    if (Interrupts.stopping()) throw e;
                    failed.add(Main.oneLine(e.getMessage()));
                    Map<String, Object> f = new LinkedHashMap<>();
                    f.put("image", s.image().toString());
                    f.put("error", Main.oneLine(e.getMessage()));
                    failedJson.add(f);
                }
            }
            if (!summary.images().isEmpty()) {
                MetricsWriters.writeCsv(outDir.resolve("metrics.csv"), summary.images());
                Interrupts.note(() -> "metrics.csv written to " + outDir + ", summary.json not (this evaluation is incomplete; run it"
                        + " again with --overwrite)");
                Map<String, Object> extra = new LinkedHashMap<>();
                extra.put("weights", w.path().toString());
                extra.put("data", data.toString());
                extra.put("roi", roiUsed == null ? null : roiUsed.toString());
                extra.put("tta", tta);
                extra.put("scale", scaleJson(lm, scaled));
                extra.put("failed", failedJson);
                MetricsWriters.writeSummaryJson(outDir.resolve("summary.json"), summary, extra);
                System.out.printf("%d images in %.1f s: mean foreground Dice %.4f, IoU %.4f, HD95 %.2f; written %s and %s%n",
                        summary.images().size(), (System.nanoTime() - t0) / 1e9, summary.foregroundMean("dice"),
                        summary.foregroundMean("iou"), summary.foregroundMean("hd95"), outDir.resolve("metrics.csv"),
                        outDir.resolve("summary.json"));
            }
        }
        // --overwrite with nothing to write keeps the earlier results (replaced only by new ones): say whose they are
        List<String> earlier = Outputs.existing(outDir, OUTPUTS);
        return FolderReport.finish(failed, ds.size(), "images", "no metrics were written" + (earlier.isEmpty() ? ""
                : "; the " + String.join(" and ", earlier) + " in " + outDir + " are an earlier run's, left unchanged"));
    }

    /** The checkpoint's class count checked, then the output folder made and locked: a refusal leaves no folder. */
    private static OutputFolder lockChecked(Path outDir, InferenceModel lm, Path w) {
        int k = lm.classes();
        if (k > convunext.data.LabelMap.IGNORE)
            throw new UserError(w + " has " + k + " classes; masks can hold at most " + convunext.data.LabelMap.IGNORE
                    + " (value " + convunext.data.LabelMap.IGNORE + " means ignore)", Main.BAD_INPUT);
        return OutputFolder.lock(outDir, "evaluate");
    }

    /** One labelled image: decode, segment, score per class (at native size); notes the size the model ran at in {@code scaled}. */
    private static ClassMetrics[] scoreOne(Sample s, InferenceModel lm, int k, Map<String, Object> scaled) {
        // no side minimum here: segment refuses an image the model would run below 64×64 (one the scale resizes up is fine)
        LoadedSample ls = LoadedSample.load(s, k, lm.config().inChannels(), 1);
        SegMetrics.requireScoredPixels(ls.labels().labels(), ls.roi(), s.image().toString(), String.valueOf(s.mask()),
                String.valueOf(s.roi()));   // before the model runs: the rule the Spark job shares
        int h = ls.image().height(), w = ls.image().width();
        InferenceModel.Result r = lm.segment(ls.image(), s.image().toString());   // the pipeline predict and the API share
        Map<String, Object> one = new LinkedHashMap<>();
        one.put("native", List.of(w, h));
        one.put("inferred_at", List.of(r.inferWidth(), r.inferHeight()));
        one.put("factor", (double) Math.min(r.inferWidth(), r.inferHeight()) / Math.min(w, h));
        scaled.put(s.id(), one);
        return SegMetrics.compute(r.labels().labels(), ls.labels().labels(), ls.roi(), h, w, k);
    }

    /** summary.json's "scale": the setting, the checkpoint's training scale and the rule, and each image's sizes. */
    private static Map<String, Object> scaleJson(InferenceModel lm, Map<String, Object> scaled) {
        Map<String, Object> j = new LinkedHashMap<>();
        j.put("setting", lm.scale().describe());
        TrainingScale t = lm.trainingScale();
        if (t != null) {
            Map<String, Object> ts = new LinkedHashMap<>();
            ts.put("base_size", t.baseSize());
            ts.put("scale_min", t.minScale());
            ts.put("scale_max", t.maxScale());
            ts.put("short_side_min", t.minShortSide());
            ts.put("short_side_max", t.maxShortSide());
            ts.put("target_short_side", t.centre());
            j.put("training", ts);
        } else {
            j.put("training", null);
        }
        j.put("rule", switch (lm.scale().kind()) {
            case NATIVE -> "native size";
            case FACTOR -> "short side x " + lm.scale().describe() + ", probabilities resized back to native size (bilinear)";
            case AUTO -> t == null ? "native size (the checkpoint records no training scale)"
                    : "native size when the short side is in [" + t.minShortSide() + ", " + t.maxShortSide() + "], else short side "
                      + t.centre() + "; probabilities resized back to native size (bilinear)";
        });
        j.put("images", scaled);
        return j;
    }
}
