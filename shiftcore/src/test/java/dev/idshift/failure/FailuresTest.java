package dev.idshift.failure;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.idshift.backend.IdmapUnsupportedException;
import dev.idshift.config.json.JsonInputException;
import dev.idshift.idmap.IdMapException;
import dev.idshift.marks.Refusal;
import dev.idshift.sys.Errno;
import dev.idshift.sys.SyscallException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.AccessDeniedException;
import org.junit.jupiter.api.Test;

class FailuresTest {
    @Test
    void theProjectsOwnFailuresAreTheirOwnKind() {
        BadInputException bad = new BadInputException("--uidmap: empty");
        assertSame(bad, Failures.of(bad));
        assertInstanceOf(BadInputException.class, new IdMapException("0:0:0: count 0"), "an id map is an input");
        assertInstanceOf(RefusedException.class, new Refusal("not marked"), "the daemon's refusals are refusals");
        assertInstanceOf(UnsupportedException.class, new IdmapUnsupportedException("overlayfs"), "the kernel will not idmap: unsupported");
    }

    @Test
    void eachKindIsOneTypeAndRebuildsAFailureOfItself() {
        java.util.Set<Class<?>> types = new java.util.HashSet<>();
        for (FailureKind kind : FailureKind.values()) {
            IdshiftException rebuilt = kind.withMessage("what the daemon said");
            assertEquals(kind, rebuilt.kind());
            assertEquals("what the daemon said", rebuilt.getMessage());
            assertTrue(types.add(rebuilt.getClass()), "a type of its own: " + kind);
        }
        assertEquals(java.util.Set.of(IdshiftException.class.getPermittedSubclasses()), types, "every permitted type has a kind");
    }

    @Test
    void aRefusedSyscallNamesTheCallThePathAndTheErrno() {
        SyscallException call = new SyscallException("open_tree", "/srv/image", Errno.EPERM);
        KernelRefusedException refused = assertInstanceOf(KernelRefusedException.class, Failures.of(call));
        assertEquals("open_tree", refused.call());
        assertEquals("/srv/image", refused.path());
        assertEquals(Errno.EPERM, refused.errno());
        assertEquals(call.getMessage(), refused.getMessage());
        assertSame(call, refused.getCause(), "the cause is kept");
        assertTrue(refused.getMessage().startsWith("open_tree(/srv/image): EPERM"), refused.getMessage());
    }

    @Test
    void foreignFailuresWithAKindGetItTheirCausesKept() {
        JsonInputException json = new JsonInputException("config.json", "$.root", "expected an object");
        BadInputException bad = assertInstanceOf(BadInputException.class, Failures.of(json));
        assertSame(json, bad.getCause());
        assertEquals(json.getMessage(), bad.getMessage());

        IOException io = new AccessDeniedException("/run/idshift/state");
        assertSame(io, assertInstanceOf(KernelRefusedException.class, Failures.of(io)).getCause());
        UncheckedIOException unchecked = new UncheckedIOException("cannot list /run/idshift", io);
        KernelRefusedException listing = assertInstanceOf(KernelRefusedException.class, Failures.of(unchecked));
        assertSame(io, listing.getCause());
        assertNull(listing.call(), "not a syscall of ours: no call to name");
        assertEquals(0, listing.errno());
    }

    @Test
    void anythingElseIsABugThatKeepsItsCause() {
        NullPointerException bug = new NullPointerException("plan");
        InternalException internal = assertInstanceOf(InternalException.class, Failures.of(bug));
        assertSame(bug, internal.getCause());
        assertEquals("java.lang.NullPointerException: plan", internal.getMessage());
        assertInstanceOf(InternalException.class, Failures.of(new IllegalStateException("unreachable")));
        assertInstanceOf(InternalException.class, Failures.of(new StackOverflowError()));
    }
}
