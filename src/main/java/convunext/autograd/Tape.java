package convunext.autograd;

import convunext.backend.Backend;
import convunext.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;

/**
 * Records ops as they run forward; {@link #backward} walks them in reverse, each op turning the
 * gradient of its output into gradients of its inputs. Gradients accumulate (a value used twice
 * gets the sum). The tape owns every tensor produced while it recorded and frees them all in
 * {@link #close}, so a training step returns its memory to the backend's pool.
 */
public final class Tape implements AutoCloseable {
    /** One recorded op: given d loss / d output, accumulate into its inputs via {@link Tape#accumulate}. */
    @FunctionalInterface
    public interface Backward {
        void apply(Tensor gradOut);
    }

    private record Node(Var out, Backward backward) {}

    private final Backend backend;
    private final boolean recording;
    private final List<Node> nodes = new ArrayList<>();
    private final List<Tensor> owned = new ArrayList<>();

    /** @param recording false for inference: no nodes, no saved tensors beyond the results. */
    public Tape(Backend backend, boolean recording) {
        this.backend = backend;
        this.recording = recording;
    }

    public Backend backend() { return backend; }

    public boolean recording() { return recording; }

    /** Registers a tensor for release at close (saved statistics, temporaries). */
    public Tensor own(Tensor t) {
        if (t != null) owned.add(t);
        return t;
    }

    /** The number of tensors the tape owns now. */
    public int mark() { return owned.size(); }

    /**
     * A region of a forward pass (a block, a stage). In inference (a tape that does not record)
     * its close frees every tensor produced inside it except the one passed to {@link Scope#keep},
     * then the values of {@code consumed} (inputs the region was the last to read, such as the
     * skip connection an Up stage takes), so a forward pass holds only the live activations
     * instead of all of them. A recording tape keeps everything for backward: close does nothing.
     * <pre>
     *   try (Tape.Scope s = t.scope(low, skip)) {
     *       ...
     *       return s.keep(y);
     *   }
     * </pre>
     */
    public Scope scope(Var... consumed) { return new Scope(owned.size(), consumed); }

    /** See {@link #scope}. */
    public final class Scope implements AutoCloseable {
        private final int mark;
        private final Var[] consumed;
        private Var kept;

        private Scope(int mark, Var[] consumed) {
            this.mark = mark;
            this.consumed = consumed;
        }

        /** The region's result, which outlives it; returns {@code v}. */
        public Var keep(Var v) {
            kept = v;
            return v;
        }

        @Override public void close() {
            if (recording) return;
            Tensor keep = kept == null ? null : kept.value;
            boolean found = false;
            for (int i = owned.size() - 1; i >= mark; i--) {
                Tensor t = owned.remove(i);
                if (t == keep) found = true;
                else backend.release(t);
            }
            if (found) owned.add(keep);
            for (Var v : consumed) if (v != null && v.value != keep) release(v.value);
        }
    }

    /** Frees {@code t} now if this tape owns it. */
    private void release(Tensor t) {
        for (int i = owned.size() - 1; i >= 0; i--) {
            if (owned.get(i) == t) {
                backend.release(owned.remove(i));
                return;
            }
        }
    }

    /** Wraps an op's result; records its backward if recording and any input needs a gradient. */
    public Var record(Tensor value, Backward backward, Var... inputs) {
        own(value);
        boolean needs = false;
        if (recording) for (Var v : inputs) needs |= v != null && v.requiresGrad;
        Var out = Var.result(value, needs);
        if (needs) nodes.add(new Node(out, backward));
        return out;
    }

    /**
     * The tensor a backward op may add v's gradient into ({@code Backend.*Into}): v's gradient
     * when it already has one (a parameter's slice of the flat gradient, or an activation used
     * twice whose other use ran backward first), else null (the op computes it fresh).
     */
    public Tensor gradSink(Var v) { return v != null && v.requiresGrad ? v.grad : null; }

    /**
     * Adds {@code g} into v's gradient (taking ownership of g); ignores variables without grad.
     * {@code g} may be v's gradient itself, returned by an op that added into {@link #gradSink}.
     */
    public void accumulate(Var v, Tensor g) {
        if (g == null) return;
        if (v != null && v.requiresGrad && g == v.grad) return;   // added in place by the op
        if (v == null || !v.requiresGrad) {
            backend.release(g);
            return;
        }
        if (v.grad == null) {
            v.grad = g;
            owned.add(g);
        } else {
            backend.addInPlace(v.grad, g);
            backend.release(g);
        }
    }

    /** Back-propagates from {@code out} given d loss / d out (the tape takes ownership of it). */
    public void backward(Var out, Tensor gradOut) {
        if (!recording) throw new IllegalStateException("backward on a tape that did not record");
        accumulate(out, gradOut);
        for (int i = nodes.size() - 1; i >= 0; i--) {
            Node n = nodes.get(i);
            Tensor g = n.out.grad;
            if (g == null) continue;           // output did not reach the loss
            n.backward.apply(g);
            // intermediate gradients are no longer needed once propagated
            if (!n.out.persistentGrad) {
                n.out.grad = null;
                owned.remove(g);
                backend.release(g);
            }
        }
        nodes.clear();
    }

    @Override public void close() {
        for (Tensor t : owned) backend.release(t);
        owned.clear();
        nodes.clear();
    }
}
