package convunext.data;

import static org.junit.jupiter.api.Assertions.*;

import org.junit.jupiter.api.Test;

class DataPipelineTest {
    @Test void syntheticPipelineEndToEnd() {
        DataPipeline p = DataPipeline.open(DataPipeline.Config.defaults(Fixtures.SYNTHETIC, 2, 3,
                AugmentConfig.of(96, 64), 4, 7), null);
        assertEquals(3, p.normalization().channels());
        assertEquals(4, p.batchesPerEpoch());
        String report = p.check();
        assertTrue(report.contains("split train: 16 images") && report.contains("split test: 4 images"), report);
        int batches = 0;
        float[] first;
        try (BatchLoader l = p.trainEpoch(1)) {
            Batch b = l.next();
            first = b.images();
            assertArrayEquals(new int[] {4, 3, 64, 64}, b.imageShape());
            batches = 1;
            while (l.hasNext()) { l.next(); batches++; }
        }
        assertEquals(4, batches);
        try (BatchLoader l = p.trainEpoch(1)) {
            assertArrayEquals(first, l.next().images(), "same epoch, same seed: same batch");
        }
        // normalised training crops have roughly zero mean, unit std (padding and augmentation aside)
        double s = 0, sq = 0;
        for (float v : first) { s += v; sq += v * v; }
        double m = s / first.length;
        assertTrue(Math.abs(m) < 0.5 && Math.sqrt(sq / first.length - m * m) > 0.5, "mean " + m);
        int val = 0;
        try (BatchLoader l = p.validation()) {
            while (l.hasNext()) {
                Batch b = l.next();
                assertArrayEquals(new int[] {1, 3, 96, 96}, b.imageShape());
                val++;
            }
        }
        assertEquals(4, val);
    }
}
