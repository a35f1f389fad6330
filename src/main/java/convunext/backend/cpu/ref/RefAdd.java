package convunext.backend.cpu.ref;

/** a + b and dst += src in float64, mirroring {@code Backend.add/addInPlace}. */
public final class RefAdd {
    private RefAdd() {}

    /** a + b (same shape). Its backward is the identity for both inputs. */
    public static D add(D a, D b) {
        D.same("add", a, b);
        D y = new D(a.shape);
        for (int i = 0; i < y.data.length; i++) y.data[i] = a.data[i] + b.data[i];
        return y;
    }

    /** dst ← dst + src, in place (same number of elements). */
    public static void addInPlace(D dst, D src) {
        D.require(dst.numel() == src.numel(), "addInPlace", "sizes differ: " + dst.shapeString() + " vs " + src.shapeString());
        for (int i = 0; i < dst.data.length; i++) dst.data[i] += src.data[i];
    }
}
