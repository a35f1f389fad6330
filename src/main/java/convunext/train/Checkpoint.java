package convunext.train;

import convunext.io.SafeTensors;
import convunext.nn.ConvUNeXt;
import convunext.nn.Norm;
import convunext.nn.ParamStore;
import convunext.optim.AdamW;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Checkpoints as safetensors: the model under its PyTorch state_dict names (so weights move to
 * and from the reference code; num_batches_tracked as I64), optionally the AdamW moments
 * ({@code optim.exp_avg}, {@code optim.exp_avg_sq}, flat in state_dict parameter order), and string
 * metadata: model config, normalisation mean/std, epoch/step, schedule, RNG state. Written to a
 * temporary file and renamed (SafeTensors.write), so a crash never leaves a broken file.
 */
public final class Checkpoint {
    public static final String EXP_AVG = "optim.exp_avg", EXP_AVG_SQ = "optim.exp_avg_sq";
    /** The metadata 'format' this version writes and reads. */
    static final String FORMAT = "convunext-checkpoint-1";

    private Checkpoint() {}

    /** Saves the model (and the optimiser when non-null) with {@code meta} added to the config keys. */
    public static void save(Path file, ConvUNeXt model, AdamW opt, Map<String, String> meta) {
        Map<String, SafeTensors.Out> out = new LinkedHashMap<>();
        ParamStore ps = model.params;
        for (ParamStore.Entry e : ps.entries().values()) {
            if (e.kind == ParamStore.Kind.NUM_BATCHES) out.put(e.name, SafeTensors.Out.i64(new int[0], e.count()));
            else out.put(e.name, SafeTensors.Out.f32(e.shape, ps.read(e)));
        }
        Map<String, String> m = new LinkedHashMap<>(configMeta(model.config));
        if (opt != null) {
            int n = Math.toIntExact(ps.numParams());
            out.put(EXP_AVG, SafeTensors.Out.f32(new int[] {n}, opt.firstMoment()));
            out.put(EXP_AVG_SQ, SafeTensors.Out.f32(new int[] {n}, opt.secondMoment()));
            m.put("optim.step", Integer.toString(opt.stepCount()));
            m.put("optim.betas", opt.beta1 + "," + opt.beta2);
            m.put("optim.eps", Float.toString(opt.eps));
            m.put("optim.weight_decay", Float.toString(opt.weightDecay));
        }
        if (meta != null) m.putAll(meta);
        SafeTensors.write(file, out, m);
    }

    public static Map<String, String> configMeta(ConvUNeXt.Config c) {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("format", FORMAT);
        m.put("in_channels", Integer.toString(c.inChannels()));
        m.put("num_classes", Integer.toString(c.numClasses()));
        m.put("base_c", Integer.toString(c.baseC()));
        m.put("norm", c.norm().key());
        return m;
    }

    /**
     * The model config of a checkpoint: from its metadata, or — for a plain state_dict exported
     * from PyTorch — from the shapes of in_conv.0.weight [b,in,7,7] and out_conv.0.weight [k,b,1,1]
     * and the presence of BatchNorm running statistics.
     */
    public static ConvUNeXt.Config configOf(SafeTensors.Contents c, Path file) {
        Map<String, String> m = c.metadata();
        if (m.containsKey("in_channels") && m.containsKey("num_classes") && m.containsKey("base_c")) {
            int in = intMeta(c, "in_channels", file), k = intMeta(c, "num_classes", file), base = intMeta(c, "base_c", file);
            ConvUNeXt.Config cfg;
            try {
                cfg = new ConvUNeXt.Config(in, k, base, Norm.parse(m.getOrDefault("norm", "batch")));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(file + ": bad model config in the metadata: " + e.getMessage(), e);
            }
            // the sizes the metadata states against the stored stem and head, before a model of that size is built
            requireShape(c, file, "in_conv.0.weight", base, in, 7, 7);
            requireShape(c, file, "out_conv.0.weight", k, base, 1, 1);
            return cfg;
        }
        SafeTensors.Entry stem = c.tensors().get("in_conv.0.weight"), head = c.tensors().get("out_conv.0.weight");
        if (stem == null || head == null || stem.shape().length != 4 || head.shape().length != 4) {
            String key = stem == null ? "in_conv.0.weight" : "out_conv.0.weight", prefixed = prefixedName(c, key);
            if (c.tensors().containsKey("init." + key)) throw fixtureRefusal(file);
            if (prefixed != null) throw prefixRefusal(file, prefixed, key);
            throw new IllegalArgumentException(file + ": not a ConvUNeXt checkpoint (no in_conv.0.weight / out_conv.0.weight)");
        }
        // any BatchNorm running statistic makes it a BatchNorm model: one missing is then named as missing
        Norm norm = c.tensors().keySet().stream().anyMatch(k -> k.endsWith(".running_mean") || k.endsWith(".running_var"))
                ? Norm.BATCH : Norm.LAYER;
        try {
            return new ConvUNeXt.Config(stem.shape()[1], head.shape()[0], stem.shape()[0], norm);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(file + ": config read from in_conv.0.weight " + java.util.Arrays.toString(stem.shape())
                    + " and out_conv.0.weight " + java.util.Arrays.toString(head.shape()) + ": " + e.getMessage(), e);
        }
    }

    /** The key prefix {@code torch.nn.DataParallel} and DistributedDataParallel put on every state_dict name. */
    static final String DATA_PARALLEL_PREFIX = "module.";

    /**
     * {@code c} with the {@code module.} prefix removed when every tensor name carries it (a state_dict
     * saved from a DataParallel/DDP wrapper; PyTorch's consume_prefix_in_state_dict_if_present does the
     * same), with one line to {@code log}; otherwise {@code c} itself.
     */
    public static SafeTensors.Contents withoutDataParallelPrefix(SafeTensors.Contents c, Path file, java.util.function.Consumer<String> log) {
        if (c.tensors().isEmpty() || !c.tensors().keySet().stream().allMatch(k -> k.startsWith(DATA_PARALLEL_PREFIX))) return c;
        Map<String, SafeTensors.Entry> t = new LinkedHashMap<>();
        c.tensors().forEach((k, v) -> t.put(k.substring(DATA_PARALLEL_PREFIX.length()), v));
        log.accept("note: " + file + " names every tensor with the prefix '" + DATA_PARALLEL_PREFIX
                + "' (a DataParallel/DDP state_dict); reading it without the prefix");
        return new SafeTensors.Contents(t, c.metadata());
    }

    private static IllegalArgumentException fixtureRefusal(Path file) {
        return new IllegalArgumentException(file + ": a verify fixture (its weights are under init.* and after.*),"
                + " not a model's weights: give a checkpoint that train wrote, or a state_dict");
    }

    /** A tensor of {@code c} named {@code key} under some prefix ('model.in_conv.0.weight'), or null. */
    private static String prefixedName(SafeTensors.Contents c, String key) {
        for (String k : c.tensors().keySet()) if (k.endsWith("." + key)) return k;
        return null;
    }

    /**
     * The refusal of a state_dict whose names carry a prefix other than DataParallel's (a wrapper
     * module's attribute, as Lightning's 'model.' or an EMA copy's): which one, and what to do.
     * Only {@code module.} is removed (README): another prefix may name a second model in the file.
     */
    private static IllegalArgumentException prefixRefusal(Path file, String prefixed, String key) {
        String prefix = prefixed.substring(0, prefixed.length() - key.length());
        return new IllegalArgumentException(file + ": missing key '" + key + "' (it holds '" + prefixed + "': a prefix '" + prefix
                + "' is removed only when it is DataParallel's '" + DATA_PARALLEL_PREFIX + "' on every name; save the state_dict"
                + " without it, README \"Weights from and to PyTorch\")");
    }

    private static void requireShape(SafeTensors.Contents c, Path file, String key, int... expected) {
        SafeTensors.Entry t = c.tensors().get(key);
        if (t != null && !java.util.Arrays.equals(t.shape(), expected))
            throw new IllegalArgumentException(file + ": '" + key + "' has shape " + java.util.Arrays.toString(t.shape())
                    + ", but the metadata's config (in_channels, num_classes, base_c) needs " + java.util.Arrays.toString(expected)
                    + ": a damaged checkpoint?");
    }

    /**
     * Loads the weights and buffers into {@code model}; every state_dict key must be present with its
     * shape, and every tensor of the file must be one of them (or AdamW's moments): a file whose
     * metadata config disagrees with its tensors (norm=layer over BatchNorm statistics) would
     * otherwise load as another model.
     */
    public static void loadWeights(ConvUNeXt model, SafeTensors.Contents c, Path file) {
        ConvUNeXt.Config have = configOf(c, file);
        if (!have.equals(model.config))
            throw new IllegalArgumentException(file + ": checkpoint is for " + describe(have) + ", the model is " + describe(model.config));
        String format = c.metadata().get("format");
        // "pt" is the framework tag PyTorch tooling writes (safetensors' convert.py,
        // huggingface_hub, transformers): a plain state_dict
        if (format != null && !format.equals(FORMAT) && !format.equals("pt"))
            throw new IllegalArgumentException(file + ": metadata 'format' is '" + format + "'; this version reads " + FORMAT
                    + " (or a plain state_dict without that key, or with the 'pt' of PyTorch's tools)");
        for (ParamStore.Entry e : model.params.entries().values()) {
            SafeTensors.Entry t = c.tensors().get(e.name);
            if (t == null) {
                if (e.kind == ParamStore.Kind.NUM_BATCHES) continue;   // optional in older exports
                if (c.tensors().containsKey("init." + e.name)) throw fixtureRefusal(file);   // say what it is, not which key it lacks
                String prefixed = prefixedName(c, e.name);
                if (prefixed != null) throw prefixRefusal(file, prefixed, e.name);
                throw new IllegalArgumentException(file + ": missing key '" + e.name + "'");
            }
            float[] v = t.toFloat();
            requireFinite(v, e.name, file);
            if (e.kind == ParamStore.Kind.RUNNING_VAR) requireNonNegative(v, e.name, file);
            model.params.write(e, v, t.shape(), file.toString());
        }
        java.util.List<String> unknown = new java.util.ArrayList<>();
        for (String k : c.tensors().keySet())
            if (!model.params.entries().containsKey(k) && !k.equals(EXP_AVG) && !k.equals(EXP_AVG_SQ)) unknown.add(k);
        if (!unknown.isEmpty())
            throw new IllegalArgumentException(file + ": holds " + unknown.size() + " tensor(s) a " + describe(have) + " does not have ("
                    + String.join(", ", unknown.subList(0, Math.min(3, unknown.size()))) + (unknown.size() > 3 ? ", …" : "")
                    + "): its metadata's config disagrees with its tensors, or it is not a ConvUNeXt checkpoint");
    }

    /**
     * Refuses NaN or ±Inf in a tensor (a checkpoint of a run that diverged, or a damaged file):
     * a model holding one predicts all background with no other sign of trouble.
     */
    static void requireFinite(float[] v, String name, Path file) {
        int bad = 0, first = -1;
        for (int i = 0; i < v.length; i++)
            if (!Float.isFinite(v[i])) { if (first < 0) first = i; bad++; }
        if (bad > 0)
            throw new IllegalArgumentException(file + ": tensor '" + name + "' holds " + bad + " non-finite value(s) (first: "
                    + v[first] + " at index " + first + " of " + v.length + "); the checkpoint is damaged or from a diverged run");
    }

    /** Refuses a negative BatchNorm running variance (eval mode would take its square root: NaN everywhere). */
    static void requireNonNegative(float[] v, String name, Path file) {
        for (int i = 0; i < v.length; i++)
            if (v[i] < 0)
                throw new IllegalArgumentException(file + ": tensor '" + name + "' holds a negative variance (" + v[i] + " at index "
                        + i + " of " + v.length + "); the checkpoint is damaged");
    }

    /** An integer metadata entry, or a message naming the file, key and value. */
    public static int intMeta(SafeTensors.Contents c, String key, Path file) {
        String s = c.metadata().get(key);
        try {
            return Integer.parseInt(s.strip());
        } catch (RuntimeException e) {
            throw new IllegalArgumentException(file + ": metadata '" + key + "' is '" + s + "', expected a whole number");
        }
    }

    /** A numeric metadata entry (or {@code dflt} when absent), or a message naming the file, key and value. */
    public static double numberMeta(SafeTensors.Contents c, String key, double dflt, Path file) {
        String s = c.metadata().get(key);
        if (s == null) return dflt;
        try {
            return Double.parseDouble(s.strip());
        } catch (RuntimeException e) {
            throw new IllegalArgumentException(file + ": metadata '" + key + "' is '" + s + "', expected a number");
        }
    }

    /** Restores the AdamW moments and step count; throws if the checkpoint has none. */
    public static void loadOptimizer(AdamW opt, SafeTensors.Contents c, Path file) {
        SafeTensors.Entry m = c.require(EXP_AVG, file), v = c.require(EXP_AVG_SQ, file);
        int step = c.metadata().containsKey("optim.step") ? intMeta(c, "optim.step", file) : 0;
        float[] mh = m.toFloat(), vh = v.toFloat();
        requireFinite(mh, EXP_AVG, file);
        requireFinite(vh, EXP_AVG_SQ, file);
        opt.restore(mh, vh, step);
    }

    public static String describe(ConvUNeXt.Config c) {
        return String.format("in=%d classes=%d base_c=%d norm=%s", c.inChannels(), c.numClasses(), c.baseC(), c.norm().key());
    }
}
