/* Framing: frame = len(4) type(1) id(4) body; field = tag(1) size(4) value. LE. */
#include "sv.h"
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct buf out;

void buf_reserve(struct buf *b, size_t n)
{
    if (b->len + n > b->cap) {
        size_t c = b->cap ? b->cap : 4096;
        while (c < b->len + n) c *= 2;
        char *p = realloc(b->p, c);
        if (!p) { sv_log("out of memory"); abort(); }
        b->p = p; b->cap = c;
    }
}

void buf_put(struct buf *b, const void *d, size_t n)
{
    buf_reserve(b, n);
    if (n) memcpy(b->p + b->len, d, n);
    b->len += n;
}

void buf_free(struct buf *b) { free(b->p); b->p = NULL; b->len = b->cap = 0; }

static uint32_t rd32(const uint8_t *p) { return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24; }
static void wr32(char *p, uint32_t v) { for (int i = 0; i < 4; i++) p[i] = (char)(v >> (8 * i)); }

int m_next(const struct msg *m, size_t *off, int *tag, const uint8_t **val, uint32_t *vlen)
{
    if (*off + 5 > m->len) return 0;
    uint32_t n = rd32(m->body + *off + 1);
    if (n > m->len - *off - 5) return 0;
    *tag = m->body[*off];
    *val = m->body + *off + 5;
    *vlen = n;
    *off += 5 + (size_t)n;
    return 1;
}

const uint8_t *m_raw(const struct msg *m, int tag, uint32_t *len)
{
    size_t off = 0; int t; const uint8_t *v; uint32_t n;
    while (m_next(m, &off, &t, &v, &n))
        if (t == tag) { *len = n; return v; }
    return NULL;
}

int m_int(const struct msg *m, int tag, int64_t *v)
{
    uint32_t n; const uint8_t *p = m_raw(m, tag, &n);
    if (!p || n != 8) return 0;
    uint64_t x = 0;
    for (int i = 7; i >= 0; i--) x = x << 8 | p[i];
    *v = (int64_t)x;
    return 1;
}

char *m_str(const struct msg *m, int tag)
{
    uint32_t n; const uint8_t *p = m_raw(m, tag, &n);
    if (!p || memchr(p, 0, n)) return NULL;
    char *s = malloc(n + 1);
    if (!s) abort();
    memcpy(s, p, n); s[n] = 0;
    return s;
}

int m_count(const struct msg *m, int tag)
{
    size_t off = 0; int t, c = 0; const uint8_t *v; uint32_t n;
    while (m_next(m, &off, &t, &v, &n)) c += t == tag;
    return c;
}

size_t fr_begin(int type, uint32_t id)
{
    size_t s = out.len;
    char h[9] = {0};
    h[4] = (char)type;
    wr32(h + 5, id);
    buf_put(&out, h, 9);
    return s;
}

void fr_end(size_t start)
{
    size_t n = out.len - start - 4;
    if (sv_client < 0 || sv_detached) { out.len = start; return; }
    if (n > MAX_FRAME) {               /* never send an oversized frame */
        uint32_t id = rd32((uint8_t *)out.p + start + 5);
        out.len = start;
        reply_err(id, E2BIG, "reply exceeds %u bytes", MAX_FRAME);
        return;
    }
    wr32(out.p + start, (uint32_t)n);
}

void f_bytes(int tag, const void *p, size_t n)
{
    char h[5]; h[0] = (char)tag; wr32(h + 1, (uint32_t)n);
    buf_put(&out, h, 5);
    buf_put(&out, p, n);
}

void f_int(int tag, int64_t v)
{
    char b[8];
    for (int i = 0; i < 8; i++) b[i] = (char)((uint64_t)v >> (8 * i));
    f_bytes(tag, b, 8);
}

void f_str(int tag, const char *s) { f_bytes(tag, s, strlen(s)); }

size_t f_open(int tag) { size_t s = out.len; f_bytes(tag, NULL, 0); return s; }
void f_close(size_t start) { wr32(out.p + start + 1, (uint32_t)(out.len - start - 5)); }

void reply_ok(uint32_t id) { fr_end(fr_begin(T_OK, id)); }

void reply_err(uint32_t id, int err, const char *fmt, ...)
{
    char msg[1024]; va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (n < 0) n = 0;
    if ((size_t)n < sizeof msg) snprintf(msg + n, sizeof msg - n, ": %s", strerror(err));
    size_t s = fr_begin(T_ERROR, id);
    f_int(F_ERRNO, err);
    f_str(F_MESSAGE, msg);
    fr_end(s);
}
