package dev.idshift.sys;

/** Numbers of the per-thread credential calls (kept apart from {@link SyscallNumbers}: added later, used by one path). */
record CredentialSyscallNumbers(long setfsuid, long setfsgid, long capget, long capset) {
    private static final CredentialSyscallNumbers X86_64 = new CredentialSyscallNumbers(122, 123, 125, 126);
    private static final CredentialSyscallNumbers AARCH64 = new CredentialSyscallNumbers(151, 152, 90, 91);

    static CredentialSyscallNumbers forThisMachine() {
        String arch = System.getProperty("os.arch");
        if (arch.equals("aarch64") || arch.equals("arm64")) {
            return AARCH64;
        }
        return X86_64;
    }
}
