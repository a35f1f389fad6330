package convunext.backend.cuda;

import static convunext.backend.OpShapes.of;

import convunext.backend.Backend;
import convunext.backend.LossResult;
import convunext.backend.OpShapes;
import convunext.backend.Precision;
import convunext.backend.cuda.ops.AdamWOps;
import convunext.backend.cuda.ops.AddOps;
import convunext.backend.cuda.ops.BatchNormOps;
import convunext.backend.cuda.ops.Conv2dOps;
import convunext.backend.cuda.ops.DwConv7Ops;
import convunext.backend.cuda.ops.GateOps;
import convunext.backend.cuda.ops.GeluOps;
import convunext.backend.cuda.ops.Launcher;
import convunext.backend.cuda.ops.LayerNormOps;
import convunext.backend.cuda.ops.LayoutOps;
import convunext.backend.cuda.ops.LinearCatOps;
import convunext.backend.cuda.ops.LinearOps;
import convunext.backend.cuda.ops.LossOps;
import convunext.backend.cuda.ops.MemoryOps;
import convunext.backend.cuda.ops.UpsampleOps;
import convunext.tensor.Shapes;
import convunext.tensor.Tensor;

/**
 * The CUDA backend: every op is one or a few launches of our kernels (kernels/*.cu) on a
 * {@link Device} — a GPU through JCuda or the emulator; the launch code is the same for both.
 * Tensor storage is a {@link DeviceBuffer} from a caching {@link DevicePool}; views share their
 * owner's buffer at an element offset. The backend owns the device and closes it.
 *
 * <p>{@link #linearGelu} / {@link #linearBackwardDataGelu} run gemm.cu's fused GELU epilogues by
 * default, with or without cuBLAS (they save a pass over the 4C-channel hidden tensor);
 * {@code -Dconvunext.cuda.fuseGelu=false} selects the composition instead (the GEMM, or its data
 * gradient alone, on cuBLAS when present, then gelu.cu's kernels), so a device run can compare both.
 * The same switch selects, for {@link #addGelu}, gelu.cu's add_gelu_forward or add then gelu.
 */
public final class CudaBackend implements Backend {
    private final Device device;
    private final DevicePool pool;
    private final Launcher k;
    private final MemoryOps memory;
    private final AddOps add;
    private final LinearOps gemm;
    private final LinearCatOps gemmCat;
    private final Conv2dOps conv;
    private final DwConv7Ops dwconv;
    private final BatchNormOps bn;
    private final LayerNormOps ln;
    private final GeluOps gelu;
    private final GateOps gate;
    private final UpsampleOps upsample;
    private final LayoutOps layout;
    private final LossOps loss;
    private final AdamWOps adamw;
    private final CublasGemm cublas;
    private final String cublasLine;
    private final boolean fuseGelu;
    private final Precision precision;
    private final StepGraphs graphs;
    private boolean closed;

    /** The GELU epilogues fused unless {@code -Dconvunext.cuda.fuseGelu=false}. */
    public CudaBackend(Device device) {
        this(device, !"false".equalsIgnoreCase(System.getProperty("convunext.cuda.fuseGelu", "true")));
    }

    /** {@code fuseGelu}: GELU in the GEMM epilogues (true) or the linear + gelu.cu composition. */
    public CudaBackend(Device device, boolean fuseGelu) { this(device, fuseGelu, Precision.FP32); }

    /**
     * {@code precision}: TF32 or bf16 launch, for every kernel K that has a tensor-core form, the
     * kernel {@code K_tf32} / {@code K_bf16} (same signature; see kernels/README.md) instead of K;
     * a precision for which this build has no such kernel at all is refused, so that
     * {@code --precision bf16} never silently runs fp32.
     */
    public CudaBackend(Device device, boolean fuseGelu, Precision precision) {
        this(device, fuseGelu, precision, !"false".equalsIgnoreCase(System.getProperty("convunext.cuda.graphs", "true")));
    }

    /** {@code graphs}: whether repeated step scopes are captured and replayed (StepGraphs); off: always eager. */
    public CudaBackend(Device device, boolean fuseGelu, Precision precision, boolean useGraphs) {
        this.device = device;
        this.fuseGelu = fuseGelu;
        this.precision = precision;
        // cuBLAS's SGEMM is fp32: with tf32 / bf16 the products run gemm.cu's tensor-core forms instead.
        CublasGemm.Probe blas = precision == Precision.FP32 ? CublasGemm.open(device)
                : new CublasGemm.Probe(null, "not used: --precision " + precision + " runs gemm.cu's tensor-core kernels");
        this.cublas = blas.gemm();
        this.cublasLine = blas.line();
        // cuBLAS queues its own work (not through StepGraphs): no graphs then.
        this.graphs = new StepGraphs(device, cublas == null && useGraphs);
        this.pool = new DevicePool(device, graphs);
        graphs.steadyPool(pool::canonicalize, pool::driverAllocations);
        this.k = new Launcher(this, pool, graphs, precision);
        if (precision != Precision.FP32 && k.tensorCoreKernels() == 0) {
            pool.close();
            if (cublas != null) cublas.close();
            throw new IllegalArgumentException("--precision " + precision + ": this build has no tensor-core kernels "
                    + "(no kernel named *_" + precision + " in kernels/*.cu); use --precision fp32");
        }
        this.memory = new MemoryOps(k);
        this.add = new AddOps(k);
        this.gemm = new LinearOps(k, cublas);
        this.gemmCat = new LinearCatOps(k, gemm);
        this.conv = new Conv2dOps(k, gemm);
        this.dwconv = new DwConv7Ops(k);
        this.bn = new BatchNormOps(k);
        this.ln = new LayerNormOps(k);
        this.gelu = new GeluOps(k);
        this.gate = new GateOps(k);
        this.upsample = new UpsampleOps(k);
        this.layout = new LayoutOps(k);
        this.loss = new LossOps(k);
        this.adamw = new AdamWOps(k);
    }

    /**
     * Opens the backend on a device of {@code kind}: "emulated" (the g++-built emulator) or
     * "cuda" (a GPU through JCuda), through {@link Devices#open}. Called by
     * {@code convunext.backend.all.Backends}.
     */
    public static CudaBackend open(String kind) { return open(kind, Precision.FP32); }

    /** The same in {@code precision} (closing the device again when the backend refuses it). */
    public static CudaBackend open(String kind, Precision precision) {
        Device d = Devices.open(kind);
        try {
            return new CudaBackend(d, !"false".equalsIgnoreCase(System.getProperty("convunext.cuda.fuseGelu", "true")), precision);
        } catch (RuntimeException e) {
            d.close();
            throw e;
        }
    }

    @Override public Precision precision() { return precision; }

    @Override public StepScope step(String key) { return graphs.step(key); }

    /** Graphs captured and replayed so far, and the last reason a step could not be replayed. */
    public String graphStats() { return graphs.stats(); }

    /** {captured, replays, misses} of the step graphs. */
    public long[] graphCounts() { return new long[]{graphs.captured(), graphs.replayed(), graphs.misses()}; }

    public Device device() { return device; }

    public DevicePool pool() { return pool; }

    @Override public long[] deviceMemoryPeak() { return new long[]{pool.peakBytesInUse(), pool.peakBytesReserved()}; }

    @Override public void resetDeviceMemoryPeak() { pool.resetPeak(); }

    @Override public convunext.backend.EventTimer eventTimer() {
        graphs.needResults("an event");
        return new DeviceEventTimer(device);
    }

    /** Kernel launches so far. */
    public long launches() { return k.launches(); }

    @Override public String name() { return device.kind(); }

    /** cuBLAS for linear and 1x1 convolutions, or null (our gemm.cu). */
    public CublasGemm cublas() { return cublas; }

    /** Whether linearGelu / linearBackwardDataGelu run the fused GEMM epilogues. */
    public boolean fusesGelu() { return fuseGelu; }

    /** "used for linear (version …)" or "not used: why" (the probe's line). */
    public String cublasLine() { return cublasLine; }

    /** The launcher every op uses: for baselines that pair vendor calls with our kernels (bench). */
    public Launcher launcher() { return k; }

    @Override public String describe() {
        return "CUDA kernels (kernels/*.cu) on " + device.describe() + "; " + pool + "; cuBLAS " + cublasLine
                + "; GELU " + (fuseGelu ? "fused into the GEMM epilogues" : "composed (-Dconvunext.cuda.fuseGelu=false)")
                + "; " + graphs.stats() + "; precision " + precision + (precision == Precision.FP32 ? "" : " (" + k.tensorCoreKernels() + " kernels in tensor-core form)");
    }

    // ------------------------------------------------------------------ memory

    @Override public Tensor empty(int... shape) { return k.empty(shape); }

    @Override public Tensor zeros(int... shape) { return k.zeros(shape); }

    @Override public Tensor upload(float[] data, int... shape) {
        long n = Shapes.numel(shape);
        Shapes.require(data.length == n, "upload", "data has " + data.length + " floats, shape "
                + java.util.Arrays.toString(shape) + " needs " + n);
        Tensor t = k.empty(shape);
        if (n > 0) k.copyHtoD(k.ptr(t), data, 0, (int) n);
        return t;
    }

    @Override public float[] download(Tensor t) {
        float[] a = new float[t.size()];
        if (a.length > 0) k.copyDtoH(a, 0, k.ptr(t), a.length);
        return a;
    }

    @Override public Tensor view(Tensor base, long offset, int... shape) {
        DeviceBuffer b = (DeviceBuffer) base.storage();
        long n = Shapes.numel(shape);
        long start = base.offset() + offset;
        Shapes.require(offset >= 0 && offset + n <= base.numel(), "view",
                "elements [" + offset + ", " + (offset + n) + ") outside base " + base.shapeString());
        k.ptr(base);   // checks ownership
        return new Tensor(this, b.asView(), start, shape);
    }

    @Override public void release(Tensor t) {
        if (t == null) return;
        if (t.owner() != this) throw new IllegalArgumentException("release: tensor " + t + " is not from this backend");
        DeviceBuffer b = (DeviceBuffer) t.storage();
        if (b.isView()) return;
        pool.release(b);
    }

    @Override public void copy(Tensor src, Tensor dst) { memory.copy(src, dst); }

    @Override public void fill(Tensor t, float v) { memory.fill(t, v); }

    @Override public void addInPlace(Tensor dst, Tensor src) {
        OpShapes.addInPlace(of(dst), of(src));
        add.addInPlace(dst, src);
    }

    @Override public void sync() {
        graphs.needResults("a synchronise");
        device.synchronize();
    }

    @Override public void close() {
        if (closed) return;
        closed = true;
        try {
            device.synchronize();
            graphs.close();
            if (cublas != null) cublas.close();
        } finally {
            pool.close();
            device.close();
        }
    }

    // ------------------------------------------------------------------ ops

    @Override public Tensor conv2d(Tensor x, Tensor w, Tensor b, int stride, int pad, boolean reflect) {
        OpShapes.conv2d(of(x), of(w), of(b), stride, pad, reflect);
        return conv.conv2d(x, w, b, stride, pad, reflect);
    }

    @Override public Tensor[] conv2dBackward(Tensor x, Tensor w, Tensor dy, int stride, int pad, boolean reflect,
                                             boolean needDx, boolean hasBias) {
        OpShapes.conv2dBackward(of(x), of(w), of(dy), stride, pad, reflect);
        return conv.conv2dBackward(x, w, dy, stride, pad, reflect, needDx, hasBias);
    }

    @Override public Tensor[] conv2dBackwardInto(Tensor x, Tensor w, Tensor dy, int stride, int pad, boolean reflect,
                                                 boolean needDx, boolean hasBias, Tensor dxInto, Tensor dwInto, Tensor dbInto) {
        OpShapes.conv2dBackward(of(x), of(w), of(dy), stride, pad, reflect);
        return conv.conv2dBackwardInto(x, w, dy, stride, pad, reflect, needDx, hasBias, dxInto, dwInto, dbInto);
    }

    @Override public Tensor linear(Tensor x, Tensor w, Tensor b) {
        OpShapes.linear(of(x), of(w), of(b));
        return gemm.linear(x, w, b);
    }

    @Override public Tensor[] linearBackward(Tensor x, Tensor w, Tensor dy, boolean needDx, boolean hasBias) {
        OpShapes.linearBackward(of(x), of(w), of(dy));
        return gemm.linearBackward(x, w, dy, needDx, hasBias);
    }

    @Override public Tensor[] linearBackwardInto(Tensor x, Tensor w, Tensor dy, boolean needDx, boolean hasBias,
                                                 Tensor dxInto, Tensor dwInto, Tensor dbInto) {
        OpShapes.linearBackward(of(x), of(w), of(dy));
        return gemm.linearBackwardInto(x, w, dy, needDx, hasBias, dxInto, dwInto, dbInto);
    }

    @Override public Tensor linearCat(Tensor a, Tensor b, Tensor w, Tensor bias) {
        OpShapes.linearCat(of(a), of(b), of(w), of(bias));
        return gemmCat.linearCat(a, b, w, bias);
    }

    @Override public Tensor[] linearCatBackward(Tensor a, Tensor b, Tensor w, Tensor dy, boolean needDa, boolean needDb,
                                                boolean hasBias) {
        return linearCatBackwardInto(a, b, w, dy, needDa, needDb, hasBias, null, null, null, null);
    }

    @Override public Tensor[] linearCatBackwardInto(Tensor a, Tensor b, Tensor w, Tensor dy, boolean needDa, boolean needDb,
                                                    boolean hasBias, Tensor daInto, Tensor dbInto, Tensor dwInto, Tensor dbiasInto) {
        OpShapes.linearCatBackward(of(a), of(b), of(w), of(dy));
        return gemmCat.linearCatBackwardInto(a, b, w, dy, needDa, needDb, hasBias, daInto, dbInto, dwInto, dbiasInto);
    }

    /**
     * The MLP's backward with every gradient added where it is produced: pwconv2's weight reduce
     * adds into dw2 / db2, pwconv1's data GEMM epilogue into dx and its reduce into dw1 / db1 (the
     * default would compute them fresh and add them in separate passes). s is pre (the default
     * {@link #mlp} keeps it), which linearBackwardDataGelu reads.
     */
    @Override public Tensor[] mlpBackwardInto(Tensor x, Tensor w1, Tensor w2, Tensor gy, Tensor h, Tensor s, boolean needDx,
                                              boolean hasB1, boolean hasB2, Tensor dxInto, Tensor dw1Into, Tensor db1Into,
                                              Tensor dw2Into, Tensor db2Into) {
        OpShapes.mlpBackward(of(x), of(w1), of(w2), of(gy), of(h), of(s));
        Tensor[] r2 = gemm.linearBackwardInto(h, w2, gy, false, hasB2, null, dw2Into, db2Into);
        Tensor dpre = linearBackwardDataGelu(w2, gy, s);
        try {
            Tensor[] r1 = gemm.linearBackwardInto(x, w1, dpre, needDx, hasB1, dxInto, dw1Into, db1Into);
            return new Tensor[]{r1[0], r1[1], r1[2], r2[1], r2[2]};
        } finally {
            release(dpre);
        }
    }

    @Override public Tensor[] linearGelu(Tensor x, Tensor w, Tensor b, boolean keepPre) {
        OpShapes.linearGelu(of(x), of(w), of(b));
        if (fuseGelu) return gemm.linearGelu(x, w, b, keepPre);
        Tensor pre = linear(x, w, b), h = gelu(pre);
        if (!keepPre) { release(pre); pre = null; }
        return new Tensor[]{h, pre};
    }

    @Override public Tensor linearBackwardDataGelu(Tensor w, Tensor dy, Tensor pre) {
        OpShapes.linearBackwardDataGelu(of(w), of(dy), of(pre));
        if (fuseGelu) return gemm.linearBackwardDataGelu(w, dy, pre);
        Tensor dh = gemm.linearBackwardData(w, dy, pre);
        Tensor d = geluBackward(pre, dh);
        release(dh);
        return d;
    }

    @Override public Tensor dwconv7(Tensor x, Tensor w, Tensor b) {
        OpShapes.dwconv7(of(x), of(w), of(b));
        return dwconv.dwconv7(x, w, b);
    }

    @Override public Tensor[] dwconv7Backward(Tensor x, Tensor w, Tensor dy) {
        OpShapes.dwconv7Backward(of(x), of(w), of(dy));
        return dwconv.dwconv7Backward(x, w, dy);
    }

    @Override public Tensor[] dwconv7BackwardInto(Tensor x, Tensor w, Tensor dy, Tensor dxInto, Tensor dwInto, Tensor dbInto) {
        OpShapes.dwconv7Backward(of(x), of(w), of(dy));
        return dwconv.dwconv7BackwardInto(x, w, dy, dxInto, dwInto, dbInto);
    }

    @Override public Tensor[] dwconv7Batchnorm(Tensor x, Tensor w, Tensor b, Tensor gamma, Tensor beta, Tensor runMean,
                                               Tensor runVar, float momentum, float eps) {
        OpShapes.dwconv7(of(x), of(w), of(b));
        OpShapes.batchnormTrain(of(x), of(gamma), of(beta), of(runMean), of(runVar));
        return bn.dwconv7Batchnorm(dwconv, x, w, b, gamma, beta, runMean, runVar, momentum, eps);
    }

    @Override public Tensor[] batchnormTrain(Tensor x, Tensor gamma, Tensor beta, Tensor runMean, Tensor runVar,
                                             float momentum, float eps) {
        OpShapes.batchnormTrain(of(x), of(gamma), of(beta), of(runMean), of(runVar));
        return bn.batchnormTrain(x, gamma, beta, runMean, runVar, momentum, eps);
    }

    @Override public Tensor batchnormEval(Tensor x, Tensor gamma, Tensor beta, Tensor runMean, Tensor runVar, float eps) {
        OpShapes.batchnormEval(of(x), of(gamma), of(beta), of(runMean), of(runVar));
        return bn.batchnormEval(x, gamma, beta, runMean, runVar, eps);
    }

    @Override public Tensor[] batchnormBackward(Tensor x, Tensor dy, Tensor gamma, Tensor mean, Tensor invstd) {
        OpShapes.batchnormBackward(of(x), of(dy), of(gamma), of(mean), of(invstd));
        return bn.batchnormBackward(x, dy, gamma, mean, invstd);
    }

    @Override public Tensor[] batchnormBackwardInto(Tensor x, Tensor dy, Tensor gamma, Tensor mean, Tensor invstd,
                                                    Tensor dxInto, Tensor dgammaInto, Tensor dbetaInto) {
        OpShapes.batchnormBackward(of(x), of(dy), of(gamma), of(mean), of(invstd));
        return bn.batchnormBackwardInto(x, dy, gamma, mean, invstd, dxInto, dgammaInto, dbetaInto);
    }

    /** BN and the residual GELU in the BN's launches (with -Dconvunext.cuda.fuseGelu=false: the composition). */
    @Override public Tensor[] batchnormAddGelu(Tensor x, Tensor res, Tensor gamma, Tensor beta, Tensor runMean, Tensor runVar,
                                               float momentum, float eps, boolean keepPre) {
        OpShapes.batchnormTrain(of(x), of(gamma), of(beta), of(runMean), of(runVar));
        if (res != null) OpShapes.addGelu(of(res), of(x));
        if (!fuseGelu) return Backend.super.batchnormAddGelu(x, res, gamma, beta, runMean, runVar, momentum, eps, keepPre);
        return bn.batchnormAddGelu(x, res, gamma, beta, runMean, runVar, momentum, eps, keepPre);
    }

    @Override public Tensor[] batchnormAddGeluStats(Tensor x, Tensor res, Tensor gamma, Tensor beta, Tensor runMean,
                                                    Tensor runVar, float momentum, float eps, boolean keepPre) {
        OpShapes.batchnormTrain(of(x), of(gamma), of(beta), of(runMean), of(runVar));
        if (res != null) OpShapes.addGelu(of(res), of(x));
        if (!fuseGelu) return Backend.super.batchnormAddGeluStats(x, res, gamma, beta, runMean, runVar, momentum, eps, keepPre);
        return bn.batchnormAddGeluStats(x, res, gamma, beta, runMean, runVar, momentum, eps, keepPre);
    }

    @Override public Tensor[] batchnormTrainStats(Tensor x, Tensor stats, Tensor gamma, Tensor beta, Tensor runMean,
                                                  Tensor runVar, float momentum, float eps) {
        OpShapes.batchnormTrain(of(x), of(gamma), of(beta), of(runMean), of(runVar));
        return bn.batchnormTrainStats(x, stats, gamma, beta, runMean, runVar, momentum, eps);
    }

    @Override public Tensor[] batchnormAddGeluBackwardInto(Tensor x, Tensor dout, Tensor pre, Tensor gamma, Tensor mean,
                                                           Tensor invstd, Tensor dresInto, Tensor dxInto, Tensor dgammaInto,
                                                           Tensor dbetaInto) {
        OpShapes.batchnormBackward(of(x), of(dout), of(gamma), of(mean), of(invstd));
        OpShapes.geluBackward(of(pre), of(dout));
        if (!fuseGelu)
            return Backend.super.batchnormAddGeluBackwardInto(x, dout, pre, gamma, mean, invstd, dresInto, dxInto, dgammaInto, dbetaInto);
        return bn.batchnormAddGeluBackwardInto(x, dout, pre, gamma, mean, invstd, dresInto, dxInto, dgammaInto, dbetaInto);
    }

    @Override public Tensor[] layernorm(Tensor x, Tensor gamma, Tensor beta, float eps) {
        OpShapes.layernorm(of(x), of(gamma), of(beta));
        return ln.layernorm(x, gamma, beta, eps);
    }

    @Override public Tensor[] layernormBackward(Tensor x, Tensor dy, Tensor gamma, Tensor mean, Tensor invstd) {
        OpShapes.layernormBackward(of(x), of(dy), of(gamma), of(mean), of(invstd));
        return ln.layernormBackward(x, dy, gamma, mean, invstd);
    }

    @Override public Tensor gelu(Tensor x) { return gelu.gelu(x); }

    @Override public Tensor geluBackward(Tensor x, Tensor dy) {
        OpShapes.geluBackward(of(x), of(dy));
        return gelu.geluBackward(x, dy);
    }

    @Override public Tensor add(Tensor a, Tensor b) {
        OpShapes.add(of(a), of(b));
        return add.add(a, b);
    }

    @Override public Tensor[] addGelu(Tensor a, Tensor b, boolean keepPre) {
        OpShapes.addGelu(of(a), of(b));
        if (fuseGelu) return gelu.addGelu(a, b, keepPre);
        Tensor pre = add(a, b), out = gelu(pre);
        if (!keepPre) { release(pre); pre = null; }
        return new Tensor[]{out, pre};
    }

    @Override public Tensor gateIn(Tensor g, Tensor s) {
        OpShapes.gateIn(of(g), of(s));
        return gate.gateIn(g, s);
    }

    @Override public Tensor gateOut(Tensor a, Tensor s, Tensor g) {
        OpShapes.gateOut(of(a), of(s), of(g));
        return gate.gateOut(a, s, g);
    }

    @Override public Tensor[] gateOutBackward(Tensor a, Tensor s, Tensor g, Tensor dout) {
        OpShapes.gateOutBackward(of(a), of(s), of(g), of(dout));
        return gate.gateOutBackward(a, s, g, dout);
    }

    @Override public Tensor gateInBackward(Tensor du, int threeC) {
        OpShapes.gateInBackward(of(du), threeC);
        return gate.gateInBackward(du, threeC);
    }

    @Override public Tensor gateInBackwardInto(Tensor du, int threeC, Tensor dgInto) {
        OpShapes.gateInBackward(of(du), threeC);
        return gate.gateInBackwardInto(du, threeC, dgInto);
    }

    @Override public Tensor gateInBackwardInto(Tensor du, int threeC, Tensor dgInto, Tensor dsInto) {
        OpShapes.gateInBackward(of(du), threeC);
        return gate.gateInBackwardInto(du, threeC, dgInto, dsInto);
    }

    @Override public Tensor upsample2x(Tensor x) {
        OpShapes.upsample2x(of(x));
        return upsample.upsample2x(x);
    }

    @Override public Tensor upsample2xBackward(Tensor dy) {
        OpShapes.upsample2xBackward(of(dy));
        return upsample.upsample2xBackward(dy);
    }

    @Override public Tensor pad2d(Tensor x, int top, int bottom, int left, int right) {
        OpShapes.pad2d(of(x), top, bottom, left, right);
        return layout.pad2d(x, top, bottom, left, right);
    }

    @Override public Tensor pad2dBackward(Tensor dy, int top, int left, int h, int w) {
        OpShapes.pad2dBackward(of(dy), top, left, h, w);
        return layout.pad2dBackward(dy, top, left, h, w);
    }

    @Override public Tensor concat(Tensor a, Tensor b) {
        OpShapes.concat(of(a), of(b));
        return layout.concat(a, b);
    }

    @Override public Tensor sliceChannels(Tensor x, int c0, int c1) {
        OpShapes.sliceChannels(of(x), c0, c1);
        return layout.sliceChannels(x, c0, c1);
    }

    @Override public Tensor[] concatBackward(Tensor dy, int ca) {
        OpShapes.sliceChannels(of(dy), 0, ca);
        return layout.concatBackward(dy, ca);
    }

    @Override public LossResult ceDiceLoss(Tensor logits, Tensor target) {
        OpShapes.ceDiceLoss(of(logits), of(target));
        return loss.ceDiceLoss(logits, target);
    }

    @Override public void adamw(Tensor p, Tensor g, Tensor m, Tensor v, float lr, float beta1, float beta2, float eps,
                                float weightDecay, int step) {
        OpShapes.adamw(of(p), of(g), of(m), of(v), step);
        adamw.adamw(p, g, m, v, lr, beta1, beta2, eps, weightDecay, step);
    }
}
