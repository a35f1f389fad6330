package convunext.data;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

/**
 * A segmentation data set on disk: {@code <root>/<split>/images} with labels in
 * {@code <root>/<split>/masks} and, optionally, field-of-view masks in {@code <root>/<split>/roi}
 * (or any folder given explicitly, e.g. DRIVE's {@code original_annotations/training/mask}).
 *
 * <p>Matching: a mask (or ROI) belongs to an image when its stem (name without extension) equals
 * the image's stem; failing that, when it is the only file whose stem starts with the image stem
 * followed by a non-alphanumeric character ({@code 21_training} ↔ {@code 21_training_manual1},
 * but {@code 1} does not match {@code 10_manual1}). Extensions never matter: files are decoded by
 * content. Hidden files and files that are neither image-named nor image-signed (README.txt) are
 * skipped.
 */
public final class Dataset {
    private static final Set<String> IMAGE_EXT = Set.of("png", "tif", "tiff", "gif", "jpg", "jpeg", "bmp");

    private final Path root;
    private final String split;
    private final List<Sample> samples;
    private final Path roiFolder;   // null: no ROI masks

    private Dataset(Path root, String split, List<Sample> samples, Path roiFolder) {
        this.root = root;
        this.split = split;
        this.samples = List.copyOf(samples);
        this.roiFolder = roiFolder;
    }

    /**
     * Where the data root is when {@code given} is a folder inside it (its train/, test/, images/
     * or masks/): "; give --data R", else "". A user pointing at DRIVE/train/images otherwise reads
     * only of a folder that does not exist.
     */
    public static String rootHint(Path given) {
        Path p = given.toAbsolutePath().normalize();
        for (int up = 1; up <= 2 && p.getParent() != null; up++) {
            p = p.getParent();
            if (Files.isDirectory(p.resolve("train").resolve("images")) || Files.isDirectory(p.resolve("test").resolve("images")))
                return "; it is inside the data root " + p + ": give --data " + p;
        }
        return "";
    }

    /**
     * Opens {@code <root>/<split>}. With {@code requireMasks} every image must have a mask (train,
     * evaluate); otherwise masks are attached when present (predict). {@code roiDir} may be null:
     * then {@code <root>/<split>/roi} is used if it exists.
     */
    public static Dataset open(Path root, String split, boolean requireMasks, Path roiDir) {
        Path dir = root.resolve(split);
        Path imagesDir = dir.resolve("images");
        if (!Files.isDirectory(imagesDir))
            throw new DataException("no image folder " + imagesDir + " (expected layout <root>/{train,test}/{images,masks})"
                    + rootHint(root));
        List<Path> images = listImages(imagesDir);
        if (images.isEmpty()) throw new DataException("image folder " + imagesDir + " holds no images");
        Path masksDir = dir.resolve("masks");
        List<Path> masks = Files.isDirectory(masksDir) ? listImages(masksDir) : List.of();
        if (requireMasks && !Files.isDirectory(masksDir))
            throw new DataException("no mask folder " + masksDir + " for the images in " + imagesDir);
        Path roiFolder = roiDir != null ? roiDir : dir.resolve("roi");
        if (roiDir != null && !Files.isDirectory(roiDir)) throw new DataException("ROI folder " + roiDir + " does not exist");
        List<Path> rois = Files.isDirectory(roiFolder) ? listImages(roiFolder) : List.of();
        // A folder given by name that holds no image (a parent such as DRIVE's original_annotations/test
        // instead of its mask/) would otherwise score and train without any field of view, silently.
        if (roiDir != null && rois.isEmpty())
            throw new DataException("ROI folder " + roiDir + " holds no images (ROI masks are matched by image name: "
                    + "give the folder that holds them)");

        requireUniqueStems(images);
        Set<String> imageStems = new HashSet<>();
        for (Path img : images) imageStems.add(stem(img));
        List<Sample> out = new ArrayList<>();
        Map<Path, Path> maskOwner = new HashMap<>(), roiOwner = new HashMap<>();
        for (Path img : images) {
            String stem = stem(img);
            Path mask = match(stem, masks, "mask", img, imageStems);
            if (mask == null && requireMasks)
                throw new DataException("no mask for image " + img + " in " + masksDir
                        + " (looked for a file named " + stem + ".* or " + stem + "_*.*)");
            Path roi = match(stem, rois, "ROI mask", img, imageStems);
            if (roi == null && !rois.isEmpty())
                throw new DataException("no ROI mask for image " + img + " in " + roiFolder);
            claim(maskOwner, mask, img, "mask");
            claim(roiOwner, roi, img, "ROI mask");
            out.add(new Sample(stem, img, mask, roi));
        }
        return new Dataset(root, split, out, rois.isEmpty() ? null : roiFolder);
    }

    /** The folder the samples' ROI masks come from (the one given, or {@code <split>/roi}); null when there are none. */
    public Path roiFolder() { return roiFolder; }

    /**
     * Refuses two files whose names differ only in the extension ({@code a.png} and {@code a.jpg}):
     * they would share a sample id, a mask and an output name.
     */
    public static void requireUniqueStems(List<Path> files) {
        Map<String, Path> seen = new HashMap<>();
        for (Path f : files) {
            Path other = seen.putIfAbsent(stem(f), f);
            if (other != null)
                throw new DataException("two images share the name " + stem(f) + ": " + other + " and " + f
                        + " (their masks and outputs would collide); rename or remove one");
        }
    }

    /** One mask (or ROI) file may belong to one image only. */
    private static void claim(Map<Path, Path> owner, Path file, Path image, String what) {
        if (file == null) return;
        Path other = owner.putIfAbsent(file, image);
        if (other != null)
            throw new DataException(what + " " + file + " matches two images, " + other + " and " + image
                    + "; name each " + what + " after its image");
    }

    public Path root() { return root; }
    public String split() { return split; }
    public List<Sample> samples() { return samples; }
    public int size() { return samples.size(); }

    /** File name without its last extension. */
    public static String stem(Path p) {
        String n = p.getFileName().toString();
        int dot = n.lastIndexOf('.');
        return dot > 0 ? n.substring(0, dot) : n;
    }

    /**
     * The image files of a folder (by extension or content; hidden files skipped), sorted. A
     * symbolic link named as an image whose target is missing (a data disk not mounted) is listed
     * too: reading it then fails naming it, where skipping it trained or predicted on fewer images
     * without a word.
     */
    public static List<Path> listImages(Path dir) {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> Files.isRegularFile(p) || IMAGE_EXT.contains(ext(p)) && danglingLink(p))
                    .filter(p -> !p.getFileName().toString().startsWith("."))
                    .filter(p -> IMAGE_EXT.contains(ext(p)) || ImageFiles.sniff(p) != null)
                    .peek(Dataset::requireNameReadable)
                    .sorted()
                    .toList();
        } catch (IOException e) {
            throw new DataException("cannot list folder " + dir + ": " + e, e);
        }
    }

    /**
     * Refuses a file whose name this JVM cannot turn into text and back: under a C/POSIX locale
     * every non-ASCII byte reads as '?', and the outputs named after it could not be made (it
     * failed later as "Malformed input or input contains unmappable characters", naming no folder).
     */
    static void requireNameReadable(Path p) {
        String n = p.getFileName().toString();
        try {
            if (p.resolveSibling(n).equals(p)) return;
        } catch (java.nio.file.InvalidPathException unmappable) {
            // refused below
        }
        throw new DataException("the name of a file in " + p.getParent() + " (read as '" + n + "') cannot be read in this JVM's"
                + " file-name encoding (" + System.getProperty("sun.jnu.encoding") + "): run under a UTF-8 locale (e.g. LC_ALL=C.UTF-8)"
                + " or rename the file");
    }

    /** A symbolic link whose target does not exist (a link to a folder, or a working one, is not): predict's and the Spark job's rule. */
    public static boolean danglingLink(Path p) {
        return Files.isSymbolicLink(p) && !Files.exists(p);
    }

    /** Whether {@code fileName} has one of the image extensions {@link #listImages} takes without sniffing the content. */
    public static boolean hasImageExtension(String fileName) { return IMAGE_EXT.contains(ext(Path.of(fileName))); }

    private static String ext(Path p) {
        String n = p.getFileName().toString();
        int dot = n.lastIndexOf('.');
        return dot > 0 ? n.substring(dot + 1).toLowerCase(Locale.ROOT) : "";
    }

    static Path match(String stem, List<Path> candidates, String what, Path image) {
        return match(stem, candidates, what, image, Set.of());
    }

    /**
     * As above; a candidate named exactly after another image ({@code imageStems}) is that image's
     * and never matches by prefix: image {@code a} without a mask does not take {@code a_1}'s mask
     * {@code a_1.png} (which made the whole set "one mask for two images" instead of a missing mask).
     */
    static Path match(String stem, List<Path> candidates, String what, Path image, Set<String> imageStems) {
        List<Path> exact = new ArrayList<>(), prefixed = new ArrayList<>();
        for (Path c : candidates) {
            String s = stem(c);
            if (s.equals(stem)) exact.add(c);
            else if (s.length() > stem.length() && s.startsWith(stem) && !imageStems.contains(s)
                    && !Character.isLetterOrDigit(s.charAt(stem.length()))) prefixed.add(c);
        }
        if (exact.size() > 1) throw new DataException("several " + what + "s for image " + image + ": " + exact);
        if (exact.size() == 1) return exact.get(0);
        if (prefixed.size() > 1)
            throw new DataException("ambiguous " + what + " for image " + image + ": " + prefixed
                    + " all start with " + stem);
        return prefixed.isEmpty() ? null : prefixed.get(0);
    }
}
