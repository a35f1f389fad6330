package convunext.api;

import convunext.backend.Backend;
import convunext.backend.all.Backends;
import convunext.backend.cuda.CudaOutOfMemory;
import convunext.data.DataException;
import convunext.data.FloatImage;
import convunext.data.ImageFiles;
import convunext.train.InferenceModel;
import convunext.train.Predictor;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Supplier;

/**
 * ConvUNeXt segmentation as a library: a checkpoint loaded on a device, segmenting one image per
 * call with the same code, and so the same bits, as {@code convunext predict}.
 *
 * <pre>{@code
 * try (Segmenter s = Segmenter.open(Path.of("best.safetensors"), "auto")) {
 *     Segmentation r = s.segment(ImageIO.read(new File("fundus.png")));
 *     ImageIO.write(r.toMaskImage(), "png", new File("fundus_mask.png"));
 * }
 * }</pre>
 *
 * <p><b>Threads.</b> A {@code Segmenter} is thread-safe and meant to be shared (one per process
 * or per GPU, as in a web service or a Spark executor). Concurrent calls decode, normalise and
 * take the arg-max on their own threads in parallel; the model itself runs one image at a time
 * (the CPU backend already uses every core, a GPU is one device), in the order the calls acquire
 * it. Results do not depend on which thread called or how many did. An interrupt
 * ({@link Thread#interrupt}) does not stop an image in progress; {@link #segmentAll} stops
 * before its next file.
 *
 * <p><b>Resources.</b> The weights, and on a GPU the device memory and context, are held until
 * {@link #close()}, which waits for the image in progress and frees them; segment calls after it
 * throw {@link IllegalStateException}.
 *
 * <p><b>Input.</b> Gray or RGB images of any size (8- or 16-bit; alpha is dropped; a gray image
 * is replicated to RGB for an RGB model) that the model runs at 64×64 or more. Pixels are
 * normalised with the statistics stored in the checkpoint by {@code train}. Each image runs at the
 * checkpoint's training scale unless the options say otherwise ({@link SegmenterOptions#withScale}),
 * so a smaller image is resized up; results are always at the image's own size.
 */
public final class Segmenter implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(Segmenter.class.getName());

    private final Backend backend;
    private final InferenceModel model;
    private final SegmenterOptions options;
    private final String description;
    private final ReentrantLock lock = new ReentrantLock();
    private volatile boolean closed;

    private Segmenter(Backend backend, InferenceModel model, SegmenterOptions options) {
        this.backend = backend;
        this.model = model;
        this.options = options;
        this.description = "ConvUNeXt " + model.config().inChannels() + "→" + model.config().numClasses() + " classes, base_c "
                + model.config().baseC() + " (" + options + ") on " + backend.describe();
    }

    /** {@link #open(Path, String, SegmenterOptions)} with {@link SegmenterOptions#defaults()}. */
    public static Segmenter open(Path weights, String device) {
        return open(weights, device, SegmenterOptions.defaults());
    }

    /**
     * Loads a checkpoint onto a device.
     *
     * @param weights a {@code .safetensors} checkpoint written by {@code convunext train}, or a
     *                PyTorch state_dict of the reference model saved as safetensors
     * @param device  {@code "auto"} (a GPU when one works, else the CPU), {@code "cpu"},
     *                {@code "cuda"} (GPU 0), {@code "cuda:N"} (GPU N) or {@code "emulated"}
     * @throws IllegalArgumentException when the file is missing or is not a usable checkpoint,
     *                                  the device name is unknown, or the options' overlap is not
     *                                  smaller than their tile
     * @throws IllegalStateException    when the requested device cannot be opened here (the
     *                                  message says why: no driver, no GPU N, out of memory)
     */
    public static Segmenter open(Path weights, String device, SegmenterOptions options) {
        Objects.requireNonNull(weights, "weights");
        Objects.requireNonNull(device, "device");
        Objects.requireNonNull(options, "options");
        try {
            Predictor.checkSettings(options.tile(), options.overlap());
            ByteArrayOutputStream said = new ByteArrayOutputStream();
            Backend be = Backends.open(device, new PrintStream(said, true, StandardCharsets.UTF_8));
            String note = said.toString(StandardCharsets.UTF_8).strip();
            if (!note.isEmpty()) LOG.log(System.Logger.Level.INFO, ApiNames.segmenter(note));
            try {
                return open(weights, be, options);
            } catch (RuntimeException e) {
                be.close();
                throw e;
            }
        } catch (RuntimeException e) {
            throw ApiNames.rename(e, ApiNames::segmenter);   // the shared checks name predict's flags
        }
    }

    /** On a backend opened by the caller; the Segmenter owns and closes it. (Tests.) */
    static Segmenter open(Path weights, Backend be, SegmenterOptions options) {
        InferenceModel m;
        try {
            // "note:" lines (no normalisation statistics, no training scale) change results: INFO.
            m = InferenceModel.open(weights, be, options.tile(), options.overlap(), options.flipTta(), options.inferenceScale(),
                    line -> LOG.log(line.startsWith("note:") ? System.Logger.Level.INFO : System.Logger.Level.DEBUG,
                            ApiNames.segmenter(line)));
        } catch (DataException e) {
            throw new IllegalArgumentException(e.getMessage(), e);
        }
        Segmenter s = new Segmenter(be, m, options);
        LOG.log(System.Logger.Level.DEBUG, s.description);
        return s;
    }

    /**
     * Segments a decoded image (any type; converted as {@code predict} converts files). It is used as
     * given: javax.imageio drops a file's EXIF orientation, which {@link #segment(Path)} and
     * {@link #segment(byte[], String)} apply.
     *
     * @throws InvalidImageException when it cannot be used (channels, size at the scale it would run
     *                               at, or too large for this JVM's heap or the device's memory at these options)
     */
    public Segmentation segment(BufferedImage image) {
        Objects.requireNonNull(image, "image");
        return run(() -> ImageFiles.toFloatImage(image, "image"), "image");
    }

    /**
     * Segments an image file (PNG, TIFF, GIF, JPEG or BMP, recognised by content), as a viewer shows
     * it: its EXIF orientation applied, so the mask is upright with the displayed image.
     *
     * @throws InvalidImageException when it cannot be read, decoded or used, or is too large for
     *                               this JVM's heap or the device's memory at these options (the message names it)
     */
    public Segmentation segment(Path file) {
        Objects.requireNonNull(file, "file");
        return run(() -> ImageFiles.readImage(file), file.toString());
    }

    /**
     * Segments an encoded image held in memory (an upload, a row of Spark's binaryFile source).
     *
     * @param name labels the result and error messages (a file name or URI)
     * @throws InvalidImageException when it cannot be decoded or used, or is too large for this
     *                               JVM's heap at these options
     */
    public Segmentation segment(byte[] encoded, String name) {
        Objects.requireNonNull(encoded, "encoded");
        Objects.requireNonNull(name, "name");
        return run(() -> ImageFiles.readImage(encoded, name), name);
    }

    /**
     * Segments files one after another (results in the same order). Stops at the first file
     * that cannot be segmented; to go on past bad files, call {@link #segment(Path)} per file.
     * To decode on several cores, call {@code segment} from several threads instead.
     *
     * @throws java.util.concurrent.CancellationException (an IllegalStateException) when the calling
     *         thread is interrupted ({@link Thread#interrupt}, a {@code Future.cancel(true)}): checked
     *         before each file, so the image in progress finishes and no further one starts; the
     *         message says how many were done, and the thread's interrupt status stays set
     */
    public List<Segmentation> segmentAll(List<Path> files) {
        Objects.requireNonNull(files, "files");
        ensureOpen();   // an empty list after close() too
        List<Segmentation> out = new ArrayList<>(files.size());
        for (Path f : files) {
            if (Thread.currentThread().isInterrupted())
                throw new java.util.concurrent.CancellationException("segmentAll interrupted (Thread.interrupt) after " + out.size()
                        + " of " + files.size() + " files; the thread stays interrupted");
            out.add(segment(f));
        }
        return out;
    }

    /** The model, its options and the device, in words. */
    public String describe() { return description; }

    public SegmenterOptions options() { return options; }

    /** Number of classes the model predicts, background included. */
    public int classes() { return model.classes(); }

    /**
     * The shared pipeline ({@link InferenceModel#segment}): decoding, normalisation and arg-max on
     * this thread, the model under the lock.
     */
    private Segmentation run(Supplier<FloatImage> decode, String name) {
        ensureOpen();
        InferenceModel.Result r;
        String size = "";
        try {
            FloatImage image = decode.get();
            size = " (" + image.width() + "×" + image.height() + ")";
            r = model.segment(image, name, this::underLock);
        } catch (DataException e) {
            // the cause keeps the message in predict's flags (the Spark job reports that one)
            throw new InvalidImageException(ApiNames.segmenter(e.getMessage()), e);
        } catch (CudaOutOfMemory e) {
            // The GPU's counterpart: the forward released what it had made (InferenceModel.forward),
            // so the device holds what it held before this image and later calls run as before.
            throw tooLarge(name + size + ": " + e.detail(), "", "", e);
        } catch (OutOfMemoryError e) {
            // This image's buffers or the model's activations at this tile: its failure, not the
            // caller's (a web service, a Spark task). The stack has unwound, the CPU pool tracks its
            // tensors weakly and the lock is released, so later calls run as before (same bits).
            throw tooLarge(name + size + ": out of memory", " (max heap " + (Runtime.getRuntime().maxMemory() >> 20) + " MiB)",
                    ", or give Java more memory (-Xmx)", e);
        }
        return new Segmentation(name, r.labels().width(), r.labels().height(), r.classes(), r.labels().labels(),
                r.probabilities());
    }

    /** An image too large for the memory at these options: what ran out, then the options to change. */
    private InvalidImageException tooLarge(String what, String memory, String moreAdvice, Throwable cause) {
        return new InvalidImageException(what + " segmenting it at tile " + options.tile() + ", scale " + options.scale() + memory
                + ": use a smaller SegmenterOptions.withTile or SegmenterOptions.withScale" + moreAdvice, cause);
    }

    private float[] underLock(Supplier<float[]> backendStep) {
        lock.lock();
        try {
            ensureOpen();
            return backendStep.get();
        } finally {
            lock.unlock();
        }
    }

    private void ensureOpen() {
        if (closed) throw new IllegalStateException("this Segmenter is closed");
    }

    /** The backend (tests check that closing frees its device memory). */
    Backend backend() { return backend; }

    /**
     * Frees the weights and the device (GPU memory and context). Waits for the image the model is
     * working on; segmenting after it throws {@link IllegalStateException} ({@link #describe},
     * {@link #options} and {@link #classes} still answer). Idempotent.
     */
    @Override public void close() {
        lock.lock();
        try {
            if (closed) return;
            closed = true;
            try {
                model.close();
            } finally {
                backend.close();
            }
        } finally {
            lock.unlock();
        }
    }
}
