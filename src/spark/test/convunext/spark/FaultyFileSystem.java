package convunext.spark;

import java.io.IOException;
import java.net.URI;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.RawLocalFileSystem;

/**
 * The local file system under the scheme {@code faulty:} whose files named {@code unreadable*}
 * are listed but cannot be opened (as a file without read permission is for a non-root user, or
 * one on a failing disk): tests register it with {@code fs.faulty.impl}.
 */
public class FaultyFileSystem extends RawLocalFileSystem {
    @Override public URI getUri() { return URI.create("faulty:///"); }

    @Override public String getScheme() { return "faulty"; }

    @Override public FSDataInputStream open(Path f, int bufferSize) throws IOException {
        if (f.getName().startsWith("unreadable")) throw new java.nio.file.AccessDeniedException(f.toString(), null, "Permission denied");
        return super.open(f, bufferSize);
    }
}
