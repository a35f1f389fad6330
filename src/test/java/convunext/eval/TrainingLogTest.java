package convunext.eval;

import static org.junit.jupiter.api.Assertions.*;

import convunext.data.FloatImage;
import convunext.data.ImageFiles;
import java.awt.Color;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TrainingLogTest {
    @TempDir Path tmp;

    @Test void appendCreatesHeaderAndResumes() throws Exception {
        Path f = tmp.resolve("run/metrics.csv");
        TrainingLog log = new TrainingLog(f, TrainingLog.DEFAULT_COLUMNS);
        log.append(1, 0.913, Double.NaN, 0.41, 1e-3, 12.5);
        new TrainingLog(f, TrainingLog.DEFAULT_COLUMNS).append(2, 0.61, 0.7, 0.55, 9.5e-4, 12);
        List<String> lines = Files.readAllLines(f);
        assertEquals(List.of("epoch,train_loss,val_loss,val_dice,lr,seconds",
                "1,0.913000,nan,0.410000,0.00100000,12.5000", "2,0.610000,0.700000,0.550000,0.000950000,12"), lines);
        TrainingLog.Table t = TrainingLog.readTable(f);
        assertEquals(2, t.rows().size());
        assertTrue(Double.isNaN(t.series("val_loss")[0]));
        assertEquals(0.55, t.series("val_dice")[1], 1e-12);
        assertNull(t.series("nope"));
        TrainingLog other = new TrainingLog(f, List.of("epoch", "loss"));
        assertThrows(IllegalArgumentException.class, () -> other.append(3, 0.5));
        assertThrows(IllegalArgumentException.class, () -> log.append(1, 2));
    }

    @Test void plotDrawsEverySeries() throws Exception {
        Path f = tmp.resolve("metrics.csv");
        TrainingLog log = new TrainingLog(f, TrainingLog.DEFAULT_COLUMNS);
        for (int e = 1; e <= 7; e++) log.append(e, 1.2 / e + 0.05, 1.3 / e + 0.1, 0.2 + 0.09 * e, 1e-3, 3);
        BufferedImage im = TrainingCurves.render(TrainingLog.readTable(f), "synthetic");
        assertEquals(TrainingCurves.WIDTH, im.getWidth());
        // losses use colours 0 and 1, the Dice curve colour 2: each must be drawn somewhere
        for (int k = 0; k < 3; k++) assertTrue(has(im, TrainingCurves.COLORS[k]), "series colour " + k);
        Path png = tmp.resolve("curves.png");
        TrainingCurves.plot(f, png, "synthetic");
        FloatImage back = ImageFiles.readImage(png);
        assertEquals(3, back.channels());
        assertEquals(TrainingCurves.HEIGHT, back.height());
        assertArrayEquals(new double[] {0, 0.2, 0.4, 0.6000000000000001, 0.8, 1}, TrainingCurves.ticks(0, 1), 1e-12);
        assertArrayEquals(new double[] {0, 2, 4, 6, 8, 10, 12, 14}, TrainingCurves.ticks(1, 13), 1e-12);
        assertArrayEquals(new double[] {0, 20, 40, 60, 80, 100, 120, 140}, TrainingCurves.ticks(3, 140), 1e-12);
    }

    private static boolean has(BufferedImage im, Color c) {
        int want = c.getRGB() & 0xFFFFFF;
        for (int y = 0; y < im.getHeight(); y++)
            for (int x = 0; x < im.getWidth(); x++) if ((im.getRGB(x, y) & 0xFFFFFF) == want) return true;
        return false;
    }

    /** A metrics.csv with bytes that are not UTF-8 (damaged) is named with what is wrong, not "Input length = 1". */
    @Test void aLogThatIsNotTextSaysSo() throws Exception {
        Path f = tmp.resolve("metrics.csv");
        Files.write(f, new byte[] {'e', 'p', 'o', 'c', 'h', '\n', (byte) 0xFF, 0, '\n'});
        var e = assertThrows(java.io.UncheckedIOException.class, () -> TrainingLog.dataLines(f, "epoch"));
        assertTrue(e.getMessage().contains(f.toString()) && e.getMessage().contains("not UTF-8 text"), e.getMessage());
    }
}
