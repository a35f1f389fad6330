package convunext.io;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Iterator;
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

    /** Bytes per element of the dtypes we read; null for any other. */
    static Integer width(String dtype) {
        return switch (dtype) {
            case "F64", "I64" -> 8;
            case "F32", "I32" -> 4;
            case "F16", "BF16" -> 2;
            case "U8", "BOOL" -> 1;
            default -> null;
        };
    }

    /**
     * Reads a whole file. Anything malformed (short file, a header that is not JSON or not shaped
     * like the format's, a dtype we do not read, negative or non-integer dimensions, offsets outside
     * the file or disagreeing with dtype × shape, sizes that overflow) is an
     * {@link IllegalArgumentException} whose one-line message names the file and the problem.
     */
    public static Contents read(Path file) {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            JsonNode header = header(file, ch);
            long size = ch.size(), dataStart = 8 + headerLength(ch);
            Map<String, Entry> tensors = new LinkedHashMap<>();
            Map<String, String> meta = new LinkedHashMap<>();
            List<Span> spans = new ArrayList<>();
            for (Iterator<Map.Entry<String, JsonNode>> it = header.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                String name = e.getKey();
                if (name.equals("__metadata__")) {
                    readMetadata(file, e.getValue(), meta);
                    continue;
                }
                tensors.put(name, readEntry(file, ch, name, e.getValue(), dataStart, size));
                JsonNode of = e.getValue().get("data_offsets");
                spans.add(new Span(name, of.get(0).asLong(), of.get(1).asLong()));
            }
            checkLayout(file, spans, size - dataStart);
            return new Contents(tensors, meta);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file + ": " + AtomicFiles.describe(e), e);
        }
    }

    private record Span(String name, long begin, long end) {}

    /**
     * The format's rule for the data section (safetensors README, "Format"): the tensors' byte ranges
     * cover it exactly, without overlaps or holes, as the reference implementation checks, so that
     * one file cannot hold two readings of the same bytes or hide data between tensors.
     */
    private static void checkLayout(Path file, List<Span> spans, long dataBytes) {
        spans.sort(java.util.Comparator.comparingLong(Span::begin).thenComparingLong(Span::end));
        long at = 0;
        Span prev = null;
        for (Span sp : spans) {
            if (sp.begin < at)
                throw bad(file, "tensor '" + sp.name + "' (bytes " + sp.begin + ".." + sp.end + ") overlaps tensor '" + prev.name
                        + "' (bytes " + prev.begin + ".." + prev.end + ")");
            if (sp.begin > at)
                throw bad(file, "data bytes " + at + ".." + sp.begin + " belong to no tensor (the format allows no holes)");
            at = sp.end;
            prev = sp;
        }
        if (at != dataBytes)
            throw bad(file, (dataBytes - at) + " data bytes after the last tensor (the format allows none)");
    }

    /** Only the string metadata (the header is read and checked; tensor data is not). */
    public static Map<String, String> readMetadata(Path file) {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            Map<String, String> meta = new LinkedHashMap<>();
            JsonNode m = header(file, ch).get("__metadata__");
            if (m != null) readMetadata(file, m, meta);
            return meta;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file + ": " + AtomicFiles.describe(e), e);
        }
    }

    private static long headerLength(FileChannel ch) throws IOException {
        ByteBuffer lenBuf = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
        readFully(ch, lenBuf, 0);
        return lenBuf.flip().getLong();
    }

    /** The header as a JSON object, after checking the length prefix against the file. */
    private static JsonNode header(Path file, FileChannel ch) throws IOException {
        long size = ch.size();
        if (size < 8) throw bad(file, "not a safetensors file (" + size + " bytes)");
        long headerLen = headerLength(ch);
        if (headerLen <= 0 || headerLen > size - 8 || headerLen > 100_000_000) {
            String torch = torchSave(ch);
            if (torch != null)
                throw bad(file, "a PyTorch torch.save file (" + torch + "), not safetensors: convert the state_dict to safetensors"
                        + " as README's \"Weights from and to PyTorch\" shows");
            throw bad(file, "not a safetensors file (header length " + headerLen + " in a file of " + size + " bytes)");
        }
        ByteBuffer hb = ByteBuffer.allocate((int) headerLen);
        readFully(ch, hb, 8);
        JsonNode header;
        try {
            header = Json.tree(new String(hb.array(), StandardCharsets.UTF_8).trim());
        } catch (IllegalArgumentException e) {
            throw bad(file, "corrupt safetensors header: " + e.getMessage());
        }
        if (!header.isObject()) throw bad(file, "corrupt safetensors header: " + kind(header) + ", expected a JSON object");
        return header;
    }

    /**
     * What a file whose first 8 bytes are no safetensors header length holds when torch.save wrote
     * it (a {@code .pth}/{@code .pt}): "a zip archive" (its format since PyTorch 1.6) or "a pickle"
     * (the legacy format: the pickle protocol opcode 0x80 and a protocol 2..5); null otherwise.
     * Only asked once the length is known to be wrong, so a real header is never taken for one.
     */
    private static String torchSave(FileChannel ch) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(4);
        readFully(ch, b, 0);
        byte[] m = b.array();
        if (m[0] == 'P' && m[1] == 'K' && m[2] == 3 && m[3] == 4) return "a zip archive";
        if ((m[0] & 0xff) == 0x80 && m[1] >= 2 && m[1] <= 5) return "a pickle";
        return null;
    }

    private static IllegalArgumentException bad(Path file, String what) {
        return new IllegalArgumentException(file + ": " + what);
    }

    /** "a number", "a string", … for messages. */
    private static String kind(JsonNode n) {
        if (n == null || n.isMissingNode()) return "missing";
        if (n.isNull()) return "null";
        if (n.isTextual()) return "a string (" + Json.write(n.asText()) + ")";
        if (n.isNumber()) return "a number (" + n + ")";
        if (n.isBoolean()) return "a boolean";
        if (n.isArray()) return "an array";
        return "an object";
    }

    private static void readMetadata(Path file, JsonNode m, Map<String, String> meta) {
        if (m.isNull()) return;
        if (!m.isObject()) throw bad(file, "safetensors __metadata__ is " + kind(m) + ", expected an object of strings");
        for (Iterator<Map.Entry<String, JsonNode>> it = m.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            JsonNode v = e.getValue();
            if (!v.isValueNode() || v.isNull())
                throw bad(file, "safetensors __metadata__ entry '" + e.getKey() + "' is " + kind(v) + ", expected a string");
            meta.put(e.getKey(), v.asText());
        }
    }

    private static Entry readEntry(Path file, FileChannel ch, String name, JsonNode info, long dataStart, long size)
            throws IOException {
        String t = "tensor '" + name + "'";
        if (!info.isObject()) throw bad(file, t + " is " + kind(info) + " in the header, expected {dtype, shape, data_offsets}");
        JsonNode dt = info.get("dtype"), sh = info.get("shape"), of = info.get("data_offsets");
        if (dt == null || sh == null || of == null)
            throw bad(file, t + " has an incomplete header entry (needs dtype, shape and data_offsets)");
        if (!dt.isTextual()) throw bad(file, t + ": dtype is " + kind(dt) + ", expected a string such as \"F32\"");
        String dtype = dt.asText();
        Integer width = width(dtype);
        if (width == null) throw bad(file, t + " has unsupported dtype " + dtype + " (we read F64, F32, F16, BF16, I64, I32, U8, BOOL)");
        if (!sh.isArray()) throw bad(file, t + ": shape is " + kind(sh) + ", expected an array of sizes");
        int[] shape = new int[sh.size()];
        long n = 1;
        for (int k = 0; k < shape.length; k++) {
            JsonNode d = sh.get(k);
            if (!d.isIntegralNumber() || !d.canConvertToLong())
                throw bad(file, t + ": shape " + sh + " has " + kind(d) + " at position " + k + ", expected a whole number");
            long v = d.asLong();
            if (v < 0 || v > Integer.MAX_VALUE) throw bad(file, t + ": shape " + sh + " has the size " + v + ", which is out of range");
            shape[k] = (int) v;
            try {
                n = Math.multiplyExact(n, v);
            } catch (ArithmeticException overflow) {
                throw bad(file, t + ": shape " + sh + " has more elements than fit in 64 bits");
            }
        }
        if (!of.isArray() || of.size() != 2)
            throw bad(file, t + ": data_offsets is " + (of.isArray() ? "an array of " + of.size() : kind(of)) + ", expected [begin, end]");
        for (JsonNode o : of)
            if (!o.isIntegralNumber() || !o.canConvertToLong() || o.asLong() < 0)
                throw bad(file, t + ": data_offsets " + of + " must be two non-negative whole numbers");
        long begin = of.get(0).asLong(), end = of.get(1).asLong(), bytes;
        try {
            bytes = Math.multiplyExact(n, (long) width);
        } catch (ArithmeticException overflow) {
            throw bad(file, t + ": shape " + sh + " × " + width + " bytes overflows");
        }
        if (end < begin || end - begin != bytes)
            throw bad(file, t + ": data_offsets [" + begin + ", " + end + ") hold " + (end - begin) + " bytes, but dtype " + dtype
                    + " shape " + sh + " needs " + bytes);
        if (end > size - dataStart)
            throw bad(file, t + ": data_offsets [" + begin + ", " + end + ") run past the end of the file (" + (size - dataStart)
                    + " data bytes; truncated?)");
        if (n > Integer.MAX_VALUE - 8) throw bad(file, t + " has " + n + " elements, too many to load");
        ByteBuffer buf = ByteBuffer.allocate((int) bytes).order(ByteOrder.LITTLE_ENDIAN);
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

    /** Writes atomically (through {@link AtomicFiles}: a temporary sibling, flushed, then renamed). */
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
        AtomicFiles.write(file, out -> {
            ByteBuffer head = ByteBuffer.allocate(8 + padded).order(ByteOrder.LITTLE_ENDIAN);
            head.putLong(padded).put(h);
            while (head.position() < head.capacity()) head.put((byte) ' ');
            out.write(head.array());
            for (Out t : tensors.values()) {
                ByteBuffer b = ByteBuffer.allocate(t.data.length * t.width()).order(ByteOrder.LITTLE_ENDIAN);
                for (double v : t.data) {
                    switch (t.dtype) {
                        case "F64" -> b.putDouble(v);
                        case "I64" -> b.putLong((long) v);
                        default -> b.putFloat((float) v);
                    }
                }
                out.write(b.array());
            }
        });
    }
}
