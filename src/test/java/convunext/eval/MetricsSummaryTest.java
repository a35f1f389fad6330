package convunext.eval;

import static org.junit.jupiter.api.Assertions.*;

import convunext.data.Batch;
import convunext.data.LabelMap;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MetricsSummaryTest {
    @TempDir Path tmp;

    static ImageMetrics image(String id, int tp, int fp, int fn, int tn, double hd) {
        ClassMetrics fg = SegMetrics.fromCounts(1, tp, fp, fn, tn, hd);
        ClassMetrics bg = SegMetrics.fromCounts(0, tn, fn, fp, tp, hd);
        return new ImageMetrics(id, new ClassMetrics[] {bg, fg});
    }

    @Test void meansStdsAndPooledCounts() {
        MetricsSummary s = new MetricsSummary(2);
        s.add(image("a", 6, 3, 3, 13, 1.0));   // dice 2/3
        s.add(image("b,x", 1, 0, 1, 30, 3.0)); // dice 2/3 as well? 2/(2+1)=0.6667
        s.add(image("c", 0, 0, 4, 20, 7.0));   // dice 0
        assertEquals((2.0 / 3 + 2.0 / 3 + 0) / 3, s.mean(1, "dice"), 1e-12);
        double m = 4.0 / 9;
        assertEquals(Math.sqrt((2 * Math.pow(2.0 / 3 - m, 2) + m * m) / 3), s.std(1, "dice"), 1e-12);
        assertEquals(11.0 / 3, s.mean(1, "hd95"), 1e-12);
        assertEquals(2.0 * 7 / (2 * 7 + 3 + 8), s.pooledDice(1), 1e-12);
        assertEquals(s.mean(1, "dice"), s.foregroundMean("dice"), 0);
        assertThrows(IllegalArgumentException.class, () -> s.mean(1, "f1"));
        assertThrows(IllegalArgumentException.class,
                () -> s.add(new ImageMetrics("k3", new ClassMetrics[3])));
    }

    @Test void jsonAndCsvFiles() throws Exception {
        MetricsSummary s = new MetricsSummary(2);
        s.add(image("a", 6, 3, 3, 13, 1.0));
        s.add(image("b,x", 1, 0, 1, 30, Double.NaN));
        Map<String, Object> extra = new LinkedHashMap<>();
        extra.put("model", "conv\"unext\"\n");
        Path json = tmp.resolve("out/summary.json"), csv = tmp.resolve("out/metrics.csv");
        MetricsWriters.writeSummaryJson(json, s, extra);
        MetricsWriters.writeCsv(csv, s.images());
        String j = Files.readString(json);
        assertTrue(j.startsWith("{\n  \"model\": \"conv\\\"unext\\\"\\n\",\n  \"images\": 2,\n  \"classes\": 2,"), j);
        assertTrue(j.contains("\"hd95\": null"), "NaN mean becomes null: " + j);
        assertTrue(j.contains("\"per_class\": [\n"), j);
        assertTrue(j.contains("\"tp\": 7"), j);
        assertEquals(count(j, '{'), count(j, '}'));
        assertEquals(count(j, '['), count(j, ']'));
        List<String> lines = Files.readAllLines(csv);
        assertEquals(MetricsWriters.CSV_HEADER, lines.get(0));
        assertEquals(5, lines.size());
        assertTrue(lines.get(2).startsWith("a,1,6,3,3,13,0.666667,0.500000,"), lines.get(2));
        assertTrue(lines.get(3).startsWith("\"b,x\",0,"), lines.get(3));
        assertTrue(lines.get(4).endsWith(",nan"), lines.get(4));
    }

    @Test void argmaxAndTargets() {
        // logits [2,3,1,2]: image 1, pixel 0 → class 2, pixel 1 → tie 0/1 → 0
        float[] logits = new float[2 * 3 * 2];
        logits[6] = 1; logits[8] = 0; logits[10] = 5;   // image 1 pixel 0
        logits[7] = 2; logits[9] = 2; logits[11] = -1; // image 1 pixel 1
        LabelMap m = Predictions.argmax(logits, 1, 3, 1, 2);
        assertArrayEquals(new int[] {2, 0}, m.labels());
        Batch b = new Batch(2, 1, 1, 2, new float[4], new float[] {0, 1, 255, 1}, List.of("p", "q"));
        assertArrayEquals(new int[] {255, 1}, Predictions.targets(b, 1));
    }

    private static long count(String s, char c) { return s.chars().filter(x -> x == c).count(); }
}
