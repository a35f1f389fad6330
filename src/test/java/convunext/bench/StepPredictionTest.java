package convunext.bench;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import convunext.backend.Precision;
import convunext.backend.cuda.CudaBackend;
import convunext.backend.cuda.Device;
import convunext.backend.cuda.EmulatedDevice;
import convunext.backend.cuda.KernelArgs;
import convunext.nn.ConvUNeXt;
import convunext.nn.Norm;
import convunext.optim.AdamW;
import convunext.tensor.Tensor;
import convunext.train.TrainStep;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The GPU prediction (StepPrediction): bench/NOTES.md's generated section is current, every kernel
 * a step launches has a cost, the dry-run device sees exactly the launches the emulator runs for the
 * same step, and bench/ptx-stats.tsv matches the build's PTX where the build made PTX.
 */
class StepPredictionTest {

    @Test void notesPredictionIsCurrent() throws Exception {
        Path notes = Path.of("bench/NOTES.md");
        String text = Files.readString(notes, StandardCharsets.UTF_8);
        String md = StepPrediction.markdown(4, 480, 32, StepPrediction.readPtxStats(Path.of("bench/ptx-stats.tsv")));
        System.out.print(md);   // CI's log shows the prediction of every change
        assertEquals(StepPrediction.replace(text, md), text, "bench/NOTES.md's GPU prediction is stale: run "
                + "`java -cp target/convunext.jar convunext.bench.StepPrediction --notes bench/NOTES.md`");
    }

    @Test void everyLaunchedKernelHasACostAndPtxStats() throws Exception {
        var ptx = StepPrediction.readPtxStats(Path.of("bench/ptx-stats.tsv"));
        for (Precision pr : Precision.values())
        for (List<DryRunDevice.Call> log : StepPrediction.logs(2, 64, 8, pr))
            for (DryRunDevice.Call c : log) {
                if (c.kernel() == null) continue;
                OpCost oc = KernelCost.of(c.kernel(), c.grid(), c.args());
                assertTrue(oc.bytes() > 0, c.kernel() + " moves no bytes");
                assertTrue(ptx.containsKey(c.kernel()), c.kernel() + " is missing from bench/ptx-stats.tsv");
                boolean tc = c.kernel().endsWith("_" + pr);
                if (pr != Precision.FP32 && c.kernel().matches("(gemm|conv2d)_.*_(bm\\d+|\\d+x\\d+)(_tf32|_bf16)?"))
                    assertTrue(tc, c.kernel() + " ran in fp32 with --precision " + pr);
                if (tc) {   // costed at the tensor-core ceiling with an efficiency in (0, 1)
                    double e = StepPrediction.tensorCoreEfficiency(c.kernel());
                    assertTrue(e > 0.05 && e < 1, c.kernel() + ": e_tc " + e);
                    assertEquals(pr == Precision.BF16 ? StepPrediction.BF16_TC_FLOPS_PER_S : StepPrediction.TF32_TC_FLOPS_PER_S,
                            StepPrediction.computePeak(c.kernel()));
                }
            }
    }

    /** Exact and needs no nvcc: the table's recorded digest of kernels/ is that of these sources. */
    @Test void ptxStatsWereMadeFromTheseKernels() throws Exception {
        Process p = new ProcessBuilder("python3", "bench/ptx_stats.py", "--check-sources").redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.waitFor(), out);
    }

    /** The counts against the build's own PTX, within nvcc's build-to-build noise (bench/ptx_stats.py). */
    @Test void ptxStatsMatchTheBuild() throws Exception {
        assumeTrue(Files.isDirectory(Path.of("target/classes/ptx")), "the build made no PTX (no nvcc)");
        Process p = new ProcessBuilder("python3", "bench/ptx_stats.py", "--check").redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.waitFor(), out);
    }

    /** Forwards to the emulator, keeping each launch (kernel, geometry, non-pointer arguments). */
    private static final class Logging extends ForwardingDevice {
        final List<String> launches = new ArrayList<>();
        boolean on;
        Logging(Device d) { super(d); }
        @Override public void launch(String k, int[] g, int[] b, int s, KernelArgs a) {
            if (on) launches.add(StepPredictionTest.describe(k, g, b, s, a));
            d.launch(k, g, b, s, a);
        }
    }

    static String describe(String k, int[] g, int[] b, int s, KernelArgs a) {
        StringBuilder t = new StringBuilder(k).append(java.util.Arrays.toString(g)).append(java.util.Arrays.toString(b)).append(s);
        for (int i = 0; i < a.size(); i++) t.append(' ').append(a.kind(i) == KernelArgs.Kind.PTR ? "p" : a.value(i));
        return t.toString();
    }

    /** The dry run's launch log of a step is the emulator's (pointers aside): the prediction costs what would run. */
    @Test void dryRunLogIsTheEmulatorsLog() {
        assumeTrue(EmulatedDevice.probe() == null, "no emulator");
        int n = 1, size = 64, baseC = 4;
        List<String> emulated;
        Logging dev = new Logging(EmulatedDevice.open());
        try (CudaBackend be = new CudaBackend(dev, true, Precision.FP32, false)) {
            ConvUNeXt m = new ConvUNeXt(new ConvUNeXt.Config(3, 2, baseC, Norm.BATCH), be, 0);
            Random r = new Random(3);
            float[] x = new float[n * 3 * size * size], y = new float[n * size * size];
            for (int i = 0; i < x.length; i++) x[i] = (float) r.nextGaussian();
            for (int i = 0; i < y.length; i++) y[i] = i % 3 == 0 ? 1 : 0;
            try (AdamW opt = AdamW.withDefaults(m.params)) {
                Tensor xt = be.upload(x, n, 3, size, size), yt = be.upload(y, n, size, size);
                TrainStep.run(m, opt, xt, yt, 1e-3);
                dev.on = true;
                TrainStep.run(m, opt, xt, yt, 1e-3);
                dev.on = false;
            }
            emulated = dev.launches;
        }
        List<String> dry = new ArrayList<>();
        for (DryRunDevice.Call c : StepPrediction.logs(n, size, baseC).get(0))
            if (c.kernel() != null) dry.add(describe(c.kernel(), c.grid(), c.block(), c.shared(), c.args()));
        assertEquals(emulated.size(), dry.size(), "launches per step");
        for (int i = 0; i < dry.size(); i++) assertEquals(emulated.get(i), dry.get(i), "launch " + i);
    }
}
