package dev.idshift.config.annotations;

/** Which shifting mechanism to use: auto picks the kernel when its probe says yes, else FUSE. */
public enum Backend {
    AUTO, KERNEL, FUSE;

    public String word() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }

    public static Backend fromWord(String word) {
        for (Backend backend : values()) {
            if (backend.word().equals(word)) {
                return backend;
            }
        }
        return null;
    }
}
