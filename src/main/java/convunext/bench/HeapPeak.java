package convunext.bench;

import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;

/**
 * JVM heap high-water mark from the memory pools' peak usage. The sum of the per-pool peaks can
 * exceed the true simultaneous peak (pools peak at different moments) and includes garbage not
 * yet collected; it is the number a -Xmx must accommodate, not the live set.
 */
public final class HeapPeak {
    private HeapPeak() {}

    public static void reset() {
        for (MemoryPoolMXBean p : ManagementFactory.getMemoryPoolMXBeans())
            if (p.getType() == MemoryType.HEAP) p.resetPeakUsage();
    }

    public static long peakBytes() {
        long sum = 0;
        for (MemoryPoolMXBean p : ManagementFactory.getMemoryPoolMXBeans())
            if (p.getType() == MemoryType.HEAP) sum += p.getPeakUsage().getUsed();
        return sum;
    }
}
