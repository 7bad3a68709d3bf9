/* File operations, run with the file-system identity of USER. */
#include "sv.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct handle { struct handle *next; uint32_t id; int fd; char *path; };
struct reader { struct reader *next; uint32_t id; int fd; int64_t size; };
static struct handle *handles;
static struct reader *readers;
static uint32_t next_handle = 1;

static const char *base(const char *path)
{
    const char *s = strrchr(path, '/');
    return s && s[1] ? s + 1 : path;
}

void put_entry(const char *path, const struct stat *st, const char *link)
{
    char t1[16], t2[16];
    size_t o = f_open(F_ENTRY);
    f_str(F_NAME, base(path));
    f_str(F_PATH, path);
    f_int(F_TYPE, S_ISREG(st->st_mode) ? 1 : S_ISDIR(st->st_mode) ? 2 : S_ISLNK(st->st_mode) ? 3 : 4);
    f_int(F_SIZE, st->st_size);
    f_int(F_MODE, st->st_mode & 07777);
    f_str(F_OWNER, uid_name(st->st_uid, t1));
    f_str(F_GROUP, gid_name(st->st_gid, t2));
    f_int(F_MTIME_NS, (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec);
    if (link) f_str(F_SYMLINK_TARGET, link);
    f_close(o);
}

/* lstat + ENTRY; returns 0 or errno */
static int entry_at(int dfd, const char *name, const char *path, struct stat *st)
{
    char link[PATH_MAX];
    if (fstatat(dfd, name, st, AT_SYMLINK_NOFOLLOW) < 0) return errno;
    ssize_t n = S_ISLNK(st->st_mode) ? readlinkat(dfd, name, link, sizeof link - 1) : -1;
    if (n >= 0) link[n] = 0;
    put_entry(path, st, n >= 0 ? link : NULL);
    return 0;
}

static void list_dir(const char *path, int depth)
{
    DIR *d = opendir(path);
    if (!d) return;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..")) continue;
        char *child = malloc(strlen(path) + strlen(de->d_name) + 2);
        sprintf(child, "%s/%s", strcmp(path, "/") ? path : "", de->d_name);
        struct stat st;
        if (!entry_at(dirfd(d), de->d_name, child, &st) && S_ISDIR(st.st_mode) && depth > 1)
            list_dir(child, depth - 1);   /* symlinked dirs are S_ISLNK: not followed */
        free(child);
    }
    closedir(d);
}

/* mkdir -p; returns 0 (created), EEXIST (already a directory) or an errno */
static int mkdirs(const char *path)
{
    char *p = strdup(path);
    int r = 0;
    for (char *s = p + 1;; s++) {
        if (*s && *s != '/') continue;
        char c = *s; *s = 0;
        struct stat st;
        if (mkdir(p, 0777) == 0) r = 0;
        else if (errno == EEXIST && stat(p, &st) == 0)
            r = S_ISDIR(st.st_mode) ? EEXIST : c ? ENOTDIR : EEXIST + 1000;
        else r = errno;
        *s = c;
        if ((r && r != EEXIST) || !c) break;
    }
    free(p);
    return r;
}

static int mkparents(const char *path)
{
    char *p = strdup(path);
    char *s = strrchr(p, '/');
    int r = 0;
    if (s && s != p) {
        *s = 0;
        r = mkdirs(p);
        r = r == EEXIST ? 0 : r == EEXIST + 1000 ? ENOTDIR : r;
    }
    free(p);
    return r;
}

static int rm_tree(int dfd, const char *name)
{
    if (unlinkat(dfd, name, 0) == 0) return 0;
    if (errno != EISDIR && errno != EPERM) return errno;
    int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return errno == ENOTDIR ? EPERM : errno;
    DIR *d = fdopendir(fd);
    struct dirent *de;
    int r = 0;
    while (d && (de = readdir(d))) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..")) continue;
        int e = rm_tree(fd, de->d_name);
        if (e && !r) r = e;
    }
    if (d) closedir(d); else close(fd);
    if (unlinkat(dfd, name, AT_REMOVEDIR) < 0 && !r) r = errno;
    return r;
}

static struct handle *find_handle(const struct msg *m)
{
    int64_t h = 0;
    m_int(m, F_HANDLE, &h);
    for (struct handle *x = handles; x; x = x->next)
        if (x->id == h) return x;
    reply_err(m->id, EBADF, "no write handle %lld", (long long)h);
    return NULL;
}

static void close_handle(struct handle *h)
{
    for (struct handle **pp = &handles; *pp; pp = &(*pp)->next)
        if (*pp == h) { *pp = h->next; break; }
    if (h->fd >= 0) close(h->fd);
    free(h->path);
    free(h);
}

static void handle_ops(const struct msg *m)
{
    struct handle *h = find_handle(m);
    if (!h) return;
    if (m->type == T_WRITE_DATA) {
        uint32_t n = 0;
        const uint8_t *d = m_raw(m, F_DATA, &n);
        for (uint32_t o = 0; d && o < n;) {
            ssize_t w = write(h->fd, d + o, n - o);
            if (w < 0 && errno == EINTR) continue;
            if (w < 0) { reply_err(m->id, errno, "write %s", h->path); return; }
            o += (uint32_t)w;
        }
        reply_ok(m->id);
        return;
    }
    struct stat st;
    int e = fstat(h->fd, &st) < 0 ? errno : 0;
    if (close(h->fd) < 0 && !e) e = errno;
    h->fd = -1;
    if (e) reply_err(m->id, e, "close %s", h->path);
    else { size_t s = fr_begin(T_OK, m->id); put_entry(h->path, &st, NULL); fr_end(s); }
    close_handle(h);
}

void files_request(const struct msg *m)
{
    if (m->type == T_WRITE_DATA || m->type == T_WRITE_CLOSE) { handle_ops(m); return; }
    static const char *names[] = {"stat", "list", "make dir", "move", "remove", "read", "open"};
    const char *op = names[m->type - T_STAT];
    char *user = m_str(m, F_USER), *rel = m_str(m, F_PATH), *rtarget = m_str(m, F_TARGET);
    char *path = NULL, *target = NULL;
    struct user u;
    struct stat st;
    int e, fd;
    if ((e = user_lookup(user, &u))) { reply_err(m->id, e, "%s: unknown user %s", op, user); goto out; }
    if (!rel || (m->type == T_MOVE && !rtarget)) { reply_err(m->id, EINVAL, "%s: missing PATH/TARGET", op); goto out; }
    path = path_resolve(u.home, rel);
    if (rtarget) target = path_resolve(u.home, rtarget);
    fs_enter(&u);
    size_t s;
    switch (m->type) {
    case T_STAT:
        s = fr_begin(T_OK, m->id);
        if ((e = entry_at(AT_FDCWD, path, path, &st))) { out.len = s; reply_err(m->id, e, "stat %s", path); }
        else fr_end(s);
        break;
    case T_LIST_DIR: {
        int64_t depth = 1;
        m_int(m, F_DEPTH, &depth);
        DIR *d = opendir(path);
        if (!d) { reply_err(m->id, errno, "list %s", path); break; }
        closedir(d);
        s = fr_begin(T_OK, m->id);
        list_dir(path, depth < 1 ? 1 : (int)depth);
        fr_end(s);
        break;
    }
    case T_MAKE_DIR:
        e = mkdirs(path);
        if (e == EEXIST + 1000) { reply_err(m->id, EEXIST, "make dir %s: exists and is not a directory", path); break; }
        if (e && e != EEXIST) { reply_err(m->id, e, "make dir %s", path); break; }
        s = fr_begin(T_OK, m->id);
        entry_at(AT_FDCWD, path, path, &st);
        f_int(F_CREATED, e != EEXIST);
        fr_end(s);
        break;
    case T_MOVE:
        if ((e = mkparents(target)) || (rename(path, target) < 0 && (e = errno))) {
            reply_err(m->id, e, "move %s to %s", path, target);
            break;
        }
        s = fr_begin(T_OK, m->id);
        entry_at(AT_FDCWD, target, target, &st);
        fr_end(s);
        break;
    case T_REMOVE:
        if (lstat(path, &st) < 0) e = errno;
        else if (!strcmp(path, "/")) e = EBUSY;
        else e = rm_tree(AT_FDCWD, path);
        if (e) reply_err(m->id, e, "remove %s", path);
        else reply_ok(m->id);
        break;
    case T_READ_FILE:
        fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
        if (fd < 0 || fstat(fd, &st) < 0) { reply_err(m->id, errno, "read %s", path); }
        else if (!S_ISREG(st.st_mode)) {
            reply_err(m->id, S_ISDIR(st.st_mode) ? EISDIR : EINVAL, "read %s", path);
        } else {
            struct reader *r = calloc(1, sizeof *r), **pp = &readers;
            while (*pp) pp = &(*pp)->next;    /* FIFO: requests complete in order */
            *r = (struct reader){NULL, m->id, fd, 0};
            *pp = r;
            fd = -1;
        }
        if (fd >= 0) close(fd);
        break;
    case T_WRITE_OPEN:
        if ((e = mkparents(path)) ||
            ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NONBLOCK | O_NOCTTY | O_CLOEXEC, 0666)) < 0 && (e = errno))) {
            reply_err(m->id, e, "open %s for writing", path);
            break;
        }
        fcntl(fd, F_SETFL, 0);
        struct handle *h = calloc(1, sizeof *h);
        *h = (struct handle){handles, next_handle++, fd, path};
        handles = h;
        path = NULL;
        s = fr_begin(T_OK, m->id);
        f_int(F_HANDLE, h->id);
        fr_end(s);
        break;
    }
    fs_leave();
out:
    free(user); free(rel); free(rtarget); free(path); free(target);
}

/* Stream READ_FILE data while the output queue is short. */
int files_pump(void)
{
    while (readers && out_pending() < OUT_LOW) {
        struct reader *r = readers;
        size_t s = fr_begin(T_FILE_DATA, r->id);
        size_t o = f_open(F_DATA);
        buf_reserve(&out, CHUNK);
        ssize_t n = read(r->fd, out.p + out.len, CHUNK);
        if (n > 0) {
            out.len += (size_t)n; r->size += n;
            f_close(o); fr_end(s);
            continue;
        }
        if (n < 0 && errno == EINTR) { out.len = s; continue; }
        out.len = s;
        if (n < 0) reply_err(r->id, errno, "read");
        else { s = fr_begin(T_OK, r->id); f_int(F_SIZE, r->size); fr_end(s); }
        readers = r->next;
        close(r->fd); free(r);
    }
    return readers != NULL;
}

void files_drop(void)
{
    while (handles) close_handle(handles);
    while (readers) { struct reader *r = readers; readers = r->next; close(r->fd); free(r); }
}
