package convunext.cli;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import javax.imageio.ImageIO;

/** Tests' variants of the built-in synthetic set: its masks rewritten pixel by pixel, with ROI masks beside. */
final class SyntheticVariant {
    private SyntheticVariant() {}

    /** A pixel's new value from its position, the original mask's value v (0 or 1) and the mask's width and height. */
    interface Pixel {
        int value(int x, int y, int v, int width, int height);
    }

    /**
     * testdata/synthetic copied to {@code root}: images as they are, each mask rewritten by {@code mask},
     * and an ROI mask by {@code roi} written where {@code roiPath} puts it (given the mask's new path).
     */
    static Path copy(Path root, Pixel mask, Pixel roi, UnaryOperator<Path> roiPath) throws IOException {
        Path src = Path.of("testdata/synthetic");
        try (Stream<Path> s = Files.walk(src)) {
            for (Path f : s.toList()) {
                Path t = root.resolve(src.relativize(f).toString());
                if (Files.isDirectory(f)) { Files.createDirectories(t); continue; }
                if (!f.getParent().getFileName().toString().equals("masks")) { Files.copy(f, t); continue; }
                BufferedImage m = ImageIO.read(f.toFile());
                int w = m.getWidth(), h = m.getHeight();
                BufferedImage out = new BufferedImage(w, h, BufferedImage.TYPE_BYTE_GRAY), r = new BufferedImage(w, h, BufferedImage.TYPE_BYTE_GRAY);
                for (int y = 0; y < h; y++)
                    for (int x = 0; x < w; x++) {
                        int v = m.getRaster().getSample(x, y, 0) == 0 ? 0 : 1;
                        out.getRaster().setSample(x, y, 0, mask.value(x, y, v, w, h));
                        r.getRaster().setSample(x, y, 0, roi.value(x, y, v, w, h));
                    }
                ImageIO.write(out, "png", t.toFile());
                Path rp = roiPath.apply(t);
                Files.createDirectories(rp.getParent());
                ImageIO.write(r, "png", rp.toFile());
            }
        }
        return root;
    }
}
