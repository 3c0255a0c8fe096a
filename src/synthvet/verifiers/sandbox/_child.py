"""The program that runs *inside* the sandbox. Standard library only.

The launcher sends its compiled code (the ``.pyc`` it imported) to a three-line
bootstrap, ``python -I -S -c``, inside the sandbox; it is also imported on the trusted
side for its wire format (:func:`encode`, :func:`decode`,
:func:`read_frame`, :func:`write_frame`). Three kinds of process run this code:

``Z`` (the zygote)
    Started once per sandbox (its code arrives compiled on stdin, a socket). Imports the
    common standard library once, then loops: fork a blank candidate host ``B`` for the
    next job and offer its pipe ends to the trusted side over the socket at once; read
    the job's first request. A ``job`` (tests run as code): fork the runner ``J`` (which
    reads the job itself) with that blank, hand it more on request and wait for it.
    Anything else is a direct job (literal tests, io tests, differential testing: no test
    code to run), whose trusted side already talks to the offered blank: fork more on
    request, and on ``end`` kill them and count any other live process. Then kill every
    process in the sandbox (``kill(-1)``; it has its own PID namespace), wipe the job
    folder and write a note (leftovers, clean) on its stdout. Z never reads a job's data,
    so a blank forked from it carries nothing of any job in its memory; all a job can
    change in Z is which modules of a fixed standard-library list (``ON_DEMAND``) it has
    imported, when the trusted side asks for them.

``J`` (the job runner)
    Reads one job (the solution text, its mutants, the tests) from the trusted side's
    pipe, sends each candidate program to its own ``B``, runs the tests in its own
    memory and calls the candidate through a proxy that marshals plain data only, then
    writes a length-prefixed report that echoes the job's nonce on a pipe that only it
    holds. It is non-dumpable, so a process of the same uid can neither ptrace it nor
    read its memory or its fds through ``/proc``.

``B`` (a candidate host)
    Closes every inherited fd but its own two pipes, sets its limits, loads the candidate
    program and serves calls (``function`` mode) or runs it once per stdin in a forked
    child (``io`` mode). Whatever it sends back is decoded into plain built-in values only;
    it never sees a test's expected values.
"""

from __future__ import annotations

import _signal  # the constants only: the signal module's enums cost every start 1.5 ms
import _socket  # socket's C layer: what Z, J and the fd passing need, without socket.py
import builtins
import gc
import os
import random
import resource
import select
import struct
import sys
import time
import types

MAX_FRAME = 32 << 20
_HDR = struct.Struct(">I")


class WireError(Exception):
    """A frame or value that breaks the protocol: treated as tampering."""


class Unsupported(Exception):
    """A value that is not plain built-in data."""


# --------------------------------------------------------------------------- wire format


def encode(value, depth=0, ref=None):
    """Plain built-in data as tagged JSON-able data; exact types only (no subclasses).

    ``ref`` may turn an object that is not plain data into a handle tag (``{"h": n}``);
    only the candidate host uses it, for instances of the solution's own classes.
    """
    if depth > 200:
        raise Unsupported("nesting deeper than 200")
    t = type(value)
    if value is None or t is bool or t is str or t is int or t is float:
        return value
    d = depth + 1
    if t is list:
        return {"l": [encode(v, d, ref) for v in value]}
    if t is tuple:
        return {"t": [encode(v, d, ref) for v in value]}
    if t is dict:
        return {"d": [[encode(k, d, ref), encode(v, d, ref)] for k, v in value.items()]}
    if t is set:
        return {"s": [encode(v, d, ref) for v in value]}
    if t is frozenset:
        return {"f": [encode(v, d, ref) for v in value]}
    if t is bytes:
        return {"b": value.hex()}
    if t is complex:
        return {"c": [value.real, value.imag]}
    if ref is not None:
        tagged = ref(value)
        if tagged is not None:
            return tagged
    raise Unsupported(f"{t.__module__}.{t.__qualname__}")


def decode(data, depth=0, handles=None):
    """The inverse of :func:`encode`; anything else raises :class:`WireError`.

    Only ``json.loads`` output reaches here, so every leaf is already a built-in; this
    rebuilds containers and rejects anything that is not exactly one known tag. A handle
    tag is accepted only when ``handles`` (a function of the handle number) is given.
    """
    if depth > 200:
        raise WireError("nesting deeper than 200")
    t = type(data)
    if data is None or t is bool or t is str or t is int or t is float:
        return data
    if t is not dict or len(data) != 1:
        raise WireError(f"bad value shape {t.__name__}")
    ((tag, inner),) = data.items()
    try:
        if tag == "l" and type(inner) is list:
            return [decode(v, depth + 1, handles) for v in inner]
        if tag == "t" and type(inner) is list:
            return tuple(decode(v, depth + 1, handles) for v in inner)
        if tag == "d" and type(inner) is list:
            out = {}
            for pair in inner:
                if type(pair) is not list or len(pair) != 2:
                    raise WireError("bad dict item")
                out[decode(pair[0], depth + 1, handles)] = decode(pair[1], depth + 1, handles)
            return out
        if tag == "s" and type(inner) is list:
            return {decode(v, depth + 1, handles) for v in inner}
        if tag == "f" and type(inner) is list:
            return frozenset(decode(v, depth + 1, handles) for v in inner)
        if tag == "b" and type(inner) is str:
            return bytes.fromhex(inner)
        if tag == "h" and type(inner) is int and handles is not None:
            return handles(inner)
        if tag == "c" and type(inner) is list and len(inner) == 2 and all(
            type(x) in (int, float) for x in inner
        ):
            return complex(inner[0], inner[1])
    except (TypeError, ValueError) as exc:  # unhashable key, bad hex
        raise WireError(f"bad {tag!r} value: {exc}") from None
    raise WireError(f"unknown tag {tag!r}")


try:
    import _json
except ImportError:  # an interpreter without json's accelerator: json's own Python
    _json = None


def _encoder():
    if _json is None:
        return None
    return _json.make_encoder({}, _not_json, _json.encode_basestring_ascii, None,
                              ":", ",", False, False, True)


def _not_json(o):
    raise TypeError(f"Object of type {type(o).__name__} is not JSON serializable")


class _Strict:
    """What ``json.JSONDecoder()`` gives its scanner: the defaults of ``json.loads``."""

    strict = True
    object_hook = object_pairs_hook = None
    parse_float, parse_int = float, int
    parse_constant = {"-Infinity": float("-inf"), "Infinity": float("inf"),
                      "NaN": float("nan")}.__getitem__


def _scanner():
    if _json is None:
        import json

        return json.JSONDecoder().scan_once
    return _json.make_scanner(_Strict())


# json's C encoder and scanner, called directly: what json.dumps and json.loads do for
# these arguments, without their Python layers (a fresh encoder object per dumps call),
# and without importing the json package into the sandbox (its regular expressions
# cost every start a millisecond). Every process here writes frames right after a fork,
# where each Python function run costs copied pages too.
_ENC = [_encoder()]
_SCAN = _scanner()


def _dumps(obj):
    enc = _ENC[0]
    if enc is None:
        import json

        return json.dumps(obj, separators=(",", ":"))
    try:
        return "".join(enc(obj, 0))
    except BaseException:
        _ENC[0] = _encoder()  # its cycle markers may be left half-filled
        raise


def write_frame(fd, obj):
    data = _dumps(obj).encode("utf-8")
    buf = memoryview(_HDR.pack(len(data)) + data)
    while buf:
        n = os.write(fd, buf)
        buf = buf[n:]


def _read_exact(fd, n, deadline):
    chunks = []
    while n > 0:
        if deadline is not None:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError
            r, _, _ = select.select([fd], [], [], left)
            if not r:
                raise TimeoutError
        chunk = os.read(fd, min(n, 1 << 20))
        if not chunk:
            raise EOFError
        chunks.append(chunk)
        n -= len(chunk)
    return b"".join(chunks)


def read_frame(fd, deadline=None, cap=MAX_FRAME):
    """One length-prefixed JSON frame. EOFError, TimeoutError or WireError otherwise.

    Reads exactly the frame's bytes, so whatever follows stays in the pipe (J reads its job
    from the zygote's stdin this way)."""
    (size,) = _HDR.unpack(_read_exact(fd, 4, deadline))
    if size > cap:
        raise WireError(f"frame of {size} bytes exceeds {cap}")
    return _parse(_read_exact(fd, size, deadline))


def _parse(data):
    try:
        text = data.decode("utf-8")
        try:
            obj, end = _SCAN(text, 0)
            if end == len(text):
                return obj
        except (StopIteration, ValueError):
            pass
        import json

        return json.loads(text)  # the slow path raises json.loads's own errors
    except (ValueError, RecursionError) as exc:
        raise WireError(f"undecodable frame: {exc}") from None


class FrameReader:
    """Frames from one fd in as few system calls as possible: one ``select`` (with a
    deadline) and one 64 KB ``read`` usually bring a whole frame; bytes past it stay here
    for the next frame. Only for a channel this reader owns alone (the trusted side's end
    of the sandbox's output; J's end of a candidate's replies; B's end of J's requests)."""

    __slots__ = ("buf", "fd")

    def __init__(self, fd):
        self.fd = fd
        self.buf = b""

    def _fill(self, deadline):
        if deadline is not None:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError
            r, _, _ = select.select([self.fd], [], [], left)
            if not r:
                raise TimeoutError
        chunk = os.read(self.fd, 1 << 16)
        if not chunk:
            raise EOFError
        self.buf += chunk

    def read(self, deadline=None, cap=MAX_FRAME):
        while len(self.buf) < 4:
            self._fill(deadline)
        (size,) = _HDR.unpack_from(self.buf)
        if size > cap:
            raise WireError(f"frame of {size} bytes exceeds {cap}")
        end = 4 + size
        if len(self.buf) < end:  # a large frame: the rest exactly, in big reads
            self.buf += _read_exact(self.fd, end - len(self.buf), deadline)
        data, self.buf = self.buf[4:end], self.buf[end:]
        return _parse(data)


# --------------------------------------------------------------------------- helpers


def _non_dumpable():
    """PR_SET_DUMPABLE=0: no ptrace, no /proc/<pid>/mem or fd access by same-uid peers.

    Through ctypes' C layer where it offers a plain call (a third of ctypes' import
    time, and nothing of its Python layer in Z's memory), else through ctypes."""
    try:
        import _ctypes

        prctl = _ctypes.dlsym(_ctypes.dlopen(None, 0), "prctl")
        return _ctypes.call_function(prctl, (4, 0, 0, 0, 0)) == 0
    except Exception:  # noqa: BLE001, S110 - the usual way, below
        pass
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(4, 0, 0, 0, 0) == 0
    except Exception:  # noqa: BLE001
        return False


def _send_fds(sock, data, fds):
    """``socket.send_fds``: ``data`` and the fds in one message."""
    sock.sendmsg([data], [(_socket.SOL_SOCKET, _socket.SCM_RIGHTS,
                           struct.pack(f"{len(fds)}i", *fds))])


def _recv_fds(sock, bufsize, maxfds):
    """``socket.recv_fds``: a message's bytes and the fds it carries."""
    size = struct.calcsize("i")
    msg, ancdata, _flags, _addr = sock.recvmsg(bufsize, _socket.CMSG_LEN(maxfds * size))
    fds = []
    for level, kind, data in ancdata:
        if level == _socket.SOL_SOCKET and kind == _socket.SCM_RIGHTS:
            n = len(data) // size
            fds += struct.unpack(f"{n}i", data[:n * size])
    return msg, fds


def _set_limits(lim):
    def one(which, value):
        if value is None:
            return
        try:
            _soft, hard = resource.getrlimit(which)
            value = int(value)
            if hard != resource.RLIM_INFINITY:
                value = min(value, hard)
            resource.setrlimit(which, (value, value))
        except (ValueError, OSError):
            pass

    one(resource.RLIMIT_CPU, lim.get("cpu"))
    if lim.get("memory_mb"):
        one(resource.RLIMIT_AS, lim["memory_mb"] << 20)
    if lim.get("fsize_mb"):
        one(resource.RLIMIT_FSIZE, lim["fsize_mb"] << 20)
    one(resource.RLIMIT_NPROC, lim.get("nproc"))
    one(resource.RLIMIT_NOFILE, lim.get("nofile"))
    one(resource.RLIMIT_CORE, 0)


def _tail(path, chars=1200):
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW)
    except OSError:
        return ""
    try:
        return _fd_tail(fd, chars)
    finally:
        os.close(fd)


def _fd_tail(fd, chars=1200):
    try:
        size = os.fstat(fd).st_size
        if not size:
            return ""
        return os.pread(fd, chars, max(0, size - chars)).decode("utf-8", "replace")
    except OSError:
        return ""


def _redirect_output(prefix):
    """fd 1 and 2 to files in the job folder; the size limit caps a flood."""
    for fd, suffix in ((1, ".out"), (2, ".err")):
        try:
            f = os.open(prefix + suffix, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            os.dup2(f, fd)
            os.close(f)
        except OSError:
            pass
    try:
        null = os.open("/dev/null", os.O_RDONLY)
        os.dup2(null, 0)
        os.close(null)
    except OSError:
        pass


def _exc_info(exc):
    return {"exc_type": type(exc).__name__, "message": str(exc)[:500]}


# --------------------------------------------------------------------------- B: candidate host


def blank_main(rfd, wfd):
    lo, hi = sorted((rfd, wfd))
    os.closerange(3, lo)
    os.closerange(lo + 1, hi)
    os.closerange(hi + 1, 65536)
    reader = FrameReader(rfd)
    try:
        msg = reader.read()
    except Exception:  # noqa: BLE001
        os._exit(0)
    if not isinstance(msg, dict) or msg.get("op") != "load":
        os._exit(0)
    jobdir = msg["dir"]
    prefix = os.path.join(jobdir, msg["name"])
    try:
        os.chdir(jobdir)
    except OSError:
        pass
    _redirect_output(prefix)
    random.seed(0)
    sys.argv = ["solution.py"]
    sys.setrecursionlimit(max(1000, int(msg.get("recursion", 1000))))
    # Candidate code gets a normal interpreter; what Z allocated after its own freeze is
    # frozen too, or the first collection would walk (and so copy) all of it.
    gc.freeze()
    gc.enable()
    _set_limits(msg["limits"])
    if msg["mode"] == "io":
        _serve_io(reader, wfd, msg, prefix)
    else:
        _serve_calls(reader, wfd, msg)
    os._exit(0)


#: errors that mean a sandbox limit was hit, not that the code is wrong
_LIMIT_ERRNO = {27: "file size (EFBIG)", 24: "open files (EMFILE)", 28: "tmp space (ENOSPC)",
                11: "processes (EAGAIN)"}


def _module_ns(name):
    """The namespace of a fresh module registered in ``sys.modules``, to run code in as
    an imported file runs: @dataclass, pickle and typing.get_type_hints look a class's
    module up there by name."""
    module = types.ModuleType(name)
    module.__builtins__ = builtins
    sys.modules[name] = module
    return module.__dict__


def _serve_calls(reader, wfd, msg):
    ns = _module_ns(str(msg.get("module", "solution")))
    try:
        code = compile(msg["code"], "<solution>", "exec")
        exec(code, ns)  # noqa: S102
    except BaseException as exc:  # noqa: BLE001 - every outcome is reported
        import traceback

        reply = {"ok": False, **_exc_info(exc), "where": "load",
                 "traceback": traceback.format_exc()[-1500:]}
        try:
            write_frame(wfd, reply)
        except Exception:  # noqa: BLE001, S110
            pass
        return
    names = {}
    for key, val in list(ns.items()):
        if key.startswith("__"):
            continue
        if type(val).__name__ == "module":
            continue
        names[key] = "callable" if callable(val) else "value"
    write_frame(wfd, {"ok": True, "names": names})
    modname = ns["__name__"]
    table = {}

    def ref(value):
        # instances of the solution's own classes travel as handles (LeetCode style)
        if getattr(type(value), "__module__", None) != modname or len(table) > 100000:
            return None
        table[len(table) + 1] = value
        return {"h": len(table)}

    def lookup(hid):
        if hid not in table:
            raise WireError("unknown handle")
        return table[hid]

    while True:
        try:
            req = reader.read()
        except Exception:  # noqa: BLE001
            return
        op = req.get("op")
        if op in ("get", "mget"):
            try:
                if op == "get":
                    val = ns[req["name"]]
                else:
                    val = getattr(lookup(req["handle"]), req["name"])
                if op == "mget" and callable(val) and getattr(
                        type(val), "__module__", None) != modname:
                    write_frame(wfd, {"ok": True, "callable": True})
                else:
                    write_frame(wfd, {"ok": True, "value": encode(val, 0, ref)})
            except Unsupported as exc:
                write_frame(wfd, {"ok": False, "unsupported": str(exc)})
            except BaseException as exc:  # noqa: BLE001
                write_frame(wfd, {"ok": False, **_exc_info(exc)})
            continue
        if op == "calls":  # a batch (literal tests): one reply per call, in order
            for c in req.get("calls") or ():
                _send(wfd, _call_once(lambda c=c: ns[c["name"]], c, lookup, ref, False))
            continue
        if op not in ("call", "mcall"):
            return
        if op == "call":
            def fn(req=req):
                return ns[req["name"]]
        else:
            def fn(req=req):
                return getattr(lookup(req["handle"]), req["name"])
        _send(wfd, _call_once(fn, req, lookup, ref, True))


def _call_once(get_fn, req, lookup, ref, track):
    """Call the candidate once; the reply says what it returned or raised and, with
    ``track``, how it changed mutable arguments (the tests may look at them again)."""
    try:
        args = decode(req["args"], 0, lookup)
        kwargs = decode(req["kwargs"], 0, lookup)
        fn = get_fn()
        before = [encode(a, 0, ref) if track and type(a) in (list, dict, set) else None
                  for a in args]
        value = fn(*args, **kwargs)
        reply = {"ok": True, "value": encode(value, 0, ref)}
        after = {}
        for i, a in enumerate(args):
            if before[i] is not None:
                now = encode(a, 0, ref)
                if now != before[i]:
                    after[str(i)] = now
        if after:
            reply["after"] = after
    except Unsupported as exc:
        reply = {"ok": False, "unsupported": str(exc)}
    except BaseException as exc:  # noqa: BLE001 - SystemExit too: reported, not obeyed
        reply = {"ok": False, **_exc_info(exc)}
        if isinstance(exc, (RecursionError, MemoryError)):
            reply["limit"] = type(exc).__name__
        elif isinstance(exc, OSError) and exc.errno in _LIMIT_ERRNO:
            reply["limit"] = _LIMIT_ERRNO[exc.errno]
    _flush()  # what it printed reaches its output files: evidence if the tests fail
    return reply


def _send(wfd, reply):
    try:
        write_frame(wfd, reply)
    except Unsupported:
        write_frame(wfd, {"ok": False, "unsupported": "unencodable"})
    except (ValueError, OverflowError) as exc:  # huge ints and the like
        write_frame(wfd, {"ok": False, "unsupported": f"unencodable: {exc}"[:200]})


def _flush():
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except BaseException:  # noqa: BLE001, S110 - the candidate's streams, its problem
            pass


def _serve_io(reader, wfd, msg, prefix):
    try:
        code = compile(msg["code"], "<solution>", "exec")
    except BaseException as exc:  # noqa: BLE001
        write_frame(wfd, {"ok": False, **_exc_info(exc), "where": "compile"})
        return
    write_frame(wfd, {"ok": True, "names": {}})
    n = 0
    while True:
        try:
            req = reader.read()
        except Exception:  # noqa: BLE001
            return
        if req.get("op") != "run":
            return
        n += 1
        inp = f"{prefix}.in{n}"
        out = f"{prefix}.out{n}"
        err = f"{prefix}.err{n}"
        try:
            with open(inp, "w", encoding="utf-8") as f:
                f.write(req["stdin"])
        except OSError as exc:
            write_frame(wfd, {"ok": False, **_exc_info(exc), "where": "stdin"})
            continue
        started = time.monotonic()
        pid = os.fork()
        if pid == 0:
            try:
                os.close(reader.fd)
                os.close(wfd)
                os.setpgid(0, 0)
                fi = os.open(inp, os.O_RDONLY)
                fo = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
                fe = os.open(err, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
                os.dup2(fi, 0)
                os.dup2(fo, 1)
                os.dup2(fe, 2)
                for fd in (fi, fo, fe):
                    os.close(fd)
                sys.stdin = open(0, "r", encoding="utf-8", errors="replace", closefd=False)  # noqa: SIM115
                sys.stdout = open(1, "w", encoding="utf-8", closefd=False)  # noqa: SIM115
                sys.stderr = open(2, "w", encoding="utf-8", closefd=False)  # noqa: SIM115
                exec(code, _module_ns("__main__"))  # noqa: S102
                sys.stdout.flush()
                status = 0
            except SystemExit as exc:
                status = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
                try:
                    if exc.code is not None and not isinstance(exc.code, int):
                        sys.stderr.write(str(exc.code) + "\n")
                    sys.stdout.flush()
                except BaseException:  # noqa: S110, BLE001
                    pass
            except BaseException:  # noqa: BLE001
                import traceback

                try:
                    sys.stdout.flush()
                    traceback.print_exc()
                    sys.stderr.flush()
                except BaseException:  # noqa: S110, BLE001
                    pass
                status = 1
            os._exit(status & 0xFF)
        deadline = started + float(req.get("timeout", 5.0))
        status = None
        timed_out = False
        while True:
            got, st = os.waitpid(pid, os.WNOHANG)
            if got:
                status = st
                break
            if time.monotonic() > deadline:
                timed_out = True
                try:
                    os.killpg(pid, _signal.SIGKILL)
                except OSError:
                    pass
                os.waitpid(pid, 0)
                break
            time.sleep(0.0005)
        try:
            os.killpg(pid, _signal.SIGKILL)  # whatever it left in its group
        except OSError:
            pass
        cap = int(msg.get("max_output", 1 << 20))
        try:
            with open(out, "rb") as f:
                data = f.read(cap + 1)
        except OSError:
            data = b""
        reply = {
            "ok": True,
            "stdout": data[:cap].decode("utf-8", "replace"),
            "truncated": len(data) > cap,
            "stderr_tail": _tail(err),
            "timeout": timed_out,
            "seconds": time.monotonic() - started,
        }
        if status is not None:
            if os.WIFSIGNALED(status):
                reply["signal"] = os.WTERMSIG(status)
            else:
                reply["exit"] = os.WEXITSTATUS(status)
        write_frame(wfd, reply)


# --------------------------------------------------------------------------- J: job runner


class CandidateGone(BaseException):
    """The candidate process died, broke the protocol or timed out during a call.

    A BaseException so that ``except Exception`` in test code does not swallow it; the
    runner also records it, so even a bare ``except:`` cannot turn it into a pass.
    """


class _Host:
    """J's handle on one candidate host B."""

    def __init__(self, pid, wfd, rfd, name):
        self.pid, self.wfd, self.rfd, self.name = pid, wfd, rfd, name
        self.reader = FrameReader(rfd)
        self.deadline = None
        self.taint = None  # (kind, detail): died, timeout, protocol, unsupported, exit
        self.calls = 0
        self.last = None
        self.limit = None

    def kill(self):
        try:
            os.kill(self.pid, _signal.SIGKILL)
        except OSError:
            pass

    def request(self, obj, more=False, then=None):
        """Send ``obj`` (unless None), then ``then`` if given, and read one reply; ``more``
        replies may follow (a batch of calls), else anything after it breaks the protocol."""
        if self.taint is not None:
            raise CandidateGone(self.taint[1])
        try:
            if obj is not None:
                write_frame(self.wfd, obj)
            if then is not None:
                try:
                    write_frame(self.wfd, then)
                except OSError:
                    pass  # it may have answered obj and ended (a failed load): read that
            reply = self.reader.read(self.deadline)
            if self.reader.buf and not more:  # one request, one reply
                raise WireError("bytes after the reply")
            return reply
        except TimeoutError:
            self.kill()
            self.taint = ("timeout", "candidate exceeded its time limit")
        except (EOFError, OSError):
            self.taint = ("died", "candidate process ended during a call")
        except WireError as exc:
            self.kill()
            self.taint = ("protocol", f"candidate broke the protocol: {exc}")
        raise CandidateGone(self.taint[1])

    def close(self):
        for fd in (self.wfd, self.rfd):
            try:
                os.close(fd)
            except OSError:
                pass
        self.kill()

    def tails(self, outcome, wanted, jobdir):
        """The ends of what the candidate printed, as evidence (read once it is dead)."""
        outcome["stdout_tail"] = _tail(os.path.join(jobdir, self.name + ".out"), 600)
        outcome["stderr_tail"] = _tail(os.path.join(jobdir, self.name + ".err"), 600)


def _builtin_exception(name):
    cls = getattr(builtins, name, None)
    if isinstance(cls, type) and issubclass(cls, Exception):
        return cls
    return None


class CandidateError(Exception):
    """An exception of a type that is not a built-in, raised by the candidate."""


class _Remote:
    """An instance of one of the solution's classes, living in the candidate process.

    Methods and attributes are fetched through the proxy; everything that would let the
    object decide a comparison or a truth value (``==``, ``<``, ``bool``, ``len``,
    iteration, hashing) is refused and taints the run, so it can never make an assert pass.
    """

    __slots__ = ("_hid", "_host")

    def __init__(self, host, hid):
        object.__setattr__(self, "_host", host)
        object.__setattr__(self, "_hid", hid)

    def __getattr__(self, name):
        host = object.__getattribute__(self, "_host")
        hid = object.__getattribute__(self, "_hid")
        if name.startswith("__"):
            raise AttributeError(name)
        reply = host.request({"op": "mget", "handle": hid, "name": name})
        if type(reply) is dict and reply.get("ok") is True and reply.get("callable") is True:
            return _make_proxy(host, name, hid)
        return _reply_value(host, name, reply, ())

    def __setattr__(self, name, value):
        _refuse(self, "attribute assignment")

    def __repr__(self):
        return f"<solution object #{object.__getattribute__(self, '_hid')}>"

    def _deny(self, *args):
        _refuse(self, "comparison or truth value")

    __eq__ = __ne__ = __lt__ = __le__ = __gt__ = __ge__ = __bool__ = __len__ = _deny
    __iter__ = __contains__ = __hash__ = __index__ = __int__ = __float__ = _deny


def _refuse(remote, what):
    host = object.__getattribute__(remote, "_host")
    host.taint = host.taint or ("unsupported", (f"the tests used a solution object's own "
                                                f"{what}, which the sandbox cannot trust"))
    raise CandidateGone(host.taint[1])


def _make_proxy(host, name, handle=None):
    def ref(value):
        if type(value) is _Remote and object.__getattribute__(value, "_host") is host:
            return {"h": object.__getattribute__(value, "_hid")}
        return None

    def proxy(*args, **kwargs):
        try:
            eargs = encode(list(args), 0, ref)
            ekw = encode(dict(kwargs), 0, ref)
        except Unsupported as exc:
            host.taint = host.taint or ("unsupported", f"test passed a {exc} to {name}()")
            raise CandidateGone(host.taint[1]) from None
        host.calls += 1
        req = {"op": "call", "name": name, "args": eargs, "kwargs": ekw}
        if handle is not None:
            req = {**req, "op": "mcall", "handle": handle}
        return _reply_value(host, name, host.request(req), args, kwargs)

    proxy.__name__ = name
    proxy.__qualname__ = name
    return proxy


def _reply_value(host, name, reply, args, kwargs=None):
    """Turn a candidate's reply into a plain value (or raise what it raised)."""
    kwargs = kwargs or {}
    if type(reply) is not dict:
        host.taint = ("protocol", "reply is not an object")
        raise CandidateGone(host.taint[1])
    host.last = {"call": f"{name}{_short_args(args, kwargs)}"}

    def handles(hid):
        return _Remote(host, hid)

    if reply.get("ok") is True:
        try:
            value = decode(reply.get("value"), 0, handles)
            after = reply.get("after") or {}
            if type(after) is not dict:
                raise WireError("bad after")
            for key, enc in after.items():
                i = int(key)
                new = decode(enc, 0, handles)
                old = args[i]
                if type(old) is not type(new):
                    raise WireError("argument changed type")
                if type(old) is list:
                    old[:] = new
                else:
                    old.clear()
                    old.update(new)
        except (WireError, ValueError, IndexError, TypeError) as exc:
            host.kill()
            host.taint = ("protocol", f"undecodable value: {exc}")
            raise CandidateGone(host.taint[1]) from None
        host.last["got"] = _short(value)
        return value
    if "unsupported" in reply:
        host.taint = ("unsupported", (f"{name}() returned a non-plain value "
                                      f"({str(reply['unsupported'])[:120]})"))
        raise CandidateGone(host.taint[1])
    etype = str(reply.get("exc_type", "Exception"))
    message = str(reply.get("message", ""))
    host.last["raised"] = f"{etype}: {message}"[:300]
    if reply.get("limit"):
        host.limit = str(reply["limit"])
    cls = _builtin_exception(etype)
    if cls is None:
        if etype in ("SystemExit", "KeyboardInterrupt", "GeneratorExit"):
            host.taint = ("exit", f"{name}() raised {etype}")
            raise CandidateGone(host.taint[1])
        raise CandidateError(f"{etype}: {message}")
    try:
        exc = cls(message)
    except Exception:  # noqa: BLE001
        exc = CandidateError(f"{etype}: {message}")
    raise exc


def _short(value, limit=300):
    try:
        text = repr(value)
    except Exception:  # noqa: BLE001
        text = "<unrepresentable>"
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _short_args(args, kwargs, limit=300):
    parts = [_short(a, 120) for a in args] + [f"{k}={_short(v, 120)}" for k, v in kwargs.items()]
    text = "(" + ", ".join(parts) + ")"
    return text if len(text) <= limit else text[: limit - 1] + "…)"


def _load(host, code, mode, jobdir, limits, deadline, module="solution", then=None):
    """Load the candidate program; ``then``, a batch of calls, goes right behind it."""
    host.deadline = deadline
    return host.request({"op": "load", "code": code, "mode": mode, "dir": jobdir,
                         "name": host.name, "limits": limits, "module": module,
                         "recursion": limits.get("recursion", 1000),
                         "max_output": limits.get("max_output", 1 << 20)},
                        more=then is not None, then=then)


def load_function(host, job, jobdir, limits, deadline, then=None, late=False):
    """Load the candidate in function mode: ``(names, seconds, None)``, or ``(None, 0,
    outcome)`` when it cannot be called. ``then`` (a batch of calls) goes right behind
    the program, or, ``late``, once it has loaded."""
    t_load = time.perf_counter()
    try:
        reply = _load(host, job["code"], "function", jobdir, limits, deadline,
                      then=None if late else then)
        if late and type(reply) is dict and reply.get("ok") is True:
            write_frame(host.wfd, then)
    except CandidateGone:
        return None, 0.0, _tainted(host)
    except OSError:
        host.taint = ("died", "candidate process ended before its calls")
        return None, 0.0, _tainted(host)
    t_load = time.perf_counter() - t_load
    if host.taint:
        return None, 0.0, _tainted(host)
    if reply.get("ok") is not True:
        return None, 0.0, {"status": "load_error", **{k: reply.get(k) for k in (
            "exc_type", "message", "traceback")}}
    names = reply.get("names")
    if type(names) is not dict:
        host.kill()
        host.taint = ("protocol", "bad names")
        return None, 0.0, _tainted(host)
    return names, t_load, None


def _test_failure(exc, tests_src):
    """Where in the tests an exception came from: line number and source line."""
    tb = exc.__traceback__
    line = None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == "<tests>":
            line = tb.tb_lineno
        tb = tb.tb_next
    out = {"exc_type": type(exc).__name__, "message": str(exc)[:500]}
    if line is not None:
        out["line"] = line
        lines = tests_src.splitlines()
        if 0 < line <= len(lines):
            out["source"] = lines[line - 1].strip()[:300]
    return out


_COMPILED = {}


def _run_tests(host, job, jobdir, limits, deadline, stop_early):
    """Run the record's tests against one loaded candidate host. Returns an outcome dict."""
    names, t_load, failed = load_function(host, job, jobdir, limits, deadline)
    if failed is not None:
        return failed
    # A test script's `if __name__ == "__main__":` block runs, as it would from the shell;
    # in the check and pytest forms we call the tests ourselves (no `unittest.main()`).
    ns = _module_ns("__main__" if job["form"] == "script" else "__tests__")
    sol_mod = types.ModuleType("solution")
    shadowed = []
    for name, kind in names.items():
        if type(name) is not str or not name.isidentifier():
            continue
        if hasattr(builtins, name) or name in ("check", "candidate"):
            # A solution's `abs`, `len` or `sorted` must not stand in for the real one in
            # the tests (a lying `abs` would pass `abs(got - want) < eps`).
            shadowed.append(name)
            continue
        if kind == "callable":
            val = _make_proxy(host, name)
        else:
            try:
                r = host.request({"op": "get", "name": name})
            except CandidateGone:
                return _tainted(host)
            if type(r) is not dict or r.get("ok") is not True:
                continue
            try:
                val = decode(r.get("value"), 0, lambda hid: _Remote(host, hid))
            except WireError:
                host.kill()
                host.taint = ("protocol", "bad value")
                return _tainted(host)
        ns[name] = val
        setattr(sol_mod, name, val)
    sys.modules["solution"] = sol_mod
    random.seed(0)
    form = job["form"]
    tests_src = job["tests"]
    results = []
    try:
        # compiled once per job: the original and its mutants run the same tests
        code = _COMPILED.get(tests_src) or _COMPILED.setdefault(
            tests_src, compile(tests_src, "<tests>", "exec"))
    except SyntaxError as exc:
        return {"status": "test_error", "exc_type": "SyntaxError", "message": str(exc)[:300]}
    try:
        exec(code, ns)  # noqa: S102
        if form == "check":
            entry = job["entry_point"]
            check = ns.get("check")
            if not callable(check):
                return {"status": "test_error", "message": "tests define no check(candidate)"}
            if entry not in names or names[entry] != "callable":
                return {"status": "fail", "message": f"solution defines no function {entry!r}",
                        "exc_type": "NameError"}
            check(_make_proxy(host, entry))
            results.append("check")
        elif form == "pytest":
            tests = [(k, v) for k, v in list(ns.items())
                     if k.startswith("test") and callable(v) and not isinstance(v, type)
                     and k not in names]
            tests += _class_tests(ns, names)
            if not tests:
                return {"status": "test_error", "message": "no test functions found"}
            for tname, fn in tests:
                argc = getattr(getattr(fn, "__code__", None), "co_argcount", 0)
                if argc and not getattr(fn, "_synthvet_wrapped", False):
                    return {"status": "unsupported",
                            "message": f"{tname} takes arguments (fixtures are unsupported)"}
                import unittest

                try:
                    returned = fn()
                except unittest.SkipTest:
                    continue  # a skipped test is no evidence either way
                if returned is not None:  # a coroutine or generator: its asserts never ran
                    return {"status": "unsupported",
                            "message": f"{tname} is async or a generator (unsupported)"}
                results.append(tname)
                if host.taint:
                    break
    except CandidateGone:
        return _tainted(host)
    except (SystemExit, KeyboardInterrupt, GeneratorExit) as exc:
        return _tainted(host) if host.taint else {
            "status": "test_error", "message": f"tests raised {type(exc).__name__}"}
    except BaseException as exc:  # noqa: BLE001 - the failing test is the evidence
        if host.taint:
            return _tainted(host)
        if isinstance(exc, ImportError) and not isinstance(exc, CandidateError):
            # the tests import something the sandbox lacks (or a module name other than
            # `solution`): they cannot run, which says nothing about the solution
            return {"status": "test_error", **_test_failure(exc, tests_src)}
        out = {"status": "fail", **_test_failure(exc, tests_src), "passed_tests": results}
        if host.last:
            out["last_call"] = host.last
        if host.limit or isinstance(exc, (RecursionError, MemoryError)):
            out["limit"] = host.limit or type(exc).__name__
        return out
    if host.taint:
        return _tainted(host)
    return {"status": "pass", "calls": host.calls, "tests_run": results,
            "load_seconds": round(t_load, 6), "shadowed_builtins": shadowed[:20]}


def _class_tests(ns, names):
    """Bound test methods of ``Test*`` classes and ``unittest.TestCase`` subclasses, each
    wrapped with its ``setUp``/``tearDown`` (pytest's and unittest's conventions)."""
    import unittest

    out = []
    for cname, cls in list(ns.items()):
        if not isinstance(cls, type) or cname in names:
            continue
        is_case = issubclass(cls, unittest.TestCase)
        if not (is_case or cname.startswith("Test")):
            continue
        for mname in sorted(vars(cls)):
            if not mname.startswith("test") or not callable(getattr(cls, mname, None)):
                continue

            def run(cls=cls, mname=mname, is_case=is_case):
                obj = cls(mname) if is_case else cls()
                for hook in ("setUp", "setup_method"):
                    if callable(getattr(obj, hook, None)) and (is_case or hook != "setUp"):
                        getattr(obj, hook)() if hook == "setUp" else getattr(obj, hook)(
                            getattr(obj, mname))
                try:
                    result = getattr(obj, mname)()
                finally:
                    for hook in ("tearDown", "teardown_method"):
                        if callable(getattr(obj, hook, None)) and (
                                is_case or hook != "tearDown"):
                            getattr(obj, hook)() if hook == "tearDown" else getattr(
                                obj, hook)(getattr(obj, mname))
                return result

            run._synthvet_wrapped = True
            out.append((f"{cname}.{mname}", run))
    return out


def _tainted(host):
    kind, detail = host.taint
    out = {"status": "timeout" if kind == "timeout" else "tamper", "kind": kind,
           "message": detail, "calls": host.calls}
    if host.last:
        out["last_call"] = host.last
    return out


def _run_io(host, job, jobdir, limits, deadline, stop_early):
    """Run the program once per io test; the outputs go back raw for the trusted side."""
    try:
        reply = _load(host, job["code"], "io", jobdir, limits, deadline)
    except CandidateGone:
        return _tainted(host)
    if host.taint:
        return _tainted(host)
    if reply.get("ok") is not True:
        return {"status": "load_error", **{k: reply.get(k) for k in ("exc_type", "message")}}
    runs = []
    for i, case in enumerate(job["io_inputs"]):
        left = deadline - time.monotonic()
        if left <= 0:
            return {"status": "timeout", "message": "time limit reached", "runs": runs}
        host.deadline = deadline + 1.0
        try:
            r = host.request({"op": "run", "stdin": case, "timeout": left})
        except CandidateGone:
            return {**_tainted(host), "runs": runs}
        if type(r) is not dict or r.get("ok") is not True or type(r.get("stdout")) is not str:
            host.kill()
            host.taint = ("protocol", "bad run reply")
            return {**_tainted(host), "runs": runs}
        runs.append({k: r.get(k) for k in ("stdout", "truncated", "stderr_tail", "timeout",
                                            "exit", "signal")})
    return {"status": "ran", "runs": runs}


def _run_diff(hosts, job, jobdir, limits, deadline):
    """Call solution and reference on each generated input; raw results go back."""
    sol, ref = hosts
    for h, code in ((sol, job["code"]), (ref, job["reference"])):
        try:
            r = _load(h, code, "function", jobdir, limits, deadline)
        except CandidateGone:
            r = {}
        h.deadline = deadline
        if h.taint:
            return {"status": "tamper" if h is sol else "ref_error", "message": h.taint[1]}
        if r.get("ok") is not True:
            return {"status": "load_error" if h is sol else "ref_error",
                    **{k: r.get(k) for k in ("exc_type", "message")}}
    entry = job["entry_point"]
    pairs = []
    for enc_args in job["diff_inputs"]:
        out = []
        for h in (ref, sol):
            h.calls += 1
            try:
                r = h.request({"op": "call", "name": entry, "args": enc_args,
                               "kwargs": {"d": []}})
            except CandidateGone:
                if h is ref:
                    return {"status": "ref_error", "message": h.taint[1], "pairs": pairs}
                return {**_tainted(h), "pairs": pairs}
            out.append(r)
        pairs.append(out)
    return {"status": "ran", "pairs": pairs}


#: what J runs; io and differential jobs have no test code and go direct (see direct.py)
_RUNNERS = {"tests": _run_tests}


class _Blanks:
    """Blank candidate hosts: one forked ahead by Z, more on request over a socket.

    Z forks every blank, so none carries this job's data; J only receives its pipe ends.
    """

    def __init__(self, first, sock):
        self.free = [first]
        self.sock = sock
        self.pids = [first[0]]

    def take(self):
        if self.free:
            return self.free.pop(0)
        self.sock.sendall(b"b")
        msg, fds = _recv_fds(self.sock, 8, 2)
        if len(msg) != 4 or len(fds) != 2:
            raise RuntimeError("zygote did not hand over a blank")
        pid = struct.unpack(">I", msg)[0]
        self.pids.append(pid)
        return pid, fds[0], fds[1]


def _leftovers(known):
    """Processes still alive in the sandbox besides init, Z and J, once all B are dead."""
    me, parent = os.getpid(), os.getppid()
    deadline = time.monotonic() + 0.5
    while True:
        alive = []
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            pid = int(entry)
            if pid in (1, me, parent):
                continue
            try:
                with open(f"/proc/{pid}/stat", "rb") as f:
                    state = f.read().rsplit(b")", 1)[1].split()[0]
            except (OSError, IndexError):
                continue
            if state in (b"Z", b"X"):
                continue
            alive.append(pid)
        pending = [p for p in alive if p in known]
        if not pending or time.monotonic() > deadline:
            return [p for p in alive if p not in known] + pending
        time.sleep(0.0002)


def _others(known):
    """Z's count of processes besides its hosts (killed, and reaped here): a candidate's
    daemon. ``kill(-1, 0)`` finds any other process in one call; only then is /proc read
    (which also tells a zombie waiting for init from a live process)."""
    for pid in known:
        try:
            os.waitpid(pid, 0)
        except ChildProcessError:
            pass
    try:
        os.kill(-1, 0)
    except ProcessLookupError:
        return []
    except OSError:
        pass
    return _leftovers(set())


def _untouched(pid):
    """True if ``pid`` is alive, not stopped and has no signal pending (a kill() is queued
    before the sender's next instruction, so a candidate that signalled Z is seen here)."""
    try:
        with open(f"/proc/{pid}/status") as f:
            fields = dict(line.split(":", 1) for line in f if ":" in line)
    except OSError:
        return False
    state = fields.get("State", "").strip()[:1]
    pending = int(fields.get("SigPnd", "0").strip() or "0", 16) | int(
        fields.get("ShdPnd", "0").strip() or "0", 16)
    return state in ("S", "R", "D") and pending == 0


def run_candidates(job, take, jobdir, started, runners, host_class=None):
    """Run the original and then its mutants, each in a fresh candidate host from
    ``take()``; stop once enough mutants are killed (or too few can be). Shared by J and
    by the trusted side's direct jobs, which differ only in ``runners`` and the host."""
    host_class = host_class or _Host
    limits = job["limits"]
    candidates = job["candidates"]  # [{"code":..., "seconds":...}]
    kind = job["kind"]
    needed = job.get("mutants_needed")  # stop once this many mutants are killed
    outcomes = []
    killed = 0
    orig_seconds = 0.0
    try:
        for i, cand in enumerate(candidates):
            if i > 0 and needed is not None and kind in ("tests", "probes"):
                left = len(candidates) - i
                if killed >= needed or killed + left < needed:
                    break
            pid, wfd, rfd = take()
            host = host_class(pid, wfd, rfd, f"c{i}")
            t0 = time.monotonic()
            seconds = float(cand["seconds"])
            if i > 0:
                # a mutant gets a few times what the original needed: enough to finish
                # if it behaves the same, short enough that a looping mutant is cheap
                lo, factor = job.get("mutant_time", (0.5, 5.0))
                seconds = min(seconds, max(float(lo), float(factor) * orig_seconds))
            deadline = t0 + seconds
            cut_by_job = False
            if job.get("job_seconds"):  # the whole job's budget: mutants never overrun it
                job_end = started + float(job["job_seconds"])
                if i > 0 and job_end - t0 < 0.05:
                    break
                cut_by_job = job_end < deadline
                deadline = min(deadline, job_end)
            sub = dict(job, code=cand["code"])
            if kind == "diff":
                pid2, w2, r2 = take()
                ref = host_class(pid2, w2, r2, f"r{i}")
                outcome = runners[kind]((host, ref), sub, jobdir, limits, deadline)
                ref.close()
            else:
                outcome = runners[kind](host, sub, jobdir, limits, deadline, i > 0)
            outcome["seconds"] = round(time.monotonic() - t0, 6)
            if i > 0 and cut_by_job and outcome.get("status") == "timeout":
                # stopped by the job's budget, not by its own limit: proves nothing
                host.close()
                outcomes.append({"status": "not_run", "message": "job time budget used up"})
                break
            if i == 0:
                orig_seconds = outcome["seconds"]
            elif outcome.get("status") != "pass":
                killed += 1
            host.close()
            host.tails(outcome, i == 0 and outcome.get("status") not in ("pass", "ran"),
                       jobdir)
            outcomes.append(outcome)
            if i == 0 and kind != "io" and outcome.get("status") not in ("pass", "ran"):
                break  # the original failed: mutants would tell nothing
    except BaseException as exc:  # noqa: BLE001 - the runner itself failed: say so
        outcomes.append({"status": "error", "message": f"runner: {type(exc).__name__}: {exc}"})
    return outcomes


def job_main(first_blank, sock, report_fd, jobdir, isolated):
    try:
        job = read_frame(0)
    except Exception:  # noqa: BLE001
        os._exit(3)
    os.close(0)
    nonce = job.get("nonce")
    zygote_pid = os.getppid()
    started = time.monotonic()
    try:
        try:
            os.mkdir(jobdir, 0o700)
        except FileExistsError:
            pass
        os.chdir(jobdir)
    except OSError:
        pass
    # Test code may print; keep fd 1 (the report channel) out of its reach. The files are
    # unlinked at once so a candidate (same uid) cannot read what the tests print.
    _redirect_output(os.path.join(jobdir, "tests"))
    for suffix in (".out", ".err"):
        try:
            os.unlink(os.path.join(jobdir, "tests" + suffix))
        except OSError:
            pass
    blanks = _Blanks(first_blank, sock)
    outcomes = run_candidates(job, blanks.take, jobdir, started, _RUNNERS)
    for pid in blanks.pids:
        try:
            os.kill(pid, _signal.SIGKILL)
        except OSError:
            pass
    left = _leftovers(set(blanks.pids)) if isolated else []
    # A candidate that killed Z (our parent) orphans us: we are reparented to init.
    zygote_alive = os.getppid() == zygote_pid and _untouched(zygote_pid)
    report = {"from": "job", "nonce": nonce, "outcomes": outcomes,
              "zygote_alive": zygote_alive,
              "seconds": time.monotonic() - started, "leftovers": len(left),
              "tests_stdout_tail": _fd_tail(1, 400)}
    try:
        write_frame(report_fd, report)
    except (Unsupported, ValueError, TypeError):
        write_frame(report_fd, {"from": "job", "nonce": nonce, "outcomes": [],
                                "error": "report not serialisable", "leftovers": len(left)})
    os._exit(0)


# --------------------------------------------------------------------------- Z: zygote


#: imported once by Z at its start, shared by every child: what most candidates import,
#: and what Z itself needs. Not `queue` (it imports `threading`, whose at-fork hook runs
#: Python in every child and so copies ~100 pages per fork). `_ast` matters most: the
#: first compile() in a process builds the ~120 AST node classes (its check for an AST
#: argument), about 0.7 ms that every host would otherwise pay; the `ast` module on top
#: of it (1 ms, 380 KB) waits for a candidate that imports it, as does `json` (json's C
#: layer is what the wire format uses).
#: A module here costs every sandbox start its import and every fork its share of Z's
#: page tables: with all of ON_DEMAND preloaded too, a fork and exit cost about 70 us more
#: (148 memory mappings instead of 90; `hashlib` alone maps OpenSSL's libcrypto).
PREIMPORT = (
    "_ast", "math", "re", "collections", "itertools", "functools", "heapq", "bisect",
    "string", "typing", "random", "operator", "enum", "types", "select", "time", "resource",
    "struct",
)

#: imported by Z only when the trusted side asks, after it saw a job's code import one
#: (see :mod:`.preload`): the job's own host imports it once, every later host has it.
#: Nothing outside this list is ever imported into Z on request.
ON_DEMAND = frozenset((
    "array", "ast", "cmath", "copy", "dataclasses", "datetime", "decimal", "fractions",
    "hashlib", "json", "numbers", "signal", "statistics", "textwrap", "traceback",
    "unicodedata",
))

#: names the trusted side asked for that Z has not imported yet
_WANTED = []


def _want(req):
    """Note the modules a request asks Z to import before it forks the next host."""
    names = req.get("preload") if type(req) is dict else None
    if type(names) is list:
        _WANTED.extend(n for n in names if type(n) is str and n in ON_DEMAND)


def _preload():
    """Import what was asked for (standard library modules of ON_DEMAND only), then
    fill the allocator's new holes as at the start."""
    names, _WANTED[:] = list(_WANTED), []
    fresh = False
    for name in names:
        if name not in sys.modules:
            fresh = True
            try:
                __import__(name)
            except Exception:  # noqa: BLE001, S110 - a host that needs it will say why
                pass
    if fresh:
        try:
            _FILLERS.extend(_fill_pools())
        except (OSError, ValueError, MemoryError):
            pass


def _selfcheck():
    """What the sandbox looks like from inside, for the launcher's protection report."""
    info = {"uid": os.getuid(), "gid": os.getgid(), "pid": os.getpid(),
            "env": sorted(os.environ)}
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("CapEff:"):
                    info["cap_eff"] = line.split()[1]
    except OSError:
        pass
    try:
        with open("/proc/net/dev") as f:
            info["net"] = [ln.split(":")[0].strip() for ln in f.readlines()[2:]]
    except OSError:
        info["net"] = None
    writable = []
    for path in ("/", "/usr", "/etc", "/py", "/home", "/root", "/work"):
        try:
            probe = os.path.join(path, ".synthvet-probe")
            fd = os.open(probe, os.O_WRONLY | os.O_CREAT, 0o600)
            os.close(fd)
            os.unlink(probe)
            writable.append(path)
        except OSError:
            pass
    info["writable"] = writable
    return info


#: small objects that fill the allocator's holes in Z, alive as long as Z (see _fill_pools)
_FILLERS = []


def _free_blocks():
    """Free blocks per block size in the allocator's partly used pools, from CPython's own
    report (written to fd 2); empty where there is none."""
    if not hasattr(sys, "_debugmallocstats"):
        return {}
    r, w = os.pipe()
    saved = os.dup(2)
    try:
        os.dup2(w, 2)
        sys._debugmallocstats()
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(w)
    chunks = []
    while True:
        chunk = os.read(r, 65536)
        if not chunk:
            break
        chunks.append(chunk)
    os.close(r)
    free = {}
    for line in b"".join(chunks).decode("ascii", "replace").splitlines():
        parts = line.split()  # class, size, pools, blocks in use, free blocks
        if len(parts) == 5 and all(p.isdigit() for p in parts):
            free[int(parts[1])] = int(parts[4])
    return free


def _fill_pools():
    """Fill the free blocks of the allocator's partly used pools with objects that live
    as long as Z. What a child allocates then goes to fresh pages of its own instead of
    into holes spread over pages it shares with Z, each of which a write copies: about
    50 copied pages fewer per host, and 20 fewer in Z after each fork."""
    free = _free_blocks()
    keep = [None] * sum(free.values())
    i = 0
    for size, n in sorted(free.items()):
        for _ in range(n):
            if size >= 48:
                obj = bytes(size - 33)  # a bytes object asks for 33 bytes + its length
            elif size > 24:
                obj = (1 << 40) + i  # 32 bytes
            elif size > 16:
                obj = float(i)  # 24 bytes
            else:
                obj = object()  # 16 bytes
            keep[i] = obj
            i += 1
    return keep


def zygote_main():
    for name in PREIMPORT:
        try:
            __import__(name)
        except Exception:  # noqa: BLE001, S110
            pass
    # (no gc.collect() first: the little garbage of the imports is frozen with the rest,
    # and 2 ms of every sandbox start saved)
    # Children touch refcounts, not the collector's bookkeeping of these objects: frozen,
    # they are never scanned, so copy-on-write pages stay shared (a fork stays cheap).
    gc.freeze()
    # Short-lived children rarely need the cycle collector; a collection would touch
    # (and so copy) every young object's header. Candidate hosts turn it back on.
    gc.disable()
    out_fd = os.dup(1)
    os.dup2(os.open("/dev/null", os.O_WRONLY), 1)
    cfg = read_frame(0)
    isolated = bool(cfg.get("pid_namespace"))
    tmp = cfg.get("tmp", "/tmp")
    info = _selfcheck()
    info["non_dumpable"] = _non_dumpable()
    try:
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    except (ValueError, OSError):
        pass
    write_frame(out_fd, {"from": "zygote", "hello": info})
    # fd 0 is a socket to the trusted side: jobs and direct requests come in on it, and
    # in a direct job the candidate hosts' pipe ends go out on it.
    ctl = _socket.socket(fileno=os.dup(0))
    try:
        _FILLERS.extend(_fill_pools())
    except (OSError, ValueError, MemoryError):
        pass
    seq = 1
    while True:
        if _WANTED:
            _preload()
        jobdir = os.path.join(tmp, f"job{seq}")
        # The next job's first host, forked ahead (holding nothing of any job) and offered
        # to the trusted side at once: a direct job starts by talking to it, with no
        # round trip to us. We keep our own ends until we know which kind of job it is.
        blank = _fork_blank()
        known = {blank[0]}
        try:
            os.mkdir(jobdir, 0o700)
        except FileExistsError:
            pass
        try:
            _hand_over(ctl, blank, {"dir": jobdir}, keep=True)
            req = read_frame(0)
        except Exception:  # noqa: BLE001 - the trusted side is gone: so are we
            os._exit(0)
        op = req.get("op") if type(req) is dict else None
        swept = False
        if op == "job":
            _want(req)
            leftovers = _serve_job(blank, jobdir, known, out_fd, isolated, ctl)
            if leftovers is None:
                os._exit(0)
        elif op in _DIRECT_OPS:
            os.close(blank[1])
            os.close(blank[2])
            leftovers = _serve_direct(req, jobdir, known, out_fd, isolated, ctl)
            # In its own PID namespace, _serve_direct has killed and reaped its hosts
            # and found no other process at all: nothing is left to sweep.
            swept = isolated and not leftovers
        else:
            os._exit(0)
        if swept:
            pass
        elif isolated:
            try:
                os.kill(-1, _signal.SIGKILL)
            except OSError:
                pass
        else:
            for p in known:
                try:
                    os.kill(p, _signal.SIGKILL)
                except OSError:
                    pass
        while not swept:
            try:
                _got, _ = os.waitpid(-1, 0)
            except ChildProcessError:
                break
        clean = _wipe(jobdir)
        seq += 1
        # Every process of the last job is dead and reaped and its folder is gone. A dirty
        # sandbox forks nothing more: the trusted side recycles it on this note.
        try:
            write_frame(out_fd, {"from": "zygote", "seq": seq - 1,
                                 "leftovers": len(leftovers), "clean": clean})
        except OSError:
            os._exit(0)
        if not clean or leftovers:
            os._exit(0)


def _serve_job(blank, jobdir, known, out_fd, isolated, ctl):
    """Fork the runner J for a job it reads itself; hand it more hosts until it exits.
    Returns the processes left besides the hosts, or None if J found no job."""
    zsock, jsock = _socket.socketpair(_socket.AF_UNIX, _socket.SOCK_STREAM, 0)
    jpid = os.fork()
    if jpid == 0:
        try:
            zsock.close()
            ctl.close()
            job_main(blank, jsock, out_fd, jobdir, isolated)
        finally:
            os._exit(4)
    jsock.close()
    os.close(blank[1])
    os.close(blank[2])
    while True:  # serve J's requests for more blanks until it exits
        try:
            req = zsock.recv(1)
        except OSError:
            break
        if not req:
            break
        try:
            pid, w, r = _fork_blank()
        except OSError:
            break  # process limit: J sees the socket close and reports it
        known.add(pid)
        try:
            _send_fds(zsock, struct.pack(">I", pid), [w, r])
        except OSError:
            break
        finally:
            os.close(w)
            os.close(r)
    zsock.close()
    _, status = os.waitpid(jpid, 0)
    if os.WIFEXITED(status) and os.WEXITSTATUS(status) == 3:
        return None  # the trusted side closed our stdin: the sandbox is done
    leftovers = []
    if isolated:
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                p = int(entry)
                if p not in known and p != os.getpid() and p != 1 and p != jpid:
                    leftovers.append(p)
    return leftovers


def _hand_over(ctl, blank, extra=None, keep=False):
    """Send a candidate host's pipe ends to the trusted side (a direct job)."""
    pid, w, r = blank
    body = _dumps({"pid": pid, **(extra or {})}).encode()
    try:
        _send_fds(ctl, _HDR.pack(len(body)) + body, [w, r])
    finally:
        if not keep:
            os.close(w)
            os.close(r)


#: what the trusted side says to us during a direct job
_DIRECT_OPS = ("blank", "kill", "end")


def _serve_direct(req, jobdir, known, out_fd, isolated, ctl):
    """A job with no test runner: the trusted side talks to the candidate hosts itself
    (their pipe ends go to it over ``ctl``) and checks literal tests on its side. Z
    forks hosts, kills one on request, and at the end reports what else is running and
    what the named hosts printed. ``req`` is the job's first request to us. Returns the
    processes left besides the hosts."""
    tails = []
    try:
        while True:
            op = req.get("op") if type(req) is dict else None
            if op == "blank":
                try:
                    more = _fork_blank()
                except OSError as exc:  # process limit: the trusted side reports it
                    body = _dumps({"error": f"cannot fork a host: {exc}"}).encode()
                    ctl.sendall(_HDR.pack(len(body)) + body)
                    req = read_frame(0)
                    continue
                known.add(more[0])
                _hand_over(ctl, more)
            elif op == "kill" and req.get("pid") in known:
                try:
                    os.kill(req["pid"], _signal.SIGKILL)
                except OSError:
                    pass
            elif op == "end":
                _want(req)
                tails = [n for n in req.get("tails") or [] if type(n) is str
                         and n.isalnum()][:4]
                break
            else:
                break
            req = read_frame(0)
    except Exception:  # noqa: BLE001, S110 - the trusted side went away mid-job
        pass
    for pid in known:
        try:
            os.kill(pid, _signal.SIGKILL)
        except OSError:
            pass
    left = _others(known) if isolated else []
    if tails:
        # read by a child, so that nothing a candidate printed ever enters Z's memory
        # (every later host is forked from Z)
        pid = os.fork()
        if pid == 0:
            try:
                write_frame(out_fd, {"from": "tails", "tails": {
                    n: [_tail(os.path.join(jobdir, n + ".out"), 600),
                        _tail(os.path.join(jobdir, n + ".err"), 600)] for n in tails}})
            finally:
                os._exit(0)
        os.waitpid(pid, 0)
    return left


def _fork_blank():
    to_b = os.pipe()
    from_b = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            blank_main(to_b[0], from_b[1])
        finally:
            os._exit(0)
    os.close(to_b[0])
    os.close(from_b[1])
    return pid, to_b[1], from_b[0]


def _wipe(path):
    # The usual folder holds a few plain files: unlink them and remove it, a system call
    # each. Anything else (sub-folders, odd modes) takes the thorough way.
    try:
        with os.scandir(path) as entries:
            for entry in entries:
                if entry.is_dir(follow_symlinks=False):
                    break
                os.unlink(entry.path)
        os.rmdir(path)
        return True
    except FileNotFoundError:
        if not os.path.exists(path):
            return True
    except OSError:
        pass
    import shutil

    if not os.path.exists(path):
        return True
    for root, dirs, _files in os.walk(path):
        for d in dirs:
            try:
                os.chmod(os.path.join(root, d), 0o700)
            except OSError:
                pass
    shutil.rmtree(path, ignore_errors=True)
    return not os.path.exists(path)


if __name__ == "__main__":
    zygote_main()
