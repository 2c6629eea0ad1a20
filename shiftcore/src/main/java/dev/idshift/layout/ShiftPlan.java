package dev.idshift.layout;

/** What to do for a tree: the uid and gid plans together (one mount carries both). */
public record ShiftPlan(AxisPlan uid, AxisPlan gid) {

    public boolean isNoop() {
        return uid.isNoop() && gid.isNoop();
    }

    /**
     * The container's own user namespace maps exactly on-disk -> host (the tree is stored
     * unshifted), so it can carry the idmapped mount and no helper namespace is needed.
     */
    public boolean reusesContainerUserns() {
        return uid.mountMap().equals(uid.containerMap()) && gid.mountMap().equals(gid.containerMap());
    }
}
