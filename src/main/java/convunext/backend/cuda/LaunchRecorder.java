package convunext.backend.cuda;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Records launches the Java tests make on the emulator (kernel, grid, block, arguments, and the
 * bytes of every buffer an argument points into, before and after), so that kernels/emu/asan.sh
 * replays exactly those launches, with exactly those geometries and inputs, under AddressSanitizer
 * and UBSan and checks the same outputs bit for bit: the launch geometry lives in the Java
 * launchers only, and the C++ side never re-derives it.
 *
 * <p>On with {@code -Dconvunext.emu.record=DIR} (the pom sets it for {@code mvn test}). At most
 * {@link #PER_KERNEL} launches of each kernel and {@link #MAX_BYTES} of buffers per launch are kept
 * (the first ones the tests make); selftest_* kernels are left to the emulator's own C++ checks.
 * Each buffer is exactly the extent the launcher declared for the argument (the tensor, or the
 * workspace as requested: {@link #extents}), else the rest of its allocation, so ASan reports an
 * access past the end of what the launcher meant the kernel to touch. A file per launch,
 * {@code <kernel>.<i>.launch}; the format is read by kernels/emu/replay.cpp.
 */
final class LaunchRecorder {
    static final int PER_KERNEL = 2;
    static final long MAX_BYTES = 8L << 20;
    private static final int VERSION = 1;

    private final Path dir;
    private final Map<String, Integer> counts = new HashMap<>();
    /** {start, bytes} pairs of the buffers the next launch's arguments point to (set by the Launcher). */
    private long[] extents;

    private LaunchRecorder(Path dir) { this.dir = dir; }

    /** The recorder -Dconvunext.emu.record asks for, or null. */
    static LaunchRecorder fromProperty() {
        String d = System.getProperty("convunext.emu.record");
        if (d == null || d.isBlank()) return null;
        try {
            Path p = Paths.get(d);
            Files.createDirectories(p);
            return new LaunchRecorder(p);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create the launch-recording folder " + d, e);
        }
    }

    /** The extents of the next launch's buffers as {start, bytes, start, bytes, ...}. */
    synchronized void extents(long[] startAndBytes) { extents = startAndBytes; }

    /** The state of one launch's buffers before it runs. */
    static final class Snapshot {
        final String kernel;
        final int[] grid, block;
        final int shared;
        final KernelArgs args;
        final long[] regionStart, regionBytes;
        final int[] argRegion;
        final long[] argOffset;
        final byte[][] before;

        Snapshot(String kernel, int[] grid, int[] block, int shared, KernelArgs args, long[] rs, long[] rb, int[] ar,
                 long[] ao, byte[][] before) {
            this.kernel = kernel;
            this.grid = grid;
            this.block = block;
            this.shared = shared;
            this.args = args;
            this.regionStart = rs;
            this.regionBytes = rb;
            this.argRegion = ar;
            this.argOffset = ao;
            this.before = before;
        }
    }

    /** Null when this launch is not recorded; else its buffers as they are now. */
    synchronized Snapshot before(String kernel, int[] grid, int[] block, int shared, KernelArgs args) {
        long[] ext = extents;
        extents = null;
        if (kernel.startsWith("selftest_") || counts.getOrDefault(kernel, 0) >= PER_KERNEL) return null;
        int n = args.size();
        List<long[]> ranges = new ArrayList<>();   // {start, end} per pointer argument
        int[] argRange = new int[n];
        for (int i = 0; i < n; i++) {
            argRange[i] = -1;
            if (args.kind(i) != KernelArgs.Kind.PTR || args.slot(i) == 0) continue;
            long p = args.slot(i), end = -1;
            if (ext != null)
                for (int e = 0; e + 1 < ext.length; e += 2)
                    if (p >= ext[e] && p < ext[e] + ext[e + 1]) { end = ext[e] + ext[e + 1]; break; }
            if (end < 0) {
                long[] a = EmuNative.allocation(p);
                if (a == null) return null;   // not in an allocation: the launch itself will refuse it
                end = a[0] + a[1];
            }
            argRange[i] = ranges.size();
            ranges.add(new long[]{p, end});
        }
        // Overlapping ranges (in-place ops, views of one tensor) become one region.
        List<long[]> regions = new ArrayList<>();
        int[] rangeRegion = new int[ranges.size()];
        for (int r = 0; r < ranges.size(); r++) rangeRegion[r] = -1;
        for (int r = 0; r < ranges.size(); r++) {
            if (rangeRegion[r] >= 0) continue;
            long s = ranges.get(r)[0], e = ranges.get(r)[1];
            int id = regions.size();
            rangeRegion[r] = id;
            for (boolean grew = true; grew; ) {
                grew = false;
                for (int q = 0; q < ranges.size(); q++) {
                    long[] o = ranges.get(q);
                    if (rangeRegion[q] < 0 && o[0] < e && s < o[1]) {
                        s = Math.min(s, o[0]);
                        e = Math.max(e, o[1]);
                        rangeRegion[q] = id;
                        grew = true;
                    }
                }
            }
            regions.add(new long[]{s, e});
        }
        long total = 0;
        for (long[] r : regions) total += r[1] - r[0];
        if (total > MAX_BYTES) return null;
        long[] rs = new long[regions.size()], rb = new long[regions.size()];
        byte[][] before = new byte[regions.size()][];
        for (int r = 0; r < regions.size(); r++) {
            rs[r] = regions.get(r)[0];
            rb[r] = regions.get(r)[1] - rs[r];
            before[r] = EmuNative.readBytes(rs[r], (int) rb[r]);
        }
        int[] ar = new int[n];
        long[] ao = new long[n];
        for (int i = 0; i < n; i++) {
            ar[i] = argRange[i] < 0 ? -1 : rangeRegion[argRange[i]];
            ao[i] = ar[i] < 0 ? 0 : args.slot(i) - rs[ar[i]];
        }
        return new Snapshot(kernel, grid.clone(), block.clone(), shared, args.copy(), rs, rb, ar, ao, before);
    }

    /** The launch ran: writes its file with the buffers' new contents. */
    synchronized void after(Snapshot s) {
        int i = counts.getOrDefault(s.kernel, 0);
        if (i >= PER_KERNEL) return;
        counts.put(s.kernel, i + 1);
        int nr = s.regionStart.length, n = s.args.size();
        byte[][] afterBytes = new byte[nr][];
        long size = 64 + s.kernel.length() + 9L * n + 12L * n + 8L * nr;
        for (int r = 0; r < nr; r++) {
            afterBytes[r] = EmuNative.readBytes(s.regionStart[r], (int) s.regionBytes[r]);
            size += 2 * s.regionBytes[r];
        }
        ByteBuffer b = ByteBuffer.allocate((int) size).order(ByteOrder.LITTLE_ENDIAN);
        b.put("CXLR".getBytes(StandardCharsets.US_ASCII)).putInt(VERSION);
        byte[] name = s.kernel.getBytes(StandardCharsets.US_ASCII);
        b.putShort((short) name.length).put(name);
        for (int d = 0; d < 3; d++) b.putInt(s.grid[d]);
        for (int d = 0; d < 3; d++) b.putInt(s.block[d]);
        b.putInt(s.shared).putInt(n);
        b.put(s.args.kinds().getBytes(StandardCharsets.US_ASCII));
        for (int a = 0; a < n; a++) b.putLong(s.args.slot(a));
        b.putInt(nr);
        for (int r = 0; r < nr; r++) b.putLong(s.regionBytes[r]);
        for (int a = 0; a < n; a++) b.putInt(s.argRegion[a]).putLong(s.argOffset[a]);
        for (int r = 0; r < nr; r++) b.put(s.before[r]);
        for (int r = 0; r < nr; r++) b.put(afterBytes[r]);
        int len = b.position();
        convunext.io.AtomicFiles.write(dir.resolve(s.kernel + "." + i + ".launch"), out -> out.write(b.array(), 0, len));
    }
}
