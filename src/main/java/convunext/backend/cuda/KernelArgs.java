package convunext.backend.cuda;

/**
 * Kernel arguments in declaration order, each an 8-byte slot tagged with its C type: a device
 * pointer (64-bit address), an int (32-bit, in the low half), a long long (64-bit) or a float (its
 * bits in the low half). Both devices marshal from this one description, so a launch reads the same
 * on the GPU and the emulator. Primitive arrays, no boxing: the generated {@link Kernels} builders
 * fill one per launch.
 */
public final class KernelArgs {
    public enum Kind {
        PTR('P'), I32('I'), I64('L'), F32('F');
        /** The letter the emulator's kernel table uses for this kind. */
        public final char code;
        Kind(char code) { this.code = code; }
    }

    private static final Kind[] KINDS = Kind.values();
    private long[] slots = new long[16];
    private byte[] kinds = new byte[16];
    private int n;

    private KernelArgs add(Kind k, long slot) {
        if (n == slots.length) {
            slots = java.util.Arrays.copyOf(slots, 2 * n);
            kinds = java.util.Arrays.copyOf(kinds, 2 * n);
        }
        slots[n] = slot;
        kinds[n++] = (byte) k.ordinal();
        return this;
    }

    public KernelArgs ptr(long address) { return add(Kind.PTR, address); }
    public KernelArgs i32(int v) { return add(Kind.I32, v & 0xFFFFFFFFL); }
    public KernelArgs i64(long v) { return add(Kind.I64, v); }
    public KernelArgs f32(float v) { return add(Kind.F32, Float.floatToRawIntBits(v) & 0xFFFFFFFFL); }

    /** Empties the list, for reuse. */
    public KernelArgs clear() { n = 0; return this; }

    public int size() { return n; }
    public Kind kind(int i) { return KINDS[kinds[check(i)]]; }
    /** The raw 8-byte slot of argument i (a 4-byte kind in the low half). */
    public long slot(int i) { return slots[check(i)]; }

    /** The value of argument i as its Java type (for messages). */
    public Number value(int i) {
        long s = slot(i);
        switch (kind(i)) {
            case I32: return (int) s;
            case F32: return Float.intBitsToFloat((int) s);
            default: return s;
        }
    }

    /** One letter per argument (P, I, L, F): the form of the emulator's kernel table and Kernels.KINDS. */
    public String kinds() {
        char[] c = new char[n];
        for (int i = 0; i < n; i++) c[i] = KINDS[kinds[i]].code;
        return new String(c);
    }

    /** Whether both hold the same kinds and slots (the same launch arguments, bit for bit). */
    public boolean sameAs(KernelArgs o) {
        if (o.n != n) return false;
        for (int i = 0; i < n; i++) if (o.slots[i] != slots[i] || o.kinds[i] != kinds[i]) return false;
        return true;
    }

    /** A copy (a graph keeps the arguments it captured). */
    public KernelArgs copy() {
        KernelArgs c = new KernelArgs();
        c.slots = java.util.Arrays.copyOf(slots, Math.max(n, 1));
        c.kinds = java.util.Arrays.copyOf(kinds, Math.max(n, 1));
        c.n = n;
        return c;
    }

    long[] rawSlots() { return slots; }

    /** Kind letters as bytes ('P', 'I', 'L', 'F'), for the emulator's JNI entry. */
    byte[] kindCodes() {
        byte[] c = new byte[n];
        for (int i = 0; i < n; i++) c[i] = (byte) KINDS[kinds[i]].code;
        return c;
    }

    private int check(int i) {
        if (i < 0 || i >= n) throw new IndexOutOfBoundsException("argument " + i + " of " + n);
        return i;
    }

    @Override public String toString() {
        StringBuilder b = new StringBuilder("(");
        for (int i = 0; i < n; i++) {
            if (i > 0) b.append(", ");
            Number v = value(i);
            b.append(kind(i).name().toLowerCase()).append(' ');
            if (kind(i) == Kind.PTR) b.append("0x").append(Long.toHexString(v.longValue()));
            else b.append(v);
        }
        return b.append(')').toString();
    }
}
