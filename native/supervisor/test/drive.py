#!/usr/bin/env python3
"""Test driver for hearth-supervisor (python3, stdlib only).

It speaks the framed protocol of docs/supervisor-protocol.md and doubles as a
reference for it.

  drive.py serve  [--binary B]                  # run `serve --listen` and test it
  drive.py prepare SRC DST [--shift 100000]     # copy a rootfs, shift ownership, add `user`
  drive.py launch --rootfs DST [--binary B]     # launch a namespaced sandbox (root) and test it
"""
import argparse, errno, os, shutil, signal, socket, struct, subprocess, sys, tempfile, time

# ---- protocol -------------------------------------------------------------
T = dict(HELLO=1, SPAWN=2, WRITE_STDIN=3, CLOSE_STDIN=4, SIGNAL=5, RESIZE_PTY=6, LIST_PROCESSES=7,
         STAT=10, LIST_DIR=11, MAKE_DIR=12, MOVE=13, REMOVE=14, READ_FILE=15, WRITE_OPEN=16,
         WRITE_DATA=17, WRITE_CLOSE=18, WATCH=19, UNWATCH=20, PING=21, SET_HOSTNAME=22,
         OK=64, ERROR=65, FILE_DATA=66, OUTPUT=80, EXIT=81, FS_EVENT=82, WATCH_END=83)
TN = {v: k for k, v in T.items()}
F = dict(GENERATION=1, PID=2, ARG=3, ENV=4, CWD=5, USER=6, PTY_COLS=7, PTY_ROWS=8, STDIN=9, TAG=10,
         DATA=11, SIGNO=12, STREAM=13, EXIT_CODE=14, ERRNO=15, MESSAGE=16, PROCESS=17, PATH=20,
         TARGET=21, DEPTH=22, ENTRY=23, NAME=24, TYPE=25, SIZE=26, MODE=27, OWNER=28, GROUP=29,
         MTIME_NS=30, SYMLINK_TARGET=31, CREATED=32, HANDLE=33, RECURSIVE=34, WATCH=35, EVENT=36)
FN = {v: k for k, v in F.items()}
NESTED = {F['ENTRY'], F['PROCESS']}
INTS = {'GENERATION', 'PID', 'PTY_COLS', 'PTY_ROWS', 'STDIN', 'DEPTH', 'SIGNO', 'STREAM', 'EXIT_CODE',
        'ERRNO', 'TYPE', 'SIZE', 'MODE', 'MTIME_NS', 'CREATED', 'HANDLE', 'RECURSIVE', 'WATCH', 'EVENT'}


def enc_fields(fields):
    """fields: list of (NAME, value); value int, str, bytes or a nested list."""
    out = b''
    for name, v in fields:
        if isinstance(v, list):
            v = enc_fields(v)
        elif isinstance(v, int):
            v = struct.pack('<q', v)
        elif isinstance(v, str):
            v = v.encode()
        out += struct.pack('<BI', F[name], len(v)) + v
    return out


def dec_fields(b):
    """-> dict NAME -> list of values (ints decoded, strings as bytes, nested as dicts)."""
    d, off = {}, 0
    while off + 5 <= len(b):
        tag, n = struct.unpack_from('<BI', b, off)
        v = b[off + 5:off + 5 + n]
        off += 5 + n
        name = FN.get(tag, str(tag))
        if tag in NESTED:
            v = dec_fields(v)
        elif name in INTS:
            v = struct.unpack('<q', v)[0]
        d.setdefault(name, []).append(v)
    return d


class Frame:
    def __init__(self, type, id, body):
        self.type, self.id, self.f = type, id, dec_fields(body)

    def get(self, name, default=None):
        return self.f.get(name, [default])[0]

    def __repr__(self):
        return f'{TN.get(self.type, self.type)}#{self.id} {self.f}'


class Client:
    def __init__(self, path, hello=True):
        self.s = socket.socket(socket.AF_UNIX)
        self.s.connect(path)
        self.buf = b''
        self.next_id = 1
        self.events = []   # OUTPUT / EXIT / FS_EVENT / WATCH_END not yet consumed
        if hello:
            r = self.call('HELLO', [('GENERATION', 1)])
            assert r.type == T['OK'] and r.get('GENERATION') == 1, r
            self.pid = r.get('PID')

    def send(self, type, fields, id=None):
        if id is None:
            id, self.next_id = self.next_id, self.next_id + 1
        body = enc_fields(fields)
        self.s.sendall(struct.pack('<IBI', 5 + len(body), T[type], id) + body)
        return id

    def recv(self, timeout=10):
        self.s.settimeout(timeout)
        while True:
            if len(self.buf) >= 4:
                n = struct.unpack_from('<I', self.buf)[0]
                if len(self.buf) >= 4 + n:
                    typ, id = struct.unpack_from('<BI', self.buf, 4)
                    fr = Frame(typ, id, self.buf[9:4 + n])
                    self.buf = self.buf[4 + n:]
                    return fr
            chunk = self.s.recv(1 << 20)
            if not chunk:
                raise EOFError('supervisor closed the connection')
            self.buf += chunk

    def call(self, type, fields=(), data_sink=None, timeout=20):
        """Send a request, return its OK/ERROR reply; FILE_DATA goes to data_sink, events are queued."""
        id = self.send(type, list(fields))
        while True:
            fr = self.recv(timeout)
            if fr.type >= T['OUTPUT']:
                self.events.append(fr)
            elif fr.id != id:
                raise AssertionError(f'unexpected reply {fr} while waiting for #{id}')
            elif fr.type == T['FILE_DATA']:
                data_sink.append(fr.get('DATA'))
            else:
                return fr

    def ok(self, type, fields=(), **kw):
        r = self.call(type, fields, **kw)
        assert r.type == T['OK'], f'{type} failed: {r}'
        return r

    def err(self, type, fields, expect):
        r = self.call(type, fields)
        assert r.type == T['ERROR'] and r.get('ERRNO') == expect, f'{type}: expected {errno.errorcode[expect]}, got {r}'
        return r

    def event(self, pred, timeout=10):
        """Wait for (and consume) the first event matching pred."""
        end = time.time() + timeout
        while True:
            for i, e in enumerate(self.events):
                if pred(e):
                    return self.events.pop(i)
            left = end - time.time()
            if left <= 0:
                raise AssertionError(f'timeout waiting for event; have {self.events[:10]}')
            try:
                self.events.append(self.recv(left))
            except socket.timeout:
                raise AssertionError(f'timeout waiting for event; have {self.events[:20]}')

    def run(self, args, user='root', stdin=None, env=(), cwd=None, pty=None, timeout=20):
        """Spawn, feed stdin, collect output until EXIT. -> (exit frame, {stream: bytes}, pid)."""
        f = [('ARG', a) for a in args] + [('ENV', e) for e in env] + [('USER', user)]
        if cwd: f.append(('CWD', cwd))
        if pty: f += [('PTY_COLS', pty[0]), ('PTY_ROWS', pty[1])]
        f.append(('STDIN', 1 if stdin is not None else 0))
        pid = self.ok('SPAWN', f).get('PID')
        if stdin is not None:
            # the process may already be gone (ESRCH) if it does not read stdin
            if stdin: self.call('WRITE_STDIN', [('PID', pid), ('DATA', stdin)])
            r = self.call('CLOSE_STDIN', [('PID', pid)])
            assert r.type == T['OK'] or r.get('ERRNO') in (errno.ESRCH, errno.EPIPE), r
        return self.collect(pid, timeout) + (pid,)

    def collect(self, pid, timeout=20):
        outs = {}
        while True:
            e = self.event(lambda e: e.id == pid and e.type in (T['OUTPUT'], T['EXIT']), timeout)
            if e.type == T['EXIT']:
                return e, outs
            outs[e.get('STREAM')] = outs.get(e.get('STREAM'), b'') + e.get('DATA')


def sh(c, cmd, user='root', **kw):
    ex, outs, _ = c.run(['sh', '-c', cmd], user=user, **kw)
    assert ex.get('EXIT_CODE') == 0, f'{cmd!r} -> {ex} {outs}'
    return (outs.get(1, b'') + outs.get(3, b'')).decode()


def sv_state(hostpid):
    """(open fds, zombie children) of the supervisor process."""
    fds = len(os.listdir(f'/proc/{hostpid}/fd'))
    z = 0
    for p in os.listdir('/proc'):
        if p.isdigit():
            try:
                st = open(f'/proc/{p}/stat').read().rsplit(')', 1)[1].split()
            except OSError:
                continue
            if int(st[1]) == hostpid and st[0] == 'Z':
                z += 1
    return fds, z


# ---- tests shared by both modes ------------------------------------------------
def common_tests(c, path, hostpid, user, tmp):
    """tmp: a directory writable by `user`, as seen by the supervisor."""
    step = lambda s: print(f'  [{user}] {s}', flush=True)
    step('ping'); c.ok('PING')
    c.ok('MAKE_DIR', [('PATH', tmp), ('USER', user)])

    step('spawn output + exit code')
    ex, outs, pid = c.run(['sh', '-c', 'echo hi; echo err >&2; exit 3'], user=user)
    assert ex.get('EXIT_CODE') == 3 and outs == {1: b'hi\n', 2: b'err\n'}, (ex, outs)

    step('stdin round trip')
    ex, outs, _ = c.run(['cat'], user=user, stdin=b'hello\nworld\n')
    assert ex.get('EXIT_CODE') == 0 and outs == {1: b'hello\nworld\n'}, (ex, outs)
    pid = c.ok('SPAWN', [('ARG', 'cat'), ('STDIN', 1), ('USER', user)]).get('PID')
    big = os.urandom(1 << 20)
    c.ok('WRITE_STDIN', [('PID', pid), ('DATA', big)])  # larger than the pipe: acked after drain
    c.ok('CLOSE_STDIN', [('PID', pid)])
    ex, outs = c.collect(pid)
    assert outs.get(1) == big and ex.get('EXIT_CODE') == 0

    step('signals')
    pid = c.ok('SPAWN', [('ARG', 'sleep'), ('ARG', '100'), ('USER', user)]).get('PID')
    c.ok('SIGNAL', [('PID', pid), ('SIGNO', 15)])
    assert c.collect(pid)[0].get('SIGNO') == 15
    pid = c.ok('SPAWN', [('ARG', 'sh'), ('ARG', '-c'), ('ARG', 'trap "" TERM; echo ready; while :; do sleep 1; done'),
                         ('USER', user)]).get('PID')
    c.event(lambda e: e.id == pid and e.type == T['OUTPUT'])
    c.ok('SIGNAL', [('PID', pid), ('SIGNO', 15)])
    c.ok('SIGNAL', [('PID', pid), ('SIGNO', 9)])
    assert c.collect(pid)[0].get('SIGNO') == 9
    c.err('SIGNAL', [('PID', 999999), ('SIGNO', 9)], errno.ESRCH)

    step('pty')
    pid = c.ok('SPAWN', [('ARG', 'sh'), ('ARG', '-c'), ('ARG', 'stty size; tty; read x; echo got $x'),
                         ('PTY_COLS', 100), ('PTY_ROWS', 30), ('USER', user)]).get('PID')
    c.ok('RESIZE_PTY', [('PID', pid), ('PTY_COLS', 101), ('PTY_ROWS', 31)])
    c.ok('WRITE_STDIN', [('PID', pid), ('DATA', b'abc\n')])
    ex, outs = c.collect(pid)
    text = outs.get(3, b'').decode()
    assert ex.get('EXIT_CODE') == 0 and '/dev/pts/' in text and 'got abc' in text and set(outs) == {3}, (ex, outs)

    step('exec failure / bad cwd / bad user')
    c.err('SPAWN', [('ARG', '/nonexistent/prog'), ('USER', user)], errno.ENOENT)
    c.err('SPAWN', [('ARG', 'no-such-program-xyz'), ('USER', user)], errno.ENOENT)
    c.err('SPAWN', [('ARG', 'true'), ('CWD', '/nonexistent-dir'), ('USER', user)], errno.ENOENT)
    c.err('SPAWN', [('ARG', '/etc/passwd'), ('USER', user)], errno.EACCES)
    c.err('SPAWN', [('ARG', 'true'), ('USER', 'no-such-user')], errno.ENOENT)

    step('environment')
    out = sh(c, 'echo $HOME:$USER:$LOGNAME:$FOO:$PWD', user=user, env=['FOO=1', 'FOO=2', 'LOGNAME=x'], cwd=tmp)
    home = sh(c, 'echo ~', user=user).strip()
    assert out.strip() == f'{home}:{user}:x:2:{tmp}', out

    step('list processes')
    pid = c.ok('SPAWN', [('ARG', 'sleep'), ('ARG', '100'), ('ENV', 'A=b'), ('TAG', 'tagged'), ('USER', user)]).get('PID')
    procs = c.ok('LIST_PROCESSES').f.get('PROCESS', [])
    mine = [p for p in procs if p['PID'][0] == pid]
    assert mine and mine[0]['TAG'] == [b'tagged'] and mine[0]['ARG'] == [b'sleep', b'100'] and mine[0]['ENV'] == [b'A=b'], procs
    c.ok('SIGNAL', [('PID', pid), ('SIGNO', 9)])
    c.collect(pid)

    step('write 5 MiB, read back')
    data = os.urandom(5 << 20)
    f = f'{tmp}/deep/er/file.bin'
    h = c.ok('WRITE_OPEN', [('PATH', f), ('USER', user)]).get('HANDLE')
    for i in range(0, len(data), 1 << 20):
        c.ok('WRITE_DATA', [('HANDLE', h), ('DATA', data[i:i + (1 << 20)])])
    e = c.ok('WRITE_CLOSE', [('HANDLE', h)]).get('ENTRY')
    assert e['SIZE'] == [len(data)] and e['OWNER'] == [user.encode()] and e['PATH'] == [f.encode()], e
    chunks = []
    r = c.ok('READ_FILE', [('PATH', f), ('USER', user)], data_sink=chunks)
    assert b''.join(chunks) == data and r.get('SIZE') == len(data) and max(map(len, chunks)) <= 256 << 10
    c.err('READ_FILE', [('PATH', tmp), ('USER', user)], errno.EISDIR)
    c.err('READ_FILE', [('PATH', tmp + '/missing'), ('USER', user)], errno.ENOENT)
    c.err('WRITE_DATA', [('HANDLE', h), ('DATA', b'x')], errno.EBADF)
    e = c.ok('STAT', [('PATH', f'{tmp}/deep'), ('USER', user)]).get('ENTRY')
    assert e['TYPE'] == [2] and e['OWNER'] == [user.encode()], e

    step('many write handles')
    hs = [c.ok('WRITE_OPEN', [('PATH', f'{tmp}/h/{i}'), ('USER', user)]).get('HANDLE') for i in range(70)]
    for i, h in enumerate(hs):
        c.ok('WRITE_DATA', [('HANDLE', h), ('DATA', str(i))])
    for h in hs:
        c.ok('WRITE_CLOSE', [('HANDLE', h)])

    step('list dir depth 2')
    sh(c, f'mkdir -p {tmp}/l/a/b/c && touch {tmp}/l/f {tmp}/l/a/g {tmp}/l/a/b/h && ln -s a {tmp}/l/link', user=user)
    ents = c.ok('LIST_DIR', [('PATH', f'{tmp}/l'), ('DEPTH', 2), ('USER', user)]).f['ENTRY']
    paths = sorted(e['PATH'][0].decode()[len(tmp) + 3:] for e in ents)
    assert paths == ['a', 'a/b', 'a/g', 'f', 'link'], paths
    link = [e for e in ents if e['NAME'] == [b'link']][0]
    assert link['TYPE'] == [3] and link['SYMLINK_TARGET'] == [b'a'], link
    assert len(c.ok('LIST_DIR', [('PATH', f'{tmp}/l'), ('DEPTH', 1), ('USER', user)]).f['ENTRY']) == 3

    step('make dir / move / remove / stat')
    r = c.ok('MAKE_DIR', [('PATH', f'{tmp}/m/n/o'), ('USER', user)])
    assert r.get('CREATED') == 1 and r.get('ENTRY')['TYPE'] == [2]
    assert c.ok('MAKE_DIR', [('PATH', f'{tmp}/m/n/o'), ('USER', user)]).get('CREATED') == 0
    c.err('MAKE_DIR', [('PATH', f'{tmp}/l/f'), ('USER', user)], errno.EEXIST)
    c.err('MAKE_DIR', [('PATH', f'{tmp}/l/f/x'), ('USER', user)], errno.ENOTDIR)
    r = c.ok('MOVE', [('PATH', f'{tmp}/m/n'), ('TARGET', f'{tmp}/m2/p/q'), ('USER', user)])
    assert r.get('ENTRY')['PATH'] == [f'{tmp}/m2/p/q'.encode()]
    c.err('STAT', [('PATH', f'{tmp}/m/n'), ('USER', user)], errno.ENOENT)
    assert c.ok('STAT', [('PATH', f'{tmp}/m2/p/q/o'), ('USER', user)]).get('ENTRY')['TYPE'] == [2]
    c.ok('REMOVE', [('PATH', f'{tmp}/m2'), ('USER', user)])
    c.err('REMOVE', [('PATH', f'{tmp}/m2'), ('USER', user)], errno.ENOENT)
    c.err('STAT', [('PATH', f'{tmp}/m2'), ('USER', user)], errno.ENOENT)

    step('watch')
    w = c.send('WATCH', [('PATH', f'{tmp}/w0/..//w'), ('RECURSIVE', 1), ('USER', user)])  # missing
    assert c.recv().get('ERRNO') == errno.ENOENT
    c.ok('MAKE_DIR', [('PATH', f'{tmp}/w'), ('USER', user)])
    c.err('WATCH', [('PATH', f'{tmp}/l/f'), ('USER', user)], errno.ENOTDIR)
    r = c.call('WATCH', [('PATH', f'{tmp}/w'), ('RECURSIVE', 1), ('USER', user)])
    assert r.type == T['OK'], r
    w = r.id
    w2 = c.ok('WATCH', [('PATH', f'{tmp}/w'), ('RECURSIVE', 0), ('USER', user)]).id  # same dir, 2nd watch
    ev = lambda wid, name, code: c.event(lambda e: e.type == T['FS_EVENT'] and e.id == wid and e.get('NAME') == name.encode() and e.get('EVENT') == code)
    sh(c, f'cd {tmp}/w && echo x > a && mkdir d && sleep 0.1 && echo y > d/b && mv a c && chmod 600 c && rm c', user=user)
    ev(w, 'a', 1); ev(w, 'a', 2); ev(w, 'd', 1); ev(w, 'd/b', 1); ev(w, 'd/b', 2)
    ev(w, 'a', 4); ev(w, 'c', 1); ev(w, 'c', 5); ev(w, 'c', 3)   # fsnotify: moved in = create
    ev(w2, 'a', 1); ev(w2, 'c', 3)
    sh(c, f'mkdir -p {tmp}/w/n1/n2/n3 && sleep 0.1 && touch {tmp}/w/n1/n2/n3/deep', user=user)
    ev(w, 'n1/n2/n3/deep', 1)
    c.ok('UNWATCH', [('WATCH', w2)])
    c.err('UNWATCH', [('WATCH', w2)], errno.ENOENT)
    c.ok('REMOVE', [('PATH', f'{tmp}/w'), ('USER', user)])
    e = c.event(lambda e: e.type == T['WATCH_END'] and e.id == w)
    assert e.get('ERRNO') == errno.ENOENT
    c.err('UNWATCH', [('WATCH', w)], errno.ENOENT)
    c.events = [e for e in c.events if e.type != T['FS_EVENT']]

    step('100 spawns: no fd or zombie leak')
    c.run(['true'], user=user)
    time.sleep(0.2)
    before = sv_state(hostpid)
    for i in range(100):
        ex, outs, _ = c.run(['sh', '-c', f'echo {i}'], user=user, stdin=b'' if i % 2 else None, pty=(80, 24) if i % 10 == 0 else None)
        assert ex.get('EXIT_CODE') == 0 and (outs.get(1, b'') + outs.get(3, b'')).strip() == str(i).encode(), (ex, outs)
    time.sleep(0.2)
    after = sv_state(hostpid)
    assert before == after and after[1] == 0, (before, after)

    step('orphans are reaped, EXIT waits for output held by a grandchild (or 50ms)')
    t = time.time()
    ex, outs, _ = c.run(['sh', '-c', '(sleep 0.3; echo late) & echo early'], user=user)
    assert outs.get(1) == b'early\n' and time.time() - t < 0.25, outs
    time.sleep(0.5)
    assert sv_state(hostpid)[1] == 0
    ex, outs, _ = c.run(['sh', '-c', '(sleep 0.2; echo late) >/dev/null & echo a; exec sh -c "sleep 0.1; echo b"'], user=user)
    assert outs.get(1) == b'a\nb\n', outs

    step('back-pressure: 64 MiB of output without reading')
    pid = c.ok('SPAWN', [('ARG', 'head'), ('ARG', '-c'), ('ARG', str(64 << 20)), ('ARG', '/dev/zero'), ('USER', user)]).get('PID')
    time.sleep(1.5)
    rss = int([l for l in open(f'/proc/{hostpid}/status') if l.startswith('VmRSS')][0].split()[1])
    assert rss < 64 << 10, f'supervisor RSS {rss} KiB while client is not reading'
    ex, outs = c.collect(pid, timeout=60)
    assert len(outs.get(1, b'')) == 64 << 20 and ex.get('EXIT_CODE') == 0, (ex, len(outs.get(1, b'')))
    print(f'  [{user}] (supervisor RSS while throttled: {rss} KiB)')

    step('reconnect: processes survive, EXIT queued while disconnected')
    pid = c.ok('SPAWN', [('ARG', 'sh'), ('ARG', '-c'), ('ARG', 'sleep 0.3; exit 7'), ('USER', user)]).get('PID')
    c.s.close()
    time.sleep(0.6)
    c2 = Client(path)
    ex = c2.event(lambda e: e.type == T['EXIT'] and e.id == pid)
    assert ex.get('EXIT_CODE') == 7
    c3 = Client(path)          # replaces c2
    try:
        c2.call('PING', timeout=2)
        raise AssertionError('old connection still served')
    except (EOFError, ConnectionError, OSError):
        pass
    return c3


def serve_mode(binary):
    tmp = tempfile.mkdtemp(prefix='sv-serve-')
    path = f'{tmp}/sock'
    p = subprocess.Popen([binary, 'serve', '--listen', path, '--env', 'PATH=/usr/bin:/bin'])
    for _ in range(100):
        if os.path.exists(path): break
        time.sleep(0.01)
    try:
        assert oct(os.stat(path).st_mode & 0o777) == '0o600'
        c = Client(path)
        assert c.pid == p.pid
        # requests before HELLO are refused
        c0 = Client(path, hello=False)
        c0.send('PING', [], id=5)
        assert c0.recv().get('ERRNO') == errno.EPROTO
        c = Client(path)
        os.makedirs(f'{tmp}/work')
        c = common_tests(c, path, p.pid, 'root', f'{tmp}/work')
        c.ok('PING')
        print('serve mode: OK')
    finally:
        p.kill(); p.wait()
        shutil.rmtree(tmp)


# ---- launch mode ---------------------------------------------------------------
def prepare(src, dst, shift):
    subprocess.run(['cp', '-a', src, dst], check=True)
    seen = set()   # hard links: shift each inode once
    for root, dirs, files in os.walk(dst):
        for n in ([root] if root == dst else []) + [os.path.join(root, x) for x in dirs + files]:
            st = os.lstat(n)
            if (st.st_dev, st.st_ino) in seen: continue
            seen.add((st.st_dev, st.st_ino))
            os.lchown(n, st.st_uid + shift, st.st_gid + shift)
            if not os.path.islink(n) and st.st_mode & 0o6000:
                os.chmod(n, st.st_mode & 0o7777)   # chown cleared setuid bits
    pw = open(f'{dst}/etc/passwd').read()
    if '\nuser:' not in pw:
        with open(f'{dst}/etc/passwd', 'a') as f: f.write('user:x:1000:1000:user:/home/user:/bin/bash\n')
        with open(f'{dst}/etc/group', 'a') as f: f.write('user:x:1000:\n')
        os.makedirs(f'{dst}/home/user', exist_ok=True)
        os.chown(f'{dst}/home/user', 1000 + shift, 1000 + shift)
        os.chmod(f'{dst}/home/user', 0o755)
    with open(f'{dst}/etc/hostname', 'w') as f: f.write('template-hostname\n')


def ns_members(ino):
    out = []
    for p in os.listdir('/proc'):
        try:
            if p.isdigit() and os.stat(f'/proc/{p}/ns/pid').st_ino == ino: out.append(int(p))
        except OSError:
            pass
    return out


def launch_mode(binary, rootfs, base=100000):
    tmp = tempfile.mkdtemp(prefix='sv-launch-')
    for d in ('upper', 'work', 'merged'): os.mkdir(f'{tmp}/{d}')
    os.makedirs(f'{tmp}/shared/sub'); open(f'{tmp}/shared/sub/x', 'w').write('shared\n')
    sock = f'{tmp}/sv.sock'
    cmd = [binary, 'launch', '--lower', rootfs, '--upper', f'{tmp}/upper', '--work', f'{tmp}/work',
           '--merged', f'{tmp}/merged', '--hostname', 'sbx-test', '--socket', sock,
           '--uid-base', str(base), '--uid-count', '65536', '--bind', f'{tmp}/shared:/mnt/shared:ro',
           '--env', 'PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin']
    print('  launch command:', ' '.join(cmd))
    t0 = time.perf_counter()
    r = subprocess.run(cmd, capture_output=True, text=True, env=dict(os.environ, HOST_SECRET='SECRET-123'))
    t1 = time.perf_counter()
    assert r.returncode == 0, r
    hostpid = int(r.stdout)
    c = Client(sock)
    t2 = time.perf_counter()
    print(f'  launch: {1000 * (t1 - t0):.1f} ms to exit, {1000 * (t2 - t0):.1f} ms exec to handshake')
    pidns = os.stat(f'/proc/{hostpid}/ns/pid').st_ino
    try:
        assert c.pid == 1, c.pid
        assert oct(os.stat(sock).st_mode & 0o777) == '0o600'
        assert sh(c, 'hostname').strip() == 'sbx-test'
        c.ok('SET_HOSTNAME', [('DATA', 'sbx-renamed')])
        assert sh(c, 'hostname').strip() == 'sbx-renamed'
        assert sh(c, 'id -u; id -g').split() == ['0', '0']
        assert sh(c, 'id -u; id -g; echo $HOME; pwd', user='user').split() == ['1000', '1000', '/home/user', '/home/user']
        ps = sh(c, 'ps -e -o pid=,comm=').split('\n')
        ps = [l.split() for l in ps if l.strip()]
        assert ps[0] == ['1', 'hearth-supervis'] and len(ps) <= 4, ps
        assert 'sv.sock' not in sh(c, 'ls -la / /tmp')
        assert sh(c, 'cat /mnt/shared/sub/x') == 'shared\n'
        ex, outs, _ = c.run(['sh', '-c', 'touch /mnt/shared/y'], user='root')
        assert ex.get('EXIT_CODE') != 0
        assert '1 0 0' not in sh(c, 'cat /proc/self/uid_map')
        assert sh(c, 'ip link 2>/dev/null || cat /sys/class/net/lo/operstate; ls /sys/class/net').count('lo') >= 1
        sh(c, 'ls -la /dev /dev/pts; test -c /dev/null && echo hi > /dev/null && test -e /dev/ptmx && test -d /dev/shm')
        # PID 1 is protected from the sandbox's root: no signal, no /proc/1 introspection
        assert sh(c, 'kill -9 1; kill -TERM 1; sleep 0.1; cat /proc/1/environ >/dev/null 2>&1 || echo denied').strip() == 'denied'
        c.ok('PING')
        # a missing home falls back to / when no CWD is given
        assert sh(c, 'pwd', user='nobody').strip() == '/'
        # the sandbox's root cannot touch the host
        ex, outs, _ = c.run(['sh', '-c', 'mount -t tmpfs x /mnt'], user='root')
        assert ex.get('EXIT_CODE') != 0

        c = common_tests(c, sock, hostpid, 'user', '/home/user/t')
        c = common_tests(c, sock, hostpid, 'root', '/root/t')

        # files written by user appear in the upper dir owned by base+1000
        h = c.ok('WRITE_OPEN', [('PATH', 'owned.txt'), ('USER', 'user')]).get('HANDLE')
        c.ok('WRITE_DATA', [('HANDLE', h), ('DATA', 'x')])
        c.ok('WRITE_CLOSE', [('HANDLE', h)])
        st = os.stat(f'{tmp}/upper/home/user/owned.txt')
        assert (st.st_uid, st.st_gid) == (base + 1000, base + 1000), st
        # permission checks are the user's
        c.err('WRITE_OPEN', [('PATH', '/etc/x'), ('USER', 'user')], errno.EACCES)
        c.err('READ_FILE', [('PATH', '/etc/shadow'), ('USER', 'user')], errno.EACCES)
        c.ok('READ_FILE', [('PATH', '/etc/shadow'), ('USER', 'root')], data_sink=[])
        chunks = []   # the launcher's (host daemon's) environment is wiped
        r = c.call('READ_FILE', [('PATH', '/proc/1/environ'), ('USER', 'root')], data_sink=chunks)
        assert r.get('ERRNO') == errno.EACCES or (r.type == T['OK'] and b'SECRET' not in b''.join(chunks)), r
        env = open(f'/proc/{hostpid}/environ', 'rb').read()
        assert b'SECRET' not in env, env
        # symlinks resolve inside the sandbox root
        sh(c, 'ln -s / /home/user/host', user='user')
        chunks = []
        c.ok('READ_FILE', [('PATH', '/home/user/host/etc/hostname'), ('USER', 'user')], data_sink=chunks)
        assert b''.join(chunks) == b'template-hostname\n', chunks
        # a long-running process, then SIGKILL PID 1: nothing may survive
        pid = c.ok('SPAWN', [('ARG', 'sleep'), ('ARG', '1000')]).get('PID')
        assert len(ns_members(pidns)) >= 2
        print('launch mode: OK')
    finally:
        os.kill(hostpid, signal.SIGKILL)
        for _ in range(100):
            if not ns_members(pidns): break
            time.sleep(0.02)
        left = ns_members(pidns)
        def mounted(p):   # processes come and go while we look
            try: return f'{tmp}/merged' in open(f'/proc/{p}/mountinfo').read()
            except OSError: return False
        mounts = [p for p in os.listdir('/proc') if p.isdigit() and mounted(p)]
        assert not left and not mounts, (left, mounts)
        print('  after SIGKILL of PID 1: no process, no mount left')
        shutil.rmtree(tmp)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('mode', choices=['serve', 'prepare', 'launch'])
    ap.add_argument('args', nargs='*')
    ap.add_argument('--binary', default=os.path.join(os.path.dirname(__file__), '../build/hearth-supervisor'))
    ap.add_argument('--rootfs')
    ap.add_argument('--shift', type=int, default=100000)
    a = ap.parse_args()
    b = os.path.abspath(a.binary)
    if a.mode == 'serve': serve_mode(b)
    elif a.mode == 'prepare': prepare(a.args[0], a.args[1], a.shift)
    else: launch_mode(b, a.rootfs, a.shift)


if __name__ == '__main__':
    main()
