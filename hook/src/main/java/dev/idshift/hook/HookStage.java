package dev.idshift.hook;

/** What a hook call must do, from the stage named on the command line or the state's status. */
public enum HookStage {
    /** precreate (podman, CRI-O): config on stdin, config on stdout; shift onto staging mounts. */
    PRECREATE,
    /** prestart / createRuntime: shift the rootfs in the container's mount namespace. */
    SETUP,
    /** poststart: the container runs with its own copy of any staging mount; remove ours. */
    STARTED,
    /** poststop: undo what setup left outside the container (staging mounts, if still there). */
    TEARDOWN,
    /** poststart and others: nothing to do. */
    NONE;

    /** Stage names as in config.json's hooks object (and podman hooks.d). */
    public static HookStage fromName(String name) {
        switch (name) {
            case "precreate":
                return PRECREATE;
            case "prestart":
            case "createRuntime":
                return SETUP;
            case "poststop":
                return TEARDOWN;
            case "poststart":
                return STARTED;
            case "createContainer":
            case "startContainer":
                return NONE;
            default:
                return null;
        }
    }

    /**
     * Without a stage argument: runc says "creating" to prestart/createRuntime hooks, crun "created";
     * poststop sees "stopped". podman's poststart sees "created" too, so hooks.d entries name their
     * stage ({@code idshift install podman} writes one file per stage).
     */
    public static HookStage fromStatus(String status) {
        switch (status) {
            case "creating":
            case "created":
                return SETUP;
            case "running":
                return STARTED;
            case "stopped":
                return TEARDOWN;
            default:
                return NONE;
        }
    }
}
