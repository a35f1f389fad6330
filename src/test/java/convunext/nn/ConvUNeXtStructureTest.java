package convunext.nn;

import static org.junit.jupiter.api.Assertions.*;

import convunext.backend.Backend;
import convunext.backend.all.Backends;
import convunext.io.SafeTensors;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class ConvUNeXtStructureTest {
    static final Path C8 = Path.of("testdata/golden/convunext_c8_in3_k2_2x64x64.safetensors");
    static final Path C8_LN = Path.of("testdata/golden/convunext_c8_in3_k2_2x64x64_layernorm.safetensors");

    @Test void referenceConfigHas3505730ParametersAnd265Entries() {
        try (Backend be = Backends.open("cpu", System.out);
             ConvUNeXt m = new ConvUNeXt(new ConvUNeXt.Config(3, 2, 32, Norm.BATCH), be, 1)) {
            assertEquals(3_505_730, m.params.numParams());
            assertEquals(265, m.params.entries().size());
        }
    }

    /** Config.parameters (TrainOptions' memory check, without building a model) against built models. */
    @Test void parameterCountFormulaMatchesBuiltModels() {
        int[][] cfgs = {{1, 2, 1}, {3, 2, 7}, {5, 9, 3}, {4, 255, 12}, {3, 2, 32}};
        for (int[] c : cfgs)
            for (Norm n : Norm.values())
                try (Backend be = new convunext.backend.cpu.ref.RefBackend();
                     ConvUNeXt m = new ConvUNeXt(new ConvUNeXt.Config(c[0], c[1], c[2], n), be, 1)) {
                    assertEquals(m.params.numParams(), m.config.parameters(), java.util.Arrays.toString(c) + " " + n);
                }
    }

    @Test void namesAndShapesEqualTheReferenceStateDictInOrder() {
        check(C8, Norm.BATCH, 265);
        check(C8_LN, Norm.LAYER, 172);
    }

    private static void check(Path fixture, Norm norm, int entries) {
        SafeTensors.Contents c = SafeTensors.read(fixture);
        List<String> ref = new ArrayList<>();
        for (String k : c.tensors().keySet()) if (k.startsWith("init.")) ref.add(k.substring(5));
        try (Backend be = Backends.open("cpu", System.out);
             ConvUNeXt m = new ConvUNeXt(new ConvUNeXt.Config(3, 2, 8, norm), be, 1)) {
            assertEquals(ref, new ArrayList<>(m.params.entries().keySet()));
            assertEquals(entries, ref.size());
            for (ParamStore.Entry e : m.params.entries().values()) {
                int[] s = c.tensors().get("init." + e.name).shape();
                assertArrayEquals(s, e.shape, e.name);
            }
            assertEquals(Long.parseLong(c.metadata().get("parameters")), m.params.numParams());
        }
    }

    @Test void tooSmallInputIsRefusedWithTheMinimum() {
        try (Backend be = Backends.open("cpu", System.out);
             ConvUNeXt m = new ConvUNeXt(new ConvUNeXt.Config(3, 2, 4, Norm.BATCH), be, 1)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> m.checkInput(new int[] {1, 3, 63, 80}));
            assertTrue(e.getMessage().contains("64"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> m.checkInput(new int[] {1, 1, 64, 64}));
            assertTrue(e.getMessage().contains("[N,3,H,W]"), e.getMessage());
        }
    }
}
