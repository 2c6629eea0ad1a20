package dev.idshift.idmap;

/**
 * One line of a uid_map: ids [inside, inside+count) map to [outside, outside+count).
 * Values are unsigned 32-bit ids held in longs.
 */
public record IdExtent(long inside, long outside, long count) {

    public long insideEnd() {
        return inside + count;
    }

    public long outsideEnd() {
        return outside + count;
    }

    /** shiftfs/bindfs syntax, {@code inside:outside:count}. */
    @Override
    public String toString() {
        return inside + ":" + outside + ":" + count;
    }
}
