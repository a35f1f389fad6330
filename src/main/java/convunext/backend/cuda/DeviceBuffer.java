package convunext.backend.cuda;

/**
 * Storage of a CUDA-backend tensor: a device address and its capacity in bytes. An owning
 * buffer comes from the {@link DevicePool} and goes back there on release; a view buffer shares
 * the owner's memory and is never released (the backend ignores it, as Backend.release says).
 */
public final class DeviceBuffer {
    private final long address;
    private final long bytes;
    private final DeviceBuffer owner;   // null for an owning buffer
    private boolean released;

    DeviceBuffer(long address, long bytes) {
        this(address, bytes, null);
    }

    private DeviceBuffer(long address, long bytes, DeviceBuffer owner) {
        this.address = address;
        this.bytes = bytes;
        this.owner = owner;
    }

    public long address() { return address; }

    /** Capacity in bytes (the pool bucket size for an owning buffer). */
    public long bytes() { return bytes; }

    public boolean isView() { return owner != null; }

    /** A non-owning alias of the same memory. */
    public DeviceBuffer asView() { return new DeviceBuffer(address, bytes, owner == null ? this : owner); }

    /** The owning buffer (itself if not a view). */
    public DeviceBuffer root() { return owner == null ? this : owner; }

    boolean released() { return released; }

    void markReleased(boolean r) { released = r; }

    @Override public String toString() {
        return String.format("DeviceBuffer[0x%x, %d B%s]", address, bytes, owner != null ? ", view" : "");
    }
}
