/* Event loop: listening socket, one client, signalfd, inotify, child fds. */
#include "sv.h"
#include "guest.h"
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

int sv_epfd = -1, sv_client = -1, sv_connected, sv_throttled, sv_root, sv_detached;
const char *sv_listen_path;            /* --listen PATH: re-created after a checkpoint restore */
static int listen_fd = -1;
/* Device mode (a microVM's virtio-serial port): the port is the client for good; EOF means the host end
 * closed, so the connection state resets but the fd stays. Edge-triggered, because the port polls
 * readable (EOF) for as long as no host is connected. */
static int dev_mode;
/* Device mode: when an EOF was read (0: none pending). The guest learns of the host's closes and connects on
 * the control queue (a workqueue), while the host's bytes come on the data queue (an interrupt): a new host's
 * HELLO, even its first requests, can overtake the old host's close, and the close then reads as EOF between
 * the two control messages. So an EOF resets the connection only if the port still reads EOF a moment later;
 * data or EAGAIN (a host is connected) in between mean it was stale. A HELLO starts a connection in any case. */
static uint64_t dev_eof_at;
#define DEV_EOF_SETTLE_MS 100
char **sv_env;
int sv_nenv;

static size_t out_off;                 /* bytes of `out` already sent */
static struct buf in;                  /* partial incoming frames */
static uint32_t client_events;
static struct ev ev_listen = {EV_LISTEN, 0, 0}, ev_client = {EV_CLIENT, 0, 0},
                 ev_sig = {EV_SIGNAL, 0, 0};

void sv_log(const char *fmt, ...)
{
    char b[1024]; va_list ap;
    va_start(ap, fmt);
    vsnprintf(b, sizeof b - 1, fmt, ap);
    va_end(ap);
    fprintf(stderr, "hearth-supervisor: %s\n", b);
}

uint64_t now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000 + (uint64_t)t.tv_nsec / 1000000;
}

void ep_set(int fd, struct ev *e, uint32_t events)
{
    struct epoll_event ee = {.events = events, .data.ptr = e};
    if (epoll_ctl(sv_epfd, EPOLL_CTL_MOD, fd, &ee) < 0 &&
        (errno != ENOENT || epoll_ctl(sv_epfd, EPOLL_CTL_ADD, fd, &ee) < 0))
        sv_log("epoll_ctl fd %d: %s", fd, strerror(errno));
}

void ep_del(int fd) { epoll_ctl(sv_epfd, EPOLL_CTL_DEL, fd, NULL); }

size_t out_pending(void) { return out.len - out_off; }

static void client_close(void)
{
    if (sv_client < 0) return;
    if (dev_mode) {
        sv_detached = 1;
    } else {
        ep_del(sv_client);
        close(sv_client);
        sv_client = -1;
    }
    sv_connected = 0;
    buf_free(&out); out_off = 0;
    buf_free(&in);
    files_drop();           /* write handles, reads and watches belong to the */
    watch_drop();           /* connection that created them */
}

/* Device mode: a HELLO on the port starts a new connection even when the old one's EOF was never seen
 * (the host closed and reconnected before the guest looked): what belonged to the old one goes. Frames
 * already parsed from `in` stay (the caller is walking it); a host leaves half a frame only by dying mid-write. */
static void dev_new_connection(void)
{
    if (sv_connected) {
        buf_free(&out); out_off = 0;
        files_drop();
        watch_drop();
        sv_connected = 0;
    }
    sv_detached = 0;
}

static void client_update(void)
{
    if (sv_client < 0) return;
    uint32_t ev = (sv_throttled ? 0 : EPOLLIN) | (out_pending() ? EPOLLOUT : 0) | (dev_mode ? EPOLLET : 0);
    if (ev != client_events) { client_events = ev; ep_set(sv_client, &ev_client, ev); }
}

static void flush(void)
{
    while (sv_client >= 0 && out_pending()) {
        ssize_t n = dev_mode ? write(sv_client, out.p + out_off, out_pending())
                             : send(sv_client, out.p + out_off, out_pending(), MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0) {
            if (errno == EINTR) continue;
            /* edge-triggered in device mode: the port wakes its waiters when it turns writable, no re-arm
             * needed (a re-arm would report EPOLLHUP again at once while no host is connected: a busy loop) */
            if (errno != EAGAIN) { sv_log("client write: %s", strerror(errno)); client_close(); }
            break;
        }
        out_off += (size_t)n;
    }
    if (out_off && out_off == out.len) out.len = out_off = 0;
    else if (out_off > (1u << 20) && out_off > out.len / 2) {
        memmove(out.p, out.p + out_off, out.len - out_off);
        out.len -= out_off; out_off = 0;
    }
}

static void dispatch(const struct msg *m)
{
    if (m->type == T_HELLO) {
        if (dev_mode) dev_new_connection();
        sv_connected = 1;
        size_t s = fr_begin(T_OK, m->id);
        f_int(F_GENERATION, GENERATION);
        f_int(F_PID, getpid());
        fr_end(s);
        proc_connected();
        return;
    }
    if (!sv_connected) { reply_err(m->id, EPROTO, "request %d before HELLO", m->type); return; }
    switch (m->type) {
    case T_SPAWN: case T_WRITE_STDIN: case T_CLOSE_STDIN: case T_SIGNAL:
    case T_RESIZE_PTY: case T_LIST_PROCESSES:
        proc_request(m); break;
    case T_STAT: case T_LIST_DIR: case T_MAKE_DIR: case T_MOVE: case T_REMOVE:
    case T_READ_FILE: case T_WRITE_OPEN: case T_WRITE_DATA: case T_WRITE_CLOSE:
        files_request(m); break;
    case T_WATCH: case T_UNWATCH:
        watch_request(m); break;
    case T_PING:
        reply_ok(m->id); break;
    case T_IDENTIFY:
        guest_identify(m); break;
    case T_TOOLS:
        guest_tools(m); break;
    case T_SET_HOSTNAME: {
        uint32_t n = 0; const uint8_t *p = m_raw(m, F_DATA, &n);
        if (!p) reply_err(m->id, EINVAL, "set hostname: missing DATA");
        else if (sethostname((const char *)p, n) < 0) reply_err(m->id, errno, "set hostname");
        else reply_ok(m->id);
        break;
    }
    default:
        reply_err(m->id, ENOSYS, "unknown request type %d", m->type);
    }
}

static int client_read_once(void);

/* A gVisor checkpoint cannot save a socket bound to a host path: SIGUSR1 drops the connection and the
 * listening socket (and its path) before one; SIGUSR2 listens again after a restore or a fork's checkpoint. */
static void checkpoint_signal(uint32_t signo)
{
    if (!sv_listen_path || dev_mode) return;
    if (signo == SIGUSR1 && listen_fd >= 0) {
        client_close();
        ep_del(listen_fd);
        close(listen_fd);
        listen_fd = -1;
        unlink(sv_listen_path);
    } else if (signo == SIGUSR2 && listen_fd < 0) {
        listen_fd = listen_unix(sv_listen_path);
        if (listen_fd < 0) sv_log("listen %s again: %s", sv_listen_path, strerror(errno));
        else ep_set(listen_fd, &ev_listen, EPOLLIN);
    }
}

static void client_read(void)
{
    /* edge-triggered in device mode: drain until EAGAIN (or EOF, or throttled) */
    while (client_read_once() && dev_mode && sv_client >= 0 && !sv_throttled) { }
}

static int client_read_once(void)
{
    char tmp[65536];
    ssize_t n = read(sv_client, tmp, sizeof tmp);
    if (n < 0 && errno == EAGAIN) dev_eof_at = 0;        /* a host is connected: a pending EOF was stale */
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return 0;
    if (n == 0 && dev_mode && (!dev_eof_at || now_ms() - dev_eof_at < DEV_EOF_SETTLE_MS)) {
        if (!dev_eof_at) dev_eof_at = now_ms() | 1;      /* look again once it settled (see dev_eof_at) */
        return 0;
    }
    dev_eof_at = 0;
    if (n <= 0) { client_close(); return 0; }
    sv_detached = 0;
    buf_put(&in, tmp, (size_t)n);
    size_t off = 0;
    while (sv_client >= 0 && in.len - off >= 4) {
        const uint8_t *p = (const uint8_t *)in.p + off;
        uint32_t len = p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
        if (len < 5 || len > MAX_FRAME) {
            sv_log("protocol error: frame length %u", len);
            client_close();
            return 0;
        }
        if (in.len - off - 4 < len) break;
        struct msg m = {p[4], p[5] | p[6] << 8 | p[7] << 16 | (uint32_t)p[8] << 24, p + 9, len - 5};
        off += 4 + (size_t)len;
        dispatch(&m);
    }
    if (sv_client < 0) return 0;
    memmove(in.p, in.p + off, in.len - off);
    in.len -= off;
    return 1;
}

static void client_accept(int lfd)
{
    int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) return;
    client_close();                      /* newer connection replaces older */
    sv_client = fd;
    client_events = EPOLLIN;
    ep_set(fd, &ev_client, EPOLLIN);
}

void loop_run_device(int fd)
{
    dev_mode = 1;
    sv_detached = 1;
    sv_client = fd;
    client_events = EPOLLIN | EPOLLET;
    loop_run(-1);
}

void loop_run(int lfd)
{
    sigset_t ss;
    sigfillset(&ss);
    sigdelset(&ss, SIGSEGV); sigdelset(&ss, SIGBUS); sigdelset(&ss, SIGFPE); sigdelset(&ss, SIGILL);
    sigprocmask(SIG_BLOCK, &ss, NULL);
    int sfd = signalfd(-1, &ss, SFD_NONBLOCK | SFD_CLOEXEC);
    sv_epfd = epoll_create1(EPOLL_CLOEXEC);
    if (sfd < 0 || sv_epfd < 0) { sv_log("setup: %s", strerror(errno)); exit(1); }
    listen_fd = lfd;
    if (lfd >= 0) ep_set(lfd, &ev_listen, EPOLLIN);
    if (dev_mode) ep_set(sv_client, &ev_client, client_events);
    ep_set(sfd, &ev_sig, EPOLLIN);
    ids_init();
    watch_init();
    proc_reap();
    for (;;) {
        int timeout = proc_timeout();
        if (dev_eof_at) {
            uint64_t waited = now_ms() - dev_eof_at;
            int left = waited >= DEV_EOF_SETTLE_MS ? 0 : (int)(DEV_EOF_SETTLE_MS - waited);
            if (timeout < 0 || left < timeout) timeout = left;
        }
        if (sv_client >= 0 && out_pending() < OUT_LOW && files_pump()) timeout = 0;
        flush();
        client_update();
        struct epoll_event evs[64];
        int n = epoll_wait(sv_epfd, evs, 64, timeout);
        for (int i = 0; i < n; i++) {
            struct ev *e = evs[i].data.ptr;
            switch (e->kind) {
            case EV_LISTEN: client_accept(listen_fd); break;
            case EV_CLIENT:
                if (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) client_read();
                break;
            case EV_SIGNAL: {
                struct signalfd_siginfo si;
                while (read(sfd, &si, sizeof si) == sizeof si) {
                    if ((si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT) && getpid() != 1)
                        exit(0);  /* only when not PID 1 (tests); PID 1 dies to SIGKILL */
                    /* only from outside the sandbox (pid 0: the gVisor sentry), never from a sandbox process */
                    if ((si.ssi_signo == SIGUSR1 || si.ssi_signo == SIGUSR2) && si.ssi_pid == 0) checkpoint_signal(si.ssi_signo);
                }
                proc_reap();
                break;
            }
            case EV_INOTIFY: watch_event(); break;
            default: proc_event(e, evs[i].events);
            }
        }
        proc_timers();
        if (dev_eof_at && now_ms() - dev_eof_at >= DEV_EOF_SETTLE_MS) client_read();   /* EOF again: a real close */
        flush();
        size_t q = out_pending();
        int t = sv_client >= 0 && (q > OUT_HIGH || (sv_throttled && q > OUT_LOW));
        if (t != sv_throttled) { sv_throttled = t; proc_throttle(t); }
    }
}
