/* hearth-supervisor: shared declarations. Protocol: docs/supervisor-protocol.md */
#ifndef SV_H
#define SV_H
#define _GNU_SOURCE
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#define GENERATION 1
#define MAX_FRAME (4u << 20)      /* largest frame (length field value) */
#define CHUNK (256u << 10)        /* FILE_DATA chunk */
#define OUT_HIGH (16u << 20)      /* stop reading child output above this */
#define OUT_LOW (4u << 20)        /* resume below this */

enum { T_HELLO = 1, T_SPAWN, T_WRITE_STDIN, T_CLOSE_STDIN, T_SIGNAL, T_RESIZE_PTY,
       T_LIST_PROCESSES, T_STAT = 10, T_LIST_DIR, T_MAKE_DIR, T_MOVE, T_REMOVE,
       T_READ_FILE, T_WRITE_OPEN, T_WRITE_DATA, T_WRITE_CLOSE, T_WATCH, T_UNWATCH,
       T_PING, T_SET_HOSTNAME, T_IDENTIFY, T_OK = 64, T_ERROR, T_FILE_DATA, T_OUTPUT = 80,
       T_EXIT, T_FS_EVENT, T_WATCH_END };
enum { F_GENERATION = 1, F_PID, F_ARG, F_ENV, F_CWD, F_USER, F_PTY_COLS, F_PTY_ROWS,
       F_STDIN, F_TAG, F_DATA, F_SIGNO, F_STREAM, F_EXIT_CODE, F_ERRNO, F_MESSAGE,
       F_PROCESS, F_PATH = 20, F_TARGET, F_DEPTH, F_ENTRY, F_NAME, F_TYPE, F_SIZE,
       F_MODE, F_OWNER, F_GROUP, F_MTIME_NS, F_SYMLINK_TARGET, F_CREATED, F_HANDLE,
       F_RECURSIVE, F_WATCH, F_EVENT };

/* ---- codec.c ---- */
struct buf { char *p; size_t len, cap; };
void buf_put(struct buf *b, const void *d, size_t n);
void buf_reserve(struct buf *b, size_t n);
void buf_free(struct buf *b);

struct msg { int type; uint32_t id; const uint8_t *body; size_t len; };
/* iterate fields: returns 1 and fills tag/val/vlen, 0 at end or on malformed data */
int m_next(const struct msg *m, size_t *off, int *tag, const uint8_t **val, uint32_t *vlen);
int m_int(const struct msg *m, int tag, int64_t *v);      /* 1 if present */
char *m_str(const struct msg *m, int tag);                /* malloc'd copy or NULL */
const uint8_t *m_raw(const struct msg *m, int tag, uint32_t *len);
int m_count(const struct msg *m, int tag);

/* frames are built directly in the client output queue (`out`) */
extern struct buf out;
size_t fr_begin(int type, uint32_t id);
void fr_end(size_t start);            /* patches length; drops when no client */
void f_int(int tag, int64_t v);
void f_bytes(int tag, const void *p, size_t n);
void f_str(int tag, const char *s);
size_t f_open(int tag);
void f_close(size_t start);
void reply_ok(uint32_t id);
void reply_err(uint32_t id, int err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* ---- loop.c ---- */
struct ev { int kind; void *ptr; int n; };
enum { EV_LISTEN = 1, EV_CLIENT, EV_SIGNAL, EV_INOTIFY, EV_POUT, EV_PIN };
extern int sv_epfd, sv_client, sv_connected, sv_throttled, sv_root, sv_detached;
extern char **sv_env;                 /* base environment (--env) */
extern const char *sv_listen_path;    /* --listen PATH, or NULL */
extern int sv_nenv;
void ep_set(int fd, struct ev *e, uint32_t events);   /* add or modify */
void ep_del(int fd);
uint64_t now_ms(void);
size_t out_pending(void);
void sv_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void loop_run(int listen_fd) __attribute__((noreturn));
void loop_run_device(int fd) __attribute__((noreturn));  /* serves a virtio-serial port (microVM guests); never returns */
int spawner_main(void);
int install_sandbox_seccomp(void);   /* 0 or -1 with errno */               /* serves launch requests on stdin until it closes */

/* ---- users.c ---- */
struct user { uid_t uid; gid_t gid; int ngroups; gid_t groups[64]; char name[64];
              char home[512]; char shell[256]; };
int user_lookup(const char *name, struct user *u);     /* 0 or errno */
const char *uid_name(uid_t uid, char *tmp);             /* tmp >= 16 bytes */
const char *gid_name(gid_t gid, char *tmp);
void fs_enter(const struct user *u);  /* file-system identity of u */
void fs_leave(void);
void ids_init(void);
char *path_resolve(const char *home, const char *path);   /* malloc'd, normalised */

/* ---- proc.c ---- */
void proc_request(const struct msg *m);
void proc_event(struct ev *e, uint32_t events);
void proc_reap(void);
int proc_timeout(void);               /* ms until next deadline, -1 none */
void proc_timers(void);
void proc_throttle(int on);
void proc_connected(void);            /* deliver queued EXIT events */

/* ---- files.c ---- */
void files_request(const struct msg *m);
int files_pump(void);                 /* 1 if more to send */
void files_drop(void);
void put_entry(const char *path, const struct stat *st, const char *link);

/* ---- watch.c ---- */
void watch_init(void);
void watch_request(const struct msg *m);
void watch_event(void);
void watch_drop(void);

/* ---- main.c ---- */
int listen_unix(const char *path);
void add_env(const char *kv);
void common_init(void);
void default_env(void);

/* ---- launch.c ---- */
int launch_main(int argc, char **argv);

/* ---- userns.c ---- */
int userns_exec_main(int argc, char **argv);

/* ---- guest.c ---- */
int guest_init_main(void);            /* PID 1 of a microVM guest */
void guest_identify(const struct msg *m);
extern const char *sv_guest_cgroup;   /* cgroup.procs every spawned process joins (guests only) */

/* ---- disk.c ---- */
int disk_volume_create(const char *path, uint64_t limit_bytes);   /* 0 or -1 with errno */
int disk_launch_main(int argc, char **argv);                      /* launch with --disk-volume */

#endif
