package convunext.bench;

import convunext.backend.cuda.KernelArgs;
import convunext.backend.cuda.Kernels;

/**
 * The compulsory bytes and FLOPs of one kernel launch, from its name, grid and arguments (what the
 * launch log of a step holds), in {@link OpCost}'s conventions: every input read once, every output
 * written once, float32 (double partials 8 bytes), a multiply-add 2 FLOPs, a transcendental 1. Where
 * one kernel does one op's whole work the op's {@link OpCost} function is used as is. The batch
 * count of a GEMM or convolution is its grid's z (split-K chunks: z / chunks per image).
 */
public final class KernelCost {
    private KernelCost() {}

    private static final double F = 4, D = 8;

    /** Argument {@code name} of the launch (by the kernel's declared parameter names). */
    private static final class A {
        final String kernel;
        final KernelArgs args;
        final java.util.List<String> names;

        A(String kernel, KernelArgs args) {
            this.kernel = kernel;
            this.args = args;
            this.names = PARAMS.get(kernel);
        }

        long v(String name) {
            int i = names == null ? -1 : names.indexOf(name);
            if (i < 0) throw new IllegalArgumentException(kernel + " has no parameter " + name + " " + names);
            return args.value(i).longValue();
        }

        boolean isNull(String name) { return v(name) == 0; }
    }

    /** Parameter names per kernel, read from the generated facade's javadoc-free signature table. */
    private static final java.util.Map<String, java.util.List<String>> PARAMS = Signatures.parameterNames();

    /** The cost of one launch; {@link IllegalArgumentException} for a kernel this model does not know. */
    public static OpCost of(String kernel, int[] grid, KernelArgs args) {
        A a = new A(kernel, args);
        long gx = grid[0], gy = grid.length > 1 ? grid[1] : 1, gz = grid.length > 2 ? grid[2] : 1;
        // one cost per kernel family: the tile (_bm128, _64x64), the compile-time shape (_k7s1p3r,
        // _k2s2p0, _any) and the precision (_tf32, _bf16) change the speed, not the work
        String k = family(kernel);
        switch (k) {
            case "gemm_forward": {
                long m = a.v("M"), n = a.v("N"), kk = a.v("K");
                return OpCost.linear((int) gz, (int) kk, (int) m, n).plus(new OpCost(a.isNull("bias") ? -F * m : 0, 0));
            }
            case "gemm_cat_forward": {   // gemm_forward's work over K = Ca + Cb rows read from two tensors
                long m = a.v("M"), n = a.v("N"), kk = a.v("K");
                return OpCost.linearCat((int) gz, (int) kk, (int) m, n).plus(new OpCost(a.isNull("bias") ? -F * m : 0, 0));
            }
            case "gemm_cat_backward_data": {   // gemm_backward_data's, rows stored into D0 / D1 (+= where acc0 / acc1); a null part not stored
                double m = a.v("M"), n = a.v("N"), kk = a.v("K"), sp = a.v("split");
                double r0 = a.isNull("D0") ? 0 : sp * (a.v("acc0") != 0 ? 2 : 1), r1 = a.isNull("D1") ? 0 : (m - sp) * (a.v("acc1") != 0 ? 2 : 1);
                return new OpCost(F * (kk * m + gz * kk * n + gz * n * (r0 + r1)), 2 * gz * m * n * kk);
            }
            case "gemm_cat_backward_weight_part": {   // gemm_backward_weight_part's, B's N rows from two tensors
                double m = a.v("M"), n = a.v("N"), kk = a.v("K"), images = (double) gz / a.v("cpi"), db = a.isNull("db") ? 0 : 1;
                return new OpCost(F * (images * (m + n) * kk), 2 * images * m * n * kk + db * images * m * kk)
                        .plus(splitFinish(gz, a.v("G"), m * n, db * m, a.v("accumulate")));
            }
            case "gemm_forward_gelu":
                return OpCost.linearGelu((int) gz, (int) a.v("K"), (int) a.v("M"), a.v("N"), !a.isNull("pre"));
            case "gemm_backward_data": {   // C [z,M,N] = A^T (A: [K,M]) . B [z,K,N] (+= C when accumulate)
                double m = a.v("M"), n = a.v("N"), kk = a.v("K"), c = gz * m * n;
                return new OpCost(F * (kk * m + gz * kk * n + c * (a.v("accumulate") != 0 ? 2 : 1)), 2 * c * kk);
            }
            case "gemm_backward_data_gelu":
                return OpCost.linearGeluBackward((int) gz, (int) a.v("M"), (int) a.v("K"), a.v("N"));
            case "gemm_backward_weight_part": {   // ws [S, M*N (+M)] = A [n,M,K] . B [n,N,K]^T over chunks of K (+ row sums), then the finish
                double m = a.v("M"), n = a.v("N"), kk = a.v("K"), images = (double) gz / a.v("cpi"), db = a.isNull("db") ? 0 : 1;
                return new OpCost(F * (images * (m + n) * kk), 2 * images * m * n * kk + db * images * m * kk)
                        .plus(splitFinish(gz, a.v("G"), m * n, db * m, a.v("accumulate")));
            }
            case "conv2d_forward":
                return OpCost.conv2d((int) gz, (int) a.v("Ci"), (int) a.v("H"), (int) a.v("W"), (int) a.v("Co"), (int) a.v("k"),
                        (int) a.v("OH"), (int) a.v("OW"));
            case "conv2d_backward_weight_part": {   // + the bias gradient's row sums when db, then the finish
                double ci = a.v("Ci"), co = a.v("Co"), kk2 = a.v("k") * a.v("k"), x = ci * a.v("H") * a.v("W");
                double y = co * a.v("OH") * a.v("OW"), images = (double) gz / a.v("cpi"), db = a.isNull("db") ? 0 : 1;
                return new OpCost(F * (images * (x + y)), 2 * images * y * ci * kk2 + db * images * y)
                        .plus(splitFinish(gz, a.v("G"), co * ci * kk2, db * co, a.v("accumulate")));
            }
            case "conv2d_backward_data_k2s2p0": {   // grid z = images x 2 kernel rows; dx [n,Ci,H,W] (+= when accumulate)
                double ci = a.v("Ci"), co = a.v("Co"), images = gz / 2.0, y = co * a.v("OH") * a.v("OW");
                double x = ci * a.v("H") * a.v("W"), acc = a.v("accumulate") != 0 ? 2 : 1;
                return new OpCost(F * (images * (y + acc * x) + co * ci * 4), 2 * images * y * ci * 4);
            }
            case "conv2d_backward_data": {
                double ci = a.v("Ci"), co = a.v("Co"), kk2 = a.v("k") * a.v("k"), y = co * a.v("OH") * a.v("OW");
                return new OpCost(F * (gz * y + co * ci * kk2 + gz * ci * a.v("Hp") * a.v("Wp")), 2 * gz * y * ci * kk2);
            }
            case "conv2d_backward_fold": {   // planes = gy
                double h = a.v("H"), w = a.v("W"), p = a.v("pad");
                return new OpCost(F * gy * ((h + 2 * p) * (w + 2 * p) + h * w), gy * h * w);
            }
            case "dwconv7_forward": {   // + with partial: the BN statistics (3 FLOPs per output), a double pair per
                // block written and read back by the channel's last block, C pairs written
                double blocks = (double) gx * gy * gz, st = a.isNull("partial") ? 0 : 1;
                return OpCost.dwconv7(1, (int) gz, a.v("H") * a.v("W"))
                        .plus(new OpCost(st * (4 * D * blocks + 2 * D * a.v("C")), st * 3.0 * gz * a.v("H") * a.v("W")));
            }
            case "dwconv7_backward_data": {   // + the reflect-adjoint: G at the 6(H+W)+36 padded positions outside each plane
                double h = a.v("H"), w = a.v("W"), e = gz * h * w, border = gz * (6 * (h + w) + 36);
                return new OpCost(F * ((a.v("accumulate") != 0 ? 3 : 2) * e + 49.0 * a.v("C")), 2 * 49 * (e + border));
            }
            case "dwconv7_backward_weight": {   // planes = gy; partials written, then summed by each channel's last block
                double e = (double) gy * a.v("H") * a.v("W"), cs = (double) a.v("C") * Kernels.DW_TAPS_AND_BIAS;
                double s = a.v("S"), acc = a.v("accumulate") != 0 ? 2 : 1;
                return new OpCost(F * (2 * e + cs * (2 * s + acc)), 2 * 49 * e + e + cs * s);
            }
            case "batchnorm_forward_stats_part": {   // grid (S, C)
                double e = (double) gx / a.v("cpi") * gy * a.v("P");
                return new OpCost(F * e + 2 * D * gy * gx, 3 * e);
            }
            case "batchnorm_backward_part": {   // with pre: d = dy gelu'(pre) read and written too
                double e = (double) gx / a.v("cpi") * gy * a.v("P"), g = a.isNull("pre") ? 0 : 1;
                return new OpCost((2 + 2 * g) * F * e + 2 * D * gy * gx, (4 + g * (1 + OpCost.GELU_BACKWARD_FLOPS)) * e);
            }
            case "batchnorm_forward_fused": {   // grid (C); x read in both passes; + res read, pre written, GELU (when gelu)
                double e = (double) a.v("N") * a.v("C") * a.v("P"), r = a.isNull("res") ? 0 : 1, pr = a.isNull("pre") ? 0 : 1;
                double g = a.v("gelu") != 0 ? 1 : 0, st = a.isNull("ostats") ? 0 : 1;   // + the next BN's statistics: a pair per channel
                return new OpCost((3 + r + pr) * F * e + 6 * F * a.v("C") + st * 2 * D * a.v("C"),
                        (5 + r + g * OpCost.GELU_FLOPS + 3 * st) * e);
            }
            case "batchnorm_backward_fused": {   // grid (C); x, d read in both passes (+ pre read, dpre written), dx (+= when accDx)
                double e = (double) a.v("N") * a.v("C") * a.v("P"), g = a.isNull("pre") ? 0 : 1, dx = a.v("accDx") != 0 ? 2 : 1;
                return new OpCost((4 + 2 * g + dx) * F * e + 7 * F * a.v("C"), (10 + g * (1 + OpCost.GELU_BACKWARD_FLOPS)) * e);
            }
            case "layernorm_backward_params_part": {
                double e = (double) gx / a.v("cpi") * gy * a.v("P");
                return new OpCost(2 * F * e + 2 * D * gy * gx, 3 * e);
            }
            case "bias_backward_part": {
                double e = (double) gx / a.v("cpi") * gy * a.v("P");
                return new OpCost(F * e + D * gy * gx, e);
            }
            case "layernorm_backward_params": {
                double c = gx, s = a.v("S");   // one block per channel over S double pairs
                return new OpCost(2 * D * c * s + 4 * F * c, 2 * c * s);
            }
            case "bias_backward": {
                double c = gx, s = a.v("S");
                return new OpCost(D * c * s + F * c, c * s);
            }
            case "batchnorm_forward_eval": {   // grid (P/BN_EPB, C, N)
                double e = (double) gz * a.v("C") * a.v("P");
                return new OpCost(2 * F * e + 4 * F * a.v("C"), 2 * e);
            }
            case "batchnorm_forward_apply": {   // grid (P/BN_EPB, C, N); each block finishes its channel's statistics; + res / pre / GELU
                double c = a.v("C"), e = (double) a.v("count") * c, s = a.v("S"), r = a.isNull("res") ? 0 : 1, pr = a.isNull("pre") ? 0 : 1;
                double g = a.v("gelu") != 0 ? 1 : 0;
                // + with ostats: the next BN's statistics of the output (3 FLOPs per element), a double pair per block
                double st = a.isNull("ostats") ? 0 : 1;
                return new OpCost((2 + r + pr) * F * e + 2 * D * c * s + 6 * F * c + st * 2 * D * gx * gy * gz,
                        (2 + r + g * OpCost.GELU_FLOPS + 3 * st) * e + 2 * c * s);
            }
            case "batchnorm_backward_apply": {   // + the reduction of the S partials; dx / dgamma / dbeta added to when acc*
                double c = a.v("C"), e = (double) a.v("count") * c, s = a.v("S");
                double dx = a.v("accDx") != 0 ? 2 : 1;
                return new OpCost((2 + dx) * F * e + 2 * D * c * s + 7 * F * c, 6 * e + 2 * c * s);
            }
            case "layernorm_forward": {   // grid (P/256, N)
                double e = (double) gy * a.v("C") * a.v("P");
                return new OpCost(2 * F * e + 2 * F * gy * a.v("P"), 5 * e);
            }
            case "layernorm_backward_data": {
                double e = (double) gy * a.v("C") * a.v("P");
                return new OpCost(3 * F * e + 2 * F * gy * a.v("P"), 6 * e);
            }
            case "add_forward": return OpCost.add(a.v("n"));
            case "add_forward_inplace": return OpCost.add(a.v("n"));
            case "fill_forward": return new OpCost(F * a.v("n"), 0);
            case "bias_add_channels": return new OpCost(2 * F * a.v("n"), a.v("n"));
            case "gate_forward_in": return OpCost.gateIn(gy * a.v("CP"));
            case "gate_forward_out": return OpCost.gateOut(gy * a.v("CP"));
            case "gate_backward_out": return OpCost.gateOutBackward(gy * a.v("CP"));
            case "gate_backward_in": {   // accumulate: dg[:, 0:C] += du only; ds non-null: ds += du too
                double e = (double) gy * a.v("CP"), ds = a.isNull("ds") ? 0 : 1;
                OpCost dg = a.v("accumulate") != 0 ? new OpCost(F * 3 * e, e) : OpCost.gateInBackward(gy * a.v("CP"));
                return dg.plus(new OpCost(ds * 2 * F * e, ds * e));
            }
            case "gelu_forward": return OpCost.gelu(a.v("n"));
            case "gelu_backward": return OpCost.geluBackward(a.v("n"));
            case "add_gelu_forward": return OpCost.addGelu(a.v("n"), !a.isNull("pre"));
            case "pad2d_forward": return new OpCost(F * gy * ((double) a.v("H") * a.v("W") + (double) a.v("Ho") * a.v("Wo")), 0);
            case "pad2d_backward": return OpCost.layout(gy * a.v("H") * a.v("W"));
            case "concat_forward": return OpCost.layout(gy * (a.v("Ca") + a.v("Cb")) * a.v("P"));
            case "concat_backward": return OpCost.layout(gy * a.v("Cs") * a.v("P"));
            case "concat_backward_split": return OpCost.layout(gy * (a.v("Ca") + a.v("Cb")) * a.v("P"));
            case "upsample2x_forward": return OpCost.upsample(gz * a.v("H") * a.v("W"));   // planes = grid z
            case "upsample2x_backward": return OpCost.upsampleBackward(gz * a.v("H") * a.v("W"));
            case "ce_dice_forward_part": {   // logits and target read, lse written (the K later passes re-read
                // the chunk each thread just touched: cache hits, not compulsory); lse's FLOPs and the sums'
                double n = (double) gx / a.v("cpi"), l = n * a.v("K") * a.v("P"), p = n * a.v("P");
                return new OpCost(F * (l + 2 * p) + D * gx * (2 + 3.0 * a.v("K")), 7 * l);
            }
            case "ce_dice_forward_reduce": {
                double slots = 2 + 3.0 * a.v("K");
                return new OpCost(D * a.v("N") * a.v("cpi") * slots, a.v("N") * a.v("cpi") * slots);
            }
            case "ce_dice_backward": {
                double l = (double) gy * a.v("K") * a.v("P"), p = (double) gy * a.v("P");
                return new OpCost(F * (2 * l + 2 * p), 5 * l);
            }
            case "adamw_forward": return OpCost.adamw(a.v("n"));
            default: throw new IllegalArgumentException("no cost for kernel " + kernel + " (add it to KernelCost)");
        }
    }

    /**
     * gemm_splitk.cuh's split-K partials and their finish in the weight-gradient launch: s partials
     * of the dW (w floats) and db (b floats) written and read back once, in groups of g: the
     * ceil(s/g) group sums written and read too when there is more than one group; dW / db
     * written, and read first where accumulate's bit 0 / bit 1 asks. FLOPs: one add per partial
     * (and group sum) element.
     */
    static OpCost splitFinish(double s, double g, double w, double b, long accumulate) {
        double e = w + b, ng = Math.ceil(s / g), sums = s + (ng > 1 ? ng : 0);
        double out = e + ((accumulate & 1) != 0 ? w : 0) + ((accumulate & 2) != 0 ? b : 0);
        return new OpCost(F * (2 * sums * e + out), sums * e);
    }

    /**
     * The kernel family whose work a launch does: gemm_forward_bm128 / _bm64 / _bm32 are
     * gemm_forward; gemm_backward_weight_part_128x32 is gemm_backward_weight_part;
     * conv2d_forward_k7s1p3r_bm64 is conv2d_forward; conv2d_backward_data_k2s2p0_bm64 keeps its shape
     * (a GEMM, not the gather); a _tf32 / _bf16 form is its fp32 kernel.
     */
    static String family(String kernel) {
        String k = kernel.replaceAll("_(tf32|bf16)$", "").replaceAll("_bm\\d+$", "").replaceAll("_\\d+x\\d+$", "");
        if (k.startsWith("conv2d_backward_data_k2s2p0")) return "conv2d_backward_data_k2s2p0";
        return k.replaceAll("_(k7s1p3r|k2s2p0|any)$", "");
    }

    /** The parameter names of each kernel, from the generated {@link Kernels} facade's builder interfaces. */
    static final class Signatures {
        private Signatures() {}

        static java.util.Map<String, java.util.List<String>> parameterNames() {
            java.util.Map<String, java.util.List<String>> out = new java.util.HashMap<>();
            for (int id = 0; id < Kernels.COUNT; id++) {
                String name = Kernels.NAMES.get(id);
                try {
                    java.lang.reflect.Method m = Kernels.class.getMethod(name, Kernels.Sink.class);
                    java.util.List<String> names = new java.util.ArrayList<>();
                    Class<?> stage = m.getReturnType();
                    while (stage != Kernels.Ready.class) {
                        java.lang.reflect.Method set = stage.getDeclaredMethods()[0];
                        names.add(set.getName().endsWith("_") ? set.getName().substring(0, set.getName().length() - 1) : set.getName());
                        stage = set.getReturnType();
                    }
                    out.put(name, java.util.List.copyOf(names));
                } catch (NoSuchMethodException e) {
                    throw new IllegalStateException("Kernels has no builder for " + name, e);
                }
            }
            return out;
        }
    }
}
