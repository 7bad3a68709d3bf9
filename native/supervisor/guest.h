/* microVM guest pieces beyond generation 1's requests: the control port, the sandbox network and tool files. */
#ifndef HEARTH_GUEST_H
#define HEARTH_GUEST_H
#include "sv.h"

/* TOOLS{(NAME, DATA)...}: replace every file under /run/hearth/tools (read-only to the sandbox) */
#define T_TOOLS 24
/* IDENTIFY's network fields: eth0's MAC, address/prefix, default gateway, resolver, a CA (PEM) to trust */
#define F_NET_MAC 37
#define F_NET_ADDRESS 38
#define F_NET_GATEWAY 39
#define F_NAMESERVER 40
#define F_TRUSTED_CA 41
/* IDENTIFY: 1 sets no_new_privs on PID 1, inherited by every sandbox process spawned after */
#define F_NO_NEW_PRIVS 42

#define TOOLS_DIR "/run/hearth/tools"

/* guest-net.c: 0 or an errno, with `what` naming the step that failed */
int guest_net_configure(const char *mac, const char *cidr, const char *gateway, const char **what);

/* guest-tools.c */
int guest_tools_mount(const char *root);   /* the empty read-only tmpfs, at boot; 0 or -1 */
void guest_tools(const struct msg *m);

#endif
