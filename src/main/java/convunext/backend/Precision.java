package convunext.backend;

import java.util.Locale;

/**
 * Arithmetic precision of the matrix products (GEMMs and convolutions) on the CUDA backend, as
 * {@code --precision} selects it: {@link #FP32} (default: plain float everywhere, the 1e-4 parity),
 * {@link #TF32} (operands rounded to TF32 for the tensor cores, float accumulation) or
 * {@link #BF16} (operands in bfloat16, float accumulation; master weights, AdamW and every other op
 * stay float, as with PyTorch's autocast). The CPU backends compute in FP32 (and the oracle in
 * float64) only.
 *
 * <p>{@link #round} is the operand rounding the tensor-core paths apply, bit for bit as the GPU
 * does (kernels/emu/emu_wmma.h says where each rule comes from): TF32 is {@code cvt.rna.tf32.f32}
 * (to nearest, ties away from zero, 10 mantissa bits), bf16 is {@code cvt.rn.bf16.f32} (to nearest,
 * ties to even, 7 mantissa bits). The device selftests compare both with the emulator and, in the
 * device script, with the GPU.
 */
public enum Precision {
    FP32(23), TF32(10), BF16(7);

    /** Explicit mantissa bits of the matrix-product operands. */
    public final int mantissaBits;

    Precision(int mantissaBits) { this.mantissaBits = mantissaBits; }

    /** "fp32", "tf32" or "bf16" (any case); anything else is an IllegalArgumentException naming the value. */
    public static Precision parse(String s) {
        switch (s.trim().toLowerCase(Locale.ROOT)) {
            case "fp32": case "float32": return FP32;
            case "tf32": return TF32;
            case "bf16": case "bfloat16": return BF16;
            default: throw new IllegalArgumentException("precision '" + s + "': expected fp32, tf32 or bf16");
        }
    }

    /** Unit roundoff of an operand: 2^-(mantissaBits + 1) (2^-11 for TF32, 2^-8 for bf16). */
    public double unitRoundoff() { return Math.scalb(1.0, -(mantissaBits + 1)); }

    @Override public String toString() { return name().toLowerCase(Locale.ROOT); }

    /** x as the tensor cores see it in this precision (FP32: unchanged). */
    public float round(float x) {
        switch (this) {
            case TF32: return tf32(x);
            case BF16: return Float.intBitsToFloat(bf16Bits(x) << 16);
            default: return x;
        }
    }

    /**
     * cvt.rna.tf32.f32: half an ulp of the 10-bit mantissa added to the magnitude, then truncated.
     * A NaN is truncated instead (its low 13 bits cleared, nothing quieted), so a NaN whose payload
     * sits only in those bits becomes ±inf: PTX does not say, this is what an H200 returns for every
     * NaN the device selftest sends (bench/results/gpu-h200-r2).
     */
    public static float tf32(float x) {
        int u = Float.floatToRawIntBits(x);
        if ((u & 0x7fffffff) > 0x7f800000) return Float.intBitsToFloat(u & 0xffffe000);
        if ((u & 0x7f800000) == 0x7f800000) return x;
        return Float.intBitsToFloat((u + 0x1000) & 0xffffe000);
    }

    /** cvt.rn.bf16.f32 (the 16 bits of the bfloat16): to nearest, ties to even; NaN -> 0x7fff. */
    public static int bf16Bits(float x) {
        int u = Float.floatToRawIntBits(x);
        if ((u & 0x7fffffff) > 0x7f800000) return 0x7fff;
        int r = u >>> 16, rem = u << 16;
        if (Integer.compareUnsigned(rem, 0x80000000) > 0 || (rem == 0x80000000 && (r & 1) != 0)) r++;
        return r & 0xffff;
    }

    /** cvt.rz.bf16.f32: the upper 16 bits; NaN -> 0x7fff. */
    public static int bf16BitsRz(float x) {
        int u = Float.floatToRawIntBits(x);
        if ((u & 0x7fffffff) > 0x7f800000) return 0x7fff;
        return u >>> 16;
    }
}
