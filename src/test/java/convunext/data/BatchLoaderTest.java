package convunext.data;

import static org.junit.jupiter.api.Assertions.*;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import org.junit.jupiter.api.Test;

class BatchLoaderTest {
    static SampleCache synthetic(boolean cache) {
        Dataset ds = Dataset.open(Fixtures.SYNTHETIC, "train", true, null);
        return new SampleCache(ds.samples().subList(0, 7), 2, 3, 64, cache);
    }

    static final Normalization NORM = new Normalization(new float[] {0.6f, 0.3f, 0.2f}, new float[] {0.2f, 0.1f, 0.1f});

    @Test void backgroundBatchesEqualSynchronousOnesAndAreDeterministic() {
        SampleCache data = synthetic(true);
        Augmenter aug = new Augmenter(convunext.train.Recipe.REFERENCE.augment(96, 64), NORM);
        List<Batch> sync = new ArrayList<>();
        new TrainBatches(data, aug, 3, false, 42, 1).forEachRemaining(sync::add);
        assertEquals(3, sync.size());
        assertEquals(1, sync.get(2).size(), "last partial batch kept");
        try (BatchLoader bl = new BatchLoader(new TrainBatches(synthetic(false), aug, 3, false, 42, 1), 2)) {
            for (Batch want : sync) {
                assertTrue(bl.hasNext());
                Batch got = bl.next();
                assertEquals(want.ids(), got.ids());
                assertArrayEquals(want.images(), got.images());
                assertArrayEquals(want.targets(), got.targets());
            }
            assertFalse(bl.hasNext());
            assertThrows(NoSuchElementException.class, bl::next);
        }
        Batch b = sync.get(0);
        assertArrayEquals(new int[] {3, 3, 64, 64}, b.imageShape());
        for (float t : b.targets()) assertTrue(t == 0 || t == 1 || t == 255, "target value " + t);
        // another epoch differs; every sample appears once per epoch
        List<String> ids = new ArrayList<>();
        TrainBatches e2 = new TrainBatches(data, aug, 3, true, 42, 2);
        assertEquals(2, e2.batches());
        Batch first2 = e2.next();
        assertFalse(java.util.Arrays.equals(first2.images(), b.images()));
        ids.addAll(first2.ids());
        e2.forEachRemaining(x -> ids.addAll(x.ids()));
        assertEquals(6, ids.size(), "drop-last keeps 2 full batches of 3");
        assertEquals(6, ids.stream().distinct().count());
    }

    @Test void producerExceptionReachesTheConsumer() {
        Iterator<Batch> failing = new Iterator<>() {
            int n;
            @Override public boolean hasNext() { return true; }
            @Override public Batch next() {
                if (n++ == 2) throw new DataException("cannot decode PNG image /x/broken.png");
                return new Batch(1, 1, 2, 2, new float[] {n, 2, 3, 4}, null, List.of("b" + n));
            }
        };
        try (BatchLoader bl = new BatchLoader(failing, 1)) {
            assertEquals("b1", bl.next().ids().get(0));
            assertEquals("b2", bl.next().ids().get(0));
            DataException e = assertThrows(DataException.class, bl::hasNext);
            assertTrue(e.getMessage().contains("/x/broken.png"));
            assertFalse(bl.hasNext(), "finished after the failure");
        }
    }

    @Test void closeStopsAProducerBlockedOnAFullQueue() throws Exception {
        Iterator<Batch> endless = new Iterator<>() {
            int n;
            @Override public boolean hasNext() { return true; }
            @Override public Batch next() { return new Batch(1, 1, 1, 1, new float[] {n++}, null, List.of("e")); }
        };
        BatchLoader bl = new BatchLoader(endless, 2);
        assertEquals(0f, bl.next().images()[0]);
        assertEquals(1f, bl.next().images()[0]);
        bl.close();
        assertFalse(bl.producerAlive(), "producer thread ended");
        assertFalse(bl.hasNext());
        bl.close(); // idempotent
    }

    @Test void wholeImageBatchesApplyRoiAsIgnore() {
        Dataset ds = Dataset.open(Fixtures.DRIVE_MINI, "train", true, null);
        SampleCache data = new SampleCache(ds.samples(), 2, 3, 64, false);
        WholeImageBatches it = new WholeImageBatches(data, NORM);
        Batch b = it.next();
        assertEquals(List.of("21_training"), b.ids());
        assertArrayEquals(new int[] {1, 3, 146, 141}, b.imageShape());
        LoadedSample ls = data.get(0);
        assertEquals(255f, b.targets()[0], "corner outside the FOV");
        int px = 73 * 141 + 70;
        assertTrue(ls.roi()[px]);
        assertEquals(ls.labels().labels()[px], b.targets()[px]);
        assertEquals((ls.image().get(1, 73, 70) / 255f - 0.3f) / 0.1f, b.images()[146 * 141 + px], 1e-5f);
        assertTrue(it.hasNext());
        it.next();
        assertFalse(it.hasNext());
    }
}
