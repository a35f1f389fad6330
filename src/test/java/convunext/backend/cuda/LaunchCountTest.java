package convunext.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertTrue;

import convunext.nn.ConvUNeXt;
import convunext.nn.Norm;
import convunext.optim.AdamW;
import convunext.tensor.Tensor;
import convunext.train.TrainStep;
import java.lang.reflect.Proxy;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * Device work per steady-state training step and per inference forward of the whole model
 * (batch 1, 3x64x64, base_c 4, BatchNorm, on the emulated device), counted by a proxy around the
 * {@link Device}: kernel launches by name, plus memsets and copies. The counts do not depend on
 * the shape except BatchNorm's (BatchNormOps.fused: one launch per pass for small channels, two for
 * wide ones): here all 31 take one launch per pass, at the reference shape (batch 4, 3x480x480,
 * base_c 32) 16 do (285 launches per step, bench/NOTES.md's generated prediction).
 * Bounds: at most {@link #MAX_STEP_LAUNCHES} kernels per step (issue 10's target is 300; the
 * review counted 757 before the fusions, 412 before the split-K finish and the BatchNorm / dwconv7 /
 * concat / gate fusions) and {@link #MAX_INFER_LAUNCHES} per inference forward.
 */
class LaunchCountTest {
    static final int MAX_STEP_LAUNCHES = 263;
    static final int MAX_INFER_LAUNCHES = 120;

    /** Counts per kernel name (and "memset", "copyDtoD", "copyHtoD", "copyDtoH"). */
    static final class Counts {
        final Map<String, Integer> byName = new TreeMap<>();
        int launches;
        void add(String k, boolean launch) { byName.merge(k, 1, Integer::sum); if (launch) launches++; }
        void clear() { byName.clear(); launches = 0; }
        @Override public String toString() {
            StringBuilder s = new StringBuilder(launches + " launches:");
            byName.entrySet().stream().sorted((a, b) -> b.getValue() - a.getValue())
                    .forEach(e -> s.append("\n  ").append(String.format("%4d", e.getValue())).append(' ').append(e.getKey()));
            return s.toString();
        }
    }

    static Device counting(Device d, Counts c) {
        return (Device) Proxy.newProxyInstance(Device.class.getClassLoader(), new Class<?>[]{Device.class}, (px, m, args) -> {
            switch (m.getName()) {
                case "launch" -> c.add((String) args[0], true);
                case "memsetZero" -> c.add("(memset)", false);
                case "copyDtoD", "copyHtoD", "copyDtoH" -> c.add("(" + m.getName() + ")", false);
                default -> { }
            }
            try {
                return m.invoke(d, args);
            } catch (java.lang.reflect.InvocationTargetException e) {
                throw e.getCause();
            }
        });
    }

    @Test void launchesPerStepAndInference() {
        org.junit.jupiter.api.Assumptions.assumeTrue(Parity.onEmulator(), "counts are taken on the emulator");
        Counts c = new Counts();
        try (CudaBackend be = new CudaBackend(counting(Devices.open("emulated"), c));
             ConvUNeXt model = new ConvUNeXt(new ConvUNeXt.Config(3, 2, 4, Norm.BATCH), be, 7);
             AdamW opt = AdamW.withDefaults(model.params)) {
            java.util.Random r = new java.util.Random(3);
            float[] img = new float[3 * 64 * 64], tgt = new float[64 * 64];
            for (int i = 0; i < img.length; i++) img[i] = (float) r.nextGaussian();
            for (int i = 0; i < tgt.length; i++) tgt[i] = r.nextInt(2);
            Tensor x = be.upload(img, 1, 3, 64, 64), y = be.upload(tgt, 1, 64, 64);
            TrainStep.run(model, opt, x, y, 1e-3);   // warm-up: pool allocations
            c.clear();
            TrainStep.run(model, opt, x, y, 1e-3);
            System.out.println("[LaunchCountTest] training step: " + c);
            int step = c.launches;
            c.clear();
            TrainStep.inferLogits(model, x);
            System.out.println("[LaunchCountTest] inference forward: " + c);
            assertTrue(step <= MAX_STEP_LAUNCHES, "launches per training step " + step + " > " + MAX_STEP_LAUNCHES);
            assertTrue(c.launches <= MAX_INFER_LAUNCHES, "launches per inference " + c.launches + " > " + MAX_INFER_LAUNCHES);
        }
    }
}
