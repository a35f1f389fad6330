package convunext;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The main code's package graph (a package uses another when it names one of its classes, by
 * import or fully qualified, outside comments and strings) has no cycle, so the floors read
 * straight down: cli → train → nn → autograd → backend → tensor.
 */
class PackageCyclesTest {
    /**
     * Cycles still there, each with why. backend.cuda ↔ backend.cuda.ops: CudaBackend builds the
     * launchers, and they use the device layer (KernelArgs, DeviceBuffer, CublasGemm) that sits
     * beside CudaBackend; it goes with the typed kernel facade that replaces the launchers' insides.
     */
    private static final Set<Set<String>> KNOWN = Set.of(Set.of("convunext.backend.cuda", "convunext.backend.cuda.ops"));

    private static final Pattern PACKAGE = Pattern.compile("^package ([\\w.]+);", Pattern.MULTILINE);
    private static final Pattern USE = Pattern.compile("\\b(convunext(?:\\.[a-z]\\w*)+)\\.[A-Z]");

    @Test void mainCodeHasNoPackageCycle() throws IOException {
        Map<String, Set<String>> uses = new TreeMap<>();
        try (Stream<Path> files = Files.walk(Path.of("src/main/java"))) {
            for (Path f : (Iterable<Path>) files.filter(p -> p.toString().endsWith(".java"))::iterator) {
                String s = code(Files.readString(f));
                Matcher pm = PACKAGE.matcher(s);
                if (!pm.find()) continue;
                String pkg = pm.group(1);
                Set<String> to = uses.computeIfAbsent(pkg, k -> new TreeSet<>());
                Matcher m = USE.matcher(s.substring(pm.end()));
                while (m.find()) if (!m.group(1).equals(pkg)) to.add(m.group(1));
            }
        }
        List<Set<String>> cycles = new ArrayList<>(), gone = new ArrayList<>(KNOWN);
        for (Set<String> c : stronglyConnected(uses)) {
            if (c.size() > 1 && !KNOWN.contains(c)) cycles.add(c);
            gone.remove(c);
        }
        assertEquals(List.of(), cycles, "package cycles in src/main/java (" + uses + ")");
        assertEquals(List.of(), gone, "these cycles are gone: remove them from KNOWN");
    }

    /** The source without comments and string literals. */
    private static String code(String s) {
        return s.replaceAll("(?s)/\\*.*?\\*/", "").replaceAll("//[^\\n]*", "").replaceAll("\"(?:\\\\.|[^\"\\\\])*\"", "\"\"");
    }

    /** Tarjan's strongly connected components. */
    private static List<Set<String>> stronglyConnected(Map<String, Set<String>> g) {
        Map<String, Integer> index = new HashMap<>(), low = new HashMap<>();
        Deque<String> stack = new ArrayDeque<>();
        Set<String> onStack = new TreeSet<>();
        List<Set<String>> out = new ArrayList<>();
        for (String v : g.keySet()) if (!index.containsKey(v)) visit(v, g, index, low, stack, onStack, out);
        return out;
    }

    private static void visit(String v, Map<String, Set<String>> g, Map<String, Integer> index, Map<String, Integer> low,
                              Deque<String> stack, Set<String> onStack, List<Set<String>> out) {
        index.put(v, index.size());
        low.put(v, index.get(v));
        stack.push(v);
        onStack.add(v);
        for (String w : g.getOrDefault(v, Set.of())) {
            if (!index.containsKey(w)) {
                visit(w, g, index, low, stack, onStack, out);
                low.put(v, Math.min(low.get(v), low.get(w)));
            } else if (onStack.contains(w)) {
                low.put(v, Math.min(low.get(v), index.get(w)));
            }
        }
        if (low.get(v).equals(index.get(v))) {
            Set<String> c = new TreeSet<>();
            String w;
            do {
                w = stack.pop();
                onStack.remove(w);
                c.add(w);
            } while (!w.equals(v));
            out.add(c);
        }
    }
}
