package convunext.train;

import static org.junit.jupiter.api.Assertions.assertTrue;

import convunext.backend.Backend;
import convunext.backend.Precision;
import convunext.tensor.Tensor;
import convunext.backend.all.Backends;
import convunext.io.SafeTensors;
import convunext.nn.ConvUNeXt;
import java.nio.file.Path;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The [anchored] eval-logits tolerance covers float32 runs other than ours. On this LayerNorm
 * fixture one bias has a gradient at float32 noise level in every AdamW step, so where a float32
 * trajectory lands is a draw: our CPU, the emulator and an H200 land 1.4e-4..3.2e-4 from float64,
 * and a single twin trajectory spread ranged 1.8e-5 (the H200 run, which failed) to 9.7e-4. Here
 * ten more float32 trajectories (twins with seeds verify does not use, each moved by one ulp: other
 * roundings of the same computation, as another machine's would be) must all land inside the
 * tolerance verify derives from its own run (on this CPU they land 1e-5..6.2e-4 from the fixture;
 * the old single-twin tolerance here was 3.7e-4).
 */
class GoldenTwinDrawTest {
    static final Path FIXTURE = Path.of("testdata/golden/convunext_c4_in4_k2_1x64x64_layernorm.safetensors");

    @Test void otherFloat32TrajectoriesLandInsideTheAnchoredEvalTolerance() {
        try (Backend be = Backends.open("cpu", System.out)) {
            GoldenCheck.Report r = GoldenCheck.run(FIXTURE, be, 1e-4);
            assertTrue(r.ok(), GoldenCheck.format(r));
            GoldenCheck.Row row = r.rows().stream().filter(x -> x.quantity().equals("eval_logits [anchored]")).findFirst()
                    .orElseThrow();
            SafeTensors.Contents c = GoldenCheck.readChecked(FIXTURE);
            SafeTensors.Entry in = c.require("input", FIXTURE), target = c.require("target", FIXTURE),
                    refEval = c.require("eval_logits", FIXTURE), refLosses = c.require("adamw.losses", FIXTURE);
            GoldenCheck.Hyper hp = GoldenCheck.Hyper.of(c.metadata(), FIXTURE);
            Tensor x = be.upload(in.toFloat(), in.shape()), y = be.upload(target.toFloat(), target.shape());
            try (ConvUNeXt model = new ConvUNeXt(GoldenCheck.configOf(c, FIXTURE), be, 0)) {
                Set<String> zeroGrad = GoldenCheck.zeroGradParams(model.params, c, FIXTURE);
                StringBuilder seen = new StringBuilder();
                double worst = 0;
                for (long seed = 101; seed <= 110; seed++) {
                    GoldenCheck.Trajectory t = GoldenCheck.trajectory(model, c, FIXTURE, x, y, hp, refLosses.data().length,
                            zeroGrad, true, new GoldenCheck.Twin(seed, false), Precision.FP32);
                    double e = GoldenRows.spread(t.evalLogits(), toFloat(refEval.data()), refEval);
                    worst = Math.max(worst, e);
                    seen.append(String.format(" %.2e", e));
                }
                System.out.printf("eval_logits [anchored]: ours %.3e, tolerance %.3e; ten other float32 trajectories:%s%n",
                        row.error(), row.tolerance(), seen);
                assertTrue(worst <= row.tolerance(), "a float32 trajectory landed " + worst + " from the fixture, outside the"
                        + " tolerance " + row.tolerance() + " (" + row.source() + "):" + seen);
            } finally {
                be.release(x);
                be.release(y);
            }
        }
    }

    private static float[] toFloat(double[] d) {
        float[] f = new float[d.length];
        for (int i = 0; i < d.length; i++) f[i] = (float) d[i];
        return f;
    }
}
