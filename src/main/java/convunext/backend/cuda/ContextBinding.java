package convunext.backend.cuda;

/**
 * Keeps a device's CUDA context current on whichever thread calls it. The driver holds one current
 * context per OS thread, and a kernel, pointer or stream of one context is invalid in another
 * (CUDA_ERROR_INVALID_HANDLE, CUDA_ERROR_INVALID_VALUE). Creating a context makes it current on the
 * creating thread, so two devices opened on one thread (two backends, a probe, a test comparing
 * paths) take the context from each other: remembering only which thread a device last bound is
 * not enough (the H200 run of 2026-12-04 failed exactly so). This remembers, per thread, which
 * context our devices last made current there, and sets it again whenever another one was.
 *
 * <p>Shared by {@link JCudaDevice} (the driver's cuCtxSetCurrent) and {@link EmulatedDevice}, whose
 * emulated driver keeps the same per-thread state and refuses a call made while another device's
 * context is current, so the emulator tests this logic as a GPU would.
 */
final class ContextBinding {
    /** The context our devices last made current on this thread (null: none, or destroyed). */
    private static final ThreadLocal<Object> CURRENT = new ThreadLocal<>();

    /** The driver call that makes this context current on the calling thread. */
    interface SetCurrent { void run(); }

    private final Object context;
    private final SetCurrent setCurrent;

    /** Call right after the driver created {@code context}: creation made it current on this thread. */
    ContextBinding(Object context, SetCurrent setCurrent) {
        this.context = context;
        this.setCurrent = setCurrent;
        CURRENT.set(context);
    }

    /** Makes the context current on this thread unless our devices left it current here already. */
    void bind() {
        if (CURRENT.get() != context) force();
    }

    /**
     * Makes it current unconditionally: for callers about to hand the thread to a library that may
     * have changed the current context behind our back (cuBLAS, cuDNN).
     */
    void force() {
        setCurrent.run();
        CURRENT.set(context);
    }

    /** Call after the driver destroyed the context (which also un-sets it where it was current). */
    void destroyed() {
        if (CURRENT.get() == context) CURRENT.remove();
    }
}
