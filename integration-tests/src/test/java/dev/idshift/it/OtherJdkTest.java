package dev.idshift.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.idshift.it.support.BundleBuilder;
import dev.idshift.it.support.Exec;
import dev.idshift.it.support.Host;
import dev.idshift.it.support.Rootfs;
import dev.idshift.it.support.Runtime;
import dev.idshift.it.support.Scratch;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** The hook on the Temurin 25 JDK under /usr/lib/jvm (the build runs on JDK 17), with an empty environment. */
class OtherJdkTest {

    @Test
    void hookWorksOnTemurin25() throws Exception {
        Runtime.RUNC.require();
        Path java = temurin25();
        Host.require(java != null, "no Temurin 25 JDK under /usr/lib/jvm");
        try (Scratch scratch = new Scratch()) {
            Path bundle = scratch.dir("bundle");
            Rootfs.create(bundle.resolve("rootfs"));
            // runc gives hooks only the env from config.json: IDSHIFT_JAVA alone, no PATH. The "JDK" is
            // Temurin 25 behind a script that leaves a mark, so we know which JVM ran the hook.
            Path jdk = scratch.dir("jdk");
            Files.createDirectories(jdk.resolve("bin"));
            Files.copy(java.getParent().getParent().resolve("release"), jdk.resolve("release"));
            Path marker = scratch.path().resolve("ran-on-temurin-25");
            Path wrapper = jdk.resolve("bin/java");
            Files.writeString(wrapper, "#!/bin/sh\necho \"$@\" >> " + marker + "\nexec " + java + " \"$@\"\n");
            Files.setPosixFilePermissions(wrapper, PosixFilePermissions.fromString("rwxr-xr-x"));
            new BundleBuilder(bundle)
                    .hook("prestart", Host.launcher().toString(), List.of("idshift", "hook"), List.of("IDSHIFT_JAVA=" + wrapper))
                    .script("stat -c %u:%g /").write();

            Exec.Result result = Runtime.RUNC.run(bundle);

            assertEquals("0:0", result.stdout().trim(), result.describe());
            assertTrue(Files.readString(marker).contains("-XX:AOTCache="), "ran on Temurin 25 with its AOT cache: "
                    + Files.readString(marker));
        }
    }

    @Test
    void versionOnTemurin25() throws Exception {
        Path java = temurin25();
        Host.require(java != null, "no Temurin 25 JDK under /usr/lib/jvm");
        Exec.Result result = Exec.run(List.of(Host.launcher().toString(), "--version"), null, Map.of("IDSHIFT_JAVA", java.toString()), 120);
        assertEquals(0, result.exit(), result.describe());
        assertEquals("", result.stderr(), "no JVM warnings (native access, Unsafe)");
    }

    private static Path temurin25() throws IOException {
        Path jvms = Path.of("/usr/lib/jvm");
        if (!Files.isDirectory(jvms)) {
            return null;
        }
        try (Stream<Path> entries = Files.list(jvms)) {
            return entries.filter(dir -> dir.getFileName().toString().startsWith("temurin-25"))
                    .map(dir -> dir.resolve("bin/java")).filter(Files::isExecutable).findFirst().orElse(null);
        }
    }
}
