/* The floor for bench/hook-startup.sh: the same mount steps as `idshift hook` (enter the
 * container's mount namespace, clone the rootfs recursively, idmap the top mount with the
 * container's user namespace, stack it on the rootfs), in C, with no JSON parsing beyond finding
 * "pid" and "bundle" and no checks. argv[1]: the rootfs path. Not part of the product. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

struct mount_attr { uint64_t attr_set, attr_clr, propagation, userns_fd; };

static const char *field(const char *json, const char *key, char *out, size_t size) {
    const char *at = strstr(json, key);
    if (!at) return NULL;
    at = strchr(at + strlen(key), ':') + 1;
    while (*at == ' ' || *at == '"') at++;
    size_t n = strcspn(at, "\",}");
    if (n >= size) n = size - 1;
    memcpy(out, at, n);
    out[n] = 0;
    return out;
}

int main(int argc, char **argv) {
    static char state[65536];
    size_t len = fread(state, 1, sizeof state - 1, stdin);
    state[len] = 0;
    char pid[32], bundle[4096], path[4200];
    if (!field(state, "\"pid\"", pid, sizeof pid) || !field(state, "\"bundle\"", bundle, sizeof bundle)) return 3;
    snprintf(path, sizeof path, "/proc/%s/ns/user", pid);
    int userns = open(path, O_RDONLY | O_CLOEXEC);
    snprintf(path, sizeof path, "/proc/%s/ns/mnt", pid);
    int mntns = open(path, O_RDONLY | O_CLOEXEC);
    if (userns < 0 || mntns < 0 || setns(mntns, CLONE_NEWNS) < 0) { perror("setns"); return 4; }
    if (argc > 1) snprintf(path, sizeof path, "%s", argv[1]); else snprintf(path, sizeof path, "%s/rootfs", bundle);
    int tree = syscall(428, AT_FDCWD, path, 1 | O_CLOEXEC | 0x8000);
    struct mount_attr attr = { .attr_set = 0x00100000, .userns_fd = userns };
    if (tree < 0 || syscall(442, tree, "", 0x1000, &attr, sizeof attr) < 0
            || syscall(429, tree, "", AT_FDCWD, path, 4) < 0) { perror("idmap"); return 4; }
    return 0;
}
