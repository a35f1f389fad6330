package convunext.cli;

import convunext.backend.Backend;
import convunext.data.DataException;
import convunext.data.Dataset;
import convunext.data.FloatImage;
import convunext.data.ImageFiles;
import convunext.data.ImageWriters;
import convunext.data.LabelMap;
import convunext.io.OutputFolder;
import convunext.train.InferenceModel;
import convunext.train.InferenceScale;
import convunext.train.Predictor;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicReference;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "predict", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Writes a PNG mask for each image in a folder.",
                "Same name, .png: 0/255 for two classes, the class index otherwise. Any image size: large",
                "images go through overlapping, blended windows."},
        footer = {"", "Scale: each image runs at the training scale its checkpoint records (the",
                "image resized, the class probabilities resized back); results are always",
                "at the image's own size. Checkpoints without it run at native size.", "", "Outputs are named after the input without its extension (a.jpg -> a.png, a_prob.png,",
                "a_overlay.png): two inputs that would write the same file (a.png and a.jpg) are refused,",
                "naming both. -o must not be the input folder, inside it or around it; files of an earlier",
                "run are replaced only with --overwrite. Images that cannot be used (unreadable, truncated,",
                "wrong channels, too small) are listed at the end, after the others are done: exit code 2."})
final class PredictCommand implements Callable<Integer> {
    @Option(names = {"-i", "--input"}, required = true, description = "folder of images (or one image file)")
    Path input;
    @Option(names = {"-o", "--output"}, required = true, description = "output folder")
    Path output;
    @Option(names = "--overwrite", description = "replace files an earlier run wrote in the output folder")
    boolean overwrite;
    @Mixin WeightsOption weights;
    @Mixin DeviceOption device;
    @Mixin ScaleOption scaleOption;
    @Option(names = "--tile", defaultValue = "512", description = "window size, ≥ 64 (default: ${DEFAULT-VALUE})")
    int tile;
    @Option(names = "--overlap", description = OVERLAP_HELP)
    Integer overlap;
    @Option(names = "--tta", description = "test-time augmentation: flip")
    String tta;
    @Option(names = "--probs", description = "also write <name>_prob.png (foreground probability 1 − P(background), 0..255)")
    boolean probs;
    @Option(names = "--overlay", description = "also write <name>_overlay.png (prediction over the image)")
    boolean overlay;

    @Override public Integer call() throws Exception {
        // Everything that can be refused is refused before the model is loaded.
        if (tta != null && !tta.equals("flip")) throw new UserError("--tta accepts only 'flip', got '" + tta + "'", Main.BAD_INPUT);
        int overlap = Predictor.overlap(this.overlap, tile);
        Predictor.checkSettings(tile, overlap);
        InferenceScale scale = scaleOption.require();
        InferenceModel.Weights w = weights.require();
        List<Path> files = inputs(input);
        Outputs.requireFolder(output, "-o");
        Outputs.requireApart(input, output, "-i", "-o");
        Map<String, Path> plan = outputNames(files, probs, overlay);
        Outputs.refuseInputsAsOutputs(files, output, plan, "-o");
        Outputs.refuseEarlier(output, plan.keySet(), overwrite, "outputs this run would write");
        List<String> failed = new ArrayList<>();
        int written = 0;
        // device and checkpoint first: a refused one leaves no output folder behind
        try (Backend be = device.open(System.out);
             InferenceModel lm = InferenceModel.open(w, be, tile, overlap, tta != null, scale, System.out::println);
             OutputFolder folder = OutputFolder.lock(output, "predict")) {
            if (folder.staleNote() != null) System.out.println(folder.staleNote());
            int k = lm.classes();
            long t0 = System.nanoTime();
            // one immutable snapshot, replaced by this thread, read once by the shutdown hook
            AtomicReference<Progress> progress = new AtomicReference<>(new Progress(0, null));
            Interrupts.note(() -> progress.get().note(files.size(), output));
            for (Path f : files) {
                progress.set(new Progress(written, f));
                try {
                    predictOne(f, lm, k);
                    written++;
                } catch (DataException | UserError | UncheckedIOException e) {   // a write failing is that file's failure too
                    if (Interrupts.stopping()) throw e;   // its temporary file was deleted by the signal: stop here
                    failed.add(Main.oneLine(e.getMessage()));
                }
                progress.set(new Progress(written, null));
            }
            System.out.printf("%d image(s) in %.1f s, masks in %s%n", written, (System.nanoTime() - t0) / 1e9, output);
        }
        return FolderReport.finish(failed, files.size(), "images", "no masks were written");
    }

    /**
     * What an interruption leaves: {@code written} images with all their files, and the image in
     * progress (null between images), whose probability map or overlay may be there without its
     * mask, or whose mask may have landed as the signal came.
     */
    record Progress(int written, Path current) {
        String note(int total, Path output) {
            return written + " of " + total + " images written to " + output
                    + (current == null ? "" : "; " + current + " was in progress and its outputs may be partial");
        }
    }

    static final String OVERLAP_HELP = "window overlap in pixels, < tile (default: 64; 16 at --tile 64, the smallest)";

    /**
     * One image: decode, segment, write its probability map and overlay when asked, then its mask:
     * the mask last, so an image whose mask is there has all its files (an interrupt between them
     * leaves no mask beside a missing overlay).
     */
    private void predictOne(Path f, InferenceModel lm, int k) {
        // The pipeline the library API and the Spark job share (channel fix, size check, model, arg-max).
        InferenceModel.Result r = lm.segment(ImageFiles.readImage(f), f.toString());
        FloatImage img = r.image();
        LabelMap labels = r.labels();
        float[] p = r.probabilities();
        int h = img.height(), w = img.width();
        String stem = Dataset.stem(f);
        if (probs) {
            int[] q = new int[h * w];
            // the foreground probability, 1 − P(background): the sum over classes 1..K−1 (exactly P(class 1) at K = 2)
            for (int i = 0; i < q.length; i++) {
                float fg = 0;
                for (int c = 1; c < k; c++) fg += p[c * h * w + i];
                q[i] = Math.min(255, Math.round(255 * fg));
            }
            ImageWriters.writeLabelsPng(output.resolve(stem + "_prob.png"), new LabelMap(h, w, q), 256);
        }
        if (overlay) ImageWriters.writeOverlayPng(output.resolve(stem + "_overlay.png"), img, labels, null);
        ImageWriters.writeLabelsPng(output.resolve(stem + ".png"), labels, k);   // last: the image is then complete
        System.out.printf("%s -> %s (%d×%d%s)%n", f.getFileName(), output.resolve(stem + ".png"), w, h,
                r.resized() ? ", run at " + r.inferWidth() + "×" + r.inferHeight() : "");
    }

    static List<Path> inputs(Path in) {
        if (Files.isRegularFile(in)) return List.of(in);
        if (!Files.isDirectory(in)) throw new UserError("input not found: " + in, Main.BAD_INPUT);
        List<Path> out = Dataset.listImages(in);
        if (out.isEmpty()) throw new UserError("no images in " + in, Main.BAD_INPUT);
        return out;
    }

    /**
     * Every file this run writes, by name, with the input it comes from. Two inputs that would
     * write one name (a.png and a.jpg; b.png's probability map and an input b_prob.png) are
     * refused, naming both, before anything is written; every such pair in the one line, so a
     * folder with several clashes needs one rename round, not one run per clash.
     */
    static Map<String, Path> outputNames(List<Path> files, boolean probs, boolean overlay) {
        Map<String, Path> plan = new LinkedHashMap<>();
        Map<String, String> role = new LinkedHashMap<>(), folded = new HashMap<>();
        List<String> clashes = new java.util.ArrayList<>();
        for (Path f : files) {
            String stem = Dataset.stem(f);
            claim(plan, role, folded, stem + ".png", f, "mask", clashes);
            if (probs) claim(plan, role, folded, stem + "_prob.png", f, "probability map", clashes);
            if (overlay) claim(plan, role, folded, stem + "_overlay.png", f, "overlay", clashes);
        }
        if (!clashes.isEmpty())
            throw new UserError(clashes.get(0) + "; rename one of them" + (clashes.size() == 1 ? ""
                    : " (" + (clashes.size() - 1) + " more: " + String.join("; ", clashes.subList(1, Math.min(clashes.size(), MAX_LISTED)))
                    + (clashes.size() > MAX_LISTED ? "; …" : "") + ")"), Main.BAD_INPUT);
        return plan;
    }

    /** Clashes named in full in the message; the rest counted. */
    private static final int MAX_LISTED = 6;

    /**
     * {@code folded}: the names claimed so far by their lower case. Names that differ only in case
     * (inputs a.png and A.jpg) are one file where names ignore case (macOS, Windows): the second
     * mask replaced the first there without a word. Refused everywhere, so a folder of results
     * also survives being copied to such a disk.
     */
    private static void claim(Map<String, Path> plan, Map<String, String> role, Map<String, String> folded, String name, Path f,
                              String what, List<String> clashes) {
        Path other = plan.putIfAbsent(name, f);
        if (other != null) {
            clashes.add("inputs " + other + " and " + f + " would both write " + name + " (the " + role.get(name) + " of the first, the "
                    + what + " of the second)");
            return;
        }
        String same = folded.putIfAbsent(name.toLowerCase(Locale.ROOT), name);
        if (same != null) {
            plan.remove(name);
            clashes.add("inputs " + plan.get(same) + " and " + f + " would write " + same + " and " + name
                    + ", one file where names ignore case (macOS, Windows)");
            return;
        }
        role.put(name, what);
    }
}
