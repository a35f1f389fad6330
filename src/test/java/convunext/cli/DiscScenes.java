package convunext.cli;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import javax.imageio.ImageIO;

/**
 * A data set where only scale tells the classes apart: small bright discs (radius r, foreground)
 * and large discs of the same brightness (radius 3r, background) on a noisy background. Drawn at
 * {@code zoom} 1 for training and at zoom 3 for testing, where a foreground disc is exactly the
 * size of a training distractor: a model that runs the zoomed image as it is calls the objects
 * background; one that first brings the image back to the training scale finds them.
 */
final class DiscScenes {
    static final int SIDE = 96, SMALL = 4, LARGE = 3 * SMALL;

    private DiscScenes() {}

    /** Writes {@code n} image/mask pairs drawn at {@code zoom} into {@code dir}/{images,masks}. */
    static void write(Path dir, int n, int zoom, long seed) throws IOException {
        Files.createDirectories(dir.resolve("images"));
        Files.createDirectories(dir.resolve("masks"));
        for (int i = 0; i < n; i++) {
            SplittableRandom rng = new SplittableRandom(seed * 1000 + i);
            List<double[]> discs = layout(rng);
            int s = SIDE * zoom;
            BufferedImage img = new BufferedImage(s, s, BufferedImage.TYPE_INT_RGB);
            BufferedImage mask = new BufferedImage(s, s, BufferedImage.TYPE_BYTE_GRAY);
            SplittableRandom noise = new SplittableRandom(seed * 1000 + i + 500_000);
            for (int y = 0; y < s; y++)
                for (int x = 0; x < s; x++) {
                    double cover = 0;   // 4×4 supersampled coverage of the brightest disc here
                    boolean fg = false;
                    for (double[] d : discs) {
                        double cx = d[0] * zoom, cy = d[1] * zoom, r = d[2] * zoom;
                        int in = 0;
                        for (int sy = 0; sy < 4; sy++)
                            for (int sx = 0; sx < 4; sx++) {
                                double px = x + (sx + 0.5) / 4, py = y + (sy + 0.5) / 4;
                                if ((px - cx) * (px - cx) + (py - cy) * (py - cy) <= r * r) in++;
                            }
                        cover = Math.max(cover, in / 16.0);
                        double dx = x + 0.5 - cx, dy = y + 0.5 - cy;
                        if (d[3] > 0 && dx * dx + dy * dy <= r * r) fg = true;
                    }
                    double v = 60 + 140 * cover + 12 * noise.nextDouble() - 6;
                    int g = (int) Math.max(0, Math.min(255, Math.round(v)));
                    img.setRGB(x, y, (g << 16) | ((g * 3 / 4) << 8) | (g / 2));
                    mask.getRaster().setSample(x, y, 0, fg ? 255 : 0);
                }
            String name = String.format("disc_%03d.png", i);
            ImageIO.write(img, "png", dir.resolve("images").resolve(name).toFile());
            ImageIO.write(mask, "png", dir.resolve("masks").resolve(name).toFile());
        }
    }

    /** Non-overlapping discs in zoom-1 coordinates: {cx, cy, r, foreground 1/0}. */
    private static List<double[]> layout(SplittableRandom rng) {
        List<double[]> out = new ArrayList<>();
        int want = 14, tries = 0;
        while (out.size() < want && tries++ < 2000) {
            boolean fg = out.size() < 10;   // 10 small foreground discs, then 4 large distractors
            double r = fg ? SMALL : LARGE;
            double cx = r + 1 + rng.nextDouble() * (SIDE - 2 * r - 2), cy = r + 1 + rng.nextDouble() * (SIDE - 2 * r - 2);
            boolean ok = true;
            for (double[] d : out) if (Math.hypot(d[0] - cx, d[1] - cy) < d[2] + r + 3) ok = false;
            if (ok) out.add(new double[] {cx, cy, r, fg ? 1 : 0});
        }
        return out;
    }
}
