package dev.idshift.backend.fuse;

import dev.idshift.failure.KernelRefusedException;
import dev.idshift.config.json.JsonObjectView;
import dev.idshift.config.json.JsonTree;
import dev.idshift.backend.RunDirectory;
import dev.idshift.sys.files.AtomicFiles;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

/** The FUSE servers' records: RUN/fuse/KEY/record.json (root-only), and each server's log beside it. */
public final class FuseRegistry {
    private final Path directory;

    public FuseRegistry(Path runDirectory) {
        this.directory = runDirectory.resolve("fuse");
    }

    public static FuseRegistry fromEnvironment() {
        return new FuseRegistry(RunDirectory.fromEnvironment());
    }

    /** A new, empty record directory (root-only) for a server about to start. */
    public Path newEntry() {
        String key = RunDirectory.newName();
        try {
            Files.createDirectories(directory);
            Files.setPosixFilePermissions(directory, PosixFilePermissions.fromString("rwx------"));
            return Files.createDirectory(directory.resolve(key));
        } catch (IOException e) {
            throw new KernelRefusedException("cannot create " + directory.resolve(key) + ": " + e.getMessage(), e);
        }
    }

    public static Path logOf(Path entry) {
        return entry.resolve("server.log");
    }

    public void save(Path entry, FuseMountRecord record) {
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("version", 1L);
        json.put("pid", record.pid());
        json.put("startTime", record.startTime());
        json.put("source", record.source());
        json.put("target", record.target());
        try {
            AtomicFiles.write(entry.resolve("record.json"), JsonTree.write(json));
        } catch (IOException e) {
            throw new KernelRefusedException("cannot write " + entry.resolve("record.json") + ": " + e.getMessage(), e);
        }
    }

    /** Every server with a record (a half-written one is not listed). */
    public List<FuseMountRecord> all() {
        List<FuseMountRecord> records = new ArrayList<>();
        if (!Files.isDirectory(directory)) {
            return records;
        }
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(directory)) {
            for (Path entry : entries) {
                Path file = entry.resolve("record.json");
                if (!Files.isRegularFile(file)) {
                    continue;
                }
                JsonObjectView json = JsonTree.parseObject(Files.readAllBytes(file), file.toString());
                records.add(new FuseMountRecord(entry.getFileName().toString(), json.optLong("pid").orElse(0L),
                        json.optLong("startTime").orElse(0L), json.string("source"), json.string("target")));
            }
        } catch (IOException e) {
            throw new KernelRefusedException("cannot list " + directory + ": " + e.getMessage(), e);
        }
        return records;
    }

    /** The server recorded for mount point {@code target}, if any. */
    public Optional<FuseMountRecord> serving(String target) {
        for (FuseMountRecord record : all()) {
            if (record.target().equals(target)) {
                return Optional.of(record);
            }
        }
        return Optional.empty();
    }

    public Path entryOf(String key) {
        return directory.resolve(key);
    }

    /** Removes a record directory and what is in it (the log). */
    public void remove(Path entry) {
        if (!Files.isDirectory(entry)) {
            return;
        }
        try (Stream<Path> files = Files.walk(entry)) {
            for (Path file : (Iterable<Path>) files.sorted(Comparator.reverseOrder())::iterator) {
                Files.deleteIfExists(file);
            }
        } catch (IOException e) {
            throw new KernelRefusedException("cannot remove " + entry + ": " + e.getMessage(), e);
        }
    }
}
