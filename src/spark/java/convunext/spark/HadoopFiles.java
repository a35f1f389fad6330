package convunext.spark;

import java.io.IOException;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BiConsumer;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.GlobFilter;
import org.apache.hadoop.fs.LocalFileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.RawLocalFileSystem;

/**
 * Files on any Hadoop file system (local, HDFS, S3A, GCS, ABFS) for the Spark job: reading whole
 * files, and writing outputs through a temporary file and a rename so that no reader sees a half
 * file and a retried task simply writes the same file again.
 */
final class HadoopFiles {
    private HadoopFiles() {}

    /** The driver's Hadoop configuration as a map, to broadcast to executors. */
    static Map<String, String> snapshot(Configuration c) {
        Map<String, String> m = new HashMap<>();
        for (Map.Entry<String, String> e : c) m.put(e.getKey(), e.getValue());
        return m;
    }

    static Configuration restore(Map<String, String> m) {
        Configuration c = new Configuration(false);
        m.forEach(c::set);
        return c;
    }

    /** The file system of {@code p}; the local one without Hadoop's .crc side files. */
    static FileSystem fs(Path p, Configuration c) throws IOException {
        FileSystem fs = p.getFileSystem(c);
        return fs instanceof LocalFileSystem local ? local.getRaw() : fs;
    }

    static byte[] read(String uri, Configuration c) throws IOException {
        Path p = new Path(uri);
        try (var in = fs(p, c).open(p)) {
            return in.readAllBytes();
        }
    }

    /**
     * Writes {@code bytes} to {@code target}: first to {@code <dir>/_temporary/<tag>/<name>}, then
     * renamed into place (atomic on local file systems and HDFS; an S3 object appears only when
     * complete). Where a rename does not replace (HDFS), an existing target is the complete
     * output of an earlier attempt of the same task: it is replaced. {@code beforeRename} (tests)
     * runs between the two steps. The driver removes {@code _temporary} when the job ends.
     */
    static void writeAtomically(Path target, byte[] bytes, String tag, Configuration c,
                                BiConsumer<Path, Path> beforeRename) throws IOException {
        FileSystem fs = fs(target, c);
        Path tmp = new Path(new Path(new Path(target.getParent(), "_temporary"), tag), target.getName());
        try (OutputStream out = fs.create(tmp, true)) {
            out.write(bytes);
        }
        if (beforeRename != null) beforeRename.accept(tmp, target);
        if (!fs.rename(tmp, target)) {
            if (!fs.exists(target) || !fs.delete(target, false) || !fs.rename(tmp, target))
                throw new IOException("cannot rename " + tmp + " to " + target);
        }
    }

    /**
     * {@code p} as a comparable folder URI ending in "/": qualified on its file system, a glob cut
     * back to the folder above its first wildcard, and on the local file system with symbolic
     * links resolved (as far as the path exists), so that a link to a folder compares equal to it.
     */
    static String folderKey(String p, Configuration c) throws IOException {
        String s = p;
        int w = indexOfGlob(s);
        if (w >= 0) s = s.substring(0, Math.max(s.lastIndexOf('/', w), 0) + 1);
        if (s.isEmpty()) s = ".";
        Path q = new Path(s);
        q = q.getFileSystem(c).makeQualified(q);
        String u = q.toUri().toString();
        if ("file".equals(q.toUri().getScheme())) {
            u = convunext.io.RealPath.of(java.nio.file.Path.of(q.toUri())).toUri().toString();
        }
        return u.endsWith("/") ? u : u + "/";
    }

    /** Index of the first Hadoop glob character ({@code * ? [ {}) in {@code s}, or −1. */
    private static int indexOfGlob(String s) {
        for (int i = 0; i < s.length(); i++)
            if ("*?[{".indexOf(s.charAt(i)) >= 0) return i;
        return -1;
    }

    /**
     * The files under {@code images} that Spark's file sources never list, so that no task sees them,
     * each with the error its row says (sorted by path):
     * <ul>
     *   <li>names starting with '_' (without '='; Hadoop's "hidden" files), and with {@code recursive}
     *       every file inside such a folder: predict reads those;</li>
     *   <li>on a local file system, a symbolic link whose target is missing (a data disk not mounted):
     *       Hadoop's listing drops it, predict lists it and refuses it naming the link and its target.</li>
     * </ul>
     * Only names with an image extension count, as in predict: markers such as _SUCCESS, dot files
     * and a dangling link named notes.txt stay left out.
     */
    static Map<String, String> unlistedBySpark(String images, String glob, boolean recursive, Configuration c) throws IOException {
        return unlisted(images, glob, recursive, true, c);
    }

    /**
     * The dangling symbolic links named as images in a {@code --masks} or {@code --roi} folder (or
     * glob) on a local file system, each with the error reading it gives, naming the link and its
     * target (as {@link #unlistedBySpark} names an image's): Hadoop's listing drops them, so an
     * image whose mask is one was "no mask" instead. Names starting with '_' are not among them.
     */
    static Map<String, String> danglingLinks(String folder, Configuration c) throws IOException {
        return unlisted(folder, null, false, false, c);
    }

    /** {@link #unlistedBySpark}; {@code hiddenToo} false: the dangling links only. */
    private static Map<String, String> unlisted(String images, String glob, boolean recursive, boolean hiddenToo, Configuration c)
            throws IOException {
        Path root = new Path(images);
        FileSystem fs = fs(root, c);
        FileStatus[] roots = fs.globStatus(root);
        Map<String, String> out = new java.util.TreeMap<>();
        GlobFilter names = glob == null ? null : new GlobFilter(glob);
        if (roots != null) {
            for (FileStatus s : roots) {
                if (s.isDirectory()) unlistedIn(fs, s.getPath(), names, recursive, false, hiddenToo, out);
                else if (hiddenToo && sparkSkips(s.getPath().getName()) && wanted(s.getPath(), names))
                    out.put(s.getPath().toString(), hidden(s.getPath()));
            }
        }
        // a glob's last part (folder/*.png) is matched by listing its folders, which drops dangling links too
        if (fs instanceof RawLocalFileSystem && root.getParent() != null && root.getName().matches(".*[*?\\[{].*")) {
            GlobFilter last = new GlobFilter(root.getName());
            FileStatus[] parents = fs.globStatus(root.getParent());
            if (parents != null)
                for (FileStatus d : parents)
                    if (d.isDirectory()) danglingIn(fs, d.getPath(), n -> last.accept(new Path(d.getPath(), n)), names, out);
        }
        return out;
    }

    private static void unlistedIn(FileSystem fs, Path dir, GlobFilter names, boolean recursive, boolean insideHidden,
                                   boolean hiddenToo, Map<String, String> out) throws IOException {
        for (FileStatus s : fs.listStatus(dir)) {
            String n = s.getPath().getName();
            if (n.startsWith(".")) continue;
            boolean hidden = insideHidden || sparkSkips(n);
            if (s.isDirectory()) {
                if (recursive) unlistedIn(fs, s.getPath(), names, true, hidden, hiddenToo, out);
            } else if (hiddenToo && hidden && wanted(s.getPath(), names)) {
                out.put(s.getPath().toString(), hidden(s.getPath()));
            }
        }
        danglingIn(fs, dir, n -> true, names, out);
    }

    /** Dangling symbolic links named as images in {@code dir} of a local file system (none elsewhere). */
    private static void danglingIn(FileSystem fs, Path dir, java.util.function.Predicate<String> accept, GlobFilter names,
                                   Map<String, String> out) throws IOException {
        if (!(fs instanceof RawLocalFileSystem local)) return;
        try (var list = java.nio.file.Files.newDirectoryStream(local.pathToFile(dir).toPath())) {
            for (java.nio.file.Path f : list) {
                String n = f.getFileName().toString();
                Path p = new Path(dir, n);
                if (n.startsWith(".") || !accept.test(n) || !wanted(p, names) || !convunext.data.Dataset.danglingLink(f)) continue;
                out.put(p.toString(), danglingError(f));
            }
        }
    }

    /** What predict says of a dangling link: reading it fails naming the link and its target. */
    private static String danglingError(java.nio.file.Path f) {
        try {
            convunext.data.ImageFiles.readImage(f);
            return "cannot read image file " + f + ": a symbolic link whose target does not exist";   // created since: not reached
        } catch (RuntimeException e) {
            return e.getMessage();
        }
    }

    /**
     * Why {@code --images} (a path or glob) matches nothing, for the refusal: on a local file system
     * a dangling symbolic link says where it points; otherwise null.
     */
    static String whyMissing(String path, Configuration c) throws IOException {
        Path p = new Path(path);
        if (!(fs(p, c) instanceof RawLocalFileSystem local)) return null;
        java.nio.file.Path f = local.pathToFile(fs(p, c).makeQualified(p)).toPath();
        if (!convunext.data.Dataset.danglingLink(f)) return null;
        try {
            return "a symbolic link to " + java.nio.file.Files.readSymbolicLink(f) + ", which does not exist";
        } catch (IOException | UnsupportedOperationException e) {
            return null;
        }
    }

    private static String hidden(Path p) {
        return p + " was not segmented: Spark's file sources skip names starting with '_' "
                + "(and, with --recursive, folders so named); rename it";
    }

    private static boolean wanted(Path file, GlobFilter names) {
        return convunext.data.Dataset.hasImageExtension(file.getName()) && (names == null || names.accept(file));
    }

    /** Spark's rule (InMemoryFileIndex.shouldFilterOutPathName) for the names it skips that predict reads. */
    static boolean sparkSkips(String name) { return name.startsWith("_") && !name.contains("="); }

    static boolean existsNonEmpty(Path p, Configuration c) throws IOException {
        FileSystem fs = fs(p, c);
        if (!fs.exists(p)) return false;
        if (!fs.getFileStatus(p).isDirectory()) return true;
        return fs.listStatus(p).length > 0;
    }
}
