package convunext.io;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A path as the file system resolves it, for telling whether an output lands among the inputs:
 * symbolic links resolved for the part that exists, the rest appended (an output folder not made
 * yet still compares by where it will be).
 */
public final class RealPath {
    private RealPath() {}

    /** {@code p} absolute and normalised, its existing part through {@link Path#toRealPath}; as it is if that cannot be read. */
    public static Path of(Path p) {
        Path abs = p.toAbsolutePath().normalize(), existing = abs;
        while (existing != null && !Files.exists(existing)) existing = existing.getParent();
        if (existing == null) return abs;
        try {
            return existing.toRealPath().resolve(existing.relativize(abs));
        } catch (IOException e) {
            return abs;
        }
    }
}
