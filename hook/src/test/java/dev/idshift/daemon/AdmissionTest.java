package dev.idshift.daemon;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** Issue 10 item 9: one principal's share, the shared slots, and root's reserve. */
class AdmissionTest {
    private static final Principal ROOT = new Principal("uid:0", true);
    private static final Principal ALICE = new Principal("uid:1000", false);
    private static final Principal BOB = new Principal("uid:1001", false);
    private static final Principal CONTAINER = new Principal("userns:4026532000", false);

    @Test
    void onePrincipalGetsItsShareAndNoMore() {
        Admission admission = new Admission(10, 3, 2);
        for (int i = 0; i < 3; i++) {
            assertNull(admission.admit(ALICE));
        }
        String refused = admission.admit(ALICE);
        assertNotNull(refused);
        assertTrue(refused.contains("uid:1000") && refused.contains("retry later"), refused);
        assertNull(admission.admit(BOB), "another user still gets in");
        assertNull(admission.admit(CONTAINER), "and a container");
        admission.release(ALICE);
        assertNull(admission.admit(ALICE), "a released slot is the principal's again");
    }

    @Test
    void theReserveIsRootsOnly() {
        Admission admission = new Admission(4, 3, 2);
        assertNull(admission.admit(ALICE));
        assertNull(admission.admit(BOB));
        assertNotNull(admission.admit(CONTAINER), "the last two slots are root's");
        assertNull(admission.admit(ROOT));
        assertNull(admission.admit(ROOT));
        assertNotNull(admission.admit(ROOT), "even root stops at the total");
        admission.release(ROOT);
        assertNull(admission.admit(ROOT));
    }

    @Test
    void rootHasNoPerPrincipalShare() {
        Admission admission = new Admission(10, 2, 2);
        for (int i = 0; i < 10; i++) {
            assertNull(admission.admit(ROOT));
        }
    }
}
