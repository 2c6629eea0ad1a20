package dev.idshift.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.idshift.it.support.Exec;
import dev.idshift.it.support.FuseView;
import dev.idshift.it.support.Host;
import dev.idshift.it.support.HostUser;
import dev.idshift.it.support.Scratch;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * A lease on a source file holds up only the opens of that file (red team r4). A host user who owns a
 * file in a FUSE view's source takes a write lease on it (F_SETLEASE, allowed to a file's owner), and
 * the view's users open it: each open waits for the lease to be broken, as through an idmapped mount,
 * but the server's threads that wait no longer hold up the view's other requests (before: with as many
 * opens as serving threads, a stat of another file waited as long as the lease held).
 */
class FuseLeaseTest {
    private static final int OPENERS = 6;
    private static final int LEASE_SECONDS = 6;

    @Test
    void aLeasedFileHoldsUpItsOpenersAndNothingElse() throws Exception {
        Host.requireRoot();
        Host.require(Files.isExecutable(Path.of("/usr/bin/python3")), "/usr/bin/python3 (for the host user: root's own python may be out of its reach)");
        try (Scratch scratch = new Scratch(); HostUser owner = HostUser.create("ls", 2_600_000)) {
            Exec.ok(List.of("chmod", "755", scratch.path().toString()));
            Path source = scratch.dir("source");
            Path view = scratch.dir("view");
            Exec.ok(List.of("chmod", "755", source.toString()));
            Path leased = source.resolve("leased");
            Files.writeString(leased, "kept\n");
            Files.writeString(source.resolve("other"), "other\n");
            Exec.ok(List.of("chown", owner.uid() + ":" + owner.gid(), leased.toString()));
            Exec.ok(List.of("chmod", "644", leased.toString(), source.resolve("other").toString()));
            try (FuseView fuse = FuseView.mount(source, view, "--uidmap", "0:100000:65536")) {
                Process holder = new ProcessBuilder(owner.as(List.of("/usr/bin/python3", "-c",
                        "import fcntl, signal, sys, time\n"
                                + "signal.signal(signal.SIGIO, signal.SIG_IGN)\n"
                                + "f = open(sys.argv[1], 'r+')\n"
                                + "fcntl.fcntl(f, fcntl.F_SETLEASE, fcntl.F_WRLCK)\n"
                                + "print('held', flush=True)\n"
                                + "time.sleep(" + LEASE_SECONDS + ")\n"
                                + "f.close()\n", leased.toString()))).redirectErrorStream(true).start();
                List<Process> openers = new ArrayList<>();
                try {
                    BufferedReader said = new BufferedReader(new InputStreamReader(holder.getInputStream(), StandardCharsets.UTF_8));
                    assertEquals("held", said.readLine(), "the owner's write lease");
                    long leaseTaken = System.nanoTime();
                    for (int i = 0; i < OPENERS; i++) {
                        openers.add(new ProcessBuilder("setpriv", "--reuid", "100000", "--regid", "100000", "--clear-groups",
                                "cat", fuse.resolve("leased").toString()).redirectErrorStream(true).start());
                    }
                    Thread.sleep(500);  // the opens reach the server and wait
                    long started = System.nanoTime();
                    Exec.Result other = Exec.run(List.of("setpriv", "--reuid", "100000", "--regid", "100000", "--clear-groups",
                            "sh", "-c", "stat -c %U " + fuse.resolve("other") + " && cat " + fuse.resolve("other")));
                    long tookMs = (System.nanoTime() - started) / 1_000_000;
                    assertEquals(0, other.exit(), other.describe());
                    assertTrue(tookMs < 2_000, "another file of the view answered after " + tookMs + " ms while "
                            + OPENERS + " opens waited for a lease held " + LEASE_SECONDS + " s");
                    for (Process opener : openers) {
                        assertTrue(opener.waitFor(60, TimeUnit.SECONDS), "an opener still waits");
                        assertEquals("kept\n", new String(opener.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
                    }
                    long heldMs = (System.nanoTime() - leaseTaken) / 1_000_000;
                    assertTrue(heldMs >= (LEASE_SECONDS - 1) * 1000L, "the opens waited for the lease as the kernel has them: " + heldMs + " ms");
                } finally {
                    for (Process opener : openers) {
                        opener.destroyForcibly();
                    }
                    holder.destroyForcibly();
                    holder.waitFor(10, TimeUnit.SECONDS);
                }
            }
        }
    }
}
