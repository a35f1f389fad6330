package convunext.backend.cuda;

import static org.junit.jupiter.api.Assertions.*;

import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The selftest kernels (kernels/selftest.cu) through the emulated device. */
class EmulatedDeviceTest {
    static EmulatedDevice dev;

    @BeforeAll static void open() {
        dev = EmulatedDevice.open();
        dev.configure(2, 0, true);
    }

    @AfterAll static void close() {
        dev.configure(0, 0, true);
        dev.close();
    }

    static float[] random(int n, long seed) {
        Random r = new Random(seed);
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) (r.nextGaussian());
        return a;
    }

    long upload(float[] a) {
        long p = dev.malloc(4L * a.length);
        dev.copyHtoD(p, a, 0, a.length);
        return p;
    }

    float[] download(long p, int n) {
        float[] a = new float[n];
        dev.copyDtoH(a, 0, p, n);
        return a;
    }

    @Test void saxpy() {
        int n = 1003;
        float[] x = random(n, 1), y = random(n, 2);
        long px = upload(x), py = upload(y);
        dev.launch("selftest_saxpy", new int[] {(n + 255) / 256}, new int[] {256}, 0,
                new KernelArgs().ptr(py).ptr(px).f32(1.5f).i32(n));
        float[] r = download(py, n);
        for (int i = 0; i < n; i++) assertEquals(1.5f * x[i] + y[i], r[i], 0f, "i=" + i);
        dev.free(px);
        dev.free(py);
    }
}
