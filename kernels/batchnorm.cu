// batchnorm.cu — BatchNorm2d over (N,H,W) per channel: training statistics, running-stat
// update, normalise, eval mode, backward; optionally with the ConvNeXt block's end fused in
// (out = gelu(res + BN(x)), the block's norm2 and residual GELU: batchnormAddGelu; without res,
// out = gelu(BN(x)), the stem's norm and GELU).
// Math (n = N*H*W per channel): mu = mean x, var = biased variance, invstd = 1/sqrt(var+eps);
//   y = gamma*(x-mu)*invstd + beta; running_mean = (1-m) rm + m mu;
//   running_var = (1-m) rv + m var n/(n-1).   Eval: y = gamma (x-rm)/sqrt(rv+eps) + beta.
//   Backward (batch statistics): xhat = (x-mu) invstd; dbeta = sum dy; dgamma = sum dy xhat;
//   dx = gamma invstd (dy - dbeta/n - xhat dgamma/n).
//   Residual + GELU (gelu != 0): s = res + y (s = y when res is null), pre = s (when pre
//   non-null), out = gelu(s) is written where y would be. Its backward (pre non-null in the backward kernels): the incoming
//   gradient is of out; d = dy * gelu'(pre) is written to dpre (the residual's gradient) and is the
//   BN's dy from then on (the apply reads dpre).
// Layout: x, y, dy, dx, res, pre, dpre NCHW float32 [N,C,P] (P = H*W); per-channel vectors [C].
// Two-launch path (wide, shallow levels): deterministic two-level reductions: *_part kernels
//   (grid (N*cpi, C), 256 threads) sum chunk s = n*cpi + j (pixels [j*L, min(P,(j+1)L)) of image
//   n) in double and write partial[(c*S + s)*2 + {0,1}] as doubles (S = N*cpi). When P % 4 == 0
//   and the planes are 16-byte aligned, thread t reads the chunk's whole 4-element groups t,
//   t+256, ... as float4, then at most one of the <= 6 elements outside them (none when L % 4 ==
//   0); else elements t, t+256, ... as scalars. Each thread sums in that fixed order, then the
//   block's fixed tree (cu_block_sum_d): the bits do not depend on the schedule. The second level
//   runs at the start of every block of the apply kernel (warp 0 sums the S partials of its
//   channel in a fixed order: every block gets the same bits), and block (0, c, 0) stores the
//   per-channel results.
//   Apply kernels (batchnorm_forward_apply, batchnorm_backward_apply, batchnorm_forward_eval): grid
//   (ceil(P/BN_EPB), C, N), 256 threads, 16 elements per thread as 4 float4 when P % 4 == 0 and the
//   planes are 16-byte aligned (else scalar).
//   Statistics of the output (batchnorm_forward_apply with ostats non-null: the training forward
//   whose output feeds the next BatchNorm, BatchNormOps.batchnormAddGeluStats): each block also sums
//   its outputs (double, each thread in its element order, then the block's tree) into one pair of
//   ostats[(c*S' + z*gridDim.x + x)*2 + {0,1}] (S' = N*ceil(P/BN_EPB)); the next BN's apply takes
//   them as its partials (S = S'), so it skips its stats_part launch and its read of x. Likewise
//   batchnorm_forward_fused with ostats: pass 2's outputs, one pair per channel (S' = 1).
// One-launch path (batchnorm_forward_fused, batchnorm_backward_fused): grid (C), BN_FUSED_THREADS
//   threads, one block per channel: pass 1 reduces the channel (thread t takes the 4-element groups
//   q = t, t + T, ... of each plane n = 0..N-1 in order, in double; then the block's fixed tree),
//   pass 2 applies to the same groups (a thread re-reads only what it read, or wrote, in pass 1).
//   The summation order does not depend on whether a group is loaded as one float4 or 4 floats.
//   Rule (BatchNormOps.fused, the launcher's choice): n <= 65536 and (C >= 128 or n <= 16384): the
//   channel's second read (<= 256 KB) comes from L2, and C blocks of 1024 threads keep enough SMs
//   streaming. It saves one launch per forward and one per backward (2 us each in bench's model,
//   plus the partials' round trip) for a fill of C/264 instead of ~1 in that model: at C = 64 and
//   n = 57600 (the 120^2 decoder level) the prediction is worse than two launches, so C >= 128 or
//   tiny channels. At the reference shape 16 of the 31 BatchNorms take it (C >= 128 at 120^2 and
//   below, 60^2 / 30^2 at any C); the 480^2 / 240^2 / 120^2-with-64-channel ones keep two launches.
#include "common.cuh"
#include "gelu.cuh"

// Sums of v1 and v2 over the chunk of channel c handled by this block, in double.
#define BN_PART_PROLOGUE                                   \
    __shared__ double sh[CU_THREADS];                      \
    int s = blockIdx.x, c = blockIdx.y;                    \
    int n = s / cpi, j = s - n * cpi;                      \
    int p0 = j * L, p1 = cu_min(P, p0 + L);                \
    long long base = ((long long)n * C + c) * P;

static __device__ inline unsigned long long bn_addr(const void* p) { return reinterpret_cast<unsigned long long>(p); }
static __device__ inline bool bn_aligned(const void* p) { return (bn_addr(p) & 15ull) == 0; }

// A part kernel's chunk [p0, p1) on the 4-wide path (P % 4 == 0 and the planes 16-byte aligned, so
// element 4k of a plane is): whole 4-element groups [a0, a1) (p0 rounded up, p1 rounded down to a
// multiple of 4; a0 == a1 when none fits), which thread t takes as float4 at a0 + 4t, + 4*256, ...,
// and the at most 3 + 3 elements [p0, a0) and [a1, p1) left at the edges, which threads 0..5 take
// one each after their groups (e = that element, or -1). With L % 4 == 0 (every two-launch
// BatchNorm of the reference shape) chunks start and end on a group and there are no edges;
// Launcher.chunks does not round L, so other lengths take the edges instead of the scalar path.
struct BnSplit {
    int a0, a1, e;
};

static __device__ inline BnSplit bn_split(int p0, int p1) {
    int a0 = cu_min(p1, (p0 + 3) & ~3);
    int a1 = cu_max(a0, p1 & ~3);
    int h = a0 - p0, t = threadIdx.x;
    int e = t < h ? p0 + t : (t - h < p1 - a1 ? a1 + (t - h) : -1);
    return BnSplit{a0, a1, e};
}

static __device__ inline void bn_acc_stats(float f, double& s1, double& s2) {
    double v = f;
    s1 += v;
    s2 += v * v;
}

// Each thread sums its elements in a fixed order (its groups in order, x y z w within one, then
// its edge element; on the scalar path its elements t, t + 256, ...), then the block's fixed tree:
// the bits depend on the shape and the alignment, never on the schedule. One loop for both widths
// (v4 is the same in the whole block: no divergence); as two loops in an if / else, nvcc placed the
// 4-wide one after the block sum, which bench/ptx_stats.py's hot-loop scan then took for a loop
// around the block's tree (shared loads per FMA: a wrong e_fma in the prediction table).
extern "C" __global__ void batchnorm_forward_stats_part(const float* x, float* partial, int C,
                                                        int P, int cpi, int L) {
    BN_PART_PROLOGUE
    const float* xp = x + base;
    double s1 = 0.0, s2 = 0.0;
    bool v4 = (P & 3) == 0 && bn_aligned(xp);
    BnSplit sp = bn_split(p0, p1);
    int step = v4 ? 4 : 1, q0 = v4 ? sp.a0 : p0, q1 = v4 ? sp.a1 : p1;
    for (int p = q0 + step * threadIdx.x; p < q1; p += step * blockDim.x) {
        if (v4) {
            float4 v = *reinterpret_cast<const float4*>(xp + p);
            bn_acc_stats(v.x, s1, s2);
            bn_acc_stats(v.y, s1, s2);
            bn_acc_stats(v.z, s1, s2);
            bn_acc_stats(v.w, s1, s2);
        } else {
            bn_acc_stats(xp[p], s1, s2);
        }
    }
    if (v4 && sp.e >= 0) bn_acc_stats(xp[sp.e], s1, s2);
    s1 = cu_block_sum_d(s1, sh);
    s2 = cu_block_sum_d(s2, sh);
    if (threadIdx.x == 0) {
        double* out = (double*)partial + ((long long)c * gridDim.x + s) * 2;
        out[0] = s1;
        out[1] = s2;
    }
}

// Sums of channel c's S partial pairs (partial[(c*S + s)*2 + {0,1}], doubles) in a fixed order:
// lane l of warp 0 takes s = l, l+32, ..., then a butterfly over the 32 lanes; the block gets the
// pair through sh. Every block of a channel computes the same two numbers.
static __device__ inline void bn_sum_partials(const float* partial, int c, int S, double* sh, double& a,
                                              double& b) {
    if (threadIdx.x < 32) {
        const double* p = (const double*)partial + (long long)c * S * 2;
        double s1 = 0.0, s2 = 0.0;
        for (int i = threadIdx.x; i < S; i += 32) {
            s1 += p[2 * i];
            s2 += p[2 * i + 1];
        }
        for (int o = 16; o > 0; o >>= 1) {
            s1 += __shfl_xor_sync(0xffffffffu, s1, o);
            s2 += __shfl_xor_sync(0xffffffffu, s2, o);
        }
        if (threadIdx.x == 0) { sh[0] = s1; sh[1] = s2; }
    }
    __syncthreads();
    a = sh[0];
    b = sh[1];
}

// Element range of one apply block: plane (n, c) = (blockIdx.z, blockIdx.y), elements
// [blockIdx.x * BN_EPB, +BN_EPB) of it; 4-wide when every pointer's plane start is 16-byte aligned.
// BN_EPB: kernels/geometry.h (BatchNormOps sizes the grid with it).
static_assert(BN_EPB % 4 == 0, "a block's range of a plane starts on a float4 boundary (the 4-wide apply paths)");

// The forward's output element from the normalised value v: v, or with gelu gelu(res + v) (or
// gelu(v) without res; pre = the GELU's input stored when pre is non-null). rp / pp: the plane's
// res / pre, or null.
static __device__ inline float bn_out(float v, int gelu, const float* rp, float* pp, int p) {
    if (!gelu) return v;
    float s = rp ? rp[p] + v : v;
    if (pp) pp[p] = s;
    return cu_gelu(s);
}

static __device__ inline float4 bn_out4(float4 v, int gelu, const float* rp, float* pp, int p) {
    if (!gelu) return v;
    float4 r = rp ? *reinterpret_cast<const float4*>(rp + p) : make_float4(0.0f, 0.0f, 0.0f, 0.0f);
    float4 s = make_float4(r.x + v.x, r.y + v.y, r.z + v.z, r.w + v.w);
    if (pp) *reinterpret_cast<float4*>(pp + p) = s;
    return make_float4(cu_gelu(s.x), cu_gelu(s.y), cu_gelu(s.z), cu_gelu(s.w));
}

// Training forward, second level and apply in one kernel: each block sums its channel's partials
// (mean, biased var -> invstd as before, in double), applies y = (x - mean) * gamma*invstd + beta
// to its elements (or gelu(res + that) / gelu(that) with gelu), and block (0, c, 0) stores mean, invstd
// and the running statistics.
extern "C" __global__ void batchnorm_forward_apply(const float* x, float* y, const float* gamma,
                                                   const float* beta, const float* partial, float* mean,
                                                   float* invstd, float* runMean, float* runVar,
                                                   int gelu, const float* res, float* pre, int C, int P, int S,
                                                   long long count, float momentum, float eps, float* ostats) {
    __shared__ double sh[2];
    __shared__ double sho[CU_THREADS];   // the output statistics' block tree (ostats non-null)
    int c = blockIdx.y;
    double s1, s2;
    bn_sum_partials(partial, c, S, sh, s1, s2);
    double nn = (double)count;
    double mu = s1 / nn;
    double var = s2 / nn - mu * mu;
    if (var < 0.0) var = 0.0;
    float m = (float)mu, is = (float)(1.0 / sqrt(var + (double)eps));
    if (blockIdx.x == 0 && blockIdx.z == 0 && threadIdx.x == 0) {
        mean[c] = m;
        invstd[c] = is;
        double unbiased = count > 1 ? var * nn / (nn - 1.0) : var;
        runMean[c] = (float)((1.0 - momentum) * runMean[c] + momentum * mu);
        runVar[c] = (float)((1.0 - momentum) * runVar[c] + momentum * unbiased);
    }
    float sc = gamma[c] * is, bt = beta[c];
    long long base = ((long long)blockIdx.z * C + c) * P;
    int p0 = blockIdx.x * BN_EPB, p1 = cu_min(P, p0 + BN_EPB);
    const float* xp = x + base;
    float* yp = y + base;
    const float* rp = res ? res + base : nullptr;
    float* pp = pre ? pre + base : nullptr;
    double o1 = 0.0, o2 = 0.0;   // with ostats: this thread's sums of its outputs, in its element order
    if ((P & 3) == 0 && bn_aligned(xp) && bn_aligned(yp) && (!rp || bn_aligned(rp)) && (!pp || bn_aligned(pp))) {
        for (int p = p0 + 4 * threadIdx.x; p < p1; p += 4 * blockDim.x) {
            float4 v = *reinterpret_cast<const float4*>(xp + p);
            float4 o = bn_out4(
                make_float4((v.x - m) * sc + bt, (v.y - m) * sc + bt, (v.z - m) * sc + bt, (v.w - m) * sc + bt), gelu, rp, pp, p);
            *reinterpret_cast<float4*>(yp + p) = o;
            if (ostats) {
                bn_acc_stats(o.x, o1, o2);
                bn_acc_stats(o.y, o1, o2);
                bn_acc_stats(o.z, o1, o2);
                bn_acc_stats(o.w, o1, o2);
            }
        }
    } else {
        for (int p = p0 + threadIdx.x; p < p1; p += blockDim.x) {
            float o = bn_out((xp[p] - m) * sc + bt, gelu, rp, pp, p);
            yp[p] = o;
            if (ostats) bn_acc_stats(o, o1, o2);
        }
    }
    // The next BatchNorm's statistics of this output (ostats non-null, the same for the whole grid):
    // the block's fixed tree, one double pair per block at partial index s = blockIdx.z * gridDim.x
    // + blockIdx.x of channel c (S' = gridDim.x * gridDim.z pairs per channel), which the next
    // batchnorm_forward_apply reads as its partial with S = S' instead of a stats_part pass over y.
    if (ostats) {
        o1 = cu_block_sum_d(o1, sho);
        o2 = cu_block_sum_d(o2, sho);
        if (threadIdx.x == 0) {
            double* q = (double*)ostats +
                        ((long long)c * gridDim.x * gridDim.z + (long long)blockIdx.z * gridDim.x + blockIdx.x) * 2;
            q[0] = o1;
            q[1] = o2;
        }
    }
}

// Eval: the apply of the training forward with the running statistics (same element range per block).
extern "C" __global__ void batchnorm_forward_eval(const float* x, float* y, const float* gamma,
                                                  const float* beta, const float* runMean,
                                                  const float* runVar, float eps, int C, int P) {
    int c = blockIdx.y;
    float sc = gamma[c] / sqrtf(runVar[c] + eps), m = runMean[c], bt = beta[c];
    long long base = ((long long)blockIdx.z * C + c) * P;
    int p0 = blockIdx.x * BN_EPB, p1 = cu_min(P, p0 + BN_EPB);
    const float* xp = x + base;
    float* yp = y + base;
    if ((P & 3) == 0 && bn_aligned(xp) && bn_aligned(yp)) {
        for (int p = p0 + 4 * threadIdx.x; p < p1; p += 4 * blockDim.x) {
            float4 v = *reinterpret_cast<const float4*>(xp + p);
            *reinterpret_cast<float4*>(yp + p) =
                make_float4((v.x - m) * sc + bt, (v.y - m) * sc + bt, (v.z - m) * sc + bt, (v.w - m) * sc + bt);
        }
    } else {
        for (int p = p0 + threadIdx.x; p < p1; p += blockDim.x) yp[p] = (xp[p] - m) * sc + bt;
    }
}

// One element of the backward's first pass: d into sd, d * xhat into sdx.
static __device__ inline void bn_acc_grad(float d, float xv, float mu, float is, double& sd, double& sdx) {
    sd += d;
    sdx += (double)(d * ((xv - mu) * is));
}

// d of element p (scalar path and edges): dy, or dy * gelu'(pre) written to dpre when gp (the
// plane's pre) is non-null.
static __device__ inline float bn_d1(const float* dp, const float* gp, float* dpp, int p) {
    float d = dp[p];
    if (gp) {
        d *= cu_gelu_grad(gp[p]);
        dpp[p] = d;
    }
    return d;
}

// With pre (the residual GELU's backward): d = dy * gelu'(pre) is summed and written to dpre.
// Same element order as batchnorm_forward_stats_part.
extern "C" __global__ void batchnorm_backward_part(const float* x, const float* dy, const float* pre,
                                                   float* dpre, const float* mean, const float* invstd,
                                                   float* partial, int C, int P, int cpi, int L) {
    BN_PART_PROLOGUE
    float mu = mean[c], is = invstd[c];
    const float* xp = x + base;
    const float* dp = dy + base;
    const float* gp = pre ? pre + base : nullptr;
    float* dpp = pre ? dpre + base : nullptr;
    double sd = 0.0, sdx = 0.0;
    // 4-wide when every plane is 16-byte aligned (null pre / dpre count as aligned): one test of the
    // addresses' OR (short-circuit tests left blocks that nvcc placed after the block sum, as in
    // batchnorm_forward_stats_part's comment)
    bool v4 = (P & 3) == 0 && ((bn_addr(xp) | bn_addr(dp) | bn_addr(gp) | bn_addr(dpp)) & 15ull) == 0;
    BnSplit sp = bn_split(p0, p1);
    int step = v4 ? 4 : 1, q0 = v4 ? sp.a0 : p0, q1 = v4 ? sp.a1 : p1;
    for (int p = q0 + step * threadIdx.x; p < q1; p += step * blockDim.x) {
        if (v4) {
            float4 xv = *reinterpret_cast<const float4*>(xp + p), d = *reinterpret_cast<const float4*>(dp + p);
            if (gp) {
                float4 g = *reinterpret_cast<const float4*>(gp + p);
                d = make_float4(d.x * cu_gelu_grad(g.x), d.y * cu_gelu_grad(g.y), d.z * cu_gelu_grad(g.z),
                                d.w * cu_gelu_grad(g.w));
                *reinterpret_cast<float4*>(dpp + p) = d;
            }
            bn_acc_grad(d.x, xv.x, mu, is, sd, sdx);
            bn_acc_grad(d.y, xv.y, mu, is, sd, sdx);
            bn_acc_grad(d.z, xv.z, mu, is, sd, sdx);
            bn_acc_grad(d.w, xv.w, mu, is, sd, sdx);
        } else {
            bn_acc_grad(bn_d1(dp, gp, dpp, p), xp[p], mu, is, sd, sdx);
        }
    }
    if (v4 && sp.e >= 0) bn_acc_grad(bn_d1(dp, gp, dpp, sp.e), xp[sp.e], mu, is, sd, sdx);
    sd = cu_block_sum_d(sd, sh);
    sdx = cu_block_sum_d(sdx, sh);
    if (threadIdx.x == 0) {
        double* out = (double*)partial + ((long long)c * gridDim.x + s) * 2;
        out[0] = sd;
        out[1] = sdx;
    }
}

// Backward, second level and apply in one kernel: each block sums its channel's partials
// (dbeta = sum dy, dgamma = sum dy*xhat, rounded to float as stored), computes
//   dx = gamma invstd (dy - dbeta/n - xhat dgamma/n)
// for its elements (added to dx when accDx), and block (0, c, 0) stores dgamma and dbeta (added
// when accGamma / accBeta: a parameter's slice of the zeroed flat gradient).
extern "C" __global__ void batchnorm_backward_apply(const float* x, const float* dy, const float* gamma,
                                                    const float* mean, const float* invstd,
                                                    const float* partial, float* dgamma, float* dbeta,
                                                    float* dx, int C, int P, int S, long long count,
                                                    int accDx, int accGamma, int accBeta) {
    __shared__ double sh[2];
    int c = blockIdx.y;
    double sd, sdx;
    bn_sum_partials(partial, c, S, sh, sd, sdx);
    float db = (float)sd, dg = (float)sdx;
    if (blockIdx.x == 0 && blockIdx.z == 0 && threadIdx.x == 0) {
        dbeta[c] = accBeta ? dbeta[c] + db : db;
        dgamma[c] = accGamma ? dgamma[c] + dg : dg;
    }
    float is = invstd[c], mu = mean[c];
    float inv = 1.0f / (float)count;
    float g = gamma[c] * is, dbn = db * inv, dgn = dg * inv;
    long long base = ((long long)blockIdx.z * C + c) * P;
    int p0 = blockIdx.x * BN_EPB, p1 = cu_min(P, p0 + BN_EPB);
    const float* xp = x + base;
    const float* dyp = dy + base;
    float* dxp = dx + base;
    if ((P & 3) == 0 && bn_aligned(xp) && bn_aligned(dyp) && bn_aligned(dxp)) {
        for (int p = p0 + 4 * threadIdx.x; p < p1; p += 4 * blockDim.x) {
            float4 xv = *reinterpret_cast<const float4*>(xp + p), d = *reinterpret_cast<const float4*>(dyp + p);
            float4 r = make_float4(g * (d.x - dbn - (xv.x - mu) * is * dgn), g * (d.y - dbn - (xv.y - mu) * is * dgn),
                                   g * (d.z - dbn - (xv.z - mu) * is * dgn), g * (d.w - dbn - (xv.w - mu) * is * dgn));
            if (accDx) {
                float4 o = *reinterpret_cast<const float4*>(dxp + p);
                r = make_float4(o.x + r.x, o.y + r.y, o.z + r.z, o.w + r.w);
            }
            *reinterpret_cast<float4*>(dxp + p) = r;
        }
    } else {
        for (int p = p0 + threadIdx.x; p < p1; p += blockDim.x) {
            float xhat = (xp[p] - mu) * is;
            float r = g * (dyp[p] - dbn - xhat * dgn);
            dxp[p] = accDx ? dxp[p] + r : r;
        }
    }
}

// ---------------------------------------------------------------- one launch per pass (deep levels)

static_assert((BN_FUSED_THREADS & (BN_FUSED_THREADS - 1)) == 0, "cu_block_sum_d's tree needs a power-of-two block");

// Elements 4q .. 4q+3 of a plane that lie below P into v (4-wide when v4: P % 4 == 0 and the plane
// 16-byte aligned); returns how many. The caller sums v[0..m) in order either way.
static __device__ inline int bn_ld(const float* p, int q, int P, bool v4, float (&v)[4]) {
    int e = 4 * q;
    if (v4) {
        float4 t = *reinterpret_cast<const float4*>(p + e);
        v[0] = t.x; v[1] = t.y; v[2] = t.z; v[3] = t.w;
        return 4;
    }
    int m = cu_min(4, P - e);
    for (int j = 0; j < m; j++) v[j] = p[e + j];
    return m;
}

static __device__ inline void bn_st(float* p, int q, int m, bool v4, const float (&v)[4]) {
    int e = 4 * q;
    if (v4) {
        *reinterpret_cast<float4*>(p + e) = make_float4(v[0], v[1], v[2], v[3]);
        return;
    }
    for (int j = 0; j < m; j++) p[e + j] = v[j];
}

// Training forward of channel c = blockIdx.x in one launch: statistics (pass 1), mean / invstd /
// running statistics (thread 0), then y = (x - mean) gamma invstd + beta, or with gelu gelu(res + y)
// (gelu(y) without res) with pre = its input (pass 2). Same outputs as stats_part + apply up to the order of the sums.
extern "C" __global__ void __launch_bounds__(BN_FUSED_THREADS) batchnorm_forward_fused(
    const float* x, float* y, const float* gamma, const float* beta, float* mean, float* invstd, float* runMean,
    float* runVar, int gelu, const float* res, float* pre, int N, int C, int P, float momentum, float eps,
    float* ostats) {
    __shared__ double sh[BN_FUSED_THREADS];
    int c = blockIdx.x;
    double s1 = 0.0, s2 = 0.0;
    for (int n = 0; n < N; n++) {
        const float* xp = x + ((long long)n * C + c) * P;
        bool v4 = (P & 3) == 0 && bn_aligned(xp);
        for (int q = threadIdx.x; 4 * q < P; q += blockDim.x) {
            float v[4];
            int m = bn_ld(xp, q, P, v4, v);
            for (int j = 0; j < m; j++) {
                s1 += v[j];
                s2 += (double)v[j] * v[j];
            }
        }
    }
    s1 = cu_block_sum_d(s1, sh);
    s2 = cu_block_sum_d(s2, sh);
    double nn = (double)N * P;
    double mu = s1 / nn;
    double var = s2 / nn - mu * mu;
    if (var < 0.0) var = 0.0;
    float m = (float)mu, is = (float)(1.0 / sqrt(var + (double)eps));
    if (threadIdx.x == 0) {
        mean[c] = m;
        invstd[c] = is;
        double unbiased = nn > 1.0 ? var * nn / (nn - 1.0) : var;
        runMean[c] = (float)((1.0 - momentum) * runMean[c] + momentum * mu);
        runVar[c] = (float)((1.0 - momentum) * runVar[c] + momentum * unbiased);
    }
    float sc = gamma[c] * is, bt = beta[c];
    double o1 = 0.0, o2 = 0.0;   // with ostats: this thread's sums of its outputs, in pass 2's order
    for (int n = 0; n < N; n++) {
        long long base = ((long long)n * C + c) * P;
        const float* xp = x + base;
        float* yp = y + base;
        const float* rp = res ? res + base : nullptr;
        float* pp = pre ? pre + base : nullptr;
        bool v4 = (P & 3) == 0 && bn_aligned(xp) && bn_aligned(yp) && (!rp || bn_aligned(rp)) && (!pp || bn_aligned(pp));
        for (int q = threadIdx.x; 4 * q < P; q += blockDim.x) {
            float v[4], r[4];
            int k = bn_ld(xp, q, P, v4, v);
            for (int j = 0; j < k; j++) v[j] = (v[j] - m) * sc + bt;
            if (gelu) {
                if (rp) bn_ld(rp, q, P, v4, r);
                for (int j = 0; j < k; j++) r[j] = rp ? r[j] + v[j] : v[j];
                if (pp) bn_st(pp, q, k, v4, r);
                for (int j = 0; j < k; j++) v[j] = cu_gelu(r[j]);
            }
            bn_st(yp, q, k, v4, v);
            if (ostats)
                for (int j = 0; j < k; j++) bn_acc_stats(v[j], o1, o2);
        }
    }
    // The next BatchNorm's statistics of this output (ostats non-null): the block's fixed tree, one
    // double pair per channel (S' = 1), read by the next batchnorm_forward_apply as its partial.
    if (ostats) {
        o1 = cu_block_sum_d(o1, sh);
        o2 = cu_block_sum_d(o2, sh);
        if (threadIdx.x == 0) {
            ((double*)ostats)[2 * c] = o1;
            ((double*)ostats)[2 * c + 1] = o2;
        }
    }
}

// Backward of channel c = blockIdx.x in one launch: pass 1 sums d and d*xhat (d = dy, or
// dy * gelu'(pre) written to dpre), thread 0 stores dgamma / dbeta (added to when accGamma /
// accBeta), pass 2 writes dx = gamma invstd (d - dbeta/n - xhat dgamma/n) (added when accDx),
// re-reading d from dpre (what this thread wrote in pass 1) or dy.
extern "C" __global__ void __launch_bounds__(BN_FUSED_THREADS) batchnorm_backward_fused(
    const float* x, const float* dy, const float* pre, float* dpre, const float* gamma, const float* mean,
    const float* invstd, float* dgamma, float* dbeta, float* dx, int N, int C, int P, int accDx, int accGamma,
    int accBeta) {
    __shared__ double sh[BN_FUSED_THREADS];
    int c = blockIdx.x;
    float mu = mean[c], is = invstd[c];
    double sd = 0.0, sdx = 0.0;
    for (int n = 0; n < N; n++) {
        long long base = ((long long)n * C + c) * P;
        const float* xp = x + base;
        const float* dp = dy + base;
        const float* prp = pre ? pre + base : nullptr;
        float* dpp = pre ? dpre + base : nullptr;
        bool v4 = (P & 3) == 0 && bn_aligned(xp) && bn_aligned(dp) && (!prp || (bn_aligned(prp) && bn_aligned(dpp)));
        for (int q = threadIdx.x; 4 * q < P; q += blockDim.x) {
            float xv[4], d[4], g[4];
            int k = bn_ld(xp, q, P, v4, xv);
            bn_ld(dp, q, P, v4, d);
            if (prp) {
                bn_ld(prp, q, P, v4, g);
                for (int j = 0; j < k; j++) d[j] *= cu_gelu_grad(g[j]);
                bn_st(dpp, q, k, v4, d);
            }
            for (int j = 0; j < k; j++) {
                sd += d[j];
                sdx += (double)(d[j] * ((xv[j] - mu) * is));
            }
        }
    }
    sd = cu_block_sum_d(sd, sh);
    sdx = cu_block_sum_d(sdx, sh);
    float db = (float)sd, dg = (float)sdx;
    if (threadIdx.x == 0) {
        dbeta[c] = accBeta ? dbeta[c] + db : db;
        dgamma[c] = accGamma ? dgamma[c] + dg : dg;
    }
    float inv = 1.0f / (float)((long long)N * P);
    float gs = gamma[c] * is, dbn = db * inv, dgn = dg * inv;
    for (int n = 0; n < N; n++) {
        long long base = ((long long)n * C + c) * P;
        const float* xp = x + base;
        const float* dp = (pre ? dpre : dy) + base;
        float* dxp = dx + base;
        bool v4 = (P & 3) == 0 && bn_aligned(xp) && bn_aligned(dp) && bn_aligned(dxp);
        for (int q = threadIdx.x; 4 * q < P; q += blockDim.x) {
            float xv[4], d[4], o[4];
            int k = bn_ld(xp, q, P, v4, xv);
            bn_ld(dp, q, P, v4, d);
            if (accDx) bn_ld(dxp, q, P, v4, o);
            for (int j = 0; j < k; j++) {
                float r = gs * (d[j] - dbn - (xv[j] - mu) * is * dgn);
                o[j] = accDx ? o[j] + r : r;
            }
            bn_st(dxp, q, k, v4, o);
        }
    }
}
