package dev.idshift.daemon;

import dev.idshift.config.json.JsonInputException;
import dev.idshift.config.json.JsonObjectView;
import dev.idshift.config.json.JsonTree;
import dev.idshift.helper.Authorizer;
import dev.idshift.helper.CallerIds;
import dev.idshift.helper.Mark;
import dev.idshift.helper.MarkStore;
import dev.idshift.helper.Refusal;
import dev.idshift.idmap.IdMap;
import dev.idshift.idmap.IdMapException;
import dev.idshift.idmap.IdMapParser;
import dev.idshift.mount.kernel.Fd;
import dev.idshift.mount.kernel.IdmappedTrees;
import dev.idshift.sys.Syscalls;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/** Answers one request line from one peer. Never throws: every failure becomes an error response. */
final class RequestHandler {
    /** A response line, and the mount fd to pass with it (null: none). */
    record Response(byte[] line, Fd fd) {
    }

    private final MarkStore marks;
    private final Path etc;
    private final UsernsCache userns;
    private final AtomicLong served = new AtomicLong();

    RequestHandler(MarkStore marks, Path etc, UsernsCache userns) {
        this.marks = marks;
        this.etc = etc;
        this.userns = userns;
    }

    Response handle(byte[] line, Syscalls.PeerCredentials peer) {
        served.incrementAndGet();
        try {
            JsonObjectView request = JsonTree.parseObject(line, "request");
            long version = request.optLong("version").orElse(-1L);
            if (version != Protocol.VERSION) {
                return error("protocol version " + version + " is not supported; this daemon speaks version " + Protocol.VERSION);
            }
            String op = request.string("op");
            switch (op) {
                case "status":
                    return status();
                case "marks":
                    return listMarks();
                case "mount":
                    return mount(request, peer);
                default:
                    return error("unknown op \"" + op + "\"; expected status, marks or mount");
            }
        } catch (JsonInputException | IdMapException | Refusal e) {
            return error(e.getMessage());
        } catch (RuntimeException e) {
            return error("internal error: " + e);
        }
    }

    private Response mount(JsonObjectView request, Syscalls.PeerCredentials peer) {
        IdMap uidMap = IdMapParser.parseColonList(request.string("uidmap"));
        IdMap gidMap = request.has("gidmap") ? IdMapParser.parseColonList(request.string("gidmap")) : uidMap;
        boolean readonly = request.optBoolean("readonly", false);
        String source = request.string("source");
        CallerIds caller = CallerIds.of(peer.pid(), peer.uid(), peer.gid(), etc);
        try (Fd resolved = Authorizer.authorize(source, uidMap, gidMap, caller, marks.current())) {
            Fd tree = IdmappedTrees.cloneIdmapped(resolved, source, userns.usernsFor(uidMap, gidMap), readonly);
            Map<String, Object> response = ok();
            response.put("source", source);
            return new Response(line(response), tree);
        }
    }

    private Response status() {
        Map<String, Object> response = ok();
        response.put("marks", (long) marks.current().size());
        response.put("served", served.get());
        return new Response(line(response), null);
    }

    private Response listMarks() {
        List<Object> list = new ArrayList<>();
        for (Mark mark : marks.current()) {
            Map<String, Object> entry = new LinkedHashMap<>();
            entry.put("path", mark.path());
            if (mark.ownerUid() >= 0) {
                entry.put("owner", mark.ownerUid());
            }
            entry.put("allowSubids", mark.allowSubids());
            list.add(entry);
        }
        Map<String, Object> response = ok();
        response.put("marks", list);
        return new Response(line(response), null);
    }

    static Response error(String message) {
        Map<String, Object> response = new LinkedHashMap<>();
        response.put("version", Protocol.VERSION);
        response.put("ok", false);
        response.put("error", message);
        return new Response(line(response), null);
    }

    private static Map<String, Object> ok() {
        Map<String, Object> response = new LinkedHashMap<>();
        response.put("version", Protocol.VERSION);
        response.put("ok", true);
        return response;
    }

    private static byte[] line(Map<String, Object> response) {
        byte[] json = JsonTree.write(response);
        byte[] line = new byte[json.length + 1];
        System.arraycopy(json, 0, line, 0, json.length);
        line[json.length] = '\n';
        return line;
    }
}
