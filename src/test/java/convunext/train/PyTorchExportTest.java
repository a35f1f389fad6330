package convunext.train;

import static org.junit.jupiter.api.Assertions.*;

import convunext.backend.Backend;
import convunext.backend.cpu.CpuBackend;
import convunext.data.FloatImage;
import convunext.io.SafeTensors;
import convunext.nn.ConvUNeXt;
import convunext.nn.Norm;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * State_dicts written by PyTorch tooling rather than by {@code train}, loaded as predict, evaluate
 * and the API load them ({@link InferenceModel#open}): the metadata that safetensors' own
 * converter and transformers write ({"format": "pt"}), the key prefix of a DataParallel model, and configs
 * read from tensor shapes whose refusals name the file and the tensor.
 */
class PyTorchExportTest {
    @TempDir static Path dir;
    static Path plain;
    static final Backend BE = new CpuBackend();

    /** A base_c 2 BatchNorm model's state_dict only: no metadata, no optimiser (the README's snippet). */
    @BeforeAll static void export() {
        try (ConvUNeXt m = new ConvUNeXt(new ConvUNeXt.Config(3, 2, 2, Norm.BATCH), BE, 7)) {
            Path ours = dir.resolve("ours.safetensors");
            Checkpoint.save(ours, m, null, null);
            plain = variant(ours, "plain", k -> k, new LinkedHashMap<>());
        }
    }

    /** {@code from}'s tensors under renamed keys (null: dropped), with {@code meta} as the whole metadata. */
    static Path variant(Path from, String name, UnaryOperator<String> key, Map<String, String> meta) {
        Map<String, SafeTensors.Out> t = new LinkedHashMap<>();
        SafeTensors.read(from).tensors().forEach((k, v) -> {
            String to = key.apply(k);
            if (to != null) t.put(to, new SafeTensors.Out(v.shape(), v.data(), v.dtype().equals("I64") ? "I64" : "F32"));
        });
        Path f = dir.resolve(name + ".safetensors");
        SafeTensors.write(f, t, meta);
        return f;
    }

    static float[] probabilities(Path weights, List<String> log) {
        try (InferenceModel m = InferenceModel.open(weights, BE, 512, 64, false, InferenceScale.NATIVE, log::add)) {
            float[] px = new float[3 * 64 * 64];
            for (int i = 0; i < px.length; i++) px[i] = (i * 37 % 251);
            return m.segment(new FloatImage(3, 64, 64, px), "x.png").probabilities();
        }
    }

    static String refusal(Path weights) {
        return assertThrows(IllegalArgumentException.class, () -> probabilities(weights, new ArrayList<>())).getMessage();
    }

    @Test void formatPtAsSafetensorsConvertWritesIsAPlainStateDict() {
        // safetensors' convert.py, transformers' save_pretrained and huggingface_hub write {"format": "pt"}
        Path pt = variant(plain, "format-pt", k -> k, Map.of("format", "pt"));
        assertArrayEquals(probabilities(plain, new ArrayList<>()), probabilities(pt, new ArrayList<>()));
        assertDoesNotThrow(() -> InferenceModel.check(pt, note -> { }));
        // a format of our own family that this version does not read is still refused, naming it
        Path next = variant(plain, "format-next", k -> k, Map.of("format", "convunext-checkpoint-2"));
        String e = refusal(next);
        assertTrue(e.contains("'format'") && e.contains("convunext-checkpoint-2") && e.contains(next.toString()), e);
    }

    @Test void aDataParallelModulePrefixIsStrippedWithANote() {
        Path dp = variant(plain, "module", k -> "module." + k, new LinkedHashMap<>());
        List<String> log = new ArrayList<>();
        assertArrayEquals(probabilities(plain, new ArrayList<>()), probabilities(dp, log));
        assertTrue(log.stream().anyMatch(l -> l.contains("'module.'")), log.toString());
        assertDoesNotThrow(() -> InferenceModel.check(dp, note -> { }), "the CLI's check before the device reads it as open does");
        // a prefix on only some keys is no DataParallel file: refused naming a key it lacks and where it is
        Path some = variant(plain, "module-some", k -> k.startsWith("up4.") ? "module." + k : k, new LinkedHashMap<>());
        assertTrue(refusal(some).contains("missing key 'up4."), refusal(some));
        assertTrue(refusal(some).contains("(it holds 'module.up4."), refusal(some));
    }

    @Test void anotherPrefixOnTheKeysIsNamedAsAPrefix() {
        // a wrapper's attribute on every key (Lightning's 'model.'): not "not a ConvUNeXt checkpoint"
        Path all = variant(plain, "model-prefix", k -> "model." + k, new LinkedHashMap<>());
        String e = refusal(all);
        assertTrue(e.startsWith(all + ": missing key 'in_conv.0.weight' (it holds 'model.in_conv.0.weight': a prefix 'model.' is removed"
                + " only when it is DataParallel's 'module.' on every name"), e);
        assertEquals(1, e.lines().count(), e);
        // with our config metadata the config is not read from the shapes: the missing key says the same
        Path withMeta = variant(plain, "model-prefix-meta", k -> "model." + k,
                new LinkedHashMap<>(Checkpoint.configMeta(new ConvUNeXt.Config(3, 2, 2, Norm.BATCH))));
        assertTrue(refusal(withMeta).contains("missing key 'in_conv.0.weight' (it holds 'model.in_conv.0.weight'"), refusal(withMeta));
        // one tensor under a prefix among plain names
        Path one = variant(plain, "one-prefixed", k -> k.equals("up2.gate.weight") ? "ema.up2.gate.weight" : k, new LinkedHashMap<>());
        assertTrue(refusal(one).contains("missing key 'up2.gate.weight' (it holds 'ema.up2.gate.weight': a prefix 'ema.'"), refusal(one));
        // init.* is a verify fixture's, with or without its config metadata
        Path fixture = variant(plain, "init-prefix", k -> "init." + k, new LinkedHashMap<>());
        assertTrue(refusal(fixture).contains("a verify fixture"), refusal(fixture));
    }

    @Test void aBatchNormFileMissingOneRunningStatisticNamesIt() {
        // not read as a LayerNorm model with 90-odd unknown tensors: the one missing key is named
        Path f = variant(plain, "no-stem-mean", k -> k.equals("in_conv.1.running_mean") ? null : k, new LinkedHashMap<>());
        String e = refusal(f);
        assertTrue(e.contains("missing key 'in_conv.1.running_mean'"), e);
    }

    @Test void aConfigReadFromShapesThatIsOutOfRangeNamesTheFileAndTensor() {
        // a one-class (sigmoid) head, as other U-Nets export: out_conv.0.weight [1, b, 1, 1]
        Path f = variant(plain, "one-class", k -> k, new LinkedHashMap<>());
        Map<String, SafeTensors.Out> t = new LinkedHashMap<>();
        SafeTensors.read(f).tensors().forEach((k, v) -> {
            int[] shape = v.shape();
            double[] d = v.data();
            if (k.equals("out_conv.0.weight")) { shape = new int[] {1, 2, 1, 1}; d = new double[] {0.5, -0.5}; }
            if (k.equals("out_conv.0.bias")) { shape = new int[] {1}; d = new double[] {0}; }
            t.put(k, new SafeTensors.Out(shape, d, v.dtype().equals("I64") ? "I64" : "F32"));
        });
        SafeTensors.write(f, t, Map.of());
        String e = refusal(f);
        assertTrue(e.contains(f.toString()) && e.contains("out_conv.0.weight") && e.contains("num_classes"), e);
    }
}
