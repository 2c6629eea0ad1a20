package dev.idshift.backend.fuse;

import dev.idshift.failure.KernelRefusedException;
import dev.idshift.config.json.JsonObjectView;
import dev.idshift.config.json.JsonTree;
import dev.idshift.backend.RunDirectory;
import dev.idshift.sys.files.AtomicFiles;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
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

    /**
     * Record directories without a record that nothing has written to for {@link #ABANDONED_AFTER_MS}:
     * a start whose starter was killed, or whose server could not start (a pids limit), before either
     * could write the record or remove the directory. See {@link #isAbandoned} for why the age is safe.
     */
    public List<Path> abandoned(long nowMs) {
        List<Path> abandoned = new ArrayList<>();
        if (!Files.isDirectory(directory)) {
            return abandoned;
        }
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(directory)) {
            for (Path entry : entries) {
                if (Files.isDirectory(entry, LinkOption.NOFOLLOW_LINKS)
                        && isAbandoned(Files.exists(entry.resolve("record.json"), LinkOption.NOFOLLOW_LINKS), newestChange(entry), nowMs)) {
                    abandoned.add(entry);
                }
            }
        } catch (IOException e) {
            throw new KernelRefusedException("cannot list " + directory + ": " + e.getMessage(), e);
        }
        return abandoned;
    }

    /**
     * Whether a record directory is left over from a start that will never finish. A start makes the
     * directory, then its server writes the record (its first step) and appends to its log beside it;
     * a starter gives up after {@link FuseMounts#READY_TIMEOUT_MS} and removes the directory itself. So a
     * directory with no record, in which nothing has changed for twice that time, is no start's any
     * more; a younger one may be a mount command that has just made it (its server not yet started),
     * and is kept. A directory with a record is the record's (gc judges it by its server).
     *
     * @param newestChangeMs the latest modification time of the directory and of what is in it
     */
    static boolean isAbandoned(boolean hasRecord, long newestChangeMs, long nowMs) {
        return !hasRecord && nowMs - newestChangeMs >= ABANDONED_AFTER_MS;
    }

    /** How long a record directory without a record is left alone: twice the time a start waits for its server. */
    static final long ABANDONED_AFTER_MS = 2 * FuseMounts.READY_TIMEOUT_MS;

    /** The latest modification time of {@code entry} and its files (a log still being written keeps it young). */
    private static long newestChange(Path entry) throws IOException {
        long newest = Files.getLastModifiedTime(entry, LinkOption.NOFOLLOW_LINKS).toMillis();
        try (DirectoryStream<Path> files = Files.newDirectoryStream(entry)) {
            for (Path file : files) {
                try {
                    newest = Math.max(newest, Files.getLastModifiedTime(file, LinkOption.NOFOLLOW_LINKS).toMillis());
                } catch (NoSuchFileException goneMeanwhile) {
                    // removed by its starter or server as we looked: the directory's own time covers it
                }
            }
        }
        return newest;
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
