/* Users: tiny /etc/passwd + /etc/group parser (static binary, no NSS),
 * file-system identity switching and path normalisation. */
#include "sv.h"
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fsuid.h>
#include <unistd.h>

struct table { char *data; char **f; int rows; struct stat st; };
static struct table pw, gr;       /* f[row*7 + col] (passwd 7 cols, group 4 cols) */
static gid_t groups0[256];
static int ngroups0;

static void load(struct table *t, const char *path, int cols)
{
    struct stat st;
    if (stat(path, &st) < 0) memset(&st, 0, sizeof st);
    if (t->data && st.st_ino == t->st.st_ino && st.st_size == t->st.st_size &&
        st.st_mtim.tv_sec == t->st.st_mtim.tv_sec && st.st_mtim.tv_nsec == t->st.st_mtim.tv_nsec)
        return;
    free(t->data); free(t->f);
    t->data = NULL; t->f = NULL; t->rows = 0; t->st = st;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return;
    struct buf b = {0};
    char tmp[8192]; ssize_t n;
    while ((n = read(fd, tmp, sizeof tmp)) > 0) buf_put(&b, tmp, (size_t)n);
    close(fd);
    buf_put(&b, "\n", 2);
    t->data = b.p;
    int lines = 0;
    for (size_t i = 0; i < b.len; i++) lines += b.p[i] == '\n';
    t->f = calloc((size_t)lines * cols, sizeof(char *));
    for (char *line = b.p, *nl; line && (nl = strchr(line, '\n')); line = nl + 1) {
        *nl = 0;
        if (!*line || *line == '#') continue;
        char **row = t->f + (size_t)t->rows * cols;
        int c = 0;
        for (char *p = line; c < cols; c++) {
            row[c] = p;
            char *col = strchr(p, ':');
            if (!col) { c++; break; }
            *col = 0; p = col + 1;
        }
        if (c == cols) t->rows++;
    }
}

static void reload(void) { load(&pw, "/etc/passwd", 7); load(&gr, "/etc/group", 4); }

static int numeric(const char *s, unsigned long *v)
{
    char *end;
    if (!*s) return 0;
    *v = strtoul(s, &end, 10);
    return *end == 0;
}

int user_lookup(const char *name, struct user *u)
{
    unsigned long num = 0;
    reload();
    memset(u, 0, sizeof *u);
    if (!name || !*name) name = "root";
    int isnum = numeric(name, &num);
    char **row = NULL;
    for (int i = 0; i < pw.rows && !row; i++) {
        char **r = pw.f + (size_t)i * 7;
        if (isnum ? strtoul(r[2], NULL, 10) == num : !strcmp(r[0], name)) row = r;
    }
    if (!row) {
        if (!isnum) return ENOENT;
        u->uid = u->gid = (uid_t)num;
        snprintf(u->name, sizeof u->name, "%lu", num);
        strcpy(u->home, "/");
        strcpy(u->shell, "/bin/sh");
    } else {
        u->uid = (uid_t)strtoul(row[2], NULL, 10);
        u->gid = (gid_t)strtoul(row[3], NULL, 10);
        snprintf(u->name, sizeof u->name, "%s", row[0]);
        snprintf(u->home, sizeof u->home, "%s", *row[5] ? row[5] : "/");
        snprintf(u->shell, sizeof u->shell, "%s", *row[6] ? row[6] : "/bin/sh");
    }
    u->groups[u->ngroups++] = u->gid;
    for (int i = 0; i < gr.rows && u->ngroups < 64; i++) {
        char **r = gr.f + (size_t)i * 4;
        gid_t g = (gid_t)strtoul(r[2], NULL, 10);
        if (g == u->gid) continue;
        for (const char *p = r[3]; *p;) {
            size_t l = strcspn(p, ",");
            if (l == strlen(u->name) && !strncmp(p, u->name, l)) { u->groups[u->ngroups++] = g; break; }
            p += l + (p[l] == ',');
        }
    }
    return 0;
}

/* uses the tables loaded by the request's user_lookup() */
static const char *id_name(struct table *t, int col, unsigned id, char *tmp)
{
    for (int i = 0; i < t->rows; i++) {
        char **r = t->f + (size_t)i * col;
        if (strtoul(r[2], NULL, 10) == id) return r[0];
    }
    sprintf(tmp, "%u", id);
    return tmp;
}

const char *uid_name(uid_t uid, char *tmp) { return id_name(&pw, 7, uid, tmp); }
const char *gid_name(gid_t gid, char *tmp) { return id_name(&gr, 4, gid, tmp); }

void ids_init(void)
{
    sv_root = geteuid() == 0;
    ngroups0 = getgroups(256, groups0);
    if (ngroups0 < 0) ngroups0 = 0;
}

/* Switch the file-system identity (effective uid, gid, groups) to u. As root this
 * drops CAP_DAC_OVERRIDE etc. for a non-zero euid, so checks are u's; the saved
 * uid stays 0 to switch back. Not setfsuid: gVisor accepts it without effect. */
void fs_enter(const struct user *u)
{
    if (!sv_root) return;
    setgroups((size_t)u->ngroups, u->groups);
    setresgid((gid_t)-1, u->gid, (gid_t)-1);
    setresuid((uid_t)-1, u->uid, (uid_t)-1);
}

void fs_leave(void)
{
    if (!sv_root) return;
    setresuid((uid_t)-1, 0, (uid_t)-1);
    setresgid((gid_t)-1, 0, (gid_t)-1);
    setgroups((size_t)ngroups0, groups0);
}

/* Absolute, lexically normalised path; relative paths start at home. */
char *path_resolve(const char *home, const char *path)
{
    size_t n = strlen(home) + strlen(path) + 3;
    char *src = malloc(n), *dst = malloc(n);
    if (!src || !dst) abort();
    if (path[0] == '/') strcpy(src, path);
    else snprintf(src, n, "%s/%s", home, path);
    size_t d = 0;
    for (char *p = src; *p;) {
        while (*p == '/') p++;
        size_t l = strcspn(p, "/");
        if (!l) break;
        if (l == 1 && p[0] == '.') { }
        else if (l == 2 && p[0] == '.' && p[1] == '.') { while (d > 0 && dst[--d] != '/') { } }
        else { dst[d++] = '/'; memcpy(dst + d, p, l); d += l; }
        p += l;
    }
    if (!d) dst[d++] = '/';
    dst[d] = 0;
    free(src);
    return dst;
}
