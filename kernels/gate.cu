// gate.cu — the gated skip attention of the Up block (fused elementwise halves).
// Math: g [N,3C,H,W] = (g1, g2, g3) by channel blocks of C; s, a, u, out [N,C,H,W];
//   gate_forward_in:   u = g1 + s
//   gate_forward_out:  out = sig(a)*s + sig(g2)*tanh(g3)
//   gate_backward_out: da = dout*s*sig(a)(1-sig(a)); ds = dout*sig(a);
//                      dg = (0, dout*tanh(g3)*sig(g2)(1-sig(g2)), dout*sig(g2)*(1-tanh(g3)^2))
//   gate_backward_in:  dg = (du, 0, 0), or dg[:, 0:C] += du when accumulate (dg already held);
//                      ds += du when ds is non-null (the skip's held gradient, in the same pass),
//                      else ds = du is the caller's
// Layout: NCHW float32; P = H*W; channel block k of image n in g starts at ((n*3 + k)*C)*P.
// Launch: grid (ceil(C*P/1024), N), 256 threads; thread t of image n handles elements [4t, 4t+4)
//   of [0, C*P): one float4 each when C*P % 4 == 0 and the buffers are 16-byte aligned, else four
//   bounded scalars (cu_piece4).
#include "common.cuh"

static __device__ inline float gate_sigmoid(float v) { return 1.0f / (1.0f + expf(-v)); }

extern "C" __global__ void gate_forward_in(const float* g, const float* s, float* u, int CP) {
    long long n = blockIdx.y;
    const float* gn = g + n * 3 * CP;
    const float* sn = s + n * CP;
    float* un = u + n * CP;
    cu_piece4(CP, (CP & 3) == 0 && cu_aligned16(g) && cu_aligned16(s) && cu_aligned16(u),
              [&](long long e) {
                  float4 a = cu_ld4(gn + e, 0), b = cu_ld4(sn + e, 0);
                  cu_st4(un + e, 0, make_float4(a.x + b.x, a.y + b.y, a.z + b.z, a.w + b.w));
              },
              [&](long long e) { un[e] = gn[e] + sn[e]; });
}

static __device__ inline float gate_out1(float a, float s, float g2, float g3) {
    return gate_sigmoid(a) * s + gate_sigmoid(g2) * tanhf(g3);
}

extern "C" __global__ void gate_forward_out(const float* a, const float* s, const float* g,
                                            float* out, int CP) {
    long long n = blockIdx.y;
    const float *an = a + n * CP, *sn = s + n * CP, *g2 = g + n * 3 * CP + CP, *g3 = g2 + CP;
    float* on = out + n * CP;
    cu_piece4(CP, (CP & 3) == 0 && cu_aligned16(a) && cu_aligned16(s) && cu_aligned16(g) && cu_aligned16(out),
              [&](long long e) {
                  float4 va = cu_ld4(an + e, 0), vs = cu_ld4(sn + e, 0), v2 = cu_ld4(g2 + e, 0), v3 = cu_ld4(g3 + e, 0);
                  cu_st4(on + e, 0, make_float4(gate_out1(va.x, vs.x, v2.x, v3.x), gate_out1(va.y, vs.y, v2.y, v3.y),
                                                gate_out1(va.z, vs.z, v2.z, v3.z), gate_out1(va.w, vs.w, v2.w, v3.w)));
              },
              [&](long long e) { on[e] = gate_out1(an[e], sn[e], g2[e], g3[e]); });
}

// The five gradients of one element: da, ds, dg2, dg3 (dg1 = 0).
static __device__ inline void gate_back1(float d, float a, float s, float g2, float g3, float& da, float& ds,
                                         float& d2, float& d3) {
    float sa = gate_sigmoid(a), s2 = gate_sigmoid(g2), t3 = tanhf(g3);
    da = d * s * sa * (1.0f - sa);
    ds = d * sa;
    d2 = d * t3 * s2 * (1.0f - s2);
    d3 = d * s2 * (1.0f - t3 * t3);
}

extern "C" __global__ void gate_backward_out(const float* a, const float* s, const float* g,
                                             const float* dout, float* da, float* ds, float* dg,
                                             int CP) {
    long long n = blockIdx.y;
    const float *an = a + n * CP, *sn = s + n * CP, *dn = dout + n * CP;
    const float *g2 = g + n * 3 * CP + CP, *g3 = g2 + CP;
    float *dan = da + n * CP, *dsn = ds + n * CP, *d1 = dg + n * 3 * CP, *d2 = d1 + CP, *d3 = d2 + CP;
    bool al = (CP & 3) == 0 && cu_aligned16(a) && cu_aligned16(s) && cu_aligned16(g) && cu_aligned16(dout) &&
              cu_aligned16(da) && cu_aligned16(ds) && cu_aligned16(dg);
    cu_piece4(CP, al,
              [&](long long e) {
                  float4 va = cu_ld4(an + e, 0), vs = cu_ld4(sn + e, 0), v2 = cu_ld4(g2 + e, 0), v3 = cu_ld4(g3 + e, 0);
                  float4 vd = cu_ld4(dn + e, 0), ra, rs, r2, r3;
                  gate_back1(vd.x, va.x, vs.x, v2.x, v3.x, ra.x, rs.x, r2.x, r3.x);
                  gate_back1(vd.y, va.y, vs.y, v2.y, v3.y, ra.y, rs.y, r2.y, r3.y);
                  gate_back1(vd.z, va.z, vs.z, v2.z, v3.z, ra.z, rs.z, r2.z, r3.z);
                  gate_back1(vd.w, va.w, vs.w, v2.w, v3.w, ra.w, rs.w, r2.w, r3.w);
                  cu_st4(dan + e, 0, ra);
                  cu_st4(dsn + e, 0, rs);
                  cu_st4(d1 + e, 0, make_float4(0.0f, 0.0f, 0.0f, 0.0f));
                  cu_st4(d2 + e, 0, r2);
                  cu_st4(d3 + e, 0, r3);
              },
              [&](long long e) {
                  gate_back1(dn[e], an[e], sn[e], g2[e], g3[e], dan[e], dsn[e], d2[e], d3[e]);
                  d1[e] = 0.0f;
              });
}

extern "C" __global__ void gate_backward_in(const float* du, float* dg, float* ds, int CP, int accumulate) {
    long long n = blockIdx.y;
    const float* dun = du + n * CP;
    float *d1 = dg + n * 3 * CP, *d2 = d1 + CP, *d3 = d2 + CP;
    float* dsn = ds ? ds + n * CP : nullptr;   // null in every block or none (no divergence)
    cu_piece4(CP, (CP & 3) == 0 && cu_aligned16(du) && cu_aligned16(dg) && (!ds || cu_aligned16(ds)),
              [&](long long e) {
                  float4 v = cu_ld4(dun + e, 0);
                  if (dsn) {
                      float4 o = cu_ld4(dsn + e, 0);
                      cu_st4(dsn + e, 0, make_float4(o.x + v.x, o.y + v.y, o.z + v.z, o.w + v.w));
                  }
                  if (accumulate) {   // dg already holds a gradient: add du to its first block only
                      float4 o = cu_ld4(d1 + e, 0);
                      cu_st4(d1 + e, 0, make_float4(o.x + v.x, o.y + v.y, o.z + v.z, o.w + v.w));
                      return;
                  }
                  cu_st4(d1 + e, 0, v);
                  cu_st4(d2 + e, 0, make_float4(0.0f, 0.0f, 0.0f, 0.0f));
                  cu_st4(d3 + e, 0, make_float4(0.0f, 0.0f, 0.0f, 0.0f));
              },
              [&](long long e) {
                  if (dsn) dsn[e] += dun[e];
                  if (accumulate) { d1[e] += dun[e]; return; }
                  d1[e] = dun[e];
                  d2[e] = 0.0f;
                  d3[e] = 0.0f;
              });
}
