/* userns-exec: run a command as root of a new user namespace that maps 0..count-1 to base..base+count-1 on the
 * host, so it sees a template's shifted owners (host uid 100000 = root) as the guest will (uid 0).
 * Used to build a microVM's root image with `mke2fs -d`, which copies the owners it sees. */
#include "sv.h"
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static int write_map(pid_t pid, const char *file, unsigned long base, unsigned long count)
{
    char path[64], line[64];
    snprintf(path, sizeof path, "/proc/%d/%s", (int)pid, file);
    int n = snprintf(line, sizeof line, "0 %lu %lu\n", base, count);
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    int ok = write(fd, line, (size_t)n) == n;
    close(fd);
    return ok ? 0 : -1;
}

int userns_exec_main(int argc, char **argv)
{
    unsigned long base = 0, count = 0;
    int i = 1;
    for (; i + 1 < argc && strcmp(argv[i], "--"); i += 2) {
        if (!strcmp(argv[i], "--uid-base")) base = strtoul(argv[i + 1], NULL, 10);
        else if (!strcmp(argv[i], "--uid-count")) count = strtoul(argv[i + 1], NULL, 10);
        else break;
    }
    if (i >= argc || strcmp(argv[i], "--") || i + 1 >= argc || !count) {
        fputs("usage: hearth-supervisor userns-exec --uid-base N --uid-count N -- COMMAND [ARG]...\n", stderr);
        return 2;
    }
    int go[2], ready[2];
    if (pipe2(go, O_CLOEXEC) < 0 || pipe2(ready, O_CLOEXEC) < 0) { perror("pipe"); return 1; }
    pid_t pid = fork();
    if (pid < 0) { perror("fork"); return 1; }
    if (pid == 0) {
        char c;
        if (unshare(CLONE_NEWUSER) < 0) { perror("unshare user namespace"); _exit(1); }
        if (write(ready[1], "U", 1) != 1 || read(go[0], &c, 1) != 1) _exit(1);
        gid_t g0 = 0;
        /* become the namespace's root before exec, so the command keeps its capabilities there */
        if (setresgid(0, 0, 0) < 0 || setgroups(1, &g0) < 0 || setresuid(0, 0, 0) < 0) { perror("become namespace root"); _exit(1); }
        execvp(argv[i + 1], argv + i + 1);
        fprintf(stderr, "exec %s: %s\n", argv[i + 1], strerror(errno));
        _exit(127);
    }
    char c;
    if (read(ready[0], &c, 1) != 1) { waitpid(pid, NULL, 0); return 1; }
    if (write_map(pid, "uid_map", base, count) < 0 || write_map(pid, "gid_map", base, count) < 0) {
        perror("write uid/gid map");
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        return 1;
    }
    if (write(go[1], "G", 1) != 1) return 1;
    int status;
    while (waitpid(pid, &status, 0) < 0) if (errno != EINTR) return 1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
