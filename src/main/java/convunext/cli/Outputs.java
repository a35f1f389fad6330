package convunext.cli;

import convunext.io.OutputFolder;
import convunext.io.RealPath;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Checks on output folders made before any work starts: never an existing file, never overlapping
 * the input (symlinks resolved), never silently replacing an earlier run's files.
 */
final class Outputs {
    private Outputs() {}

    /** Refuses an output path that names an existing file (we write into a folder). */
    static void requireFolder(Path out, String flag) {
        if (Files.exists(out) && !Files.isDirectory(out))
            throw new UserError(flag + " " + out + " is an existing file; give a folder to write into", Main.BAD_INPUT);
        // the folder is made only after the weights and data pass: a path it cannot be made at is refused now
        Path p = out.toAbsolutePath().normalize().getParent();
        while (p != null && !Files.exists(p)) p = p.getParent();
        if (p != null && !Files.isDirectory(p))
            throw new UserError(flag + " " + out + " cannot be made: " + p + " is a file, not a folder", Main.BAD_INPUT);
    }

    /** The --data folder, or one line saying it is missing or a file. */
    static void requireDataFolder(Path data) {
        if (!Files.isDirectory(data))
            throw new UserError(Files.exists(data) ? "--data " + data + " is a file, not a folder" : "data folder not found: " + data,
                    Main.BAD_INPUT);
    }

    /**
     * Refuses an output folder that is the input folder, lies inside it or contains it (a single
     * input file: the output folder must not be, or contain, the file's folder). Paths are compared
     * after resolving symbolic links, so a link to the input folder is caught too.
     */
    static void requireApart(Path input, Path out, String inFlag, String outFlag) {
        boolean file = Files.isRegularFile(input);
        // a linked input file counts where its target lies: a link's own folder says nothing
        Path in = file ? real(input).getParent() : real(input), o = real(out);
        String why = null;
        if (o.equals(in)) why = "is the input folder";
        else if (o.startsWith(in) && !file) why = "lies inside the input folder";
        else if (in.startsWith(o)) why = "contains the input";
        if (why != null)
            throw new UserError(outFlag + " " + out + " " + why + " " + input + " (" + o + "); outputs never go next to the inputs "
                    + "they could overwrite: choose another " + outFlag, Main.BAD_INPUT);
    }

    /**
     * Refuses an output folder that is the input folder {@code inputs} or lies inside it (symlinks
     * resolved); {@code what} names it ("the data folder", "the --roi folder").
     */
    static void refuseInside(Path out, String outFlag, Path inputs, String what) {
        Path o = real(out), in = real(inputs);
        if (o.startsWith(in))
            throw new UserError(outFlag + " " + out + " is " + (o.equals(in) ? "" : "inside ") + what + " " + inputs
                    + "; outputs never go among the inputs: choose another " + outFlag, Main.BAD_INPUT);
    }

    /**
     * Refuses any planned output ({@code plan}: name in {@code out} → the input it comes from) that
     * resolves to one of {@code inputs}: an input that is a symlink into {@code out}, or an output
     * name that is a symlink to an input. With or without --overwrite: an input is never replaced.
     */
    static void refuseInputsAsOutputs(List<Path> inputs, Path out, Map<String, Path> plan, String outFlag) {
        Map<Path, Path> real = new HashMap<>();
        for (Path f : inputs) real.put(real(f), f);
        for (Map.Entry<String, Path> e : plan.entrySet()) {
            Path target = real(out.resolve(e.getKey())), in = real.get(target);
            if (in != null)
                throw new UserError(outFlag + " " + out + ": output " + out.resolve(e.getKey()) + " (of input " + e.getValue()
                        + ") would replace input " + in + " (both are " + target + "); outputs never replace inputs: choose another "
                        + outFlag, Main.BAD_INPUT);
        }
    }

    /** The real path of {@code p} ({@link RealPath#of}: symlinks resolved for the part that exists, the rest appended). */
    static Path real(Path p) { return RealPath.of(p); }

    /** The files among {@code names} that already exist in {@code out}. */
    static List<String> existing(Path out, Collection<String> names) {
        List<String> found = new ArrayList<>();
        if (!Files.isDirectory(out)) return found;
        for (String n : names) if (Files.exists(out.resolve(n))) found.add(n);
        return found;
    }

    /** Refuses to replace earlier outputs unless the user named {@code --overwrite}. */
    static void refuseEarlier(Path out, Collection<String> names, boolean overwrite, String what) {
        if (overwrite) return;
        List<String> found = existing(out, names);
        if (found.isEmpty()) return;
        throw new UserError(out + " already holds " + what + " (" + String.join(", ", found.size() > 3 ? found.subList(0, 3) : found)
                + (found.size() > 3 ? " and " + (found.size() - 3) + " more" : "") + "); pass --overwrite to replace them, "
                + "or choose another output folder", Main.BAD_INPUT);
    }

    /**
     * {@code base}, else {@code base-2}, {@code base-3}, …: the first that holds none of {@code names}
     * and that no running command holds (a run in its first epoch has written no result yet).
     */
    static Path fresh(Path base, Collection<String> names) {
        Path p = base;
        for (int i = 2; Files.exists(p) && (!Files.isDirectory(p) || !existing(p, names).isEmpty() || OutputFolder.inUse(p)); i++)
            p = base.resolveSibling(base.getFileName() + "-" + i);
        return p;
    }
}
