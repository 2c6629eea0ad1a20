package dev.idshift.daemon.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.idshift.config.json.JsonInputException;
import dev.idshift.failure.DaemonProtocolException;
import dev.idshift.idmap.IdMap;
import dev.idshift.idmap.IdMapParser;
import dev.idshift.sys.Fd;
import dev.idshift.sys.Linux;
import dev.idshift.sys.files.FileSyscalls;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * Every message through {@link Codec} and back, the wire spelling clients and tests already rely
 * on, and bad input: each refusal names its field in one line.
 */
class CodecTest {
    private static final IdMap UIDS = IdMapParser.parseColonList("0:100000:65536");
    private static final IdMap GIDS = IdMapParser.parseColonList("0:200000:1000,1000:300000:1");

    private static String text(byte[] line) {
        return new String(line, StandardCharsets.UTF_8);
    }

    private static byte[] bytes(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }

    private static Request roundTrip(Request request) {
        byte[] line = Codec.encode(request);
        assertEquals('\n', line[line.length - 1], "a line is newline-terminated");
        return Codec.decodeRequest(java.util.Arrays.copyOf(line, line.length - 1));
    }

    /** An fd of our own, to stand in for a mount the daemon passes. */
    private static Fd anyFd() {
        return new Fd(FileSyscalls.get().open("/", Linux.O_RDONLY | Linux.O_DIRECTORY));
    }

    private static String refusal(String line) {
        return assertThrows(JsonInputException.class, () -> Codec.decodeRequest(bytes(line))).getMessage();
    }

    // ---- requests: round trips ----

    @Test
    void everyRequestComesBackAsItWent() {
        List<Request> requests = List.of(
                new Request.Status(),
                new Request.Marks(),
                new Request.Mount("/srv/marked/img", UIDS, GIDS, false),
                new Request.Mount("/srv/marked/img", UIDS, UIDS, true),
                new Request.Shift("/marked/c1/rootfs", UIDS, GIDS, Optional.empty(), Optional.empty(), false),
                new Request.Shift("/marked/c1/rootfs", UIDS, GIDS, Optional.of(GIDS), Optional.of(UIDS), true));
        for (Request request : requests) {
            assertEquals(request, roundTrip(request));
        }
    }

    @Test
    void requestsKeepTheirWireSpelling() {
        assertEquals("{\"version\":1,\"op\":\"status\"}\n", text(Codec.encode(new Request.Status())));
        assertEquals("{\"version\":1,\"op\":\"marks\"}\n", text(Codec.encode(new Request.Marks())));
        assertEquals("{\"version\":1,\"op\":\"mount\",\"source\":\"/srv/m/img\",\"uidmap\":\"0:100000:65536\","
                        + "\"gidmap\":\"0:100000:65536\",\"readonly\":false}\n",
                text(Codec.encode(new Request.Mount("/srv/m/img", UIDS, UIDS, false))));
        assertEquals("{\"version\":1,\"op\":\"shift\",\"source\":\"/r\",\"containerUidmap\":\"0:100000:65536\","
                        + "\"containerGidmap\":\"0:100000:65536\",\"fsUidmap\":\"0:100000:65536\",\"readonly\":true}\n",
                text(Codec.encode(new Request.Shift("/r", UIDS, UIDS, Optional.of(UIDS), Optional.empty(), true))));
    }

    @Test
    void whatOlderClientsLeaveOutHasItsDefault() {
        // bench/DaemonLoad and the integration tests send no gidmap and no readonly.
        assertEquals(new Request.Mount("/img", UIDS, UIDS, false),
                Codec.decodeRequest(bytes("{\"version\":1,\"op\":\"mount\",\"source\":\"/img\",\"uidmap\":\"0:100000:65536\"}")));
        assertEquals(new Request.Shift("/r", UIDS, GIDS, Optional.empty(), Optional.empty(), false),
                Codec.decodeRequest(bytes("{\"version\":1,\"op\":\"shift\",\"source\":\"/r\",\"containerUidmap\":\"0:100000:65536\","
                        + "\"containerGidmap\":\"0:200000:1000,1000:300000:1\",\"fsUidmap\":null}")));
    }

    // ---- requests: bad input, for every operation ----

    @Test
    void aLineThatIsNotARequestIsRefusedAsSuch() {
        assertTrue(refusal("this is not json").contains("malformed JSON"));
        assertEquals("request: $: expected a JSON object at the top level, got an array", refusal("[1]"));
        assertEquals("request: $.version: protocol version 2 is not supported; this daemon speaks version 1",
                refusal("{\"version\":2,\"op\":\"status\"}"));
        assertEquals("request: $.version: required integer is missing; this daemon speaks version 1", refusal("{\"op\":\"status\"}"));
        assertEquals("request: $.version: expected an integer, got \"1\"", refusal("{\"version\":\"1\",\"op\":\"status\"}"));
        assertEquals("request: $.op: required string is missing", refusal("{\"version\":1}"));
        assertEquals("request: $.op: unknown op \"format-disk\"; expected status, marks, mount or shift",
                refusal("{\"version\":1,\"op\":\"format-disk\"}"));
    }

    @Test
    void statusAndMarksTakeNoFields() {
        assertEquals("request: $.source: unknown field for op \"status\"; it takes none",
                refusal("{\"version\":1,\"op\":\"status\",\"source\":\"/\"}"));
        assertEquals("request: $.all: unknown field for op \"marks\"; it takes none",
                refusal("{\"version\":1,\"op\":\"marks\",\"all\":true}"));
    }

    @Test
    void aBadMountRequestNamesItsField() {
        String mount = "{\"version\":1,\"op\":\"mount\",";
        assertEquals("request: $.source: required string is missing", refusal(mount + "\"uidmap\":\"0:100000:1\"}"));
        assertEquals("request: $.uidmap: required string is missing", refusal(mount + "\"source\":\"/img\"}"));
        assertEquals("request: $.source: expected a string, got 7", refusal(mount + "\"source\":7,\"uidmap\":\"0:1:1\"}"));
        // A NUL in a path was "internal error: java.nio.file.InvalidPathException: ..." from deep inside the daemon.
        assertEquals("request: $.source: a path cannot contain a NUL byte", refusal(mount + "\"source\":\"/img\\u0000x\",\"uidmap\":\"0:1:1\"}"));
        assertEquals("request: $.source: a path cannot contain a NUL byte",
                refusal("{\"version\":1,\"op\":\"shift\",\"source\":\"/img\\u0000\",\"containerUidmap\":\"0:1:1\"}"));
        assertEquals("request: $.readonly: expected true or false, got \"yes\"",
                refusal(mount + "\"source\":\"/img\",\"uidmap\":\"0:1:1\",\"readonly\":\"yes\"}"));
        assertEquals("request: $.gidmap: \"x\" in \"x\" is not an extent; expected INSIDE:OUTSIDE:COUNT, e.g. 0:100000:65536",
                refusal(mount + "\"source\":\"/img\",\"uidmap\":\"0:1:1\",\"gidmap\":\"x\"}"));
        String overlap = refusal(mount + "\"source\":\"/img\",\"uidmap\":\"0:100000:10,5:200000:10\"}");
        assertTrue(overlap.startsWith("request: $.uidmap: ") && overlap.contains("overlap"), overlap);
        assertEquals("request: $.nosuid: unknown field for op \"mount\"; expected source, uidmap, gidmap, readonly",
                refusal(mount + "\"source\":\"/img\",\"uidmap\":\"0:1:1\",\"nosuid\":false}"));
        assertEquals("request: $.containerUidmap: unknown field for op \"mount\"; expected source, uidmap, gidmap, readonly",
                refusal(mount + "\"source\":\"/img\",\"containerUidmap\":\"0:1:1\"}"));
    }

    @Test
    void aBadShiftRequestNamesItsField() {
        String shift = "{\"version\":1,\"op\":\"shift\",\"source\":\"/r\",";
        assertEquals("request: $.containerUidmap: required string is missing", refusal(shift + "\"containerGidmap\":\"0:1:1\"}"));
        assertEquals("request: $.containerGidmap: required string is missing", refusal(shift + "\"containerUidmap\":\"0:1:1\"}"));
        String maps = "\"containerUidmap\":\"0:1:1\",\"containerGidmap\":\"0:1:1\"";
        assertEquals("request: $.fsUidmap: \"0:1\" in \"0:1\" is not an extent; expected INSIDE:OUTSIDE:COUNT, e.g. 0:100000:65536",
                refusal(shift + maps + ",\"fsUidmap\":\"0:1\"}"));
        assertEquals("request: $.fsGidmap: expected a string, got an array", refusal(shift + maps + ",\"fsGidmap\":[]}"));
        assertEquals("request: $.readonly: expected true or false, got 1", refusal(shift + maps + ",\"readonly\":1}"));
        assertEquals("request: $.uidmap: unknown field for op \"shift\"; expected source, containerUidmap, containerGidmap,"
                + " fsUidmap, fsGidmap, readonly", refusal(shift + maps + ",\"uidmap\":\"0:1:1\"}"));
    }

    @Test
    void aBadMapKeepsItsCause() {
        JsonInputException refused = assertThrows(JsonInputException.class, () -> Codec.decodeRequest(
                bytes("{\"version\":1,\"op\":\"mount\",\"source\":\"/img\",\"uidmap\":\"nonsense\"}")));
        assertInstanceOf(dev.idshift.idmap.IdMapException.class, refused.getCause());
    }

    // ---- responses ----

    @Test
    void responsesKeepTheirWireSpelling() {
        assertEquals("{\"version\":1,\"ok\":true,\"marks\":2,\"served\":17}\n", text(Codec.encode(new Response.Status(2, 17))));
        assertEquals("{\"version\":1,\"ok\":true,\"marks\":[{\"path\":\"/a\",\"owner\":1000,\"allowSubids\":false},"
                        + "{\"path\":\"/b\",\"allowSubids\":true}]}\n",
                text(Codec.encode(new Response.Marks(List.of(new Response.MarkEntry("/a", 1000, false),
                        new Response.MarkEntry("/b", -1, true))))));
        assertEquals("{\"version\":1,\"ok\":true,\"marks\":[]}\n", text(Codec.encode(new Response.Marks(List.of()))));
        try (Response.Shifted mount = new Response.Shifted("/img", Response.Backend.KERNEL, null, anyFd());
             Response.Shifted overlay = new Response.Shifted("/o", Response.Backend.OVERLAY, "overlay on 2 layers", anyFd())) {
            assertEquals("{\"version\":1,\"ok\":true,\"source\":\"/img\",\"backend\":\"kernel\"}\n", text(Codec.encode(mount)));
            assertEquals("{\"version\":1,\"ok\":true,\"source\":\"/o\",\"backend\":\"overlay\",\"reason\":\"overlay on 2 layers\"}\n",
                    text(Codec.encode(overlay)));
        }
        assertEquals("{\"version\":1,\"ok\":true,\"source\":\"/r\",\"reason\":\"owned by 0\",\"noop\":true}\n",
                text(Codec.encode(new Response.Unchanged("/r", "owned by 0"))));
        assertEquals("{\"version\":1,\"ok\":false,\"error\":\"/x is not a directory inside a mark you may use\"}\n",
                text(Codec.encode(new Response.Failure("/x is not a directory inside a mark you may use"))));
    }

    @Test
    void everyResponseComesBackAsItWent() {
        Request mount = new Request.Mount("/img", UIDS, UIDS, false);
        Request shift = new Request.Shift("/r", UIDS, UIDS, Optional.empty(), Optional.empty(), false);
        assertEquals(new Response.Status(2, 17), Codec.decodeResponse(new Request.Status(), Codec.encode(new Response.Status(2, 17)), null));
        Response.Marks marks = new Response.Marks(List.of(new Response.MarkEntry("/a", 1000, false), new Response.MarkEntry("/b", -1, true)));
        assertEquals(marks, Codec.decodeResponse(new Request.Marks(), Codec.encode(marks), null));
        Response.Unchanged unchanged = new Response.Unchanged("/r", "uid: owned by 0; gid: owned by 0");
        assertEquals(unchanged, Codec.decodeResponse(shift, Codec.encode(unchanged), null));
        Response.Failure failure = new Response.Failure("no");
        assertEquals(failure, Codec.decodeResponse(mount, Codec.encode(failure), null));
        for (Response.Backend backend : Response.Backend.values()) {
            for (String reason : new String[] {null, "because"}) {
                Fd passed = anyFd();
                byte[] line;
                try (Response.Shifted sent = new Response.Shifted("/img", backend, reason, anyFd())) {
                    line = Codec.encode(sent);
                }
                for (Request asked : List.of(mount, shift)) {
                    Fd fd = asked == mount ? passed : anyFd();
                    try (Response.Shifted received = (Response.Shifted) Codec.decodeResponse(asked, line, fd)) {
                        assertEquals("/img", received.source());
                        assertEquals(backend, received.backend());
                        assertEquals(reason, received.reason());
                        assertSame(fd, received.tree(), "the fd that came with the line is the response's");
                    }
                }
            }
        }
    }

    @Test
    void aTreeIsClosedWithItsResponseUnlessTaken() {
        Fd passed = anyFd();
        Response response = Codec.decodeResponse(new Request.Mount("/img", UIDS, UIDS, false),
                bytes("{\"version\":1,\"ok\":true,\"source\":\"/img\",\"backend\":\"fuse\"}"), passed);
        response.close();
        assertThrows(IllegalStateException.class, passed::get, "closed with its response");

        Fd kept = anyFd();
        Fd taken;
        try (Response.Shifted shifted = (Response.Shifted) Codec.decodeResponse(new Request.Mount("/img", UIDS, UIDS, false),
                bytes("{\"version\":1,\"ok\":true,\"source\":\"/img\",\"backend\":\"kernel\"}"), kept)) {
            taken = shifted.takeTree();
            assertThrows(IllegalStateException.class, shifted::tree, "taken is taken");
        }
        assertTrue(taken.get() >= 0, "a taken tree outlives its response");
        taken.close();
    }

    @Test
    void anFdWithAnAnswerThatHoldsNoneIsClosed() {
        Fd withFailure = anyFd();
        assertInstanceOf(Response.Failure.class, Codec.decodeResponse(new Request.Status(),
                bytes("{\"version\":1,\"ok\":false,\"error\":\"no\"}"), withFailure));
        assertThrows(IllegalStateException.class, withFailure::get);
        Fd withStatus = anyFd();
        Codec.decodeResponse(new Request.Status(), bytes("{\"version\":1,\"ok\":true,\"marks\":0,\"served\":1}"), withStatus);
        assertThrows(IllegalStateException.class, withStatus::get);
        Fd withBadLine = anyFd();
        assertThrows(JsonInputException.class, () -> Codec.decodeResponse(new Request.Status(), bytes("{"), withBadLine));
        assertThrows(IllegalStateException.class, withBadLine::get, "closed on the way out of a bad answer too");
    }

    @Test
    void aBadResponseNamesItsField() {
        Request mount = new Request.Mount("/img", UIDS, UIDS, false);
        assertEquals("daemon response: $.served: required integer is missing", assertThrows(JsonInputException.class,
                () -> Codec.decodeResponse(new Request.Status(), bytes("{\"version\":1,\"ok\":true,\"marks\":1}"), null)).getMessage());
        assertEquals("daemon response: $.marks[0].path: required string is missing", assertThrows(JsonInputException.class,
                () -> Codec.decodeResponse(new Request.Marks(), bytes("{\"version\":1,\"ok\":true,\"marks\":[{}]}"), null)).getMessage());
        Fd passed = anyFd();
        assertEquals("daemon response: $.backend: unknown backend \"zfs\"; expected kernel, fuse or overlay",
                assertThrows(JsonInputException.class, () -> Codec.decodeResponse(mount,
                        bytes("{\"version\":1,\"ok\":true,\"source\":\"/img\",\"backend\":\"zfs\"}"), passed)).getMessage());
        assertThrows(IllegalStateException.class, passed::get);
        assertEquals("the daemon said ok but sent no mount (for /img)", assertThrows(DaemonProtocolException.class,
                () -> Codec.decodeResponse(mount, bytes("{\"version\":1,\"ok\":true,\"source\":\"/img\",\"backend\":\"kernel\"}"), null))
                .getMessage());
        assertEquals("daemon response: $.ok: expected true or false, got \"yes\"", assertThrows(JsonInputException.class,
                () -> Codec.decodeResponse(mount, bytes("{\"version\":1,\"ok\":\"yes\"}"), null)).getMessage());
    }

    @Test
    void aResponseMayCarryWhatThisClientDoesNotKnow() {
        // A newer daemon (the host's, for a nested runtime's older idshift) may add to an answer.
        assertEquals(new Response.Status(1, 2), Codec.decodeResponse(new Request.Status(),
                bytes("{\"version\":1,\"ok\":true,\"marks\":1,\"served\":2,\"uptime\":5}"), null));
        assertEquals(new Response.Failure("refused without a reason"),
                Codec.decodeResponse(new Request.Status(), bytes("{\"version\":1,\"ok\":false}"), null));
        try (Response.Shifted older = (Response.Shifted) Codec.decodeResponse(new Request.Mount("/img", UIDS, UIDS, false),
                bytes("{\"version\":1,\"ok\":true,\"source\":\"/img\"}"), anyFd())) {
            assertEquals(Response.Backend.KERNEL, older.backend(), "a daemon from before FUSE views named no backend");
            assertNull(older.reason());
        }
    }
}
