/* launch: create the sandbox namespaces as real root, then become its PID 1.
 *
 * parent (host root)             child (PID 1 of the new pid namespace)
 *   listen socket, join cgroups
 *   unshare(uts ipc net pid cgroup)
 *   fork ------------------------> unshare(mnt), mounts, hostname, lo, pivot_root
 *                                  unshare(user); send 'U'
 *   write uid_map/gid_map; 'G' --> setresgid/setresuid(0), setgroups(0)
 *                                  send 'R' (or 'E' + error line at any step)
 *   print child pid, exit 0        close fds, serve the listening socket
 */
#include "sv.h"
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <linux/openat2.h>
#include <net/if.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static int rep_fd = 2, rootfd = -1;
static int is_child;
static const char *sock_path;          /* removed again when the launch fails */
static unsigned long base, count;

static void __attribute__((noreturn, format(printf, 1, 2))) fail(const char *fmt, ...)
{
    int e = errno;
    char step[PATH_MAX + 64], line[PATH_MAX + 256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(step, sizeof step, fmt, ap);
    va_end(ap);
    int n = snprintf(line, sizeof line, "%serror: %s: %s\n", is_child ? "E" : "", step, strerror(e));
    if (write(rep_fd, line, (size_t)n) < 0) { }
    if (!is_child && sock_path) unlink(sock_path);
    _exit(1);
}

/* O_PATH fd for `rel` inside the new root, never resolving outside it (the
 * upper layer may hold symlinks planted by a previous sandbox user).
 * kind 'd': mkdir -p, 'f': create a file (and parents); new entries owned by base. */
static int inroot(const char *rel, int kind)
{
    char p[PATH_MAX];
    struct open_how how = {.flags = O_PATH | O_CLOEXEC, .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS};
    snprintf(p, sizeof p, "%s", rel + strspn(rel, "/"));
    for (char *s = p; kind && *s; s++) {
        char *next = strchr(s, '/');
        int last = !next || !next[strspn(next, "/")];
        if (next) *next = 0;
        char *slash = strrchr(p, '/');
        const char *name = slash ? slash + 1 : p;
        if (slash) *slash = 0;
        int dfd = (int)syscall(SYS_openat2, rootfd, slash ? p : ".", &how, sizeof how);
        if (slash) *slash = '/';
        if (dfd < 0) fail("resolve %s", p);
        if (*name && (!last || kind == 'd')) {
            if (mkdirat(dfd, name, 0755) == 0) fchownat(dfd, name, (uid_t)base, (gid_t)base, AT_SYMLINK_NOFOLLOW);
            else if (errno != EEXIST) fail("mkdir %s", p);
        } else if (*name) {
            int fd = openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
            if (fd >= 0) { fchown(fd, (uid_t)base, (gid_t)base); close(fd); }
            else if (errno != EEXIST) fail("create %s", p);
        }
        close(dfd);
        if (!next) break;
        *next = '/';
        s = next;
    }
    int fd = (int)syscall(SYS_openat2, rootfd, *p ? p : ".", &how, sizeof how);
    if (fd < 0) fail("resolve %s", rel);
    return fd;
}

static void mnt(const char *src, const char *dst, int kind, const char *type, unsigned long fl, const char *data)
{
    char t[64];
    int fd = inroot(dst, kind);
    snprintf(t, sizeof t, "/proc/self/fd/%d", fd);
    if (mount(src, t, type, fl, data) < 0) fail("mount %s on %s", src, dst);
    close(fd);
    if ((fl & MS_BIND) && (fl & MS_RDONLY)) {
        fd = inroot(dst, 0);             /* the new mount, not the dir beneath it */
        snprintf(t, sizeof t, "/proc/self/fd/%d", fd);
        if (mount(NULL, t, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID, NULL) < 0)
            fail("remount %s read-only", dst);
        close(fd);
    }
}

static int host_network; /* --network host: template builds share the host's network namespace */
static int no_new_privs;       /* --no-new-privs 1: set on PID 1, inherited by every sandbox process */
static const char *netns_path; /* --netns PATH: join a network namespace the host prepared (veth, address, routes) */

static void child(char **lowers, int nlow, const char *upper, const char *work, const char *merged,
                  const char *host, char **binds, int nbind, int lfd, int in_fd)
{
    char opts[3 * PATH_MAX + 64], tmp[PATH_MAX];
    setsid();
    /* own mount namespace: pivot_root would otherwise also move the parent's root */
    if (unshare(CLONE_NEWNS) < 0) fail("unshare mount namespace");
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) fail("make / private");
    int n = snprintf(opts, sizeof opts, "lowerdir=");
    for (int i = 0; i < nlow; i++) n += snprintf(opts + n, sizeof opts - n, "%s%s", i ? ":" : "", lowers[i]);
    snprintf(opts + n, sizeof opts - n, ",upperdir=%s,workdir=%s", upper, work);
    if (mount("overlay", merged, "overlay", 0, opts) < 0) fail("mount overlay on %s", merged);
    if ((rootfd = open(merged, O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0) fail("open %s", merged);

    mnt("proc", "proc", 'd', "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
    snprintf(tmp, sizeof tmp, "mode=755,size=1m,uid=%lu,gid=%lu", base, base);
    mnt("tmpfs", "dev", 'd', "tmpfs", MS_NOSUID | MS_NOEXEC, tmp);
    static const char *devs[] = {"null", "zero", "full", "random", "urandom", "tty"};
    for (int i = 0; i < 6; i++) {
        snprintf(tmp, sizeof tmp, "/dev/%s", devs[i]);
        mnt(tmp, tmp, 'f', NULL, MS_BIND, NULL);
    }
    snprintf(tmp, sizeof tmp, "newinstance,ptmxmode=0666,mode=0620,gid=%lu", base + 5);
    mnt("devpts", "dev/pts", 'd', "devpts", MS_NOSUID | MS_NOEXEC, tmp);
    snprintf(tmp, sizeof tmp, "mode=1777,uid=%lu,gid=%lu", base, base);
    mnt("tmpfs", "dev/shm", 'd', "tmpfs", MS_NOSUID | MS_NODEV, tmp);
    int dev = inroot("dev", 0);
    static const char *links[][2] = {{"ptmx", "pts/ptmx"}, {"fd", "/proc/self/fd"}, {"stdin", "/proc/self/fd/0"},
                                     {"stdout", "/proc/self/fd/1"}, {"stderr", "/proc/self/fd/2"}};
    for (int i = 0; i < 5; i++) {
        if (symlinkat(links[i][1], dev, links[i][0]) < 0) fail("symlink /dev/%s", links[i][0]);
        fchownat(dev, links[i][0], (uid_t)base, (gid_t)base, AT_SYMLINK_NOFOLLOW);
    }
    close(dev);
    mnt("sysfs", "sys", 'd', "sysfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
    for (int i = 0; i < nbind; i++) {
        char *src = strdup(binds[i]), *dst = strchr(src, ':'), *ro = NULL;
        struct stat st;
        if (!dst || dst[1] != '/') { errno = EINVAL; fail("bind %s", binds[i]); }
        *dst++ = 0;
        if ((ro = strchr(dst, ':'))) {
            *ro++ = 0;
            if (strcmp(ro, "ro")) { errno = EINVAL; fail("bind %s", binds[i]); }
        }
        if (stat(src, &st) < 0) fail("bind %s", src);
        mnt(src, dst, S_ISDIR(st.st_mode) ? 'd' : 'f', NULL, MS_BIND | MS_REC | (ro ? MS_RDONLY : 0), NULL);
        free(src);
    }
    if (host && sethostname(host, strlen(host)) < 0) fail("sethostname %s", host);
    if (!host_network) {
        struct ifreq ifr = {0};
        strcpy(ifr.ifr_name, "lo");
        int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (s < 0 || ioctl(s, SIOCGIFFLAGS, &ifr) < 0) fail("loopback");
        ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
        if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0) fail("loopback up");
        close(s);
    }
    close(rootfd);
    if (chdir(merged) < 0) fail("chdir %s", merged);
    if (syscall(SYS_pivot_root, ".", ".") < 0) fail("pivot_root %s", merged);
    if (umount2(".", MNT_DETACH) < 0) fail("detach old root");
    if (chdir("/") < 0) fail("chdir /");

    if (unshare(CLONE_NEWUSER) < 0) fail("unshare user namespace");
    char c;
    if (write(rep_fd, "U", 1) != 1) fail("report");
    if (read(in_fd, &c, 1) != 1 || c != 'G') { errno = EPIPE; fail("wait for uid map"); }
    gid_t g0 = 0;
    if (setresgid(0, 0, 0) < 0) fail("setresgid");
    if (setgroups(1, &g0) < 0) fail("setgroups");
    if (setresuid(0, 0, 0) < 0) fail("setresuid");
    /* a UTS namespace owned by the sandbox user namespace, so SET_HOSTNAME works */
    if (unshare(CLONE_NEWUTS) < 0) fail("unshare uts namespace");
    if (no_new_privs && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) fail("set no_new_privs");
    if (write(rep_fd, "R", 1) != 1) fail("report");

    if (dup2(lfd, 3) < 0) fail("dup listening socket");
    fcntl(3, F_SETFD, FD_CLOEXEC);
    syscall(SYS_close_range, 4, ~0U, 0);
    int null = open("/dev/null", O_RDWR);
    for (int i = 0; i < 3; i++) if (null != i) dup2(null, i);
    if (null > 2) close(null);
    loop_run(3);
}

int launch_main(int argc, char **argv)
{
    char *lowers[64], *binds[64], *cgroups[64];
    int nlow = 0, nbind = 0, ncg = 0;
    const char *upper = NULL, *work = NULL, *merged = NULL, *host = NULL, *sock = NULL;
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i];
        char *v = i + 1 < argc ? argv[++i] : NULL;
        if (!v) { errno = EINVAL; fail("option %s needs a value", o); }
        if (!strcmp(o, "--lower") && nlow < 64) lowers[nlow++] = v;
        else if (!strcmp(o, "--upper")) upper = v;
        else if (!strcmp(o, "--work")) work = v;
        else if (!strcmp(o, "--merged")) merged = v;
        else if (!strcmp(o, "--hostname")) host = v;
        else if (!strcmp(o, "--socket")) sock = v;
        else if (!strcmp(o, "--uid-base")) base = strtoul(v, NULL, 10);
        else if (!strcmp(o, "--uid-count")) count = strtoul(v, NULL, 10);
        else if (!strcmp(o, "--cgroup-procs") && ncg < 64) cgroups[ncg++] = v;
        else if (!strcmp(o, "--bind") && nbind < 64) binds[nbind++] = v;
        else if (!strcmp(o, "--env")) add_env(v);
        else if (!strcmp(o, "--network") && (!strcmp(v, "host") || !strcmp(v, "none"))) host_network = !strcmp(v, "host");
        else if (!strcmp(o, "--netns")) netns_path = v;
        else if (!strcmp(o, "--no-new-privs")) no_new_privs = !strcmp(v, "1");
        else { errno = EINVAL; fail("option %s", o); }
    }
    if (!nlow || !upper || !work || !merged || !sock || !base || count < 6 || base + count > 0xffffffffUL) {
        errno = EINVAL;
        fail("required: --lower --upper --work --merged --socket --uid-base N>0 --uid-count N>5");
    }
    const char *all[67] = {upper, work, merged};
    for (int i = 0; i < nlow; i++) all[3 + i] = lowers[i];
    for (int i = 0; i < nlow + 3; i++)
        if (strpbrk(all[i], ",:\\")) { errno = EINVAL; fail("path %s: ',', ':' and '\\' are not allowed", all[i]); }
    /* the host daemon's environment must not be readable through /proc/1/environ */
    for (char **e = environ; e && *e; e++) memset(*e, 0, strlen(*e));
    environ = NULL;
    common_init();
    default_env();
    int lfd = listen_unix(sock);
    if (lfd < 0) fail("listen %s", sock);
    sock_path = sock;
    char pid[32];
    snprintf(pid, sizeof pid, "%d\n", getpid());
    for (int i = 0; i < ncg; i++) {
        int fd = open(cgroups[i], O_WRONLY | O_CLOEXEC);
        if (fd < 0 || write(fd, pid, strlen(pid)) < 0) fail("join cgroup %s", cgroups[i]);
        close(fd);
    }
    /* the merged root takes its owner from the upper dir: make it the sandbox's root */
    if (chown(upper, (uid_t)base, (gid_t)base) < 0) fail("chown %s", upper);
    if (netns_path && !host_network) {
        int nfd = open(netns_path, O_RDONLY | O_CLOEXEC);
        if (nfd < 0 || setns(nfd, CLONE_NEWNET) < 0) fail("join network namespace %s", netns_path);
        close(nfd);
    }
    if (unshare(CLONE_NEWUTS | CLONE_NEWIPC | (host_network || netns_path ? 0 : CLONE_NEWNET) | CLONE_NEWPID | CLONE_NEWCGROUP) < 0)
        fail("unshare");
    if (!host_network) {
        /* the netns belongs to the host's user namespace, so sandbox root holds no CAP_NET_BIND_SERVICE
         * there: let it bind low ports and open ICMP echo sockets (ping) anyway */
        static const char *const knobs[][2] = {{"/proc/sys/net/ipv4/ip_unprivileged_port_start", "0"},
                                               {"/proc/sys/net/ipv4/ping_group_range", "0 2147483647"}};
        for (int i = 0; i < 2; i++) {
            int fd = open(knobs[i][0], O_WRONLY | O_CLOEXEC);
            if (fd < 0 || write(fd, knobs[i][1], strlen(knobs[i][1])) < 0) fail("write %s", knobs[i][0]);
            close(fd);
        }
    }
    int up[2], down[2];
    if (pipe2(up, O_CLOEXEC) < 0 || pipe2(down, O_CLOEXEC) < 0) fail("pipe");
    pid_t c = fork();
    if (c < 0) fail("fork");
    if (c == 0) {
        is_child = 1;
        rep_fd = up[1];
        close(up[0]); close(down[1]);
        child(lowers, nlow, upper, work, merged, host, binds, nbind, lfd, down[0]);
    }
    close(up[1]); close(down[0]); close(lfd);
    for (;;) {
        char ch = 0, line[PATH_MAX + 256];
        ssize_t r = read(up[0], &ch, 1);
        if (r < 0 && errno == EINTR) continue;
        if (ch == 'U') {
            const char *maps[] = {"uid_map", "gid_map"};
            char m[64], path[64];
            int len = snprintf(m, sizeof m, "0 %lu %lu\n", base, count);
            for (int i = 0; i < 2; i++) {
                snprintf(path, sizeof path, "/proc/%d/%s", c, maps[i]);
                int fd = open(path, O_WRONLY | O_CLOEXEC);
                if (fd < 0 || write(fd, m, (size_t)len) != len) { kill(c, SIGKILL); waitpid(c, NULL, 0); fail("write %s", path); }
                close(fd);
            }
            if (write(down[1], "G", 1) != 1) fail("signal child");
            continue;
        }
        if (ch == 'R') { printf("%d\n", c); fflush(stdout); return 0; }
        int st = 0;
        if (ch == 'E') {
            size_t n = 0;
            while (n < sizeof line && (r = read(up[0], line + n, sizeof line - n)) > 0) n += (size_t)r;
            if (write(2, line, n) < 0) { }
            waitpid(c, NULL, 0);
            unlink(sock);
            return 1;
        }
        waitpid(c, &st, 0);
        errno = ECHILD;
        fail("sandbox init died (status 0x%x)", st);
    }
}
