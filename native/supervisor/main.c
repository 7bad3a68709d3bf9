/* hearth-supervisor: entry point. */
#include "sv.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

extern struct rlimit sv_nofile;

static const char usage[] =
    "usage: hearth-supervisor serve (--listen-fd N | --listen PATH) [--env K=V]...\n"
    "       hearth-supervisor launch --lower DIR... --upper DIR --work DIR --merged DIR\n"
    "           --socket PATH --uid-base N --uid-count N [--hostname NAME]\n"
    "           [--cgroup-procs FILE]... [--bind SRC:DST[:ro]]... [--env K=V]... [--network none|host]\n"
    "           [--disk-volume DIR --disk-bytes N]   (DIR: a new btrfs subvolume holding --upper and --work)\n"
    "       hearth-supervisor spawner   (launch requests on stdin, see spawner.c)\n"
    "       hearth-supervisor guest-init   (PID 1 of a microVM guest, see guest.c)\n"
    "       hearth-supervisor userns-exec --uid-base N --uid-count N -- COMMAND [ARG]...\n";

/* Listening Unix socket with mode 0600 (close-on-exec). -1 with errno set on failure. */
int listen_unix(const char *path)
{
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof a.sun_path) { errno = ENAMETOOLONG; return -1; }
    strcpy(a.sun_path, path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    unlink(path);
    mode_t old = umask(0177);
    int r = bind(fd, (struct sockaddr *)&a, sizeof a);
    umask(old);
    if (r < 0 || chmod(path, 0600) < 0 || listen(fd, 16) < 0) {
        int e = errno; close(fd); errno = e;
        return -1;
    }
    return fd;
}

void add_env(const char *kv)
{
    if (!strchr(kv, '=')) { fprintf(stderr, "error: --env %s: expected K=V\n", kv); exit(2); }
    sv_env = realloc(sv_env, sizeof *sv_env * (size_t)(sv_nenv + 1));
    sv_env[sv_nenv++] = (char *)kv;
}

void common_init(void)
{
    umask(022);
    getrlimit(RLIMIT_NOFILE, &sv_nofile);
    struct rlimit r = sv_nofile;
    r.rlim_cur = r.rlim_max;
    setrlimit(RLIMIT_NOFILE, &r);
}

void default_env(void)
{
    for (int i = 0; i < sv_nenv; i++)
        if (!strncmp(sv_env[i], "PATH=", 5)) return;
    add_env("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
}

int main(int argc, char **argv)
{
    if (argc >= 2 && !strcmp(argv[1], "launch")) return disk_launch_main(argc - 1, argv + 1);
    if (argc == 2 && !strcmp(argv[1], "spawner")) return spawner_main();
    /* the guest kernel passes unknown command-line words to init: `guest-init` arrives as argv[1] */
    if ((argc >= 2 && !strcmp(argv[1], "guest-init")) || (argc == 1 && getpid() == 1)) return guest_init_main();
    if (argc >= 2 && !strcmp(argv[1], "userns-exec")) return userns_exec_main(argc - 1, argv + 1);
    if (argc < 2 || strcmp(argv[1], "serve")) { fputs(usage, stderr); return 2; }
    int fd = -1;
    for (int i = 2; i < argc; i++) {
        if (i + 1 >= argc) { fputs(usage, stderr); return 2; }
        const char *o = argv[i], *v = argv[++i];
        if (!strcmp(o, "--listen-fd")) fd = atoi(v);
        else if (!strcmp(o, "--listen")) {
            if ((fd = listen_unix(v)) < 0) { fprintf(stderr, "error: listen %s: %s\n", v, strerror(errno)); return 1; }
            sv_listen_path = v;
        } else if (!strcmp(o, "--env")) add_env(v);
        else { fputs(usage, stderr); return 2; }
    }
    if (fd < 0 || fcntl(fd, F_SETFD, FD_CLOEXEC) < 0) { fputs(usage, stderr); return 2; }
    common_init();
    default_env();
    if (getpid() != 1) prctl(PR_SET_CHILD_SUBREAPER, 1);  /* reap orphans like PID 1 would */
    /* `serve` is PID 1 of a gVisor sandbox, whose root may read /proc/1/environ (runsc adds HOME there): blank it */
    for (char **e = environ; e && *e; e++) memset(*e, 0, strlen(*e));
    environ = NULL;
    loop_run(fd);
}
