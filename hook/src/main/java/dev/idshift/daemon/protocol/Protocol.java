package dev.idshift.daemon.protocol;

import java.nio.file.Path;

/**
 * The daemon's wire protocol, version 1: one JSON object per line each way, over a unix stream
 * socket. Requests carry {@code "version":1} and an {@code "op"}:
 * <pre>
 *   {"version":1,"op":"status"}
 *   {"version":1,"op":"marks"}
 *   {"version":1,"op":"mount","source":"/srv/marked/img","uidmap":"0:100000:65536","gidmap":"0:100000:65536","readonly":false}
 *   {"version":1,"op":"shift","source":"/marked/c1/rootfs","containerUidmap":"0:1000:1000","containerGidmap":"0:1000:1000"}
 * </pre>
 * Responses: {@code {"version":1,"ok":true,...}} or {@code {"version":1,"ok":false,"error":"..."}}, a failure
 * other than a refusal with its {@code "kind"} ({@link Response.Failure}; a kernel refusal of a syscall
 * with its {@code "call"}, {@code "path"} and {@code "errno"}). A
 * response that hands over a tree ({@link Response.Shifted}) carries the detached mount's file
 * descriptor as SCM_RIGHTS ancillary data on its line; the client attaches it with move_mount.
 *
 * <p>The messages are {@link Request} and {@link Response}; {@link Codec} is the one place that
 * spells them on the wire. Both the daemon and its clients (the hook of a nested runtime,
 * {@code idshift mount}) use them.
 */
public final class Protocol {
    public static final long VERSION = 1;
    public static final int MAX_LINE = 1 << 20;
    public static final int IO_TIMEOUT_SECONDS = 10;
    public static final Path DEFAULT_SOCKET = Path.of("/run/idshift/idshift.sock");

    private Protocol() {
    }

    /** IDSHIFT_SOCKET if set, else /run/idshift/idshift.sock. */
    public static Path socketFromEnvironment() {
        String configured = System.getenv("IDSHIFT_SOCKET");
        return configured == null || configured.isEmpty() ? DEFAULT_SOCKET : Path.of(configured);
    }
}
