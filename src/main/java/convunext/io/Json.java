package convunext.io;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.util.DefaultIndenter;
import com.fasterxml.jackson.core.util.DefaultPrettyPrinter;
import com.fasterxml.jackson.core.util.Separators;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.JsonSerializer;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializerProvider;
import com.fasterxml.jackson.databind.module.SimpleModule;
import java.io.IOException;

/**
 * The project's one configured Jackson {@link ObjectMapper}: parsing (objects keep their order,
 * integers as Long, duplicate keys refused) and writing compact (safetensors headers, bench JSON)
 * or indented (summary.json). Non-finite doubles and floats are written as {@code null}: JSON has
 * no NaN, and every reader of our files (Python's json, safetensors) accepts null.
 */
public final class Json {
    private static final ObjectMapper MAPPER = new ObjectMapper()
            .enable(DeserializationFeature.USE_LONG_FOR_INTS)
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
            .registerModule(new SimpleModule("non-finite-as-null")
                    .addSerializer(Double.class, new DoubleAsJson())
                    .addSerializer(double.class, new DoubleAsJson())
                    .addSerializer(Float.class, new FloatAsJson())
                    .addSerializer(float.class, new FloatAsJson())
                    .addSerializer(double[].class, new DoublesAsJson())
                    .addSerializer(float[].class, new FloatsAsJson()));

    /** Indented by two spaces, {@code "key": value}, one array element per line. */
    private static final DefaultPrettyPrinter PRETTY = new DefaultPrettyPrinter(
            Separators.createDefaultInstance().withObjectFieldValueSpacing(Separators.Spacing.AFTER)
                    .withArrayValueSpacing(Separators.Spacing.NONE))
            .withObjectIndenter(new DefaultIndenter("  ", "\n"))
            .withArrayIndenter(new DefaultIndenter("  ", "\n"));

    private Json() {}

    /** The shared mapper (thread-safe once configured). */
    public static ObjectMapper mapper() { return MAPPER; }

    /** Parses into Map (insertion ordered), List, String, Long, Double, Boolean or null. */
    public static Object parse(String text) {
        try {
            return MAPPER.readValue(text, Object.class);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("JSON: " + oneLine(e));
        }
    }

    /** Parses into a tree, for readers that check every node's type (safetensors headers). */
    public static JsonNode tree(String text) {
        try {
            JsonNode n = MAPPER.readTree(text);
            if (n == null) throw new IllegalArgumentException("JSON: empty document");
            return n;
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("JSON: " + oneLine(e));
        }
    }

    /** Compact JSON of maps, lists, arrays, strings, numbers, booleans and null. */
    public static String write(Object value) {
        try {
            return MAPPER.writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("JSON: cannot write " + value.getClass().getName() + ": " + oneLine(e), e);
        }
    }

    /** Indented JSON ending in a newline (reports people read: summary.json). */
    public static String pretty(Object value) {
        try {
            return MAPPER.writer(PRETTY).writeValueAsString(value) + "\n";
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("JSON: cannot write " + value.getClass().getName() + ": " + oneLine(e), e);
        }
    }

    /** Jackson's message without its multi-line source excerpt: what went wrong and where. */
    static String oneLine(JsonProcessingException e) {
        String m = e.getOriginalMessage();
        m = m == null ? e.getClass().getSimpleName() : m.replaceAll("\\s*\\R\\s*", " ");
        JsonLocation at = e.getLocation();
        return at == null || at.getCharOffset() < 0 ? m : m + " (at character " + at.getCharOffset() + ")";
    }

    private static final class DoubleAsJson extends JsonSerializer<Double> {
        @Override public void serialize(Double v, JsonGenerator g, SerializerProvider p) throws IOException {
            if (Double.isFinite(v)) g.writeNumber(v); else g.writeNull();
        }
    }

    private static final class FloatAsJson extends JsonSerializer<Float> {
        @Override public void serialize(Float v, JsonGenerator g, SerializerProvider p) throws IOException {
            if (Float.isFinite(v)) g.writeNumber(v); else g.writeNull();
        }
    }

    private static final class DoublesAsJson extends JsonSerializer<double[]> {
        @Override public void serialize(double[] a, JsonGenerator g, SerializerProvider p) throws IOException {
            g.writeStartArray(a, a.length);
            for (double v : a) if (Double.isFinite(v)) g.writeNumber(v); else g.writeNull();
            g.writeEndArray();
        }
    }

    private static final class FloatsAsJson extends JsonSerializer<float[]> {
        @Override public void serialize(float[] a, JsonGenerator g, SerializerProvider p) throws IOException {
            g.writeStartArray(a, a.length);
            for (float v : a) if (Float.isFinite(v)) g.writeNumber(v); else g.writeNull();
            g.writeEndArray();
        }
    }
}
