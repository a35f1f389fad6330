package convunext.data;

import static org.junit.jupiter.api.Assertions.*;

import java.awt.image.BufferedImage;
import java.nio.file.Path;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A field-of-view mask is inside where its value is above half its largest. A JPEG of one used to
 * be read as "anything not 0 is inside", so its ringing beside the edge widened the field of view
 * without a word; it now reads as the mask it was saved from, and two-valued masks as before.
 */
class RoiValuesTest {
    @TempDir Path tmp;

    private static BufferedImage disc(int inside) {
        BufferedImage g = new BufferedImage(96, 96, BufferedImage.TYPE_BYTE_GRAY);
        for (int y = 0; y < 96; y++)
            for (int x = 0; x < 96; x++) g.getRaster().setSample(x, y, 0, (x - 48) * (x - 48) + (y - 48) * (y - 48) < 40 * 40 ? inside : 0);
        return g;
    }

    @Test void aLossyRoiReadsAsTheMaskItWasSavedFrom() throws Exception {
        Path jpg = tmp.resolve("fov.jpg");
        assertTrue(ImageIO.write(disc(255), "jpg", jpg.toFile()));
        java.awt.image.Raster r = ImageIO.read(jpg.toFile()).getRaster();
        int ringing = 0;
        for (int y = 0; y < 96; y++)
            for (int x = 0; x < 96; x++) if (r.getSample(x, y, 0) != 0 && r.getSample(x, y, 0) < 128) ringing++;
        assertTrue(ringing > 0, "the JPEG has no ringing to test with");
        boolean[] roi = ImageFiles.readRoi(jpg, 96, 96), saved = ImageFiles.readRoi(write(disc(255)), 96, 96);
        int differ = 0;
        for (int i = 0; i < roi.length; i++) if (roi[i] != saved[i]) differ++;
        assertEquals(0, differ, "pixels of the JPEG's field of view against the PNG's (" + ringing + " ringing pixels)");
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
