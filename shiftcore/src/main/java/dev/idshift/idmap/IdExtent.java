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

    // equals/hashCode by hand: a record's generated ones bootstrap through invokedynamic
    // (ObjectMethods) on first use, ~30 ms of method-handle spinning in the hook's start-up.
    @Override
    public boolean equals(Object other) {
        if (!(other instanceof IdExtent)) {
            return false;
        }
        IdExtent that = (IdExtent) other;
        return inside == that.inside && outside == that.outside && count == that.count;
    }

    @Override
    public int hashCode() {
        return Long.hashCode(inside) * 961 + Long.hashCode(outside) * 31 + Long.hashCode(count);
    }

    /** shiftfs/bindfs syntax, {@code inside:outside:count}. */
    @Override
    public String toString() {
        return inside + ":" + outside + ":" + count;
    }
}
