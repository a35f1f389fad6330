package convunext.data;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The built-in data set: retina-like RGB images (textured reddish background with vignetting and
 * a bright "optic disc", curvy dark branching vessels that taper, Gaussian noise) and their binary
 * vessel masks. Fully deterministic from (seed, index): only SplittableRandom and StrictMath are
 * used, so regenerating gives identical pixels on any JVM.
 *
 * <p>{@code java -cp target/classes convunext.data.SyntheticData [root]} rewrites
 * {@code testdata/synthetic/{train,test}/{images,masks}/syn_NNN.png}.
 */
public final class SyntheticData {
    public static final long DEFAULT_SEED = 20240917L;
    public static final int DEFAULT_TRAIN = 16, DEFAULT_TEST = 4, DEFAULT_SIZE = 96;

    private SyntheticData() {}

    /** One generated image (RGB, 0..255 integers as floats) and its mask (0 background, 1 vessel). */
    public record Pair(FloatImage image, LabelMap mask) {}

    /** Writes nTrain + nTest pairs as PNGs under root/{train,test}/{images,masks}; returns the image paths. */
    public static List<Path> write(Path root, long seed, int nTrain, int nTest, int size) {
        List<Path> written = new ArrayList<>();
        for (int i = 0; i < nTrain + nTest; i++) {
            Pair p = generate(seed, i, size);
            String split = i < nTrain ? "train" : "test";
            String name = String.format("syn_%03d.png", i);
            Path img = root.resolve(split).resolve("images").resolve(name);
            ImageWriters.writeImagePng(img, p.image());
            ImageWriters.writeLabelsPng(root.resolve(split).resolve("masks").resolve(name), p.mask(), 2);
            written.add(img);
        }
        return written;
    }

    /**
     * Writes the default set under {@code root} unless a complete one is there (a marker file is
     * written last, so a set cut short by Ctrl-C or a kill is rewritten, never used half-made).
     */
    public static void ensure(Path root) {
        Path done = root.resolve(".complete");
        if (java.nio.file.Files.isRegularFile(done)) return;
        // a run killed (-9) while writing the set left its temporary files: no lock guards this folder
        for (String split : new String[] {"train", "test"})
            for (String kind : new String[] {"images", "masks"})
                convunext.io.AtomicFiles.removeOrphans(root.resolve(split).resolve(kind));
        write(root, DEFAULT_SEED, DEFAULT_TRAIN, DEFAULT_TEST, DEFAULT_SIZE);
        convunext.io.AtomicFiles.writeString(done, "seed " + DEFAULT_SEED + ", " + DEFAULT_TRAIN + " train / " + DEFAULT_TEST
                + " test images, " + DEFAULT_SIZE + " px\n");
    }

    public static Pair generate(long seed, int index, int size) {
        if (size < 16) throw new IllegalArgumentException("SyntheticData: size must be >= 16, got " + size);
        SplittableRandom rng = new SplittableRandom(seed * 0x9E3779B97F4A7C15L + index * 0xBF58476D1CE4E5B9L + 1);
        int n = size * size;
        double s = size;

        // Background brightness: a few low-frequency waves, radial vignetting, an optic disc.
        double[] bright = new double[n];
        int waves = 4;
        double[] kx = new double[waves], ky = new double[waves], ph = new double[waves], amp = new double[waves];
        for (int k = 0; k < waves; k++) {
            kx[k] = (rng.nextDouble() * 2 - 1) * 4 * Math.PI / s;
            ky[k] = (rng.nextDouble() * 2 - 1) * 4 * Math.PI / s;
            ph[k] = rng.nextDouble() * 2 * Math.PI;
            amp[k] = 0.03 + 0.05 * rng.nextDouble();
        }
        double discX = s * (0.2 + 0.6 * rng.nextDouble()), discY = s * (0.2 + 0.6 * rng.nextDouble());
        double discR = s * (0.07 + 0.05 * rng.nextDouble());
        double cx = s / 2, cy = s / 2, rmax = s * 0.72;
        for (int y = 0; y < size; y++) {
            for (int x = 0; x < size; x++) {
                double b = 1;
                for (int k = 0; k < waves; k++) b += amp[k] * StrictMath.cos(kx[k] * x + ky[k] * y + ph[k]);
                double rr = ((x - cx) * (x - cx) + (y - cy) * (y - cy)) / (rmax * rmax);
                b *= 1 - 0.35 * rr;
                double dd = ((x - discX) * (x - discX) + (y - discY) * (y - discY)) / (discR * discR);
                b += 0.35 * StrictMath.exp(-dd);
                bright[y * size + x] = b;
            }
        }

        // Vessels: tapering random curves, half of them leaving the disc, some with branches.
        double[] dark = new double[n];
        int[] mask = new int[n];
        int vessels = 4 + rng.nextInt(3);
        for (int v = 0; v < vessels; v++) {
            double x, y, heading;
            if (v % 2 == 0) {
                x = discX; y = discY; heading = rng.nextDouble() * 2 * Math.PI;
            } else {
                double t = rng.nextDouble() * s;
                switch (rng.nextInt(4)) {
                    case 0 -> { x = t; y = 0; heading = Math.PI / 2; }
                    case 1 -> { x = t; y = s - 1; heading = -Math.PI / 2; }
                    case 2 -> { x = 0; y = t; heading = 0; }
                    default -> { x = s - 1; y = t; heading = Math.PI; }
                }
                heading += (rng.nextDouble() - 0.5) * 1.2;
            }
            double width = s / 96 * (1.6 + 1.2 * rng.nextDouble());
            double contrast = 0.35 + 0.25 * rng.nextDouble();
            trace(rng, x, y, heading, width, contrast, size, dark, mask, 1);
        }

        float[] img = new float[3 * n];
        double[] base = {200, 92, 48}, absorb = {0.55, 0.85, 0.7};
        for (int i = 0; i < n; i++) {
            for (int c = 0; c < 3; c++) {
                double val = base[c] * bright[i] * (1 - absorb[c] * dark[i]) + 7 * gaussian(rng);
                img[c * n + i] = (float) Math.max(0, Math.min(255, Math.rint(val)));
            }
        }
        return new Pair(new FloatImage(3, size, size, img), new LabelMap(size, size, mask));
    }

    /** Follows one vessel from (x,y) until it leaves the image or becomes too thin. */
    private static void trace(SplittableRandom rng, double x, double y, double heading, double radius,
                              double contrast, int size, double[] dark, int[] mask, int depth) {
        double turn = 0, step = 0.5, taper = 0.9975 - 0.0015 * rng.nextDouble();
        int branchAt = depth > 0 ? 40 + rng.nextInt(120) : -1;
        for (int k = 0; k < 600; k++) {
            stamp(x, y, radius, contrast, size, dark, mask);
            turn = 0.85 * turn + 0.012 * gaussian(rng);
            heading += turn;
            x += step * StrictMath.cos(heading);
            y += step * StrictMath.sin(heading);
            radius *= taper;
            if (radius < 0.45 || x < -2 || y < -2 || x > size + 1 || y > size + 1) return;
            if (k == branchAt) {
                double side = rng.nextBoolean() ? 1 : -1;
                trace(rng, x, y, heading + side * (0.5 + 0.5 * rng.nextDouble()), radius * 0.7, contrast * 0.9,
                        size, dark, mask, depth - 1);
            }
        }
    }

    /** Anti-aliased disc for the image; hard disc (at least the centre pixel) for the mask. */
    private static void stamp(double x, double y, double r, double contrast, int size, double[] dark, int[] mask) {
        int x0 = (int) Math.floor(x - r - 1), x1 = (int) Math.ceil(x + r + 1);
        int y0 = (int) Math.floor(y - r - 1), y1 = (int) Math.ceil(y + r + 1);
        double rm = Math.max(r, 0.5);
        for (int py = Math.max(0, y0); py <= Math.min(size - 1, y1); py++) {
            for (int px = Math.max(0, x0); px <= Math.min(size - 1, x1); px++) {
                double d = Math.sqrt((px - x) * (px - x) + (py - y) * (py - y));
                double a = Math.max(0, Math.min(1, r + 0.5 - d));
                int i = py * size + px;
                if (a * contrast > dark[i]) dark[i] = a * contrast;
                if (d <= rm) mask[i] = 1;
            }
        }
    }

    /** Standard normal by Box–Muller with StrictMath (reproducible everywhere). */
    private static double gaussian(SplittableRandom rng) {
        double u = 1 - rng.nextDouble(), v = rng.nextDouble();
        return StrictMath.sqrt(-2 * StrictMath.log(u)) * StrictMath.cos(2 * Math.PI * v);
    }

    public static void main(String[] args) {
        Path root = Path.of(args.length > 0 ? args[0] : "testdata/synthetic");
        List<Path> files = write(root, DEFAULT_SEED, DEFAULT_TRAIN, DEFAULT_TEST, DEFAULT_SIZE);
        System.out.println("wrote " + files.size() + " image/mask pairs under " + root);
    }
}
