package convunext.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import convunext.backend.LossResult;
import convunext.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Backend-level behaviour on the test device (emulated, or a GPU): naming, errors, steady-state allocation. */
class CudaBackendTest {

    @Test void nameErrorsAndSteadyState() {
        try (Parity p = new Parity(91)) {
            CudaBackend be = p.cuda;
            assertEquals(Parity.DEVICE, be.name());
            assertTrue(be.describe().contains("kernels"), be.describe());
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> be.dwconv7(be.zeros(1, 2, 8, 8), be.zeros(3, 1, 7, 7), be.zeros(2)));
            assertTrue(e.getMessage().contains("dwconv7") && e.getMessage().contains("[3, 1, 7, 7]"), e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> be.release(p.ref.zeros(3)));

            Tensor x = be.upload(p.gauss(2 * 4 * 9 * 10), 2, 4, 9, 10);
            Tensor w = be.upload(p.gauss(4 * 49), 4, 1, 7, 7), b = be.upload(p.gauss(4), 4);
            Tensor lw = be.upload(p.gauss(3 * 4), 3, 4);
            Tensor g = be.upload(p.uniform(4, 0.5, 1.5), 4), beta = be.zeros(4);
            Tensor rm = be.zeros(4), rv = be.upload(new float[]{1, 1, 1, 1}, 4);
            float[] tgt = new float[2 * 9 * 10];
            for (int i = 0; i < tgt.length; i++) tgt[i] = i % 7 == 0 ? 255 : i % 3;
            Tensor target = be.upload(tgt, 2, 9, 10);
            long[] allocs = new long[3];
            for (int step = 0; step < 3; step++) {
                List<Tensor> tmp = new ArrayList<>();
                Tensor y = be.dwconv7(x, w, b);
                Tensor[] bn = be.batchnormTrain(y, g, beta, rm, rv, 0.1f, 1e-5f);
                Tensor logits = be.linear(bn[0], lw, null);
                LossResult l = be.ceDiceLoss(logits, target);
                assertTrue(Double.isFinite(l.loss()) && l.loss() > 0, "loss " + l.loss());
                Tensor[] dl = be.linearBackward(bn[0], lw, l.dlogits(), true, false);
                Tensor[] dbn = be.batchnormBackward(y, dl[0], g, bn[1], bn[2]);
                Tensor[] dd = be.dwconv7Backward(x, w, dbn[0]);
                tmp.add(y); tmp.addAll(List.of(bn)); tmp.add(logits); tmp.add(l.dlogits());
                tmp.add(dl[0]); tmp.add(dl[1]); tmp.addAll(List.of(dbn)); tmp.addAll(List.of(dd));
                for (Tensor t : tmp) be.release(t);
                allocs[step] = be.pool().driverAllocations();
            }
            assertEquals(allocs[0], allocs[2], "a repeated step must be served from the pool");
            assertTrue(be.pool().reuses() > 0);
        }
    }

    /** Device events time queued work: positive, finite, reusable; the timer is bench's default here. */
    @Test void eventTimerMeasuresDeviceWork() {
        try (Parity p = new Parity(92)) {
            CudaBackend be = p.cuda;
            Tensor x = be.upload(p.gauss(3 * 5 * 33 * 35), 3, 5, 33, 35);
            Tensor w = be.upload(p.gauss(5 * 49), 5, 1, 7, 7), b = be.upload(p.gauss(5), 5);
            try (convunext.backend.EventTimer ev = be.eventTimer()) {
                assertTrue(ev != null && !ev.kind().isEmpty());
                for (int i = 0; i < 3; i++) {
                    be.sync();
                    ev.start();
                    Tensor y = be.dwconv7(x, w, b);
                    double ms = ev.stopMs();
                    assertTrue(ms > 0 && ms < 60_000, "event time " + ms + " ms");
                    be.release(y);
                }
                assertThrows(IllegalStateException.class, ev::stopMs, "stop without start");
            }
            assertTrue(convunext.bench.Timing.method(be).contains("events"), convunext.bench.Timing.method(be));
        }
    }

    @Test void failedLaunchNamesOpKernelAndShapes() {
        DevicePoolTest.FakeDevice d = new DevicePoolTest.FakeDevice() {
            @Override public void launch(String kernel, int[] grid, int[] block, int sharedBytes, KernelArgs args) {
                throw new CudaError("CUDA_ERROR_LAUNCH_FAILED");
            }
        };
        CudaBackend be = new CudaBackend(d);
        Tensor x = be.zeros(2, 3, 5, 7);
        CudaError e = assertThrows(CudaError.class, () -> be.gelu(x));
        assertTrue(e.getMessage().contains("gelu") && e.getMessage().contains("gelu_forward")
                && e.getMessage().contains("[2, 3, 5, 7]") && e.getMessage().contains("CUDA_ERROR_LAUNCH_FAILED"), e.getMessage());
        be.close();
        assertTrue(d.live.isEmpty(), "close frees the pool");
    }
}
