package convunext.optim;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class PolyScheduleTest {
    @Test void warmupThenPoly() {
        PolySchedule s = PolySchedule.reference(10, 5);   // 10 steps/epoch, 5 epochs
        assertEquals(1e-3, s.factor(0), 1e-15);
        assertEquals(1e-3 * 0.5 + 0.5, s.factor(5), 1e-12);
        assertEquals(1.0, s.factor(10), 1e-12);
        // after warm-up: (1 - (x - 10) / 40)^0.9
        assertEquals(Math.pow(1 - 10.0 / 40, 0.9), s.factor(20), 1e-12);
        assertEquals(0.0, s.factor(50), 1e-12);
    }

    @Test void singleEpochHasNoWarmup() {
        PolySchedule s = PolySchedule.reference(4, 1);
        assertEquals(1.0, s.factor(0), 1e-12);
        assertEquals(Math.pow(0.5, 0.9), s.factor(2), 1e-12);
    }
}
