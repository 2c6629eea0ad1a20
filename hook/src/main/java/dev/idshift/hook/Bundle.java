package dev.idshift.hook;

import dev.idshift.failure.BadInputException;
import dev.idshift.config.oci.OciConfig;
import dev.idshift.config.oci.OciReader;
import dev.idshift.layout.Owner;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * An OCI bundle: its config and its rootfs. root.path is relative to the bundle unless absolute;
 * the rootfs is resolved to its real path because that is where runtimes mount it.
 *
 * @param rootOwner owner of the rootfs root directory (host ids), for layout detection
 */
public record Bundle(Path directory, OciConfig config, Path rootfs, Owner rootOwner) {

    public static Bundle load(Path directory) {
        Path configFile = directory.resolve("config.json");
        byte[] json;
        try {
            json = Files.readAllBytes(configFile);
        } catch (NoSuchFileException e) {
            throw new BadInputException("bundle " + directory + " has no config.json");
        } catch (IOException e) {
            throw new BadInputException("cannot read " + configFile + ": " + e.getMessage());
        }
        OciConfig config = OciReader.readConfig(json, configFile.toString());
        Path declared = directory.resolve(config.root().path());
        Path rootfs;
        Owner owner;
        try {
            rootfs = declared.toRealPath();
            owner = Owner.of(rootfs);
        } catch (IOException e) {
            throw new BadInputException(configFile + ": $.root.path: rootfs " + declared + " does not exist or cannot be read");
        }
        if (!Files.isDirectory(rootfs)) {
            throw new BadInputException(configFile + ": $.root.path: rootfs " + rootfs + " is not a directory");
        }
        return new Bundle(directory, config, rootfs, owner);
    }
}
