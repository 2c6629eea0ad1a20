package dev.idshift.sys.sockets;

/** The kernel's record of who is at the other end of a unix socket (SO_PEERCRED), taken at connect(). */
public record PeerCredentials(long pid, long uid, long gid) {
}
