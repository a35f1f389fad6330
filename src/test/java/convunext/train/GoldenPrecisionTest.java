package convunext.train;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import convunext.backend.Backend;
import convunext.backend.Precision;
import convunext.backend.all.Backends;
import convunext.io.SafeTensors;
import java.nio.file.Path;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * `verify --precision tf32|bf16` ({@link FormatTolerance}) holds results to a bound derived from
 * the format, not from the backend under test: results computed with the format's rounded product
 * operands and float accumulation (the CPU backend wrapped in {@link RoundedProducts}, the CUDA
 * backend's arithmetic at CPU speed) pass, and so does the emulated CUDA device; the same
 * computation with a wrong rounding (fewer bits, the other format) fails, as does a fixture
 * quantity moved by a multiple of u, and the format's results held to the fp32 tolerances fail
 * (the format's tolerance is needed).
 */
class GoldenPrecisionTest {
    static final Path FIXTURE = GoldenCheckTest.FIXTURE;

    @TempDir Path tmp;

    private static GoldenCheck.Report check(Path file, Precision p, RoundedProducts.Rounding rounding, Precision tolerances) {
        try (Backend be = new RoundedProducts(Backends.open("cpu", System.out), p, rounding)) {
            GoldenCheck.Report r = GoldenCheck.run(file, be, 1e-4, tolerances);
            System.out.print(GoldenCheck.format(r));
            return r;
        }
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(value = Precision.class, names = {"TF32", "BF16"})
    void resultsInTheFormatPass(Precision p) {
        GoldenCheck.Report r = check(FIXTURE, p, p::round, p);
        assertTrue(r.ok(), GoldenCheck.format(r));
    }

    /** Our CUDA kernels in tensor-core form on the emulated device (the launch code a GPU runs), ~1-2 min each. */
    @ParameterizedTest(name = "emulated {0}")
    @EnumSource(value = Precision.class, names = {"TF32", "BF16"})
    void theEmulatedDevicePasses(Precision p) {
        try (Backend be = Backends.open("emulated", p, System.out)) {
            GoldenCheck.Report r = GoldenCheck.run(FIXTURE, be, 1e-4);
            System.out.print(GoldenCheck.format(r));
            assertTrue(r.ok(), GoldenCheck.format(r));
        }
    }

    /**
     * Wrong arithmetic: the products rounded to 5 mantissa bits (4u) while bf16 is reported; bf16
     * operands reported as TF32; bf16 results held to the fp32 tolerances.
     */
    @ParameterizedTest(name = "{0}")
    @CsvSource({"bf16 rounded to 5 bits", "bf16 reported as tf32", "bf16 held to fp32"})
    void wrongArithmeticFails(String wrong) {
        Precision bf = Precision.BF16;
        GoldenCheck.Report r = switch (wrong) {
            case "bf16 rounded to 5 bits" -> check(FIXTURE, bf, x -> Float.intBitsToFloat(
                    (Float.floatToRawIntBits(x) + 0x40000) & 0xfffc0000), bf);
            case "bf16 reported as tf32" -> check(FIXTURE, Precision.TF32, bf::round, Precision.TF32);
            case "bf16 held to fp32" -> check(FIXTURE, bf, bf::round, Precision.FP32);
            default -> throw new IllegalArgumentException(wrong);
        };
        assertFalse(r.ok(), GoldenCheck.format(r));
        assertFalse(r.rows().get(0).ok(), "the logits row should fail:\n" + GoldenCheck.format(r));
    }

    /**
     * A fixture quantity moved by k·u of bf16 fails its own row (and the run): k just above the
     * row's tolerance in u on this fixture (printed in the table: logits ~24u and gradients ~74u,
     * since a 20-layer network's bf16 logits and gradients are themselves ~9u and ~23u from float64;
     * BN statistics, AdamW weights and eval logits well under 1u).
     */
    @ParameterizedTest(name = "{0} x(1+{1}u) -> {2}")
    @CsvSource(delimiter = ';', value = {
            "logits       ; 32 ; logits",
            "grad.        ; 96 ; grad.* (true gradient non-zero)",
            "step1.       ; 2  ; step1.* (BN running stats)",
            "after.       ; -2 ; after.* (weights, buffers) [anchored]",
            "eval_logits  ; 2  ; eval_logits [anchored]",
            "eval_logits  ; 2  ; eval_logits (from after.*)"})
    void aQuantityMovedByAFewUFails(String key, int k, String row) {
        Precision bf = Precision.BF16;
        double m = 1 + k * bf.unitRoundoff();
        String prefix = key.trim();
        Path changed = tmp.resolve("changed.safetensors");
        GoldenCheckTest.write(SafeTensors.read(FIXTURE), changed,
                (name, v) -> prefix.endsWith(".") ? (name.startsWith(prefix) ? v * m : v) : (name.equals(prefix) ? v * m : v));
        GoldenCheck.Report r = check(changed, bf, bf::round, bf);
        String table = GoldenCheck.format(r);
        GoldenCheck.Row failing = r.rows().stream().filter(x -> x.quantity().equals(row.trim())).findFirst()
                .orElseThrow(() -> new AssertionError("no row '" + row.trim() + "' in\n" + table));
        assertFalse(failing.ok(), table);
        assertFalse(r.ok(), table);
    }
}
