package convunext.io;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafeTensorsTest {
    @TempDir Path dir;

    @Test void roundTripF32I64AndMetadata() throws Exception {
        Map<String, SafeTensors.Out> t = new LinkedHashMap<>();
        float[] a = {1.5f, -2.25f, 3e-8f, 7f, 0.1f, -0f};
        t.put("a.weight", SafeTensors.Out.f32(new int[] {2, 3}, a));
        t.put("bn.num_batches_tracked", SafeTensors.Out.i64(new int[0], 12345678901L));
        t.put("d", new SafeTensors.Out(new int[] {2}, new double[] {Math.PI, -Math.E}, "F64"));
        Path f = dir.resolve("x.safetensors");
        SafeTensors.write(f, t, Map.of("epoch", "7", "note", "quote \" and \\ back"));
        SafeTensors.Contents c = SafeTensors.read(f);
        assertEquals(java.util.List.of("a.weight", "bn.num_batches_tracked", "d"), java.util.List.copyOf(c.tensors().keySet()));
        assertArrayEquals(new int[] {2, 3}, c.tensors().get("a.weight").shape());
        assertArrayEquals(a, c.tensors().get("a.weight").toFloat());
        assertEquals(12345678901.0, c.tensors().get("bn.num_batches_tracked").data()[0]);
        assertEquals(0, c.tensors().get("bn.num_batches_tracked").shape().length);
        assertEquals(Math.PI, c.tensors().get("d").data()[0]);
        assertEquals("quote \" and \\ back", c.metadata().get("note"));
        // header is 8-byte aligned and no temporary file is left behind
        long headerLen = java.nio.ByteBuffer.wrap(Files.readAllBytes(f), 0, 8).order(java.nio.ByteOrder.LITTLE_ENDIAN).getLong();
        assertEquals(0, headerLen % 8);
        try (var s = Files.list(dir)) { assertEquals(1, s.count()); }
    }

    @Test void readsTheGoldenFixture() {
        SafeTensors.Contents c = SafeTensors.read(Path.of("testdata/golden/convunext_c8_in3_k2_2x64x64.safetensors"));
        assertEquals("8", c.metadata().get("base_c"));
        assertArrayEquals(new int[] {2, 3, 64, 64}, c.tensors().get("input").shape());
        assertEquals("F32", c.tensors().get("input").dtype());   // reference/make_golden.py: F32-exact input
        assertEquals("U8", c.tensors().get("target").dtype());
        assertEquals(255.0, c.tensors().get("target").data()[0]);
    }

    @Test void corruptFilesNameTheFile() throws Exception {
        Path f = dir.resolve("bad.safetensors");
        Files.write(f, new byte[] {1, 2, 3});
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> SafeTensors.read(f));
        assertTrue(e.getMessage().contains("bad.safetensors"), e.getMessage());
        byte[] b = new byte[8 + 10];
        b[0] = 10;
        System.arraycopy("{not json}".getBytes(), 0, b, 8, 10);
        Files.write(f, b);
        e = assertThrows(IllegalArgumentException.class, () -> SafeTensors.read(f));
        assertTrue(e.getMessage().contains("corrupt safetensors header"), e.getMessage());
    }

    @Test void halfPrecisionDecodes() {
        assertEquals(1.0f, SafeTensors.halfToFloat((short) 0x3c00));
        assertEquals(-2.0f, SafeTensors.halfToFloat((short) 0xc000));
        assertEquals(65504f, SafeTensors.halfToFloat((short) 0x7bff));
        assertEquals(0x1p-24f, SafeTensors.halfToFloat((short) 0x0001));
        assertTrue(Float.isInfinite(SafeTensors.halfToFloat((short) 0x7c00)));
    }
}
