package convunext.train;

import static org.junit.jupiter.api.Assertions.assertTrue;

import convunext.backend.Backend;
import convunext.backend.all.Backends;
import java.nio.file.Path;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The whole model against PyTorch: every quantity of the fixtures within tolerance, on the float64
 * oracle, the CPU backend and our CUDA kernels on the emulated device (the same launch code a GPU runs).
 */
class GoldenFixtureTest {
    @ParameterizedTest
    @CsvSource({"ref,convunext_c8_in3_k2_2x64x64.safetensors", "cpu,convunext_c8_in3_k2_2x64x64.safetensors",
            "cpu,convunext_c8_in3_k2_2x64x64_layernorm.safetensors",
            "cpu,convunext_c4_in1_k3_1x72x88.safetensors", "cpu,convunext_c4_in2_k2_3x65x70_layernorm.safetensors",
            "emulated,convunext_c4_in1_k3_1x72x88.safetensors"})
    void matchesPyTorch(String device, String fixture) {
        try (Backend be = Backends.open(device, System.out)) {
            GoldenCheck.Report r = GoldenCheck.run(Path.of("testdata/golden", fixture), be, 1e-4);
            String table = GoldenCheck.format(r);
            System.out.print(table);
            assertTrue(r.ok(), table);
        }
    }
}
