package convunext.cli;

import convunext.io.SafeTensors;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * `train --resume`: a recipe option not given on the command line takes the checkpoint's recorded
 * value (RunMeta and Checkpoint metadata), not the recipe's default, so "the same command plus
 * --resume" continues the very run even where a flag was left out (a forgotten --seed changed the
 * data order and augmentation, silently, and the continuation was no longer the uninterrupted
 * run's bits). A value given that differs from the checkpoint's is used, with a note saying so.
 * Keys an older checkpoint lacks fall back to the recipe's default; a key it holds with a value
 * that is not a (finite) number is refused, naming the file and key (a damaged checkpoint, not a
 * reason to continue with other settings silently).
 */
final class ResumeDefaults {
    private final Map<String, String> meta;
    private final Path file;
    final List<String> notes = new ArrayList<>();
    /** Options taken from the checkpoint (flag → metadata key), for messages about their values. */
    private final Map<String, String> taken = new LinkedHashMap<>();

    ResumeDefaults(Path checkpoint) {
        this.file = checkpoint;
        this.meta = checkpoint == null ? Map.of() : SafeTensors.readMetadata(checkpoint);
    }

    /** The value to train with for an integer option ({@code given} null: not on the command line). */
    int integer(String flag, Integer given, String key, int recipe) {
        Long rec = parse(key);
        if (rec != null && (rec < Integer.MIN_VALUE || rec > Integer.MAX_VALUE)) rec = null;   // not a value this option takes
        if (given == null) return rec != null ? took(flag, key, rec.intValue()) : recipe;
        if (rec != null && rec.longValue() != given) differs(flag, Integer.toString(given), meta.get(key));
        return given;
    }

    long longValue(String flag, Long given, String key, long recipe) {
        Long rec = parse(key);
        if (given == null) return rec != null ? took(flag, key, rec) : recipe;
        if (rec != null && rec.longValue() != given) differs(flag, Long.toString(given), meta.get(key));
        return given;
    }

    double real(String flag, Double given, String key, double recipe) {
        Double rec = parseDouble(key);
        if (given == null) return rec != null ? took(flag, key, rec) : recipe;
        if (rec != null && rec.doubleValue() != given) differs(flag, Double.toString(given), meta.get(key));
        return given;
    }

    String text(String flag, String given, String key, String recipe) {
        String rec = meta.get(key);
        if (given == null) return rec != null ? took(flag, key, rec) : recipe;
        if (rec != null && !rec.equalsIgnoreCase(given)) differs(flag, given, rec);
        return given;
    }

    /**
     * As {@link #integer} for an option of the model itself (--base-c, --classes): a resumed run
     * continues the checkpoint's model, so a given value that differs is refused now, not noted
     * ("the run continues with …") and then refused by the checkpoint's shapes.
     */
    int modelInteger(String flag, Integer given, String key, int recipe) {
        Long rec = parse(key);
        if (given != null && rec != null && rec.longValue() != given) refuseModel(flag, Integer.toString(given), key);
        return integer(flag, given, key, recipe);
    }

    /** As {@link #modelInteger} for a text option of the model (--norm). */
    String modelText(String flag, String given, String key, String recipe) {
        String rec = meta.get(key);
        if (given != null && rec != null && !rec.equalsIgnoreCase(given)) refuseModel(flag, given, key);
        return text(flag, given, key, recipe);
    }

    private void refuseModel(String flag, String given, String key) {
        throw new UserError(flag + " " + given + " differs from " + file + "'s " + key + " " + meta.get(key)
                + ": a resumed run continues the checkpoint's model; drop " + flag + ", or start a new run without --resume",
                Main.BAD_INPUT);
    }

    private <T> T took(String flag, String key, T value) {
        taken.put(flag, key);
        return value;
    }

    /**
     * A refused option value that came from the checkpoint, not from the command line: the message
     * says so (it names a flag the user did not give), else {@code e} as it is.
     */
    RuntimeException blame(IllegalArgumentException e) {
        String m = e.getMessage() == null ? "" : e.getMessage();
        for (Map.Entry<String, String> t : taken.entrySet())
            if (m.startsWith(t.getKey() + " "))
                return new UserError(m + " (not given: " + file + " records " + t.getKey() + " as '" + t.getValue() + "' = "
                        + meta.get(t.getValue()) + "; give " + t.getKey() + " to override)", Main.BAD_INPUT);
        return e;
    }

    private void differs(String flag, String given, String recorded) {
        notes.add("note: " + flag + " " + given + " differs from " + file + "'s " + recorded
                + ": the run continues with " + given + ", so it is not the uninterrupted run");
    }

    private Long parse(String key) {
        if (!meta.containsKey(key)) return null;
        try {
            return Long.parseLong(meta.get(key).trim());
        } catch (NumberFormatException e) {
            throw unreadable(key, "a whole number");
        }
    }

    private Double parseDouble(String key) {
        if (!meta.containsKey(key)) return null;
        double d;
        try {
            d = Double.parseDouble(meta.get(key).trim());
        } catch (NumberFormatException e) {
            throw unreadable(key, "a number");
        }
        if (!Double.isFinite(d)) throw unreadable(key, "a finite number");
        return d;
    }

    private UserError unreadable(String key, String what) {
        return new UserError(file + ": metadata '" + key + "' is \"" + meta.get(key) + "\", expected " + what
                + " (a damaged checkpoint?)", Main.BAD_INPUT);
    }
}
