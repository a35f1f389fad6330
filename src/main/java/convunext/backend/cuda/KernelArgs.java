package convunext.backend.cuda;

import java.util.ArrayList;
import java.util.List;

/**
 * Kernel arguments in declaration order, each tagged with its C type: a device pointer
 * (64-bit address), an int (32-bit), a long long (64-bit) or a float (32-bit). Both devices
 * marshal from this one description, so a launch reads the same on the GPU and the emulator.
 */
public final class KernelArgs {
    public enum Kind { PTR, I32, I64, F32 }

    private final List<Kind> kinds = new ArrayList<>();
    private final List<Number> values = new ArrayList<>();

    public KernelArgs ptr(long address) { kinds.add(Kind.PTR); values.add(address); return this; }
    public KernelArgs i32(int v) { kinds.add(Kind.I32); values.add(v); return this; }
    public KernelArgs i64(long v) { kinds.add(Kind.I64); values.add(v); return this; }
    public KernelArgs f32(float v) { kinds.add(Kind.F32); values.add(v); return this; }

    public int size() { return kinds.size(); }
    public Kind kind(int i) { return kinds.get(i); }
    public Number value(int i) { return values.get(i); }

    @Override public String toString() {
        StringBuilder b = new StringBuilder("(");
        for (int i = 0; i < kinds.size(); i++) {
            if (i > 0) b.append(", ");
            b.append(kinds.get(i).name().toLowerCase()).append(' ').append(values.get(i));
        }
        return b.append(')').toString();
    }
}
