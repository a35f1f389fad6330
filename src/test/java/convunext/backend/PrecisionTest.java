package convunext.backend;

import static org.junit.jupiter.api.Assertions.*;

import convunext.backend.all.Backends;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import org.junit.jupiter.api.Test;

/** The operand roundings of --precision, and how a backend that cannot honour it refuses. */
class PrecisionTest {

    @Test void tf32RoundsToNearestTiesAwayFromZero() {
        assertEquals(0x3f802000, Float.floatToRawIntBits(Precision.tf32(Float.intBitsToFloat(0x3f801000))), "tie, even below");
        assertEquals(0x3f804000, Float.floatToRawIntBits(Precision.tf32(Float.intBitsToFloat(0x3f803000))), "tie, odd below");
        assertEquals(0xbf802000, Float.floatToRawIntBits(Precision.tf32(Float.intBitsToFloat(0xbf801000))), "negative tie");
        assertEquals(0x3f800000, Float.floatToRawIntBits(Precision.tf32(Float.intBitsToFloat(0x3f800fff))), "below a tie");
        assertEquals(Float.POSITIVE_INFINITY, Precision.tf32(Float.MAX_VALUE));
        assertEquals(0x7fc00000, Float.floatToRawIntBits(Precision.tf32(Float.NaN)));   // as an H200 returns them:
        assertEquals(0x7f800000, Float.floatToRawIntBits(Precision.tf32(Float.intBitsToFloat(0x7f800001))));   // truncated
        assertEquals(0xffffe000, Float.floatToRawIntBits(Precision.tf32(Float.intBitsToFloat(0xffffffff))));
        assertEquals(Float.NEGATIVE_INFINITY, Precision.tf32(Float.NEGATIVE_INFINITY));
        // every result has 10 mantissa bits, and is within half an ulp of them
        java.util.Random r = new java.util.Random(5);
        for (int i = 0; i < 100_000; i++) {
            float x = Math.scalb((float) r.nextGaussian(), r.nextInt(200) - 100), t = Precision.tf32(x);
            assertEquals(0, Float.floatToRawIntBits(t) & 0x1fff);
            assertTrue(Math.abs((double) t - x) <= Math.scalb(Math.ulp(x), 12) * 1.0000001, x + " -> " + t);
        }
    }

    @Test void bf16RoundsToNearestTiesToEven() {
        assertEquals(0x3f80, Precision.bf16Bits(Float.intBitsToFloat(0x3f808000)), "tie, even below: down");
        assertEquals(0x3f82, Precision.bf16Bits(Float.intBitsToFloat(0x3f818000)), "tie, odd below: up");
        assertEquals(0x3f81, Precision.bf16Bits(Float.intBitsToFloat(0x3f808001)));
        assertEquals(0x7f80, Precision.bf16Bits(Float.MAX_VALUE), "overflow to inf");
        assertEquals(0x7fff, Precision.bf16Bits(Float.NaN));
        assertEquals(0x7f7f, Precision.bf16BitsRz(Float.MAX_VALUE));
        assertEquals(0x8000, Precision.bf16Bits(-0f));
        assertEquals(Math.scalb(1.0, -8), Precision.BF16.unitRoundoff());
        assertEquals(Math.scalb(1.0, -11), Precision.TF32.unitRoundoff());
    }

    @Test void parsesAndRefusesWhatCannotRun() {
        assertEquals(Precision.BF16, Precision.parse("BF16"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Precision.parse("fp16"));
        assertTrue(e.getMessage().contains("fp16"), e.getMessage());
        PrintStream quiet = new PrintStream(new ByteArrayOutputStream());
        e = assertThrows(IllegalArgumentException.class, () -> Backends.open("cpu", Precision.TF32, quiet));
        assertTrue(e.getMessage().contains("--precision tf32 needs the CUDA backend"), e.getMessage());
        try (Backend b = Backends.open("cpu", Precision.FP32, quiet)) {
            assertEquals(Precision.FP32, b.precision());
        }
    }

    /**
     * tf32 / bf16 open on the emulated CUDA backend and run the tensor-core forms (TensorCoreParityTest
     * checks their numbers); the CPU backend refuses them in one line (above).
     */
    @Test void cudaBackendRunsTheTensorCoreForms() {
        PrintStream quiet = new PrintStream(new ByteArrayOutputStream());
        for (Precision p : new Precision[] {Precision.TF32, Precision.BF16}) {
            try (Backend b = Backends.open("emulated", p, quiet)) {
                assertEquals(p, b.precision());
                assertTrue(b.describe().contains("precision " + p + " ("), b.describe());
                assertTrue(b.describe().contains("kernels in tensor-core form"), b.describe());
            }
        }
    }
}
