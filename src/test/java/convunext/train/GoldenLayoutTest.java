package convunext.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import convunext.backend.Backend;
import convunext.backend.all.Backends;
import convunext.io.SafeTensors;
import java.nio.file.Path;
import java.util.Map;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A malformed fixture is refused before any work, one line naming the file and the key (exit code
 * 2 in the CLI), instead of passing (a transposed tensor has the right element count) or failing
 * numerically far from its cause. Each case changes one thing of a committed fixture.
 */
class GoldenLayoutTest {
    static final Path FIXTURE = GoldenCheckTest.FIXTURE;   // batch norm, 1×1×72×88, 3 classes, 3 steps

    @TempDir Path tmp;

    /** The fixture's tensors and metadata, changed by {@code edit}, written to a new file. */
    private Path variant(String name, Consumer<Map<String, SafeTensors.Out>> tensors, Consumer<Map<String, String>> meta) {
        return convunext.io.SafeTensorsVariant.write(FIXTURE, tmp.resolve(name + ".safetensors"), tensors, meta);
    }

    private static void refused(Path file, String expected) {
        try (Backend be = Backends.open("cpu", System.out)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> GoldenCheck.run(file, be, 1e-4));
            assertTrue(e.getMessage().startsWith(file.toString()), e.getMessage());
            assertTrue(e.getMessage().contains(expected), "expected '" + expected + "' in: " + e.getMessage());
            assertEquals(1, e.getMessage().lines().count(), e.getMessage());
        }
    }

    private static void reshape(Map<String, SafeTensors.Out> t, String key, int... shape) {
        SafeTensors.Out o = t.get(key);
        t.put(key, new SafeTensors.Out(shape, o.data(), o.dtype()));
    }

    private static void noMeta(Map<String, String> m) {}

    private static void sameTensors(Map<String, SafeTensors.Out> t) {}

    /** A training checkpoint given to verify is named as one (it was "missing key 'init.in_conv.0.weight'"). */
    @Test void aModelCheckpointIsNamedAsOne() {
        refused(variant("checkpoint", t -> {
            Map<String, SafeTensors.Out> weights = new java.util.TreeMap<>();
            t.forEach((k, v) -> { if (k.startsWith("init.")) weights.put(k.substring(5), v); });
            t.clear();
            t.putAll(weights);
        }, noMetaButConfig()), "a model's weights (a checkpoint), not a verify fixture");
    }

    private static Consumer<Map<String, String>> noMetaButConfig() {
        return m -> m.keySet().retainAll(java.util.Set.of("in_channels", "num_classes", "base_c", "norm"));
    }

    @Test void aTransposedGradientIsNamed() {
        refused(variant("gradT", t -> reshape(t, "grad.up4.gate.weight", 4, 12), GoldenLayoutTest::noMeta),
                "'grad.up4.gate.weight' has shape [4, 12], expected [12, 4]");
    }

    @Test void logitsWithHeightAndWidthSwappedAreNamed() {
        refused(variant("logitsT", t -> reshape(t, "logits", 1, 3, 88, 72), GoldenLayoutTest::noMeta),
                "'logits' has shape [1, 3, 88, 72], expected [1, 3, 72, 88]");
    }

    @Test void anInputOfTheWrongSizeIsNamedBeforeTheLoss() {
        refused(variant("inputT", t -> reshape(t, "input", 1, 1, 88, 72), GoldenLayoutTest::noMeta),
                "metadata 'height' is 72, but the tensors say 88");
        refused(variant("inputT2", t -> reshape(t, "input", 1, 1, 88, 72), m -> { m.remove("height"); m.remove("width"); }),
                "'target' has shape [1, 72, 88], expected [1, 88, 72]");
    }

    @Test void metadataThatDisagreesWithTheTensorsIsNamed() {
        refused(variant("height", GoldenLayoutTest::sameTensors, m -> m.put("height", "80")), "metadata 'height' is 80");
        refused(variant("steps", GoldenLayoutTest::sameTensors, m -> m.put("adamw.steps", "5")), "metadata 'adamw.steps' is 5, but the tensors say 3");
        refused(variant("norm", GoldenLayoutTest::sameTensors, m -> m.put("norm", "layer")), "is a BatchNorm buffer, but the metadata says norm=layer");
        refused(variant("lr", GoldenLayoutTest::sameTensors, m -> m.put("adamw.lr", "fast")), "metadata 'adamw.lr' is \"fast\"");
        refused(variant("betas", GoldenLayoutTest::sameTensors, m -> m.put("adamw.betas", "0.9")), "metadata 'adamw.betas'");
        // values torch.optim.AdamW refuses: no PyTorch run made the fixture
        refused(variant("beta1", GoldenLayoutTest::sameTensors, m -> m.put("adamw.betas", "1.5,0.999")),
                "metadata 'adamw.betas[0]' is 1.5, but AdamW needs it in [0, 1)");
        refused(variant("negLr", GoldenLayoutTest::sameTensors, m -> m.put("adamw.lr", "-0.001")), "metadata 'adamw.lr' is -0.001, but AdamW needs it ≥ 0");
        refused(variant("negEps", GoldenLayoutTest::sameTensors, m -> m.put("adamw.eps", "-1e-8")), "metadata 'adamw.eps'");
        refused(variant("classes", GoldenLayoutTest::sameTensors, m -> m.put("num_classes", "three")), "metadata 'num_classes' is \"three\"");
    }

    /** A metadata size far from the tensors' is named from the stored shapes, not by building a model of that size (out of memory). */
    @Test void aHugeBaseCInTheMetadataIsNamedBeforeAModelIsBuilt() {
        refused(variant("hugeBaseC", GoldenLayoutTest::sameTensors, m -> m.put("base_c", "300000000")),
                "'init.in_conv.0.weight' has shape [4, 1, 7, 7], expected [300000000, 1, 7, 7]");
        refused(variant("moreClasses", GoldenLayoutTest::sameTensors, m -> m.put("num_classes", "5")),
                "'init.out_conv.0.weight' has shape [3, 4, 1, 1], expected [5, 4, 1, 1]");
    }

    @Test void valuesAFixtureCannotHoldAreNamed() {
        refused(variant("intInput", t -> t.put("input", new SafeTensors.Out(t.get("input").shape(), t.get("input").data(), "I64")),
                GoldenLayoutTest::noMeta), "'input' is stored as I64");
        refused(variant("nanInput", t -> t.get("input").data()[100] = Double.NaN, GoldenLayoutTest::noMeta),
                "'input' holds NaN at element 100");
        refused(variant("infGrad", t -> t.get("grad.up4.gate.weight").data()[3] = Double.POSITIVE_INFINITY, GoldenLayoutTest::noMeta),
                "'grad.up4.gate.weight' holds Infinity at element 3");
        refused(variant("target7", t -> t.get("target").data()[5] = 7, GoldenLayoutTest::noMeta), "'target' holds 7.0");
    }
}
