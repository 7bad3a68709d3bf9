/* Processes: spawn, output, stdin, signals, reaping, EXIT ordering. */
#include "sv.h"
#include <linux/capability.h>
#include <limits.h>
#include <sched.h>
#include <sys/prctl.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

struct rlimit sv_nofile;               /* original RLIMIT_NOFILE, restored in children */

struct ack { uint32_t id; size_t end; };
struct proc {
    struct proc *next;
    pid_t pid;
    int pty, exited, status, dead;
    uint64_t deadline;
    int ofd[2]; struct ev oev[2];       /* stdout (or pty master), stderr */
    int ifd; struct ev iev; int iev_on; /* stdin pipe (or dup of pty master) */
    struct buf inq; size_t in_off, in_total, in_sent;
    struct ack *acks; int nacks;
    int want_close; uint32_t close_id;
    char *tag, *cwd;
    struct buf spec;                    /* raw ARG/ENV fields for LIST_PROCESSES */
};

/* Sandbox processes keep Docker's default capability set and lose the rest from their bounding set,
 * so even the sandbox's root cannot open raw sockets, load BPF, trace, or administer the network. */
static void drop_dangerous_capabilities(void)
{
    static const int dropped[] = {
        CAP_NET_RAW, CAP_NET_ADMIN, CAP_SYS_ADMIN, CAP_SYS_MODULE, CAP_SYS_RAWIO, CAP_SYS_PTRACE,
        CAP_SYS_PACCT, CAP_SYS_BOOT, CAP_SYS_NICE, CAP_SYS_RESOURCE, CAP_SYS_TIME, CAP_SYS_TTY_CONFIG,
        CAP_LEASE, CAP_AUDIT_CONTROL, CAP_MAC_OVERRIDE, CAP_MAC_ADMIN, CAP_SYSLOG, CAP_WAKE_ALARM,
        CAP_BLOCK_SUSPEND, CAP_AUDIT_READ, CAP_LINUX_IMMUTABLE, CAP_IPC_LOCK, CAP_IPC_OWNER,
        CAP_DAC_READ_SEARCH, CAP_BPF, CAP_PERFMON, CAP_CHECKPOINT_RESTORE,
    };
    for (size_t i = 0; i < sizeof dropped / sizeof dropped[0]; i++) prctl(PR_CAPBSET_DROP, dropped[i], 0, 0, 0);
}

static struct proc *procs;
static struct { pid_t pid; int status; } pend[1024];
static int npend;

static struct proc *find(int64_t pid)
{
    for (struct proc *p = procs; p; p = p->next)
        if (p->pid == pid && !p->dead) return p;
    return NULL;
}

static void send_exit(pid_t pid, int st)
{
    size_t s = fr_begin(T_EXIT, (uint32_t)pid);
    if (WIFSIGNALED(st)) f_int(F_SIGNO, WTERMSIG(st));
    else f_int(F_EXIT_CODE, WEXITSTATUS(st));
    fr_end(s);
}

void proc_connected(void)
{
    for (int i = 0; i < npend; i++) send_exit(pend[i].pid, pend[i].status);
    npend = 0;
}

static void close_out(struct proc *p, int i)
{
    if (p->ofd[i] < 0) return;
    ep_del(p->ofd[i]);
    close(p->ofd[i]);
    p->ofd[i] = -1;
}

static void stdin_fail(struct proc *p, int err)
{
    for (int i = 0; i < p->nacks; i++) reply_err(p->acks[i].id, err, "write stdin of %d", p->pid);
    p->nacks = 0;
    if (p->want_close) { p->want_close = 0; reply_ok(p->close_id); }
    if (p->ifd >= 0) { ep_del(p->ifd); close(p->ifd); p->ifd = -1; }
    buf_free(&p->inq); p->in_off = 0;
}

static void finish(struct proc *p)
{
    if (p->dead || !p->exited || p->ofd[0] >= 0 || p->ofd[1] >= 0) return;
    stdin_fail(p, EPIPE);
    if (sv_connected) send_exit(p->pid, p->status);
    else if (npend < 1024) { pend[npend].pid = p->pid; pend[npend++].status = p->status; }
    p->dead = 1;                        /* freed in proc_timers, after the epoll batch */
}

static int read_out(struct proc *p, int i)
{
    char b[65536];
    if (p->ofd[i] < 0) return 0;
    ssize_t n = read(p->ofd[i], b, sizeof b);
    if (n > 0) {
        if (sv_connected) {
            size_t s = fr_begin(T_OUTPUT, (uint32_t)p->pid);
            f_int(F_STREAM, p->pty ? 3 : i + 1);
            f_bytes(F_DATA, b, (size_t)n);
            fr_end(s);
        }
        return 1;
    }
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return 0;
    close_out(p, i);                    /* EOF, or EIO on a pty master */
    finish(p);
    return 0;
}

static void stdin_flush(struct proc *p)
{
    while (p->ifd >= 0 && p->in_off < p->inq.len) {
        ssize_t n = write(p->ifd, p->inq.p + p->in_off, p->inq.len - p->in_off);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && errno == EAGAIN) break;
        if (n < 0) { stdin_fail(p, errno); return; }
        p->in_off += (size_t)n; p->in_sent += (size_t)n;
    }
    int k = 0;
    for (int i = 0; i < p->nacks; i++) {
        if (p->acks[i].end <= p->in_sent) reply_ok(p->acks[i].id);
        else p->acks[k++] = p->acks[i];
    }
    p->nacks = k;
    if (p->ifd < 0) return;
    int pending = p->in_off < p->inq.len;
    if (!pending) { p->inq.len = p->in_off = 0; }
    if (pending != p->iev_on) {
        if (pending) ep_set(p->ifd, &p->iev, EPOLLOUT);
        else ep_del(p->ifd);
        p->iev_on = pending;
    }
    if (!pending && p->want_close) {
        close(p->ifd); p->ifd = -1; p->iev_on = 0;
        p->want_close = 0;
        reply_ok(p->close_id);
    }
}

void proc_event(struct ev *e, uint32_t events)
{
    struct proc *p = e->ptr;
    if (p->dead) return;
    if (e->kind == EV_PIN) stdin_flush(p);
    else if (events) read_out(p, e->n);
}

void proc_reap(void)
{
    int st; pid_t pid;
    while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
        struct proc *p = find(pid);
        if (!p || p->exited) continue;   /* orphans adopted by PID 1: just reaped */
        p->exited = 1; p->status = st;
        p->deadline = now_ms() + 50;
        finish(p);
    }
}

int proc_timeout(void)
{
    int t = -1;
    if (sv_throttled) return -1;
    uint64_t now = now_ms();
    for (struct proc *p = procs; p; p = p->next) {
        if (!p->exited || p->dead) continue;
        int d = p->deadline > now ? (int)(p->deadline - now) : 0;
        if (t < 0 || d < t) t = d;
    }
    return t;
}

void proc_timers(void)
{
    uint64_t now = now_ms();
    for (struct proc **pp = &procs; *pp;) {
        struct proc *p = *pp;
        if (!p->dead && p->exited && !sv_throttled && now >= p->deadline) {
            /* grandchildren still hold the output: send what is buffered, then stop */
            for (int i = 0; i < 2; i++) {
                for (int k = 0; k < 16 && read_out(p, i);) k++;
                close_out(p, i);
            }
            finish(p);
        }
        if (p->dead) {
            *pp = p->next;
            buf_free(&p->inq); buf_free(&p->spec);
            free(p->acks); free(p->tag); free(p->cwd); free(p);
        } else pp = &p->next;
    }
}

void proc_throttle(int on)
{
    for (struct proc *p = procs; p; p = p->next)
        for (int i = 0; i < 2; i++)
            if (p->ofd[i] >= 0) {
                if (on) ep_del(p->ofd[i]);
                else ep_set(p->ofd[i], &p->oev[i], EPOLLIN);
            }
}

static void env_set(char **env, int *n, char *kv)
{
    size_t kl = strcspn(kv, "=");
    for (int i = 0; i < *n; i++)
        if (!strncmp(env[i], kv, kl) && env[i][kl] == '=') { env[i] = kv; return; }
    env[(*n)++] = kv;
}

static char *xfmt(const char *k, const char *v)
{
    char *s = malloc(strlen(k) + strlen(v) + 2);
    if (!s) abort();
    sprintf(s, "%s=%s", k, v);
    return s;
}

static int nonblock(int fd) { return fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK); }

/* execvp with the PATH of `env` rather than of the supervisor (glibc's execvpe searches the caller's PATH):
 * absolute or relative names as given, else each PATH entry in turn; EACCES wins over "not found"; a file
 * the kernel cannot execute runs under /bin/sh, as execvp does. Returns only on failure, with errno set. */
static void exec_searching(char **argv, char **env, char **sh_argv)
{
    const char *path = NULL;
    for (char **e = env; *e; e++)
        if (!strncmp(*e, "PATH=", 5)) { path = *e + 5; break; }
    if (!path) path = "/bin:/usr/bin";
    int nargs = 0;
    while (argv[nargs]) nargs++;
    int denied = 0;
    char full[PATH_MAX];
    const char *dir = path;
    for (int last = strchr(argv[0], '/') != NULL; ; dir = strchr(dir, ':') + 1) {
        const char *candidate = argv[0];
        if (!last) {
            const char *end = strchr(dir, ':');
            size_t dl = end ? (size_t)(end - dir) : strlen(dir);
            if (!end) last = 1;
            if (dl + strlen(argv[0]) + 2 > sizeof full) {
                errno = ENAMETOOLONG;
                if (last) break;
                continue;
            }
            memcpy(full, dir, dl);
            size_t at = dl;
            if (dl) full[at++] = '/';
            strcpy(full + at, argv[0]);
            candidate = full;
        }
        execve(candidate, argv, env);
        if (errno == ENOEXEC) {
            sh_argv[0] = "/bin/sh"; sh_argv[1] = (char *)candidate;
            for (int i = 1; i <= nargs; i++) sh_argv[i + 1] = argv[i];
            execve("/bin/sh", sh_argv, env);
            return;
        }
        if (errno == EACCES) denied = 1;
        else if (errno != ENOENT && errno != ENOTDIR && errno != ESTALE && errno != ENODEV && errno != ETIMEDOUT) return;
        if (last) break;
    }
    if (denied) errno = EACCES;
}

/* What the child of spawn() needs. Outside microVM guests it runs on its own stack inside the supervisor's
 * memory (clone with CLONE_VM | CLONE_VFORK, as posix_spawn does: no copy of the supervisor's address space;
 * inside gVisor a spawn costs 7.5 ms instead of 16), so it only makes system calls, never allocates, and
 * writes to nothing the supervisor reads except the report pipe. The supervisor waits, suspended, until it
 * execs or exits. */
struct spawn_child {
    int pty, slave, fds[8], own_cwd;
    const struct user *u;
    const char *cwd;
    char **argv, **env, **sh_argv;
};

static char spawn_stack[256 * 1024] __attribute__((aligned(64)));

__attribute__((noreturn)) static int spawn_child_main(void *arg)
{
    const struct spawn_child *c = arg;
    const struct user *u = c->u;
    int rep[2] = {0, 0};
    sigset_t none; sigemptyset(&none);
    signal(SIGPIPE, SIG_DFL);
    sigprocmask(SIG_SETMASK, &none, NULL);
    setrlimit(RLIMIT_NOFILE, &sv_nofile);
    setsid();
    if (c->pty) {
        if (ioctl(c->slave, TIOCSCTTY, 0) < 0 || dup2(c->slave, 0) < 0 || dup2(c->slave, 1) < 0 || dup2(c->slave, 2) < 0)
            goto fail;
    } else if (dup2(c->fds[0], 0) < 0 || dup2(c->fds[3], 1) < 0 || dup2(c->fds[5], 2) < 0) goto fail;
    rep[0] = 1;
    if (sv_guest_cgroup) {
        int cg = open(sv_guest_cgroup, O_WRONLY | O_CLOEXEC);
        if (cg < 0 || write(cg, "0", 1) != 1) goto fail;
        close(cg);
    }
    if (sv_root && install_sandbox_seccomp() < 0) goto fail;
    if (sv_root) drop_dangerous_capabilities();
    if (sv_root && (setgroups((size_t)u->ngroups, u->groups) < 0 || setresgid(u->gid, u->gid, u->gid) < 0 ||
                    setresuid(u->uid, u->uid, u->uid) < 0)) goto fail;
    rep[0] = 2;
    if (chdir(c->cwd) < 0 && (c->own_cwd || chdir("/") < 0)) goto fail;
    rep[0] = 3;
    exec_searching(c->argv, c->env, c->sh_argv);
fail:
    rep[1] = errno;
    if (write(c->fds[7], rep, sizeof rep) < 0) { }
    _exit(127);
}

static void spawn(const struct msg *m)
{
    int nargs = m_count(m, F_ARG), nenv = m_count(m, F_ENV);
    char **argv = calloc((size_t)nargs + 1, sizeof *argv);
    char **env = calloc((size_t)(sv_nenv + nenv + 5), sizeof *env);
    char **owned = calloc((size_t)(nargs + nenv + 5), sizeof *owned);
    char **sh_argv = calloc((size_t)nargs + 2, sizeof *sh_argv);
    int no = 0, ne = 0, na = 0, err = 0;
    char *user = m_str(m, F_USER), *cwd = m_str(m, F_CWD), *tag = m_str(m, F_TAG);
    int64_t cols = 0, rows = 0, want_stdin = 0;
    int pty = m_int(m, F_PTY_COLS, &cols) & m_int(m, F_PTY_ROWS, &rows);
    m_int(m, F_STDIN, &want_stdin);
    struct buf spec = {0};
    int fds[8] = {-1, -1, -1, -1, -1, -1, -1, -1};  /* in r/w, out r/w, err r/w, ep r/w */
    int master = -1, slave = -1;
    struct user u;
    pid_t pid = -1;

    size_t off = 0; int t; const uint8_t *v; uint32_t n;
    while (m_next(m, &off, &t, &v, &n)) {
        if (t != F_ARG && t != F_ENV) continue;
        if (memchr(v, 0, n) || (t == F_ENV && !memchr(v, '=', n))) { err = EINVAL; break; }
        char *s = malloc(n + 1);
        memcpy(s, v, n); s[n] = 0;
        owned[no++] = s;
        if (t == F_ARG) argv[na++] = s;
        buf_put(&spec, v - 5, n + 5);
    }
    if (err || !na) { reply_err(m->id, EINVAL, "spawn: bad ARG/ENV"); goto out; }
    if ((err = user_lookup(user, &u))) { reply_err(m->id, err, "spawn: unknown user %s", user); goto out; }
    for (int i = 0; i < sv_nenv; i++) env_set(env, &ne, sv_env[i]);
    const char *defs[4][2] = {{"HOME", u.home}, {"USER", u.name}, {"LOGNAME", u.name}, {"SHELL", u.shell}};
    for (int i = 0; i < 4; i++) env_set(env, &ne, owned[no++] = xfmt(defs[i][0], defs[i][1]));
    /* ENV entries last, later ones win; owned[0..nfields) are ARG/ENV in request order */
    int k = 0;
    for (off = 0; m_next(m, &off, &t, &v, &n);) {
        if (t == F_ARG || t == F_ENV) k++;
        if (t == F_ENV) env_set(env, &ne, owned[k - 1]);
    }
    int own_cwd = cwd && *cwd;             /* else home, or / when home is missing */
    char *dir = path_resolve(u.home, own_cwd ? cwd : u.home);
    free(cwd); cwd = dir;

    if (pty) {
        int zero = 0;
        struct winsize ws = {.ws_row = (unsigned short)rows, .ws_col = (unsigned short)cols};
        if ((master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC)) < 0 ||
            ioctl(master, TIOCSPTLCK, &zero) < 0 ||
            (slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC)) < 0 ||
            ioctl(master, TIOCSWINSZ, &ws) < 0) {
            reply_err(m->id, errno, "spawn: open pty"); goto out;
        }
        if (sv_root) { fchown(slave, u.uid, (gid_t)-1); fchmod(slave, 0620); }
        nonblock(master);
    } else {
        if ((want_stdin ? pipe2(fds, O_CLOEXEC) : (fds[0] = open("/dev/null", O_RDONLY | O_CLOEXEC))) < 0 ||
            pipe2(fds + 2, O_CLOEXEC) < 0 || pipe2(fds + 4, O_CLOEXEC) < 0) {
            reply_err(m->id, errno, "spawn: pipe"); goto out;
        }
        if (fds[1] >= 0) nonblock(fds[1]);
        nonblock(fds[2]); nonblock(fds[4]);
    }
    if (pipe2(fds + 6, O_CLOEXEC) < 0) { reply_err(m->id, errno, "spawn: pipe"); goto out; }

    env[ne] = NULL;
    struct spawn_child child = {.pty = pty, .slave = slave, .own_cwd = own_cwd, .u = &u, .cwd = cwd,
                                .argv = argv, .env = env, .sh_argv = sh_argv};
    memcpy(child.fds, fds, sizeof fds);
    /* A microVM guest's supervisor still forks: with the shared-memory child, 2 of 6 runs of the microVM
     * conformance suite saw the host's main-port connection dropped right after a snapshot restore (the guest
     * answered a SPAWN with "before HELLO"); until that is understood, guests keep the proven path. */
    if (sv_guest_cgroup) {
        pid = fork();
        if (pid == 0) spawn_child_main(&child);
    } else {
        pid = clone(spawn_child_main, spawn_stack + sizeof spawn_stack, CLONE_VM | CLONE_VFORK | SIGCHLD, &child);
    }
    if (pid < 0) { reply_err(m->id, errno, "spawn: clone"); goto out; }
    close(fds[7]); fds[7] = -1;
    int rep[2];
    ssize_t r;
    while ((r = read(fds[6], rep, sizeof rep)) < 0 && errno == EINTR) { }
    if (r == sizeof rep) {
        waitpid(pid, NULL, 0);
        const char *what[] = {"set up stdio", "switch to user", "chdir", "exec"};
        reply_err(m->id, rep[1], "spawn %s: %s %s", argv[0], what[rep[0] & 3],
                  rep[0] == 2 ? cwd : rep[0] == 1 ? u.name : argv[0]);
        goto out;
    }
    struct proc *p = calloc(1, sizeof *p);
    p->pid = pid; p->pty = pty;
    p->ofd[0] = pty ? master : fds[2];
    p->ofd[1] = pty ? -1 : fds[4];
    p->ifd = pty ? fcntl(master, F_DUPFD_CLOEXEC, 0) : fds[1];
    if (pty) master = -1; else fds[2] = fds[4] = fds[1] = -1;
    p->iev = (struct ev){EV_PIN, p, 0};
    for (int i = 0; i < 2; i++) {
        p->oev[i] = (struct ev){EV_POUT, p, i};
        if (p->ofd[i] >= 0 && !sv_throttled) ep_set(p->ofd[i], &p->oev[i], EPOLLIN);
    }
    p->tag = tag; tag = NULL;
    p->cwd = cwd; cwd = NULL;
    p->spec = spec; spec.p = NULL;
    p->next = procs; procs = p;
    size_t s = fr_begin(T_OK, m->id);
    f_int(F_PID, pid);
    fr_end(s);
out:
    for (int i = 0; i < 8; i++) if (fds[i] >= 0) close(fds[i]);
    if (master >= 0) close(master);
    if (slave >= 0) close(slave);
    for (int i = 0; i < no; i++) free(owned[i]);
    free(owned); free(argv); free(sh_argv); free(env); free(user); free(cwd); free(tag); buf_free(&spec);
}

void proc_request(const struct msg *m)
{
    if (m->type == T_SPAWN) { spawn(m); return; }
    if (m->type == T_LIST_PROCESSES) {
        size_t s = fr_begin(T_OK, m->id);
        for (struct proc *p = procs; p; p = p->next) {
            if (p->dead || p->exited) continue;
            size_t o = f_open(F_PROCESS);
            f_int(F_PID, p->pid);
            if (p->tag) f_str(F_TAG, p->tag);
            buf_put(&out, p->spec.p, p->spec.len);
            f_str(F_CWD, p->cwd);
            f_close(o);
        }
        fr_end(s);
        return;
    }
    int64_t pid = 0;
    m_int(m, F_PID, &pid);
    struct proc *p = find(pid);
    if (!p) { reply_err(m->id, ESRCH, "no process %lld", (long long)pid); return; }
    switch (m->type) {
    case T_WRITE_STDIN: {
        uint32_t n = 0;
        const uint8_t *d = m_raw(m, F_DATA, &n);
        if (p->ifd < 0 || p->want_close) { reply_err(m->id, EPIPE, "write stdin of %d", p->pid); return; }
        buf_put(&p->inq, d, d ? n : 0);
        p->in_total += n;
        p->acks = realloc(p->acks, sizeof *p->acks * (size_t)(p->nacks + 1));
        p->acks[p->nacks++] = (struct ack){m->id, p->in_total};
        stdin_flush(p);                  /* OK once the data is in the pipe */
        return;
    }
    case T_CLOSE_STDIN:
        if (p->ifd < 0 || p->want_close) { reply_ok(m->id); return; }
        if (p->pty) { buf_put(&p->inq, "\x04", 1); p->in_total++; }  /* EOF on a terminal */
        p->want_close = 1; p->close_id = m->id;
        stdin_flush(p);
        return;
    case T_SIGNAL: {
        int64_t sig = 0;
        if (!m_int(m, F_SIGNO, &sig)) { reply_err(m->id, EINVAL, "signal %d: missing SIGNO", p->pid); return; }
        int a = kill(-p->pid, (int)sig), e = errno;
        int b = p->exited ? -1 : kill(p->pid, (int)sig);
        if (a < 0 && b < 0) reply_err(m->id, p->exited ? e : errno, "signal %d", p->pid);
        else reply_ok(m->id);
        return;
    }
    case T_RESIZE_PTY: {
        int64_t cols = 0, rows = 0;
        int fd = p->ofd[0] >= 0 ? p->ofd[0] : p->ifd;
        if (!p->pty || fd < 0) { reply_err(m->id, ENOTTY, "resize pty of %d", p->pid); return; }
        m_int(m, F_PTY_COLS, &cols); m_int(m, F_PTY_ROWS, &rows);
        struct winsize ws = {.ws_row = (unsigned short)rows, .ws_col = (unsigned short)cols};
        if (ioctl(fd, TIOCSWINSZ, &ws) < 0) reply_err(m->id, errno, "resize pty of %d", p->pid);
        else reply_ok(m->id);
        return;
    }
    }
}
