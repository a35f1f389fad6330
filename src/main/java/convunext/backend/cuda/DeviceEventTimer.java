package convunext.backend.cuda;

import convunext.backend.EventTimer;

/** {@link EventTimer} on a {@link Device}'s events: two events, created once, reused per measurement. */
final class DeviceEventTimer implements EventTimer {
    private final Device device;
    private final long start, end;
    private boolean started, closed;

    DeviceEventTimer(Device device) {
        this.device = device;
        this.start = device.eventCreate();
        long e;
        try {
            e = device.eventCreate();
        } catch (RuntimeException ex) {
            device.eventDestroy(start);
            throw ex;
        }
        this.end = e;
    }

    @Override public void start() {
        if (closed) throw new IllegalStateException("event timer is closed");
        device.eventRecord(start);
        started = true;
    }

    @Override public double stopMs() {
        if (!started) throw new IllegalStateException("stopMs without start");
        device.eventRecord(end);
        started = false;
        return device.eventElapsedMs(start, end);
    }

    @Override public String kind() {
        return "cuda".equals(device.kind()) ? "CUDA events" : device.kind() + " device events (host clock at each record; launches are synchronous)";
    }

    @Override public void close() {
        if (closed) return;
        closed = true;
        device.eventDestroy(start);
        device.eventDestroy(end);
    }
}
