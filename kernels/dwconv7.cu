// dwconv7.cu — depthwise 7x7 convolution, reflect padding 3, stride 1, with bias (the ConvNeXt
// block's token mixer; PyTorch Conv2d(C, C, 7, padding=3, groups=C, padding_mode='reflect')).
//
// Math: x, y [N,C,H,W] (H, W >= 4), w [C,1,7,7], b [C]; refl(i) = -i (i<0), 2(n-1)-i (i>=n).
//   y[n,c,p,q]  = b[c] + sum_{a,e<7} w[c,a,e] * x[n,c, refl(p+a-3), refl(q+e-3)]
//   dx[n,c,u,v] = sum over every padded position (i,j) in [-3,H+2]x[-3,W+2] with
//                 refl(i)=u, refl(j)=v of G(i,j),  G(i,j) = sum_{a,e} w[c,a,e]*dy[n,c,i+3-a,j+3-e]
//                 (dy zero outside the image). The preimages of u are u itself, -u when
//                 1<=u<=3 and 2(H-1)-u when H-4<=u<=H-2: the reflect-adjoint folds border
//                 gradients back; only pixels within 3 of a border have more than one.
//                 G is a correlation with the flipped filter wf[a][e] = w[6-a][6-e]:
//                 G(i,j) = sum_{a,e} wf[a][e] * dy[i-3+a][j-3+e].
//   dw[c,a,e]   = sum_{n,p,q} dy[n,c,p,q] * x[n,c,refl(p+a-3),refl(q+e-3)];  db[c] = sum dy.
// Layout: NCHW float32 dense; plane (n,c) is H*W contiguous floats.
//
// Launch geometry: tiles of 32 columns x 64 rows of one plane, block 32x8 threads, each thread
// the 8 vertically consecutive outputs of one column (every loaded row feeds up to 8 outputs).
// Occupancy (__launch_bounds__): 3 blocks per SM for the forward and data kernels (80 registers,
// no spills), so a block's staging latency hides behind two others' math; 2 for the weight kernel
// (128 registers; at 80 it spills). One tile per block: the measured H200 times are in
// bench/NOTES.md (r4: 17 % of the bound with 2 blocks and load-store staging loops).
//   dwconv7_forward, dwconv7_backward_data: grid (ceil(W/32), ceil(H/64), N*C); the 70x40 input
//     (or dy) tile, columns x0-4..x0+35 (its 3-pixel halo plus one column each side, so that rows
//     split into 16-byte pieces), is staged in shared memory (reflect- or zero-filled) with 128-bit
//     loads where W % 4 == 0 and a piece lies inside the plane, 4 scalar loads elsewhere (halo,
//     odd W); the 49 taps sit in registers (all threads of a block share the plane's channel), so
//     the main loop does 14 rows x 7 = 98 shared loads per 392 FMA (0.25 per FMA).
//     backward_data: only blocks whose tile holds pixels within 3 of a border then compute the
//     reflect-adjoint terms, G at the padded positions outside the plane (6(H+W)+36 per plane,
//     49 FMA each), as column / row strips on warps 0-4 (the same 0.25 shared loads per FMA, up
//     to one extra warp's main loop per border block) into shared memory; each output adds its
//     own in a fixed order after a barrier.
//   dwconv7_forward with partial non-null (dwconv7Batchnorm, training): the BatchNorm statistics of
//     y from the epilogue, so the BN skips its statistics pass over y: per block a double pair
//     (sum, sum of squares), then the last block of each channel (integer ticket, as the weight
//     gradient below) sums the channel's pairs in a fixed order into stats (see the kernel).
//   dwconv7_backward_weight: grid (ceil(tiles/tpb), N*C), one launch: block b stages each tile's
//     x (as above, reflect-filled) and dy (64x32, zero-filled; 128-bit loads likewise) in shared
//     memory and accumulates 49 tap
//     sums + the bias sum over tiles [b*tpb, (b+1)*tpb) in registers, reduces them once in the
//     block (warp shuffles, then 8 warps) into partial[(c*50 + t)*S + n*gridDim.x + b],
//     S = N*gridDim.x; then the last block of channel c to finish ("last block reduces": each
//     block's writes, __threadfence(), an unsigned-int ticket per channel, tickets[c]) sums the S
//     partials of each of the 50 values in the fixed order s = 0..S-1 in double, writes dw [C,49]
//     and db [C], and puts tickets[c] back to 0 for the next launch (or a graph replay). Which
//     block is last varies from run to run; the order of the sum does not, so the bits do not.
//     tickets: C unsigned ints, zero before the launch (DwConv7Ops allocates them once, zeroed).
//     No float atomics; the only atomic is the integer ticket.
//   accumulate (data kernel: != 0; weight kernel: bit 0 for dw, bit 1 for db): the result is
//   added to what dx / dw / db hold (a gradient already held: an activation used twice, a
//   parameter's slice of the zeroed flat gradient).
#include "common.cuh"

// DW_TX (output tile columns = threads in x), DW_R (outputs per thread, rows), DW_TY (output tile
// rows), DW_THREADS: kernels/geometry.h.
#define DW_EV (DW_TX + 8)     // staged tile columns: x0-4 .. x0+DW_TX+3 (16-byte aligned pieces)
#define DW_EY (DW_TY + 6)     // staged tile rows (with halo)
static_assert(DW_TY == 8 * DW_R && DW_THREADS == DW_TX * 8 && DW_THREADS == 256,
              "a DW_TX x 8 block covers the DW_TX x DW_TY tile with DW_R rows per thread; the weight "
              "reduction's red[8][..] is one row per warp-row of threadIdx.y; 3 x 8 column-strip jobs");
static_assert(DW_TX % 4 == 0 && DW_EV % 4 == 0, "x0 - 4 is a multiple of 4: whole float4 pieces");
static_assert(DW_TAPS_AND_BIAS == 50, "partial layout [(c*50 + t)*S + ...]: 49 taps and the bias");

// The 49 taps of channel c into registers (flipped for the data gradient). Every thread of the
// block reads the same 49 floats: one broadcast each from L1.
template <bool FLIP>
static __device__ inline void dw_taps(const float* w, int c, float (&wr)[49]) {
CU_UNROLL
    for (int t = 0; t < 49; t++) wr[t] = __ldg(w + c * 49 + (FLIP ? 48 - t : t));
}

// plane(gy, gx) as staged: reflected (REFLECT; 0 more than 3 outside the plane, where no output
// reads) or zero outside the plane.
template <bool REFLECT>
static __device__ inline float dw_at(const float* plane, int H, int W, int gy, int gx) {
    if (REFLECT) {
        if (gy < -3 || gy > H + 2 || gx < -3 || gx > W + 2) return 0.0f;
        return plane[cu_reflect(gy, H) * W + cu_reflect(gx, W)];
    }
    return (gy >= 0 && gy < H && gx >= 0 && gx < W) ? plane[gy * W + gx] : 0.0f;
}

// Stages the (DW_EY x DW_EV) tile whose top-left is (y0-3, x0-4) as DW_EV/4 pieces of 4 columns
// per row. A piece inside the plane's columns of a row inside the plane (or, REFLECT, a row
// reflected into it) is one 128-bit load when W % 4 == 0 and the plane is 16-byte aligned (its
// start column x0-4+4k is then a multiple of 4); a piece over the left/right halo or of an
// unaligned plane reads its 4 values one by one (reflect- or zero-filled). dw_fetch loads a
// thread's pieces into registers, dw_commit stores them: the compiler cannot move a global load
// above a shared store (the generic pointer might alias the tile), so a load-store loop would wait
// out one memory latency per piece (3 per thread here) instead of one; the weight kernel also
// fetches the next tile while it multiplies this one.
// Columns gx..gx+3 of row gy as staged: one 128-bit load when vec, the row is inside the plane (or,
// REFLECT, reflected into it: rowIn) and so are the 4 columns; else 4 dw_at reads.
template <bool REFLECT>
static __device__ inline float4 dw_piece(const float* plane, int H, int W, int gy, int gx, bool vec, bool rowIn) {
    if (vec && rowIn && gx >= 0 && gx + 4 <= W)
        return cu_ld4(plane + (long long)(REFLECT ? cu_reflect(gy, H) : gy) * W, gx >> 2);
    return make_float4(dw_at<REFLECT>(plane, H, W, gy, gx), dw_at<REFLECT>(plane, H, W, gy, gx + 1),
                       dw_at<REFLECT>(plane, H, W, gy, gx + 2), dw_at<REFLECT>(plane, H, W, gy, gx + 3));
}

#define DW_STAGE_PIECES ((DW_EY * (DW_EV / 4) + DW_THREADS - 1) / DW_THREADS)
template <bool REFLECT>
static __device__ inline void dw_fetch(const float* plane, int H, int W, int y0, int x0, float4 (&v)[DW_STAGE_PIECES]) {
    int tid = threadIdx.y * DW_TX + threadIdx.x;
    bool vec = (W & 3) == 0 && cu_aligned16(plane);
CU_UNROLL
    for (int i = 0; i < DW_STAGE_PIECES; i++) {
        int e = tid + i * DW_THREADS;
        if (e >= DW_EY * (DW_EV / 4)) break;
        int r = e / (DW_EV / 4), k = (e - r * (DW_EV / 4)) * 4;
        int gy = y0 - 3 + r, gx = x0 - 4 + k;
        v[i] = dw_piece<REFLECT>(plane, H, W, gy, gx, vec, REFLECT ? (gy >= -3 && gy <= H + 2) : (gy >= 0 && gy < H));
    }
}

static __device__ inline void dw_commit(const float4 (&v)[DW_STAGE_PIECES], float (*tile)[DW_EV]) {
    int tid = threadIdx.y * DW_TX + threadIdx.x;
CU_UNROLL
    for (int i = 0; i < DW_STAGE_PIECES; i++) {
        int e = tid + i * DW_THREADS;
        if (e >= DW_EY * (DW_EV / 4)) break;
        int r = e / (DW_EV / 4), k = (e - r * (DW_EV / 4)) * 4;
        *reinterpret_cast<float4*>(&tile[r][k]) = v[i];
    }
}

template <bool REFLECT>
static __device__ inline void dw_stage(const float* plane, int H, int W, int y0, int x0, float (*tile)[DW_EV]) {
    float4 v[DW_STAGE_PIECES];
    dw_fetch<REFLECT>(plane, H, W, y0, x0, v);
    dw_commit(v, tile);
}

// The DW_TY x DW_TX output-shaped tile at (y0, x0), zero outside the plane (the weight gradient's
// dy): fetched and committed as dw_fetch / dw_commit do, 128-bit loads under the same conditions.
#define DW_STAGE_OUT_PIECES ((DW_TY * (DW_TX / 4) + DW_THREADS - 1) / DW_THREADS)
static __device__ inline void dw_fetch_out(const float* plane, int H, int W, int y0, int x0,
                                           float4 (&v)[DW_STAGE_OUT_PIECES]) {
    int tid = threadIdx.y * DW_TX + threadIdx.x;
    bool vec = (W & 3) == 0 && cu_aligned16(plane);
CU_UNROLL
    for (int i = 0; i < DW_STAGE_OUT_PIECES; i++) {
        int e = tid + i * DW_THREADS;
        if (e >= DW_TY * (DW_TX / 4)) break;
        int r = e / (DW_TX / 4), k = (e - r * (DW_TX / 4)) * 4;
        int gy = y0 + r, gx = x0 + k;
        v[i] = dw_piece<false>(plane, H, W, gy, gx, vec, gy < H);   // gy >= 0: the tile starts inside
    }
}

static __device__ inline void dw_commit_out(const float4 (&v)[DW_STAGE_OUT_PIECES], float (*tile)[DW_TX]) {
    int tid = threadIdx.y * DW_TX + threadIdx.x;
CU_UNROLL
    for (int i = 0; i < DW_STAGE_OUT_PIECES; i++) {
        int e = tid + i * DW_THREADS;
        if (e >= DW_TY * (DW_TX / 4)) break;
        int r = e / (DW_TX / 4), k = (e - r * (DW_TX / 4)) * 4;
        *reinterpret_cast<float4*>(&tile[r][k]) = v[i];
    }
}

// acc[o] += sum_{a,e} wr[a*7+e] * tile[tr0+o+a][tc0+e], o < R: R vertically consecutive outputs,
// each staged row loaded once (7 shared loads) and used by up to 7 of them. CHECK: tile positions
// outside the staged tile count as 0 (the data gradient's border strips, which reach past it only
// where the plane is zero).
template <int R, bool CHECK>
static __device__ inline void dw_rows(const float (*tile)[DW_EV], const float (&wr)[49], int tr0, int tc0,
                                      float (&acc)[R]) {
CU_UNROLL
    for (int r = 0; r < R + 6; r++) {
        float v[7];
        bool rin = !CHECK || (tr0 + r >= 0 && tr0 + r < DW_EY);
CU_UNROLL
        for (int e = 0; e < 7; e++)
            v[e] = (!CHECK || (rin && tc0 + e >= 0 && tc0 + e < DW_EV)) ? tile[tr0 + r][tc0 + e] : 0.0f;
CU_UNROLL
        for (int o = 0; o < R; o++) {
            int a = r - o;
            if (a >= 0 && a < 7) {
CU_UNROLL
                for (int e = 0; e < 7; e++) acc[o] += wr[a * 7 + e] * v[e];
            }
        }
    }
}

// Block sums of two doubles over the DW_THREADS (8 warps) threads in a fixed order: a butterfly in
// each warp, then lanes 0..7 of warp 0 take the 8 warp sums and a butterfly over them. Thread 0
// gets the totals (a, b); red holds 16 doubles.
static __device__ inline void dw_block_sum2_d(double& a, double& b, double* red, int tid) {
    for (int o = 16; o > 0; o >>= 1) {
        a += __shfl_xor_sync(0xffffffffu, a, o);
        b += __shfl_xor_sync(0xffffffffu, b, o);
    }
    if ((tid & 31) == 0) {
        red[tid >> 5] = a;
        red[8 + (tid >> 5)] = b;
    }
    __syncthreads();
    if (tid < 32) {
        a = tid < 8 ? red[tid] : 0.0;
        b = tid < 8 ? red[8 + tid] : 0.0;
        for (int o = 4; o > 0; o >>= 1) {   // within lanes 0..7
            a += __shfl_xor_sync(0xffffffffu, a, o);
            b += __shfl_xor_sync(0xffffffffu, b, o);
        }
    }
}

// partial non-null: the BatchNorm statistics of y in the epilogue (dwconv7Batchnorm): each block
// sums its outputs and their squares in double (each thread its DW_R rows in order, then
// dw_block_sum2_d) into partial[(c*S + s)*2 + {0,1}] (doubles; s = n*tiles + tile, S = N*tiles);
// the last block of channel c to draw its ticket (the dwconv7_backward_weight scheme: fence,
// integer ticket, reset to 0 by that block) sums the S pairs in a fixed order (lane l of warp 0 the
// pairs l, l+32, ..., then a butterfly) into stats[c*2 + {0,1}], which batchnorm_forward_apply
// reads as its channel's only partial (S = 1). The bits do not depend on which block is last.
extern "C" __global__ void __launch_bounds__(DW_THREADS, 3) dwconv7_forward(const float* x, const float* w,
                                                                        const float* b, float* y, float* partial,
                                                                        float* stats, unsigned int* tickets,
                                                                        int N, int C, int H, int W) {
    static_assert(DW_THREADS == 8 * 32, "dw_block_sum2_d: 8 warps");
    __shared__ __align__(16) float tile[DW_EY][DW_EV];
    __shared__ double red[16];
    __shared__ bool last;
    int plane = blockIdx.z, n = plane / C, c = plane - n * C;
    int x0 = blockIdx.x * DW_TX, y0 = blockIdx.y * DW_TY;
    const float* xp = x + (long long)plane * H * W;
    float wr[49];
    dw_taps<false>(w, c, wr);
    dw_stage<true>(xp, H, W, y0, x0, tile);
    __syncthreads();
    float acc[DW_R];
    float bv = __ldg(b + c);
CU_UNROLL
    for (int o = 0; o < DW_R; o++) acc[o] = bv;
    int ly0 = threadIdx.y * DW_R, lx = threadIdx.x;
    // output (y0+ly0+o, x0+lx) reads input rows from y0+ly0+o-3 (tile row ly0+o), columns from
    // x0+lx-3 (tile column lx+1)
    dw_rows<DW_R, false>(tile, wr, ly0, lx + 1, acc);
    int ox = x0 + lx;
    float* yp = y + (long long)plane * H * W;
    bool stat = partial != nullptr;
    double s1 = 0.0, s2 = 0.0;
    if (ox < W) {
CU_UNROLL
        for (int o = 0; o < DW_R; o++) {
            int oy = y0 + ly0 + o;
            if (oy < H) {
                yp[oy * W + ox] = acc[o];
                if (stat) {   // as batchnorm.cu's bn_acc_stats: the float output, widened
                    double v = acc[o];
                    s1 += v;
                    s2 += v * v;
                }
            }
        }
    }
    if (!stat) return;   // block-uniform: no statistics asked
    int tid = threadIdx.y * DW_TX + threadIdx.x;
    dw_block_sum2_d(s1, s2, red, tid);
    int tiles = gridDim.x * gridDim.y, S = N * tiles;   // blocks per channel
    if (tid == 0) {
        double* out = (double*)partial + ((long long)c * S + (long long)n * tiles + blockIdx.y * gridDim.x + blockIdx.x) * 2;
        out[0] = s1;
        out[1] = s2;
        __threadfence();   // the pair is visible device-wide before the ticket is drawn
        last = atomicAdd(tickets + c, 1u) == (unsigned int)S - 1u;
    }
    __syncthreads();
    if (!last) return;
    __threadfence();   // every other block of channel c fenced its pair before its ticket
    if (tid < 32) {
        const volatile double* p = (const double*)partial + (long long)c * S * 2;
        double a = 0.0, q = 0.0;
        for (int i = tid; i < S; i += 32) {   // fixed order: the same bits whichever block is last
            a += p[2 * i];
            q += p[2 * i + 1];
        }
        for (int o = 16; o > 0; o >>= 1) {
            a += __shfl_xor_sync(0xffffffffu, a, o);
            q += __shfl_xor_sync(0xffffffffu, q, o);
        }
        if (tid == 0) {
            ((double*)stats)[2 * c] = a;
            ((double*)stats)[2 * c + 1] = q;
            tickets[c] = 0u;   // ready for the next launch (a CUDA-graph replay too)
        }
    }
}

// The data gradient's reflect-adjoint terms: G at the padded positions outside the plane whose
// reflection lands in this tile. They lie in at most 2 groups of 3 padded columns (g = 0: j = -3..-1,
// mirrors of columns 3..1, when x0 == 0; g = 1: j = W..W+2, mirrors of W-2..W-4, when the tile holds
// one of those) and 2 groups of 3 padded rows (i = -3..-1; i = H..H+2). The block computes them as
// strips, in parallel on otherwise idle warps, before the outputs are summed:
//   colG[g][c][r]     = G(y0 + r, jbase_g + c)        24 jobs per group: 3 columns x 8 strips of DW_R rows
//   rowG[g][k][l]     = G(ibase_g + k, x0 + l)        DW_TX jobs per group: one 3-row strip per column
//   cornG[g][h][k][c] = G(ibase_g + k, jbase_h + c)   3 jobs per pair: one 3-row strip per column
// jbase = -3 | W, ibase = -3 | H. G(i, j) reads dy rows i-3.. (tile row i - y0) and columns j-3..
// (tile column j - x0 + 1); what it needs from outside the staged tile is outside the plane (zero).
struct DwBorder {
    float colG[2][3][DW_TY];
    float rowG[2][3][DW_TX];
    float cornG[2][2][3][3];
};

static __device__ inline void dw_border_jobs(const float (*tile)[DW_EV], const float (&wf)[49], int H, int W,
                                             int y0, int x0, int on, DwBorder& bd) {
    int tid = threadIdx.y * DW_TX + threadIdx.x;
    if (tid < 48) {   // warps 0-1: column strips
        int g = tid / 24, k = tid - g * 24, c = k / DW_R, q = k - c * DW_R;
        if (!(on >> g & 1)) return;
        float s[DW_R];
CU_UNROLL
        for (int o = 0; o < DW_R; o++) s[o] = 0.0f;
        int j = (g == 0 ? -3 : W) + c;
        dw_rows<DW_R, true>(tile, wf, q * DW_R, j - x0 + 1, s);
CU_UNROLL
        for (int o = 0; o < DW_R; o++) bd.colG[g][c][q * DW_R + o] = s[o];
    } else if (tid >= 64 && tid < 64 + 2 * DW_TX + 12) {   // warps 2-4: row strips, then corners
        int k = tid - 64, g, h = -1, c;
        bool job;
        if (k < 2 * DW_TX) {
            g = k / DW_TX;
            c = k - g * DW_TX;
            job = on >> (2 + g) & 1;
        } else {
            k -= 2 * DW_TX;
            g = k / 6;
            h = (k - g * 6) / 3;
            c = k - g * 6 - h * 3;
            job = (on >> (2 + g) & 1) && (on >> h & 1);
        }
        if (!job) return;
        float s[3] = {0.0f, 0.0f, 0.0f};
        int i = g == 0 ? -3 : H, j = h < 0 ? x0 + c : (h == 0 ? -3 : W) + c;
        dw_rows<3, true>(tile, wf, i - y0, j - x0 + 1, s);
CU_UNROLL
        for (int t = 0; t < 3; t++) {
            if (h < 0) bd.rowG[g][t][c] = s[t];
            else bd.cornG[g][h][t][c] = s[t];
        }
    }
}

extern "C" __global__ void __launch_bounds__(DW_THREADS, 3) dwconv7_backward_data(const float* dy,
                                                                              const float* w, float* dx,
                                                                              int C, int H, int W,
                                                                              int accumulate) {
    __shared__ __align__(16) float tile[DW_EY][DW_EV];
    __shared__ DwBorder bd;
    int plane = blockIdx.z, c = plane % C;
    int x0 = blockIdx.x * DW_TX, y0 = blockIdx.y * DW_TY;
    const float* dyp = dy + (long long)plane * H * W;
    float wf[49];   // flipped filter: G is a correlation with it
    dw_taps<true>(w, c, wf);
    dw_stage<false>(dyp, H, W, y0, x0, tile);
    __syncthreads();
    float acc[DW_R];
CU_UNROLL
    for (int o = 0; o < DW_R; o++) acc[o] = 0.0f;
    int ly0 = threadIdx.y * DW_R, lx = threadIdx.x;
    // Main term G(u,v): dy rows u-3..u+3 sit at tile rows (u-y0)..(u-y0)+6, columns v-3.. from
    // tile column (v-x0)+1.
    dw_rows<DW_R, false>(tile, wf, ly0, lx + 1, acc);
    // Border groups present in this tile (block-uniform, so the barrier below is safe).
    // Bits: 0 left / 1 right column group, 2 top / 3 bottom row group.
    int on = (x0 == 0) | (x0 <= W - 2 && x0 + DW_TX - 1 >= W - 4) << 1 | (y0 == 0) << 2 |
             (y0 <= H - 2 && y0 + DW_TY - 1 >= H - 4) << 3;
    bool border = on != 0;
    if (border) {
        dw_border_jobs(tile, wf, H, W, y0, x0, on, bd);
        __syncthreads();
    }
    int v = x0 + lx;
    if (v >= W) return;
    float* dxp = dx + (long long)plane * H * W;
    if (!border) {   // interior tile (most of them): no mirror terms to look up
CU_UNROLL
        for (int o = 0; o < DW_R; o++) {
            int u = y0 + ly0 + o;
            if (u >= H) break;
            dxp[u * W + v] = accumulate ? dxp[u * W + v] + acc[o] : acc[o];
        }
        return;
    }
    bool vl = v >= 1 && v <= 3, vh = v >= W - 4 && v <= W - 2;
    int cl = 3 - v, ch = W - 2 - v;   // column index of the mirror -v / 2(W-1)-v in its group
CU_UNROLL
    for (int o = 0; o < DW_R; o++) {
        int u = y0 + ly0 + o, r = ly0 + o;
        if (u >= H) break;
        float s = acc[o];
        bool ul = u >= 1 && u <= 3, uh = u >= H - 4 && u <= H - 2;
        int kl = 3 - u, kh = H - 2 - u;
        // Every other (row preimage, column preimage) pair, in the fixed order (u, -v), (u, v'),
        // (-u, v), (-u, -v), (-u, v'), (u', v), (u', -v), (u', v') (primes: the high mirrors).
        if (vl) s += bd.colG[0][cl][r];
        if (vh) s += bd.colG[1][ch][r];
        if (ul) {
            s += bd.rowG[0][kl][lx];
            if (vl) s += bd.cornG[0][0][kl][cl];
            if (vh) s += bd.cornG[0][1][kl][ch];
        }
        if (uh) {
            s += bd.rowG[1][kh][lx];
            if (vl) s += bd.cornG[1][0][kh][cl];
            if (vh) s += bd.cornG[1][1][kh][ch];
        }
        dxp[u * W + v] = accumulate ? dxp[u * W + v] + s : s;
    }
}

extern "C" __global__ void __launch_bounds__(DW_THREADS, 2) dwconv7_backward_weight(
    const float* x, const float* dy, float* partial, unsigned int* tickets, float* dw, float* db, int C, int H,
    int W, int tilesX, int tiles, int tpb, int S, int accumulate) {
    __shared__ __align__(16) float tile[DW_EY][DW_EV];
    __shared__ __align__(16) float dtile[DW_TY][DW_TX];
    __shared__ float red[8][50];
    __shared__ bool last;
    int plane = blockIdx.y, c = plane % C, n = plane / C;
    int tid = threadIdx.y * DW_TX + threadIdx.x;
    int ly0 = threadIdx.y * DW_R, lx = threadIdx.x;
    const float* xp = x + (long long)plane * H * W;
    const float* dyp = dy + (long long)plane * H * W;
    float acc[50];
CU_UNROLL
    for (int t = 0; t < 50; t++) acc[t] = 0.0f;
    // This block's tiles [t0, t1): partial sums stay in registers across them, so the 50-value
    // block reduction below is paid once per tpb tiles.
    // Software pipelined: tile t+1's x and dy are loaded into registers (fv, fd) while tile t is
    // multiplied, and stored to shared memory after the barrier that ends tile t's reads.
    int t0 = blockIdx.x * tpb, t1 = cu_min(tiles, t0 + tpb);
    float4 fv[DW_STAGE_PIECES], fd[DW_STAGE_OUT_PIECES];
    if (t0 < t1) {
        int ty = t0 / tilesX, tx = t0 - ty * tilesX;
        dw_fetch<true>(xp, H, W, ty * DW_TY, tx * DW_TX, fv);
        dw_fetch_out(dyp, H, W, ty * DW_TY, tx * DW_TX, fd);   // zero outside the plane: those outputs add nothing
    }
    for (int tIdx = t0; tIdx < t1; tIdx++) {
        __syncthreads();   // the previous tile is no longer read
        dw_commit(fv, tile);
        dw_commit_out(fd, dtile);
        __syncthreads();
        if (tIdx + 1 < t1) {
            int ty = (tIdx + 1) / tilesX, tx = (tIdx + 1) - ty * tilesX;
            dw_fetch<true>(xp, H, W, ty * DW_TY, tx * DW_TX, fv);
            dw_fetch_out(dyp, H, W, ty * DW_TY, tx * DW_TX, fd);
        }
        float d[DW_R];
CU_UNROLL
        for (int o = 0; o < DW_R; o++) d[o] = dtile[ly0 + o][lx];
CU_UNROLL
        for (int r = 0; r < DW_R + 6; r++) {
            float v[7];
CU_UNROLL
            for (int e = 0; e < 7; e++) v[e] = tile[ly0 + r][lx + 1 + e];
CU_UNROLL
            for (int o = 0; o < DW_R; o++) {
                int a = r - o;
                if (a >= 0 && a < 7) {
CU_UNROLL
                    for (int e = 0; e < 7; e++) acc[a * 7 + e] += d[o] * v[e];
                }
            }
        }
CU_UNROLL
        for (int o = 0; o < DW_R; o++) acc[49] += d[o];
    }
    int warp = tid >> 5, lane = tid & 31;
CU_UNROLL
    for (int t = 0; t < 50; t++) {
        float v = cu_warp_sum(acc[t]);
        if (lane == 0) red[warp][t] = v;
    }
    __syncthreads();
    if (tid < 50) {
        float s = 0.0f;
        for (int k = 0; k < 8; k++) s += red[k][tid];
        partial[((long long)c * 50 + tid) * S + (long long)n * gridDim.x + blockIdx.x] = s;
        __threadfence();   // this block's partials are visible device-wide before its ticket is drawn
    }
    __syncthreads();
    if (tid == 0) last = atomicAdd(tickets + c, 1u) == (unsigned int)S - 1u;   // S blocks per channel
    __syncthreads();
    if (!last) return;
    __threadfence();   // every other block of channel c has fenced its partials before its ticket
    if (tid < 50) {
        const volatile float* p = partial + ((long long)c * 50 + tid) * S;
        double s = 0.0;
        for (int i = 0; i < S; i++) s += p[i];   // fixed order: the same bits whichever block is last
        float* dst = tid < 49 ? dw + c * 49 + tid : db + c;
        *dst = (accumulate & (tid < 49 ? 1 : 2)) ? *dst + (float)s : (float)s;
    }
    if (tid == 0) tickets[c] = 0u;   // ready for the next launch (a CUDA-graph replay too)
}
