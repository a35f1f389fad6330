package convunext.cli;

import static org.junit.jupiter.api.Assertions.*;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Validation images get the model's channels by predict's rule: a gray image among RGB training
 * images is replicated (it used to end the run after an epoch with a Normalization error naming no
 * file); an RGB image for a gray model is refused before training, naming it.
 */
class ValidationChannelsTest {
    @TempDir Path dir;

    /** A copy of the synthetic set; {@code gray} rewrites the named images as gray PNGs, {@code asRgb} keeps them RGB with equal channels. */
    private Path copy(String name, boolean asRgb, String... gray) throws IOException {
        Path root = dir.resolve(name);
        Path src = Path.of("testdata/synthetic");
        try (Stream<Path> s = Files.walk(src)) {
            for (Path f : s.toList()) {
                Path t = root.resolve(src.relativize(f).toString());
                if (Files.isDirectory(f)) Files.createDirectories(t);
                else Files.copy(f, t);
            }
        }
        for (String g : gray) {
            Path f = root.resolve(g);
            BufferedImage in = ImageIO.read(f.toFile());
            BufferedImage out = new BufferedImage(in.getWidth(), in.getHeight(), asRgb ? BufferedImage.TYPE_INT_RGB : BufferedImage.TYPE_BYTE_GRAY);
            for (int y = 0; y < in.getHeight(); y++)
                for (int x = 0; x < in.getWidth(); x++) {
                    int v = (in.getRGB(x, y) >> 16) & 0xFF;   // the red channel as the gray value
                    if (asRgb) out.setRGB(x, y, v << 16 | v << 8 | v);
                    else out.getRaster().setSample(x, y, 0, v);
                }
            ImageIO.write(out, "png", f.toFile());
        }
        return root;
    }

    private CliTest.Run train(Path data, Path out) {
        return CliTest.run("train", "--data", data.toString(), "--out", out.toString(), "--device", "cpu", "--epochs", "1", "--batch", "2",
                "--crop", "64", "--base-size", "80", "--base-c", "4", "--max-steps-per-epoch", "1", "--tile", "128");
    }

    @Test void aGrayValidationImageIsScoredAsItsRgbReplica() throws IOException {
        Path gray = copy("gray", false, "test/images/syn_016.png");
        Path rgb = copy("rgb", true, "test/images/syn_016.png");
        assertEquals(1, ImageIO.read(gray.resolve("test/images/syn_016.png").toFile()).getColorModel().getNumComponents());
        CliTest.Run g = train(gray, dir.resolve("run-gray"));
        assertEquals(0, g.code(), g.out() + g.err());
        assertTrue(g.out().contains("val Dice"), g.out());
        assertTrue(Files.isRegularFile(dir.resolve("run-gray/best.safetensors")));
        CliTest.Run r = train(rgb, dir.resolve("run-rgb"));
        assertEquals(0, r.code(), r.out() + r.err());
        // The same scores: validation replicated the gray image exactly as predict does.
        String vg = Files.readAllLines(dir.resolve("run-gray/metrics.csv")).get(1).split(",", 4)[2];
        String vr = Files.readAllLines(dir.resolve("run-rgb/metrics.csv")).get(1).split(",", 4)[2];
        assertEquals(vr, vg);
    }

    @Test void anRgbValidationImageForAGrayModelIsRefusedBeforeTraining() throws IOException {
        String[] trainImages = new String[16];
        for (int i = 0; i < 16; i++) trainImages[i] = String.format("train/images/syn_%03d.png", i);
        Path data = copy("graytrain", false, trainImages);
        CliTest.Run r = train(data, dir.resolve("run"));
        assertEquals(Main.BAD_INPUT, r.code(), r.out() + r.err());
        assertEquals("error: image " + data.resolve("test/images/syn_016.png") + " has 3 channels, the model expects 1", r.err().strip());
        assertFalse(r.out().contains("epoch 1/1"), r.out());
        assertFalse(Files.exists(dir.resolve("run/metrics.csv")));
    }

    /**
     * A gray image among RGB training images (not the first) is refused before the output folder is
     * made, naming it; before, a fresh run left an empty folder (its lock file) behind, and a resumed
     * run stopped at its first batch with "Normalization: image has 1 channels, statistics have 3".
     */
    @Test void aGrayTrainingImageAmongRgbOnesIsRefusedNamingIt() throws IOException {
        Path data = copy("mixed", false, "train/images/syn_003.png");
        String want = "error: image " + data.resolve("train/images/syn_003.png") + " has 1 channels, the first training image ("
                + data.resolve("train/images/syn_000.png") + ") has 3; training images must all be gray or all colour";
        CliTest.Run r = train(data, dir.resolve("fresh"));
        assertEquals(Main.BAD_INPUT, r.code(), r.out() + r.err());
        assertFalse(Files.exists(dir.resolve("fresh")), "no output folder made");
        assertEquals(want, r.err().strip());
        // the same data under --resume of a run on the RGB set
        CliTest.Run first = train(copy("clean", false), dir.resolve("run"));
        assertEquals(0, first.code(), first.out() + first.err());
        byte[] last = Files.readAllBytes(dir.resolve("run/last.safetensors"));
        CliTest.Run resumed = CliTest.run("train", "--data", data.toString(), "--resume", dir.resolve("run/last.safetensors").toString(),
                "--epochs", "2", "--device", "cpu");
        assertEquals(Main.BAD_INPUT, resumed.code(), resumed.out() + resumed.err());
        assertEquals(want, resumed.err().strip());
        assertFalse(resumed.out().contains("resumed from"), resumed.out());
        assertArrayEquals(last, Files.readAllBytes(dir.resolve("run/last.safetensors")));
    }
}
