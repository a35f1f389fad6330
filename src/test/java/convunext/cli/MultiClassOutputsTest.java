package convunext.cli;

import static org.junit.jupiter.api.Assertions.*;

import convunext.api.Segmentation;
import convunext.api.Segmenter;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A three-class model end to end: predict's {@code _prob.png} is the foreground probability
 * (1 − P(background), the sum over classes 1..K−1) as its --help says, not the last class's
 * probability; and evaluate names the field-of-view folder it scored with when that folder is
 * the data's own {@code roi/} (picked up without --roi), and prints each image's foreground mean;
 * train with --val-split says which images of train/ it holds out.
 */
class MultiClassOutputsTest {
    @TempDir static Path dir;
    static Path data, ckpt;

    /** The synthetic set with masks of 0/1/2 (class 2: foreground in the image's right half) and roi/ folders. */
    @BeforeAll static void trainThreeClasses() throws IOException {
        data = SyntheticVariant.copy(dir.resolve("k3"), (x, y, v, w, h) -> v == 0 ? 0 : x < w / 2 ? 1 : 2,
                (x, y, v, w, h) -> y < 8 ? 0 : 255, t -> t.getParent().resolveSibling("roi").resolve(t.getFileName().toString()));
        CliTest.Run r = CliTest.run("train", "--data", data.toString(), "--out", dir.resolve("run").toString(), "--device", "cpu",
                "--classes", "3", "--epochs", "1", "--batch", "2", "--crop", "64", "--base-size", "80", "--base-c", "4",
                "--max-steps-per-epoch", "1", "--tile", "128");
        assertEquals(0, r.code(), r.out() + r.err());
        ckpt = dir.resolve("run/last.safetensors");
    }

    @Test void probabilityMapIsTheForegroundProbability() throws IOException {
        Path out = dir.resolve("pred"), img = data.resolve("test/images/syn_016.png");
        CliTest.Run r = CliTest.run("predict", "-i", img.toString(), "-o", out.toString(), "--weights", ckpt.toString(),
                "--device", "cpu", "--probs");
        assertEquals(0, r.code(), r.out() + r.err());
        BufferedImage prob = ImageIO.read(out.resolve("syn_016_prob.png").toFile());
        try (Segmenter s = Segmenter.open(ckpt, "cpu")) {
            Segmentation g = s.segment(img);
            assertEquals(3, g.classes());
            float[] p0 = g.probabilities(0), p1 = g.probabilities(1), p2 = g.probabilities(2);
            int differsFromLastClass = 0;
            for (int y = 0; y < g.height(); y++)
                for (int x = 0; x < g.width(); x++) {
                    int i = y * g.width() + x, v = prob.getRaster().getSample(x, y, 0);
                    assertEquals(1 - p0[i], v / 255.0, 0.5 / 255 + 1e-6, "pixel (" + x + ", " + y + ")");
                    if (v != Math.round(255 * p2[i])) differsFromLastClass++;
                    assertTrue(p1[i] >= 0 && p2[i] >= 0);
                }
            assertTrue(differsFromLastClass > 0, "the model gives class 1 some probability, so the map is not P(class 2)");
        }
    }

    @Test void valSplitSaysWhichImagesItHoldsOut() throws IOException {
        Path noTest = dir.resolve("notest");
        try (Stream<Path> s = Files.walk(data.resolve("train"))) {
            for (Path f : s.toList()) {
                Path t = noTest.resolve(data.relativize(f).toString());
                if (Files.isDirectory(f)) Files.createDirectories(t); else Files.copy(f, t);
            }
        }
        CliTest.Run r = CliTest.run("train", "--data", noTest.toString(), "--out", dir.resolve("split").toString(), "--device", "cpu",
                "--classes", "3", "--epochs", "1", "--batch", "2", "--crop", "64", "--base-size", "80", "--base-c", "4",
                "--max-steps-per-epoch", "1", "--tile", "128", "--val-split", "0.25");
        assertEquals(0, r.code(), r.out() + r.err());
        assertTrue(r.out().contains("split train: 16 images"), r.out());
        assertTrue(r.out().contains("validation: 4 of 16 images of train/ held out (--val-split 0.25), trained on the other 12: syn_"), r.out());
    }

    @Test void evaluateNamesTheDataRoiFolderItScoresWith() throws IOException {
        Path out = dir.resolve("eval");
        CliTest.Run r = CliTest.run("evaluate", "--weights", ckpt.toString(), "--data", data.toString(), "--out", out.toString(),
                "--device", "cpu");
        assertEquals(0, r.code(), r.out() + r.err());
        Path roi = data.resolve("test").resolve("roi");
        assertTrue(r.out().contains(roi.toString()), r.out());
        String json = Files.readString(out.resolve("summary.json"));
        assertFalse(json.contains("\"roi\": null") || json.contains("\"roi\":null"), json);
        assertTrue(json.contains(roi.toString().replace("\\", "\\\\")), json);
        // each image's line gives the foreground mean (classes 1 and 2), as the summary line does, not class 2's alone
        double dice = 0;
        for (String line : Files.readAllLines(out.resolve("metrics.csv")))
            if (line.startsWith("syn_016,1,") || line.startsWith("syn_016,2,")) dice += Double.parseDouble(line.split(",")[6]) / 2;
        String shown = r.out().lines().filter(l -> l.startsWith("syn_016 ")).findFirst().orElseThrow();
        assertTrue(shown.contains(String.format("Dice %.4f ", dice)), shown + " vs foreground mean " + dice);
    }
}
