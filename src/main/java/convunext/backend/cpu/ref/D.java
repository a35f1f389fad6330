package convunext.backend.cpu.ref;

import java.util.Arrays;
import java.util.Random;

/**
 * A tiny dense float64 tensor for the oracle: {@code data} is row-major over {@code shape}
 * (NCHW for images, so (n,c,y,x) of [N,C,H,W] is at ((n*C+c)*H+y)*W+x). Public fields on
 * purpose: the Ref* ops are plain loops over {@code data}.
 */
public final class D {
    public final double[] data;
    public final int[] shape;

    /** Zeros of the given shape. */
    public D(int... shape) {
        this(new double[checkedNumel(shape)], shape);
    }

    /** Wraps {@code data} (not copied); its length must equal the product of {@code shape}. */
    public D(double[] data, int... shape) {
        if (data.length != checkedNumel(shape))
            throw new IllegalArgumentException("D: " + data.length + " values for shape " + Arrays.toString(shape));
        this.data = data;
        this.shape = shape.clone();
    }

    private static int checkedNumel(int[] shape) {
        long n = 1;
        for (int d : shape) {
            if (d < 0) throw new IllegalArgumentException("D: negative dimension in " + Arrays.toString(shape));
            n *= d;
        }
        if (n > Integer.MAX_VALUE) throw new IllegalArgumentException("D: too large: " + Arrays.toString(shape));
        return (int) n;
    }

    public static D zeros(int... shape) { return new D(shape); }

    /** Uniform values in [lo, hi). */
    public static D uniform(Random rnd, double lo, double hi, int... shape) {
        D d = new D(shape);
        for (int i = 0; i < d.data.length; i++) d.data[i] = lo + (hi - lo) * rnd.nextDouble();
        return d;
    }

    /** Standard normal values. */
    public static D randn(Random rnd, int... shape) {
        D d = new D(shape);
        for (int i = 0; i < d.data.length; i++) d.data[i] = rnd.nextGaussian();
        return d;
    }

    /** Widens {@code numel(shape)} floats of {@code a} starting at {@code off}. */
    public static D fromFloats(float[] a, int off, int... shape) {
        D d = new D(shape);
        for (int i = 0; i < d.data.length; i++) d.data[i] = a[off + i];
        return d;
    }

    /** Rounds to float32 (nearest). */
    public float[] toFloats() {
        float[] f = new float[data.length];
        for (int i = 0; i < f.length; i++) f[i] = (float) data[i];
        return f;
    }

    public int numel() { return data.length; }
    public int rank() { return shape.length; }
    public int dim(int i) { return shape[i < 0 ? shape.length + i : i]; }

    public D copy() { return new D(data.clone(), shape); }

    public boolean sameShape(D o) { return Arrays.equals(shape, o.shape); }

    /** Flat index of (n,c,y,x) in a rank-4 tensor. */
    public int idx(int n, int c, int y, int x) {
        return ((n * shape[1] + c) * shape[2] + y) * shape[3] + x;
    }

    public double get(int n, int c, int y, int x) { return data[idx(n, c, y, x)]; }

    public void set(int n, int c, int y, int x, double v) { data[idx(n, c, y, x)] = v; }

    /** Σ this⊙o (same number of elements). */
    public double dot(D o) {
        if (o.data.length != data.length) throw new IllegalArgumentException("D.dot: " + this + " vs " + o);
        double s = 0;
        for (int i = 0; i < data.length; i++) s += data[i] * o.data[i];
        return s;
    }

    /** max |this − o| (same number of elements). */
    public double maxAbsDiff(D o) {
        if (o.data.length != data.length) throw new IllegalArgumentException("D.maxAbsDiff: " + this + " vs " + o);
        double m = 0;
        for (int i = 0; i < data.length; i++) m = Math.max(m, Math.abs(data[i] - o.data[i]));
        return m;
    }

    public String shapeString() { return Arrays.toString(shape); }

    @Override public String toString() { return "D" + Arrays.toString(shape); }

    // ------------------------------------------------------------------ checks (shapes: OpShapes)

    static void require(boolean ok, String op, String what) {
        if (!ok) throw new IllegalArgumentException(op + ": " + what);
    }
}
