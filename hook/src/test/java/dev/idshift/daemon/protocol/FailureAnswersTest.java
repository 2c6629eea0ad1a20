package dev.idshift.daemon.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.idshift.app.ExitCode;
import dev.idshift.backend.IdmapUnsupportedException;
import dev.idshift.failure.BadInputException;
import dev.idshift.failure.DaemonProtocolException;
import dev.idshift.failure.FailureKind;
import dev.idshift.failure.IdshiftException;
import dev.idshift.failure.InternalException;
import dev.idshift.failure.KernelRefusedException;
import dev.idshift.failure.RefusedException;
import dev.idshift.failure.UnsupportedException;
import dev.idshift.idmap.IdMap;
import dev.idshift.idmap.IdMapException;
import dev.idshift.marks.Refusal;
import dev.idshift.sys.Errno;
import dev.idshift.sys.SyscallException;
import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Each failure type: one exit code, one kind on the wire, and back in the client as a failure of the
 * same type, so `idshift mount` through the daemon exits as it would in-process.
 */
class FailureAnswersTest {
    private static final Request MOUNT = new Request.Mount("/img", IdMap.shift(100000, 65536), IdMap.shift(100000, 65536), false);

    /** One of each type, with the exit code it must have (README, `idshift --help`). */
    private static Map<IdshiftException, Integer> oneOfEach() {
        Map<IdshiftException, Integer> failures = new LinkedHashMap<>();
        failures.put(new BadInputException("--uidmap \"x\": not DISK:HOST:COUNT"), ExitCode.BAD_INPUT);
        failures.put(new RefusedException("/srv/x is not a directory inside a mark you may use"), ExitCode.REFUSED);
        failures.put(new KernelRefusedException("open_tree(/srv/m): EPERM (Operation not permitted)",
                new SyscallException("open_tree", "/srv/m", Errno.EPERM)), ExitCode.SYSTEM);
        failures.put(new UnsupportedException("overlay /o: option index=on cannot be kept"), ExitCode.UNSUPPORTED);
        failures.put(new DaemonProtocolException("unknown op \"format-disk\""), ExitCode.INTERNAL);
        failures.put(new InternalException("java.lang.NullPointerException: plan", new NullPointerException("plan")), ExitCode.INTERNAL);
        return failures;
    }

    @Test
    void everyTypeHasOneExitCodeAndOneWordAndComesBackAsItself() {
        Set<String> words = new HashSet<>();
        for (Map.Entry<IdshiftException, Integer> each : oneOfEach().entrySet()) {
            IdshiftException failure = each.getKey();
            assertEquals(each.getValue(), ExitCode.of(failure), failure.getClass().getSimpleName());
            assertTrue(words.add(Codec.word(failure.kind())), "a word of its own: " + Codec.word(failure.kind()));

            IdshiftException back = throughTheWire(failure);
            assertEquals(failure.getClass(), back.getClass());
            assertEquals(failure.getMessage(), back.getMessage());
            assertEquals(ExitCode.of(failure), ExitCode.of(back), "the same exit code through the daemon as in-process");
        }
    }

    @Test
    void theTableCoversEveryType() {
        Set<Class<?>> covered = new HashSet<>();
        for (IdshiftException failure : oneOfEach().keySet()) {
            covered.add(failure.getClass());
        }
        assertEquals(Set.copyOf(List.of(IdshiftException.class.getPermittedSubclasses())), covered,
                "a new failure type needs a kind, an exit code (ExitCode.of), a word (Codec.word) and a row here");
        assertEquals(FailureKind.values().length, covered.size());
    }

    @Test
    void subtypesTravelAsTheirKind() {
        assertInstanceOf(BadInputException.class, throughTheWire(new IdMapException("0:100000:10,5:200000:10: extents overlap")));
        assertInstanceOf(RefusedException.class, throughTheWire(new Refusal("names host uid 0, which the caller does not own")));
        assertInstanceOf(UnsupportedException.class, throughTheWire(new IdmapUnsupportedException("the kernel will not idmap /o")));
    }

    @Test
    void aRefusedSyscallKeepsItsCallPathAndErrnoThroughTheDaemon() {
        SyscallException call = new SyscallException("mount_setattr", "/srv/marked/img", Errno.EINVAL);
        KernelRefusedException back = (KernelRefusedException) throughTheWire(new KernelRefusedException(call.getMessage(), call));
        assertEquals("mount_setattr", back.call());
        assertEquals("/srv/marked/img", back.path());
        assertEquals(Errno.EINVAL, back.errno());
        assertEquals(call.getMessage(), back.getMessage());
        assertEquals("{\"version\":1,\"ok\":false,\"kind\":\"kernel-refused\",\"error\":\"" + call.getMessage()
                + "\",\"call\":\"mount_setattr\",\"path\":\"/srv/marked/img\",\"errno\":" + Errno.EINVAL + "}\n",
                new String(Codec.encode(Response.Failure.of(new KernelRefusedException(call.getMessage(), call))), StandardCharsets.UTF_8));
    }

    @Test
    void aRefusalIsSaidAsVersionOneSaidEveryFailureAndOtherKindsSayTheirKind() {
        assertEquals("{\"version\":1,\"ok\":false,\"error\":\"busy\"}\n",
                new String(Codec.encode(Response.Failure.of(new RefusedException("busy"))), StandardCharsets.UTF_8));
        assertEquals("{\"version\":1,\"ok\":false,\"kind\":\"bad-input\",\"error\":\"0:0:0: count 0\"}\n",
                new String(Codec.encode(Response.Failure.of(new IdMapException("0:0:0: count 0"))), StandardCharsets.UTF_8));
    }

    @Test
    void anAnswerWithoutAKindOrWithOneUnknownIsARefusal() {
        for (String line : List.of("{\"version\":1,\"ok\":false,\"error\":\"not marked\"}",
                "{\"version\":1,\"ok\":false,\"kind\":\"quota\",\"error\":\"not marked\"}")) {
            IdshiftException failure = ((Response.Failure) Codec.decodeResponse(MOUNT, line.getBytes(StandardCharsets.UTF_8), null)).failure();
            assertInstanceOf(RefusedException.class, failure, line);
            assertEquals("not marked", failure.getMessage());
            assertEquals(ExitCode.REFUSED, ExitCode.of(failure));
        }
    }

    private static IdshiftException throughTheWire(IdshiftException failure) {
        Response answer = Codec.decodeResponse(MOUNT, Codec.encode(Response.Failure.of(failure)), null);
        return ((Response.Failure) answer).failure();
    }
}
