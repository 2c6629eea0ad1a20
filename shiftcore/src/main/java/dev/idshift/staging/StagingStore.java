package dev.idshift.staging;

import dev.idshift.config.annotations.IdshiftAnnotations;
import dev.idshift.config.json.JsonObjectView;
import dev.idshift.config.json.JsonTree;
import dev.idshift.backend.RunDirectory;
import dev.idshift.failure.BadInputException;
import dev.idshift.failure.KernelRefusedException;
import dev.idshift.sys.processes.ProcessStat;
import dev.idshift.sys.Errno;
import dev.idshift.sys.Linux;
import dev.idshift.sys.SyscallException;
import dev.idshift.sys.files.AtomicFiles;
import dev.idshift.sys.mounts.MountCalls;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Staging mounts and their records under a state root (default /run/idshift, a tmpfs: a reboot
 * clears it).
 *
 * <pre>
 *   ROOT/                 0711        traversable, not listable
 *   ROOT/staging/         0711
 *   ROOT/staging/K/       0710 root:G where G is the host gid of the container's gid 0 (runc init
 *                                     traverses it as the container's root to bind its rootfs); 0700
 *                                     when there is no such gid or no container needs it
 *   ROOT/staging/K/NAME   the same    a mount point (the shifted rootfs or a volume)
 *   ROOT/state/           0700        root only: K.json, replaced atomically
 * </pre>
 *
 * <p>Why K is closed: a staged mount shows the image's files owned by the container's host ids, setuid
 * bits included, in the host's mount namespace. A host user who could walk in would run the image's
 * setuid binaries as the container's root and write its files (moby's CVE-2021-41091). Only root and
 * the container's root may reach it.
 *
 * <p>Keys: the precreate stage puts a secret S in the config's dev.idshift.staging annotation; the
 * mount path and the record use K = {@link #keyOf}(S). K shows in mountinfo; S is only in the
 * container's config and state. poststart/poststop derive K from S, so a bundle that names K (or
 * anything but S) reaches no one's staging.
 */
public final class StagingStore {
    public static final Path DEFAULT_ROOT = RunDirectory.DEFAULT;

    private final Path root;

    public StagingStore(Path root) {
        this.root = root;
    }

    public Path root() {
        return root;
    }

    /** A key as the annotation carries it: 32 lowercase hex digits (checked before any path is built). */
    public static boolean isKey(String key) {
        return key != null && IdshiftAnnotations.isStagingKey(key);
    }

    /** The store at IDSHIFT_RUN_DIR if set (tests, several idshift installs), else /run/idshift. */
    public static StagingStore fromEnvironment() {
        return new StagingStore(RunDirectory.fromEnvironment());
    }

    /** 32 random lowercase hex digits (a record's name, or a staging secret). */
    public static String newKey() {
        return RunDirectory.newName();
    }

    /** A staging secret S for the dev.idshift.staging annotation (the schema's key syntax). */
    public static String newSecret() {
        return newKey();
    }

    /**
     * The key K under which the staging of secret S lives: the first 32 hex digits of SHA-256(S).
     * K is public (mount paths, mountinfo); S cannot be had from it.
     */
    public static String keyOf(String secret) {
        if (!isKey(secret)) {
            throw new IllegalArgumentException("\"" + secret + "\" is not a staging secret (32 hex digits)");
        }
        return sha256Hex32(secret);
    }

    /**
     * The key of staging made at prestart/createRuntime for container ID: there the config cannot
     * carry an annotation any more, so poststop finds it again from the container's id (chosen by
     * the engine; the prefix keeps it apart from {@link #keyOf}, whose inputs are hex only).
     */
    public static String keyForContainer(String containerId) {
        return sha256Hex32("idshift container " + containerId);
    }

    private static String sha256Hex32(String input) {
        try {
            byte[] digest = java.security.MessageDigest.getInstance("SHA-256")
                    .digest(input.getBytes(java.nio.charset.StandardCharsets.UTF_8));
            return RunDirectory.hex(java.util.Arrays.copyOf(digest, 16));
        } catch (java.security.NoSuchAlgorithmException impossible) {
            throw new IllegalStateException(impossible);
        }
    }

    /** ROOT/staging/KEY: where KEY's mount points are. */
    public Path stagingDir(String key) {
        requireKey(key);
        return root.resolve("staging").resolve(key);
    }

    /** Whether KEY has a record. */
    public boolean exists(String key) {
        return isKey(key) && Files.exists(stateFile(key));
    }

    /**
     * Creates ROOT/staging/KEY/NAME (an empty mount point). KEY and NAME are reachable by root and,
     * when {@code containerRootGid} is a host gid (&gt;= 0), by that group: 0710 root:GID; else 0700.
     *
     * @param containerRootGid the host gid the container's gid 0 maps to (the runtime's init must
     *                         traverse to the mount as the container's root), or -1 (only root's hook
     *                         reaches it)
     */
    public Path newMountPoint(String key, String name, long containerRootGid) {
        requireKey(key);
        try {
            Path stagingDir = directory(directory(root, "rwx--x--x").resolve("staging"), "rwx--x--x").resolve(key);
            return closedDirectory(closedDirectory(stagingDir, containerRootGid).resolve(name), containerRootGid);
        } catch (IOException e) {
            throw new KernelRefusedException("cannot create the staging directory under " + root + ": " + e.getMessage(), e);
        }
    }

    /**
     * An empty file to mount a shifted file bind on (/etc/hosts, resolv.conf...): a file mounts only
     * on a file. Closed like {@link #newMountPoint}'s directories.
     */
    public Path newFileMountPoint(String key, String name, long containerRootGid) {
        Path mountPoint = newMountPoint(key, name, containerRootGid);
        try {
            Files.delete(mountPoint);
            Files.createFile(mountPoint, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            if (containerRootGid >= 0) {
                Files.setAttribute(mountPoint, "unix:gid", (int) containerRootGid, java.nio.file.LinkOption.NOFOLLOW_LINKS);
                Files.setPosixFilePermissions(mountPoint, PosixFilePermissions.fromString("rw-r-----"));
            }
            return mountPoint;
        } catch (IOException e) {
            throw new KernelRefusedException("cannot create the staging file " + mountPoint + ": " + e.getMessage(), e);
        }
    }

    private static Path directory(Path path, String permissions) throws IOException {
        if (!Files.isDirectory(path)) {
            Files.createDirectories(path);
        }
        Files.setPosixFilePermissions(path, PosixFilePermissions.fromString(permissions));
        return path;
    }

    /**
     * A directory only root (and group {@code gid}, to traverse) may enter. Created 0700 and only then
     * given to the group, so it is never open to anyone else, not even for a moment.
     */
    private static Path closedDirectory(Path path, long gid) throws IOException {
        if (!Files.isDirectory(path, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            Files.createDirectory(path, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        }
        Files.setPosixFilePermissions(path, PosixFilePermissions.fromString("rwx------"));
        if (gid >= 0) {
            Files.setAttribute(path, "unix:gid", (int) gid, java.nio.file.LinkOption.NOFOLLOW_LINKS);
            Files.setPosixFilePermissions(path, PosixFilePermissions.fromString("rwx--x---"));
        }
        return path;
    }

    public void save(StagingRecord record) {
        requireKey(record.key());
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("version", 1L);
        json.put("key", record.key());
        json.put("createdAtMs", record.createdAtMs());
        List<Object> mounts = new ArrayList<>();
        for (StagedMount mount : record.mounts()) {
            Map<String, Object> entry = new LinkedHashMap<>();
            entry.put("source", mount.source());
            entry.put("stagingPath", mount.stagingPath());
            entry.put("destination", mount.destination());
            mounts.add(entry);
        }
        json.put("mounts", mounts);
        if (record.container() != null) {
            Map<String, Object> container = new LinkedHashMap<>();
            container.put("id", record.container().id());
            container.put("pid", record.container().pid());
            container.put("startTime", record.container().startTime());
            json.put("container", container);
        }
        if (record.creator() != null) {
            Map<String, Object> creator = new LinkedHashMap<>();
            creator.put("pid", record.creator().pid());
            creator.put("startTime", record.creator().startTime());
            json.put("creator", creator);
        }
        try {
            directory(directory(root, "rwx--x--x").resolve("state"), "rwx------");
            AtomicFiles.write(stateFile(record.key()), JsonTree.write(json));
        } catch (IOException e) {
            throw new KernelRefusedException("cannot write the staging record " + stateFile(record.key()) + ": " + e.getMessage(), e);
        }
    }

    public StagingRecord load(String key) throws NoSuchFileException {
        requireKey(key);
        Path file = stateFile(key);
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw e;
        } catch (IOException e) {
            throw new KernelRefusedException("cannot read " + file + ": " + e.getMessage(), e);
        }
        JsonObjectView json = JsonTree.parseObject(bytes, file.toString());
        List<StagedMount> mounts = new ArrayList<>();
        for (JsonObjectView mount : json.objectArray("mounts")) {
            mounts.add(new StagedMount(mount.string("source"), mount.string("stagingPath"), mount.string("destination")));
        }
        StagingRecord.ContainerProcess container = null;
        java.util.Optional<JsonObjectView> containerJson = json.optObject("container");
        if (containerJson.isPresent()) {
            container = new StagingRecord.ContainerProcess(containerJson.get().string("id"),
                    containerJson.get().optLong("pid").orElse(0L), containerJson.get().optLong("startTime").orElse(0L));
        }
        StagingRecord.Creator creator = null;
        java.util.Optional<JsonObjectView> creatorJson = json.optObject("creator");
        if (creatorJson.isPresent()) {
            creator = new StagingRecord.Creator(creatorJson.get().optLong("pid").orElse(0L), creatorJson.get().optLong("startTime").orElse(0L));
        }
        return new StagingRecord(json.string("key"), json.optLong("createdAtMs").orElse(0L), mounts, container, creator);
    }

    /** poststart: the container that uses KEY's mounts, so gc can tell when it is gone. */
    public void recordContainer(String key, String containerId, long pid) {
        // Under the lock: a poststart still running when a short-lived container's poststop (or gc)
        // removes KEY must not write the record back (seen: a record with no mounts left behind).
        try (Held lock = lock()) {
            StagingRecord record;
            try {
                record = load(key);
            } catch (NoSuchFileException e) {
                return;
            }
            save(record.withContainer(new StagingRecord.ContainerProcess(containerId, pid, processStartTime(pid))));
        } catch (IOException e) {
            throw new KernelRefusedException("cannot lock " + root.resolve("state").resolve(LOCK) + ": " + e.getMessage(), e);
        }
    }

    /** ROOT/state/.lock, held (flock) while a record is updated or removed. bin/idshift knows the name. */
    private static final String LOCK = ".lock";

    /**
     * Java's file locks belong to the whole JVM: two threads of one process (the daemon serving two
     * hooks at once) would get OverlappingFileLockException. So threads queue on this first.
     */
    private static final java.util.concurrent.locks.ReentrantLock IN_PROCESS = new java.util.concurrent.locks.ReentrantLock();

    /** Both locks, released together. */
    private static final class Held implements AutoCloseable {
        private final FileChannel channel;

        Held(FileChannel channel) {
            this.channel = channel;
        }

        @Override
        public void close() throws IOException {
            try {
                channel.close();
            } finally {
                IN_PROCESS.unlock();
            }
        }
    }

    private Held lock() throws IOException {
        IN_PROCESS.lock();
        FileChannel channel = null;
        try {
            Path stateDir = directory(directory(root, "rwx--x--x").resolve("state"), "rwx------");
            channel = FileChannel.open(stateDir.resolve(LOCK), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
            channel.lock();
            return new Held(channel);
        } catch (IOException | RuntimeException | Error e) {
            if (channel != null) {
                channel.close();
            }
            IN_PROCESS.unlock();
            throw e;
        }
    }

    /**
     * Staging directories with no record: a precreate hook killed between mounting and recording.
     * Each is given as a record with no mounts (remove() finds them on disk), aged by the
     * directory's modification time.
     */
    public List<StagingRecord> orphans() {
        List<StagingRecord> orphans = new ArrayList<>();
        Path stagingDir = root.resolve("staging");
        if (!Files.isDirectory(stagingDir)) {
            return orphans;
        }
        try (DirectoryStream<Path> dirs = Files.newDirectoryStream(stagingDir)) {
            for (Path dir : dirs) {
                String key = dir.getFileName().toString();
                if (isKey(key) && !Files.exists(stateFile(key))) {
                    orphans.add(new StagingRecord(key, Files.getLastModifiedTime(dir).toMillis(), List.of(), null));
                }
            }
        } catch (IOException e) {
            throw new KernelRefusedException("cannot list " + stagingDir + ": " + e.getMessage(), e);
        }
        return orphans;
    }

    /** Keys with a record; a half-written temporary is not one. */
    public List<String> keys() {
        List<String> keys = new ArrayList<>();
        Path stateDir = root.resolve("state");
        if (!Files.isDirectory(stateDir)) {
            return keys;
        }
        try (DirectoryStream<Path> files = Files.newDirectoryStream(stateDir, "*.json")) {
            for (Path file : files) {
                String name = file.getFileName().toString();
                String key = name.substring(0, name.length() - ".json".length());
                if (isKey(key)) {
                    keys.add(key);
                }
            }
        } catch (IOException e) {
            throw new KernelRefusedException("cannot list " + stateDir + ": " + e.getMessage(), e);
        }
        return keys;
    }

    /**
     * Whether KEY's container is gone for sure, no grace period needed: it reached poststart and its
     * init has exited (or the pid now belongs to another process); or it never reached poststart, the
     * process that ran precreate (podman) has exited, so no runtime will start it (a create that
     * failed runs no poststop), and no process is pivoted into its rootfs (a container created but
     * not started, see StagedRootfsUsers). A record without either (CRI-O) is never gone for sure.
     */
    public static boolean isGone(StagingRecord record) {
        if (record.container() == null) {
            return record.creator() != null && processStartTime(record.creator().pid()) != record.creator().startTime()
                    && !StagedRootfsUsers.anyUses(record);
        }
        long startTime = processStartTime(record.container().pid());
        return startTime < 0 || startTime != record.container().startTime();
    }

    /** gc's rule: gone (above), or never reached poststart within {@code graceMs}. */
    public static boolean isStale(StagingRecord record, long nowMs, long graceMs) {
        return isGone(record) || (record.container() == null && nowMs - record.createdAtMs() >= graceMs);
    }

    /** Field 22 of /proc/PID/stat (start time in clock ticks since boot), or -1 if there is no such process. */
    public static long processStartTime(long pid) {
        return ProcessStat.startTimeOf(pid);
    }

    /**
     * Detaches every staged mount of KEY and removes its directories and record. Idempotent: what
     * is already gone is skipped. Detaching is safe while the container runs: its mount namespace
     * holds its own copy of the mount.
     */
    public void remove(String key) {
        remove(key, null);
    }

    /**
     * As {@link #remove(String)}, but the staging directory stays with {@code kept} (a name in it) and
     * nothing else: a FUSE server's lock that poststop waits on and then removes with the directory
     * (app.HookServing). A directory without a record is an orphan to gc, should no poststop come.
     */
    public void remove(String key, String kept) {
        requireKey(key);
        try (Held lock = lock()) {
            removeLocked(key, kept);
        } catch (IOException e) {
            throw new KernelRefusedException("cannot lock " + root.resolve("state").resolve(LOCK) + ": " + e.getMessage(), e);
        }
    }

    private void removeLocked(String key, String kept) {
        Path stagingDir = root.resolve("staging").resolve(key);
        List<String> mountPoints = new ArrayList<>();
        try {
            for (StagedMount mount : load(key).mounts()) {
                mountPoints.add(mount.stagingPath());
            }
        } catch (NoSuchFileException e) {
            // no record (a precreate that died before writing it): fall back to what is on disk
        }
        if (Files.isDirectory(stagingDir)) {
            try (DirectoryStream<Path> entries = Files.newDirectoryStream(stagingDir)) {
                for (Path entry : entries) {
                    if (!mountPoints.contains(entry.toString())) {
                        mountPoints.add(entry.toString());
                    }
                }
            } catch (IOException e) {
                throw new KernelRefusedException("cannot list " + stagingDir + ": " + e.getMessage(), e);
            }
        }
        for (String mountPoint : mountPoints) {
            if (!Path.of(mountPoint).startsWith(stagingDir)) {
                throw new BadInputException("staging record " + key + " names " + mountPoint + ", outside " + stagingDir + ": refusing");
            }
            if (kept != null && Path.of(mountPoint).equals(stagingDir.resolve(kept))) {
                continue;
            }
            detach(mountPoint);
            deleteIfExists(Path.of(mountPoint));
        }
        if (kept == null) {
            deleteIfExists(stagingDir);
        }
        deleteIfExists(stateFile(key));
    }

    private static void detach(String mountPoint) {
        // Several mounts may be stacked there (a retry after a partial failure): detach all.
        for (int i = 0; i < 16; i++) {
            try {
                MountCalls.kernel().umount2(mountPoint, Linux.MNT_DETACH | Linux.UMOUNT_NOFOLLOW);
            } catch (SyscallException e) {
                if (e.errno() == Errno.EINVAL || e.errno() == Errno.ENOENT) {
                    return;
                }
                throw e;
            }
        }
    }

    private static void deleteIfExists(Path path) {
        try {
            Files.deleteIfExists(path);
        } catch (IOException e) {
            throw new KernelRefusedException("cannot remove " + path + ": " + e.getMessage(), e);
        }
    }

    private Path stateFile(String key) {
        return root.resolve("state").resolve(key + ".json");
    }

    private static void requireKey(String key) {
        if (!isKey(key)) {
            throw new IllegalArgumentException("\"" + key + "\" is not a staging key (32 hex digits)");
        }
    }
}
