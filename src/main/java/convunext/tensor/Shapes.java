package convunext.tensor;

import java.util.Arrays;

/** Shape checks shared by every backend: a mismatch names the op and both shapes. */
public final class Shapes {
    private Shapes() {}

    public static void require(boolean ok, String op, String what) {
        if (!ok) throw new IllegalArgumentException(op + ": " + what);
    }

    public static void rank(String op, String name, Tensor t, int rank) {
        if (t.rank() != rank)
            throw new IllegalArgumentException(op + ": " + name + " must have rank " + rank + ", got " + t.shapeString());
    }

    public static void same(String op, Tensor a, Tensor b) {
        if (!a.sameShape(b))
            throw new IllegalArgumentException(op + ": shapes differ: " + a.shapeString() + " vs " + b.shapeString());
    }

    public static void shape(String op, String name, Tensor t, int... expected) {
        if (!Arrays.equals(t.shape(), expected))
            throw new IllegalArgumentException(op + ": " + name + " must be " + Arrays.toString(expected) + ", got " + t.shapeString());
    }

    public static long numel(int... shape) {
        long n = 1;
        for (int d : shape) n *= d;
        return n;
    }
}
