package dev.idshift.marks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.idshift.idmap.IdExtent;
import dev.idshift.idmap.IdMapParser;
import dev.idshift.sys.namespaces.UserNamespaceOwner;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Who a caller is, from its user namespace's creator, and the table of who may use which mark. */
class WhoIsWhoTest {
    /** User 1000 has subids 200000+65536; the caller's namespace maps 0:100000:65536. */
    private static final CallerIds.IdSources SOURCES = new CallerIds.IdSources() {
        @Override
        public List<IdExtent> subuids(long uid) {
            return uid == 1000 ? List.of(new IdExtent(200000, 200000, 65536)) : List.of();
        }

        @Override
        public List<IdExtent> subgids(long uid) {
            return subuids(uid);
        }

        @Override
        public List<IdExtent> mappedUids() {
            return List.of(new IdExtent(100000, 100000, 65536));
        }

        @Override
        public List<IdExtent> mappedGids() {
            return mappedUids();
        }

        @Override
        public long namespaceRootUid() {
            return 100000;
        }

        @Override
        public long namespaceInode() {
            return 4026532000L;
        }
    };

    private static final UserNamespaceOwner MADE_BY_ROOT = new UserNamespaceOwner(false, 0, 4026532000L);
    private static final UserNamespaceOwner MADE_BY_1000 = new UserNamespaceOwner(false, 1000, 4026532001L);

    private static final Mark ROOT_ONLY = new Mark("/m/root", -1, false);
    private static final Mark FOR_1000 = new Mark("/m/a", 1000, false);
    private static final Mark FOR_1001 = new Mark("/m/b", 1001, false);
    private static final Mark SUBIDS = new Mark("/m/s", -1, true);
    private static final List<Mark> ALL = List.of(ROOT_ONLY, FOR_1000, FOR_1001, SUBIDS);

    @Test
    void hostRootMayUseEveryMarkWithEveryId() {
        CallerIds root = CallerIds.decide(UserNamespaceOwner.HOST, 0, 0, SOURCES);
        assertEquals(CallerIds.Kind.HOST_ROOT, root.kind());
        assertEquals(ALL, Authorizer.usableBy(root, ALL));
        assertEquals(-1, root.firstUnownedUid(IdMapParser.parseColonList("0:0:4294967295")));
    }

    @Test
    void aContainerOfARootRuntimeMayUseEveryMarkWithTheIdsItsNamespaceMaps() {
        CallerIds container = CallerIds.decide(MADE_BY_ROOT, 100000, 100000, SOURCES);
        assertEquals(CallerIds.Kind.CONTAINER, container.kind());
        assertEquals(ALL, Authorizer.usableBy(container, ALL));
        assertEquals(-1, container.firstUnownedUid(IdMapParser.parseColonList("0:100000:65536")));
        assertEquals(0, container.firstUnownedUid(IdMapParser.parseColonList("0:0:1")));
    }

    /** Red team: uid 1000 in a root-run container cannot become its root, so it is not "the container". */
    @Test
    void aNonRootProcessInARootRunContainerIsAUserOfItsOwnIdsOnly() {
        CallerIds process = CallerIds.decide(MADE_BY_ROOT, 101000, 101000, SOURCES);
        assertEquals(CallerIds.Kind.USER, process.kind());
        assertEquals(List.of(SUBIDS), Authorizer.usableBy(process, ALL));
        assertEquals(-1, process.firstUnownedUid(IdMapParser.parseColonList("0:101000:1")));
        assertEquals(100000, process.firstUnownedUid(IdMapParser.parseColonList("0:100000:1")));
        assertEquals(0, process.firstUnownedGid(IdMapParser.parseColonList("0:0:1")));
    }

    @Test
    void aHostUserMayUseItsOwnAndSubidMarksWithItsOwnIds() {
        CallerIds user = CallerIds.decide(UserNamespaceOwner.HOST, 1000, 1000, SOURCES);
        assertEquals(CallerIds.Kind.USER, user.kind());
        assertEquals(List.of(FOR_1000, SUBIDS), Authorizer.usableBy(user, ALL));
        assertEquals(-1, user.firstUnownedUid(IdMapParser.parseColonList("0:1000:1,1:200000:65536")));
        assertEquals(100000, user.firstUnownedUid(IdMapParser.parseColonList("0:100000:1")));
    }

    @Test
    void aUserInANamespaceItMadeIsStillThatUser() {
        // Issue 10, item 2: `unshare -Ur` used to make any user a "container" that may use any mark.
        CallerIds inOwnNamespace = CallerIds.decide(MADE_BY_1000, 1000, 1000, SOURCES);
        assertEquals(CallerIds.Kind.USER, inOwnNamespace.kind());
        assertEquals(1000, inOwnNamespace.hostUid());
        assertEquals(List.of(FOR_1000, SUBIDS), Authorizer.usableBy(inOwnNamespace, ALL));
        assertFalse(Authorizer.mayUse(inOwnNamespace, ROOT_ONLY));
        assertFalse(Authorizer.mayUse(inOwnNamespace, FOR_1001));
        // What its namespace claims to map (here 100000+) is not its own: only its uid and subids are.
        assertEquals(100000, inOwnNamespace.firstUnownedUid(IdMapParser.parseColonList("0:100000:1")));
        assertEquals(-1, inOwnNamespace.firstUnownedUid(IdMapParser.parseColonList("0:1000:1,1:200000:65536")));
    }

    @Test
    void aProcessOnASubuidInsideTheUsersNamespaceIsThatUser() {
        // uid 1 inside a namespace user 1000 made with newuidmap is host 200000: accountable is 1000.
        CallerIds subordinate = CallerIds.decide(MADE_BY_1000, 200000, 200000, SOURCES);
        assertEquals(1000, subordinate.hostUid());
        assertEquals(List.of(FOR_1000, SUBIDS), Authorizer.usableBy(subordinate, ALL));
        assertTrue(Authorizer.mayUse(subordinate, FOR_1000));
    }
}
