package dev.idshift.marks;

import dev.idshift.failure.KernelRefusedException;
import dev.idshift.config.json.JsonObjectView;
import dev.idshift.config.json.JsonTree;
import dev.idshift.sys.files.AtomicFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The marks, in DIR/marks.json (DIR root-only, 0700), replaced atomically: a crash mid-write leaves
 * the previous marks intact.
 */
public final class MarkStore {
    public static final Path DEFAULT_DIR = Path.of("/var/lib/idshift");

    private final Path directory;

    public MarkStore(Path directory) {
        this.directory = directory;
    }

    /** IDSHIFT_STATE_DIR if set, else /var/lib/idshift. */
    public static MarkStore fromEnvironment() {
        String configured = System.getenv("IDSHIFT_STATE_DIR");
        return new MarkStore(configured == null || configured.isEmpty() ? DEFAULT_DIR : Path.of(configured));
    }

    public Path file() {
        return directory.resolve("marks.json");
    }

    private List<Mark> cached = List.of();
    private Object cachedVersion = "none";

    /**
     * The marks, re-read only when the file changed (modification time, size, inode): the daemon
     * asks on every request, and `idshift mark` must take effect without a restart.
     */
    public synchronized List<Mark> current() {
        Object version;
        try {
            java.nio.file.attribute.BasicFileAttributes attributes = Files.readAttributes(file(), java.nio.file.attribute.BasicFileAttributes.class);
            version = attributes.lastModifiedTime().toMillis() + "/" + attributes.size() + "/" + attributes.fileKey();
        } catch (NoSuchFileException e) {
            version = "none";
        } catch (IOException e) {
            throw new KernelRefusedException("cannot read " + file() + ": " + e.getMessage(), e);
        }
        if (!version.equals(cachedVersion)) {
            cached = load();
            cachedVersion = version;
        }
        return cached;
    }

    public List<Mark> load() {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file());
        } catch (NoSuchFileException e) {
            return List.of();
        } catch (IOException e) {
            throw new KernelRefusedException("cannot read " + file() + ": " + e.getMessage(), e);
        }
        List<Mark> marks = new ArrayList<>();
        for (JsonObjectView mark : JsonTree.parseObject(bytes, file().toString()).objectArray("marks")) {
            // A mark from before "forced" was recorded is re-checked at use: the safe reading.
            marks.add(new Mark(mark.string("path"), mark.optLong("owner").orElse(-1L), mark.optBoolean("allowSubids", false),
                    mark.optBoolean("forced", false)));
        }
        return marks;
    }

    public void save(List<Mark> marks) {
        List<Object> entries = new ArrayList<>();
        for (Mark mark : marks) {
            Map<String, Object> entry = new LinkedHashMap<>();
            entry.put("path", mark.path());
            if (mark.ownerUid() >= 0) {
                entry.put("owner", mark.ownerUid());
            }
            entry.put("allowSubids", mark.allowSubids());
            if (mark.forced()) {
                entry.put("forced", true);
            }
            entries.add(entry);
        }
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("version", 1L);
        json.put("marks", entries);
        try {
            Files.createDirectories(directory);
            Files.setPosixFilePermissions(directory, PosixFilePermissions.fromString("rwx------"));
            AtomicFiles.write(file(), JsonTree.write(json));
        } catch (IOException e) {
            throw new KernelRefusedException("cannot write " + file() + ": " + e.getMessage(), e);
        }
    }
}
