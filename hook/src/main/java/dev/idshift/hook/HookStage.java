package dev.idshift.hook;

/** What a hook call must do, from the stage named on the command line or the state's status. */
public enum HookStage {
    /** prestart / createRuntime: shift the rootfs in the container's mount namespace. */
    SETUP,
    /** poststop: undo what setup left outside the container (nothing, for kernel mounts). */
    TEARDOWN,
    /** poststart and others: nothing to do. */
    NONE;

    /** Stage names as in config.json's hooks object (and podman hooks.d). */
    public static HookStage fromName(String name) {
        switch (name) {
            case "prestart":
            case "createRuntime":
                return SETUP;
            case "poststop":
                return TEARDOWN;
            case "poststart":
            case "createContainer":
            case "startContainer":
                return NONE;
            default:
                return null;
        }
    }

    /** runc says "creating" to prestart/createRuntime hooks, crun "created"; poststop sees "stopped". */
    public static HookStage fromStatus(String status) {
        switch (status) {
            case "creating":
            case "created":
                return SETUP;
            case "stopped":
                return TEARDOWN;
            default:
                return NONE;
        }
    }
}
