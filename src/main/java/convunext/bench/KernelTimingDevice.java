package convunext.bench;

import convunext.backend.cuda.CudaError;
import convunext.backend.cuda.Device;
import convunext.backend.cuda.KernelArgs;
import java.util.ArrayList;
import java.util.List;

/**
 * A {@link Device} that, while recording, brackets every launch, memset and device copy with a
 * pair of the device's events (on a GPU CUDA events on the same stream, so a pair measures that
 * one call's execution on the device, not its launch overhead; on the emulator the host clock of
 * a synchronous call). The calls are kept in {@link DryRunDevice.Call}'s form, so a measured log
 * lines up with the dry run's prediction launch by launch. The events are created as needed and
 * reused by the next recording; graphs are refused (a captured step would time as one call).
 */
public final class KernelTimingDevice extends ForwardingDevice {
    /** One call and its time on the device, in microseconds. */
    public record Timed(DryRunDevice.Call call, double us) {}

    private final List<long[]> events = new ArrayList<>();
    private final List<DryRunDevice.Call> calls = new ArrayList<>();
    private boolean recording;

    public KernelTimingDevice(Device d) { super(d); }

    /** Starts timing calls (after the device has finished what is queued). */
    public void record() {
        d.synchronize();
        calls.clear();
        recording = true;
    }

    /** Waits for the device, then returns the calls since {@link #record} with their times, and stops. */
    public List<Timed> stop() {
        recording = false;
        d.synchronize();
        List<Timed> out = new ArrayList<>(calls.size());
        for (int i = 0; i < calls.size(); i++) {
            long[] e = events.get(i);
            out.add(new Timed(calls.get(i), 1e3 * d.eventElapsedMs(e[0], e[1])));
        }
        return out;
    }

    /** The event pair of the next call. */
    private long[] pair() {
        int i = calls.size();
        if (i == events.size()) {
            long a = d.eventCreate(), b;
            try {
                b = d.eventCreate();
            } catch (RuntimeException ex) {
                d.eventDestroy(a);
                throw ex;
            }
            events.add(new long[]{a, b});
        }
        return events.get(i);
    }

    /** While recording: the next call's event pair, its start recorded; else null (nothing kept). */
    private long[] begin() {
        if (!recording) return null;
        long[] e = pair();
        d.eventRecord(e[0]);
        return e;
    }

    /** Ends a call begun with {@link #begin}: its end event, and the call kept. */
    private void end(long[] e, DryRunDevice.Call c) {
        d.eventRecord(e[1]);
        calls.add(c);
    }

    @Override public void launch(String k, int[] g, int[] b, int s, KernelArgs a) {
        long[] e = begin();
        d.launch(k, g, b, s, a);
        if (e != null) end(e, new DryRunDevice.Call(k, g.clone(), b.clone(), s, a.copy(), null, 0));
    }

    @Override public void memset(long p, int v, long bytes) {
        long[] e = begin();
        d.memset(p, v, bytes);
        if (e != null) end(e, new DryRunDevice.Call(null, null, null, 0, null, "memset", bytes));
    }

    @Override public void copyDtoD(long dst, long src, long bytes) {
        long[] e = begin();
        d.copyDtoD(dst, src, bytes);
        if (e != null) end(e, new DryRunDevice.Call(null, null, null, 0, null, "copy", bytes));
    }

    @Override public long graphCapture(Runnable issue) {
        throw new CudaError("graphCapture: kernel timing runs every step eager");
    }

    @Override public void close() {
        try {
            for (long[] e : events) {
                d.eventDestroy(e[0]);
                d.eventDestroy(e[1]);
            }
            events.clear();
        } finally {
            d.close();
        }
    }
}
