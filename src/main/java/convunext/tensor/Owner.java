package convunext.tensor;

/**
 * What a {@link Tensor} belongs to: the backend that made it (convunext.backend.Backend extends
 * this), seen from here only as a name, so that tensor does not depend on backend. Backends check
 * ownership by identity ({@code t.owner() == this}).
 */
public interface Owner {
    /** Short name for messages: "cpu", "cuda", "emulated", "ref". */
    String name();
}
