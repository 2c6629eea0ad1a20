package dev.idshift.sys.files;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.Map;

/** Which inode a path names: its device and inode number (what two opens of one file share). */
public record FileIdentity(Object device, Object inode) {
    /** The identity of what {@code path} names (followed unless told), or null if it cannot be read (gone meanwhile). */
    public static FileIdentity of(Path path, LinkOption... options) {
        try {
            Map<String, Object> attributes = Files.readAttributes(path, "unix:dev,ino", options);
            return new FileIdentity(attributes.get("dev"), attributes.get("ino"));
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }
}
