package convunext.bench;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import convunext.backend.Precision;
import convunext.backend.cuda.CudaBackend;
import convunext.backend.cuda.EmulatedDevice;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Per-kernel timing (KernelTimes on a KernelTimingDevice): on the emulator the measured calls of a
 * step and of an inference batch are the dry run's, call for call, so StepPrediction can join them;
 * the file round-trips; a file from another build or shape is refused by the join, not mis-joined.
 */
class KernelTimesTest {
    static final int N = 1, SIZE = 64, BASE_C = 4;

    static List<KernelTimes.Measured> measureOnEmulator(int reps) {
        KernelTimingDevice dev = new KernelTimingDevice(EmulatedDevice.open());
        try (CudaBackend be = new CudaBackend(dev, true, Precision.FP32, false)) {
            return KernelTimes.measure(be, dev, N, SIZE, BASE_C, 1, reps);
        }
    }

    @Test void measuredCallsAreTheDryRunsAndJoin(@TempDir Path dir) throws Exception {
        assumeTrue(EmulatedDevice.probe() == null, "no emulator");
        List<KernelTimes.Measured> m = measureOnEmulator(3);
        List<List<DryRunDevice.Call>> logs = StepPrediction.logs(N, SIZE, BASE_C);
        for (int p = 0; p < 2; p++) {
            String phase = p == 0 ? "train" : "infer";
            List<KernelTimes.Measured> ph = m.stream().filter(r -> r.phase().equals(phase)).toList();
            assertEquals(logs.get(p).size(), ph.size(), phase + ": calls");
            double total = 0;
            for (int i = 0; i < ph.size(); i++) {
                KernelTimes.Measured r = ph.get(i);
                assertEquals(i, r.index());
                assertEquals(KernelTimes.signature(logs.get(p).get(i)), r.signature(), phase + " call " + i);
                assertTrue(r.minUs() >= 0 && r.medianUs() >= r.minUs(), r.toString());
                total += r.medianUs();
            }
            assertTrue(total > 0, phase + ": no time measured");
            StepPrediction.Join j = StepPrediction.join(logs.get(p), m, phase);
            assertTrue(j.ok(), j.problem());
            assertEquals(total, j.totalUs(), 1e-9 * total);
            assertEquals(ph.size(), j.calls());
        }
        // the file round-trips (to the written precision)
        Path f = dir.resolve("k.tsv");
        Files.writeString(f, KernelTimes.tsv(m, List.of("a comment")));
        List<KernelTimes.Measured> back = KernelTimes.read(f);
        assertEquals(m.size(), back.size());
        for (int i = 0; i < m.size(); i++) {
            assertEquals(m.get(i).kernel(), back.get(i).kernel());
            assertEquals(m.get(i).grid(), back.get(i).grid());
            assertEquals(m.get(i).medianUs(), back.get(i).medianUs(), 0.006);
        }
        // the generated section shows them: the paragraph, and measured cells in the training table
        String md = StepPrediction.markdown(N, SIZE, BASE_C, StepPrediction.readPtxStats(Path.of("bench/ptx-stats.tsv")), m);
        assertTrue(md.contains("**Measured per kernel**"), md);
        String row = md.lines().filter(l -> l.startsWith("| " + m.get(1).kernel() + " |")).findFirst().orElseThrow();
        assertFalse(row.endsWith("| — | — |"), row);
        // another shape's file is refused by the join, and the generated table then shows no measured column
        StepPrediction.Join other = StepPrediction.join(StepPrediction.logs(N, SIZE + 16, BASE_C).get(0), m, "train");
        assertFalse(other.ok());
        assertTrue(other.problem().contains("not this build's"), other.problem());
        assertEquals("—", other.cell(m.get(0).kernel()));
    }

    @Test void unreadableFilesNameTheLine(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("bad.tsv");
        Files.writeString(f, "# c\n" + KernelTimes.HEADER + "\ntrain\t0\tgemm\t1,1,1\t256,1,1\t0\t0\tx\t1\n");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> KernelTimes.read(f));
        assertTrue(e.getMessage().contains("bad.tsv:3"), e.getMessage());
        Files.writeString(f, "phase\tkernel\n");
        e = assertThrows(IllegalArgumentException.class, () -> KernelTimes.read(f));
        assertTrue(e.getMessage().contains("bad.tsv:1"), e.getMessage());
    }

    @Test void repetitionsMustIssueTheSameCalls() {
        assumeTrue(EmulatedDevice.probe() == null, "no emulator");
        // the timing device hands out the calls of each recording; a graph capture would hide them
        KernelTimingDevice dev = new KernelTimingDevice(EmulatedDevice.open());
        try (CudaBackend be = new CudaBackend(dev, true, Precision.FP32, false)) {
            assertThrows(RuntimeException.class, () -> dev.graphCapture(() -> {}));
            dev.record();
            assertTrue(dev.stop().isEmpty());
        }
    }
}
