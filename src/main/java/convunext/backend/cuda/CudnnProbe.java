package convunext.backend.cuda;

import jcuda.jcudnn.JCudnn;
import jcuda.jcudnn.cudnnHandle;

/**
 * Whether cuDNN works on a device: load JCudnn (11.2.0 classes with the 12.6.0 natives, built
 * for cuDNN 9), read cudnnGetVersion, create and destroy a handle in the device's context. cuDNN
 * is only a baseline for the benchmarks; no model op runs through it. Never throws.
 */
public final class CudnnProbe {
    private static volatile String linkFailure;

    private CudnnProbe() {}

    /** "available as a bench baseline (version X)" or "not available: reason". */
    public static String probe(Device device) {
        if (!(device instanceof JCudaDevice))
            return "not available: the " + device.kind() + " device has no cuDNN (a GPU is needed)";
        JCudaNatives.prepare(JCudaNatives.CUDNN);   // before JCudnn loads its library
        try {
            ((JCudaDevice) device).makeCurrent("cudnnCreate");
            long v = JCudnn.cudnnGetVersion();
            cudnnHandle h = new cudnnHandle();
            check("cudnnCreate", JCudnn.cudnnCreate(h));
            check("cudnnDestroy", JCudnn.cudnnDestroy(h));
            return "available as a bench baseline (version " + version(v) + ")";
        } catch (RuntimeException e) {
            return "not available: " + JCudaDevice.shortReason(e);
        } catch (LinkageError e) {  // no libcudnn.so.9 (UnsatisfiedLinkError), or no jcudnn classes
            return "not available: " + linkReason(e);
        }
    }

    /**
     * "JCudnn cannot load (why)" for a LinkageError from any JCudnn call: the first failure names
     * the missing library, later ones only say "Could not initialize class", so the first is kept.
     */
    public static String linkReason(LinkageError e) {
        if (linkFailure == null) linkFailure = JCudaDevice.shortReason(e);
        return "JCudnn cannot load (" + linkFailure + ")";
    }

    /** cuDNN ≥ 9 encodes major*10000 + minor*100 + patch; cuDNN 8 major*1000 + minor*100 + patch. */
    public static String version(long v) {
        if (v >= 90000) return v / 10000 + "." + v % 10000 / 100 + "." + v % 100;
        return v / 1000 + "." + v % 1000 / 100 + "." + v % 100;
    }

    /**
     * Status codes are checked here rather than by JCudnn's exceptions: cuDNN 9 renumbered them,
     * so the 11.2.0 classes' names would be wrong; cudnnGetErrorString comes from the library.
     */
    public static void check(String what, int status) {
        if (status == 0) return;
        String s;
        try {
            s = JCudnn.cudnnGetErrorString(status);
        } catch (RuntimeException | LinkageError e) {
            s = "?";
        }
        throw new CudaError(what + ": status " + status + " (" + s + ")");
    }
}
