package dev.idshift.daemon;

import dev.idshift.config.json.JsonObjectView;
import dev.idshift.config.json.JsonTree;
import dev.idshift.idmap.IdMap;
import dev.idshift.sys.Fd;
import dev.idshift.sys.Syscalls;
import java.io.ByteArrayOutputStream;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Asks the daemon for a shifted mount. Raw syscalls, no jnr: this runs in hooks too, where every
 * millisecond of start-up shows.
 */
public final class DaemonClient {
    private DaemonClient() {
    }

    /** The daemon refused, with its reason. */
    public static final class DaemonRefused extends RuntimeException {
        public DaemonRefused(String reason) {
            super(reason);
        }
    }

    /** A detached mount the daemon made, and which backend made it: "kernel" (idmapped) or "fuse" (a FUSE view). */
    public record Mount(Fd tree, String backend) implements AutoCloseable {
        @Override
        public void close() {
            if (tree != null) {
                tree.close();
            }
        }
    }

    /** A detached shifted mount of {@code source}, made by the daemon; attach it with move_mount. */
    public static Mount mount(Path socket, String source, IdMap uidMap, IdMap gidMap, boolean readonly) {
        Map<String, Object> request = new LinkedHashMap<>();
        request.put("version", Protocol.VERSION);
        request.put("op", "mount");
        request.put("source", source);
        request.put("uidmap", uidMap.toString());
        request.put("gidmap", gidMap.toString());
        request.put("readonly", readonly);
        Mount mount = exchange(socket, request);
        if (mount.tree() == null) {
            throw new IllegalStateException("the daemon said ok but sent no mount");
        }
        return mount;
    }

    /**
     * A container's rootfs, planned by the daemon from the container's maps as the caller sees them.
     * Null when the daemon found nothing to shift (already owned by the container's ids).
     */
    public static Fd shift(Path socket, String source, String containerUidMap, String containerGidMap,
                           String fsUidMap, String fsGidMap, boolean readonly) {
        Map<String, Object> request = new LinkedHashMap<>();
        request.put("version", Protocol.VERSION);
        request.put("op", "shift");
        request.put("source", source);
        request.put("containerUidmap", containerUidMap);
        request.put("containerGidmap", containerGidMap);
        if (fsUidMap != null) {
            request.put("fsUidmap", fsUidMap);
        }
        if (fsGidMap != null) {
            request.put("fsGidmap", fsGidMap);
        }
        request.put("readonly", readonly);
        return exchange(socket, request).tree();
    }

    private static Mount exchange(Path socket, Map<String, Object> request) {
        Syscalls sys = Syscalls.get();
        int fd;
        try {
            fd = sys.connectUnix(socket.toString());
        } catch (RuntimeException e) {
            throw new IllegalStateException("cannot reach the idshift daemon at " + socket + " (" + e.getMessage()
                    + "); start it with `idshift daemon` as root", e);
        }
        try (Fd connection = new Fd(fd)) {
            sys.setTimeouts(fd, Protocol.IO_TIMEOUT_SECONDS * 3L);
            sys.sendWithFd(fd, Protocol.line(request), -1, "daemon request");
            ByteArrayOutputStream response = new ByteArrayOutputStream();
            int mountFd = -1;
            while (true) {
                Syscalls.Received chunk = sys.receive(fd, 65536, "daemon response");
                for (int received : chunk.fds()) {
                    if (mountFd < 0) {
                        mountFd = received; // the daemon sends one mount; anything more is closed
                    } else {
                        sys.close(received);
                    }
                }
                if (chunk.bytes().length == 0) {
                    break;
                }
                response.write(chunk.bytes(), 0, chunk.bytes().length);
                if (chunk.bytes()[chunk.bytes().length - 1] == '\n') {
                    break;
                }
            }
            Fd mount = mountFd >= 0 ? new Fd(mountFd) : null;
            JsonObjectView answer = JsonTree.parseObject(response.toByteArray(), "daemon response");
            if (!answer.optBoolean("ok", false)) {
                if (mount != null) {
                    mount.close();
                }
                throw new DaemonRefused(answer.optString("error").orElse("refused without a reason"));
            }
            return new Mount(mount, answer.optString("backend").orElse("kernel"));
        }
    }
}
