package convunext.io;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Consumer;

/** Tests' damaged files: a safetensors file's tensors and metadata, changed by the caller, written to a new file. */
public final class SafeTensorsVariant {
    private SafeTensorsVariant() {}

    /** {@code from} with {@code tensors} and {@code meta} applied to copies of its contents, written to {@code to}. */
    public static Path write(Path from, Path to, Consumer<Map<String, SafeTensors.Out>> tensors, Consumer<Map<String, String>> meta) {
        SafeTensors.Contents c = SafeTensors.read(from);
        Map<String, SafeTensors.Out> t = new LinkedHashMap<>();
        for (Map.Entry<String, SafeTensors.Entry> e : c.tensors().entrySet()) {
            SafeTensors.Entry v = e.getValue();
            String dtype = v.dtype().equals("F32") || v.dtype().equals("F64") ? v.dtype() : "I64";
            t.put(e.getKey(), new SafeTensors.Out(v.shape(), v.data().clone(), dtype));
        }
        Map<String, String> m = new LinkedHashMap<>(c.metadata());
        tensors.accept(t);
        meta.accept(m);
        SafeTensors.write(to, t, m);
        return to;
    }
}
