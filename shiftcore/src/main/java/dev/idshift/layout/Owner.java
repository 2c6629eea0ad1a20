package dev.idshift.layout;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/** Who owns a tree's root directory on the host: the fact its on-disk layout is detected from. */
public record Owner(long uid, long gid) {

    /** Follows symlinks (so /proc/self/fd/N works for an fd's directory). */
    public static Owner of(Path directory) throws IOException {
        Map<String, Object> attributes = Files.readAttributes(directory, "unix:uid,gid");
        return new Owner(((Integer) attributes.get("uid")) & 0xFFFF_FFFFL, ((Integer) attributes.get("gid")) & 0xFFFF_FFFFL);
    }
}
