package convunext.backend.cuda;

import static jcuda.driver.JCudaDriver.*;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import jcuda.CudaException;
import jcuda.NativePointerObject;
import jcuda.Pointer;
import jcuda.driver.CUcontext;
import jcuda.driver.CUdevice;
import jcuda.driver.CUdevice_attribute;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUevent;
import jcuda.driver.CUevent_flags;
import jcuda.driver.CUfunction;
import jcuda.driver.CUfunction_attribute;
import jcuda.driver.CUgraph;
import jcuda.driver.CUgraphExec;
import jcuda.driver.CUmodule;
import jcuda.driver.CUstream;
import jcuda.driver.CUstreamCaptureMode;

/**
 * A real GPU through JCuda's driver API: PTX modules from the jar (target/classes/ptx, built by
 * kernels/build.sh), functions looked up by name and cached, kernel parameters marshalled from
 * {@link KernelArgs}. Every driver call is checked and a failure becomes a {@link CudaError}
 * naming the call (and the kernel). Work goes to one stream created with the context (blocking
 * with respect to the legacy default stream, so the synchronous copies from and to Java arrays
 * and cuBLAS/cuDNN calls on the default stream stay ordered with it); launches, memsets, device
 * copies and copies from pinned buffers are asynchronous and can be captured into CUDA graphs
 * ({@link #graphCapture}). {@link #synchronize} surfaces asynchronous errors (set
 * {@code CONVUNEXT_CUDA_SYNC=1} to synchronise after every launch so an error names the kernel
 * that caused it). The per-launch host work allocates one small parameter array and builds no
 * strings unless the launch fails.
 */
public final class JCudaDevice implements Device {
    private static final String PTX_DIR = "/ptx/";
    /** sm_90 machine code of each kernel file (kernels/emu/ptx_one.sh), loaded on sm_90 GPUs. */
    private static final String CUBIN_DIR = "/cubin/";

    private final CUcontext context = new CUcontext();
    private final String description;
    private final int maxSharedOptin;
    private final int ccMajor, ccMinor;
    /** Per kernel file: "sm_90 SASS" or "PTX JIT (why)", for describe() and the device log. */
    private final Map<String, String> moduleSource = new java.util.TreeMap<>();
    private final Map<String, String> moduleOfKernel;
    private final Map<String, CUmodule> modules = new HashMap<>();
    private final Map<String, CUfunction> functions = new HashMap<>();
    private final Map<String, Integer> sharedSet = new HashMap<>();
    private final Map<Long, CUevent> events = new HashMap<>();
    private long nextEvent = 1;
    private final CUstream stream = new CUstream();
    private final Map<Long, Pointer> hostBuffers = new HashMap<>();
    private final Map<Long, Long> hostBytes = new HashMap<>();
    private long nextHost = 1;
    private final Map<Long, CUgraphExec> graphs = new HashMap<>();
    private long nextGraph = 1;
    private boolean capturing;
    // Kernel parameters: one holder per argument position and kind, reused by every launch (the
    // driver copies the values when the launch is queued, or captured).
    private final long[][] longArg = new long[64][1];
    private final int[][] intArg = new int[64][1];
    private final float[][] floatArg = new float[64][1];
    private final Pointer[] longPtr = new Pointer[64], intPtr = new Pointer[64], floatPtr = new Pointer[64];
    private final boolean syncEveryLaunch = "1".equals(System.getenv("CONVUNEXT_CUDA_SYNC"));
    private final ContextBinding binding;
    private boolean closed;

    /** A device pointer whose raw address can be read (getNativePointer is protected). */
    private static final class DevPtr extends CUdeviceptr {
        long address() { return getNativePointer() + getByteOffset(); }
    }

    /** A CUdeviceptr for a raw address: JCuda passes nativePointer (0) + byteOffset. */
    private static CUdeviceptr at(long address) {
        return new CUdeviceptr().withByteOffset(address);
    }

    private JCudaDevice(int ordinal) {
        Map<String, String> index = readIndex();
        if (index.isEmpty())
            throw new CudaError("no PTX kernels in the jar (" + PTX_DIR + "kernels.index missing or empty): "
                    + "they are built by kernels/build.sh when nvcc is installed");
        this.moduleOfKernel = index;
        call("cuInit", () -> cuInit(0));
        int[] count = {0};
        call("cuDeviceGetCount", () -> cuDeviceGetCount(count));
        if (count[0] <= ordinal)
            throw new CudaError("cuda:" + ordinal + " requested but only " + count[0] + " CUDA device" + (count[0] == 1 ? "" : "s")
                    + " present (ordinals 0.." + (count[0] - 1) + ")");
        CUdevice dev = new CUdevice();
        call("cuDeviceGet", () -> cuDeviceGet(dev, ordinal));
        byte[] name = new byte[256];
        int[] major = {0}, minor = {0}, sms = {0}, driver = {0}, optin = {0};
        long[] total = {0};
        call("cuDeviceGetName", () -> cuDeviceGetName(name, name.length, dev));
        call("cuDeviceGetAttribute", () -> cuDeviceGetAttribute(major, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, dev));
        call("cuDeviceGetAttribute", () -> cuDeviceGetAttribute(minor, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, dev));
        call("cuDeviceGetAttribute", () -> cuDeviceGetAttribute(sms, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT, dev));
        call("cuDeviceGetAttribute", () -> cuDeviceGetAttribute(optin, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN, dev));
        call("cuDeviceTotalMem", () -> cuDeviceTotalMem(total, dev));
        call("cuDriverGetVersion", () -> cuDriverGetVersion(driver));
        call("cuCtxCreate", () -> cuCtxCreate(context, 0, dev));
        binding = new ContextBinding(context, () -> call("cuCtxSetCurrent", () -> cuCtxSetCurrent(context)));
        call("cuStreamCreate", () -> cuStreamCreate(stream, 0));   // 0: ordered with the legacy default stream
        for (int i = 0; i < 64; i++) {
            longPtr[i] = Pointer.to(longArg[i]);
            intPtr[i] = Pointer.to(intArg[i]);
            floatPtr[i] = Pointer.to(floatArg[i]);
        }
        maxSharedOptin = optin[0];
        ccMajor = major[0];
        ccMinor = minor[0];
        String n = new String(name, StandardCharsets.US_ASCII).trim();
        int z = n.indexOf('\0');
        description = (z >= 0 ? n.substring(0, z) : n) + " (sm_" + major[0] + minor[0] + ", " + sms[0] + " SMs, "
                + (total[0] >> 20) + " MiB, driver " + driver[0] / 1000 + "." + (driver[0] % 1000) / 10 + ", "
                + index.size() + " kernels)";
    }

    /** Opens GPU #0; throws CudaError saying why when JCuda, the driver or a GPU is missing. */
    public static JCudaDevice open() {
        return open(0);
    }

    /** Opens GPU #{@code ordinal} (CUDA's numbering, as in {@code --device cuda:N}). */
    public static JCudaDevice open(int ordinal) {
        JCudaNatives.prepare(JCudaNatives.DRIVER);   // before JCudaDriver loads its library: see JCudaNatives
        try {
            setExceptionsEnabled(true);
            return new JCudaDevice(ordinal);
        } catch (CudaError e) {
            throw e;
        } catch (CudaException e) {
            throw new CudaError("CUDA device unavailable: " + e.getMessage(), e);
        } catch (LinkageError e) {  // UnsatisfiedLinkError (no libcuda.so.1), NoClassDefFoundError
            throw new CudaError("CUDA device unavailable: JCuda's native library cannot load ("
                    + shortReason(e) + "); a GPU driver (libcuda.so.1) is needed", e);
        }
    }

    /** Null if a GPU can be opened (it is closed again), else the reason. Never throws. */
    public static String probe() {
        try (JCudaDevice d = open()) {
            return null;
        } catch (CudaError e) {
            return e.getMessage();
        } catch (RuntimeException | LinkageError e) {
            return "CUDA device unavailable: " + e;
        }
    }

    /** JCuda's link errors carry pages of nested stack traces: keep the line that says why. */
    public static String shortReason(Throwable e) {
        String m = String.valueOf(e.getMessage());
        for (String line : m.split("\n"))
            if (line.contains("cannot open shared object file")) return e.getClass().getSimpleName() + ": " + line.trim();
        return e.getClass().getSimpleName() + ": " + m.split("\n")[0].trim();
    }

    private interface DriverCall { int run(); }

    private static void call(String what, DriverCall c) {
        try {
            int r = c.run();
            if (r != 0) throw new CudaError(what + ": " + jcuda.driver.CUresult.stringFor(r));
        } catch (CudaException e) {
            throw new CudaError(what + ": " + e.getMessage(), e);
        }
    }

    private void bind(String what) {
        if (closed) throw new CudaError(what + ": the CUDA device is closed");
        binding.bind();
    }

    /**
     * Makes this device's context current on the calling thread: cuBLAS and cuDNN (runtime-API
     * libraries) work in whatever context is current, and must use ours so that device pointers
     * and the default stream are shared with our kernels. Always set (a cheap thread-local
     * write): another device opened on this thread since, e.g. by a probe, may have replaced it.
     */
    public void makeCurrent(String what) {
        if (closed) throw new CudaError(what + ": the CUDA device is closed");
        binding.force();
    }

    static Map<String, String> readIndex() {
        Map<String, String> m = new HashMap<>();
        try (InputStream in = JCudaDevice.class.getResourceAsStream(PTX_DIR + "kernels.index")) {
            if (in == null) return m;
            for (String line : new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n")) {
                String[] p = line.trim().split("\\s+");
                if (p.length == 2) m.put(p[0], p[1]);
            }
        } catch (IOException e) {
            throw new CudaError("cannot read " + PTX_DIR + "kernels.index: " + e, e);
        }
        return m;
    }

    static byte[] resource(String path) {
        try (InputStream in = JCudaDevice.class.getResourceAsStream(path)) {
            return in == null ? null : in.readAllBytes();
        } catch (IOException e) {
            throw new CudaError("cannot read " + path + ": " + e, e);
        }
    }

    /**
     * The module of kernel file {@code file} (e.g. gemm.ptx): its sm_90 cubin when this is an
     * sm_90 GPU and the jar has one (no JIT at start-up, no compute cache needed), else the PTX,
     * which the driver compiles for this GPU. A cubin the driver refuses falls back to the PTX,
     * and {@link #moduleSources} says so.
     */
    private CUmodule loadModule(String file) {
        String stem = file.endsWith(".ptx") ? file.substring(0, file.length() - 4) : file;
        String why = "no sm_" + ccMajor + ccMinor + " cubin in the jar";
        if (ccMajor == 9 && ccMinor == 0 && !Boolean.getBoolean("convunext.cuda.ptx")) {
            byte[] cubin = resource(CUBIN_DIR + stem + ".sm_90.cubin");
            if (cubin != null) {
                CUmodule m = new CUmodule();
                String err;
                try {   // JCuda throws on errors (setExceptionsEnabled), older setups return the code
                    int r = cuModuleLoadData(m, cubin);
                    err = r == 0 ? null : jcuda.driver.CUresult.stringFor(r);
                } catch (CudaException e) {
                    err = e.getMessage();
                }
                if (err == null) {
                    moduleSource.put(stem, "sm_90 SASS");
                    return m;
                }
                why = "cubin refused: " + err;
            }
        } else if (Boolean.getBoolean("convunext.cuda.ptx")) {
            why = "-Dconvunext.cuda.ptx=true";
        }
        byte[] text = resource(PTX_DIR + file);
        if (text == null) throw new CudaError("PTX resource " + PTX_DIR + file + " is missing");
        byte[] ptx = java.util.Arrays.copyOf(text, text.length + 1);   // the driver reads a NUL-terminated string
        CUmodule m = new CUmodule();
        call("cuModuleLoadData(" + file + ")", () -> cuModuleLoadData(m, ptx));
        moduleSource.put(stem, "PTX JIT (" + why + ")");
        return m;
    }

    /** Per kernel file loaded so far, where its code came from: "sm_90 SASS" or "PTX JIT (why)". */
    public Map<String, String> moduleSources() { return java.util.Collections.unmodifiableMap(moduleSource); }

    private CUfunction function(String kernel) {
        CUfunction f = functions.get(kernel);
        if (f != null) return f;
        String file = moduleOfKernel.get(kernel);
        if (file == null) throw new CudaError("launch: no kernel named '" + kernel + "' in " + PTX_DIR + "kernels.index");
        CUmodule module = modules.get(file);
        if (module == null) modules.put(file, module = loadModule(file));
        CUfunction fn = new CUfunction();
        CUmodule mod = module;
        call("cuModuleGetFunction(" + kernel + ")", () -> cuModuleGetFunction(fn, mod, kernel));
        functions.put(kernel, fn);
        return fn;
    }

    @Override public String kind() { return "cuda"; }

    @Override public java.util.Set<String> kernelNames() { return java.util.Collections.unmodifiableSet(moduleOfKernel.keySet()); }

    @Override public String describe() { return description; }

    @Override public long malloc(long bytes) {
        bind("cuMemAlloc");
        DevPtr p = new DevPtr();
        call("cuMemAlloc(" + bytes + " bytes)", () -> cuMemAlloc(p, Math.max(bytes, 1)));
        return p.address();
    }

    @Override public void free(long ptr) {
        bind("cuMemFree");
        call("cuMemFree", () -> cuMemFree(at(ptr)));
    }

    @Override public void copyHtoD(long dst, float[] src, int srcOff, int count) {
        bind("cuMemcpyHtoD");
        checkRange("cuMemcpyHtoD", src.length, srcOff, count);
        call("cuMemcpyHtoD(" + count + " floats)",
                () -> cuMemcpyHtoD(at(dst), Pointer.to(src).withByteOffset(4L * srcOff), 4L * count));
    }

    @Override public void copyDtoH(float[] dst, int dstOff, long src, int count) {
        bind("cuMemcpyDtoH");
        checkRange("cuMemcpyDtoH", dst.length, dstOff, count);
        call("cuMemcpyDtoH(" + count + " floats)",
                () -> cuMemcpyDtoH(Pointer.to(dst).withByteOffset(4L * dstOff), at(src), 4L * count));
    }

    @Override public void copyDtoD(long dst, long src, long bytes) {
        bind("cuMemcpyDtoDAsync");
        call("cuMemcpyDtoDAsync", () -> cuMemcpyDtoDAsync(at(dst), at(src), bytes, stream));
    }

    @Override public void memset(long ptr, int value, long bytes) {
        bind("cuMemsetD8Async");
        call("cuMemsetD8Async", () -> cuMemsetD8Async(at(ptr), (byte) value, bytes, stream));
    }

    @Override public synchronized long hostAlloc(long bytes) {
        bind("cuMemAllocHost");
        Pointer p = new Pointer();
        call("cuMemAllocHost(" + bytes + " bytes)", () -> cuMemAllocHost(p, Math.max(bytes, 4)));
        hostBuffers.put(nextHost, p);
        hostBytes.put(nextHost, bytes);
        return nextHost++;
    }

    private synchronized Pointer host(String call, long h) {
        Pointer p = hostBuffers.get(h);
        if (p == null) throw new CudaError(call + ": no pinned buffer #" + h);
        return p;
    }

    @Override public void hostWrite(long host, long byteOffset, float[] src, int srcOff, int count) {
        Pointer p = host("hostWrite", host);
        checkRange("hostWrite", src.length, srcOff, count);
        if (byteOffset < 0 || byteOffset + 4L * count > hostBytes.get(host))
            throw new CudaError("hostWrite: " + count + " floats at byte " + byteOffset + " outside a pinned buffer of "
                    + hostBytes.get(host) + " bytes");
        p.getByteBuffer(byteOffset, 4L * count).order(java.nio.ByteOrder.nativeOrder()).asFloatBuffer().put(src, srcOff, count);
    }

    @Override public synchronized void hostFree(long host) {
        Pointer p = hostBuffers.remove(host);
        hostBytes.remove(host);
        if (p == null) throw new CudaError("hostFree: no pinned buffer #" + host);
        if (closed) return;
        bind("cuMemFreeHost");
        call("cuMemFreeHost", () -> cuMemFreeHost(p));
    }

    @Override public void copyHostToDevice(long dst, long host, long hostOffset, long bytes) {
        bind("cuMemcpyHtoDAsync");
        Pointer p = host("copyHostToDevice", host).withByteOffset(hostOffset);
        call("cuMemcpyHtoDAsync", () -> cuMemcpyHtoDAsync(at(dst), p, bytes, stream));
    }

    @Override public synchronized void launch(String kernel, int[] grid, int[] block, int sharedBytes, KernelArgs args) {
        bind("launch " + kernel);
        int[] g = dims(grid), b = dims(block);
        CUfunction f = function(kernel);
        if (sharedBytes > 48 * 1024 && sharedSet.getOrDefault(kernel, 0) < sharedBytes) {
            if (sharedBytes > maxSharedOptin)
                throw new CudaError(where(kernel, g, b, sharedBytes, args) + ": more dynamic shared memory than the GPU's "
                        + maxSharedOptin + " B");
            call("cuFuncSetAttribute(MAX_DYNAMIC_SHARED_SIZE_BYTES) for " + kernel, () -> cuFuncSetAttribute(f,
                    CUfunction_attribute.CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES, sharedBytes));
            sharedSet.put(kernel, sharedBytes);
        }
        int n = args.size();
        if (n > 64) throw new CudaError(kernel + ": more than 64 kernel arguments");
        NativePointerObject[] params = new NativePointerObject[n];
        for (int i = 0; i < n; i++) {
            long v = args.slot(i);
            switch (args.kind(i)) {
                case PTR:
                case I64: longArg[i][0] = v; params[i] = longPtr[i]; break;
                case I32: intArg[i][0] = (int) v; params[i] = intPtr[i]; break;
                case F32: floatArg[i][0] = Float.intBitsToFloat((int) v); params[i] = floatPtr[i]; break;
                default: throw new IllegalStateException(args.kind(i).toString());
            }
        }
        int r;
        try {
            r = cuLaunchKernel(f, g[0], g[1], g[2], b[0], b[1], b[2], sharedBytes, stream, Pointer.to(params), null);
        } catch (CudaException e) {
            throw new CudaError("cuLaunchKernel " + where(kernel, g, b, sharedBytes, args) + ": " + e.getMessage(), e);
        }
        if (r != 0) throw new CudaError("cuLaunchKernel " + where(kernel, g, b, sharedBytes, args) + ": "
                + jcuda.driver.CUresult.stringFor(r));
        if (syncEveryLaunch && !capturing)
            call("cuCtxSynchronize after " + where(kernel, g, b, sharedBytes, args), () -> cuCtxSynchronize());
    }

    /** The launch, for messages (built only when one is needed). */
    private static String where(String kernel, int[] g, int[] b, int sharedBytes, KernelArgs args) {
        return "kernel " + kernel + " grid (" + g[0] + "," + g[1] + "," + g[2] + ") block (" + b[0] + "," + b[1] + ","
                + b[2] + ") shared " + sharedBytes + " B args " + args;
    }

    @Override public synchronized long graphCapture(Runnable issue) {
        bind("cuStreamBeginCapture");
        if (capturing) throw new CudaError("graphCapture: a capture is already under way");
        call("cuStreamBeginCapture", () -> cuStreamBeginCapture(stream, CUstreamCaptureMode.CU_STREAM_CAPTURE_MODE_RELAXED));
        capturing = true;
        CUgraph graph = new CUgraph();
        try {
            issue.run();
        } catch (RuntimeException e) {
            capturing = false;
            try {
                cuStreamEndCapture(stream, graph);
                cuGraphDestroy(graph);
            } catch (RuntimeException ignored) { }   // the capture's own error is the one to report
            throw e;
        }
        capturing = false;
        call("cuStreamEndCapture", () -> cuStreamEndCapture(stream, graph));
        CUgraphExec exec = new CUgraphExec();
        try {
            call("cuGraphInstantiate", () -> cuGraphInstantiate(exec, graph, 0));
        } finally {
            call("cuGraphDestroy", () -> cuGraphDestroy(graph));
        }
        graphs.put(nextGraph, exec);
        return nextGraph++;
    }

    @Override public synchronized void graphLaunch(long graph) {
        bind("cuGraphLaunch");
        CUgraphExec e = graphs.get(graph);
        if (e == null) throw new CudaError("graphLaunch: no graph #" + graph);
        call("cuGraphLaunch", () -> cuGraphLaunch(e, stream));
    }

    @Override public synchronized void graphDestroy(long graph) {
        CUgraphExec e = graphs.remove(graph);
        if (e == null || closed) return;
        bind("cuGraphExecDestroy");
        call("cuGraphExecDestroy", () -> cuGraphExecDestroy(e));
    }

    @Override public void synchronize() {
        bind("cuCtxSynchronize");
        if (capturing) throw new CudaError("synchronize: not allowed while a graph is being captured");
        call("cuCtxSynchronize", () -> cuCtxSynchronize());
    }

    @Override public long[] memInfo() {
        bind("cuMemGetInfo");
        long[] free = {0}, total = {0};
        call("cuMemGetInfo", () -> cuMemGetInfo(free, total));
        return new long[] {free[0], total[0]};
    }

    @Override public long eventCreate() {
        bind("cuEventCreate");
        CUevent e = new CUevent();
        call("cuEventCreate", () -> cuEventCreate(e, CUevent_flags.CU_EVENT_DEFAULT));
        long id = nextEvent++;
        events.put(id, e);
        return id;
    }

    private CUevent event(String what, long id) {
        CUevent e = events.get(id);
        if (e == null) throw new CudaError(what + ": no event #" + id + " (destroyed, or from another device)");
        return e;
    }

    @Override public void eventRecord(long id) {
        bind("cuEventRecord");
        CUevent e = event("cuEventRecord", id);
        call("cuEventRecord", () -> cuEventRecord(e, stream));
    }

    @Override public void eventSynchronize(long id) {
        bind("cuEventSynchronize");
        CUevent e = event("cuEventSynchronize", id);
        call("cuEventSynchronize", () -> cuEventSynchronize(e));
    }

    @Override public float eventElapsedMs(long start, long end) {
        bind("cuEventElapsedTime");
        CUevent s = event("cuEventElapsedTime", start), e = event("cuEventElapsedTime", end);
        call("cuEventSynchronize", () -> cuEventSynchronize(e));
        float[] ms = {0};
        call("cuEventElapsedTime", () -> cuEventElapsedTime(ms, s, e));
        return ms[0];
    }

    @Override public void eventDestroy(long id) {
        CUevent e = events.remove(id);
        if (e == null || closed) return;   // cuCtxDestroy frees a closed context's events
        bind("cuEventDestroy");
        call("cuEventDestroy", () -> cuEventDestroy(e));
    }

    @Override public void close() {
        if (closed) return;
        closed = true;
        events.clear();
        graphs.clear();   // cuCtxDestroy frees them, the stream and the pinned buffers
        hostBuffers.clear();
        functions.clear();
        modules.clear();
        call("cuCtxDestroy", () -> cuCtxDestroy(context));
        binding.destroyed();
    }

    private static int[] dims(int[] d) {
        if (d == null || d.length < 1 || d.length > 3) throw new CudaError("launch: grid and block need 1 to 3 dimensions");
        int[] r = {1, 1, 1};
        System.arraycopy(d, 0, r, 0, d.length);
        return r;
    }

    private static void checkRange(String call, int length, int off, int count) {
        if (off < 0 || count < 0 || off + count > length || off + count < 0)
            throw new CudaError(call + ": range [" + off + ", " + off + "+" + count + ") outside an array of " + length);
    }
}
