package dev.idshift.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.idshift.it.support.Exec;
import dev.idshift.it.support.FuseServers;
import dev.idshift.it.support.FuseTransport;
import dev.idshift.it.support.FuseView;
import dev.idshift.it.support.Host;
import dev.idshift.it.support.Scratch;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * FUSE over io_uring (opt-in, IDSHIFT_FUSE_URING=1): the server takes it where the kernel offers it,
 * with one queue (thread and ring) per possible CPU, and the requests made on every CPU are answered
 * through the queues, not read from /dev/fuse; the answers are the kernel backend's (ground truth,
 * same map). Without the opt-in, or where it cannot be had (io_uring refused by the kernel), the mount
 * serves through /dev/fuse, and the server, rings and all, ends with its mount.
 */
class FuseRingTest {
    private static final String[] MAP = {"--uidmap", "0:100000:65536"};
    /** As the container's root (host 100000), on one CPU: creates, writes, links, renames, chmods, reads back. */
    private static final String WORK = """
            cpu=$1; cd "$2"
            mkdir d$cpu
            i=0; while [ $i -lt 300 ]; do echo "file $i" > d$cpu/f$i; i=$((i+1)); done
            ln d$cpu/f1 d$cpu/link; mv d$cpu/f2 d$cpu/moved; chmod 640 d$cpu/f3; mkdir d$cpu/sub; ln -s f4 d$cpu/sym
            cat d$cpu/link d$cpu/moved d$cpu/f299
            find d$cpu -printf '%p %u %g %m %n %s %y\\n' | sort
            """;

    @Test
    void eachCpuHasAQueueAndItsRequestsGoThroughIt() throws Exception {
        Host.requireRoot();
        try (Scratch scratch = new Scratch(); FuseTransport ring = FuseTransport.ringOn()) {
            Map<String, String> seen = new java.util.LinkedHashMap<>();
            for (String backend : List.of("kernel", "fuse")) {
                Path source = scratch.dir(backend + "-source");
                Path view = scratch.dir(backend + "-view");
                if (backend.equals("fuse")) {
                    try (FuseView fuse = FuseView.mount(source, view, FuseTransport.URING, MAP)) {
                        int cpus = FuseTransport.possibleCpus();
                        List<String> queues = FuseTransport.awaitRingThreads(fuse.serverPid(), cpus);
                        List<String> expected = new ArrayList<>();
                        for (int q = 0; q < cpus; q++) {
                            String name = "idshift-uring-" + q;
                            expected.add(name.substring(0, Math.min(15, name.length())));  // comm keeps 15 characters
                        }
                        assertEquals(expected.stream().sorted().toList(), queues, "one queue per possible CPU");
                        long readsBefore = FuseTransport.readsOutsideTheRing(fuse.serverPid());
                        seen.put(backend, onEveryCpu(view));
                        long reads = FuseTransport.readsOutsideTheRing(fuse.serverPid()) - readsBefore;
                        // ~1,500 requests per CPU (lookup, create, getxattr, getattr, release per file), >3,000
                        // reads through /dev/fuse (withoutTheOptIn...). What is left are the JVM's own reads
                        // (a class from the jar, /proc) and FORGETs of inodes the kernel evicted: 0-54 seen.
                        assertTrue(reads < 300, "reads outside the ring while it serves: " + reads);
                    }
                } else {
                    Exec.ok(List.of(Host.launcher().toString(), "mount", "--backend", "kernel", MAP[0], MAP[1], source.toString(),
                            view.toString()));
                    try {
                        seen.put(backend, onEveryCpu(view));
                    } finally {
                        Exec.run(List.of(Host.launcher().toString(), "umount", view.toString()));
                    }
                }
            }
            assertTrue(seen.get("kernel").contains("file 299"), seen.get("kernel"));
            assertEquals(seen.get("kernel"), seen.get("fuse"));
            // on disk: the container's root's files are on-disk root's
            Path made = scratch.path().resolve("fuse-source/d0/f0");
            assertEquals(0, (int) Files.getAttribute(made, "unix:uid"));
        }
    }

    @Test
    void withoutTheOptInTheServerReadsDevFuseEvenWhereTheKernelOffersTheRing() throws Exception {
        Host.requireRoot();
        try (Scratch scratch = new Scratch(); FuseTransport ring = FuseTransport.ringOn();
             FuseView fuse = FuseView.mount(scratch.dir("source"), scratch.dir("view"), MAP)) {
            assertEquals(List.of(), FuseTransport.ringThreads(fuse.serverPid()));
            long readsBefore = FuseTransport.readsOutsideTheRing(fuse.serverPid());
            String out = onEveryCpu(fuse.path());
            assertTrue(out.contains("file 299"), out);
            long reads = FuseTransport.readsOutsideTheRing(fuse.serverPid()) - readsBefore;
            assertTrue(reads > 1000, "requests read from /dev/fuse: " + reads);
        }
    }

    @Test
    void aKernelThatRefusesIoUringGetsAViewServedThroughDevFuse() throws Exception {
        Host.requireRoot();
        Path disabled = Path.of("/proc/sys/kernel/io_uring_disabled");
        Host.require(Files.isWritable(disabled), "kernel.io_uring_disabled");
        String was = Files.readString(disabled).trim();
        try (Scratch scratch = new Scratch(); FuseTransport ring = FuseTransport.ringOn()) {
            Files.writeString(disabled, "2");
            try (FuseView fuse = FuseView.mount(scratch.dir("source"), scratch.dir("view"), FuseTransport.URING, MAP)) {
                // The rings are opened before INIT is answered: refused there, the connection never asks for them.
                assertEquals(List.of(), FuseTransport.ringThreads(fuse.serverPid()));
                Files.writeString(disabled, was);
                String out = onEveryCpu(fuse.path());
                assertTrue(out.contains("file 299"), out);
            }
        } finally {
            Files.writeString(disabled, was);
        }
    }

    @Test
    void theServerAndItsQueuesEndWithTheMount() throws Exception {
        Host.requireRoot();
        try (Scratch scratch = new Scratch(); FuseTransport ring = FuseTransport.ringOn()) {
            FuseView fuse = FuseView.mount(scratch.dir("source"), scratch.dir("view"), FuseTransport.URING, MAP);
            try (fuse) {
                assertEquals(FuseTransport.possibleCpus(),
                        FuseTransport.awaitRingThreads(fuse.serverPid(), FuseTransport.possibleCpus()).size());
                String out = onEveryCpu(fuse.path());
                assertTrue(out.contains("file 299"), out);
                assertEquals(0, fuse.umount().exit());
                assertTrue(FuseServers.awaitGone(fuse.serverPid()), "server " + fuse.serverPid() + " still runs after umount");
            }
        }
    }

    /** {@link #WORK} in {@code view} once on each online CPU (taskset), as host uid 100000; its outputs. */
    private static String onEveryCpu(Path view) throws Exception {
        Exec.ok(List.of("chown", "100000:100000", view.toString()));
        StringBuilder out = new StringBuilder();
        for (int cpu : FuseTransport.onlineCpus()) {
            Exec.Result run = Exec.run(List.of("taskset", "-c", Integer.toString(cpu), "setpriv", "--reuid", "100000",
                    "--regid", "100000", "--clear-groups", "sh", "-c", WORK, "work", Integer.toString(cpu), view.toString()));
            assertEquals(0, run.exit(), "cpu " + cpu + ": " + run.describe());
            out.append(run.stdout());
        }
        return out.toString();
    }
}
