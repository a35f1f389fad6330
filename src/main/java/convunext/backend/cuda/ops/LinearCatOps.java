package convunext.backend.cuda.ops;

import convunext.backend.cuda.DeviceBuffer;
import convunext.backend.cuda.Kernels;
import convunext.tensor.Shapes;
import convunext.tensor.Tensor;

/**
 * Launches gemm_cat.cu: a Linear (1x1 convolution) over the channel concatenation of a [N,Ca,H,W]
 * and b [N,Cb,H,W] without the concatenated tensor. One launch per product, as for a plain
 * Linear: y = W . cat(a, b) + bias (the forward's B loader reads rows k &lt; Ca from a, the rest
 * from b), cat(da, db) = W^T . dy (the data GEMM's store writes rows m &lt; Ca to da, the rest to
 * db) and dW, dbias = sum_n dy[n] . cat(a, b)[n]^T (split-K, the B loader as the forward's). The
 * concat_forward / concat_backward_split launches and their bytes (the Up block's 2C-channel
 * tensor written and read, its gradient written and read) are gone.
 *
 * <p>Geometry, tiles, split-K and the ticket counters are {@link LinearOps}' for the same M, N, K,
 * so every element is the same sum in the same order as gemm.cu on the materialised concat
 * (LinearCatKernelsTest checks this bit for bit in every precision). Runs gemm_cat.cu also when the
 * backend has cuBLAS: the point is the concat it saves, which a cuBLAS GEMM would need.
 */
public final class LinearCatOps {
    private final Launcher k;
    private final LinearOps gemm;

    /** {@code gemm}: the plain Linear's launcher, whose ticket counters the weight gradient shares. */
    public LinearCatOps(Launcher k, LinearOps gemm) {
        this.k = k;
        this.gemm = gemm;
    }

    /** y [N,Co,H,W] = w[:, :Ca] . a + w[:, Ca:] . b + bias; shapes checked by the caller (OpShapes.linearCat). */
    public Tensor linearCat(Tensor a, Tensor b, Tensor w, Tensor bias) {
        String op = "linearCat";
        int n = a.dim(0), ca = a.dim(1), cb = b.dim(1), h = a.dim(2), wd = a.dim(3), co = w.dim(0), kk = ca + cb, p = h * wd;
        Tensor y = k.empty(n, co, h, wd);
        if ((long) n * co * p == 0) return y;
        int[][] g = LinearOps.grid(n, co, p, kk);
        LinearOps.pick(LinearOps.bm(co), Kernels::gemm_cat_forward_bm128, Kernels::gemm_cat_forward_bm64,
                        Kernels::gemm_cat_forward_bm32, k.at(op, new Tensor[]{a, b, w, bias, y}, g[0], LinearOps.tileBlock(), 0))
                .A(k.ptr(w)).B0(k.ptr(a)).B1(k.ptr(b)).bias(k.ptrOrNull(bias)).C(k.ptr(y))
                .M(co).N(p).K(kk).split(ca).strideB0((long) ca * p).strideB1((long) cb * p).strideC((long) co * p)
                .tpb(g[1][0]).launch();
        return y;
    }

    /**
     * {da, db, dw, dbias}, each added into its {@code *Into} where non-null (returned in its slot):
     * the data GEMM's store adds to da / db, the weight gradient's finish to dw / dbias.
     */
    public Tensor[] linearCatBackwardInto(Tensor a, Tensor b, Tensor w, Tensor dy, boolean needDa, boolean needDb,
                                          boolean hasBias, Tensor daInto, Tensor dbInto, Tensor dwInto, Tensor dbiasInto) {
        String op = "linearCatBackward";
        int n = a.dim(0), ca = a.dim(1), cb = b.dim(1), h = a.dim(2), wd = a.dim(3), co = w.dim(0), kk = ca + cb, p = h * wd;
        if (daInto != null) Shapes.same(op, a, daInto);
        if (dbInto != null) Shapes.same(op, b, dbInto);
        if (dwInto != null) Shapes.same(op, w, dwInto);
        if (dbiasInto != null) Shapes.shape(op, "dbias", dbiasInto, co);
        Tensor da = daInto != null ? daInto : needDa ? k.empty(n, ca, h, wd) : null;
        Tensor db = dbInto != null ? dbInto : needDb ? k.empty(n, cb, h, wd) : null;
        if ((da != null || db != null) && (long) n * p > 0) {
            if (co == 0) {   // w^T . dy = 0
                if (da != null && daInto == null) k.memsetZero(k.ptr(da), da.numel() * 4L);
                if (db != null && dbInto == null) k.memsetZero(k.ptr(db), db.numel() * 4L);
            } else {
                int[][] g = LinearOps.grid(n, kk, p, co);
                LinearOps.pick(LinearOps.bm(kk), Kernels::gemm_cat_backward_data_bm128, Kernels::gemm_cat_backward_data_bm64,
                                Kernels::gemm_cat_backward_data_bm32,
                                k.at(op, new Tensor[]{w, dy, da, db}, g[0], LinearOps.tileBlock(), 0))
                        .A(k.ptr(w)).B(k.ptr(dy)).D0(k.ptrOrNull(da)).D1(k.ptrOrNull(db))
                        .M(kk).N(p).K(co).split(ca).strideB((long) co * p).strideD0((long) ca * p).strideD1((long) cb * p)
                        .tpb(g[1][0]).acc0(daInto != null ? 1 : 0).acc1(dbInto != null ? 1 : 0).launch();
            }
        }
        Tensor dw = dwInto != null ? dwInto : k.empty(w.shape());
        Tensor dbias = dbiasInto != null ? dbiasInto : hasBias ? k.empty(co) : null;
        weight(op, dy, a, b, dw, dbias, n, co, ca, kk, p, (dwInto != null ? 1 : 0) | (dbiasInto != null ? 2 : 0));
        return new Tensor[]{da, db, dw, dbias};
    }

    /** LinearOps.backwardWeight's gemm.cu path with B = cat(a, b) read in place (nc = Ca + Cb). */
    private void weight(String op, Tensor dy, Tensor a, Tensor b, Tensor dw, Tensor dbias, int n, int m, int ca, int nc, int p,
                        int accumulate) {
        if (m == 0) return;
        if ((long) n * p == 0) {   // an empty sum
            if ((accumulate & 1) == 0) k.memsetZero(k.ptr(dw), (long) m * nc * 4L);
            if (dbias != null && (accumulate & 2) == 0) k.memsetZero(k.ptr(dbias), m * 4L);
            return;
        }
        int[] t = LinearOps.weightTile(m, nc);
        int[] split = LinearOps.splitK(n, m, nc, p, t);
        int cpi = split[0], len = split[1], s = n * cpi, gx = Launcher.ceilDiv(nc, t[1]), gy = Launcher.ceilDiv(m, t[0]);
        long ss = LinearOps.partialStride(m, nc);
        int g = LinearOps.group(s);
        long tk = gemm.tickets((long) gx * gy * (Launcher.ceilDiv(s, g) + 1));
        DeviceBuffer ws = k.workspace(s * ss);
        try {
            Kernels.Sink at = k.at(op, new Tensor[]{dy, a, b, dw, dbias}, new int[]{gx, gy, s}, new int[]{t[2], 1, 1}, 0);
            var part = switch (t[0] + "x" + t[1]) {   // gemm_cat.cu's kernel for the tile (one builder type)
                case "128x128" -> Kernels.gemm_cat_backward_weight_part_128x128(at);
                case "128x32" -> Kernels.gemm_cat_backward_weight_part_128x32(at);
                case "32x128" -> Kernels.gemm_cat_backward_weight_part_32x128(at);
                case "64x64" -> Kernels.gemm_cat_backward_weight_part_64x64(at);
                case "32x32" -> Kernels.gemm_cat_backward_weight_part_32x32(at);
                default -> throw new IllegalArgumentException("no weight-gradient kernel for tile " + t[0] + "x" + t[1]);
            };
            part.A(k.ptr(dy)).B0(k.ptr(a)).B1(k.ptr(b)).ws(ws.address()).dw(k.ptr(dw)).db(k.ptrOrNull(dbias)).tickets(tk)
                    .M(m).N(nc).K(p).split(ca).strideA((long) m * p).strideB0((long) ca * p).strideB1((long) (nc - ca) * p)
                    .cpi(cpi).L(len).SS(ss).G(g).accumulate(accumulate).launch();
        } finally {
            k.free(ws);
        }
    }
}
