/* Tool files in a microVM guest: a small tmpfs at /run/hearth/tools, read-only to everyone in the sandbox
 * (its processes lose CAP_SYS_ADMIN, so not even the sandbox's root can remount it). TOOLS, served on the
 * guest's control port (a second virtio-serial port, so it works while the host holds the main one), makes it
 * writable for a moment, replaces every file, and makes it read-only again. */
#include "guest.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#define TOOLS_FLAGS (MS_NOSUID | MS_NODEV | MS_NOEXEC)
#define TOOLS_OPTS "size=4m,mode=0755"

int guest_tools_mount(const char *root)
{
    char p[512];
    snprintf(p, sizeof p, "%s/run/hearth", root);
    mkdir(p, 0755);
    snprintf(p, sizeof p, "%s" TOOLS_DIR, root);
    mkdir(p, 0755);
    return mount("tmpfs", p, "tmpfs", TOOLS_FLAGS | MS_RDONLY, TOOLS_OPTS);
}

static int valid_name(const uint8_t *v, uint32_t n)
{
    if (n == 0 || n > 200 || (n == 1 && v[0] == '.') || (n == 2 && v[0] == '.' && v[1] == '.')) return 0;
    for (uint32_t i = 0; i < n; i++) if (v[i] == '/' || v[i] == 0) return 0;
    return 1;
}

static int clear_dir(void)
{
    DIR *d = opendir(TOOLS_DIR);
    if (!d) return -1;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        if (unlinkat(dirfd(d), e->d_name, 0) < 0) { int err = errno; closedir(d); errno = err; return -1; }
    }
    closedir(d);
    return 0;
}

static int write_all(const char *name, uint32_t name_len, const uint8_t *data, uint32_t len)
{
    char p[512];
    snprintf(p, sizeof p, TOOLS_DIR "/%.*s", (int)name_len, (const char *)name);
    int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd < 0) return -1;
    for (uint32_t off = 0; off < len;) {
        ssize_t w = write(fd, data + off, len - off);
        if (w < 0) { if (errno == EINTR) continue; int err = errno; close(fd); errno = err; return -1; }
        off += (uint32_t)w;
    }
    return close(fd);
}

void guest_tools(const struct msg *m)
{
    size_t off = 0; int t; const uint8_t *v; uint32_t n;
    const uint8_t *name = NULL; uint32_t name_len = 0;
    while (m_next(m, &off, &t, &v, &n)) {   /* check everything before touching the directory */
        if (t == F_NAME && !valid_name(v, n)) { reply_err(m->id, EINVAL, "tools: bad file name"); return; }
    }
    if (mount(NULL, TOOLS_DIR, NULL, MS_REMOUNT | TOOLS_FLAGS, TOOLS_OPTS) < 0) { reply_err(m->id, errno, "tools: remount read-write"); return; }
    int err = clear_dir() < 0 ? errno : 0;
    off = 0;
    while (!err && m_next(m, &off, &t, &v, &n)) {
        if (t == F_NAME) { name = v; name_len = n; continue; }
        if (t != F_DATA || !name) continue;
        if (write_all((const char *)name, name_len, v, n) < 0) err = errno;
        name = NULL;
    }
    if (mount(NULL, TOOLS_DIR, NULL, MS_REMOUNT | MS_RDONLY | TOOLS_FLAGS, TOOLS_OPTS) < 0 && !err) err = errno;
    if (err) reply_err(m->id, err, "tools: replace files");
    else reply_ok(m->id);
}
