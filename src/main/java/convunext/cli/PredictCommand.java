package convunext.cli;

import convunext.backend.Backend;
import convunext.backend.Backends;
import convunext.data.Dataset;
import convunext.data.FloatImage;
import convunext.data.ImageFiles;
import convunext.data.ImageWriters;
import convunext.data.LabelMap;
import convunext.data.LoadedSample;
import convunext.train.Predictor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "predict", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Writes a PNG mask for each image in a folder.",
                "Same name, .png: 0/255 for two classes, the class index otherwise. Any image size: large",
                "images go through overlapping, blended windows."})
final class PredictCommand implements Callable<Integer> {
    @Option(names = {"-i", "--input"}, required = true, description = "folder of images (or one image file)")
    Path input;
    @Option(names = {"-o", "--output"}, required = true, description = "output folder")
    Path output;
    @Option(names = "--weights", description = "checkpoint (.safetensors)")
    Path weights;
    @Option(names = "--device", defaultValue = "auto", description = "auto, cpu, cuda or emulated (default: ${DEFAULT-VALUE})")
    String device;
    @picocli.CommandLine.Mixin
    PrecisionOption precision;
    @Option(names = "--tile", defaultValue = "512", description = "window size (default: ${DEFAULT-VALUE})")
    int tile;
    @Option(names = "--overlap", defaultValue = "64", description = "window overlap in pixels (default: ${DEFAULT-VALUE})")
    int overlap;
    @Option(names = "--tta", description = "test-time augmentation: flip")
    String tta;
    @Option(names = "--probs", description = "also write <name>_prob.png (foreground probability, 0..255)")
    boolean probs;
    @Option(names = "--overlay", description = "also write <name>_overlay.png (prediction over the image)")
    boolean overlay;

    @Override public Integer call() throws Exception {
        if (tta != null && !tta.equals("flip")) throw new UserError("--tta accepts only 'flip', got '" + tta + "'", Main.BAD_INPUT);
        List<Path> files = inputs(input);
        try (Backend be = Backends.open(device, precision.get(), System.out); LoadedModel lm = LoadedModel.open(weights, be, System.out::println)) {
            Files.createDirectories(output);
            int k = lm.model.config.numClasses();
            Predictor pred = new Predictor(lm.model, tile, overlap, tta != null);
            long t0 = System.nanoTime();
            for (Path f : files) {
                FloatImage img = ImageFiles.readImage(f);
                if (img.channels() != lm.model.config.inChannels()) {
                    if (img.channels() == 1 && lm.model.config.inChannels() == 3) img = LoadedSample.replicate(img, 3);
                    else throw new UserError(f + " has " + img.channels() + " channels, the model expects "
                            + lm.model.config.inChannels(), Main.BAD_INPUT);
                }
                int h = img.height(), w = img.width(), c = img.channels();
                if (h < convunext.nn.ConvUNeXt.MIN_SIDE || w < convunext.nn.ConvUNeXt.MIN_SIDE)
                    throw new UserError(f + " is " + w + "×" + h + ", smaller than the model's minimum "
                            + convunext.nn.ConvUNeXt.MIN_SIDE + "×" + convunext.nn.ConvUNeXt.MIN_SIDE, Main.BAD_INPUT);
                float[] x = new float[c * h * w];
                lm.norm.apply(img, x, 0);
                float[] p = pred.probabilities(x, c, h, w);
                LabelMap labels = convunext.eval.Predictions.argmax(p, 0, k, h, w);
                String stem = Dataset.stem(f);
                ImageWriters.writeLabelsPng(output.resolve(stem + ".png"), labels, k);
                if (probs) {
                    int[] q = new int[h * w];
                    for (int i = 0; i < q.length; i++) q[i] = Math.round(255 * p[(k - 1) * h * w + i]);
                    ImageWriters.writeLabelsPng(output.resolve(stem + "_prob.png"), new LabelMap(h, w, q), 256);
                }
                if (overlay) ImageWriters.writeOverlayPng(output.resolve(stem + "_overlay.png"), img, labels, null);
                System.out.printf("%s -> %s (%d×%d)%n", f.getFileName(), output.resolve(stem + ".png"), w, h);
            }
            System.out.printf("%d image(s) in %.1f s%n", files.size(), (System.nanoTime() - t0) / 1e9);
        }
        return Main.OK;
    }

    static List<Path> inputs(Path in) {
        if (Files.isRegularFile(in)) return List.of(in);
        if (!Files.isDirectory(in)) throw new UserError("input not found: " + in, Main.BAD_INPUT);
        List<Path> out = Dataset.listImages(in);
        if (out.isEmpty()) throw new UserError("no images in " + in, Main.BAD_INPUT);
        return out;
    }
}
