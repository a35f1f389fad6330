package convunext.backend.cpu.ref;

import convunext.backend.OpShapes;

/** a + b and dst += src in float64, mirroring {@code Backend.add/addInPlace}. */
public final class RefAdd {
    private RefAdd() {}

    /** a + b (same shape). Its backward is the identity for both inputs. */
    public static D add(D a, D b) {
        OpShapes.add(a.shape, b.shape);
        D y = new D(a.shape);
        for (int i = 0; i < y.data.length; i++) y.data[i] = a.data[i] + b.data[i];
        return y;
    }

    /** dst ← dst + src, in place (same number of elements). */
    public static void addInPlace(D dst, D src) {
        OpShapes.addInPlace(dst.shape, src.shape);
        for (int i = 0; i < dst.data.length; i++) dst.data[i] += src.data[i];
    }
}
