package convunext.data;

import static org.junit.jupiter.api.Assertions.*;

import java.awt.image.BufferedImage;
import java.nio.file.Path;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A field-of-view mask is 0 outside and one value inside. A JPEG of one used to be read as
 * "anything not 0 is inside", so its ringing beside the edge (values 1..10) widened the field of
 * view without a word; such a mask is now refused, naming the file, the values and a position.
 */
class RoiValuesTest {
    @TempDir Path tmp;

    private static BufferedImage disc(int inside) {
        BufferedImage g = new BufferedImage(96, 96, BufferedImage.TYPE_BYTE_GRAY);
        for (int y = 0; y < 96; y++)
            for (int x = 0; x < 96; x++) g.getRaster().setSample(x, y, 0, (x - 48) * (x - 48) + (y - 48) * (y - 48) < 40 * 40 ? inside : 0);
        return g;
    }

    @Test void aLossyRoiIsRefusedNamingItsValues() throws Exception {
        Path jpg = tmp.resolve("fov.jpg");
        assertTrue(ImageIO.write(disc(255), "jpg", jpg.toFile()));
        DataException e = assertThrows(DataException.class, () -> ImageFiles.readRoi(jpg, 96, 96));
        assertTrue(e.getMessage().startsWith("ROI mask " + jpg + " holds ") && e.getMessage().contains("besides 0")
                && e.getMessage().contains("lossy JPEG"), e.getMessage());
    }

    @Test void twoValuedRoisStillRead() throws Exception {
        for (int inside : new int[] {1, 255}) {
            Path png = tmp.resolve("fov" + inside + ".png");
            assertTrue(ImageIO.write(disc(inside), "png", png.toFile()));
            boolean[] roi = ImageFiles.readRoi(png, 96, 96);
            assertTrue(roi[48 * 96 + 48] && !roi[0], "inside value " + inside);
        }
        boolean[] none = ImageFiles.readRoi(write(disc(0)), 96, 96);   // all outside: nothing scored, as before
        for (boolean b : none) assertFalse(b);
    }

    private Path write(BufferedImage im) throws Exception {
        Path p = tmp.resolve("zero.png");
        ImageIO.write(im, "png", p.toFile());
        return p;
    }
}
