package dev.idshift.marks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.idshift.backend.kernel.MountInfo;
import org.junit.jupiter.api.Test;

class CallerOverlaysTest {
    @Test
    void stDevReadsAsMountinfoWritesIt() {
        assertEquals("0:42", CallerOverlays.device(42));
        assertEquals("8:1", CallerOverlays.device(0x801));
        assertEquals("259:3", CallerOverlays.device((259L & 0xfff) << 8 | 3));
        assertEquals("0:300", CallerOverlays.device(((300L & ~0xffL) << 12) | (300 & 0xff)));
    }

    @Test
    void theTopmostMountAtAPathOfAnotherProcesssTable() {
        String table = "22 1 8:1 / / rw - ext4 /dev/sda1 rw\n"
                + "74 22 0:42 / /m rw,relatime - overlay overlay ro,lowerdir=/l,upperdir=/u,workdir=/w,userxattr\n"
                + "75 74 0:43 / /m rw - tmpfs tmpfs rw\n"
                + "76 22 0:44 / /with\\040space rw - overlay overlay rw,lowerdir=/l\n";
        assertEquals(new MountInfo.Mount("/", "/m", "tmpfs", "rw", "0:43"), MountInfo.mountAt(table, "/m"));
        assertEquals("overlay", MountInfo.mountAt(table, "/with space").fsType());
        assertNull(MountInfo.mountAt(table, "/l"));
    }
}
