package convunext.data;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An image that is a symbolic link to a missing file (a data disk not mounted) is listed and then
 * refused naming the link; it used to be skipped, so train and predict ran on fewer images silently.
 */
class DanglingLinkTest {
    @TempDir Path tmp;

    @Test void aDanglingImageLinkIsListedAndItsReadNamesTheLink() throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("images"));
        Files.copy(Fixtures.SYNTHETIC.resolve("test/images/syn_016.png"), dir.resolve("a.png"));
        Path link = Files.createSymbolicLink(dir.resolve("b.png"), tmp.resolve("unmounted/b.png"));
        Files.createSymbolicLink(dir.resolve("notes.txt"), tmp.resolve("unmounted/notes.txt"));   // not image-named: still skipped
        Files.createDirectories(dir.resolve("c.png"));                                             // a folder: still skipped
        assertEquals(List.of(dir.resolve("a.png"), link), Dataset.listImages(dir));
        DataException e = assertThrows(DataException.class, () -> ImageFiles.readImage(link));
        assertTrue(e.getMessage().contains(link.toString()) && e.getMessage().contains("symbolic link to")
                && e.getMessage().contains("unmounted"), e.getMessage());
    }

    /** A loop of links (a → b → a) is named as one: it read "a symbolic link to b.png, which does not exist", and b.png does. */
    @Test void aLoopOfLinksIsNotCalledMissing() throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("loop"));
        Path a = Files.createSymbolicLink(dir.resolve("a.png"), Path.of("b.png"));
        Files.createSymbolicLink(dir.resolve("b.png"), Path.of("a.png"));
        assertEquals(List.of(a, dir.resolve("b.png")), Dataset.listImages(dir), "listed, as a dangling link is");
        DataException e = assertThrows(DataException.class, () -> ImageFiles.readImage(a));
        assertTrue(e.getMessage().startsWith("cannot read image file " + a + ": it is a symbolic link to b.png, which cannot be followed ("),
                e.getMessage());
        assertTrue(e.getMessage().contains("a loop of links?") && !e.getMessage().contains("does not exist"), e.getMessage());
    }

    @Test void aTrainingSetWithADanglingImageIsRefusedByTheDataCheck() throws Exception {
        Path root = tmp.resolve("data");
        Path images = Files.createDirectories(root.resolve("train/images")), masks = Files.createDirectories(root.resolve("train/masks"));
        for (String n : List.of("syn_000.png", "syn_001.png")) {
            Files.copy(Fixtures.SYNTHETIC.resolve("train/images/" + n), images.resolve(n));
            Files.copy(Fixtures.SYNTHETIC.resolve("train/masks/" + n), masks.resolve(n));
        }
        Path link = Files.createSymbolicLink(images.resolve("syn_002.png"), tmp.resolve("gone/syn_002.png"));
        Files.copy(Fixtures.SYNTHETIC.resolve("train/masks/syn_002.png"), masks.resolve("syn_002.png"));
        Dataset ds = Dataset.open(root, "train", true, null);
        assertEquals(3, ds.size(), "the linked image is one of the samples, not dropped");
        DataException e = assertThrows(DataException.class, () -> DataCheck.run(ds, 2, 3, LoadedSample.DEFAULT_MIN_SIZE));
        assertTrue(e.getMessage().contains(link.toString()) && e.getMessage().contains("does not exist"), e.getMessage());
    }
}
