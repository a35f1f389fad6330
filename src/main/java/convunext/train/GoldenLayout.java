package convunext.train;

import convunext.io.SafeTensors;
import convunext.nn.ConvUNeXt;
import convunext.nn.Norm;
import convunext.nn.ParamStore;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.Set;

/**
 * A fixture's layout against its own config, before `verify` computes anything (reference/README.md
 * lists the keys): every tensor's dtype and shape, and the metadata that restates a shape. A
 * fixture that breaks it is malformed, not a numerical failure: each problem is an
 * {@link IllegalArgumentException} with a one-line message naming the file and the key (exit
 * code 2), where comparing values alone would only count elements (a transposed gradient passed)
 * or end in a FAIL far from the cause.
 */
final class GoldenLayout {
    private GoldenLayout() {}

    private static final Set<String> FLOAT = Set.of("F64", "F32", "F16", "BF16");

    /** Throws on the first problem; returns normally when every key {@code verify} reads is well-formed. */
    static void check(SafeTensors.Contents c, Path file, ConvUNeXt.Config cfg, ParamStore ps) {
        SafeTensors.Entry in = floating(c, file, "input");
        int[] s = in.shape();
        if (s.length != 4 || s[0] < 1 || s[1] != cfg.inChannels())
            throw bad(file, "'input' has shape " + Arrays.toString(s) + ", expected [batch, " + cfg.inChannels()
                    + " (in_channels), height, width]");
        int b = s[0], h = s[2], w = s[3];
        if (h < ConvUNeXt.MIN_SIDE || w < ConvUNeXt.MIN_SIDE)
            throw bad(file, "'input' is " + h + "×" + w + ", smaller than the model's minimum " + ConvUNeXt.MIN_SIDE + "×"
                    + ConvUNeXt.MIN_SIDE);
        Map<String, String> m = c.metadata();
        metaInt(m, file, "batch", b);
        metaInt(m, file, "height", h);
        metaInt(m, file, "width", w);

        SafeTensors.Entry target = c.require("target", file);
        shape(file, "target", target, b, h, w);
        for (double v : target.data())
            if (v != Math.rint(v) || v < 0 || v >= cfg.numClasses() && v != 255)
                throw bad(file, "'target' holds " + v + ", expected a class index 0.." + (cfg.numClasses() - 1) + " or 255 (ignored)");
        shape(file, "logits", floating(c, file, "logits"), b, cfg.numClasses(), h, w);
        shape(file, "eval_logits", floating(c, file, "eval_logits"), b, cfg.numClasses(), h, w);
        shape(file, "loss", floating(c, file, "loss"), 1);
        SafeTensors.Entry losses = floating(c, file, "adamw.losses");
        if (losses.shape().length != 1 || losses.shape()[0] < 1)
            throw bad(file, "'adamw.losses' has shape " + Arrays.toString(losses.shape()) + ", expected [steps] with steps ≥ 1");
        metaInt(m, file, "adamw.steps", losses.shape()[0]);

        for (ParamStore.Entry e : ps.entries().values()) {
            if (e.kind == ParamStore.Kind.NUM_BATCHES) {   // a counter: I64 [] in PyTorch's state_dict
                for (String k : new String[] {"init." + e.name, "after." + e.name})
                    if (c.require(k, file).data().length != 1)
                        throw bad(file, "'" + k + "' has shape " + Arrays.toString(c.require(k, file).shape()) + ", expected one value");
                continue;
            }
            shape(file, "init." + e.name, floating(c, file, "init." + e.name), e.shape);
            shape(file, "after." + e.name, floating(c, file, "after." + e.name), e.shape);
            if (e.kind == ParamStore.Kind.PARAM) shape(file, "grad." + e.name, floating(c, file, "grad." + e.name), e.shape);
            if (e.kind == ParamStore.Kind.RUNNING_MEAN || e.kind == ParamStore.Kind.RUNNING_VAR)
                shape(file, "step1." + e.name, floating(c, file, "step1." + e.name), e.shape);
        }
        // BatchNorm buffers in a fixture whose metadata says LayerNorm: the norm is misstated
        if (cfg.norm() == Norm.LAYER)
            for (String k : c.tensors().keySet())
                if (k.startsWith("init.") && k.endsWith(".running_mean"))
                    throw bad(file, "'" + k + "' is a BatchNorm buffer, but the metadata says norm=layer");
    }

    /**
     * The metadata's base_c, in_channels and num_classes against the first and last convolution's
     * stored shapes, before {@link #check} builds a model of the metadata's size: a damaged base_c
     * (100000) would otherwise allocate gigabytes and end out of memory (exit 3), not name the key.
     */
    static void checkSizes(SafeTensors.Contents c, Path file, ConvUNeXt.Config cfg) {
        shape(file, "init.in_conv.0.weight", c.require("init.in_conv.0.weight", file), cfg.baseC(), cfg.inChannels(), 7, 7);
        shape(file, "init.out_conv.0.weight", c.require("init.out_conv.0.weight", file), cfg.numClasses(), cfg.baseC(), 1, 1);
    }

    /** The fixture's integer metadata {@code key}, parsed with a message naming it. */
    static int intMeta(Map<String, String> m, Path file, String key) {
        String v = m.get(key);
        try {
            return Integer.parseInt(v.trim());
        } catch (NumberFormatException e) {
            throw bad(file, "metadata '" + key + "' is \"" + v + "\", expected a whole number");
        }
    }

    /** The fixture's float metadata {@code key} (or {@code dflt} when absent), parsed with a message naming it. */
    static float floatMeta(Map<String, String> m, Path file, String key, String dflt) {
        String v = m.getOrDefault(key, dflt);
        try {
            float f = Float.parseFloat(v.trim());
            if (!Float.isFinite(f)) throw new NumberFormatException();
            return f;
        } catch (NumberFormatException e) {
            throw bad(file, "metadata '" + key + "' is \"" + v + "\", expected a finite number");
        }
    }

    /** Metadata that restates a size must agree with the tensors (absent is fine: older fixtures). */
    private static void metaInt(Map<String, String> m, Path file, String key, int actual) {
        if (!m.containsKey(key)) return;
        int v = intMeta(m, file, key);
        if (v != actual) throw bad(file, "metadata '" + key + "' is " + v + ", but the tensors say " + actual);
    }

    private static SafeTensors.Entry floating(SafeTensors.Contents c, Path file, String key) {
        SafeTensors.Entry e = c.require(key, file);
        if (!FLOAT.contains(e.dtype()))
            throw bad(file, "'" + key + "' is stored as " + e.dtype() + ", expected a floating-point dtype (F32 or F64)");
        double[] d = e.data();
        for (int i = 0; i < d.length; i++)
            if (!Double.isFinite(d[i])) throw bad(file, "'" + key + "' holds " + d[i] + " at element " + i + " (a fixture is finite)");
        return e;
    }

    private static void shape(Path file, String key, SafeTensors.Entry e, int... expected) {
        if (!Arrays.equals(e.shape(), expected))
            throw bad(file, "'" + key + "' has shape " + Arrays.toString(e.shape()) + ", expected " + Arrays.toString(expected));
    }

    private static IllegalArgumentException bad(Path file, String what) {
        return new IllegalArgumentException(file + ": " + what);
    }
}
