/* Directory watches on one inotify fd. One inotify wd may serve several
 * watches (the kernel returns the same wd for the same inode), so each wd
 * record keeps a list of (watch, path relative to that watch's root). */
#include "sv.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/inotify.h>
#include <unistd.h>

#define MASK (IN_CREATE | IN_MOVED_FROM | IN_MOVED_TO | IN_MODIFY | IN_DELETE | IN_ATTRIB | \
              IN_DELETE_SELF | IN_ONLYDIR)
#define NB 1024

struct watch { struct watch *next; uint32_t id; int recursive; char *path; struct user u; };
struct sub { uint32_t wid; char *rel; };
struct wdrec { struct wdrec *next; int wd; struct sub *subs; int n; };
static struct wdrec *tab[NB];
static struct watch *watches;
static int ifd = -1;
static struct ev ev_ino = {EV_INOTIFY, 0, 0};

void watch_init(void)
{
    ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (ifd < 0) sv_log("inotify: %s", strerror(errno));
    else ep_set(ifd, &ev_ino, EPOLLIN);
}

static struct watch *find_watch(uint32_t id)
{
    for (struct watch *w = watches; w; w = w->next)
        if (w->id == id) return w;
    return NULL;
}

static struct wdrec *rec_get(int wd, int create)
{
    struct wdrec **pp = &tab[(unsigned)wd % NB];
    for (struct wdrec *r = *pp; r; r = r->next)
        if (r->wd == wd) return r;
    if (!create) return NULL;
    struct wdrec *r = calloc(1, sizeof *r);
    r->wd = wd; r->next = *pp; *pp = r;
    return r;
}

static void rec_free(struct wdrec *r, int rm)
{
    struct wdrec **pp = &tab[(unsigned)r->wd % NB];
    while (*pp != r) pp = &(*pp)->next;
    *pp = r->next;
    if (rm) inotify_rm_watch(ifd, r->wd);
    for (int i = 0; i < r->n; i++) free(r->subs[i].rel);
    free(r->subs); free(r);
}

static char *join(const char *a, const char *b)
{
    char *s = malloc(strlen(a) + strlen(b) + 2);
    sprintf(s, "%s%s%s", a, *a && a[strlen(a) - 1] != '/' ? "/" : "", b);
    return s;
}

/* Drop w's subscriptions whose rel is `prefix` or below it (all when NULL). */
static void unsub(uint32_t wid, const char *prefix)
{
    size_t pl = prefix ? strlen(prefix) : 0;
    for (int b = 0; b < NB; b++)
        for (struct wdrec *r = tab[b], *next; r; r = next) {
            next = r->next;
            for (int i = 0; i < r->n; i++) {
                const char *rel = r->subs[i].rel;
                if (r->subs[i].wid != wid || (prefix && (strncmp(rel, prefix, pl) || (rel[pl] && rel[pl] != '/'))))
                    continue;
                free(r->subs[i].rel);
                r->subs[i--] = r->subs[--r->n];
            }
            if (!r->n) rec_free(r, 1);
        }
}

static void watch_free(struct watch *w)
{
    unsub(w->id, NULL);
    for (struct watch **pp = &watches; *pp; pp = &(*pp)->next)
        if (*pp == w) { *pp = w->next; break; }
    free(w->path); free(w);
}

static void send_event(uint32_t wid, const char *name, int code)
{
    if (!sv_connected) return;
    size_t s = fr_begin(T_FS_EVENT, wid);
    f_str(F_NAME, name);
    f_int(F_EVENT, code);
    fr_end(s);
}

/* Watch dir `abs` (= w->path/rel) and, for recursive watches, its subdirectories.
 * emit: report existing entries as created (for directories that just appeared). */
static int add_dir(struct watch *w, const char *abs, const char *rel, int emit, int top)
{
    int wd = inotify_add_watch(ifd, abs, MASK | (top ? 0 : IN_DONT_FOLLOW));
    if (wd < 0) return errno;
    struct wdrec *r = rec_get(wd, 1);
    int i = 0;
    while (i < r->n && r->subs[i].wid != w->id) i++;
    if (i == r->n) {
        r->subs = realloc(r->subs, sizeof *r->subs * (size_t)(r->n + 1));
        r->subs[r->n++].wid = w->id;
    } else free(r->subs[i].rel);
    r->subs[i].rel = strdup(rel);
    if (!w->recursive) return 0;
    DIR *d = opendir(abs);
    struct dirent *de;
    while (d && (de = readdir(d))) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..")) continue;
        struct stat st;
        int dir = de->d_type == DT_DIR || (de->d_type == DT_UNKNOWN &&
                  !fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) && S_ISDIR(st.st_mode));
        char *crel = join(rel, de->d_name);
        if (emit) send_event(w->id, crel, 1);
        if (dir) {
            char *cabs = join(abs, de->d_name);
            add_dir(w, cabs, crel, emit, 0);
            free(cabs);
        }
        free(crel);
    }
    if (d) closedir(d);
    return 0;
}

static void end_watch(struct watch *w, int err)
{
    if (sv_connected) {
        size_t s = fr_begin(T_WATCH_END, w->id);
        f_int(F_ERRNO, err);
        fr_end(s);
    }
    watch_free(w);
}

static void handle(const struct inotify_event *ev)
{
    struct wdrec *r = rec_get(ev->wd, 0);
    if (!r) return;
    int n = r->n;
    struct sub *subs = malloc(sizeof *subs * (size_t)(n ? n : 1));
    for (int i = 0; i < n; i++) subs[i] = (struct sub){r->subs[i].wid, strdup(r->subs[i].rel)};
    if (ev->mask & IN_IGNORED) rec_free(r, 0);
    for (int i = 0; i < n; i++) {
        struct watch *w = find_watch(subs[i].wid);
        const char *rel = subs[i].rel;
        if (!w) continue;
        if ((ev->mask & (IN_DELETE_SELF | IN_IGNORED)) && !*rel) { end_watch(w, ENOENT); continue; }
        if (!ev->len) continue;
        char *full = join(rel, ev->name);
        uint32_t mk = ev->mask;
        int code = mk & (IN_CREATE | IN_MOVED_TO) ? 1 : mk & IN_MOVED_FROM ? 4 : mk & IN_MODIFY ? 2
                 : mk & IN_DELETE ? 3 : mk & IN_ATTRIB ? 5 : 0;
        if (code) send_event(w->id, full, code);
        if (w->recursive && (mk & IN_ISDIR)) {
            if (mk & (IN_CREATE | IN_MOVED_TO)) {
                char *abs = join(w->path, full);
                fs_enter(&w->u);
                add_dir(w, abs, full, 1, 0);
                fs_leave();
                free(abs);
            } else if (mk & IN_MOVED_FROM) unsub(w->id, full);
        }
        free(full);
    }
    for (int i = 0; i < n; i++) free(subs[i].rel);
    free(subs);
}

void watch_event(void)
{
    char b[65536] __attribute__((aligned(__alignof__(struct inotify_event))));
    ssize_t n;
    while ((n = read(ifd, b, sizeof b)) > 0)
        for (char *p = b; p < b + n;) {
            const struct inotify_event *ev = (const void *)p;
            handle(ev);
            p += sizeof *ev + ev->len;
        }
}

void watch_request(const struct msg *m)
{
    if (m->type == T_UNWATCH) {
        int64_t id = 0;
        m_int(m, F_WATCH, &id);
        struct watch *w = find_watch((uint32_t)id);
        if (!w) reply_err(m->id, ENOENT, "unwatch %lld", (long long)id);
        else { watch_free(w); reply_ok(m->id); }
        return;
    }
    char *user = m_str(m, F_USER), *rel = m_str(m, F_PATH);
    int64_t rec = 0;
    m_int(m, F_RECURSIVE, &rec);
    struct user u;
    int e;
    if (find_watch(m->id)) reply_err(m->id, EEXIST, "watch id %u already in use", m->id);
    else if (ifd < 0) reply_err(m->id, ENOSYS, "watch: no inotify");
    else if (!rel) reply_err(m->id, EINVAL, "watch: missing PATH");
    else if ((e = user_lookup(user, &u))) reply_err(m->id, e, "watch: unknown user %s", user);
    else {
        struct watch *w = calloc(1, sizeof *w);
        w->id = m->id; w->recursive = rec != 0; w->u = u;
        w->path = path_resolve(u.home, rel);
        w->next = watches; watches = w;
        fs_enter(&u);
        e = add_dir(w, w->path, "", 0, 1);
        fs_leave();
        if (e) { reply_err(m->id, e, "watch %s", w->path); watch_free(w); }
        else reply_ok(m->id);
    }
    free(user); free(rel);
}

void watch_drop(void)
{
    while (watches) watch_free(watches);
}
