package convunext.backend.cuda.ops;

import convunext.backend.Backend;
import convunext.backend.cuda.CudaError;
import convunext.backend.cuda.Device;
import convunext.backend.cuda.DeviceBuffer;
import convunext.backend.cuda.DevicePool;
import convunext.backend.cuda.KernelArgs;
import convunext.tensor.Tensor;
import java.util.Arrays;

/**
 * What every op launcher shares: the device, the pool, tensor addresses, workspaces and a
 * checked launch. A failing launch is rethrown as a {@link CudaError} naming the op, the kernel,
 * the geometry and the shapes of the tensors involved. With -Dconvunext.cuda.sync=true (or
 * CONVUNEXT_CUDA_SYNC=1) every launch is followed by a synchronise, so an asynchronous fault is
 * reported by the launch that caused it.
 */
public final class Launcher {
    public static final int THREADS = 256;
    private static final int MAX_GRID_YZ = 65535;

    private final Backend backend;
    private final Device device;
    private final DevicePool pool;
    private final boolean syncEach;
    private long launches;

    public Launcher(Backend backend, Device device, DevicePool pool) {
        this.backend = backend;
        this.device = device;
        this.pool = pool;
        this.syncEach = Boolean.getBoolean("convunext.cuda.sync") || "1".equals(System.getenv("CONVUNEXT_CUDA_SYNC"));
    }

    public Device device() { return device; }

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
    public DeviceBuffer workspace(long floats) { return pool.allocate(Math.max(4L, floats * 4L)); }

    public void free(DeviceBuffer b) { pool.release(b); }

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
            launch(op, new Tensor[]{dst, src}, "add_forward_inplace", grid1D(dst.numel()), block1D(), 0,
                    new KernelArgs().ptr(ptr(dst)).ptr(ptr(src)).i64(dst.numel()));
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
    public static int[] grid1D(long n) { return new int[]{Math.max(1, Math.min(ceilDiv(n, THREADS), 8192)), 1, 1}; }

    public static int[] block1D() { return new int[]{THREADS, 1, 1}; }

    /**
     * Chunks per image for the two-level channel reductions over [N, C, P]: enough blocks
     * (N*cpi*C, about 1024) to fill the GPU, but at least 64 pixels per chunk.
     * Returns {cpi, L} with cpi*L >= P.
     */
    public static int[] chunks(int n, int c, int p) {
        int want = Math.max(1, ceilDiv(1024, (long) n * c));
        int cpi = Math.max(1, Math.min(want, ceilDiv(Math.max(p, 1), 64)));
        int len = Math.max(1, ceilDiv(Math.max(p, 1), cpi));
        cpi = Math.max(1, ceilDiv(Math.max(p, 1), len));
        return new int[]{cpi, len};
    }

    /** Launches and checks; {@code involved} are the op's tensors, named in errors by shape. */
    public void launch(String op, Tensor[] involved, String kernel, int[] grid, int[] block, int sharedBytes,
                       KernelArgs args) {
        if (grid[0] < 1 || grid[1] < 1 || grid[2] < 1 || grid[1] > MAX_GRID_YZ || grid[2] > MAX_GRID_YZ)
            throw new CudaError(op + ": grid " + Arrays.toString(grid) + " out of range for kernel " + kernel
                    + " (shapes " + shapes(involved) + ")");
        try {
            device.launch(kernel, grid, block, sharedBytes, args);
            launches++;
            if (syncEach) device.synchronize();
        } catch (CudaError e) {
            throw new CudaError(op + " failed in kernel " + kernel + " grid " + Arrays.toString(grid) + " block "
                    + Arrays.toString(block) + " smem " + sharedBytes + " args " + args + " (shapes "
                    + shapes(involved) + "): " + e.getMessage(), e);
        }
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
            launch(op, inv, "bias_backward_part", new int[]{s, c, 1}, block1D(), 0,
                    new KernelArgs().ptr(ptr(dy)).ptr(ws.address()).i32(c).i32(p).i32(ch[0]).i32(ch[1]));
            launch(op, inv, "bias_backward", new int[]{c, 1, 1}, block1D(), 0,
                    new KernelArgs().ptr(ws.address()).ptr(ptr(db)).i32(s));
        } finally {
            free(ws);
        }
    }
}
