package convunext.io;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The safetensors format (https://huggingface.co/docs/safetensors): an 8-byte little-endian header
 * length, a JSON header {name: {dtype, shape, data_offsets}, "__metadata__": {str: str}}, then the
 * raw little-endian data. We read F64, F32, F16, BF16, I64, I32 and U8 into double[] (exact for all
 * of them) and write F32 (checkpoints) or F64.
 */
public final class SafeTensors {
    /** One tensor: dtype as stored, shape, values widened to double. */
    public record Entry(String dtype, int[] shape, double[] data) {
        public float[] toFloat() {
            float[] f = new float[data.length];
            for (int i = 0; i < f.length; i++) f[i] = (float) data[i];
            return f;
        }
        public long numel() { long n = 1; for (int d : shape) n *= d; return n; }
    }

    /** A whole file: tensors in header order plus the string metadata. */
    public record Contents(Map<String, Entry> tensors, Map<String, String> metadata) {
        public Entry require(String key, Path file) {
            Entry e = tensors.get(key);
            if (e == null) throw new IllegalArgumentException(file + ": missing key '" + key + "'");
            return e;
        }
    }

    private SafeTensors() {}

    public static Contents read(Path file) {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size < 8) throw new IllegalArgumentException(file + ": not a safetensors file (" + size + " bytes)");
            ByteBuffer lenBuf = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            readFully(ch, lenBuf, 0);
            long headerLen = lenBuf.flip().getLong();
            if (headerLen <= 0 || headerLen > size - 8 || headerLen > 100_000_000)
                throw new IllegalArgumentException(file + ": not a safetensors file (header length " + headerLen + ")");
            ByteBuffer hb = ByteBuffer.allocate((int) headerLen);
            readFully(ch, hb, 8);
            Object parsed;
            try {
                parsed = Json.parse(new String(hb.array(), StandardCharsets.UTF_8).trim());
            } catch (RuntimeException e) {
                throw new IllegalArgumentException(file + ": corrupt safetensors header: " + e.getMessage());
            }
            if (!(parsed instanceof Map<?, ?> header))
                throw new IllegalArgumentException(file + ": safetensors header is not a JSON object");
            long dataStart = 8 + headerLen;
            Map<String, Entry> tensors = new LinkedHashMap<>();
            Map<String, String> meta = new LinkedHashMap<>();
            for (Map.Entry<?, ?> e : header.entrySet()) {
                String name = (String) e.getKey();
                if (name.equals("__metadata__")) {
                    if (e.getValue() instanceof Map<?, ?> m)
                        for (Map.Entry<?, ?> me : m.entrySet()) meta.put((String) me.getKey(), String.valueOf(me.getValue()));
                    continue;
                }
                tensors.put(name, readEntry(file, ch, name, (Map<?, ?>) e.getValue(), dataStart, size));
            }
            return new Contents(tensors, meta);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file + ": " + e.getMessage(), e);
        }
    }

    private static Entry readEntry(Path file, FileChannel ch, String name, Map<?, ?> info, long dataStart, long size)
            throws IOException {
        String dtype = (String) info.get("dtype");
        List<?> shapeL = (List<?>) info.get("shape");
        List<?> offs = (List<?>) info.get("data_offsets");
        if (dtype == null || shapeL == null || offs == null || offs.size() != 2)
            throw new IllegalArgumentException(file + ": tensor '" + name + "' has an incomplete header entry");
        int[] shape = new int[shapeL.size()];
        long n = 1;
        for (int k = 0; k < shape.length; k++) { shape[k] = ((Number) shapeL.get(k)).intValue(); n *= shape[k]; }
        long begin = ((Number) offs.get(0)).longValue(), end = ((Number) offs.get(1)).longValue();
        int width = switch (dtype) {
            case "F64", "I64" -> 8;
            case "F32", "I32" -> 4;
            case "F16", "BF16" -> 2;
            case "U8", "BOOL" -> 1;
            default -> throw new IllegalArgumentException(file + ": tensor '" + name + "' has unsupported dtype " + dtype);
        };
        if (end - begin != n * width || dataStart + end > size || begin < 0)
            throw new IllegalArgumentException(file + ": tensor '" + name + "' data range [" + begin + "," + end
                    + ") does not match dtype " + dtype + " shape " + shapeL + " or the file size");
        ByteBuffer buf = ByteBuffer.allocate((int) (end - begin)).order(ByteOrder.LITTLE_ENDIAN);
        readFully(ch, buf, dataStart + begin);
        buf.flip();
        double[] d = new double[(int) n];
        for (int k = 0; k < n; k++) {
            d[k] = switch (dtype) {
                case "F64" -> buf.getDouble();
                case "F32" -> buf.getFloat();
                case "I64" -> buf.getLong();
                case "I32" -> buf.getInt();
                case "F16" -> halfToFloat(buf.getShort());
                case "BF16" -> Float.intBitsToFloat((buf.getShort() & 0xffff) << 16);
                default -> buf.get() & 0xff;
            };
        }
        return new Entry(dtype, shape, d);
    }

    /** IEEE binary16 → float (Float.float16ToFloat is Java 20+). */
    static float halfToFloat(short h) {
        int bits = h & 0xffff, sign = (bits >>> 15) << 31, exp = (bits >>> 10) & 0x1f, mant = bits & 0x3ff;
        if (exp == 0x1f) return Float.intBitsToFloat(sign | 0x7f800000 | (mant << 13));
        if (exp == 0) {
            float v = mant * 0x1p-24f;
            return sign == 0 ? v : -v;
        }
        return Float.intBitsToFloat(sign | ((exp + 112) << 23) | (mant << 13));
    }

    private static void readFully(FileChannel ch, ByteBuffer b, long pos) throws IOException {
        while (b.hasRemaining()) {
            int r = ch.read(b, pos);
            if (r < 0) throw new IOException("unexpected end of file");
            pos += r;
        }
    }

    /** A tensor to write, as F32, F64 or I64. */
    public record Out(int[] shape, double[] data, String dtype) {
        public static Out f32(int[] shape, float[] data) {
            double[] d = new double[data.length];
            for (int i = 0; i < d.length; i++) d[i] = data[i];
            return new Out(shape, d, "F32");
        }
        public static Out i64(int[] shape, long... values) {
            double[] d = new double[values.length];
            for (int i = 0; i < d.length; i++) d[i] = values[i];
            return new Out(shape, d, "I64");
        }
        int width() { return dtype.equals("F32") ? 4 : 8; }
    }

    /** Writes atomically: to a temporary file in the same folder, then renamed over {@code file}. */
    public static void write(Path file, Map<String, Out> tensors, Map<String, String> metadata) {
        Map<String, Object> header = new LinkedHashMap<>();
        if (metadata != null && !metadata.isEmpty()) header.put("__metadata__", new LinkedHashMap<>(metadata));
        long off = 0;
        for (Map.Entry<String, Out> e : tensors.entrySet()) {
            Out t = e.getValue();
            long bytes = (long) t.data.length * t.width();
            Map<String, Object> info = new LinkedHashMap<>();
            info.put("dtype", t.dtype);
            List<Object> shape = new ArrayList<>();
            for (int d : t.shape) shape.add((long) d);
            info.put("shape", shape);
            info.put("data_offsets", List.of(off, off + bytes));
            header.put(e.getKey(), info);
            off += bytes;
        }
        byte[] h = Json.write(header).getBytes(StandardCharsets.UTF_8);
        int padded = (h.length + 7) / 8 * 8;
        Path dir = file.toAbsolutePath().getParent();
        Path tmp = null;
        try {
            Files.createDirectories(dir);
            tmp = Files.createTempFile(dir, "." + file.getFileName(), ".tmp");
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
                ByteBuffer head = ByteBuffer.allocate(8 + padded).order(ByteOrder.LITTLE_ENDIAN);
                head.putLong(padded).put(h);
                while (head.position() < head.capacity()) head.put((byte) ' ');
                head.flip();
                while (head.hasRemaining()) ch.write(head);
                for (Out t : tensors.values()) {
                    ByteBuffer b = ByteBuffer.allocate(t.data.length * t.width()).order(ByteOrder.LITTLE_ENDIAN);
                    for (double v : t.data) {
                        switch (t.dtype) {
                            case "F64" -> b.putDouble(v);
                            case "I64" -> b.putLong((long) v);
                            default -> b.putFloat((float) v);
                        }
                    }
                    b.flip();
                    while (b.hasRemaining()) ch.write(b);
                }
                ch.force(true);
            }
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            if (tmp != null) try { Files.deleteIfExists(tmp); } catch (IOException ignored) { }
            throw new UncheckedIOException("cannot write " + file + ": " + e.getMessage(), e);
        }
    }
}
