package example;

import convunext.api.Segmentation;
import convunext.api.Segmenter;
import java.nio.file.Path;

/** The README's ten-line program: only convunext.api. Usage: SegmentOne WEIGHTS IMAGE MASK.png */
public class SegmentOne {
    public static void main(String[] args) {
        try (Segmenter s = Segmenter.open(Path.of(args[0]), "auto")) {
            Segmentation r = s.segment(Path.of(args[1]));
            r.writeMask(Path.of(args[2]));
            System.out.println(r.width() + "x" + r.height() + ", pixels per class " + java.util.Arrays.toString(r.pixelsPerClass()));
        }
    }
}
