/* hearth-supervisor spawner: a tiny long-lived process that forks sandbox launchers on request,
 * so the host daemon (a large Node.js process whose fork costs milliseconds of page-table copying)
 * never forks on the request path.
 *
 * Requests on stdin, replies on stdout, one at a time, all integers little-endian:
 *   request: u32 id, u32 argc, argc x (u32 len, bytes)      -- the arguments of `launch`
 *   reply:   u32 id, i32 exit status, u32 len, bytes        -- what the launcher printed (pid or error)
 * The spawner exits when stdin closes; sandboxes it launched keep running. */
#include "sv.h"
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_ARGS 4096
#define MAX_ARG_BYTES (64 * 1024)
#define MAX_OUTPUT (64 * 1024)

static int read_full(int fd, void *p, size_t n)
{
    uint8_t *b = p;
    while (n) {
        ssize_t r = read(fd, b, n);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return -1;
        b += r;
        n -= (size_t)r;
    }
    return 0;
}

static int write_full(int fd, const void *p, size_t n)
{
    const uint8_t *b = p;
    while (n) {
        ssize_t w = write(fd, b, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return -1;
        b += w;
        n -= (size_t)w;
    }
    return 0;
}

static int read_u32(uint32_t *v)
{
    uint8_t b[4];
    if (read_full(0, b, 4)) return -1;
    *v = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
    return 0;
}

static void put_u32(uint8_t *b, uint32_t v)
{
    b[0] = (uint8_t)v; b[1] = (uint8_t)(v >> 8); b[2] = (uint8_t)(v >> 16); b[3] = (uint8_t)(v >> 24);
}

static int reply(uint32_t id, int32_t status, const char *out, uint32_t len)
{
    uint8_t head[12];
    put_u32(head, id);
    put_u32(head + 4, (uint32_t)status);
    put_u32(head + 8, len);
    return write_full(1, head, sizeof head) || write_full(1, out, len);
}

/* Runs one launch in a forked child whose stdout and stderr go to a pipe we collect. */
static int32_t run_launch(int argc, char **argv, char *out, uint32_t *len)
{
    int p[2];
    *len = 0;
    if (pipe2(p, O_CLOEXEC) < 0) return -errno;
    pid_t pid = fork();
    if (pid < 0) { int e = errno; close(p[0]); close(p[1]); return -e; }
    if (pid == 0) {
        close(p[0]);
        if (dup2(p[1], 1) < 0 || dup2(p[1], 2) < 0) _exit(127);
        close(p[1]);
        signal(SIGPIPE, SIG_DFL);
        _exit(disk_launch_main(argc, argv));
    }
    close(p[1]);
    for (;;) {
        char chunk[4096];
        ssize_t r = read(p[0], chunk, sizeof chunk);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        size_t room = MAX_OUTPUT - *len;
        size_t take = (size_t)r < room ? (size_t)r : room;
        memcpy(out + *len, chunk, take);
        *len += (uint32_t)take;
    }
    close(p[0]);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int spawner_main(void)
{
    static char out[MAX_OUTPUT];
    signal(SIGPIPE, SIG_IGN);
    for (;;) {
        uint32_t id, argc;
        if (read_u32(&id) || read_u32(&argc)) return 0; /* the host went away */
        if (argc == 0 || argc > MAX_ARGS) return 1;
        char **argv = calloc(argc + 1, sizeof *argv);
        if (!argv) return 1;
        int bad = 0;
        for (uint32_t i = 0; i < argc; i++) {
            uint32_t n;
            if (read_u32(&n) || n > MAX_ARG_BYTES || !(argv[i] = malloc(n + 1)) || read_full(0, argv[i], n)) return 1;
            argv[i][n] = 0;
            if (memchr(argv[i], 0, n)) bad = 1;
        }
        uint32_t len = 0;
        int32_t status;
        if (bad) {
            static const char msg[] = "error: argument contains a NUL byte\n";
            memcpy(out, msg, sizeof msg - 1);
            len = sizeof msg - 1;
            status = 2;
        } else {
            status = run_launch((int)argc, argv, out, &len);
        }
        for (uint32_t i = 0; i < argc; i++) free(argv[i]);
        free(argv);
        if (reply(id, status, out, len)) return 0;
    }
}
