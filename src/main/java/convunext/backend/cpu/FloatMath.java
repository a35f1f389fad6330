package convunext.backend.cpu;

/**
 * exp, tanh, σ, GELU and GELU′ in float from IEEE-exact operations only (+, ×, ÷, fma, compare,
 * bit shifts), one element at a time. {@link VectorOps} runs the same operations in the same
 * order lane by lane (less exp's argument clamp, which cannot change a bit for the arguments it
 * gets: see its note), so a value gets the same bits in a vector body, in a scalar tail, with or
 * without the Vector API, interpreted or JIT-compiled, at any thread count. The Vector API's own
 * {@code lanewise(EXP/TANH)} cannot promise that: compiled it calls a vendor math stub, interpreted
 * it falls back to {@code Math.exp} per lane, and the two differ in the last bit — enough to make
 * two identical training runs drift apart.
 *
 * <p>exp: Cody–Waite reduction x = n·ln2 + r with n from the 1.5·2²³ rounding trick, Cephes'
 * degree-6 minimax polynomial for e^r on |r| ≤ ln2/2 (≈ 1 ulp), 2ⁿ built in the exponent bits.
 * Inputs below {@link #EXP_LO} give 0 (no subnormal results, no slow path) and inputs are capped
 * at {@link #EXP_HI} (every caller passes x ≤ 0 or small x; no overflow).
 * tanh: Cephes' odd polynomial for |x| &lt; 0.625, else (1 − e)/(1 + e) with e = e^(−2|x|).
 */
final class FloatMath {
    private FloatMath() {}

    static final float LOG2E = 1.44269504f;
    /** ln 2 split so that n·LN2_HI is exact for |n| ≤ 2⁹ (Cephes' C1, C2). */
    static final float LN2_HI = 0.693359375f, LN2_LO = -2.12194440e-4f;
    /** 1.5·2²³: adding it rounds a float to an integer, which then sits in the low mantissa bits. */
    static final float ROUND = 12582912f;
    static final int ROUND_BITS = 0x4B400000;
    static final float EXP_LO = -87.3f, EXP_HI = 88.0f;
    static final float P0 = 1.9875691500e-4f, P1 = 1.3981999507e-3f, P2 = 8.3334519073e-3f,
            P3 = 4.1665795894e-2f, P4 = 1.6666665459e-1f, P5 = 5.0000001201e-1f;
    static final float TANH_SMALL = 0.625f;
    static final float T0 = -5.70498872745e-3f, T1 = 2.06390887954e-2f, T2 = -5.37397155531e-2f,
            T3 = 1.33314422036e-1f, T4 = -3.33332819422e-1f;
    static final float INV_SQRT2 = 0.70710678f, INV_SQRT_2PI = 0.39894228f;
    /**
     * erfc(z)·e^(z²) = t·E(t) with t = 1/(1 + p·z), p = 0.3275911 (Abramowitz–Stegun 7.1.26's
     * variable): E a degree-9 polynomial fitted to relative error 1.5e-8 over z ∈ [0, 9.5] (|x| ≤ 13.4;
     * beyond, e^(−x²/2) is below float's normal range), evaluated by Horner in float to 1.3e-7.
     * One exp per element (of −x²/2, exactly split) instead of NR's erfcc, whose exp(Q(t)) needed a
     * second one. T_SCALE = p/√2 (t from |x| directly).
     */
    static final float T_SCALE = 0.23164189f;
    static final float E0 = 0.18476745f, E1 = 0.18600331f, E2 = 0.164011f, E3 = 0.21310645f, E4 = -0.070055544f,
            E5 = 0.5364391f, E6 = -0.60062224f, E7 = 0.6567701f, E8 = -0.32927564f, E9 = 0.058855966f;
    /**
     * ½·E(t)'s coefficients: Φ(−|v|) = ½·t·E(t)·e^(−v²/2) with the ½ taken into the polynomial
     * (halving is exact, so every Horner step is the old one halved): one multiply fewer per value,
     * GELU 0.951–0.957 of its time (bench/NOTES.md, CPU round 31). Bits as before wherever ½·t·E·e is
     * a normal float; below 2⁻¹²⁶ (v &lt; −12.96) it is now rounded once instead of twice.
     */
    static final float H0 = E0 * 0.5f, H1 = E1 * 0.5f, H2 = E2 * 0.5f, H3 = E3 * 0.5f, H4 = E4 * 0.5f,
            H5 = E5 * 0.5f, H6 = E6 * 0.5f, H7 = E7 * 0.5f, H8 = E8 * 0.5f, H9 = E9 * 0.5f;

    static float exp(float in) {
        float x = Math.min(Math.max(in, EXP_LO), EXP_HI);
        float t = Math.fma(x, LOG2E, ROUND), n = t - ROUND;
        float r = Math.fma(n, -LN2_HI, x);
        r = Math.fma(n, -LN2_LO, r);
        float p = Math.fma(r, P0, P1);
        p = Math.fma(p, r, P2);
        p = Math.fma(p, r, P3);
        p = Math.fma(p, r, P4);
        p = Math.fma(p, r, P5);
        float e = Math.fma(p, r * r, r) + 1f;
        float v = e * Float.intBitsToFloat((Float.floatToRawIntBits(t) - (ROUND_BITS - 127)) << 23);
        return in < EXP_LO ? 0f : v;
    }

    static float tanh(float x) {
        float z = x * x;
        float p = Math.fma(z, T0, T1);
        p = Math.fma(p, z, T2);
        p = Math.fma(p, z, T3);
        p = Math.fma(p, z, T4);
        float small = Math.fma(p * z, x, x);
        float e = exp(Math.abs(x) * -2f), big = (1f - e) / (1f + e);
        return Math.abs(x) < TANH_SMALL ? small : Math.copySign(big, x);
    }

    /** σ(x) from e = e^(−|x|) (never overflows). */
    static float sigmoid(float x) {
        float e = exp(-Math.abs(x)), r = 1f / (e + 1f);
        return x >= 0f ? r : e * r;
    }

    /** 1 − σ(x) = σ(−x), exact where 1 − σ would cancel. */
    static float sigmoidNeg(float x) {
        float e = exp(-Math.abs(x)), r = 1f / (e + 1f);
        return x < 0f ? r : e * r;
    }

    /** 1 − tanh²(x) = 4e/(1+e)² with e = e^(−2|x|), accurate where tanh → ±1. */
    static float sech2(float x) {
        float e = exp(Math.abs(x) * -2f), r = 1f / (e + 1f);
        return e * 4f * r * r;
    }

    /**
     * e^(−x²/2) with x² split exactly (x·x plus its fma rounding error δ): e^(−(xx+δ)/2) ≈
     * e^(−xx/2)·(1 − δ/2), so no large exponent loses low bits.
     */
    static float gaussian(float v) {
        float xx = v * v;
        return exp(xx * -0.5f) * Math.fma(Math.fma(v, v, -xx), -0.5f, 1f);
    }

    /**
     * Φ(v) from erfc(|v|/√2)/2 = t·(½·E(t))·e^(−v²/2) (see {@link #T_SCALE}, {@link #H0}), reflected for v ≥ 0;
     * {@code gauss} = {@link #gaussian}(v). VectorOps repeats these operations in this order.
     */
    static float phi(float v, float gauss) {
        float t = 1f / Math.fma(Math.abs(v), T_SCALE, 1f);
        float q = Math.fma(t, H9, H8);   // ½·E(t)
        q = Math.fma(q, t, H7);
        q = Math.fma(q, t, H6);
        q = Math.fma(q, t, H5);
        q = Math.fma(q, t, H4);
        q = Math.fma(q, t, H3);
        q = Math.fma(q, t, H2);
        q = Math.fma(q, t, H1);
        q = Math.fma(q, t, H0);
        float hc = t * q * gauss;
        return v >= 0f ? 1f - hc : hc;
    }

    /** x·Φ(x). */
    static float gelu(float v) { return v * phi(v, gaussian(v)); }

    /** d/dx x·Φ(x) = Φ(x) + x·φ(x). */
    static float geluGrad(float v) {
        float e = gaussian(v);
        return Math.fma(v * INV_SQRT_2PI, e, phi(v, e));
    }
}
