package convunext.backend.cuda.baseline;

import static jcuda.jcudnn.JCudnn.*;

import convunext.backend.cuda.CudaBackend;
import convunext.backend.cuda.CudaError;
import convunext.backend.cuda.CudnnProbe;
import convunext.backend.cuda.Device;
import convunext.backend.cuda.DeviceBuffer;
import convunext.backend.cuda.JCudaDevice;
import convunext.backend.cuda.JCudaNatives;
import convunext.backend.cuda.Kernels;
import convunext.backend.cuda.ops.Launcher;
import convunext.tensor.Shapes;
import convunext.tensor.Tensor;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import jcuda.Pointer;
import jcuda.driver.CUdeviceptr;
import jcuda.jcudnn.cudnnConvolutionBwdDataAlgoPerf;
import jcuda.jcudnn.cudnnConvolutionBwdFilterAlgoPerf;
import jcuda.jcudnn.cudnnConvolutionDescriptor;
import jcuda.jcudnn.cudnnConvolutionFwdAlgoPerf;
import jcuda.jcudnn.cudnnConvolutionMode;
import jcuda.jcudnn.cudnnDataType;
import jcuda.jcudnn.cudnnFilterDescriptor;
import jcuda.jcudnn.cudnnHandle;
import jcuda.jcudnn.cudnnMathType;
import jcuda.jcudnn.cudnnTensorDescriptor;
import jcuda.jcudnn.cudnnTensorFormat;

/**
 * The model's depthwise 7×7 convolution through cuDNN's grouped convolution (groups = C), the
 * baseline `bench --layers` compares dwconv7.cu with. No model op runs through it.
 *
 * <p>Math (NCHW float32, stride 1, cross-correlation as PyTorch; xp = reflectPad3(x)):
 * <pre>
 *   forward:  y[n,c]  = Σ_{ky,kx} w[c,0,ky,kx] · xp[n,c,y+ky,x+kx] + b[c]     xp [N,C,H+6,W+6]
 *   backward: dxp = cudnnConvolutionBackwardData(w, dy)    [N,C,H+6,W+6]
 *             dw  = cudnnConvolutionBackwardFilter(xp, dy) [C,1,7,7],  db = Σ_{n,y,x} dy  [C]
 *             dx  = foldReflect3(dxp)  (the reflect pad's adjoint: mirrored border terms added back)
 * </pre>
 * Descriptors: x/xp/y/dy tensor 4d NCHW float; filter [C,1,7,7] NCHW float (K = C outputs, C/groups
 * = 1 input channel each); bias [1,C,1,1]; convolution pad 0, stride 1, dilation 1, cross-correlation,
 * float compute, group count C, FMA math (no TF32: the parity test compares at float32 accuracy).
 * Algorithms: cudnnFind*Algorithm (measured) once per shape, else cudnnGet*Algorithm_v7; workspace
 * sizes from cudnnGet*WorkspaceSize (asked for the chosen algorithm, whichever search chose it). One workspace buffer from the backend's DevicePool is grown to the largest
 * need, so after a shape's first call nothing is allocated from the driver (Find allocates its own
 * scratch once per shape).
 *
 * <p>cuDNN has no reflect padding, so the pad and its adjoint run our kernels ({@link ReflectPad3}:
 * conv2d.cu's reflect-padded conv2d_forward with a 1×1 weight of 1.0, and conv2d_backward_fold).
 * <b>Timed region</b> for the comparison: {@link #forward} = cudnnConvolutionForward + cudnnAddTensor
 * (bias; ours fuses it); {@link #backward} = BackwardData + BackwardFilter + BackwardBias. Not in it:
 * the pad (in training the padded input would be kept from the forward) and the fold; the bench
 * times both separately and prints them beside the baseline.
 *
 * <p>Every cuDNN status is checked (codes read through cudnnGetErrorString: cuDNN 9 renumbered
 * them); errors name the op, the call and the shapes. All calls run in the device's context on the
 * default stream, ordered with our kernels like {@link CublasGemm}.
 */
public final class CudnnDwConv7 implements AutoCloseable {
    private static final int K = 7, PAD = ReflectPad3.PAD;
    private static final Pointer ONE = Pointer.to(new float[] {1f});
    private static final Pointer ZERO = Pointer.to(new float[] {0f});
    private static final int FLOAT = cudnnDataType.CUDNN_DATA_FLOAT, NCHW = cudnnTensorFormat.CUDNN_TENSOR_NCHW;

    /** {@code conv} when cuDNN works here (else null) and the one line the bench prints. */
    public record Opened(CudnnDwConv7 conv, String line) {}

    private final CudaBackend be;
    private final JCudaDevice device;
    private final cudnnHandle handle;
    private final String version;
    private final ReflectPad3 reflect;
    private final Map<String, Plan> plans = new LinkedHashMap<>();
    private DeviceBuffer workspace;
    private boolean closed;

    /** Descriptors and algorithms of one shape (N, C, H, W unpadded). */
    private static final class Plan {
        final String shapes;
        final cudnnTensorDescriptor xp = new cudnnTensorDescriptor(), y = new cudnnTensorDescriptor(),
                bias = new cudnnTensorDescriptor();
        final cudnnFilterDescriptor filt = new cudnnFilterDescriptor();
        final cudnnConvolutionDescriptor conv = new cudnnConvolutionDescriptor();
        final List<Runnable> destroy = new ArrayList<>();
        int fwdAlgo, dataAlgo, filterAlgo;
        long fwdWs, dataWs, filterWs;
        String how;

        Plan(String shapes) { this.shapes = shapes; }
    }

    private CudnnDwConv7(CudaBackend be, JCudaDevice device, cudnnHandle handle, String version) {
        this.be = be;
        this.device = device;
        this.handle = handle;
        this.version = version;
        this.reflect = new ReflectPad3(be);
    }

    /**
     * cuDNN on {@code be}'s device if it loads, creates a handle and passes a small self-check
     * against our dwconv7 kernels; else null and "not available: why". Never throws.
     */
    public static Opened open(CudaBackend be) {
        Device d = be.device();
        if (!(d instanceof JCudaDevice jd))
            return new Opened(null, "not available: the " + d.kind() + " device has no cuDNN (a GPU is needed)");
        JCudaNatives.prepare(JCudaNatives.CUDNN);   // before JCudnn loads its library
        cudnnHandle h = null;
        CudnnDwConv7 c = null;
        try {
            jd.makeCurrent("cudnnCreate");
            long v = cudnnGetVersion();
            cudnnHandle created = new cudnnHandle();
            CudnnProbe.check("cudnnCreate", cudnnCreate(created));
            h = created;
            c = new CudnnDwConv7(be, jd, h, CudnnProbe.version(v));
            c.selfCheck();
            return new Opened(c, "cuDNN " + c.version);
        } catch (RuntimeException e) {  // CudaError, a shape check
            closeQuietly(c, h);
            return new Opened(null, "not available: " + JCudaDevice.shortReason(e));
        } catch (LinkageError e) {  // no libcudnn.so.9, no jcudnn classes, a missing native
            closeQuietly(c, h);
            return new Opened(null, "not available: " + CudnnProbe.linkReason(e));
        }
    }

    private static void closeQuietly(CudnnDwConv7 c, cudnnHandle h) {
        try {
            if (c != null) c.close();
            else if (h != null) cudnnDestroy(h);
        } catch (RuntimeException | LinkageError ignored) {
            // the reason already returned is what matters
        }
    }

    public String version() { return version; }

    /** "algorithms fwd A, data B, filter C (Find)" of the last shape planned, for the bench's note. */
    public String algorithms() {
        Plan p = null;
        for (Plan q : plans.values()) p = q;
        return p == null ? "no shape planned" : "algorithms fwd " + p.fwdAlgo + ", bwd data " + p.dataAlgo + ", bwd filter "
                + p.filterAlgo + " (" + p.how + ")";
    }

    // ------------------------------------------------------------------ ours: pad and fold

    /** reflectPad3(x) [N,C,H+6,W+6] by our kernels ({@link ReflectPad3}); not cuDNN. */
    public Tensor reflectPad(Tensor x) { return reflect.pad(x); }

    /** dx from dxp [N,C,H+6,W+6]: the reflect pad's adjoint by our kernels ({@link ReflectPad3}). */
    public Tensor foldReflect(Tensor dxp) { return reflect.fold(dxp); }

    // ------------------------------------------------------------------ cuDNN

    /** y = conv(xp, w) + b by cuDNN (the timed region of the forward baseline). */
    public Tensor forward(Tensor xp, Tensor w, Tensor b) {
        String op = "cuDNN dwconv7 forward";
        int[] s = unpadded(op, "xp", xp);
        Shapes.shape(op, "w", w, s[1], 1, K, K);
        Shapes.shape(op, "b", b, s[1]);
        Plan p = plan(op, s);
        Tensor y = be.empty(s);
        try {
            device.makeCurrent(op);
            long ws = workspace.address();
            call(op, p, "cudnnConvolutionForward (algo " + p.fwdAlgo + ")", cudnnConvolutionForward(handle, ONE, p.xp,
                    at(xp), p.filt, at(w), p.conv, p.fwdAlgo, at(ws), p.fwdWs, ZERO, p.y, at(y)));
            call(op, p, "cudnnAddTensor (bias)", cudnnAddTensor(handle, ONE, p.bias, at(b), ONE, p.y, at(y)));
        } catch (RuntimeException | LinkageError e) {
            be.release(y);
            throw rethrow(op, p, e);
        }
        return y;
    }

    /** {dxp [N,C,H+6,W+6], dw [C,1,7,7], db [C]} by cuDNN (the timed region of the backward baseline). */
    public Tensor[] backward(Tensor xp, Tensor w, Tensor dy) {
        String op = "cuDNN dwconv7 backward";
        int[] s = unpadded(op, "xp", xp);
        int c = s[1];
        Shapes.shape(op, "w", w, c, 1, K, K);
        Shapes.shape(op, "dy", dy, s);
        Plan p = plan(op, s);
        Tensor dxp = be.empty(xp.shape()), dw = be.empty(c, 1, K, K), db = be.empty(c);
        try {
            device.makeCurrent(op);
            long ws = workspace.address();
            call(op, p, "cudnnConvolutionBackwardData (algo " + p.dataAlgo + ")", cudnnConvolutionBackwardData(handle, ONE,
                    p.filt, at(w), p.y, at(dy), p.conv, p.dataAlgo, at(ws), p.dataWs, ZERO, p.xp, at(dxp)));
            call(op, p, "cudnnConvolutionBackwardFilter (algo " + p.filterAlgo + ")", cudnnConvolutionBackwardFilter(handle,
                    ONE, p.xp, at(xp), p.y, at(dy), p.conv, p.filterAlgo, at(ws), p.filterWs, ZERO, p.filt, at(dw)));
            call(op, p, "cudnnConvolutionBackwardBias", cudnnConvolutionBackwardBias(handle, ONE, p.y, at(dy), ZERO, p.bias, at(db)));
        } catch (RuntimeException | LinkageError e) {
            be.release(dxp);
            be.release(dw);
            be.release(db);
            throw rethrow(op, p, e);
        }
        return new Tensor[]{dxp, dw, db};
    }

    /** Backend.dwconv7's contract through cuDNN: pad (ours) + {@link #forward}. */
    public Tensor dwconv7(Tensor x, Tensor w, Tensor b) {
        Tensor xp = reflectPad(x);
        try {
            return forward(xp, w, b);
        } finally {
            be.release(xp);
        }
    }

    /** Backend.dwconv7Backward's contract {dx, dw, db}: pad + {@link #backward} + fold (ours). */
    public Tensor[] dwconv7Backward(Tensor x, Tensor w, Tensor dy) {
        Tensor xp = reflectPad(x);
        Tensor[] g;
        try {
            g = backward(xp, w, dy);
        } finally {
            be.release(xp);
        }
        try {
            return new Tensor[]{foldReflect(g[0]), g[1], g[2]};
        } finally {
            be.release(g[0]);
        }
    }

    // ------------------------------------------------------------------ plans

    /** {N, C, H, W} of the unpadded tensor behind a padded one [N,C,H+6,W+6]. */
    private static int[] unpadded(String op, String name, Tensor t) {
        Shapes.rank(op, name, t, 4);
        int h = t.dim(2) - 2 * PAD, w = t.dim(3) - 2 * PAD;
        Shapes.require(h >= 4 && w >= 4, op, name + " must be a reflect-padded input [N,C,H+6,W+6] with H, W >= 4, got "
                + t.shapeString());
        Shapes.require(t.dim(1) >= 1, op, name + " has no channels: " + t.shapeString());
        return new int[]{t.dim(0), t.dim(1), h, w};
    }

    private Plan plan(String op, int[] s) {
        if (closed) throw new CudaError(op + ": the cuDNN handle is closed");
        int n = s[0], c = s[1], h = s[2], w = s[3], hp = h + 2 * PAD, wp = w + 2 * PAD;
        String key = n + "x" + c + "x" + h + "x" + w;
        Plan p = plans.get(key);
        if (p != null) return p;
        p = new Plan("xp [" + n + "," + c + "," + hp + "," + wp + "], w [" + c + ",1,7,7], y [" + n + "," + c + "," + h + "," + w + "]");
        device.makeCurrent(op);
        try {
            Plan q = p;
            call(op, p, "cudnnCreateTensorDescriptor", cudnnCreateTensorDescriptor(p.xp));
            p.destroy.add(() -> CudnnProbe.check("cudnnDestroyTensorDescriptor", cudnnDestroyTensorDescriptor(q.xp)));
            call(op, p, "cudnnCreateTensorDescriptor", cudnnCreateTensorDescriptor(p.y));
            p.destroy.add(() -> CudnnProbe.check("cudnnDestroyTensorDescriptor", cudnnDestroyTensorDescriptor(q.y)));
            call(op, p, "cudnnCreateTensorDescriptor", cudnnCreateTensorDescriptor(p.bias));
            p.destroy.add(() -> CudnnProbe.check("cudnnDestroyTensorDescriptor", cudnnDestroyTensorDescriptor(q.bias)));
            call(op, p, "cudnnCreateFilterDescriptor", cudnnCreateFilterDescriptor(p.filt));
            p.destroy.add(() -> CudnnProbe.check("cudnnDestroyFilterDescriptor", cudnnDestroyFilterDescriptor(q.filt)));
            call(op, p, "cudnnCreateConvolutionDescriptor", cudnnCreateConvolutionDescriptor(p.conv));
            p.destroy.add(() -> CudnnProbe.check("cudnnDestroyConvolutionDescriptor", cudnnDestroyConvolutionDescriptor(q.conv)));
            call(op, p, "cudnnSetTensor4dDescriptor (xp)", cudnnSetTensor4dDescriptor(p.xp, NCHW, FLOAT, n, c, hp, wp));
            call(op, p, "cudnnSetTensor4dDescriptor (y)", cudnnSetTensor4dDescriptor(p.y, NCHW, FLOAT, n, c, h, w));
            call(op, p, "cudnnSetTensor4dDescriptor (bias)", cudnnSetTensor4dDescriptor(p.bias, NCHW, FLOAT, 1, c, 1, 1));
            // Argument order is (dataType, format, K, C/groups, kh, kw).
            call(op, p, "cudnnSetFilter4dDescriptor", cudnnSetFilter4dDescriptor(p.filt, FLOAT, NCHW, c, 1, K, K));
            call(op, p, "cudnnSetConvolution2dDescriptor", cudnnSetConvolution2dDescriptor(p.conv, 0, 0, 1, 1, 1, 1,
                    cudnnConvolutionMode.CUDNN_CROSS_CORRELATION, FLOAT));
            call(op, p, "cudnnSetConvolutionGroupCount", cudnnSetConvolutionGroupCount(p.conv, c));
            call(op, p, "cudnnSetConvolutionMathType", cudnnSetConvolutionMathType(p.conv, cudnnMathType.CUDNN_FMA_MATH));
            chooseAlgorithms(op, p);
            long need = Math.max(256, Math.max(p.fwdWs, Math.max(p.dataWs, p.filterWs)));
            if (workspace == null || workspace.bytes() < need) {
                if (workspace != null) be.pool().release(workspace);
                workspace = null;
                workspace = be.pool().allocate(need);
            }
        } catch (RuntimeException | LinkageError e) {
            destroy(p);
            throw rethrow(op, p, e);
        }
        plans.put(key, p);
        return p;
    }

    /** Algorithm ids and their status codes from one search (Find or Get_v7). */
    private interface Search { int run(int requested, int[] returned, int[] algo, int[] status); }

    private void chooseAlgorithms(String op, Plan p) {
        int[] max = {0};
        call(op, p, "cudnnGetConvolutionForwardAlgorithmMaxCount", cudnnGetConvolutionForwardAlgorithmMaxCount(handle, max));
        boolean[] found = {true};
        p.fwdAlgo = choose(op, p, "Forward", max[0], found, (m, got, a, st) -> {
            cudnnConvolutionFwdAlgoPerf[] r = new cudnnConvolutionFwdAlgoPerf[m];
            for (int i = 0; i < m; i++) r[i] = new cudnnConvolutionFwdAlgoPerf();
            int s = cudnnFindConvolutionForwardAlgorithm(handle, p.xp, p.filt, p.conv, p.y, m, got, r);
            for (int i = 0; i < Math.min(got[0], m); i++) { a[i] = r[i].algo; st[i] = r[i].status; }
            return s;
        }, (m, got, a, st) -> {
            cudnnConvolutionFwdAlgoPerf[] r = new cudnnConvolutionFwdAlgoPerf[m];
            for (int i = 0; i < m; i++) r[i] = new cudnnConvolutionFwdAlgoPerf();
            int s = cudnnGetConvolutionForwardAlgorithm_v7(handle, p.xp, p.filt, p.conv, p.y, m, got, r);
            for (int i = 0; i < Math.min(got[0], m); i++) { a[i] = r[i].algo; st[i] = r[i].status; }
            return s;
        });
        call(op, p, "cudnnGetConvolutionBackwardDataAlgorithmMaxCount", cudnnGetConvolutionBackwardDataAlgorithmMaxCount(handle, max));
        p.dataAlgo = choose(op, p, "BackwardData", max[0], found, (m, got, a, st) -> {
            cudnnConvolutionBwdDataAlgoPerf[] r = new cudnnConvolutionBwdDataAlgoPerf[m];
            for (int i = 0; i < m; i++) r[i] = new cudnnConvolutionBwdDataAlgoPerf();
            int s = cudnnFindConvolutionBackwardDataAlgorithm(handle, p.filt, p.y, p.conv, p.xp, m, got, r);
            for (int i = 0; i < Math.min(got[0], m); i++) { a[i] = r[i].algo; st[i] = r[i].status; }
            return s;
        }, (m, got, a, st) -> {
            cudnnConvolutionBwdDataAlgoPerf[] r = new cudnnConvolutionBwdDataAlgoPerf[m];
            for (int i = 0; i < m; i++) r[i] = new cudnnConvolutionBwdDataAlgoPerf();
            int s = cudnnGetConvolutionBackwardDataAlgorithm_v7(handle, p.filt, p.y, p.conv, p.xp, m, got, r);
            for (int i = 0; i < Math.min(got[0], m); i++) { a[i] = r[i].algo; st[i] = r[i].status; }
            return s;
        });
        call(op, p, "cudnnGetConvolutionBackwardFilterAlgorithmMaxCount", cudnnGetConvolutionBackwardFilterAlgorithmMaxCount(handle, max));
        p.filterAlgo = choose(op, p, "BackwardFilter", max[0], found, (m, got, a, st) -> {
            cudnnConvolutionBwdFilterAlgoPerf[] r = new cudnnConvolutionBwdFilterAlgoPerf[m];
            for (int i = 0; i < m; i++) r[i] = new cudnnConvolutionBwdFilterAlgoPerf();
            int s = cudnnFindConvolutionBackwardFilterAlgorithm(handle, p.xp, p.y, p.conv, p.filt, m, got, r);
            for (int i = 0; i < Math.min(got[0], m); i++) { a[i] = r[i].algo; st[i] = r[i].status; }
            return s;
        }, (m, got, a, st) -> {
            cudnnConvolutionBwdFilterAlgoPerf[] r = new cudnnConvolutionBwdFilterAlgoPerf[m];
            for (int i = 0; i < m; i++) r[i] = new cudnnConvolutionBwdFilterAlgoPerf();
            int s = cudnnGetConvolutionBackwardFilterAlgorithm_v7(handle, p.xp, p.y, p.conv, p.filt, m, got, r);
            for (int i = 0; i < Math.min(got[0], m); i++) { a[i] = r[i].algo; st[i] = r[i].status; }
            return s;
        });
        p.how = found[0] ? "cudnnFind" : "cudnnGet_v7 where Find found none";
        long[] sz = {0};
        call(op, p, "cudnnGetConvolutionForwardWorkspaceSize", cudnnGetConvolutionForwardWorkspaceSize(handle, p.xp, p.filt,
                p.conv, p.y, p.fwdAlgo, sz));
        p.fwdWs = sz[0];
        call(op, p, "cudnnGetConvolutionBackwardDataWorkspaceSize", cudnnGetConvolutionBackwardDataWorkspaceSize(handle, p.filt,
                p.y, p.conv, p.xp, p.dataAlgo, sz));
        p.dataWs = sz[0];
        call(op, p, "cudnnGetConvolutionBackwardFilterWorkspaceSize", cudnnGetConvolutionBackwardFilterWorkspaceSize(handle,
                p.xp, p.y, p.conv, p.filt, p.filterAlgo, sz));
        p.filterWs = sz[0];
    }

    /** The fastest algorithm cudnnFind ran successfully, else the heuristic's first supported one. */
    private static int choose(String op, Plan p, String which, int max, boolean[] found, Search find, Search heuristic) {
        int m = Math.max(1, max);
        int[] got = {0}, algo = new int[m], status = new int[m];
        int s;
        try {
            s = find.run(m, got, algo, status);
        } catch (RuntimeException e) {   // JCudnn 12.6 copies back an uninitialised count when Find fails
            s = -1;
        }
        int a = first(s, got[0], algo, status);
        if (a >= 0) return a;
        found[0] = false;
        int s2 = heuristic.run(m, got, algo, status);
        call(op, p, "cudnnGetConvolution" + which + "Algorithm_v7 (after cudnnFindConvolution" + which
                + "Algorithm gave status " + s + " and no usable algorithm)", s2);
        a = first(s2, got[0], algo, status);
        if (a < 0)
            throw new CudaError(op + " " + p.shapes + ": no " + which + " algorithm: Find status " + s + ", Get_v7 returned "
                    + got[0] + " without a supported one");
        return a;
    }

    private static int first(int searchStatus, int returned, int[] algo, int[] status) {
        if (searchStatus != 0) return -1;
        for (int i = 0; i < Math.min(returned, algo.length); i++)
            if (status[i] == 0) return algo[i];
        return -1;
    }

    // ------------------------------------------------------------------ checks

    private static void call(String op, Plan p, String what, int status) {
        if (status != 0) CudnnProbe.check(op + " " + p.shapes + ": " + what, status);
    }

    private static RuntimeException rethrow(String op, Plan p, Throwable e) {
        if (e instanceof CudaError ce) return ce;
        if (e instanceof LinkageError le) return new CudaError(op + " " + p.shapes + ": " + JCudaDevice.shortReason(le), le);
        if (e instanceof RuntimeException re) return re;
        return new CudaError(op + " " + p.shapes + ": " + e, e);
    }

    private CUdeviceptr at(Tensor t) { return at(be.launcher().ptr(t)); }

    private static CUdeviceptr at(long address) { return new CUdeviceptr().withByteOffset(address); }

    /**
     * cuDNN against our dwconv7 kernels (themselves parity-tested against the float64 oracle) on a
     * small odd shape: proves descriptors, JNI marshalling and the pad/fold before any timing.
     */
    private void selfCheck() {
        int n = 2, c = 3, h = 5, w = 6;
        java.util.Random r = new java.util.Random(7);
        float[] xs = new float[n * c * h * w], ws = new float[c * K * K], bs = new float[c], dys = new float[n * c * h * w];
        for (float[] a : new float[][]{xs, ws, bs, dys})
            for (int i = 0; i < a.length; i++) a[i] = (float) r.nextGaussian();
        Tensor x = be.upload(xs, n, c, h, w), wt = be.upload(ws, c, 1, K, K), b = be.upload(bs, c), dy = be.upload(dys, n, c, h, w);
        List<Tensor> all = new ArrayList<>(List.of(x, wt, b, dy));
        try {
            Tensor y = dwconv7(x, wt, b), yo = be.dwconv7(x, wt, b);
            all.add(y);
            all.add(yo);
            compare("forward y", y, yo);
            Tensor[] g = dwconv7Backward(x, wt, dy), go = be.dwconv7Backward(x, wt, dy);
            all.addAll(List.of(g));
            all.addAll(List.of(go));
            String[] names = {"dx", "dw", "db"};
            for (int i = 0; i < 3; i++) compare("backward " + names[i], g[i], go[i]);
        } finally {
            for (Tensor t : all) be.release(t);
        }
    }

    private void compare(String what, Tensor got, Tensor want) {
        float[] a = be.download(got), e = be.download(want);
        double d = 0, m = 0;
        for (int i = 0; i < e.length; i++) {
            d = Math.max(d, Math.abs((double) a[i] - e[i]));
            m = Math.max(m, Math.abs((double) e[i]));
        }
        if (!(d <= 1e-4 * m))
            throw new CudaError("cuDNN dwconv7 self-check: " + what + " differs from dwconv7.cu by " + d + " (max |value| " + m
                    + ", " + algorithms() + ")");
    }

    /** Destroys every descriptor of {@code p} (all are tried); returns the first failure or null. */
    private static RuntimeException destroy(Plan p) {
        RuntimeException first = null;
        for (int i = p.destroy.size() - 1; i >= 0; i--) {
            try {
                p.destroy.get(i).run();
            } catch (RuntimeException e) {
                if (first == null) first = e;
            } catch (LinkageError e) {
                if (first == null) first = new CudaError(JCudaDevice.shortReason(e), e);
            }
        }
        p.destroy.clear();
        return first;
    }

    /** Destroys the descriptors and the handle and returns the buffers; before the backend closes. */
    @Override public void close() {
        if (closed) return;
        closed = true;
        try {
            device.makeCurrent("cudnnDestroy");
            RuntimeException first = null;
            for (Plan p : plans.values()) {
                RuntimeException e = destroy(p);
                if (first == null) first = e;
            }
            plans.clear();
            CudnnProbe.check("cudnnDestroy", cudnnDestroy(handle));
            if (first != null) throw first;
        } finally {
            if (workspace != null) be.pool().release(workspace);
            workspace = null;
            reflect.close();
        }
    }
}
