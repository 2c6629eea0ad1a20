package dev.idshift.daemon.protocol;

import dev.idshift.config.json.JsonInputException;
import dev.idshift.config.json.JsonObjectView;
import dev.idshift.config.json.JsonTree;
import dev.idshift.failure.DaemonProtocolException;
import dev.idshift.failure.FailureKind;
import dev.idshift.idmap.IdMap;
import dev.idshift.idmap.IdMapException;
import dev.idshift.idmap.IdMapParser;
import dev.idshift.sys.Fd;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The one place that spells {@link Request}s and {@link Response}s on the wire: every key and
 * every operation's name is written here once, and both the daemon and its clients go through it.
 *
 * <p>Decoding names the field at fault in one line ({@code request: $.uidmap: ...}). A request with
 * a field its operation does not have is refused rather than half-understood: a client asking for
 * something this daemon does not know of must hear so. A response may carry fields this client does
 * not know: the daemon may be a newer idshift than the client (a nested runtime's hook is the
 * container's own idshift), and a field added to an answer does not change what the known ones mean.
 *
 * <p>Runs in hooks of nested runtimes, where start-up counts: no lambdas, no regex.
 */
public final class Codec {
    private static final String REQUEST = "request";
    private static final String RESPONSE = "daemon response";

    private static final String VERSION = "version";
    private static final String OP = "op";
    private static final String OK = "ok";
    private static final String ERROR = "error";
    private static final String KIND = "kind";
    private static final String CALL = "call";
    private static final String ERRNO = "errno";
    private static final String SOURCE = "source";
    private static final String UIDMAP = "uidmap";
    private static final String GIDMAP = "gidmap";
    private static final String CONTAINER_UIDMAP = "containerUidmap";
    private static final String CONTAINER_GIDMAP = "containerGidmap";
    private static final String FS_UIDMAP = "fsUidmap";
    private static final String FS_GIDMAP = "fsGidmap";
    private static final String READONLY = "readonly";
    private static final String BACKEND = "backend";
    private static final String REASON = "reason";
    private static final String NOOP = "noop";
    private static final String MARKS = "marks";
    private static final String SERVED = "served";
    private static final String PATH = "path";
    private static final String OWNER = "owner";
    private static final String ALLOW_SUBIDS = "allowSubids";

    private static final String OP_STATUS = "status";
    private static final String OP_MARKS = "marks";
    private static final String OP_MOUNT = "mount";
    private static final String OP_SHIFT = "shift";

    private Codec() {
    }

    /** The request's line, newline included. */
    public static byte[] encode(Request request) {
        Map<String, Object> json = new LinkedHashMap<>();
        json.put(VERSION, Protocol.VERSION);
        if (request instanceof Request.Status) {
            json.put(OP, OP_STATUS);
        } else if (request instanceof Request.Marks) {
            json.put(OP, OP_MARKS);
        } else if (request instanceof Request.Mount) {
            Request.Mount mount = (Request.Mount) request;
            json.put(OP, OP_MOUNT);
            json.put(SOURCE, mount.source());
            json.put(UIDMAP, mount.uidMap().toString());
            json.put(GIDMAP, mount.gidMap().toString());
            json.put(READONLY, mount.readonly());
        } else {
            Request.Shift shift = (Request.Shift) request;
            json.put(OP, OP_SHIFT);
            json.put(SOURCE, shift.source());
            json.put(CONTAINER_UIDMAP, shift.containerUidMap().toString());
            json.put(CONTAINER_GIDMAP, shift.containerGidMap().toString());
            if (shift.fsUidMap().isPresent()) {
                json.put(FS_UIDMAP, shift.fsUidMap().get().toString());
            }
            if (shift.fsGidMap().isPresent()) {
                json.put(FS_GIDMAP, shift.fsGidMap().get().toString());
            }
            json.put(READONLY, shift.readonly());
        }
        return line(json);
    }

    /**
     * A request line (without its newline), checked field by field.
     *
     * @throws JsonInputException naming the field: malformed, wrong version, unknown op or field, ill-typed value
     */
    public static Request decodeRequest(byte[] line) {
        JsonObjectView json = JsonTree.parseObject(line, REQUEST);
        Optional<Long> version = json.optLong(VERSION);
        if (version.isEmpty() || version.get() != Protocol.VERSION) {
            throw json.error(VERSION, (version.isEmpty() ? "required integer is missing" : "protocol version " + version.get()
                    + " is not supported") + "; this daemon speaks version " + Protocol.VERSION);
        }
        String op = json.string(OP);
        switch (op) {
            case OP_STATUS:
                onlyFields(json, op);
                return new Request.Status();
            case OP_MARKS:
                onlyFields(json, op);
                return new Request.Marks();
            case OP_MOUNT: {
                onlyFields(json, op, SOURCE, UIDMAP, GIDMAP, READONLY);
                IdMap uidMap = idMap(json, UIDMAP);
                IdMap gidMap = json.has(GIDMAP) ? idMap(json, GIDMAP) : uidMap;
                return new Request.Mount(path(json, SOURCE), uidMap, gidMap, json.optBoolean(READONLY, false));
            }
            case OP_SHIFT:
                onlyFields(json, op, SOURCE, CONTAINER_UIDMAP, CONTAINER_GIDMAP, FS_UIDMAP, FS_GIDMAP, READONLY);
                return new Request.Shift(path(json, SOURCE), idMap(json, CONTAINER_UIDMAP), idMap(json, CONTAINER_GIDMAP),
                        optIdMap(json, FS_UIDMAP), optIdMap(json, FS_GIDMAP), json.optBoolean(READONLY, false));
            default:
                throw json.error(OP, "unknown op \"" + op + "\"; expected " + OP_STATUS + ", " + OP_MARKS + ", " + OP_MOUNT
                        + " or " + OP_SHIFT);
        }
    }

    /** The response's line, newline included; a {@link Response.Shifted}'s fd goes with it, apart. */
    public static byte[] encode(Response response) {
        Map<String, Object> json = new LinkedHashMap<>();
        json.put(VERSION, Protocol.VERSION);
        json.put(OK, !(response instanceof Response.Failure));
        if (response instanceof Response.Failure) {
            Response.Failure failure = (Response.Failure) response;
            if (failure.kind() != FailureKind.REFUSED) {
                json.put(KIND, word(failure.kind())); // a refusal is said as version 1 said every failure: without a kind
            }
            json.put(ERROR, failure.message());
            if (failure.refusedCall() != null) {
                json.put(CALL, failure.refusedCall().call());
                json.put(PATH, failure.refusedCall().path());
                json.put(ERRNO, (long) failure.refusedCall().errno());
            }
        } else if (response instanceof Response.Status) {
            Response.Status status = (Response.Status) response;
            json.put(MARKS, status.usableMarks());
            json.put(SERVED, status.served());
        } else if (response instanceof Response.Marks) {
            List<Object> marks = new ArrayList<>();
            for (Response.MarkEntry mark : ((Response.Marks) response).marks()) {
                Map<String, Object> entry = new LinkedHashMap<>();
                entry.put(PATH, mark.path());
                if (mark.owner() >= 0) {
                    entry.put(OWNER, mark.owner());
                }
                entry.put(ALLOW_SUBIDS, mark.allowSubids());
                marks.add(entry);
            }
            json.put(MARKS, marks);
        } else if (response instanceof Response.Shifted) {
            Response.Shifted shifted = (Response.Shifted) response;
            json.put(SOURCE, shifted.source());
            json.put(BACKEND, shifted.backend().word());
            if (shifted.reason() != null) {
                json.put(REASON, shifted.reason());
            }
        } else {
            Response.Unchanged unchanged = (Response.Unchanged) response;
            json.put(SOURCE, unchanged.source());
            json.put(REASON, unchanged.reason());
            json.put(NOOP, true);
        }
        return line(json);
    }

    /**
     * The answer to {@code asked}: its line (newline or not) and the fd that came with it (null: none),
     * which is this call's to keep in the response or close.
     *
     * @throws JsonInputException naming the field, when the answer is not one to {@code asked}
     * @throws DaemonProtocolException when a tree was announced and no fd came with it
     */
    public static Response decodeResponse(Request asked, byte[] line, Fd passed) {
        try {
            JsonObjectView json = JsonTree.parseObject(withoutNewline(line), RESPONSE);
            if (!json.optBoolean(OK, false)) {
                return failure(json);
            }
            if (asked instanceof Request.Status) {
                return new Response.Status(requiredLong(json, MARKS), requiredLong(json, SERVED));
            }
            if (asked instanceof Request.Marks) {
                List<Response.MarkEntry> marks = new ArrayList<>();
                for (JsonObjectView mark : json.objectArray(MARKS)) {
                    marks.add(new Response.MarkEntry(mark.string(PATH), mark.optLong(OWNER).orElse(-1L),
                            mark.optBoolean(ALLOW_SUBIDS, false)));
                }
                return new Response.Marks(marks);
            }
            String source = json.string(SOURCE);
            if (asked instanceof Request.Shift && json.optBoolean(NOOP, false)) {
                return new Response.Unchanged(source, json.optString(REASON).orElse(null));
            }
            Response.Backend backend = backend(json);
            if (passed == null) {
                throw new DaemonProtocolException("the daemon said ok but sent no mount (for " + source + ")");
            }
            Response.Shifted shifted = new Response.Shifted(source, backend, json.optString(REASON).orElse(null), passed);
            passed = null; // the response's now
            return shifted;
        } finally {
            if (passed != null) {
                passed.close();
            }
        }
    }

    /** A path field: a string no file can be named by if it holds a NUL byte (it would fail deep inside as an internal error). */
    private static String path(JsonObjectView json, String key) {
        String path = json.string(key);
        if (path.indexOf('\0') >= 0) {
            throw json.error(key, "a path cannot contain a NUL byte");
        }
        return path;
    }

    /**
     * A failed answer: its kind (none: a refusal, as from a daemon older than kinds; one this client
     * does not know, from a newer daemon: a refusal too), its message, and a refused syscall's details.
     */
    private static Response.Failure failure(JsonObjectView json) {
        String message = json.optString(ERROR).orElse("refused without a reason");
        String said = json.optString(KIND).orElse(null);
        FailureKind kind = FailureKind.REFUSED;
        for (FailureKind each : FailureKind.values()) {
            if (word(each).equals(said)) {
                kind = each;
            }
        }
        Response.RefusedCall call = null;
        if (kind == FailureKind.KERNEL_REFUSED && json.has(CALL) && json.has(ERRNO)) {
            call = new Response.RefusedCall(json.string(CALL), json.optString(PATH).orElse(""), (int) requiredLong(json, ERRNO));
        }
        return new Response.Failure(kind, message, call);
    }

    /** How the wire spells each kind of failure: the protocol's words, not the Java names, so renaming a kind changes no wire. */
    static String word(FailureKind kind) {
        return switch (kind) {
            case BAD_INPUT -> "bad-input";
            case REFUSED -> "refused";
            case KERNEL_REFUSED -> "kernel-refused";
            case UNSUPPORTED -> "unsupported";
            case DAEMON_PROTOCOL -> "protocol";
            case INTERNAL -> "internal";
        };
    }

    /** "backend": one of ours; left out by daemons that only ever made kernel mounts. */
    private static Response.Backend backend(JsonObjectView json) {
        String word = json.optString(BACKEND).orElse(Response.Backend.KERNEL.word());
        for (Response.Backend backend : Response.Backend.values()) {
            if (backend.word().equals(word)) {
                return backend;
            }
        }
        throw json.error(BACKEND, "unknown backend \"" + word + "\"; expected kernel, fuse or overlay");
    }

    /** Refuses any field but version, op and {@code allowed}. */
    private static void onlyFields(JsonObjectView json, String op, String... allowed) {
        for (String key : json.members().keySet()) {
            if (key.equals(VERSION) || key.equals(OP) || Arrays.asList(allowed).contains(key)) {
                continue;
            }
            throw json.error(key, "unknown field for op \"" + op + "\"; "
                    + (allowed.length == 0 ? "it takes none" : "expected " + String.join(", ", allowed)));
        }
    }

    private static IdMap idMap(JsonObjectView json, String key) {
        String text = json.string(key);
        try {
            return IdMapParser.parseColonList(text);
        } catch (IdMapException e) {
            JsonInputException named = json.error(key, e.getMessage());
            named.initCause(e);
            throw named;
        }
    }

    private static Optional<IdMap> optIdMap(JsonObjectView json, String key) {
        return json.has(key) ? Optional.of(idMap(json, key)) : Optional.empty();
    }

    private static long requiredLong(JsonObjectView json, String key) {
        Optional<Long> value = json.optLong(key);
        if (value.isEmpty()) {
            throw json.error(key, "required integer is missing");
        }
        return value.get();
    }

    private static byte[] withoutNewline(byte[] line) {
        return line.length > 0 && line[line.length - 1] == '\n' ? Arrays.copyOf(line, line.length - 1) : line;
    }

    private static byte[] line(Map<String, Object> json) {
        byte[] text = JsonTree.write(json);
        byte[] line = Arrays.copyOf(text, text.length + 1);
        line[text.length] = '\n';
        return line;
    }
}
