package convunext.backend.cpu.ref;

import static org.junit.jupiter.api.Assertions.*;

import java.util.Random;
import org.junit.jupiter.api.Test;

class RefAddTest {

    /** add's backward is the identity for both inputs: d Σ r⊙(a+b) / da = r. */
    @Test void addGradients() {
        Random rnd = new Random(51);
        D a = D.uniform(rnd, -1, 1, 2, 3, 9, 11), b = D.uniform(rnd, -1, 1, 2, 3, 9, 11);
        D y = RefAdd.add(a, b);
        for (int i = 0; i < y.data.length; i++) assertEquals(a.data[i] + b.data[i], y.data[i], 0);
        D r = GradCheck.weights(rnd, y);
        GradCheck.check("add", new String[] {"a", "b"}, new D[] {a, b}, in -> RefAdd.add(in[0], in[1]), r,
                new D[] {r, r});
    }

    @Test void addInPlace() {
        D d = new D(new double[] {1, 2, 3}, 3);
        RefAdd.addInPlace(d, new D(new double[] {0.5, -2, 4}, 1, 3));
        assertArrayEquals(new double[] {1.5, 0, 7}, d.data, 0);
    }
}
