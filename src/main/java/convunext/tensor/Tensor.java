package convunext.tensor;

import java.util.Arrays;

/**
 * A float32 tensor owned by one backend (its {@link Owner}).
 *
 * <p>Layout: dense, row-major over {@code shape}; image tensors are NCHW (batch, channel, row,
 * column), so element (n,c,y,x) of an [N,C,H,W] tensor sits at
 * {@code offset + ((n*C + c)*H + y)*W + x}. Parameters keep their PyTorch state_dict shapes
 * (conv weight [Co,Ci,kh,kw], Linear weight [out,in]).
 *
 * <p>{@code storage} is backend-specific: a {@code float[]} on the CPU, a device buffer on CUDA
 * (real or emulated). {@code offset} (in elements) lets a tensor be a view into a larger buffer,
 * as parameters and gradients are views into one flat buffer for the fused AdamW.
 */
public final class Tensor {
    private final Owner owner;
    private final Object storage;
    private final long offset;
    private final int[] shape;
    private final long numel;

    public Tensor(Owner owner, Object storage, long offset, int... shape) {
        this.owner = owner;
        this.storage = storage;
        this.offset = offset;
        this.shape = shape.clone();
        long n = 1;
        for (int d : shape) {
            if (d < 0) throw new IllegalArgumentException("negative dimension in shape " + Arrays.toString(shape));
            n *= d;
        }
        this.numel = n;
    }

    /** The backend that made this tensor (compare by identity). */
    public Owner owner() { return owner; }
    public Object storage() { return storage; }
    public long offset() { return offset; }
    public int[] shape() { return shape.clone(); }
    public int rank() { return shape.length; }
    public int dim(int i) { return shape[i < 0 ? shape.length + i : i]; }
    public long numel() { return numel; }
    /** numel as int, for CPU arrays (throws if the tensor is larger than 2^31-1 elements). */
    public int size() {
        if (numel > Integer.MAX_VALUE) throw new IllegalStateException("tensor too large for int indexing: " + this);
        return (int) numel;
    }

    /** CPU storage; throws if this tensor lives elsewhere. */
    public float[] array() {
        if (!(storage instanceof float[] a)) throw new IllegalStateException("tensor is not on the CPU: " + this);
        return a;
    }

    /** Offset as int for CPU arrays. */
    public int off() { return (int) offset; }

    /** Product of the dimensions from index {@code from} to the end (e.g. H*W for NCHW from=2). */
    public int spatial(int from) {
        long n = 1;
        for (int i = from; i < shape.length; i++) n *= shape[i];
        return (int) n;
    }

    public boolean sameShape(Tensor o) { return Arrays.equals(shape, o.shape); }

    public String shapeString() { return Arrays.toString(shape); }

    @Override public String toString() { return "Tensor" + Arrays.toString(shape) + "@" + owner.name(); }
}
