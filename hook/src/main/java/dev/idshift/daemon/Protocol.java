package dev.idshift.daemon;

import dev.idshift.config.json.JsonTree;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;

/**
 * The daemon's wire protocol, version 1: one JSON object per line each way, over a unix stream
 * socket. Requests carry {@code "version":1} and an {@code "op"}:
 * <pre>
 *   {"version":1,"op":"status"}
 *   {"version":1,"op":"marks"}
 *   {"version":1,"op":"mount","source":"/srv/marked/img","uidmap":"0:100000:65536","gidmap":"0:100000:65536","readonly":false}
 * </pre>
 * Responses: {@code {"version":1,"ok":true,...}} or {@code {"version":1,"ok":false,"error":"..."}}. A
 * successful mount response carries the detached idmapped mount's file descriptor as SCM_RIGHTS
 * ancillary data on the response line; the client attaches it with move_mount.
 */
public final class Protocol {
    public static final long VERSION = 1;
    public static final int MAX_LINE = 1 << 20;
    public static final int IO_TIMEOUT_SECONDS = 10;
    public static final Path DEFAULT_SOCKET = Path.of("/run/idshift/idshift.sock");

    private Protocol() {
    }

    /** One message: the JSON object and its terminating newline. */
    static byte[] line(Map<String, Object> message) {
        byte[] json = JsonTree.write(message);
        byte[] line = Arrays.copyOf(json, json.length + 1);
        line[json.length] = '\n';
        return line;
    }

    /** IDSHIFT_SOCKET if set, else /run/idshift/idshift.sock. */
    public static Path socketFromEnvironment() {
        String configured = System.getenv("IDSHIFT_SOCKET");
        return configured == null || configured.isEmpty() ? DEFAULT_SOCKET : Path.of(configured);
    }
}
