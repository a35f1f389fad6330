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

    /** A file with the given JSON header and {@code data} bytes after it. */
    private Path withHeader(String name, String json, int data) throws Exception {
        byte[] h = json.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(8 + h.length + data).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        b.putLong(h.length).put(h);
        return Files.write(dir.resolve(name), b.array());
    }

    /**
     * Malformed headers: one line naming the file and what is wrong, always an
     * IllegalArgumentException (exit code 2), never a ClassCastException or a stack trace.
     */
    @Test void malformedHeadersAreOneLineNamingTheFileAndTheProblem() throws Exception {
        String ok = "\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]";
        String[][] cases = {
                {"{\"w\":{\"dtype\":7,\"shape\":[2],\"data_offsets\":[0,8]}}", "dtype is a number"},
                {"{\"w\":\"F32\"}", "is a string"},
                {"{\"w\":[1,2]}", "is an array"},
                {"{\"w\":{\"dtype\":\"F32\",\"shape\":[\"2\"],\"data_offsets\":[0,8]}}", "shape [\"2\"] has a string"},
                {"{\"w\":{\"dtype\":\"F32\",\"shape\":\"2\",\"data_offsets\":[0,8]}}", "shape is a string"},
                {"{\"w\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}}", "out of range"},
                {"{\"w\":{\"dtype\":\"F32\",\"shape\":[2.5],\"data_offsets\":[0,8]}}", "expected a whole number"},
                {"{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,800]}}", "needs 8"},
                {"{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,16]}}", "past the end of the file"},
                {"{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[-8,0]}}", "non-negative"},
                {"{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0]}}", "expected [begin, end]"},
                {"{\"w\":{\"dtype\":\"F32\",\"shape\":[2147483647,2147483647,2147483647],\"data_offsets\":[0,8]}}", "64 bits"},
                {"{\"w\":{\"dtype\":\"F32\",\"shape\":[99999999999],\"data_offsets\":[0,8]}}", "out of range"},
                {"{\"w\":{\"dtype\":\"Q4\",\"shape\":[2],\"data_offsets\":[0,8]}}", "unsupported dtype Q4"},
                {"{\"w\":{\"shape\":[2],\"data_offsets\":[0,8]}}", "incomplete"},
                {"{\"__metadata__\":[1],\"w\":{" + ok + "}}", "__metadata__ is an array"},
                {"{\"__metadata__\":{\"a\":{\"b\":1}},\"w\":{" + ok + "}}", "entry 'a' is an object"},
                {"{\"w\":{" + ok + "},\"w\":{" + ok + "}}", "Duplicate field 'w'"},
                {"[1,2,3]", "expected a JSON object"},
                {"{\"w\":{" + ok + "}", "corrupt safetensors header"},
                {"{\"w\":{\"dtype\":\"F32\",\"shape\":[NaN],\"data_offsets\":[0,8]}}", "corrupt safetensors header"},
                // the data section is covered exactly: no overlap, no hole, nothing after the last tensor
                {"{\"v\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]},\"w\":{" + ok + "}}", "tensor 'v' (bytes 4..8) overlaps tensor 'w'"},
                {"{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", "data bytes 0..4 belong to no tensor"},
                {"{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", "4 data bytes after the last tensor"},
        };
        for (int i = 0; i < cases.length; i++) {
            Path f = withHeader("m" + i + ".safetensors", cases[i][0], 8);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> SafeTensors.read(f), cases[i][0]);
            assertTrue(e.getMessage().startsWith(f.toString()), e.getMessage());
            assertTrue(e.getMessage().contains(cases[i][1]), cases[i][0] + " -> " + e.getMessage());
            assertEquals(1, e.getMessage().lines().count(), e.getMessage());
        }
        // a header length beyond the file, and the well-formed neighbour of the cases above reads fine
        Path longHeader = Files.write(dir.resolve("long.safetensors"), new byte[] {(byte) 0xff, (byte) 0xff, 0, 0, 0, 0, 0, 0, '{', '}'});
        assertTrue(assertThrows(IllegalArgumentException.class, () -> SafeTensors.read(longHeader)).getMessage().contains("header length"));
        Path good = withHeader("good.safetensors", "{\"__metadata__\":{\"n\":3},\"w\":{" + ok + "}}", 8);
        SafeTensors.Contents c = SafeTensors.read(good);
        assertEquals("3", c.metadata().get("n"));
        assertArrayEquals(new int[] {2}, c.tensors().get("w").shape());
    }

    /**
     * A {@code .pth} given where a safetensors file belongs (torch.save's zip archive, or its legacy
     * pickle) is named as such with the way to convert it, not as a bad header length.
     */
    @Test void aTorchSaveFileIsNamedWithTheWayToConvertIt() throws Exception {
        Path zip = dir.resolve("model.pth");
        try (var z = new java.util.zip.ZipOutputStream(Files.newOutputStream(zip))) {
            z.putNextEntry(new java.util.zip.ZipEntry("archive/data.pkl"));
            z.write(new byte[] {(byte) 0x80, 2, '}', 'q', 0, '.'});
            z.closeEntry();
        }
        // torch.save(..., _use_new_zipfile_serialization=False): protocol 2, then the long 0x1950a86a20f9469cfc6c
        Path legacy = Files.write(dir.resolve("model.pt"), new byte[] {(byte) 0x80, 2, (byte) 0x8a, 0x0a, 0x6c, (byte) 0xfc,
                (byte) 0x9c, 0x46, (byte) 0xf9, 0x20, 0x6a, (byte) 0xa8, 0x50, 0x19, '.'});
        for (Path f : new Path[] {zip, legacy}) {
            String m = assertThrows(IllegalArgumentException.class, () -> SafeTensors.read(f)).getMessage();
            assertTrue(m.startsWith(f + ": a PyTorch torch.save file (a " + (f == zip ? "zip archive" : "pickle") + "), not safetensors"), m);
            assertTrue(m.contains("README's \"Weights from and to PyTorch\""), m);
            assertEquals(1, m.lines().count(), m);
            assertEquals(m, assertThrows(IllegalArgumentException.class, () -> SafeTensors.readMetadata(f)).getMessage());
        }
        // other bytes with a wrong length stay "not a safetensors file"
        Path other = Files.write(dir.resolve("x.pth"), "PK\u0005\u0006 not torch".getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> SafeTensors.read(other)).getMessage()
                .contains("not a safetensors file (header length"));
    }

    @Test void writingGoesThroughTheAtomicWriterAndKeepsOrdinaryPermissions() throws Exception {
        Path f = dir.resolve("p.safetensors");
        SafeTensors.write(f, Map.of("a", SafeTensors.Out.f32(new int[] {1}, new float[] {1f})), Map.of());
        var perms = Files.getPosixFilePermissions(f);
        assertTrue(perms.contains(java.nio.file.attribute.PosixFilePermission.OTHERS_READ), perms.toString());
        assertEquals(0, AtomicFiles.inFlight());
    }
}
