package convunext.data;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.SplittableRandom;
import javax.imageio.ImageIO;

/** Helpers that write small test images in a chosen container format. */
final class Fixtures {
    private Fixtures() {}

    static final Path REPO = Path.of("").toAbsolutePath();
    static final Path SYNTHETIC = REPO.resolve("testdata/synthetic");
    static final Path DRIVE_MINI = REPO.resolve("testdata/drive-mini");

    static BufferedImage randomRgb(int w, int h, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        BufferedImage b = new BufferedImage(w, h, BufferedImage.TYPE_3BYTE_BGR);
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
                for (int c = 0; c < 3; c++) b.getRaster().setSample(x, y, c, 1 + r.nextInt(254));
        return b;
    }

    static BufferedImage gray(int w, int h, int[] values) {
        BufferedImage b = new BufferedImage(w, h, BufferedImage.TYPE_BYTE_GRAY);
        b.getRaster().setSamples(0, 0, w, h, 0, values);
        return b;
    }

    /** Writes {@code im} with the given ImageIO format to {@code file} (any name). */
    static Path write(BufferedImage im, String format, Path file) throws IOException {
        java.nio.file.Files.createDirectories(file.toAbsolutePath().getParent());
        if (!ImageIO.write(im, format, file.toFile())) throw new IOException("no writer for " + format);
        return file;
    }

    static int[] randomLabels(int n, int k, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        int[] v = new int[n];
        for (int i = 0; i < n; i++) v[i] = r.nextInt(k);
        return v;
    }
}
