#!/usr/bin/env python3
"""Clients for `make bench` that wrk cannot be.

  client.py hold PORT N COOKIE          open N keep-alive connections, one GET
                                        each, print "ready", hold them until
                                        stdin closes (memory at N connections)
  client.py burst PORT COOKIE CSRF N    N POST /resolve of different names at
                                        once; print "seconds ok"
  client.py one PORT COOKIE CSRF NAME   one POST /resolve; print "seconds status"
  client.py keepalive PORT PATH COOKIE N
                                        N GETs one after another on ONE
                                        connection; print how many got 200
                                        (a server that closes after an answer,
                                        with or without "Connection: close",
                                        answers 1)
  client.py cgi PORT PATH SECONDS TEXT  a GET per connection (a CGI server
                                        closes each), for SECONDS, 4 at a
                                        time; print "n ok req/s", ok = 200
                                        with TEXT in the body

sipcfgd allows 64 connections per address: the connections come from
127.0.0.1, 127.0.0.2, ... (all loopback), at most 60 from each.
"""
import socket
import sys
import threading
import time


def connect(port, i):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.%d" % (1 + i // 60), 0))
    s.connect(("127.0.0.1", port))
    return s


def read_response(s):
    buf = b""
    while b"\r\n\r\n" not in buf:
        chunk = s.recv(65536)
        if not chunk:
            raise IOError("connection closed")
        buf += chunk
    head, _, rest = buf.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        k, _, v = line.partition(b":")
        if k.strip().lower() == b"content-length":
            length = int(v)
    while len(rest) < length:
        chunk = s.recv(65536)
        if not chunk:
            raise IOError("connection closed")
        rest += chunk
    return int(head.split()[1]), rest


def request(method, path, cookie, csrf=None, body=None):
    h = "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: %s\r\n" % (method, path, cookie)
    if csrf:
        h += "X-CSRF-Token: %s\r\n" % csrf
    if body is not None:
        h += "Content-Type: application/json\r\nContent-Length: %d\r\n" % len(body)
    return (h + "\r\n" + (body or "")).encode()


def hold(port, n, cookie):
    socks = []
    for i in range(n):
        s = connect(port, i)
        s.sendall(request("GET", "/api/v1/lines/1", cookie))
        st, _ = read_response(s)
        if st != 200:
            print("status %d" % st, flush=True)
            return 1
        socks.append(s)
    print("ready", flush=True)
    sys.stdin.read()
    for s in socks:
        s.close()
    return 0


def resolve_body(name):
    return '{"server":"%s","dns_srv":false}' % name


def one(port, cookie, csrf, name):
    s = connect(port, 0)
    t0 = time.monotonic()
    s.sendall(request("POST", "/api/v1/resolve", cookie, csrf, resolve_body(name)))
    st, _ = read_response(s)
    print("%.4f %d" % (time.monotonic() - t0, st))
    return 0


def burst(port, cookie, csrf, n):
    socks = [connect(port, i) for i in range(n)]
    status = [0] * n
    go = threading.Barrier(n + 1)

    def run(i):
        msg = request("POST", "/api/v1/resolve", cookie, csrf, resolve_body("h%d.slow.test" % i))
        go.wait()
        socks[i].sendall(msg)
        status[i], _ = read_response(socks[i])

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    go.wait()
    t0 = time.monotonic()
    for t in threads:
        t.join(timeout=30)
    print("%.4f %d" % (time.monotonic() - t0, status.count(200)))
    return 0


def keepalive(port, path, cookie, n):
    s = connect(port, 0)
    answered = 0
    try:
        for _ in range(n):
            s.sendall(request("GET", path, cookie))
            st, _ = read_response(s)
            if st != 200:
                break
            answered += 1
    except (IOError, OSError):
        pass
    s.close()
    print(answered)
    return 0


def cgi(port, path, seconds, text):
    counts = [0, 0]
    lock = threading.Lock()
    end = time.monotonic() + seconds

    def run():
        while time.monotonic() < end:
            good = False
            try:
                s = socket.create_connection(("127.0.0.1", port), timeout=10)
                s.sendall(("GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n" % path).encode())
                data = b""
                while len(data) < 1 << 20:
                    chunk = s.recv(65536)
                    if not chunk:
                        break
                    data += chunk
                s.close()
                good = data.startswith(b"HTTP/1.") and data.split()[1] == b"200" and text.encode() in data
            except (IOError, OSError, IndexError):
                pass
            with lock:
                counts[0] += 1
                counts[1] += good

    threads = [threading.Thread(target=run) for _ in range(4)]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=seconds + 20)
    print("%d %d %.1f" % (counts[0], counts[1], counts[1] / (time.monotonic() - t0)))
    return 0


def main(a):
    if a[1] == "keepalive":
        return keepalive(int(a[2]), a[3], a[4], int(a[5]))
    if a[1] == "cgi":
        return cgi(int(a[2]), a[3], float(a[4]), a[5])
    if a[1] == "hold":
        return hold(int(a[2]), int(a[3]), a[4])
    if a[1] == "burst":
        return burst(int(a[2]), a[3], a[4], int(a[5]))
    if a[1] == "one":
        return one(int(a[2]), a[3], a[4], a[5])
    return 2


sys.exit(main(sys.argv))
