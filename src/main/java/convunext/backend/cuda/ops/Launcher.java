package convunext.backend.cuda.ops;

import convunext.backend.Backend;
import convunext.backend.Precision;
import convunext.backend.cuda.CudaError;
import convunext.backend.cuda.Device;
import convunext.backend.cuda.DeviceBuffer;
import convunext.backend.cuda.DevicePool;
import convunext.backend.cuda.EmulatedDevice;
import convunext.backend.cuda.StepGraphs;
import convunext.backend.cuda.KernelArgs;
import convunext.backend.cuda.Kernels;
import convunext.tensor.Tensor;
import java.util.Arrays;

/**
 * What every op launcher shares: the device, the pool, tensor addresses, workspaces and a
 * checked launch. A launch is written with the generated, typed {@link Kernels} facade:
 * <pre>{@code
 * Kernels.gelu_forward(k.at(op, new Tensor[]{x}, Launcher.grid1D(n), Launcher.block1D(), 0))
 *         .x(k.ptr(x)).y(k.ptr(y)).n(n).launch();
 * }</pre>
 * A failing launch is rethrown as a {@link CudaError} naming the op, the kernel, the geometry,
 * the arguments and the shapes of the tensors involved. With -Dconvunext.cuda.sync=true (or
 * CONVUNEXT_CUDA_SYNC=1) every launch is followed by a synchronise, so an asynchronous fault is
 * reported by the launch that caused it.
 */
public final class Launcher {
    /** Threads of the 1-D kernels (kernels/geometry.h CU_THREADS). */
    public static final int THREADS = Kernels.CU_THREADS;
    private static final int MAX_GRID_YZ = 65535;

    private final Backend backend;
    private final Device device;
    private final DevicePool pool;
    private final StepGraphs queue;
    private final EmulatedDevice recording;   // the emulator when it records launches for the ASan replay
    private final java.util.Map<Long, Long> workspaceBytes = new java.util.HashMap<>();   // while recording
    private final boolean syncEach;
    private final String suffix;   // "" (fp32) or "_tf32" / "_bf16"
    private final java.util.Map<String, String> variants = new java.util.HashMap<>();
    private long launches;

    /**
     * {@code queue}: where launches, memsets and copies go (passed on to the device, or recorded
     * and compared for CUDA Graphs; see {@link StepGraphs}).
     */
    public Launcher(Backend backend, DevicePool pool, StepGraphs queue, Precision precision) {
        this.backend = backend;
        this.device = queue.device();
        this.pool = pool;
        this.queue = queue;
        this.recording = device instanceof EmulatedDevice e && e.recording() ? e : null;
        this.suffix = precision == Precision.FP32 ? "" : "_" + precision;
        this.syncEach = Boolean.getBoolean("convunext.cuda.sync") || "1".equals(System.getenv("CONVUNEXT_CUDA_SYNC"));
    }

    /** The kernel launched for {@code kernel} in this precision: its _tf32/_bf16 form where one exists. */
    public String variant(String kernel) {
        if (suffix.isEmpty()) return kernel;
        return variants.computeIfAbsent(kernel, n -> device.hasKernel(n + suffix) ? n + suffix : n);
    }

    /** How many kernels of this build have a form in this precision (0 for fp32). */
    public int tensorCoreKernels() {
        if (suffix.isEmpty()) return 0;
        int n = 0;
        for (String name : device.kernelNames()) if (name.endsWith(suffix)) n++;
        return n;
    }

    public Device device() { return device; }

    /** Sets bytes to 0, queued in order with the launches. */
    public void memsetZero(long ptr, long bytes) { queue.memset(ptr, 0, bytes); }

    /** A device-to-device copy, queued in order with the launches. */
    public void copyDtoD(long dst, long src, long bytes) { queue.copyDtoD(dst, src, bytes); }

    /** A copy from a Java array, queued in order (inside a step scope through a pinned staging buffer). */
    public void copyHtoD(long dst, float[] src, int off, int count) { queue.copyHtoD(dst, src, off, count); }

    /** Waits for everything queued, then copies to the host (inside a step scope this ends its capture). */
    public void copyDtoH(float[] dst, int off, long src, int count) {
        queue.needResults("a copy to the host");
        device.copyDtoH(dst, off, src, count);
    }

    public DevicePool pool() { return pool; }

    public long launches() { return launches; }

    /** Device address of the first element of {@code t}. */
    public long ptr(Tensor t) {
        if (t.owner() != backend)
            throw new IllegalArgumentException("tensor " + t + " belongs to another backend than " + backend.name());
        DeviceBuffer b = (DeviceBuffer) t.storage();
        return b.address() + t.offset() * 4L;
    }

    /** Address or 0 (a null pointer argument) for an absent tensor. */
    public long ptrOrNull(Tensor t) { return t == null ? 0L : ptr(t); }

    /** A fresh tensor of this backend (contents undefined). */
    public Tensor empty(int... shape) {
        long n = 1;
        for (int d : shape) n *= d;
        DeviceBuffer b = pool.allocate(Math.max(4L, n * 4L));
        return new Tensor(backend, b, 0, shape);
    }

    public Tensor zeros(int... shape) {
        Tensor t = empty(shape);
        if (t.numel() > 0) device.memsetZero(ptr(t), t.numel() * 4L);
        return t;
    }

    /** A scratch buffer of {@code floats} floats (doubles take two); give it back with {@link #free}. */
    public DeviceBuffer workspace(long floats) {
        DeviceBuffer b = pool.allocate(Math.max(4L, floats * 4L));
        if (recording != null) workspaceBytes.put(b.address(), Math.max(4L, floats * 4L));
        return b;
    }

    /** A buffer of {@code floats} floats kept for the backend's life (see {@link DevicePool#allocatePersistent}). */
    public DeviceBuffer persistent(long floats) { return pool.allocatePersistent(Math.max(4L, floats * 4L)); }

    public void free(DeviceBuffer b) {
        if (recording != null) workspaceBytes.remove(b.address());
        pool.release(b);
    }

    /** Gives a tensor of this backend back to the pool (as Backend.release). */
    public void release(Tensor t) { backend.release(t); }

    /**
     * dst += src (elementwise.cu's add_forward_inplace), for the rare paths where the kernel that
     * computes a gradient cannot add it in place (cuBLAS products, the convolution's gather).
     */
    public void addInPlace(String op, Tensor dst, Tensor src) {
        if (dst.numel() != src.numel())
            throw new IllegalArgumentException(op + ": add into " + dst.shapeString() + " from " + src.shapeString());
        if (dst.numel() > 0)
            Kernels.add_forward_inplace(at(op, new Tensor[]{dst, src}, grid1D(dst.numel()), block1D(), 0))
                    .dst(ptr(dst)).src(ptr(src)).n(dst.numel()).launch();
    }

    public static int ceilDiv(long a, long b) {
        long r = (a + b - 1) / b;
        if (r > Integer.MAX_VALUE) throw new IllegalArgumentException("grid too large: " + a + "/" + b);
        return (int) r;
    }

    /**
     * {m, s} with n / d == (n * (m as unsigned)) >>> s for every 0 <= n < 2^31 (kernels' CuFastDiv,
     * gemm_tile.cuh): l = ceil(log2 d), m = ceil(2^(31+l) / d), s = 31 + l (Granlund and
     * Montgomery, PLDI 1994, theorem 4.2 with N = 31).
     */
    public static int[] fastDiv(int d) {
        if (d < 1) throw new IllegalArgumentException("divisor " + d);
        int l = 32 - Integer.numberOfLeadingZeros(d - 1);   // ceil(log2 d)
        java.math.BigInteger num = java.math.BigInteger.ONE.shiftLeft(31 + l);
        java.math.BigInteger[] qr = num.divideAndRemainder(java.math.BigInteger.valueOf(d));
        long m = qr[0].longValueExact() + (qr[1].signum() != 0 ? 1 : 0);
        if (m >= 1L << 32) throw new IllegalStateException("fastDiv multiplier overflow for " + d);
        return new int[]{(int) m, 31 + l};
    }

    /** 1-D grid for a grid-stride loop over n elements. */
    public static int[] grid1D(long n) {
        return new int[]{Math.max(1, Math.min(ceilDiv(n, THREADS), Kernels.CU_GRID_STRIDE_MAX_BLOCKS)), 1, 1};
    }

    public static int[] block1D() { return new int[]{THREADS, 1, 1}; }

    /**
     * Chunks per image for the two-level channel reductions over [N, C, P]: enough blocks
     * (N*cpi*C, about 1024) to fill the GPU, but at least 64 pixels per chunk.
     * Returns {cpi, L} with cpi*L >= P.
     */
    public static int[] chunks(int n, int c, int p) {
        int want = Math.max(1, ceilDiv(Kernels.CU_REDUCE_TARGET_BLOCKS, (long) n * c));
        int cpi = Math.max(1, Math.min(want, ceilDiv(Math.max(p, 1), Kernels.CU_REDUCE_MIN_CHUNK)));
        int len = Math.max(1, ceilDiv(Math.max(p, 1), cpi));
        cpi = Math.max(1, ceilDiv(Math.max(p, 1), len));
        return new int[]{cpi, len};
    }

    /**
     * Where a {@link Kernels} launch goes: the op (for messages), its tensors (named in errors by
     * shape), the grid, block and dynamic shared memory. Use it once, for one kernel.
     */
    public Kernels.Sink at(String op, Tensor[] involved, int[] grid, int[] block, int sharedBytes) {
        return new Pending(op, involved, grid, block, sharedBytes);
    }

    private final class Pending implements Kernels.Sink {
        final String op;
        final Tensor[] involved;
        final int[] grid, block;
        final int shared;
        final KernelArgs args = new KernelArgs();
        int id = -1;

        Pending(String op, Tensor[] involved, int[] grid, int[] block, int shared) {
            this.op = op;
            this.involved = involved;
            this.grid = grid;
            this.block = block;
            this.shared = shared;
        }

        @Override public KernelArgs begin(int kernel) {
            if (id >= 0) throw new IllegalStateException(op + ": a Launcher.at(...) sink is for one launch");
            id = kernel;
            return args;
        }

        @Override public void launch() {
            Launcher.this.launch(op, involved, Kernels.NAMES.get(id), grid, block, shared, args);
        }
    }

    /**
     * Launches and checks; {@code involved} are the op's tensors, named in errors by shape. Private:
     * every launcher goes through the typed {@link Kernels} facade ({@link #at}), never by name.
     */
    private void launch(String op, Tensor[] involved, String kernel, int[] grid, int[] block, int sharedBytes,
                       KernelArgs args) {
        if (grid[0] < 1 || grid[1] < 1 || grid[2] < 1 || grid[1] > MAX_GRID_YZ || grid[2] > MAX_GRID_YZ)
            throw new CudaError(op + ": grid " + Arrays.toString(grid) + " out of range for kernel " + kernel
                    + " (shapes " + shapes(involved) + ")");
        kernel = variant(kernel);
        try {
            if (recording != null && queue.eager()) recording.recordExtents(extents(involved, args));
            queue.launch(kernel, grid, block, sharedBytes, args);
            launches++;
            if (syncEach) {
                queue.needResults("CONVUNEXT_CUDA_SYNC");
                device.synchronize();
            }
        } catch (CudaError e) {
            throw new CudaError(op + " failed in kernel " + kernel + " grid " + Arrays.toString(grid) + " block "
                    + Arrays.toString(block) + " smem " + sharedBytes + " args " + args + " (shapes "
                    + shapes(involved) + "): " + e.getMessage(), e);
        }
    }

    /** {start, bytes, ...} of the op's tensors and live workspaces among the arguments (for the launch recorder). */
    private long[] extents(Tensor[] involved, KernelArgs args) {
        java.util.List<Long> e = new java.util.ArrayList<>();
        for (Tensor t : involved)
            if (t != null && t.owner() == backend) { e.add(ptr(t)); e.add(t.numel() * 4L); }
        for (int i = 0; i < args.size(); i++) {
            Long ws = args.kind(i) == KernelArgs.Kind.PTR ? workspaceBytes.get(args.slot(i)) : null;
            if (ws != null) { e.add(args.slot(i)); e.add(ws); }
        }
        long[] r = new long[e.size()];
        for (int i = 0; i < r.length; i++) r[i] = e.get(i);
        return r;
    }

    static String shapes(Tensor[] ts) {
        StringBuilder s = new StringBuilder();
        for (Tensor t : ts) {
            if (s.length() > 0) s.append(", ");
            s.append(t == null ? "null" : t.shapeString());
        }
        return s.toString();
    }

    /** Sums dy [N, C, P] over N and P into db [C] (deterministic two-level reduction). */
    public void biasGrad(String op, Tensor dy, Tensor db, int n, int c, int p) {
        int[] ch = chunks(n, c, p);
        int s = n * ch[0];
        DeviceBuffer ws = workspace((long) c * s);
        try {
            Tensor[] inv = {dy, db};
            Kernels.bias_backward_part(at(op, inv, new int[]{s, c, 1}, block1D(), 0))
                    .dy(ptr(dy)).partial(ws.address()).C(c).P(p).cpi(ch[0]).L(ch[1]).launch();
            Kernels.bias_backward(at(op, inv, new int[]{c, 1, 1}, block1D(), 0))
                    .partial(ws.address()).db(ptr(db)).S(s).launch();
        } finally {
            free(ws);
        }
    }
}
