// loss.cu — softmax cross-entropy (ignore index 255) + soft Dice, value and d loss/d logits.
// Math: logits z [N,K,H,W], target t [N,H,W] (class index as float; 255 or any value outside
//   [0,K) = ignored). Per kept pixel: lse = log sum_k exp z_k, p_k = exp(z_k - lse).
//   CE = (1/M) sum_kept (lse - z_t), M = number of kept pixels.
//   Per image n, class k (kept pixels): I = sum p_k [t=k], S = sum p_k + sum [t=k];
//   dice = (2I + 1e-6)/(S + 1e-6) (S = 0 -> S := 2I, i.e. dice 1 with zero gradient);
//   loss = CE + 1 - (1/K) sum_k (1/N) sum_n dice(n,k).
//   Gradient at a kept pixel: G_k = dL_dice/dp_k = -(a_nk [t=k] - b_nk)/(K N) with
//   a = 2/(S+eps), b = (2I+eps)/(S+eps)^2;  dz_k = (p_k - [t=k])/M + p_k (G_k - sum_j p_j G_j).
// Layout: NCHW float32; P = H*W; class k of pixel p of image n at (n*K + k)*P + p.
// Launch:
//   ce_dice_forward_part:   grid (N*cpi), 256 thr: chunk s = n*cpi + j (pixels [j*L, (j+1)L));
//                           writes lse [N,P] (workspace, read by the backward) and
//                           sums, in double, slot 0 CE, slot 1 count, slots 2+3k.. (sum p_k,
//                           sum p_k t_k, sum t_k) into partial[s*(2+3K) + slot] (doubles).
//   ce_dice_forward_reduce: grid 1, 256 thr: fixed-order sums per (n, slot), then thread 0
//                           writes out[0..3] = loss, CE, 1 - mean dice, 1/M and
//                           out[4 + 2(nK+k) + {0,1}] = a/(KN), b/(KN) (all doubles).
//   ce_dice_backward:       grid (ceil(P/1024), N), 256 thr, 4 pixels per thread (float4 when
//                           P % 4 == 0 and the buffers are 16-byte aligned): dlogits.
#include "common.cuh"

#define CED_EPS 1e-6

static __device__ inline int ced_class(const float* target, long long i, int K) {
    float tv = target[i];
    int t = (int)tv;
    return (tv >= 0.0f && t < K && (float)t == tv) ? t : -1;   // -1: ignored
}

// lse of pixel p, the same arithmetic (and bits) as the former ce_dice_forward_lse kernel.
static __device__ inline float ced_lse(const float* z, int K, int P) {
    float mx = z[0];
    for (int k = 1; k < K; k++) mx = fmaxf(mx, z[(long long)k * P]);
    float s = 0.0f;
    for (int k = 0; k < K; k++) s += expf(z[(long long)k * P] - mx);
    return mx + logf(s);
}

// The first pass computes and writes every pixel's lse (kept or not) besides the CE sums: each
// thread later reads back only the lse values it wrote itself, so no barrier is needed for them.
extern "C" __global__ void ce_dice_forward_part(const float* logits, const float* target,
                                                float* lse, float* partial, int K, int P,
                                                int cpi, int L) {
    __shared__ double sh[CU_THREADS];
    int s = blockIdx.x, n = s / cpi, j = s - n * cpi;
    int p0 = j * L, p1 = cu_min(P, p0 + L);
    const float* z = logits + (long long)n * K * P;
    const float* tg = target + (long long)n * P;
    float* ls = lse + (long long)n * P;
    double* out = (double*)partial + (long long)s * (2 + 3 * K);
    double ce = 0.0, cnt = 0.0;
    for (int p = p0 + threadIdx.x; p < p1; p += blockDim.x) {
        float l = ced_lse(z + p, K, P);
        ls[p] = l;
        int t = ced_class(tg, p, K);
        if (t < 0) continue;
        ce += (double)(l - z[(long long)t * P + p]);
        cnt += 1.0;
    }
    ce = cu_block_sum_d(ce, sh);
    cnt = cu_block_sum_d(cnt, sh);
    if (threadIdx.x == 0) { out[0] = ce; out[1] = cnt; }
    for (int k = 0; k < K; k++) {
        double sp = 0.0, spt = 0.0, st = 0.0;
        for (int p = p0 + threadIdx.x; p < p1; p += blockDim.x) {
            int t = ced_class(tg, p, K);
            if (t < 0) continue;
            double pk = (double)expf(z[(long long)k * P + p] - ls[p]);
            sp += pk;
            if (t == k) { spt += pk; st += 1.0; }
        }
        sp = cu_block_sum_d(sp, sh);
        spt = cu_block_sum_d(spt, sh);
        st = cu_block_sum_d(st, sh);
        if (threadIdx.x == 0) { out[2 + 3 * k] = sp; out[3 + 3 * k] = spt; out[4 + 3 * k] = st; }
    }
}

// `sums` is a workspace of N*(2+3K) doubles; `out` receives 4 + 2NK doubles.
extern "C" __global__ void ce_dice_forward_reduce(const float* partial, float* sums, float* out,
                                                  int N, int K, int cpi) {
    int slots = 2 + 3 * K;
    const double* pp = (const double*)partial;
    double* sm = (double*)sums;
    for (int e = threadIdx.x; e < N * slots; e += blockDim.x) {
        int n = e / slots, sl = e - n * slots;
        double acc = 0.0;
        for (int j = 0; j < cpi; j++) acc += pp[((long long)n * cpi + j) * slots + sl];
        sm[e] = acc;
    }
    __syncthreads();
    if (threadIdx.x != 0) return;
    double* o = (double*)out;
    double ceSum = 0.0, M = 0.0;
    for (int n = 0; n < N; n++) { ceSum += sm[n * slots]; M += sm[n * slots + 1]; }
    double ce = ceSum / M;
    double diceSum = 0.0, scale = 1.0 / ((double)K * N);
    for (int n = 0; n < N; n++) {
        for (int k = 0; k < K; k++) {
            double sp = sm[n * slots + 2 + 3 * k], I = sm[n * slots + 3 + 3 * k];
            double st = sm[n * slots + 4 + 3 * k];
            double S = sp + st;
            double a = 0.0, b = 0.0;
            if (S == 0.0) {
                diceSum += 1.0;   // (2I+eps)/(2I+eps), constant: no gradient
            } else {
                double den = S + CED_EPS;
                diceSum += (2.0 * I + CED_EPS) / den;
                a = 2.0 / den;
                b = (2.0 * I + CED_EPS) / (den * den);
            }
            o[4 + 2 * (n * K + k)] = a * scale;
            o[5 + 2 * (n * K + k)] = b * scale;
        }
    }
    double diceLoss = 1.0 - diceSum * scale;
    o[0] = ce + diceLoss;
    o[1] = ce;
    o[2] = diceLoss;
    o[3] = 1.0 / M;
}

// Lane j of a float4 (j < 4, a compile-time constant after unrolling).
static __device__ inline float& ced_lane(float4& v, int j) { return j == 0 ? v.x : j == 1 ? v.y : j == 2 ? v.z : v.w; }

// Four pixels per thread. Vector path (P % 4 == 0 and logits, target, lse, dlogits 16-byte aligned):
// target, lse and each class plane as one float4, dlogits stored as float4; scalar path otherwise.
// Both do the same per-pixel float arithmetic as the one-pixel-per-thread kernel before them
// (same bits); an ignored pixel gets 0 in every class.
extern "C" __global__ void ce_dice_backward(const float* logits, const float* target,
                                            const float* lse, const float* out, float* dlogits,
                                            int K, int P) {
    int n = blockIdx.y;
    long long e = 4 * ((long long)blockIdx.x * blockDim.x + threadIdx.x);
    if (e >= P) return;
    const double* o = (const double*)out;
    float invM = (float)o[3];
    const float* z = logits + (long long)n * K * P;
    float* dz = dlogits + (long long)n * K * P;
    const float* tg = target + (long long)n * P;
    const float* ls = lse + (long long)n * P;
    bool v4 = (P & 3) == 0 && cu_aligned16(logits) && cu_aligned16(target) && cu_aligned16(lse)
              && cu_aligned16(dlogits);
    if (v4) {
        float4 tv = cu_ld4(tg, e >> 2), lv = cu_ld4(ls, e >> 2);
        int t[4];
        float l[4], s[4];
        CU_UNROLL for (int j = 0; j < 4; j++) {
            t[j] = ced_class(&ced_lane(tv, j), 0, K);
            l[j] = ced_lane(lv, j);
            s[j] = 0.0f;
        }
        for (int k = 0; k < K; k++) {
            float4 zv = cu_ld4(z + (long long)k * P, e >> 2);
            float a = (float)o[4 + 2 * (n * K + k)], b = (float)o[5 + 2 * (n * K + k)];
            CU_UNROLL for (int j = 0; j < 4; j++) {
                float pk = expf(ced_lane(zv, j) - l[j]);
                float g = -((k == t[j] ? a : 0.0f) - b);
                s[j] += pk * g;
            }
        }
        for (int k = 0; k < K; k++) {
            float4 zv = cu_ld4(z + (long long)k * P, e >> 2), dv;
            float a = (float)o[4 + 2 * (n * K + k)], b = (float)o[5 + 2 * (n * K + k)];
            CU_UNROLL for (int j = 0; j < 4; j++) {
                float pk = expf(ced_lane(zv, j) - l[j]);
                float g = -((k == t[j] ? a : 0.0f) - b);
                ced_lane(dv, j) = t[j] < 0 ? 0.0f : invM * (pk - (k == t[j] ? 1.0f : 0.0f)) + pk * (g - s[j]);
            }
            cu_st4(dz + (long long)k * P, e >> 2, dv);
        }
        return;
    }
    for (long long p = e; p < e + 4 && p < P; p++) {
        int t = ced_class(tg, p, K);
        if (t < 0) {
            for (int k = 0; k < K; k++) dz[(long long)k * P + p] = 0.0f;
            continue;
        }
        float l = ls[p];
        float s = 0.0f;
        for (int k = 0; k < K; k++) {
            float pk = expf(z[(long long)k * P + p] - l);
            float a = (float)o[4 + 2 * (n * K + k)], b = (float)o[5 + 2 * (n * K + k)];
            float g = -((k == t ? a : 0.0f) - b);
            s += pk * g;
        }
        for (int k = 0; k < K; k++) {
            float pk = expf(z[(long long)k * P + p] - l);
            float a = (float)o[4 + 2 * (n * K + k)], b = (float)o[5 + 2 * (n * K + k)];
            float g = -((k == t ? a : 0.0f) - b);
            dz[(long long)k * P + p] = invM * (pk - (k == t ? 1.0f : 0.0f)) + pk * (g - s);
        }
    }
}
