package dev.idshift.hook;

import dev.idshift.failure.BadInputException;
import dev.idshift.failure.KernelRefusedException;
import dev.idshift.config.oci.IdMapping;
import dev.idshift.idmap.IdExtent;
import dev.idshift.idmap.IdMap;
import dev.idshift.idmap.IdMapParser;
import dev.idshift.sys.files.ProcFiles;
import java.io.IOException;
import java.nio.file.NoSuchFileException;
import java.util.ArrayList;
import java.util.List;

/**
 * The container's uid and gid maps (container id -> host id). The running init's
 * /proc/PID/uid_map is the truth (it also covers a joined user namespace); config.json's mappings
 * are used when there is no process to ask.
 */
public record ContainerIds(IdMap uids, IdMap gids, String origin) {

    public static ContainerIds of(long pid, List<IdMapping> configUids, List<IdMapping> configGids) {
        if (pid > 0) {
            try {
                IdMap uids = IdMapParser.parseProcMap(read(pid, "uid_map"));
                IdMap gids = IdMapParser.parseProcMap(read(pid, "gid_map"));
                return new ContainerIds(uids, gids, "/proc/" + pid + "/{uid,gid}_map");
            } catch (NoSuchFileException e) {
                throw new BadInputException("container process " + pid + " is gone", e);
            } catch (IOException e) {
                throw new KernelRefusedException("cannot read the id maps of container process " + pid + ": " + e.getMessage(), e);
            }
        }
        return new ContainerIds(fromOci(configUids), fromOci(configGids), "config.json linux.uidMappings/gidMappings");
    }

    /** config.json's linux.uidMappings (or gidMappings) as an id map, checked as the kernel would. */
    static IdMap fromOci(List<IdMapping> mappings) {
        List<IdExtent> extents = new ArrayList<>(mappings.size());
        for (IdMapping mapping : mappings) {
            extents.add(new IdExtent(mapping.containerId(), mapping.hostId(), mapping.size()));
        }
        return IdMap.of(extents);
    }

    private static String read(long pid, String file) throws IOException {
        return ProcFiles.read("/proc/" + pid + "/" + file);
    }
}
