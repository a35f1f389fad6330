package convunext.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import convunext.backend.Backend;
import convunext.backend.all.Backends;
import convunext.io.SafeTensors;
import convunext.nn.ConvUNeXt;
import convunext.nn.ParamStore;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.BiFunction;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * `verify` can fail: a fixture with one quantity changed the way a real bug would change it fails
 * on the row that scores that quantity (and the untouched fixture passes). And the parameters it
 * treats as having an exactly-zero gradient are exactly the ones the model's structure predicts.
 */
class GoldenCheckTest {
    static final Path FIXTURE = Path.of("testdata/golden/convunext_c4_in1_k3_1x72x88.safetensors");

    @TempDir Path tmp;

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource(delimiter = ';', value = {
            "logits x1.001          ; logits",
            "grad.* x1.001          ; grad.* (true gradient non-zero)",
            "step1.* x1.001         ; step1.* (BN running stats)",
            "adamw.losses x1.001    ; adamw.losses [anchored]",
            "after.* x0.999         ; after.* (weights, buffers) [anchored]",
            "zero-grad bias + 3K*lr ; after.* zero-grad biases [as trained] max|d|/bound",
            "eval_logits x1.001     ; eval_logits [anchored]"})
    void aChangedQuantityFailsItsRow(String change, String row) {
        SafeTensors.Contents c = SafeTensors.read(FIXTURE);
        double drift = 3 * Integer.parseInt(c.metadata().get("adamw.steps")) * Double.parseDouble(c.metadata().get("adamw.lr"));
        BiFunction<String, Double, Double> f = switch (change.trim()) {
            case "logits x1.001" -> (k, v) -> k.equals("logits") ? v * 1.001 : v;
            case "grad.* x1.001" -> (k, v) -> k.startsWith("grad.") ? v * 1.001 : v;
            case "step1.* x1.001" -> (k, v) -> k.startsWith("step1.") ? v * 1.001 : v;
            case "adamw.losses x1.001" -> (k, v) -> k.equals("adamw.losses") ? v * 1.001 : v;
            case "after.* x0.999" -> (k, v) -> k.startsWith("after.") ? v * 0.999 : v;
            case "zero-grad bias + 3K*lr" -> (k, v) -> k.equals("after.in_conv.0.bias") ? v + drift : v;
            case "eval_logits x1.001" -> (k, v) -> k.equals("eval_logits") ? v * 1.001 : v;
            default -> throw new IllegalArgumentException(change);
        };
        Path changed = tmp.resolve("changed.safetensors");
        write(c, changed, f);
        try (Backend be = Backends.open("cpu", System.out)) {
            GoldenCheck.Report r = GoldenCheck.run(changed, be, 1e-4);
            String table = GoldenCheck.format(r);
            System.out.print(table);
            assertFalse(r.ok(), table);
            GoldenCheck.Row failing = r.rows().stream().filter(x -> x.quantity().equals(row.trim())).findFirst()
                    .orElseThrow(() -> new AssertionError("no row '" + row.trim() + "' in\n" + table));
            assertFalse(failing.ok(), table);
        }
    }

    /**
     * One small tensor wrong by a few per cent: too little of its group's norm for the group row
     * (grad.up3.linear1.bias holds 4e-4 of the gradient's norm, step1.in_conv.1.running_mean 5e-4
     * of the statistics'), caught by the row that holds each tensor to its own noise.
     */
    @ParameterizedTest(name = "{0} x{1}")
    @CsvSource(delimiter = ';', value = {
            "grad.up3.linear1.bias            ; 1.1  ; grad.* (true gradient non-zero)",
            "step1.in_conv.1.running_mean     ; 1.05 ; step1.* (BN running stats)"})
    void aSmallWrongTensorFailsItsPerTensorRowThoughItsGroupPasses(String key, double factor, String group) {
        Path changed = tmp.resolve("small.safetensors");
        write(SafeTensors.read(FIXTURE), changed, (k, v) -> k.equals(key.trim()) ? v * factor : v);
        try (Backend be = Backends.open("cpu", System.out)) {
            GoldenCheck.Report r = GoldenCheck.run(changed, be, 1e-4);
            String table = GoldenCheck.format(r);
            System.out.print(table);
            GoldenCheck.Row whole = row(r, group.trim(), table), each = row(r, group.trim() + " each tensor", table);
            assertTrue(whole.ok(), table);
            assertFalse(each.ok(), table);
            assertEquals(key.trim().substring(key.indexOf('.') + 1), each.worstKey(), table);
            assertFalse(r.ok(), table);
        }
    }

    private static GoldenCheck.Row row(GoldenCheck.Report r, String name, String table) {
        return r.rows().stream().filter(x -> x.quantity().equals(name)).findFirst()
                .orElseThrow(() -> new AssertionError("no row '" + name + "' in\n" + table));
    }

    @Test
    void theUntouchedCopyPasses() {
        Path copy = tmp.resolve("copy.safetensors");
        write(SafeTensors.read(FIXTURE), copy, (k, v) -> v);
        try (Backend be = Backends.open("cpu", System.out)) {
            GoldenCheck.Report r = GoldenCheck.run(copy, be, 1e-4);
            assertTrue(r.ok(), GoldenCheck.format(r));
        }
    }

    /** Zero-gradient parameters found in the fixture = the biases directly before a BatchNorm (none with LayerNorm). */
    @ParameterizedTest(name = "{0}")
    @MethodSource("convunext.train.GoldenFixtureTest#fixtures")
    void zeroGradientParametersAreTheBiasesBeforeBatchNorm(Path fixture) {
        SafeTensors.Contents c = SafeTensors.read(fixture);
        ConvUNeXt.Config cfg = GoldenCheck.configOf(c, fixture);
        try (Backend be = Backends.open("cpu", System.out); ConvUNeXt model = new ConvUNeXt(cfg, be, 0)) {
            Set<String> expected = new TreeSet<>();
            for (ParamStore.Entry e : model.params.params())
                if (GoldenCheck.beforeBatchNorm(e.name, cfg)) expected.add(e.name);
            assertEquals(expected, new TreeSet<>(GoldenCheck.zeroGradParams(model.params, c, fixture)));
            assertEquals(cfg.norm() == convunext.nn.Norm.BATCH ? 23 : 0, expected.size());
        }
    }

    /** Rewrites a fixture with every value passed through {@code f(key, value)}. */
    static void write(SafeTensors.Contents c, Path out, BiFunction<String, Double, Double> f) {
        Map<String, SafeTensors.Out> t = new LinkedHashMap<>();
        for (Map.Entry<String, SafeTensors.Entry> e : c.tensors().entrySet()) {
            SafeTensors.Entry v = e.getValue();
            double[] d = v.data().clone();
            for (int i = 0; i < d.length; i++) d[i] = f.apply(e.getKey(), d[i]);
            String dtype = v.dtype().equals("F32") || v.dtype().equals("F64") ? v.dtype() : "I64";
            t.put(e.getKey(), new SafeTensors.Out(v.shape(), d, dtype));
        }
        SafeTensors.write(out, t, c.metadata());
    }
}
