package convunext.nn;

import convunext.autograd.Var;
import convunext.backend.Backend;
import convunext.tensor.Tensor;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The model's state under its PyTorch state_dict names, in state_dict order. Learnable parameters
 * live in ONE flat buffer (and their gradients in a second one) so that AdamW is a single kernel
 * over all of them; each parameter is a view into it. Buffers (BatchNorm running statistics) are
 * separate tensors; num_batches_tracked is a host counter (it is an int64 in PyTorch and does not
 * influence the math with momentum 0.1).
 */
public final class ParamStore {
    public enum Kind { PARAM, RUNNING_MEAN, RUNNING_VAR, NUM_BATCHES }

    /** One state_dict entry. */
    public static final class Entry {
        public final String name;
        public final int[] shape;
        public final Kind kind;
        final float[] init;
        long offset = -1;        // in the flat buffer, for parameters
        Var var;                 // parameters
        Tensor buffer;           // running statistics
        long count;              // num_batches_tracked

        Entry(String name, int[] shape, Kind kind, float[] init) {
            this.name = name;
            this.shape = shape;
            this.kind = kind;
            this.init = init;
        }

        public long numel() { long n = 1; for (int d : shape) n *= d; return n; }
        public Var var() { return var; }
        public Tensor buffer() { return buffer; }
        public long count() { return count; }
        public long offset() { return offset; }
    }

    private final Map<String, Entry> entries = new LinkedHashMap<>();
    private Backend backend;
    private Tensor flatParams, flatGrads;
    private long numParams;

    Entry add(String name, Kind kind, float[] init, int... shape) {
        if (backend != null) throw new IllegalStateException("ParamStore already materialised");
        if (entries.containsKey(name)) throw new IllegalStateException("duplicate parameter " + name);
        Entry e = new Entry(name, shape, kind, init);
        entries.put(name, e);
        return e;
    }

    /** Allocates the flat buffers on {@code be} and uploads the initial values. */
    void materialize(Backend be) {
        this.backend = be;
        long n = 0;
        for (Entry e : entries.values()) if (e.kind == Kind.PARAM) { e.offset = n; n += e.numel(); }
        numParams = n;
        float[] host = new float[Math.toIntExact(n)];
        for (Entry e : entries.values()) {
            if (e.kind == Kind.PARAM) System.arraycopy(e.init, 0, host, (int) e.offset, e.init.length);
        }
        flatParams = be.upload(host, (int) n);
        flatGrads = be.zeros((int) n);
        for (Entry e : entries.values()) {
            switch (e.kind) {
                case PARAM -> e.var = Var.parameter(e.name, be.view(flatParams, e.offset, e.shape),
                        be.view(flatGrads, e.offset, e.shape));
                case RUNNING_MEAN, RUNNING_VAR -> e.buffer = be.upload(e.init, e.shape);
                case NUM_BATCHES -> e.count = 0;
            }
        }
    }

    public Backend backend() { return backend; }
    public Tensor flatParams() { return flatParams; }
    public Tensor flatGrads() { return flatGrads; }
    public long numParams() { return numParams; }
    public Map<String, Entry> entries() { return Collections.unmodifiableMap(entries); }
    public Entry get(String name) { return entries.get(name); }

    public List<Entry> params() {
        List<Entry> l = new ArrayList<>();
        for (Entry e : entries.values()) if (e.kind == Kind.PARAM) l.add(e);
        return l;
    }

    public void zeroGrads() { backend.fill(flatGrads, 0f); }

    /** Host copy of one entry's current value (parameters, running stats; count for NUM_BATCHES). */
    public float[] read(Entry e) {
        return switch (e.kind) {
            case PARAM -> backend.download(e.var.value);
            case RUNNING_MEAN, RUNNING_VAR -> backend.download(e.buffer);
            case NUM_BATCHES -> new float[] {e.count};
        };
    }

    /** Host copy of one parameter's gradient. */
    public float[] readGrad(Entry e) { return backend.download(e.var.grad()); }

    /** Overwrites one entry's value; the shape must match the state_dict's. */
    public void write(Entry e, float[] value, int[] shape, String source) {
        if (!java.util.Arrays.equals(shape, e.shape) && !(e.kind == Kind.NUM_BATCHES && value.length == 1))
            throw new IllegalArgumentException(source + ": '" + e.name + "' has shape " + java.util.Arrays.toString(shape)
                    + ", the model expects " + java.util.Arrays.toString(e.shape));
        switch (e.kind) {
            case PARAM -> {
                Tensor t = backend.upload(value, e.shape);
                backend.copy(t, e.var.value);
                backend.release(t);
            }
            case RUNNING_MEAN, RUNNING_VAR -> {
                Tensor t = backend.upload(value, e.shape);
                backend.copy(t, e.buffer);
                backend.release(t);
            }
            case NUM_BATCHES -> e.count = (long) value[0];
        }
    }

    /** Frees device memory held by the store. */
    public void release() {
        if (backend == null) return;
        for (Entry e : entries.values()) if (e.buffer != null) backend.release(e.buffer);
        backend.release(flatParams);
        backend.release(flatGrads);
    }
}
