package dev.idshift.daemon;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.idshift.backend.LayerMaps;
import dev.idshift.backend.overlay.OverlayLayers;
import dev.idshift.daemon.protocol.Request;
import dev.idshift.daemon.protocol.Response;
import dev.idshift.failure.FailureKind;
import dev.idshift.idmap.IdExtent;
import dev.idshift.idmap.IdMap;
import dev.idshift.idmap.IdMapParser;
import dev.idshift.marks.CallerIds;
import dev.idshift.marks.CallerProcess;
import dev.idshift.marks.Mark;
import dev.idshift.marks.MarkStore;
import dev.idshift.marks.Refusal;
import dev.idshift.sys.Fd;
import dev.idshift.sys.Linux;
import dev.idshift.sys.credentials.Credentials;
import dev.idshift.sys.files.FileSyscalls;
import dev.idshift.sys.sockets.UnixSockets;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * What each request yields, and for whom: the handler's decisions, with a {@link TreeMaker} that
 * mounts nothing (it hands back the resolved directory itself and records what it was asked). The
 * callers are made up ({@link CallerIds}); the directories are real, because resolving a SOURCE
 * beneath a mark is done on inodes (open_by_handle_at: root only, so those tests need root).
 */
class RequestHandlerTest {
    private static final CallerIds ROOT = new CallerIds(CallerIds.Kind.HOST_ROOT, 0, List.of(), List.of());
    private static final CallerIds ALICE = user(1000, 100000);
    private static final CallerIds BOB = user(2000, 200000);
    private static final CallerIds CONTAINER = new CallerIds(CallerIds.Kind.CONTAINER, 300000,
            List.of(new IdExtent(300000, 300000, 65536)), List.of(new IdExtent(300000, 300000, 65536)));
    private static final IdMap ALICES = IdMapParser.parseColonList("0:100000:65536");
    private static final IdMap BOBS = IdMapParser.parseColonList("0:200000:65536");
    private static final IdMap IDENTITY = IdMapParser.parseColonList("0:0:4294967295");

    private Path base;
    private Path alices;
    private Path shared;
    private Path rootOnly;
    private Path unsafe;
    private FakeTrees trees;
    private RequestHandler handler;
    private Fd procDir;

    /** A host user with its uid and 65536 subordinate ids from {@code subids}. */
    private static CallerIds user(long uid, long subids) {
        List<IdExtent> owned = List.of(new IdExtent(uid, uid, 1), new IdExtent(subids, subids, 65536));
        return new CallerIds(CallerIds.Kind.USER, uid, owned, owned);
    }

    /** Records what it is asked; the "tree" is a duplicate of the resolved directory, closed by whoever holds it. */
    private static final class FakeTrees implements TreeMaker {
        final List<String> asked = new ArrayList<>();
        Response.Backend backend = Response.Backend.KERNEL;

        @Override
        public Made shifted(Fd hostDir, String source, IdMap uidMap, IdMap gidMap, boolean readonly) {
            asked.add(source + " " + uidMap + " " + gidMap + (readonly ? " ro" : " rw"));
            return new Made(new Fd(FileSyscalls.get().duplicate(hostDir.get(), "the fake tree")), backend);
        }

        @Override
        public Made rebuiltOverlay(OverlayLayers callersLayers, LayerMaps maps, boolean readonly, String source) {
            throw new AssertionError("no overlay here: " + source);
        }
    }

    @BeforeEach
    void marks() throws IOException {
        base = Files.createTempDirectory("request-handler").toRealPath();
        alices = mark("alice");
        shared = mark("shared");
        rootOnly = mark("root-only");
        unsafe = mark("unsafe");
        Files.setPosixFilePermissions(unsafe, PosixFilePermissions.fromString("rwxrwxrwx"));
        // Forced: a temporary directory is beneath world-writable /tmp, which MarkSafety would refuse
        // (the unforced mark is there to be refused).
        MarkStore store = new MarkStore(base.resolve("state"));
        store.save(List.of(new Mark(alices.toString(), 1000, false, true), new Mark(shared.toString(), -1, true, true),
                new Mark(rootOnly.toString(), -1, false, true), new Mark(unsafe.toString(), 1000, false, false)));
        trees = new FakeTrees();
        handler = new RequestHandler(store, Path.of("/etc"), trees);
        procDir = new Fd(FileSyscalls.get().open("/proc/self", Linux.O_PATH | Linux.O_DIRECTORY));
    }

    private Path mark(String name) throws IOException {
        Path mark = Files.createDirectory(base.resolve(name));
        Files.createDirectory(mark.resolve("img"));
        return mark;
    }

    @AfterEach
    void cleanUp() throws IOException {
        procDir.close();
        try (Stream<Path> all = Files.walk(base)) {
            for (Path path : (Iterable<Path>) all.sorted(Comparator.reverseOrder())::iterator) {
                Files.delete(path);
            }
        }
    }

    private static void needRoot() {
        assumeTrue(Credentials.get().geteuid() == 0, "resolving a SOURCE beneath a mark takes open_by_handle_at: root only");
    }

    private Response answer(Request request, CallerIds caller) {
        return handler.answer(request, procDir, caller);
    }

    private String refusal(Request request, CallerIds caller) {
        return assertThrows(Refusal.class, () -> answer(request, caller)).getMessage();
    }

    private static Request.Mount mount(Path source, IdMap maps) {
        return new Request.Mount(source.toString(), maps, maps, false);
    }

    private static Request.Shift shift(Path source, IdMap containerMaps) {
        return new Request.Shift(source.toString(), containerMaps, containerMaps, Optional.empty(), Optional.empty(), false);
    }

    // ---- status and marks: only what the caller may use ----

    @Test
    void statusCountsTheMarksEachCallerMayUse() {
        assertEquals(4, ((Response.Status) answer(new Request.Status(), ROOT)).usableMarks());
        assertEquals(4, ((Response.Status) answer(new Request.Status(), CONTAINER)).usableMarks(), "a root-run container's");
        assertEquals(3, ((Response.Status) answer(new Request.Status(), ALICE)).usableMarks(), "her two and the shared one");
        assertEquals(1, ((Response.Status) answer(new Request.Status(), BOB)).usableMarks(), "the shared one");
    }

    @Test
    void marksListsTheCallersOwnAndNoOneElses() {
        assertEquals(new Response.Marks(List.of(new Response.MarkEntry(shared.toString(), -1, true))),
                answer(new Request.Marks(), BOB));
        assertEquals(new Response.Marks(List.of(new Response.MarkEntry(alices.toString(), 1000, false),
                        new Response.MarkEntry(shared.toString(), -1, true), new Response.MarkEntry(unsafe.toString(), 1000, false))),
                answer(new Request.Marks(), ALICE));
    }

    // ---- mount ----

    @Test
    void mountHandsOutTheTreeMadeOfTheResolvedDirectory() throws IOException {
        needRoot();
        Path image = alices.resolve("img");
        try (Response response = answer(new Request.Mount(image.toString(), ALICES, ALICES, true), ALICE)) {
            Response.Shifted shifted = assertInstanceOf(Response.Shifted.class, response);
            assertEquals(image.toString(), shifted.source());
            assertEquals(Response.Backend.KERNEL, shifted.backend());
            assertNull(shifted.reason(), "a mount's maps are the caller's: nothing was decided to explain");
            assertEquals(image, Files.readSymbolicLink(Path.of("/proc/self/fd/" + shifted.tree().get())), "what was resolved is what is made");
        }
        assertEquals(List.of(image + " 0:100000:65536 0:100000:65536 ro"), trees.asked);
    }

    @Test
    void theReplyNamesTheBackendThatMadeTheTree() {
        needRoot();
        trees.backend = Response.Backend.FUSE;
        try (Response response = answer(mount(shared.resolve("img"), BOBS), BOB)) {
            assertEquals(Response.Backend.FUSE, ((Response.Shifted) response).backend());
        }
    }

    @Test
    void mountRefusesIdsTheCallerDoesNotOwn() {
        needRoot();
        assertEquals("uid map 0:200000:65536 names host uid 200000, which the caller does not own",
                refusal(mount(alices.resolve("img"), BOBS), ALICE));
        assertEquals("gid map 0:200000:65536 names host gid 200000, which the caller does not own",
                refusal(new Request.Mount(shared.resolve("img").toString(), ALICES, BOBS, false), ALICE));
        assertEquals("uid map 0:100000:65536 names host uid 100000, which the caller does not own",
                refusal(mount(rootOnly.resolve("img"), ALICES), CONTAINER), "a container has its own ids, not any");
        assertTrue(trees.asked.isEmpty(), "nothing made for a refusal");
    }

    @Test
    void everyWayOfNotHavingASourceGetsTheSameAnswer() {
        needRoot();
        for (Path source : List.of(alices.resolve("img"), alices.resolve("missing"), rootOnly.resolve("img"), rootOnly,
                base, Path.of("/etc"), shared.resolve("img/../../alice/img"))) {
            assertEquals(source + " is not a directory inside a mark you may use", refusal(mount(source, BOBS), BOB));
        }
        assertEquals("source must be an absolute path: img",
                refusal(new Request.Mount("img", BOBS, BOBS, false), BOB));
        assertTrue(trees.asked.isEmpty());
    }

    @Test
    void aMarkNoLongerSafeIsRefusedAtUse() {
        needRoot();
        String refused = refusal(mount(unsafe.resolve("img"), ALICES), ALICE);
        assertTrue(refused.startsWith("mark " + unsafe + " is no longer safe to use: "), refused);
        assertTrue(trees.asked.isEmpty());
    }

    // ---- shift: planned here, from the tree's owner and the caller's own maps ----

    @Test
    void shiftOfATreeTheContainerAlreadyOwnsIsUnchanged() {
        needRoot();
        Response response = answer(shift(rootOnly.resolve("img"), IDENTITY), ROOT);
        Response.Unchanged unchanged = assertInstanceOf(Response.Unchanged.class, response);
        assertEquals(rootOnly.resolve("img").toString(), unchanged.source());
        assertTrue(unchanged.reason().startsWith("uid: ") && unchanged.reason().contains("; gid: "), unchanged.reason());
        assertTrue(trees.asked.isEmpty());
    }

    @Test
    void shiftMapsTheContainersIdsOntoTheTreesOwner() {
        needRoot();
        Path image = alices.resolve("img"); // owned by 0: stored unshifted
        try (Response response = answer(shift(image, ALICES), ALICE)) {
            Response.Shifted shifted = assertInstanceOf(Response.Shifted.class, response);
            assertTrue(shifted.reason().startsWith("uid: ") && shifted.reason().contains("; gid: "), shifted.reason());
        }
        assertEquals(List.of(image + " 0:100000:65536 0:100000:65536 rw"), trees.asked);
    }

    @Test
    void shiftAuthorisesBeforeItAnswersNoop() {
        needRoot();
        Path image = alices.resolve("img");
        assertEquals(image + " is not a directory inside a mark you may use", refusal(shift(image, IDENTITY), BOB),
                "whether a tree needs shifting is not a stranger's to learn");
        assertEquals("uid map 0:200000:65536 names host uid 200000, which the caller does not own",
                refusal(shift(image, BOBS), ALICE));
        assertTrue(trees.asked.isEmpty());
    }

    // ---- one line in, one answer out, whatever the line ----

    @Test
    void everyLineIsAnsweredAndCounted() throws Exception {
        Path directory = Files.createTempDirectory("request-handler-peer");
        Path socket = directory.resolve("s");
        try (ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            server.bind(UnixDomainSocketAddress.of(socket));
            try (Fd ours = new Fd(UnixSockets.get().connect(socket.toString()));
                 SocketChannel theirs = server.accept();
                 CallerProcess peer = CallerProcess.connectedTo(ours.get())) { // the peer is this very process
                Response bad = handler.handle("{\"version\":1,\"op\":\"mount\",\"source\":\"/x\"}".getBytes(StandardCharsets.UTF_8), peer);
                assertEquals(new Response.Failure(FailureKind.BAD_INPUT, "request: $.uidmap: required string is missing", null), bad);
                Response notJson = handler.handle("mount /x".getBytes(StandardCharsets.UTF_8), peer);
                assertTrue(((Response.Failure) notJson).message().startsWith("request: $: malformed JSON"), notJson.toString());
                Response status = handler.handle("{\"version\":1,\"op\":\"status\"}".getBytes(StandardCharsets.UTF_8), peer);
                assertEquals(3, ((Response.Status) status).served(), "every line counts, answered or refused");
            }
        } finally {
            Files.deleteIfExists(socket);
            Files.deleteIfExists(directory);
        }
    }
}
