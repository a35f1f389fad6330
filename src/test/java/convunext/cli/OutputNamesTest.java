package convunext.cli;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** predict's output names: every clash of a folder in one refusal, one line, so one rename round fixes them all. */
class OutputNamesTest {
    @Test void everyClashIsNamedInOneLine() {
        List<Path> files = List.of(Path.of("in/a.png"), Path.of("in/a.jpg"), Path.of("in/b.tif"), Path.of("in/b.png"), Path.of("in/c.png"));
        UserError e = assertThrows(UserError.class, () -> PredictCommand.outputNames(files, false, false));
        String m = e.getMessage();
        assertEquals(1, m.lines().count(), m);
        assertTrue(m.startsWith("inputs in/a.png and in/a.jpg would both write a.png"), m);
        assertTrue(m.contains("(1 more: inputs in/b.tif and in/b.png would both write b.png"), m);
        assertFalse(m.contains("c.png"), m);
    }

    @Test void manyClashesAreCountedAfterTheFirstFew() {
        List<Path> files = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            files.add(Path.of("in/x" + i + ".png"));
            files.add(Path.of("in/x" + i + ".jpg"));
        }
        String m = assertThrows(UserError.class, () -> PredictCommand.outputNames(files, false, false)).getMessage();
        assertEquals(1, m.lines().count(), m);
        assertTrue(m.contains("(19 more: ") && m.endsWith("; …)"), m);
        assertTrue(m.contains("x5.png") && !m.contains("x6.png"), m);
    }

    /** a.png and A.jpg write a.png and A.png: one file on macOS and Windows, where the second replaced the first. */
    @Test void namesDifferingOnlyInCaseAreAClash() {
        String m = assertThrows(UserError.class,
                () -> PredictCommand.outputNames(List.of(Path.of("in/a.png"), Path.of("in/A.jpg")), false, false)).getMessage();
        assertTrue(m.startsWith("inputs in/a.png and in/A.jpg would write a.png and A.png, one file where names ignore case"), m);
        m = assertThrows(UserError.class,
                () -> PredictCommand.outputNames(List.of(Path.of("in/b.png"), Path.of("in/B_PROB.png")), true, false)).getMessage();
        assertTrue(m.contains("would write b_prob.png and B_PROB.png"), m);
    }

    @Test void noClashNoError() {
        assertEquals(6, PredictCommand.outputNames(List.of(Path.of("a.png"), Path.of("b.jpg")), true, true).size());
    }
}
