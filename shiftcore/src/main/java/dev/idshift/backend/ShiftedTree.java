package dev.idshift.backend;

import dev.idshift.sys.Fd;

/**
 * A detached, shifted mount ready to attach.
 *
 * @param tree          the detached mount (closing it discards the mount if never attached)
 * @param hasSubmounts  false when the tree was built anew (a rebuilt overlay): whoever stacks it
 *                      over a rootfs must put the runtime's submounts (/proc, /dev, binds) back on top
 * @param how           one line for logs, {@code idshift maps} and {@code doctor}: which path was taken
 */
public record ShiftedTree(Fd tree, boolean hasSubmounts, String how) implements AutoCloseable {
    @Override
    public void close() {
        tree.close();
    }
}
