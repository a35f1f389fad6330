package convunext.backend.cuda;

/** A failed CUDA (or emulated) call, naming the call, the op or kernel, and the shapes involved. */
public class CudaError extends RuntimeException {
    public CudaError(String message) { super(message); }
    public CudaError(String message, Throwable cause) { super(message, cause); }
}
