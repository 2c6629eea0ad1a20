package dev.idshift.it;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.idshift.it.support.BundleBuilder;
import dev.idshift.it.support.Exec;
import dev.idshift.it.support.Rootfs;
import dev.idshift.it.support.Runtime;
import dev.idshift.it.support.Scratch;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** Two running containers with different maps share one rootfs; each owns it. */
class SharedRootfsTest {

    @Test
    void twoRunningContainersWithDifferentMapsBothOwnTheSharedRootfs() throws Exception {
        Runtime runtime = Runtime.RUNC;
        runtime.require();
        try (Scratch scratch = new Scratch()) {
            Path rootfs = Rootfs.create(scratch.dir("rootfs"));
            Path first = new BundleBuilder(scratch.dir("first")).rootPath(rootfs.toString()).hostBase(100000)
                    .idshiftHook("prestart").script("sleep 60").write();
            Path second = new BundleBuilder(scratch.dir("second")).rootPath(rootfs.toString()).hostBase(200000)
                    .idshiftHook("prestart").script("sleep 60").write();
            String firstId = Runtime.newId();
            String secondId = Runtime.newId();
            try {
                assertEquals(0, runtime.runDetached(first, firstId).exit());
                assertEquals(0, runtime.runDetached(second, secondId).exit());

                Exec.Result inFirst = runtime.exec(firstId, "stat -c %u:%g /; touch /tmp/from-first; cat /proc/self/uid_map");
                Exec.Result inSecond = runtime.exec(secondId, "stat -c %u:%g /; touch /tmp/from-second; cat /proc/self/uid_map");

                assertEquals("0:0", inFirst.stdout().lines().findFirst().orElse(""), inFirst.describe());
                assertEquals("0:0", inSecond.stdout().lines().findFirst().orElse(""), inSecond.describe());
                assertEquals("100000", inFirst.stdout().lines().skip(1).findFirst().orElse("").trim().split("\\s+")[1]);
                assertEquals("200000", inSecond.stdout().lines().skip(1).findFirst().orElse("").trim().split("\\s+")[1]);
                assertEquals("0:0", Rootfs.owner(rootfs.resolve("tmp/from-first")));
                assertEquals("0:0", Rootfs.owner(rootfs.resolve("tmp/from-second")));
            } finally {
                runtime.delete(firstId);
                runtime.delete(secondId);
            }
        }
    }
}
