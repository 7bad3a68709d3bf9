/* The sandbox network inside a microVM guest: the host moves the sandbox's address (and eth0's MAC) from its
 * prepared network namespace into the guest, whose virtio-net device is tc-redirected to that namespace's eth0.
 * IDENTIFY carries them; this configures eth0 with plain ioctls (no `ip` in every template). */
#include "guest.h"
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <net/route.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#define GUEST_NIC "eth0"

static void set_in(struct sockaddr *sa, in_addr_t a)
{
    struct sockaddr_in *in = (struct sockaddr_in *)sa;
    memset(in, 0, sizeof *in);
    in->sin_family = AF_INET;
    in->sin_addr.s_addr = a;
}

static int step(int ok, const char *name, const char **what)
{
    if (!ok) *what = name;
    return ok;
}

int guest_net_configure(const char *mac, const char *cidr, const char *gateway, const char **what)
{
    unsigned b[6];
    char addr_text[32];
    int prefix = -1;
    struct in_addr addr, gw;
    if (sscanf(mac, "%2x:%2x:%2x:%2x:%2x:%2x", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5]) != 6) { *what = "parse MAC"; return EINVAL; }
    if (sscanf(cidr, "%31[0-9.]/%d", addr_text, &prefix) != 2 || prefix < 1 || prefix > 32 ||
        inet_pton(AF_INET, addr_text, &addr) != 1 || inet_pton(AF_INET, gateway, &gw) != 1) { *what = "parse address"; return EINVAL; }
    in_addr_t mask = htonl(prefix == 32 ? 0xffffffffu : ~(0xffffffffu >> prefix));

    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (s < 0) { *what = "socket"; return errno; }
    struct ifreq ifr = {0};
    strcpy(ifr.ifr_name, GUEST_NIC);
    int ok = step(ioctl(s, SIOCGIFFLAGS, &ifr) == 0, "find " GUEST_NIC, what);
    short flags = ifr.ifr_flags;
    /* the MAC changes only while the link is down */
    ifr.ifr_flags = (short)(flags & ~IFF_UP);
    ok = ok && step(ioctl(s, SIOCSIFFLAGS, &ifr) == 0, "link down", what);
    ifr.ifr_hwaddr.sa_family = ARPHRD_ETHER;
    for (int i = 0; i < 6; i++) ifr.ifr_hwaddr.sa_data[i] = (char)b[i];
    ok = ok && step(ioctl(s, SIOCSIFHWADDR, &ifr) == 0, "set MAC", what);
    set_in(&ifr.ifr_addr, addr.s_addr);
    ok = ok && step(ioctl(s, SIOCSIFADDR, &ifr) == 0, "set address", what);
    set_in(&ifr.ifr_netmask, mask);
    ok = ok && step(ioctl(s, SIOCSIFNETMASK, &ifr) == 0, "set netmask", what);
    ifr.ifr_flags = (short)(flags | IFF_UP | IFF_RUNNING);
    ok = ok && step(ioctl(s, SIOCSIFFLAGS, &ifr) == 0, "link up", what);
    struct rtentry rt = {0};
    set_in(&rt.rt_dst, INADDR_ANY);
    set_in(&rt.rt_genmask, INADDR_ANY);
    set_in(&rt.rt_gateway, gw.s_addr);
    rt.rt_flags = RTF_UP | RTF_GATEWAY;
    rt.rt_dev = (char *)GUEST_NIC;
    ok = ok && step(ioctl(s, SIOCADDRT, &rt) == 0 || errno == EEXIST, "default route", what);
    int err = ok ? 0 : errno;
    close(s);
    return err;
}
