/* microVM guest: `guest-init` is the guest kernel's PID 1 (init=/.hearth/hearth-supervisor -- guest-init).
 * It mounts the template root (read-only /dev/vda) under an overlay whose upper layer lives on the
 * per-sandbox disk (/dev/vdb, ext4), moves the merged tree onto /, then serves the protocol on the
 * virtio-serial port named "hearth" (the host end is a Unix socket). IDENTIFY gives the guest its
 * hostname, base environment, fresh entropy and the wall clock, after a boot or a snapshot restore. */
#include "guest.h"
#include <signal.h>
#include <sys/prctl.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/random.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define RW_DIR "/.hearth/rw"
#define MERGED_DIR "/.hearth/merged"
#define PORT_NAME "hearth"
#define CONTROL_PORT_NAME "hearth-ctl"

const char *sv_guest_cgroup;

static int write_file(const char *path, const char *text);

static void die(const char *what)
{
    sv_log("guest-init: %s: %s", what, strerror(errno));
    /* PID 1 exiting panics the guest; the host sees QEMU stop answering */
    exit(1);
}

static void mount_or_die(const char *src, const char *dst, const char *type, unsigned long flags, const char *opts)
{
    mkdir(dst, 0755);
    if (mount(src, dst, type, flags, opts) < 0 && errno != EBUSY) die(dst);
}

static void loopback_up(void)
{
    struct ifreq ifr = {0};
    strcpy(ifr.ifr_name, "lo");
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (s < 0 || ioctl(s, SIOCGIFFLAGS, &ifr) < 0) die("loopback");
    ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
    if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0) die("loopback up");
    close(s);
}

/* /dev/vportNpM of the virtio-serial port called `port`. */
static int find_port(const char *port, char *dev, size_t size)
{
    DIR *d = opendir("/sys/class/virtio-ports");
    if (!d) return -1;
    struct dirent *e;
    int found = -1;
    while (found < 0 && (e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        char p[512], name[64] = {0};
        snprintf(p, sizeof p, "/sys/class/virtio-ports/%s/name", e->d_name);
        int fd = open(p, O_RDONLY | O_CLOEXEC);
        if (fd < 0) continue;
        ssize_t n = read(fd, name, sizeof name - 1);
        close(fd);
        if (n > 0 && name[n - 1] == '\n') name[n - 1] = 0;
        if (!strcmp(name, port)) { snprintf(dev, size, "/dev/%s", e->d_name); found = 0; }
    }
    closedir(d);
    return found;
}

/* The control port: a child of PID 1 serves it (TOOLS) while the host holds the main port; a second
 * connection to one virtio-serial port would wait for the first to close. */
static void serve_control_port(void)
{
    char dev[300];
    if (find_port(CONTROL_PORT_NAME, dev, sizeof dev) < 0) return;   /* an older host: no tool files */
    int fd = open(dev, O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) { sv_log("guest-init: %s: %s", dev, strerror(errno)); return; }
    pid_t pid = fork();
    if (pid < 0) { sv_log("guest-init: fork control port: %s", strerror(errno)); close(fd); return; }
    if (pid > 0) { close(fd); return; }
    prctl(PR_SET_NAME, "hearth-control");
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    loop_run_device(fd);
}

int guest_init_main(void)
{
    mount_or_die("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
    mount_or_die("sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
    mount_or_die("devtmpfs", "/dev", "devtmpfs", MS_NOSUID, "mode=0755");
    if (mount("/dev/vdb", RW_DIR, "ext4", MS_NOATIME, "noinit_itable") < 0) die("mount /dev/vdb");
    mkdir(RW_DIR "/upper", 0755);
    mkdir(RW_DIR "/work", 0755);
    if (mount("overlay", MERGED_DIR, "overlay", 0, "lowerdir=/,upperdir=" RW_DIR "/upper,workdir=" RW_DIR "/work") < 0)
        die("mount overlay");
    mount_or_die("proc", MERGED_DIR "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
    /* /proc/sys read-only, as in a container: the guest kernel is the sandbox's own, but its settings are the
     * host's to make (uid 0 may write net sysctls without CAP_NET_ADMIN); no sandbox process can remount it */
    if (mount(MERGED_DIR "/proc/sys", MERGED_DIR "/proc/sys", NULL, MS_BIND, NULL) < 0 ||
        mount(NULL, MERGED_DIR "/proc/sys", NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
        die("read-only /proc/sys");
    mount_or_die("sysfs", MERGED_DIR "/sys", "sysfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
    mount_or_die("devtmpfs", MERGED_DIR "/dev", "devtmpfs", MS_NOSUID, "mode=0755");
    mount_or_die("devpts", MERGED_DIR "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC, "ptmxmode=0666,mode=0620,gid=5");
    mount_or_die("tmpfs", MERGED_DIR "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777");
    mount_or_die("tmpfs", MERGED_DIR "/run", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755");
    mkdir(MERGED_DIR "/run/lock", 01777);
    if (guest_tools_mount(MERGED_DIR) < 0) die("mount " TOOLS_DIR);
    unlink(MERGED_DIR "/dev/ptmx");
    if (symlink("pts/ptmx", MERGED_DIR "/dev/ptmx") < 0) die("symlink /dev/ptmx");
    static const char *links[][2] = {{"fd", "/proc/self/fd"}, {"stdin", "/proc/self/fd/0"},
                                     {"stdout", "/proc/self/fd/1"}, {"stderr", "/proc/self/fd/2"}};
    for (int i = 0; i < 4; i++) {
        char p[128];
        snprintf(p, sizeof p, MERGED_DIR "/dev/%s", links[i][0]);
        if (symlink(links[i][1], p) < 0 && errno != EEXIST) die(p);
    }
    /* the sandbox's processes share one pids cgroup inside the guest (hearth_pids= on the kernel command line) */
    mount_or_die("cgroup2", MERGED_DIR "/sys/fs/cgroup", "cgroup2", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
    const char *pids = getenv("hearth_pids");
    if (mkdir(MERGED_DIR "/sys/fs/cgroup/sandbox", 0755) == 0 &&
        write_file(MERGED_DIR "/sys/fs/cgroup/cgroup.subtree_control", "+pids") == 0 &&
        (!pids || write_file(MERGED_DIR "/sys/fs/cgroup/sandbox/pids.max", pids) == 0))
        sv_guest_cgroup = "/sys/fs/cgroup/sandbox/cgroup.procs";
    if (chdir(MERGED_DIR) < 0) die("chdir merged");
    if (mount(".", "/", NULL, MS_MOVE, NULL) < 0) die("move merged root");
    if (chroot(".") < 0 || chdir("/") < 0) die("chroot");
    loopback_up();

    char dev[300];
    if (find_port(PORT_NAME, dev, sizeof dev) < 0) { errno = ENODEV; die("virtio-serial port " PORT_NAME); }
    int fd = open(dev, O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) die(dev);
    common_init();
    default_env();
    /* sandbox root is uid 0 like PID 1: not dumpable, so /proc/1/environ, memory and fds need CAP_SYS_PTRACE,
     * which no sandbox process keeps */
    prctl(PR_SET_DUMPABLE, 0);
    serve_control_port();
    loop_run_device(fd);
}

static int write_file(const char *path, const char *text)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd < 0) return -1;
    ssize_t n = write(fd, text, strlen(text));
    close(fd);
    return n == (ssize_t)strlen(text) ? 0 : -1;
}

#define CA_BUNDLE "/etc/ssl/certs/ca-certificates.crt"

/* IDENTIFY's network part: eth0 takes the sandbox's MAC, address and route; the resolver and a CA to trust
 * (the egress proxy's) go where the template's programs look. -1 when it replied with an error. */
static int identify_network(const struct msg *m, int *bridged)
{
    char *mac = m_str(m, F_NET_MAC), *cidr = m_str(m, F_NET_ADDRESS), *gw = m_str(m, F_NET_GATEWAY);
    char *ns = m_str(m, F_NAMESERVER);
    uint32_t ca_len = 0;
    const uint8_t *ca = m_raw(m, F_TRUSTED_CA, &ca_len);
    int rc = 0;
    if (mac && cidr && gw) {
        const char *what = "";
        int err = guest_net_configure(mac, cidr, gw, &what);
        if (err) { reply_err(m->id, err, "identify: network: %s", what); rc = -1; }
        else *bridged = 1;
    }
    if (rc == 0 && ns) {
        char text[300];
        snprintf(text, sizeof text, "nameserver %s\n", ns);
        if (write_file("/etc/resolv.conf", text) < 0) { reply_err(m->id, errno, "identify: resolv.conf"); rc = -1; }
    }
    if (rc == 0 && ca && ca_len > 0) {
        int fd = open(CA_BUNDLE, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
        int ok = fd >= 0 && write(fd, "\n", 1) == 1 && write(fd, ca, ca_len) == (ssize_t)ca_len;
        if (!ok) { reply_err(m->id, errno, "identify: trust the CA"); rc = -1; }
        if (fd >= 0) close(fd);
    }
    free(mac); free(cidr); free(gw); free(ns);
    return rc;
}

/* IDENTIFY{NAME, ENV..., DATA, MTIME_NS, [NET_MAC, NET_ADDRESS, NET_GATEWAY, NAMESERVER, TRUSTED_CA]}: who this
 * guest is now (a restored snapshot starts as someone else). */
void guest_identify(const struct msg *m)
{
    char *name = m_str(m, F_NAME);
    int64_t now_ns = 0;
    uint32_t seed_len = 0;
    const uint8_t *seed = m_raw(m, F_DATA, &seed_len);
    if (seed && seed_len > 0 && seed_len <= 4096) {
        struct { struct rand_pool_info info; uint8_t bytes[4096]; } pool;
        pool.info.entropy_count = (int)seed_len * 8;
        pool.info.buf_size = (int)seed_len;
        memcpy(pool.bytes, seed, seed_len);
        int rfd = open("/dev/urandom", O_WRONLY | O_CLOEXEC);
        /* credit the bytes, then force the CRNG to rekey now: clones of one snapshot diverge at once */
        if (rfd < 0 || ioctl(rfd, RNDADDENTROPY, &pool.info) < 0 || ioctl(rfd, RNDRESEEDCRNG) < 0) {
            int e = errno;
            if (rfd >= 0) close(rfd);
            free(name);
            reply_err(m->id, e, "identify: reseed entropy");
            return;
        }
        close(rfd);
    }
    if (m_int(m, F_MTIME_NS, &now_ns) && now_ns > 0) {
        struct timespec ts = {.tv_sec = now_ns / 1000000000, .tv_nsec = now_ns % 1000000000};
        if (clock_settime(CLOCK_REALTIME, &ts) < 0) { free(name); reply_err(m->id, errno, "identify: set clock"); return; }
    }
    int bridged = 0;
    if (identify_network(m, &bridged) < 0) { free(name); return; }
    int64_t nnp = 0;
    if (m_int(m, F_NO_NEW_PRIVS, &nnp) && nnp == 1 && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
        free(name); reply_err(m->id, errno, "identify: no_new_privs"); return;
    }
    if (name) {
        char text[700];
        if (sethostname(name, strlen(name)) < 0) { int e = errno; free(name); reply_err(m->id, e, "identify: hostname"); return; }
        snprintf(text, sizeof text, "%s\n", name);
        write_file("/etc/hostname", text);
        snprintf(text, sizeof text, "127.0.0.1\tlocalhost\n127.0.1.1\t%s\n::1\tlocalhost ip6-localhost ip6-loopback\n%s", name,
                 bridged ? "169.254.169.254\tmetadata.hearth.internal\n" : "");
        write_file("/etc/hosts", text);
        free(name);
    }
    int nenv = m_count(m, F_ENV);
    if (nenv > 0) {
        char **env = calloc((size_t)nenv + 1, sizeof *env);
        size_t off = 0; int t; const uint8_t *v; uint32_t n; int k = 0;
        while (m_next(m, &off, &t, &v, &n)) {
            if (t != F_ENV) continue;
            if (memchr(v, 0, n) || !memchr(v, '=', n)) { reply_err(m->id, EINVAL, "identify: bad ENV"); return; }
            env[k] = malloc(n + 1);
            memcpy(env[k], v, n);
            env[k++][n] = 0;
        }
        sv_env = env;  /* the old base environment is small and may point into argv: never freed */
        sv_nenv = k;
        default_env();
    }
    reply_ok(m->id);
}
