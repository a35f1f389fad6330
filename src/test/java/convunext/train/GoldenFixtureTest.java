package convunext.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import convunext.backend.Backend;
import convunext.backend.all.Backends;
import convunext.io.SafeTensors;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The whole model against PyTorch: `verify` passes on every fixture in testdata/golden, on the
 * CPU backend several times in one JVM with the same printed table every time (the first run is
 * partly interpreted, later ones JIT-compiled), on the float64 oracle, and on our CUDA kernels on
 * the emulated device (the same launch code a GPU runs) for two of them.
 */
class GoldenFixtureTest {
    static final Path DIR = Path.of("testdata/golden");
    /** CPU runs per fixture in one JVM, compared table for table. */
    static final int CPU_RUNS = 3;
    /**
     * The emulated device runs every CUDA thread as a fiber: ~40 s of CPU per small fixture, so CI
     * runs it on two (batch and layer norm, 3 AdamW steps); reference/stress_verify.py --devices
     * emulated runs any number.
     */
    static final List<String> EMULATED = List.of("convunext_c4_in1_k3_1x72x88.safetensors",
            "convunext_c4_in2_k2_3x65x70_layernorm.safetensors");

    static List<Path> fixtures() {
        try (Stream<Path> s = Files.list(DIR)) {
            List<Path> l = s.filter(p -> p.getFileName().toString().endsWith(".safetensors")).sorted().toList();
            assertFalse(l.isEmpty(), "no fixtures in " + DIR);
            return l;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static List<Path> emulatedFixtures() {
        return EMULATED.stream().map(DIR::resolve).toList();
    }

    @ParameterizedTest(name = "cpu {0}")
    @MethodSource("fixtures")
    void cpuPassesWithTheSameErrorsEveryRun(Path fixture) {
        try (Backend be = Backends.open("cpu", System.out)) {
            String first = null;
            for (int run = 0; run < CPU_RUNS; run++) {
                GoldenCheck.Report r = GoldenCheck.run(fixture, be, 1e-4);
                String table = GoldenCheck.format(r);
                assertTrue(r.ok(), table);
                if (first == null) {
                    first = table;
                    System.out.print(table);
                } else {
                    assertEquals(first, table, "run " + run + " printed other errors than run 0");
                }
            }
        }
    }

    @ParameterizedTest(name = "ref {0}")
    @MethodSource("fixtures")
    void oraclePasses(Path fixture) {
        check("ref", fixture);
    }

    @ParameterizedTest(name = "emulated {0}")
    @MethodSource("emulatedFixtures")
    void emulatedPasses(Path fixture) {
        check("emulated", fixture);
    }

    private static void check(String device, Path fixture) {
        try (Backend be = Backends.open(device, System.out)) {
            GoldenCheck.Report r = GoldenCheck.run(fixture, be, 1e-4);
            String table = GoldenCheck.format(r);
            System.out.print(table);
            assertTrue(r.ok(), table);
        }
    }

    /** The committed fixtures span the config space the issue names (so a fixed tolerance would have failed here). */
    @Test
    void fixturesCoverTheConfigSpace() {
        Set<String> norms = new TreeSet<>(), batches = new TreeSet<>(), ins = new TreeSet<>(), classes = new TreeSet<>();
        boolean oddH = false, oddW = false;
        for (Path f : fixtures()) {
            Map<String, String> m = SafeTensors.read(f).metadata();
            norms.add(m.getOrDefault("norm", "batch"));
            batches.add(m.get("batch"));
            ins.add(m.get("in_channels"));
            classes.add(m.get("num_classes"));
            oddH |= Integer.parseInt(m.get("height")) % 2 == 1;
            oddW |= Integer.parseInt(m.get("width")) % 2 == 1;
        }
        assertEquals(Set.of("batch", "layer"), norms);
        assertTrue(batches.containsAll(Set.of("1", "3")), "batch sizes " + batches);
        assertTrue(ins.containsAll(Set.of("1", "2", "4")), "input channels " + ins);
        assertTrue(classes.containsAll(Set.of("2", "3", "4", "5")), "classes " + classes);
        assertTrue(oddH && oddW, "odd heights and widths");
    }
}
