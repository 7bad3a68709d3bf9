/* launch: create the sandbox namespaces, then start its PID 1.
 *
 * launcher (host root)           child (host pid namespace)            init (PID 1 of the new pid namespace)
 *   listen socket, join cgroups,
 *   join or create the netns, lo up
 *   fork ---------------------->  unshare(user); send 'U'
 *   write uid_map/gid_map; 'G' -> setresgid/setresuid(0), setgroups(0)
 *                                 unshare(mnt ipc uts pid cgroup); 'N'
 *   setns(child's mnt), mount
 *   the root (overlay, /dev, /sys,
 *   binds); 'M' -------------->   fork -------------------------------> mount /proc, hostname, pivot_root
 *                                 send 'P' + init's pid, exit           send 'R' (or 'E' + error line at any step)
 *   print init's pid, exit 0                                            close fds, serve the listening socket
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
static const char *reexec;     /* --reexec PATH: PID 1 execs this supervisor binary (a path inside the sandbox) */

/* The root's mounts, made by the launcher (host root) inside the sandbox's mount namespace: overlayfs with
 * the host's lower and upper directories, device nodes bound from the host, sysfs of the sandbox's network. */
static void build_root(char **lowers, int nlow, const char *upper, const char *work, const char *merged,
                       char **binds, int nbind)
{
    char opts[3 * PATH_MAX + 64], tmp[PATH_MAX];
    int n = snprintf(opts, sizeof opts, "lowerdir=");
    for (int i = 0; i < nlow; i++) n += snprintf(opts + n, sizeof opts - n, "%s%s", i ? ":" : "", lowers[i]);
    snprintf(opts + n, sizeof opts - n, ",upperdir=%s,workdir=%s", upper, work);
    if (mount("overlay", merged, "overlay", 0, opts) < 0) fail("mount overlay on %s", merged);
    if ((rootfd = open(merged, O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0) fail("open %s", merged);

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
}

/* PID 1 of the sandbox: proc for its own pid namespace, hostname, pivot_root into the merged root, serve. */
static void __attribute__((noreturn)) sandbox_init(const char *merged, const char *host, int lfd)
{
    setsid();   /* its own session: nothing of the sandbox refers to a process outside it */
    mnt("proc", "proc", 'd', "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
    if (host && sethostname(host, strlen(host)) < 0) fail("sethostname %s", host);
    if (fchdir(rootfd) < 0) fail("chdir %s", merged);
    close(rootfd);
    if (syscall(SYS_pivot_root, ".", ".") < 0) fail("pivot_root %s", merged);
    if (umount2(".", MNT_DETACH) < 0) fail("detach old root");
    if (chdir("/") < 0) fail("chdir /");
    if (no_new_privs && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) fail("set no_new_privs");
    if (write(rep_fd, "R", 1) != 1) fail("report");

    if (dup2(lfd, 3) < 0) fail("dup listening socket");
    fcntl(3, F_SETFD, reexec ? 0 : FD_CLOEXEC);
    syscall(SYS_close_range, 4, ~0U, 0);
    int null = open("/dev/null", O_RDWR);
    for (int i = 0; i < 3; i++) if (null != i) dup2(null, i);
    if (null > 2) close(null);
    if (reexec) {
        /* run from a file inside the sandbox's mounts, so a checkpoint of it needs nothing of the host's */
        char **argv = calloc((size_t)(2 * sv_nenv + 7), sizeof *argv);
        int n = 0;
        argv[n++] = "hearth-supervisor";
        argv[n++] = "serve";
        argv[n++] = "--listen-fd";
        argv[n++] = "3";
        argv[n++] = "--undumpable";
        argv[n++] = "1";
        for (int i = 0; i < sv_nenv; i++) { argv[n++] = "--env"; argv[n++] = sv_env[i]; }
        argv[n] = NULL;
        char *envp[] = {NULL};
        execve(reexec, argv, envp);
        _exit(127);
    }
    loop_run(3);
}

/* The sandbox's user namespace comes first and owns its mount, IPC, UTS, PID and cgroup namespaces (so a
 * checkpoint tool finds every namespace under the one user namespace it saves); the launcher then builds the
 * root inside the new mount namespace with its host privileges, and the first child becomes PID 1. */
static void __attribute__((noreturn)) child(const char *merged, const char *host, int lfd, int in_fd)
{
    char c;
    setsid();
    if (unshare(CLONE_NEWUSER) < 0) fail("unshare user namespace");
    if (write(rep_fd, "U", 1) != 1) fail("report");
    if (read(in_fd, &c, 1) != 1 || c != 'G') { errno = EPIPE; fail("wait for uid map"); }
    gid_t g0 = 0;
    if (setresgid(0, 0, 0) < 0) fail("setresgid");
    if (setgroups(1, &g0) < 0) fail("setgroups");
    if (setresuid(0, 0, 0) < 0) fail("setresuid");
    if (unshare(CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWPID | CLONE_NEWCGROUP) < 0) fail("unshare namespaces");
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) fail("make / private");
    if (write(rep_fd, "N", 1) != 1) fail("report");
    /* the merged root comes as a descriptor: the sandbox directory above it is closed to the sandbox's uids */
    char control[CMSG_SPACE(sizeof(int))];
    struct iovec iov = {.iov_base = &c, .iov_len = 1};
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control, .msg_controllen = sizeof control};
    struct cmsghdr *cm;
    if (recvmsg(in_fd, &msg, MSG_CMSG_CLOEXEC) != 1 || c != 'M' || !(cm = CMSG_FIRSTHDR(&msg)) || cm->cmsg_type != SCM_RIGHTS) {
        errno = EPIPE;
        fail("wait for the root's mounts");
    }
    memcpy(&rootfd, CMSG_DATA(cm), sizeof rootfd);
    pid_t init = fork();
    if (init < 0) fail("fork sandbox init");
    if (init == 0) {
        close(in_fd);
        sandbox_init(merged, host, lfd);
    }
    char report[1 + sizeof init] = {'P'};
    memcpy(report + 1, &init, sizeof init);
    if (write(rep_fd, report, sizeof report) != (ssize_t)sizeof report) fail("report");
    _exit(0);
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
        else if (!strcmp(o, "--reexec")) reexec = v;
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
    if (!host_network && !netns_path && unshare(CLONE_NEWNET) < 0) fail("unshare network namespace");
    /* created in the sandbox's network namespace, where a checkpoint of the sandbox looks for its sockets */
    int lfd = listen_unix(sock);
    if (lfd < 0) fail("listen %s", sock);
    sock_path = sock;
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
        struct ifreq ifr = {0};
        strcpy(ifr.ifr_name, "lo");
        int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (s < 0 || ioctl(s, SIOCGIFFLAGS, &ifr) < 0) fail("loopback");
        ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
        if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0) fail("loopback up");
        close(s);
    }
    int up[2], down[2];
    if (pipe2(up, O_CLOEXEC) < 0 || socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, down) < 0) fail("pipe");
    pid_t c = fork();
    if (c < 0) fail("fork");
    if (c == 0) {
        is_child = 1;
        rep_fd = up[1];
        close(up[0]); close(down[1]);
        child(merged, host, lfd, down[0]);
    }
    close(up[1]); close(down[0]); close(lfd);
    pid_t init = 0;
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
        if (ch == 'N') {
            char path[64];
            snprintf(path, sizeof path, "/proc/%d/ns/mnt", c);
            int fd = open(path, O_RDONLY | O_CLOEXEC);
            if (fd < 0 || setns(fd, CLONE_NEWNS) < 0) { kill(c, SIGKILL); waitpid(c, NULL, 0); fail("join the sandbox's mount namespace"); }
            close(fd);
            build_root(lowers, nlow, upper, work, merged, binds, nbind);
            char control[CMSG_SPACE(sizeof(int))] = {0};
            struct iovec iov = {.iov_base = "M", .iov_len = 1};
            struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control, .msg_controllen = sizeof control};
            struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
            cm->cmsg_level = SOL_SOCKET;
            cm->cmsg_type = SCM_RIGHTS;
            cm->cmsg_len = CMSG_LEN(sizeof(int));
            memcpy(CMSG_DATA(cm), &rootfd, sizeof rootfd);
            if (sendmsg(down[1], &msg, 0) != 1) fail("signal child");
            close(rootfd);
            continue;
        }
        if (ch == 'P') {
            size_t got = 0;
            while (got < sizeof init && (r = read(up[0], (char *)&init + got, sizeof init - got)) > 0) got += (size_t)r;
            if (got != sizeof init) { errno = EPIPE; fail("read the sandbox init's pid"); }
            waitpid(c, NULL, 0);
            continue;
        }
        if (ch == 'R' && init > 0) { printf("%d\n", init); fflush(stdout); return 0; }
        int st = 0;
        if (ch == 'E') {
            size_t n = 0;
            while (n < sizeof line && (r = read(up[0], line + n, sizeof line - n)) > 0) n += (size_t)r;
            if (write(2, line, n) < 0) { }
            if (!init) waitpid(c, NULL, 0);
            unlink(sock);
            return 1;
        }
        if (!init) waitpid(c, &st, 0);
        errno = ECHILD;
        fail("sandbox init died (status 0x%x)", st);
    }
}
