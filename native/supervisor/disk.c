/* disk: a sandbox's writable layer as a btrfs subvolume with a quota-group limit.
 *
 * The host loop-mounts a btrfs filesystem (quotas enabled) on the sandboxes directory; each
 * sandbox's upper and work directories live in their own subvolume, whose qgroup caps the bytes
 * it references (BTRFS_QGROUP_LIMIT_MAX_RFER): writes past it fail with EDQUOT. Deleting the
 * subvolume (rmdir once empty) frees its space, and the kernel drops the qgroup with it.
 *
 * `launch --disk-volume DIR --disk-bytes N ...` creates DIR as that subvolume with --upper and --work
 * inside it, in the launcher process itself (no extra process on the create path), then launches. */
#include "sv.h"
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/btrfs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

/* Creates the absolute `path` (whose parent must exist) as a subvolume limited to `limit_bytes` (0: no limit). */
int disk_volume_create(const char *path, uint64_t limit_bytes)
{
    char parent[PATH_MAX];
    struct btrfs_ioctl_vol_args create = {0};
    if (path[0] != '/' || strlen(path) >= sizeof parent) { errno = EINVAL; return -1; }
    strcpy(parent, path);
    char *slash = strrchr(parent, '/');
    const char *name = path + (slash - parent) + 1;
    if (!*name || strlen(name) >= sizeof create.name) { errno = EINVAL; return -1; }
    slash[slash == parent] = 0;             /* "/x" -> "/", "/a/x" -> "/a" */
    strcpy(create.name, name);
    int dfd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0) return -1;
    int r = ioctl(dfd, BTRFS_IOC_SUBVOL_CREATE, &create);
    int e = errno;
    close(dfd);
    if (r < 0) { errno = e; return -1; }
    if (!limit_bytes) return 0;
    int vfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (vfd < 0) return -1;
    /* qgroupid 0: the subvolume the descriptor is in */
    struct btrfs_ioctl_qgroup_limit_args limit = {.qgroupid = 0};
    limit.lim.flags = BTRFS_QGROUP_LIMIT_MAX_RFER;
    limit.lim.max_rfer = limit_bytes;
    r = ioctl(vfd, BTRFS_IOC_QGROUP_LIMIT, &limit);
    e = errno;
    close(vfd);
    errno = e;
    return r;
}

/* launch's options all take a value: argv[1..] is pairs */
static const char *option(int argc, char **argv, const char *name)
{
    for (int i = 1; i + 1 < argc; i += 2)
        if (!strcmp(argv[i], name)) return argv[i + 1];
    return NULL;
}

/* launch_main, after creating the disk volume the options name (and removing those options). */
int disk_launch_main(int argc, char **argv)
{
    const char *volume = option(argc, argv, "--disk-volume"), *bytes = option(argc, argv, "--disk-bytes");
    if (!volume) return launch_main(argc, argv);
    const char *upper = option(argc, argv, "--upper"), *work = option(argc, argv, "--work");
    char *end = NULL;
    unsigned long long limit = bytes ? strtoull(bytes, &end, 10) : 0;
    if (!upper || !work || (bytes && (!*bytes || *end))) {
        fprintf(stderr, "error: --disk-volume needs --upper, --work and a numeric --disk-bytes\n");
        return 2;
    }
    if (disk_volume_create(volume, limit) < 0) {
        fprintf(stderr, "error: create disk volume %s: %s\n", volume, strerror(errno));
        return 1;
    }
    if (mkdir(upper, 0755) < 0 || mkdir(work, 0700) < 0) {
        fprintf(stderr, "error: create %s and %s: %s\n", upper, work, strerror(errno));
        return 1;
    }
    int n = 1;
    for (int i = 1; i < argc; i += 2) {
        if (i + 1 < argc && (!strcmp(argv[i], "--disk-volume") || !strcmp(argv[i], "--disk-bytes"))) continue;
        argv[n++] = argv[i];
        if (i + 1 < argc) argv[n++] = argv[i + 1];
    }
    argv[n] = NULL;
    return launch_main(n, argv);
}
