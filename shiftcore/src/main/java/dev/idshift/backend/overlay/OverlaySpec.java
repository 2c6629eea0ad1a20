package dev.idshift.backend.overlay;

import java.util.List;

/**
 * What an overlay mount is made of, as its superblock says: the layers and the options that
 * change what it shows. Everything needed to mount the same overlay again over other layers.
 *
 * @param mountPoint  where it was found (for messages)
 * @param lowers      lower layers, topmost first
 * @param dataLayers  data-only lower layers (reached only through metacopy redirects), in order
 * @param upper       the upper dir, or null for a read-only overlay
 * @param work        the work dir (null exactly when upper is)
 * @param settings    the options to give the new overlay, as the engine gave them
 * @param readonly    the superblock is read-only
 */
public record OverlaySpec(String mountPoint, List<String> lowers, List<String> dataLayers, String upper, String work,
                          List<Setting> settings, boolean readonly) {

    /** One option: {@code key=value}, or a flag ({@code value} null). */
    public record Setting(String key, String value) {
        @Override
        public String toString() {
            return value == null ? key : key + "=" + value;
        }
    }

    public int layerCount() {
        return lowers.size() + dataLayers.size() + (upper == null ? 0 : 1);
    }
}
