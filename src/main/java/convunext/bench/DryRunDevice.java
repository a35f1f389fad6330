package convunext.bench;

import convunext.backend.cuda.CudaError;
import convunext.backend.cuda.Device;
import convunext.backend.cuda.KernelArgs;
import convunext.backend.cuda.Kernels;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * A {@link Device} that executes nothing and records every launch, memset and device copy: with
 * the CUDA backend's Java launchers on top, one training step at any shape (the reference shape
 * included, which the emulator could not run in CI time) yields the exact launch log a GPU would
 * get, in milliseconds. Memory is fake addresses (never dereferenced); reads return zeros, so no
 * value computed on it means anything — only the sequence of work does. StepPredictionTest checks
 * that the log matches the emulator's for the same step at a small shape.
 */
public final class DryRunDevice implements Device {
    /** One recorded call: a launch (kernel != null) or a memset / device copy of {@code bytes}. */
    public record Call(String kernel, int[] grid, int[] block, int shared, KernelArgs args, String memOp, long bytes) {}

    private final List<Call> log = new ArrayList<>();
    private boolean recording;
    private long next = 1L << 40;
    private long live;

    /** Starts keeping calls (everything before, e.g. a warm-up step, is dropped). */
    public void record() { log.clear(); recording = true; }

    /** The calls since {@link #record}, and stops recording. */
    public List<Call> stop() {
        recording = false;
        return List.copyOf(log);
    }

    @Override public String kind() { return "dry-run"; }
    @Override public String describe() { return "dry run (nothing executes; launches recorded)"; }

    @Override public long malloc(long bytes) {
        long a = next;
        next += (bytes + 511) / 256 * 256;
        live += bytes;
        return a;
    }

    @Override public void free(long ptr) {}
    @Override public void copyHtoD(long dst, float[] src, int srcOff, int count) {}
    @Override public void copyDtoH(float[] dst, int dstOff, long src, int count) { java.util.Arrays.fill(dst, dstOff, dstOff + count, 0f); }

    @Override public void copyDtoD(long dst, long src, long bytes) {
        if (recording) log.add(new Call(null, null, null, 0, null, "copy", bytes));
    }

    @Override public void memset(long ptr, int value, long bytes) {
        if (recording) log.add(new Call(null, null, null, 0, null, "memset", bytes));
    }

    @Override public long hostAlloc(long bytes) { return 1; }
    @Override public void hostWrite(long host, long byteOffset, float[] src, int srcOff, int count) {}
    @Override public void hostFree(long host) {}
    @Override public void copyHostToDevice(long dst, long host, long hostOffset, long bytes) {}

    @Override public Set<String> kernelNames() { return Set.copyOf(Kernels.NAMES); }

    @Override public void launch(String kernel, int[] grid, int[] block, int sharedBytes, KernelArgs args) {
        if (!Kernels.NAMES.contains(kernel)) throw new CudaError("launch: no kernel named '" + kernel + "'");
        if (recording) log.add(new Call(kernel, grid.clone(), block.clone(), sharedBytes, args.copy(), null, 0));
    }

    @Override public void synchronize() {}
    @Override public long[] memInfo() { return new long[]{1L << 40, 1L << 40}; }
    @Override public long eventCreate() { return 1; }
    @Override public void eventRecord(long event) {}
    @Override public void eventSynchronize(long event) {}
    @Override public float eventElapsedMs(long start, long end) { return 0; }
    @Override public void eventDestroy(long event) {}
    @Override public long graphCapture(Runnable issue) { throw new CudaError("graphCapture: not on a dry run"); }
    @Override public void graphLaunch(long graph) {}
    @Override public void graphDestroy(long graph) {}
    @Override public void close() {}
}
