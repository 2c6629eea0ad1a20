package dev.idshift.backend;

import dev.idshift.sys.Fd;

/**
 * A detached, shifted mount ready to attach, and which backend made it.
 *
 * @param tree          the detached mount, owned (closing it discards the mount if never attached)
 * @param backend       the backend that made it: "kernel", "overlay" or "fuse" (each one's NAME), as logs,
 *                      {@code idshift maps} and the daemon's replies call it
 * @param hasSubmounts  false when the tree was built anew (a rebuilt overlay, a FUSE view): whoever stacks
 *                      it over a rootfs must put the runtime's submounts (/proc, /dev, binds) back on top
 * @param how           one line for logs, {@code idshift maps} and {@code doctor}: which path was taken, and why
 */
public record ShiftedTree(Fd tree, String backend, boolean hasSubmounts, String how) implements AutoCloseable {

    /** The same tree, served by a later backend because an earlier one could not: {@code why} says why. */
    public ShiftedTree after(String why) {
        return new ShiftedTree(tree, backend, hasSubmounts, how + "; " + why);
    }

    @Override
    public void close() {
        tree.close();
    }
}
