/* smallfiles DIR COUNT SIZE [SUBDIRS]: creates COUNT files of SIZE bytes under DIR (spread over SUBDIRS
 * subdirectories, default none), each with open(O_CREAT|O_WRONLY|O_TRUNC) + write + close: the
 * create+write+close workload of bench/fuse-compare.sh, without a process per file. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: smallfiles DIR COUNT SIZE [SUBDIRS]\n");
        return 2;
    }
    const char *dir = argv[1];
    long count = atol(argv[2]), size = atol(argv[3]), subdirs = argc > 4 ? atol(argv[4]) : 0;
    char *data = malloc(size > 0 ? size : 1);
    memset(data, 'x', size > 0 ? size : 1);
    char path[4096];
    for (long d = 0; d < subdirs; d++) {
        snprintf(path, sizeof path, "%s/d%ld", dir, d);
        if (mkdir(path, 0755) != 0) { perror(path); return 1; }
    }
    for (long i = 0; i < count; i++) {
        if (subdirs > 0) snprintf(path, sizeof path, "%s/d%ld/f%ld", dir, i % subdirs, i);
        else snprintf(path, sizeof path, "%s/f%ld", dir, i);
        int fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0644);
        if (fd < 0) { perror(path); return 1; }
        if (size > 0 && write(fd, data, size) != size) { perror(path); return 1; }
        if (close(fd) != 0) { perror(path); return 1; }
    }
    return 0;
}
