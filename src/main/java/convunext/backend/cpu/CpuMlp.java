package convunext.backend.cpu;

import static convunext.backend.OpShapes.of;

import convunext.backend.OpShapes;
import convunext.tensor.Tensor;

/**
 * ConvNeXt's MLP, y = W2·gelu(W1·x + b1) + b2 over the channels of NCHW (pwconv1 → GELU →
 * pwconv2), one block of pixels at a time, so that the block's hidden activations (Hd × nb
 * floats, 256 KiB when Hd ≤ 256) stay in cache from one GEMM to the next. Unfused, the hidden
 * tensor (4C channels: 64 MiB per image at level 0 of a 256² input) went to memory and back
 * between the layers, and the second GEMM packed its K = 4C rows out of memory with K
 * interleaved streams (its slowest shape: 45 GFLOP/s on one core against 90 for the ceiling).
 *
 * <p>Forward per block: pre = W1·x + b1 into a scratch block; GELU as the GEMM's epilogue while
 * each MR-row panel is in L1, h = gelu(pre) in place (training: s = gelu'(pre) in the same pass,
 * {@link SimdOps#geluWithGrad}, and both copied out for the backward); then y = W2·h + b2 with h
 * from the block in cache. The saved state is gelu'(pre), so the backward evaluates no transcendental:
 * dpre = (W2ᵀ·gy) ⊙ s, the bits of {@link CpuLinearGelu#backwardData} (gelu'(pre)·acc).
 * Backward per block: dpre (written out), then dx = W1ᵀ·dpre while that block is in cache; then
 * the weight gradients over all pixels at once (CpuLinear's long-K dot products: per block, their
 * horizontal sums cost as much as the products). Where dW1's parked accumulators fit L2 (levels
 * 0–1) the backward keeps dpre out of memory altogether: pwconv1's backward is then CpuLinearBwd's
 * one pass over pixel blocks with dY = dpre computed block by block into its buffer, so dx, dW1
 * and db1 take dpre from cache (the unfused path wrote dpre, Hd planes, and read it back twice).
 * Same bits: every dpre value comes from {@link #dpreBlock}, and CpuLinearBwd matches the unfused
 * linear backward bit for bit.
 *
 * <p>Determinism: blocks depend on the shape only, and every output element is computed by the
 * same operations in the same order whichever thread runs its block.
 */
final class CpuMlp {
    private CpuMlp() {}

    /** Hidden floats per block (256 KiB: the block and the GEMMs' packed panels share L2). */
    private static final int HIDDEN_BLOCK = 1 << 16;

    private static final AlignedScratch SCRATCH = new AlignedScratch();   // the hidden block, 64-byte aligned where known

    /** Whether the backward keeps dpre out of memory where it can (false: tests and benchmarks compare). */
    static volatile boolean fusedBackward = true;
    /**
     * Most bytes of dW1 accumulators the fused backward parks (1 MiB: up to level 1, Hd 256 × C 64).
     * More than CpuLinearBwd's own bound: here the fused pass also saves dpre's write and read
     * (level-1 shape: 0.82–0.93× the unfused time, bench/NOTES.md CPU round 10).
     */
    static final long FUSED_MAX_PARKED_BYTES = 1 << 20;

    /** Whether the fused backward also makes dW2 in its pass where it can (false: tests and benchmarks compare). */
    static volatile boolean fusedDw2 = true;
    /**
     * Most bytes of dW2 accumulators parked next to dW1's: levels 0 and 1 (their backward 0.971 and
     * 0.982 of the time with dW2 in a pass of its own, 30 alternated pairs; bench/NOTES.md, CPU
     * round 23). The pass saves reading gy again, not h (67 MB at level 0), which is most of dW2's time.
     */
    static final long FUSED_DW2_MAX_PARKED_BYTES = 1 << 20;

    /** Pixels per block at least: narrower GEMMs lose more to packing and edges than the cache saves. */
    private static final int MIN_BLOCK = 256;

    /**
     * Pixels per block: a multiple of the GEMM's tile width, the hidden block within HIDDEN_BLOCK
     * but at least MIN_BLOCK pixels (Hd ≥ 512: the hidden block then spills to L3).
     */
    static int blockPixels(int hd, int p) {
        int nr = CpuGemm.nr(), nb = Math.max(MIN_BLOCK / nr * nr, HIDDEN_BLOCK / Math.max(1, hd) / nr * nr);
        return Math.min(Math.max(nr, nb), (p + nr - 1) / nr * nr);
    }

    static Tensor[] forward(CpuBackend be, Tensor x, Tensor w1, Tensor b1, Tensor w2, Tensor b2, boolean keep, SimdOps ops) {
        OpShapes.mlp(of(x), of(w1), of(b1), of(w2), of(b2));
        return run(be, x, w1, b1, w2, b2, keep, null, ops);
    }

    /**
     * gelu(res + mlp(x)) at inference: the residual and GELU as the second GEMM's epilogue, on each
     * tile while it is in L1, so y is written once (as the result) instead of written, read with res
     * and written again by a separate addGelu. Same operations per element as
     * {@link CpuAddGelu#addGelu}(res, y) (the sum res + y, then ops.gelu, whose value does not depend
     * on where an element falls in a vector), so the same bits.
     */
    static Tensor forwardAddGelu(CpuBackend be, Tensor x, Tensor w1, Tensor b1, Tensor w2, Tensor b2, Tensor res, SimdOps ops) {
        OpShapes.mlpAddGelu(of(x), of(w1), of(b1), of(w2), of(b2), of(res));
        return run(be, x, w1, b1, w2, b2, false, res, ops)[0];
    }

    private static Tensor[] run(CpuBackend be, Tensor x, Tensor w1, Tensor b1, Tensor w2, Tensor b2, boolean keep, Tensor res,
                                SimdOps ops) {
        int n = x.dim(0), c = x.dim(1), p = x.spatial(2), hd = w1.dim(0), co = w2.dim(0);
        if (CpuEmptyShapes.any(n, c, hd, co, p)) return CpuEmptyShapes.mlp(be, x, w1, b1, w2, b2, keep, res, ops);
        Tensor y = be.empty(n, co, x.dim(2), x.dim(3));
        Tensor h = keep ? be.empty(n, hd, x.dim(2), x.dim(3)) : null, s = keep ? be.empty(n, hd, x.dim(2), x.dim(3)) : null;
        CpuGemm.PackedA a1 = CpuGemm.pack(hd, c, w1.array(), w1.off(), c, 1);
        CpuGemm.PackedA a2 = CpuGemm.pack(co, hd, w2.array(), w2.off(), hd, 1);
        float[] xa = x.array(), ya = y.array(), ha = keep ? h.array() : null, sa = keep ? s.array() : null;
        float[] b1a = b1 == null ? null : b1.array(), b2a = b2 == null ? null : b2.array(), ra = res == null ? null : res.array();
        int b1o = b1 == null ? 0 : b1.off(), b2o = b2 == null ? 0 : b2.off();
        int nb = blockPixels(hd, p), blocks = (p + nb - 1) / nb;
        CpuThreads.chunks(n * blocks, 1, 4, (t0, t1) -> {
            int z = AlignedScratch.at();
            float[] hb = SCRATCH.get(hd * CpuScratch.rowStride(nb));
            for (int t = t0; t < t1; t++) {
                int i = t / blocks, p0 = t % blocks * nb, len = Math.min(nb, p - p0), ld = CpuScratch.rowStride(len);
                int hBase = keep ? h.off() + i * hd * p + p0 : 0, sBase = keep ? s.off() + i * hd * p + p0 : 0;
                // h replaces pre in the block (training: also copied out, with s, for the backward)
                // while the panel is in L1, so the second GEMM reads its B from the compact block in
                // cache; with co ≤ 64 rows (levels 0–1) in place, unpacked (CpuGemm's direct path).
                // Reading the saved tensor instead (rows a plane apart) had to pack every block.
                CpuGemm.Epilogue gelu = keep
                        ? (i0, i1, j0, j1) -> {
                            for (int r = i0; r < i1; r++) {
                                ops.geluWithGrad(hb, z + r * ld + j0, hb, z + r * ld + j0, sa, sBase + r * p + j0, j1 - j0);
                                System.arraycopy(hb, z + r * ld + j0, ha, hBase + r * p + j0, j1 - j0);
                            }
                        }
                        : (i0, i1, j0, j1) -> {
                            for (int r = i0; r < i1; r++) ops.gelu(hb, z + r * ld + j0, hb, z + r * ld + j0, j1 - j0);
                        };
                CpuGemm.gemm(a1, len, xa, x.off() + i * c * p + p0, p, 1, hb, z, ld, false, b1a, b1o, gelu);
                if (keep)
                    CpuGemm.gemm(a2, len, hb, z, ld, 1, ya, y.off() + i * co * p + p0, p, false, b2a, b2o, null);
                else {
                    int yBase = y.off() + i * co * p + p0, rBase = res == null ? 0 : res.off() + i * co * p + p0;
                    CpuGemm.Epilogue addGelu = res == null ? null : (i0, i1, j0, j1) -> {
                        for (int r = i0; r < i1; r++) {
                            int yo = yBase + r * p + j0;
                            CpuAddGelu.step(ra, rBase + r * p + j0, ya, yo, ya, yo, ya, yo, j1 - j0, ops);
                        }
                        if (touchRes) touch(ra, rBase + i1 * p + j0, Math.min(co, i1 + (i1 - i0)) - i1, p, j1 - j0);
                    };
                    CpuGemm.gemm(a2, len, hb, z, ld, 1, ya, yBase, p, false, b2a, b2o, addGelu);
                }
            }
        });
        return new Tensor[] {y, h, s};
    }

    static Tensor[] backward(CpuBackend be, Tensor x, Tensor w1, Tensor w2, Tensor gy, Tensor h, Tensor s, boolean needDx,
                             boolean hasB1, boolean hasB2, SimdOps ops) {
        OpShapes.mlpBackward(of(x), of(w1), of(w2), of(gy), of(h), of(s));
        int n = x.dim(0), c = x.dim(1), p = x.spatial(2), hd = w1.dim(0), co = w2.dim(0);
        if (CpuEmptyShapes.any(n, c, hd, co, p)) return CpuEmptyShapes.mlpBackward(be, x, w1, w2, gy, h, s, needDx, hasB1, hasB2);
        Tensor dx = needDx ? be.empty(x.shape()) : null;
        Tensor dw1 = be.empty(w1.shape()), dw2 = be.empty(w2.shape());
        Tensor db1 = hasB1 ? be.empty(hd) : null, db2 = hasB2 ? be.empty(co) : null;
        // W2ᵀ [hd × co] as the dpre GEMM's left operand: element (i, k) at w[k·rows + i].
        CpuGemm.PackedA a2t = CpuGemm.pack(hd, co, w2.array(), w2.off(), 1, hd);
        boolean fused = fusedBackward && needDx && CpuLinearBwd.applies(n, c, hd, p, FUSED_MAX_PARKED_BYTES);
        CpuLinearBwd.Second second = null;
        if (fused && fusedDw2) {
            second = new CpuLinearBwd.Second(co, hd, gy.array(), gy.off(), h.array(), h.off(), dw2.array(), dw2.off(),
                    db2 == null ? null : db2.array(), db2 == null ? 0 : db2.off());
            if (!second.fits(FUSED_DW2_MAX_PARKED_BYTES)) second = null;
        }
        if (fused) {
            // dpre never in memory: pwconv1's backward (dx, dW1, db1) is CpuLinearBwd's one pass
            // over pixel blocks with its dY blocks computed here (see the class comment), and, where
            // its accumulators fit too, pwconv2's dW2 and db2 in the same pass.
            CpuLinearBwd.backward(n, c, hd, p, x.array(), x.off(), w1.array(), w1.off(),
                    (img, p0, len, blk, off, ld) -> dpreBlock(a2t, gy, s, touchAhead, img, p0, len, blk, off, ld, ops),
                    dx.array(), dx.off(), dw1.array(), dw1.off(), db1 == null ? null : db1.array(), db1 == null ? 0 : db1.off(),
                    second == null ? new CpuLinearBwd.Second[0] : new CpuLinearBwd.Second[] {second});
        } else {
            Tensor dpre = be.empty(h.shape());
            // W1ᵀ [c × hd] as dx's left operand
            CpuGemm.PackedA a1t = needDx ? CpuGemm.pack(c, hd, w1.array(), w1.off(), 1, c) : null;
            float[] da = dpre.array(), dxa = needDx ? dx.array() : null;
            int nb = blockPixels(hd, p), blocks = (p + nb - 1) / nb;
            CpuThreads.chunks(n * blocks, 1, 4, (t0, t1) -> {
                for (int t = t0; t < t1; t++) {
                    int i = t / blocks, p0 = t % blocks * nb, len = Math.min(nb, p - p0), dBase = dpre.off() + i * hd * p + p0;
                    dpreBlock(a2t, gy, s, false, i, p0, len, da, dBase, p, ops);
                    // dx = W1ᵀ·dpre while the block of dpre is still in cache
                    if (needDx) CpuGemm.gemm(a1t, len, da, dBase, p, 1, dxa, dx.off() + i * c * p + p0, p, false, null, 0, null);
                }
            });
            // The weight gradient over all pixels at once: long-K dot products (CpuLinear's), whose
            // horizontal sums are amortised over K blocks of 4096 pixels (per 512-pixel block they
            // cost as much as the products at these shapes).
            CpuLinear.weightGrad(n, c, hd, p, x.array(), x.off(), da, dpre.off(), dw1.array(), dw1.off(),
                    db1 == null ? null : db1.array(), db1 == null ? 0 : db1.off());
            be.release(dpre);
        }
        if (second == null)
            CpuLinear.weightGrad(n, hd, co, p, h.array(), h.off(), gy.array(), gy.off(), dw2.array(), dw2.off(),
                    db2 == null ? null : db2.array(), db2 == null ? 0 : db2.off());
        return new Tensor[] {dx, dw1, db1, dw2, db2};
    }

    /**
     * Whether the fused backward's dpre epilogue loads the next panel's rows of s ahead (false: not,
     * for tests and A/B runs). Each panel's epilogue reads MR rows of s a channel plane apart from
     * memory at once, and waited for them: touching one float per line of the next panel's rows
     * starts those reads while the next panel's GEMM runs (level 0's backward 0.953–0.960, level 1's
     * 0.970–0.987; the same touch of h for dW2's spans, or of the forward's h and s before their
     * stores, was slower: bench/NOTES.md, CPU round 27). Loads only: the results are the same bits.
     * {@code touchRes}: the same for the residual rows the inference tail's epilogue reads
     * (forwardAddGelu; level 0's 0.948).
     */
    static volatile boolean touchAhead = true, touchRes = true;
    /** Written only if a touch's sum hits an impossible value: keeps the loads from being dropped as dead. */
    static volatile float sink;

    /** Loads one float per 64-byte line of rows [0, rows) (row step ld, len floats each) from a[o]: the lines come in while the next panel computes. */
    static void touch(float[] a, int o, int rows, int ld, int len) {
        float t = 0;
        for (int r = 0; r < rows; r++)
            for (int q = 0, b = o + r * ld; q < len; q += 16) t += a[b + q];
        if (t == 12345.678f) sink = t;
    }

    /**
     * dpre = (W2ᵀ·gy) ⊙ gelu'(pre) for pixels [p0, p0 + len) of image img into dst (row r at
     * dOff + r·ld), the product as each MR-row panel is finished. Both backward paths call this,
     * so their dpre values are the same bits whatever dst's row step.
     */
    private static void dpreBlock(CpuGemm.PackedA a2t, Tensor gy, Tensor s, boolean ahead, int img, int p0, int len,
                                  float[] dst, int dOff, int ld, SimdOps ops) {
        int hd = a2t.m, co = a2t.k, p = gy.spatial(2), sBase = s.off() + img * hd * p + p0;
        float[] sa = s.array();
        CpuGemm.gemm(a2t, len, gy.array(), gy.off() + img * co * p + p0, p, 1, dst, dOff, ld, false, null, 0,
                (i0, i1, j0, j1) -> {
                    for (int r = i0; r < i1; r++) ops.mulInPlace(dst, dOff + r * ld + j0, sa, sBase + r * p + j0, j1 - j0);
                    if (ahead) touch(sa, sBase + i1 * p + j0, Math.min(hd, i1 + (i1 - i0)) - i1, p, j1 - j0);
                });
    }
}
