package convunext.spark;

import convunext.data.DataException;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Finds an image's mask (or ROI mask) among a folder's files by the rule {@code evaluate} and
 * {@code train} use ({@code Dataset}): the file whose name stem equals the image's, else the one
 * whose stem starts with it followed by a non-alphanumeric character ({@code 21_training} →
 * {@code 21_training_manual1.gif}); several candidates are an error naming them. Indexed by stem,
 * so a lookup costs O(log n) for folders of millions of files.
 */
final class MaskIndex implements Serializable {
    private static final long serialVersionUID = 1L;
    private final TreeMap<String, List<String>> byStem = new TreeMap<>();
    private final TreeMap<String, String> unreadable;
    private final String what, folder;

    MaskIndex(List<String> uris, String what, String folder) { this(uris, Map.of(), what, folder); }

    /**
     * {@code unreadable}: files of the folder that Spark's listing leaves out (a dangling symbolic
     * link), each with its error; they are matched as the others are, and an image they match gets
     * that error, as evaluate, which lists them, says of them.
     */
    MaskIndex(List<String> uris, Map<String, String> unreadable, String what, String folder) {
        this.what = what;
        this.folder = folder;
        this.unreadable = new TreeMap<>(unreadable);
        for (String u : uris) byStem.computeIfAbsent(SegmentJob.stem(u), k -> new ArrayList<>()).add(u);
        for (String u : unreadable.keySet()) byStem.computeIfAbsent(SegmentJob.stem(u), k -> new ArrayList<>()).add(u);
    }

    String folder() { return folder; }

    /**
     * The URI of the mask for an image of this stem, or null when the folder has none; a
     * DataException when several match or the one that does cannot be read (a dangling link).
     */
    String find(String stem, String image) {
        String uri = match(stem, image);
        if (uri != null && unreadable.containsKey(uri)) throw new DataException(unreadable.get(uri));
        return uri;
    }

    private String match(String stem, String image) {
        List<String> exact = byStem.getOrDefault(stem, List.of());
        if (exact.size() > 1) throw new DataException("several " + what + "s for image " + image + ": " + exact);
        if (exact.size() == 1) return exact.get(0);
        List<String> prefixed = new ArrayList<>();
        for (var e : byStem.subMap(stem, false, stem + Character.MAX_VALUE, false).entrySet()) {
            String s = e.getKey();
            if (s.length() > stem.length() && s.startsWith(stem) && !Character.isLetterOrDigit(s.charAt(stem.length())))
                prefixed.addAll(e.getValue());
        }
        if (prefixed.size() > 1)
            throw new DataException("ambiguous " + what + " for image " + image + ": " + prefixed + " all start with " + stem);
        return prefixed.isEmpty() ? null : prefixed.get(0);
    }
}
