package convunext.api;

import static org.junit.jupiter.api.Assertions.*;

import convunext.backend.cuda.CudaBackend;
import convunext.backend.cuda.CudaError;
import convunext.backend.cuda.Device;
import convunext.backend.cuda.EmulatedDevice;
import convunext.backend.cuda.KernelArgs;
import convunext.cli.Main;
import convunext.data.Dataset;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The library API against {@code predict}: same masks and probability maps, bit for bit (on the
 * CPU and on the deterministic emulated device, where every probability is compared too), every
 * input form, sharing between threads, closing.
 */
class SegmenterTest {
    static final Path IMAGES = Path.of("testdata/synthetic/test/images");
    static final SegmenterOptions TILED = SegmenterOptions.defaults().withTile(64).withOverlap(16).withFlipTta(true);
    @TempDir static Path dir;
    static Path ckpt;

    static int cli(String... args) {
        PrintStream o = System.out;
        System.setOut(new PrintStream(new ByteArrayOutputStream(), true));
        try {
            return Main.execute(args);
        } finally {
            System.setOut(o);
        }
    }

    @BeforeAll static void trainTiny() {
        assertEquals(0, cli("train", "--data", "testdata/synthetic", "--out", dir.resolve("run").toString(), "--device", "cpu",
                "--epochs", "1", "--batch", "2", "--crop", "64", "--base-size", "80", "--base-c", "4", "--max-steps-per-epoch", "3",
                "--tile", "128"));
        ckpt = dir.resolve("run/last.safetensors");
    }

    static List<Path> images() { return Dataset.listImages(IMAGES); }

    @Test void masksAreTheBytesPredictWrites() throws Exception {
        try (Segmenter s = Segmenter.open(ckpt, "cpu", TILED)) {
            Path out = dir.resolve("predict-cpu");
            assertEquals(0, cli("predict", "-i", IMAGES.toString(), "-o", out.toString(), "--weights", ckpt.toString(),
                    "--device", "cpu", "--tile", "64", "--overlap", "16", "--tta", "flip", "--probs"));
            for (Path f : images()) {
                Segmentation r = s.segment(f);
                String stem = Dataset.stem(f);
                assertArrayEquals(Files.readAllBytes(out.resolve(stem + ".png")), r.toMaskPng(), f.toString());
                assertArrayEquals(Files.readAllBytes(out.resolve(stem + "_prob.png")), probPng(r), f.toString());
                Path mine = dir.resolve("mine/" + stem + ".png");
                r.writeMask(mine);
                assertArrayEquals(Files.readAllBytes(out.resolve(stem + ".png")), Files.readAllBytes(mine));
                long[] n = r.pixelsPerClass();
                assertEquals(r.width() * r.height(), n[0] + n[1]);
            }
        }
    }

    /** The two paths agree in every bit of every probability, on the CPU and on the emulated device. */
    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.ValueSource(strings = {"cpu", "emulated"})
    void bitForBitWithPredict(String device) throws Exception {
        Path f = images().get(1);
        Path out = dir.resolve("one-" + device);
        assertEquals(0, cli("predict", "-i", f.toString(), "-o", out.toString(), "--weights", ckpt.toString(),
                "--device", device, "--probs"));
        float[][] viaCli;
        try (var be = convunext.backend.all.Backends.open(device, System.out);
             var m = convunext.train.InferenceModel.open(ckpt, be, 512, 64, false, line -> {})) {
            var r = m.segment(convunext.data.ImageFiles.readImage(f), f.toString());
            int hw = r.labels().pixels();
            viaCli = new float[][] {java.util.Arrays.copyOfRange(r.probabilities(), 0, hw),
                    java.util.Arrays.copyOfRange(r.probabilities(), hw, 2 * hw)};
        }
        try (Segmenter s = Segmenter.open(ckpt, device)) {
            Segmentation r = s.segment(f);
            for (int c = 0; c < 2; c++) assertArrayEquals(viaCli[c], r.probabilities(c), 0f);
            assertArrayEquals(Files.readAllBytes(out.resolve(Dataset.stem(f) + ".png")), r.toMaskPng());
            assertArrayEquals(Files.readAllBytes(out.resolve(Dataset.stem(f) + "_prob.png")), probPng(r));
        }
    }

    @Test void theTenLineProgramWritesPredictsMask() throws Exception {
        Path f = images().get(2), mask = dir.resolve("ten/" + Dataset.stem(f) + ".png");
        Path out = dir.resolve("predict-auto");
        PrintStream o = System.out;
        System.setOut(new PrintStream(new ByteArrayOutputStream(), true));
        try {
            example.SegmentOne.main(new String[] {ckpt.toString(), f.toString(), mask.toString()});
        } finally {
            System.setOut(o);
        }
        assertEquals(0, cli("predict", "-i", f.toString(), "-o", out.toString(), "--weights", ckpt.toString()));
        assertArrayEquals(Files.readAllBytes(out.resolve(Dataset.stem(f) + ".png")), Files.readAllBytes(mask));
    }

    @Test void pathBytesAndBufferedImageGiveTheSameResult() throws Exception {
        try (Segmenter s = Segmenter.open(ckpt, "cpu", TILED)) {
            Path f = images().get(0);
            Segmentation a = s.segment(f), b = s.segment(Files.readAllBytes(f), f.toString()),
                    c = s.segment(ImageIO.read(f.toFile()));
            for (Segmentation x : List.of(b, c)) {
                assertArrayEquals(a.labels(), x.labels());
                assertArrayEquals(a.probabilities(1), x.probabilities(1), 0f);
            }
            assertEquals(f.toString(), a.source());
            assertEquals(96, a.width());
            assertEquals(96, a.height());
            assertEquals(2, a.classes());
            float[] p0 = a.probabilities(0), p1 = a.probabilities(1);
            int[] lab = a.labels();
            for (int i = 0; i < lab.length; i++) {
                assertEquals(1.0, p0[i] + p1[i], 1e-6);
                assertEquals(p1[i] > p0[i] ? 1 : 0, lab[i]);
            }
            assertEquals(lab[5 * 96 + 7], a.label(7, 5));
            // a gray image for an RGB model is replicated, as predict does
            BufferedImage gray = new BufferedImage(80, 70, BufferedImage.TYPE_BYTE_GRAY);
            Segmentation g = s.segment(gray);
            assertEquals(80, g.width());
            assertEquals(70, g.height());
            BufferedImage mask = g.toMaskImage();
            assertEquals(BufferedImage.TYPE_BYTE_GRAY, mask.getType());
            assertEquals(80, mask.getWidth());
            List<Segmentation> all = s.segmentAll(images());
            assertEquals(images().size(), all.size());
            assertArrayEquals(a.labels(), all.get(0).labels());
        }
    }

    /** Several threads share one Segmenter: every result equals the one-thread result. */
    @Test void oneSegmenterSharedByThreads() throws Exception {
        List<Path> files = images();
        try (Segmenter s = Segmenter.open(ckpt, "cpu", TILED)) {
            Map<Path, Segmentation> expected = new HashMap<>();
            for (Path f : files) expected.put(f, s.segment(f));
            ExecutorService pool = Executors.newFixedThreadPool(4);
            try {
                List<Future<Segmentation>> futures = new ArrayList<>();
                List<Path> asked = new ArrayList<>();
                for (int round = 0; round < 3; round++)
                    for (Path f : files) {
                        asked.add(f);
                        futures.add(pool.submit(() -> s.segment(f)));
                    }
                for (int i = 0; i < futures.size(); i++) {
                    Segmentation got = futures.get(i).get(), want = expected.get(asked.get(i));
                    assertEquals(want.source(), got.source());
                    assertArrayEquals(want.labels(), got.labels(), asked.get(i).toString());
                    assertArrayEquals(want.probabilities(1), got.probabilities(1), 0f);
                }
            } finally {
                pool.shutdownNow();
            }
        }
    }

    /**
     * An interrupted thread's segmentAll stops before its next file (it segmented every file of the
     * list regardless, so a Future.cancel(true) or an executor's shutdownNow went on to the end), and
     * the Segmenter goes on; a single segment call finishes its image.
     */
    @Test void anInterruptStopsSegmentAllBeforeItsNextFile() {
        Path f = images().get(0);
        try (Segmenter s = Segmenter.open(ckpt, "cpu")) {
            List<Path> interruptsAtTheSecond = new java.util.AbstractList<>() {
                @Override public Path get(int i) {
                    if (i == 1) Thread.currentThread().interrupt();   // as another thread's interrupt() while the first file runs
                    return f;
                }

                @Override public int size() { return 3; }
            };
            try {
                java.util.concurrent.CancellationException e = assertThrows(java.util.concurrent.CancellationException.class,
                        () -> s.segmentAll(interruptsAtTheSecond));
                assertTrue(e.getMessage().contains("segmentAll interrupted") && e.getMessage().contains("after 1 of 3 files"), e.getMessage());
                assertTrue(Thread.currentThread().isInterrupted(), "the interrupt status is kept");
                assertEquals(96, s.segment(f).width(), "a single call finishes its image");
                assertThrows(java.util.concurrent.CancellationException.class, () -> s.segmentAll(List.of(f)));
            } finally {
                Thread.interrupted();
            }
            assertEquals(2, s.segmentAll(List.of(f, f)).size());
        }
    }

    /** A device that counts live allocations, under the emulator. */
    static final class CountingDevice implements Device {
        final Device d;
        final Map<Long, Long> live = new java.util.concurrent.ConcurrentHashMap<>();
        volatile boolean closed;
        CountingDevice(Device d) { this.d = d; }
        public String kind() { return d.kind(); }
        public String describe() { return d.describe(); }
        /** Bytes the device may hold at once (a smaller GPU). */
        volatile long limit = Long.MAX_VALUE;
        long liveBytes() { return live.values().stream().mapToLong(Long::longValue).sum(); }
        public long malloc(long bytes) {
            if (liveBytes() + bytes > limit) throw new CudaError("CUDA_ERROR_OUT_OF_MEMORY (a capped emulated device)");
            long p = d.malloc(bytes);
            live.put(p, bytes);
            return p;
        }
        public void free(long ptr) { live.remove(ptr); d.free(ptr); }
        public void copyHtoD(long dst, float[] src, int o, int n) { d.copyHtoD(dst, src, o, n); }
        public void copyDtoH(float[] dst, int o, long src, int n) { d.copyDtoH(dst, o, src, n); }
        public void copyDtoD(long dst, long src, long bytes) { d.copyDtoD(dst, src, bytes); }
        public void memset(long ptr, int v, long bytes) { d.memset(ptr, v, bytes); }
        public boolean scribbles() { return d.scribbles(); }
        public long hostAlloc(long b) { return d.hostAlloc(b); }
        public void hostWrite(long h, long off, float[] src, int o, int n) { d.hostWrite(h, off, src, o, n); }
        public void hostFree(long h) { d.hostFree(h); }
        public void copyHostToDevice(long dst, long h, long off, long b) { d.copyHostToDevice(dst, h, off, b); }
        public java.util.Set<String> kernelNames() { return d.kernelNames(); }
        public void launch(String k, int[] g, int[] b, int sh, KernelArgs a) { d.launch(k, g, b, sh, a); }
        public void synchronize() { d.synchronize(); }
        public long[] memInfo() { return d.memInfo(); }
        public long eventCreate() { return d.eventCreate(); }
        public void eventRecord(long e) { d.eventRecord(e); }
        public void eventSynchronize(long e) { d.eventSynchronize(e); }
        public float eventElapsedMs(long s, long e) { return d.eventElapsedMs(s, e); }
        public void eventDestroy(long e) { d.eventDestroy(e); }
        public long graphCapture(Runnable issue) { return d.graphCapture(issue); }
        public void graphLaunch(long g) { d.graphLaunch(g); }
        public void graphDestroy(long g) { d.graphDestroy(g); }
        public void close() { closed = true; d.close(); }
    }

    @Test void closeFreesDeviceMemoryAndLaterCallsAreRefused() {
        CountingDevice dev = new CountingDevice(EmulatedDevice.open());
        Segmenter s = Segmenter.open(ckpt, new CudaBackend(dev), SegmenterOptions.defaults());
        s.segment(images().get(0));
        assertFalse(dev.live.isEmpty());
        s.close();
        assertTrue(dev.live.isEmpty(), "device memory left after close: " + dev.live.size() + " allocations");
        assertTrue(dev.closed);
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> s.segment(images().get(0)));
        assertTrue(e.getMessage().contains("closed"), e.getMessage());
        assertThrows(IllegalStateException.class, () -> s.segmentAll(List.of()));   // returned [] before
        s.close();   // idempotent
    }

    /**
     * A device out of memory on one image (a GPU smaller than the image at this tile needs) is that
     * image's InvalidImageException, naming it, the tile and the API's options; the activations
     * the failed forward had made are released (the pool held them for good before), and the same
     * Segmenter then gives the same bits as before it.
     */
    @Test void deviceOutOfMemoryOnAnImageIsThatImagesError() {
        CountingDevice dev = new CountingDevice(EmulatedDevice.open());
        CudaBackend be = new CudaBackend(dev);
        try (Segmenter s = Segmenter.open(ckpt, be, SegmenterOptions.defaults().withScale("native").withTile(512))) {
            float[] before = s.segment(images().get(0)).probabilities(1);
            be.resetDeviceMemoryPeak();
            long inUse = be.deviceMemoryPeak()[0];
            dev.limit = dev.liveBytes() + (4 << 20);   // the 96² image fits; a 400² one does not
            InvalidImageException e = assertThrows(InvalidImageException.class,
                    () -> s.segment(new BufferedImage(400, 400, BufferedImage.TYPE_INT_RGB)));
            assertTrue(e.getMessage().startsWith("image (400×400): device out of memory"), e.getMessage());
            assertTrue(e.getMessage().contains("SegmenterOptions.withTile") && !e.getMessage().contains("--"), e.getMessage());
            dev.limit = Long.MAX_VALUE;
            be.resetDeviceMemoryPeak();
            assertEquals(inUse, be.deviceMemoryPeak()[0], "device bytes held by tensors after the failed image");
            assertArrayEquals(before, s.segment(images().get(0)).probabilities(1));
        }
    }

    /**
     * An image too large for the heap at these options (2048² at tile 2048 in a 512 MiB child JVM:
     * the model's activations) is an InvalidImageException naming it, the tile and the scale, not an
     * OutOfMemoryError; the same Segmenter then gives the same bits as before it.
     */
    @Test void outOfMemoryOnAnImageIsThatImagesError() throws Exception {
        Path log = dir.resolve("oom.log");
        Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx512m",
                "--add-modules", "jdk.incubator.vector", "-cp", System.getProperty("java.class.path"), OomChild.class.getName(),
                ckpt.toString(), images().get(0).toString()).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        assertTrue(p.waitFor(240, java.util.concurrent.TimeUnit.SECONDS), "child still running");
        String out = Files.readString(log);
        assertEquals(0, p.exitValue(), out);
        assertTrue(out.contains("big: convunext.api.InvalidImageException: big.png (2048×2048): out of memory segmenting it at tile 2048,"
                + " scale native") && out.contains("withTile"), out);
        assertTrue(out.contains("after: same bits"), out);
    }

    /** The child JVM of the test above. */
    static final class OomChild {
        public static void main(String[] a) throws Exception {
            try (Segmenter s = Segmenter.open(Path.of(a[0]), "cpu", SegmenterOptions.defaults().withScale("native").withTile(2048))) {
                float[] before = s.segment(Path.of(a[1])).probabilities(1);
                java.io.ByteArrayOutputStream png = new java.io.ByteArrayOutputStream();
                ImageIO.write(new BufferedImage(2048, 2048, BufferedImage.TYPE_BYTE_GRAY), "png", png);
                try {
                    s.segment(png.toByteArray(), "big.png");
                    System.out.println("big: segmented");
                } catch (Throwable e) {
                    System.out.println("big: " + e);
                }
                System.out.println("after: " + (java.util.Arrays.equals(before, s.segment(Path.of(a[1])).probabilities(1)) ? "same bits" : "other bits"));
            }
        }
    }

    /** close() while other threads segment: each call returns a whole result or is refused as closed. */
    @Test void closeWhileThreadsSegment() throws Exception {
        Segmenter s = Segmenter.open(ckpt, "cpu");
        Path f = images().get(0);
        AtomicInteger done = new AtomicInteger(), refused = new AtomicInteger();
        ExecutorService pool = Executors.newFixedThreadPool(3);
        List<Future<?>> fs = new ArrayList<>();
        for (int t = 0; t < 3; t++)
            fs.add(pool.submit(() -> {
                for (int i = 0; i < 50; i++) {
                    try {
                        assertEquals(96 * 96, s.segment(f).labels().length);
                        done.incrementAndGet();
                    } catch (IllegalStateException e) {
                        assertTrue(e.getMessage().contains("closed"), e.getMessage());
                        refused.incrementAndGet();
                    }
                }
                return null;
            }));
        while (done.get() < 3) Thread.onSpinWait();
        s.close();
        for (Future<?> x : fs) x.get();
        pool.shutdown();
        assertTrue(refused.get() > 0);
        assertEquals(150, done.get() + refused.get());
    }

    @Test void badInputsAreNamed() throws Exception {
        try (Segmenter s = Segmenter.open(ckpt, "cpu")) {
            Path corrupt = dir.resolve("corrupt.png");
            byte[] good = Files.readAllBytes(images().get(0));
            Files.write(corrupt, java.util.Arrays.copyOf(good, good.length / 3));
            InvalidImageException e = assertThrows(InvalidImageException.class, () -> s.segment(corrupt));
            assertTrue(e.getMessage().contains("corrupt.png"), e.getMessage());
            java.io.ByteArrayOutputStream jpg = new java.io.ByteArrayOutputStream();
            ImageIO.write(ImageIO.read(images().get(0).toFile()), "jpg", jpg);
            byte[] half = java.util.Arrays.copyOf(jpg.toByteArray(), jpg.size() / 2);
            e = assertThrows(InvalidImageException.class, () -> s.segment(half, "half.jpg"));
            assertTrue(e.getMessage().contains("half.jpg") && e.getMessage().contains("truncated"), e.getMessage());
            assertEquals(96, s.segment(jpg.toByteArray(), "whole.jpg").width());
            e = assertThrows(InvalidImageException.class, () -> s.segment(new byte[] {1, 2, 3}, "upload-7"));
            assertTrue(e.getMessage().contains("upload-7"), e.getMessage());
            // below the model's 64×64: resized up to the checkpoint's training scale (auto) and run ...
            assertEquals(40, s.segment(new BufferedImage(40, 90, BufferedImage.TYPE_INT_RGB)).width());
            assertEquals(96, s.segment(images().get(0)).width());   // still usable
        }
        // ... but refused, naming the size and the minimum, where it would run at its own size
        try (Segmenter s = Segmenter.open(ckpt, "cpu", SegmenterOptions.defaults().withScale("native"))) {
            InvalidImageException e = assertThrows(InvalidImageException.class,
                    () -> s.segment(new BufferedImage(40, 90, BufferedImage.TYPE_INT_RGB)));
            assertTrue(e.getMessage().contains("40×90") && e.getMessage().contains("64×64"), e.getMessage());
            assertEquals(96, s.segment(images().get(0)).width());   // still usable
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Segmenter.open(dir.resolve("none.safetensors"), "cpu"));
        assertTrue(e.getMessage().contains("none.safetensors"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Segmenter.open(ckpt, "tpu"));
        assertTrue(e.getMessage().contains("tpu"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Segmenter.open(ckpt, "cpu", SegmenterOptions.defaults().withOverlap(512)));
        assertTrue(e.getMessage().contains("withOverlap"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> SegmenterOptions.defaults().withTile(32));
        assertThrows(IllegalArgumentException.class, () -> SegmenterOptions.defaults().withOverlap(-1));
        e = assertThrows(IllegalArgumentException.class,
                () -> Segmenter.open(Path.of("testdata/golden/convunext_c4_in1_k3_1x72x88.safetensors"), "cpu"));
        assertTrue(e.getMessage().contains("a verify fixture") && e.getMessage().contains("not a model's weights"), e.getMessage());
    }

    /**
     * withTile(64), the smallest, without withOverlap: overlap 16 as predict --tile 64 gives it
     * (Predictor.overlap), where the default 64 refused it at open over an overlap nobody set; an
     * overlap set is kept whatever the tile, and checked at open as before.
     */
    @Test void theSmallestTileWorksWithoutAnOverlap() throws Exception {
        SegmenterOptions o = SegmenterOptions.defaults().withTile(64).withScale("native");
        assertEquals(16, o.overlap());
        assertEquals(64, o.withTile(512).overlap());   // the default follows the tile
        assertEquals(64, SegmenterOptions.defaults().withTile(65).overlap());
        assertEquals(40, SegmenterOptions.defaults().withOverlap(40).withTile(64).overlap());
        assertEquals(16, SegmenterOptions.defaults().withOverlap(16).withTile(512).overlap());   // one set is kept
        assertNotEquals(o, o.withOverlap(16));
        try (Segmenter s = Segmenter.open(ckpt, "cpu", o); Segmenter t = Segmenter.open(ckpt, "cpu", o.withOverlap(16))) {
            Path f = images().get(0);   // 96×96: tiled
            assertArrayEquals(t.segment(f).toMaskPng(), s.segment(f).toMaskPng());
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Segmenter.open(ckpt, "cpu", o.withOverlap(64)));
        assertTrue(e.getMessage().contains("withOverlap") && e.getMessage().contains("got 64"), e.getMessage());
    }

    /**
     * Messages name SegmenterOptions' methods, not predict's flags; an image's error keeps predict's
     * wording in its cause (the Spark job, whose user typed --scale, reports that one).
     */
    @Test void messagesNameTheApisMethods() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Segmenter.open(ckpt, "cpu", SegmenterOptions.defaults().withOverlap(512)));
        assertTrue(e.getMessage().contains("SegmenterOptions.withOverlap") && e.getMessage().contains("SegmenterOptions.withTile")
                && !e.getMessage().contains("--"), e.getMessage());
        try (Segmenter s = Segmenter.open(ckpt, "cpu", SegmenterOptions.defaults().withScale("native"))) {
            InvalidImageException small = assertThrows(InvalidImageException.class,
                    () -> s.segment(new BufferedImage(40, 90, BufferedImage.TYPE_INT_RGB)));
            assertTrue(small.getMessage().contains("SegmenterOptions.withScale(\"1.6\") or more") && !small.getMessage().contains("--"),
                    small.getMessage());
            assertTrue(small.getCause().getMessage().contains("--scale 1.6 or more"), small.getCause().getMessage());
        }
        try (Segmenter s = Segmenter.open(ckpt, "cpu", SegmenterOptions.defaults().withScale("1000"))) {
            InvalidImageException big = assertThrows(InvalidImageException.class, () -> s.segment(images().get(0)));
            assertTrue(big.getMessage().contains("pass a smaller SegmenterOptions.withScale") && !big.getMessage().contains("--"),
                    big.getMessage());
        }
    }

    /** A checkpoint whose normalisation statistics have another channel count than its model is refused at open, naming it. */
    @Test void normalisationOfAnotherChannelCountIsRefusedAtOpen() {
        var c = convunext.io.SafeTensors.read(ckpt);
        Map<String, convunext.io.SafeTensors.Out> t = new java.util.LinkedHashMap<>();
        c.tensors().forEach((k, e) -> t.put(k, new convunext.io.SafeTensors.Out(e.shape(), e.data(), e.dtype())));
        Map<String, String> meta = new java.util.LinkedHashMap<>(c.metadata());
        meta.put("norm_mean", "0.5");
        meta.put("norm_std", "0.2");
        Path gray = dir.resolve("gray-stats.safetensors");
        convunext.io.SafeTensors.write(gray, t, meta);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> {
            try (Segmenter s = Segmenter.open(gray, "cpu")) {
                s.segment(images().get(0));
            }
        });
        assertFalse(e instanceof InvalidImageException, e.toString());
        assertTrue(e.getMessage().contains("gray-stats.safetensors") && e.getMessage().contains("norm_mean"), e.getMessage());
    }

    @Test void anUnavailableDeviceIsAnIllegalState() {
        org.junit.jupiter.api.Assumptions.assumeTrue(convunext.backend.cuda.JCudaDevice.probe() != null, "a GPU is present");
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> Segmenter.open(ckpt, "cuda"));
        assertTrue(e.getMessage().contains("cuda"), e.getMessage());
        assertThrows(IllegalStateException.class, () -> Segmenter.open(ckpt, "cuda:1"));
    }

    @Test void cudaDeviceNamesAreChecked() {
        assertEquals(3, convunext.backend.cuda.Devices.cudaOrdinal("cuda:3"));
        assertEquals(-1, convunext.backend.cuda.Devices.cudaOrdinal("cuda"));
        for (String bad : new String[] {"cuda:", "cuda:x", "cuda:-1", "cuda:1.5"}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Segmenter.open(ckpt, bad));
            assertTrue(e.getMessage().contains(bad) && e.getMessage().contains("cuda:N"), e.getMessage());
        }
    }

    /** predict's _prob.png from the API's probabilities. */
    static byte[] probPng(Segmentation r) {
        float[] p = new float[r.width() * r.height()];
        for (int c = 1; c < r.classes(); c++) {
            float[] pc = r.probabilities(c);
            for (int i = 0; i < p.length; i++) p[i] += pc[i];
        }
        int[] q = new int[p.length];
        for (int i = 0; i < q.length; i++) q[i] = Math.min(255, Math.round(255 * p[i]));
        return convunext.data.ImageWriters.pngBytes(convunext.data.ImageWriters.labelsImage(
                new convunext.data.LabelMap(r.height(), r.width(), q), 256, "prob"));
    }
}
