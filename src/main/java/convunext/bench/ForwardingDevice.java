package convunext.bench;

import convunext.backend.cuda.Device;
import convunext.backend.cuda.KernelArgs;
import java.util.Set;

/** A {@link Device} that passes every call to another; subclasses override what they observe. */
public abstract class ForwardingDevice implements Device {
    protected final Device d;

    protected ForwardingDevice(Device d) { this.d = d; }

    @Override public String kind() { return d.kind(); }
    @Override public String describe() { return d.describe(); }
    @Override public long malloc(long b) { return d.malloc(b); }
    @Override public void free(long p) { d.free(p); }
    @Override public void copyHtoD(long dst, float[] s, int o, int n) { d.copyHtoD(dst, s, o, n); }
    @Override public void copyDtoH(float[] dst, int o, long s, int n) { d.copyDtoH(dst, o, s, n); }
    @Override public void copyDtoD(long dst, long s, long b) { d.copyDtoD(dst, s, b); }
    @Override public void memset(long p, int v, long b) { d.memset(p, v, b); }
    @Override public boolean scribbles() { return d.scribbles(); }
    @Override public long hostAlloc(long b) { return d.hostAlloc(b); }
    @Override public void hostWrite(long h, long off, float[] s, int o, int n) { d.hostWrite(h, off, s, o, n); }
    @Override public void hostFree(long h) { d.hostFree(h); }
    @Override public void copyHostToDevice(long dst, long h, long off, long b) { d.copyHostToDevice(dst, h, off, b); }
    @Override public Set<String> kernelNames() { return d.kernelNames(); }
    @Override public void launch(String k, int[] g, int[] b, int s, KernelArgs a) { d.launch(k, g, b, s, a); }
    @Override public void synchronize() { d.synchronize(); }
    @Override public long[] memInfo() { return d.memInfo(); }
    @Override public long eventCreate() { return d.eventCreate(); }
    @Override public void eventRecord(long e) { d.eventRecord(e); }
    @Override public void eventSynchronize(long e) { d.eventSynchronize(e); }
    @Override public float eventElapsedMs(long a, long b) { return d.eventElapsedMs(a, b); }
    @Override public void eventDestroy(long e) { d.eventDestroy(e); }
    @Override public long graphCapture(Runnable issue) { return d.graphCapture(issue); }
    @Override public void graphLaunch(long g) { d.graphLaunch(g); }
    @Override public void graphDestroy(long g) { d.graphDestroy(g); }
    @Override public void close() { d.close(); }
}
