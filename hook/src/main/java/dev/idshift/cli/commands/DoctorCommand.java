package dev.idshift.cli.commands;

import dev.idshift.app.ExitCode;
import dev.idshift.shift.Shifter;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import dev.idshift.hook.Bundle;
import dev.idshift.hookchannel.HookChannel;
import dev.idshift.staging.StagingStore;
import picocli.CommandLine.Option;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

@Command(name = "doctor", header = "Check what idshift needs on this machine (and in a bundle).", mixinStandardHelpOptions = true,
        description = {"Checks what idshift needs on this machine: kernel, user namespaces, idmapped-mount support",
            "of PATH's filesystem (default /), /dev/fuse, and the runtimes. With --bundle, also the bundle's rootfs:",
            "mount targets missing from the image, which a runtime would have to create as the container's root.",
            "Exit 0 when the kernel backend can shift PATH, 5 when it cannot."})
public final class DoctorCommand implements Callable<Integer> {
    @Parameters(arity = "0..1", paramLabel = "PATH", description = "A directory to probe (default: the bundle's rootfs, else /).")
    Path path;

    @Option(names = "--bundle", paramLabel = "DIR", description = "An OCI bundle to check as well.")
    Path bundleDirectory;

    @Override
    public Integer call() {
        PrintStream out = System.out;
        Bundle bundle = bundleDirectory == null ? null : Bundle.load(bundleDirectory);
        if (path == null) {
            path = bundle != null ? bundle.rootfs() : Path.of("/");
        }
        out.println("kernel:          " + read("/proc/sys/kernel/osrelease"));
        String maxUserns = read("/proc/sys/user/max_user_namespaces");
        out.println("user namespaces: " + ("0".equals(maxUserns) ? "DISABLED (user.max_user_namespaces=0)" : "enabled (max " + maxUserns + ")"));
        String probed = path.toAbsolutePath().toString();
        Shifter.Way way = Shifter.autoWayFor(probed);
        boolean kernel = way.kernel();
        out.println("idmapped mounts: " + (kernel ? "yes - " : "NO - ") + way.why());
        out.println("FUSE backend:    " + fuseBackend());
        out.println("runc:            " + version("runc"));
        out.println("crun:            " + version("crun"));
        out.println("java:            " + System.getProperty("java.version") + " (" + System.getProperty("java.home") + ")");
        out.println("hooks with work: " + HookChannel.describe(StagingStore.fromEnvironment().root()));
        if (bundle != null) {
            List<String> missing = MissingMountTargets.of(bundle);
            out.println("mount targets:   " + (missing.isEmpty() ? "all present in " + bundle.rootfs()
                    : missing.size() + " missing from " + bundle.rootfs() + ": " + String.join(", ", missing)));
            if (!missing.isEmpty()) {
                out.println("                 WARNING: the runtime creates these as the container's root, before any prestart or");
                out.println("                 createRuntime hook, and on a host-root-owned rootfs it may not. Add them to the image,");
                out.println("                 or shift at the precreate stage (podman/CRI-O: idshift install podman).");
            }
        }
        return kernel ? ExitCode.OK : ExitCode.UNSUPPORTED;
    }

    /** What the FUSE backend needs: /dev/fuse (its server speaks the kernel's protocol; no library). */
    private static String fuseBackend() {
        if (!Files.exists(Path.of("/dev/fuse"))) {
            return "UNAVAILABLE - /dev/fuse is missing (modprobe fuse)";
        }
        return "available - /dev/fuse";
    }

    private static String read(String file) {
        try {
            return dev.idshift.sys.files.ProcFiles.read(file).trim();
        } catch (IOException e) {
            return "unknown (" + file + " unreadable)";
        }
    }

    private static String version(String runtime) {
        for (String dir : new String[] {"/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"}) {
            Path binary = Path.of(dir, runtime);
            if (Files.isExecutable(binary)) {
                try {
                    Process process = new ProcessBuilder(binary.toString(), "--version").redirectErrorStream(true).start();
                    String first = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8).split("\n")[0];
                    process.waitFor(5, TimeUnit.SECONDS);
                    return first + " (" + binary + ")";
                } catch (IOException e) {
                    return binary + " (cannot run: " + e.getMessage() + ")";
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return binary + " (interrupted)";
                }
            }
        }
        return "not installed";
    }
}
