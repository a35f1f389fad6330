package convunext.data;

import convunext.io.AtomicFiles;
import java.awt.image.BufferedImage;
import java.awt.image.IndexColorModel;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Iterator;
import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageWriteParam;
import javax.imageio.ImageWriter;

/**
 * Tool (not a test) that made testdata/drive-mini from the DRIVE copy: training images 21 and 22
 * downscaled ×0.25 by 4×4 area averaging (masks: majority of the 4×4 block), written in DRIVE's
 * own formats (RGB TIFF-LZW images, 1-bit-palette GIF masks) and with DRIVE's original naming so
 * the prefix match is exercised: images/21_training.tif, masks/21_training_manual1.gif,
 * roi/21_training_mask.gif. Run: java -cp target/classes:target/test-classes
 * convunext.data.DriveMiniMaker DRIVE testdata/drive-mini (DRIVE: the data set folder,
 * {train,test}/{images,masks} as laid out in testdata/README.md)
 */
public final class DriveMiniMaker {
    public static void main(String[] args) throws IOException {
        Path drive = Path.of(args[0]), out = Path.of(args[1]);
        for (String id : new String[] {"21", "22"}) {
            FloatImage img = ImageFiles.readImage(drive.resolve("train/images/" + id + "_training.tif"));
            LabelMap vessels = ImageFiles.readLabels(drive.resolve("original_annotations/training/1st_manual/" + id + "_manual1.gif"), 2);
            LabelMap fov = ImageFiles.readLabels(drive.resolve("original_annotations/training/mask/" + id + "_training_mask.gif"), 2);
            Path t = out.resolve("train");
            writeTiffLzw(t.resolve("images/" + id + "_training.tif"), shrink(img, 4));
            writeGif(t.resolve("masks/" + id + "_training_manual1.gif"), shrink(vessels, 4));
            writeGif(t.resolve("roi/" + id + "_training_mask.gif"), shrink(fov, 4));
        }
    }

    static FloatImage shrink(FloatImage im, int f) {
        int h = im.height() / f, w = im.width() / f, c = im.channels();
        float[] d = new float[c * h * w];
        for (int k = 0; k < c; k++)
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++) {
                    float s = 0;
                    for (int dy = 0; dy < f; dy++) for (int dx = 0; dx < f; dx++) s += im.get(k, y * f + dy, x * f + dx);
                    d[(k * h + y) * w + x] = Math.round(s / (f * f));
                }
        return new FloatImage(c, h, w, d);
    }

    static LabelMap shrink(LabelMap m, int f) {
        int h = m.height() / f, w = m.width() / f;
        int[] d = new int[h * w];
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++) {
                int s = 0;
                for (int dy = 0; dy < f; dy++) for (int dx = 0; dx < f; dx++) s += m.get(y * f + dy, x * f + dx);
                d[y * w + x] = 2 * s >= f * f ? 1 : 0;
            }
        return new LabelMap(h, w, d);
    }

    static void writeTiffLzw(Path file, FloatImage im) throws IOException {
        BufferedImage b = new BufferedImage(im.width(), im.height(), BufferedImage.TYPE_3BYTE_BGR);
        for (int y = 0; y < im.height(); y++)
            for (int x = 0; x < im.width(); x++)
                for (int c = 0; c < 3; c++) b.getRaster().setSample(x, y, c, (int) im.get(c, y, x));
        Iterator<ImageWriter> it = ImageIO.getImageWritersByFormatName("tiff");
        ImageWriter w = it.next();
        AtomicFiles.write(file, out -> {
            try (var ios = ImageIO.createImageOutputStream(out)) {
                w.setOutput(ios);
                ImageWriteParam p = w.getDefaultWriteParam();
                p.setCompressionMode(ImageWriteParam.MODE_EXPLICIT);
                p.setCompressionType("LZW");
                w.write(null, new IIOImage(b, null, null), p);
            }
        });
        w.dispose();
    }

    static void writeGif(Path file, LabelMap m) {
        byte[] lut = {0, (byte) 255};
        IndexColorModel cm = new IndexColorModel(1, 2, lut, lut, lut);
        BufferedImage b = new BufferedImage(m.width(), m.height(), BufferedImage.TYPE_BYTE_BINARY, cm);
        for (int y = 0; y < m.height(); y++)
            for (int x = 0; x < m.width(); x++) b.getRaster().setSample(x, y, 0, m.get(y, x));
        AtomicFiles.write(file, out -> {
            if (!ImageIO.write(b, "gif", out)) throw new IOException("no GIF writer");
        });
    }
}
