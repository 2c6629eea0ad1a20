package dev.idshift.idmap;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * An id mapping as the kernel knows it (a user namespace's uid_map or gid_map): ordered,
 * non-overlapping extents from "inside" ids to "outside" ids. Immutable; every instance satisfies
 * the kernel's own rules (see {@link #of}), so writing it to /proc/PID/uid_map cannot fail on shape.
 */
public final class IdMap {
    /** The kernel allows at most this many extents per map (UID_GID_MAP_MAX_EXTENTS). */
    public static final int MAX_EXTENTS = 340;
    /**
     * (u32)-1, 4294967295: never a valid id, so the highest mappable id is one below it; chown and
     * fchownat take it as "leave this id as it is".
     */
    public static final long INVALID_ID = 0xFFFF_FFFFL;
    /** What an unmapped id shows as (/proc/sys/kernel/overflowuid). */
    public static final long OVERFLOW_ID = 65534;

    public static final IdMap EMPTY = new IdMap(List.of());
    /** Every valid id to itself. */
    public static final IdMap IDENTITY = new IdMap(List.of(new IdExtent(0, 0, INVALID_ID)));

    private static final Comparator<IdExtent> BY_INSIDE = new Comparator<IdExtent>() {
        @Override
        public int compare(IdExtent a, IdExtent b) {
            return Long.compare(a.inside(), b.inside());
        }
    };

    private final List<IdExtent> extents;

    private IdMap(List<IdExtent> extents) {
        this.extents = extents;
    }

    /**
     * Validates exactly as the kernel's map_write() does: count at least 1; neither start is
     * 4294967295; no extent wraps past 32 bits (so id 4294967295 is never mapped); no two extents
     * overlap on the inside or on the outside; at most {@value #MAX_EXTENTS} extents.
     */
    public static IdMap of(List<IdExtent> extents) {
        if (extents.size() > MAX_EXTENTS) {
            throw new IdMapException("too many extents: " + extents.size() + " (the kernel allows at most " + MAX_EXTENTS + ")");
        }
        for (int i = 0; i < extents.size(); i++) {
            IdExtent extent = extents.get(i);
            checkExtent(extent);
            for (int j = 0; j < i; j++) {
                IdExtent earlier = extents.get(j);
                if (overlaps(earlier.inside(), earlier.count(), extent.inside(), extent.count())) {
                    throw new IdMapException("extents " + earlier + " and " + extent + " overlap on the inside (ids "
                            + Math.max(earlier.inside(), extent.inside()) + "-"
                            + (Math.min(earlier.insideEnd(), extent.insideEnd()) - 1) + ")");
                }
                if (overlaps(earlier.outside(), earlier.count(), extent.outside(), extent.count())) {
                    throw new IdMapException("extents " + earlier + " and " + extent + " overlap on the outside (ids "
                            + Math.max(earlier.outside(), extent.outside()) + "-"
                            + (Math.min(earlier.outsideEnd(), extent.outsideEnd()) - 1) + ")");
                }
            }
        }
        return new IdMap(List.copyOf(extents));
    }

    public static IdMap of(IdExtent... extents) {
        return of(List.of(extents));
    }

    private static void checkExtent(IdExtent extent) {
        if (extent.count() < 1) {
            throw new IdMapException("extent " + extent + ": count must be at least 1");
        }
        if (extent.inside() < 0 || extent.outside() < 0 || extent.inside() >= INVALID_ID || extent.outside() >= INVALID_ID) {
            throw new IdMapException("extent " + extent + ": ids must be from 0 to 4294967294");
        }
        if (extent.insideEnd() > INVALID_ID || extent.outsideEnd() > INVALID_ID) {
            throw new IdMapException("extent " + extent + ": runs past id 4294967294 (ids are 32-bit and 4294967295 is never mapped)");
        }
    }

    private static boolean overlaps(long startA, long countA, long startB, long countB) {
        return startA < startB + countB && startB < startA + countA;
    }

    /** The single extent {@code 0 -> base} for {@code count} ids. */
    public static IdMap shift(long base, long count) {
        return of(new IdExtent(0, base, count));
    }

    public List<IdExtent> extents() {
        return extents;
    }

    public boolean isEmpty() {
        return extents.isEmpty();
    }

    /** The outside id of {@code inside}, or -1 when it is not mapped. */
    public long toOutside(long inside) {
        for (IdExtent extent : extents) {
            if (inside >= extent.inside() && inside < extent.insideEnd()) {
                return extent.outside() + (inside - extent.inside());
            }
        }
        return -1;
    }

    /** The inside id of {@code outside}, or -1 when no inside id maps to it. */
    public long toInside(long outside) {
        for (IdExtent extent : extents) {
            if (outside >= extent.outside() && outside < extent.outsideEnd()) {
                return extent.inside() + (outside - extent.outside());
            }
        }
        return -1;
    }

    /** As the kernel shows an id: mapped, or the overflow id 65534. */
    public long toOutsideOrOverflow(long inside) {
        long outside = toOutside(inside);
        return outside < 0 ? OVERFLOW_ID : outside;
    }

    public IdMap invert() {
        List<IdExtent> inverted = new ArrayList<>(extents.size());
        for (IdExtent extent : extents) {
            inverted.add(new IdExtent(extent.outside(), extent.inside(), extent.count()));
        }
        return of(sortedAndMerged(inverted));
    }

    /**
     * This map followed by {@code next}: {@code x -> next(this(x))}, defined where both are.
     * Extents are split at every boundary of either map, then contiguous pieces are merged.
     */
    public IdMap andThen(IdMap next) {
        List<IdExtent> composed = new ArrayList<>();
        for (IdExtent first : extents) {
            for (IdExtent second : next.extents) {
                long low = Math.max(first.outside(), second.inside());
                long high = Math.min(first.outsideEnd(), second.insideEnd());
                if (low < high) {
                    composed.add(new IdExtent(first.inside() + (low - first.outside()),
                            second.outside() + (low - second.inside()), high - low));
                }
            }
        }
        return of(sortedAndMerged(composed));
    }

    /** The identity on the inside ranges of {@code domain}. */
    public static IdMap identityOver(IdMap domain) {
        List<IdExtent> ranges = new ArrayList<>(domain.extents.size());
        for (IdExtent extent : domain.extents) {
            ranges.add(new IdExtent(extent.inside(), extent.inside(), extent.count()));
        }
        return of(sortedAndMerged(ranges));
    }

    /** Maps every id it maps to itself. */
    public boolean isIdentity() {
        for (IdExtent extent : extents) {
            if (extent.inside() != extent.outside()) {
                return false;
            }
        }
        return true;
    }

    public long idCount() {
        long total = 0;
        for (IdExtent extent : extents) {
            total += extent.count();
        }
        return total;
    }

    private static List<IdExtent> sortedAndMerged(List<IdExtent> unsorted) {
        List<IdExtent> sorted = new ArrayList<>(unsorted);
        sorted.sort(BY_INSIDE);
        List<IdExtent> merged = new ArrayList<>(sorted.size());
        for (IdExtent extent : sorted) {
            if (!merged.isEmpty()) {
                IdExtent last = merged.get(merged.size() - 1);
                if (last.insideEnd() == extent.inside() && last.outsideEnd() == extent.outside()) {
                    merged.set(merged.size() - 1, new IdExtent(last.inside(), last.outside(), last.count() + extent.count()));
                    continue;
                }
            }
            merged.add(extent);
        }
        return merged;
    }

    /** The text for /proc/PID/uid_map: one "inside outside count" line per extent. */
    public String toProcFormat() {
        StringBuilder text = new StringBuilder();
        for (IdExtent extent : extents) {
            text.append(extent.inside()).append(' ').append(extent.outside()).append(' ').append(extent.count()).append('\n');
        }
        return text.toString();
    }

    /** shiftfs/bindfs syntax: {@code 0:100000:65536,65536:0:1}. */
    @Override
    public String toString() {
        if (extents.isEmpty()) {
            return "(empty)";
        }
        StringBuilder text = new StringBuilder();
        for (IdExtent extent : extents) {
            if (text.length() > 0) {
                text.append(',');
            }
            text.append(extent);
        }
        return text.toString();
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof IdMap && ((IdMap) other).extents.equals(extents);
    }

    @Override
    public int hashCode() {
        return extents.hashCode();
    }
}
