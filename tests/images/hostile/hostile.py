"""A task image of hostile tasks, for the runner's hostile-task suite.

Each task misbehaves in one way: it exhausts a limit, floods, hangs, breaks the
protocol, or tries to get out of its container. The ones that probe the
container's walls report what they could do as their result, one output per
attempt: "refused: <Error>: <reason>" or "allowed[: detail]".

Written against the protocol directly (no SDK), so the tests check the runner.
"""

import ctypes
import json
import os
import re
import signal
import socket
import stat
import subprocess
import sys
import time

MIB = 1024 * 1024
_LIBC = ctypes.CDLL(None, use_errno=True)
_CLONE_NEWNS = 0x00020000
_CLONE_NEWUSER = 0x10000000
_PTRACE_ATTACH = 16
_KEYCTL_JOIN_SESSION_KEYRING = 1
_SYS_KEYCTL = {"x86_64": 250, "aarch64": 219}.get(os.uname().machine, -1)


def emit(message):
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


def result(**outputs):
    emit({"type": "result", "outputs": {k: str(v) for k, v in outputs.items()}})


def attempt(action):
    """What happened when trying `action`: allowed (with its value) or refused (why)."""
    try:
        value = action()
    except OSError as exc:
        return f"refused: {type(exc).__name__}: {exc}"
    return "allowed" if value is None else f"allowed: {value}"


def libc_call(name, *args):
    """A libc call that raises OSError on failure, like the os module's functions."""
    if getattr(_LIBC, name)(*args) == -1:
        code = ctypes.get_errno()
        raise OSError(code, os.strerror(code))


def forever():
    while True:
        time.sleep(60)


# --- a normal task, to run beside the hostile ones ---------------------------------


def normal(inputs):
    result(text=inputs["text"])


# --- resource exhaustion -----------------------------------------------------------


def fork_bomb(_inputs):
    """Every process forks forever; the first to be refused a fork reports it, once.

    The others, refused too, wait a little before forking again: the task stays at its
    process limit, and the one reporting is not starved of its CPU share by 255 processes
    spinning (on a loaded machine that delayed the report past the time limit).
    """
    while True:
        try:
            os.fork()  # parent and child both go on forking
        except OSError as exc:
            try:
                os.close(os.open("/tmp/fork-refused", os.O_CREAT | os.O_EXCL | os.O_WRONLY))
            except OSError:
                time.sleep(0.1)
                continue  # reported already (or /tmp is out of inodes: keep bombing)
            running = sum(name.isdigit() for name in os.listdir("/proc"))
            emit(
                {
                    "type": "notify",
                    "status": "InProgress",
                    "message": f"fork refused with {running} processes running: {exc}",
                }
            )


def memory_bomb(_inputs):
    hoard = []
    while True:
        hoard.append(b"\xa5" * (16 * MIB))  # written, so really resident


def stdout_flood(_inputs):
    block = (b"x" * 1023 + b"\n") * 64
    while True:
        os.write(1, block)


def endless_line(_inputs):
    block = b"y" * 65536
    while True:
        os.write(1, block)


def stderr_flood(_inputs):
    block = (b"e" * 1023 + b"\n") * 64
    while True:
        os.write(2, block)


def chatty(_inputs):
    """Log lines at about 4 MiB/s: under the output cap until past its time limit."""
    block = (b"c" * 1023 + b"\n") * 64
    while True:
        os.write(1, block)
        time.sleep(0.016)


def busy_loop(_inputs):
    while True:
        pass


def ignore_sigterm(_inputs):
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    emit({"type": "notify", "status": "InProgress", "message": "ignoring SIGTERM"})
    while True:
        time.sleep(0.1)


def fill_tmp(_inputs):
    """Write /tmp full; dies of the error, with how much it wrote on stderr."""
    written = 0
    chunk = b"t" * MIB
    try:
        with open("/tmp/fill", "wb") as handle:
            while True:
                handle.write(chunk)
                handle.flush()
                written += len(chunk)
    except OSError:
        sys.stderr.write(f"wrote {written // MIB} MiB to /tmp\n")
        raise


def open_files(_inputs):
    """Open files until refused; dies of the error, with the count on stderr."""
    handles = []
    try:
        while True:
            handles.append(open("/dev/null", "rb"))  # noqa: SIM115 -- held open on purpose
    except OSError:
        sys.stderr.write(f"opened {len(handles)} files\n")
        raise


# --- protocol abuse ----------------------------------------------------------------


def progress_flood(_inputs):
    """50,000 progress notifications as fast as it can, each with a 1 MiB-ish message
    now and then, then a result."""
    for n in range(50_000):
        message = "p" * (900 * 1024) if n % 10_000 == 0 else f"step {n}"
        emit({"type": "notify", "status": "InProgress", "message": message,
              "progress": round(n / 50_000, 4)})
    result(done="yes")


def burst(inputs):
    """100,000 progress notifications (or as many log lines as long) in one go, as fast as
    they can be written (about a second), then a result."""
    count = 100_000
    if inputs["kind"] == "progress":
        line = '{"type": "notify", "status": "InProgress", "message": "step %06d"}\n'
    else:
        line = "step %06d: a line of the task's log, as long as a progress line\n"
    sys.stdout.writelines(line % n for n in range(count))
    result(done="yes")


def huge_result(_inputs):
    result(blob="z" * (800 * 1024))


def garbage(_inputs):
    """Binary junk, invalid UTF-8 and JSON that is not a message, then a valid result."""
    junk = [
        b"\xff\xfe\xfd not utf-8 at all\n",
        bytes(range(256)).replace(b"\n", b"") * 16 + b"\n",
        b"\x00\x00\x00 nul bytes\n",
        b"\x1b[2J\x1b[31mANSI escapes\x1b[0m\r\n",
        b"{not json\n",
        b"[1, 2, 3]\n",
        b'"just a string"\n',
        b'{"no_type": 1}\n',
        b'{"type": "unknown", "outputs": {}}\n',
        b'{"type": "result", "outputs": {"survived": NaN}}\n',
        b'{"type": "notify", "status": "InProgress", "message": "\xff\xfe"}\n',
        b'{"type": "result", "outputs": ' + b"[" * 100000 + b"\n",
        b"\n\n\r\n",
    ]
    for line in junk:
        os.write(1, line)
    result(survived="yes")


def schema_breaker(_inputs):
    emit({"type": "notify", "status": "Completed", "message": "I decide I am done"})
    time.sleep(0.5)
    result(survived="yes")


def two_terminals(_inputs):
    result(first="yes")
    emit({"type": "notify", "status": "Error", "message": "second terminal message"})
    result(first="again")


def exit_without_result(_inputs):
    sys.stderr.write("giving up\n")
    return 7


def result_then_forever(_inputs):
    result(done="yes")
    forever()


def background_child(_inputs):
    """A child that holds stdout open and ignores SIGTERM; the parent sends the result."""
    if os.fork() == 0:
        os.setsid()
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        forever()
    result(done="yes")


def close_output(_inputs):
    """Close stdout and stderr, then keep running without a word."""
    sys.stdout.flush()
    os.close(1)
    os.close(2)
    forever()


# --- the container's walls ---------------------------------------------------------


def network(inputs):
    def connect(host, port):
        with socket.create_connection((host, port), timeout=3):
            return f"connected to {host}:{port}"

    def udp_dns(host):
        header = b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00"
        query = header + b"\x07example\x03com\x00\x00\x01\x00\x01"  # A example.com
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.settimeout(3)
            sock.sendto(query, (host, 53))
            return f"{len(sock.recv(512))} bytes answered"

    def resolve(name):
        return sorted({info[4][0] for info in socket.getaddrinfo(name, 80)})

    result(
        gateway=attempt(lambda: connect("172.17.0.1", 80)),
        outside_tcp=attempt(lambda: connect("1.1.1.1", 53)),
        outside_udp=attempt(lambda: udp_dns("8.8.8.8")),
        dns=attempt(lambda: resolve("example.com")),
        host_server=attempt(lambda: connect("127.0.0.1", int(inputs["server_port"]))),
        interfaces=",".join(sorted(os.listdir("/sys/class/net"))),
    )


def filesystem(_inputs):
    def write(path, mode="w"):
        with open(path, mode) as handle:
            handle.write("hostile\n")

    result(
        root=attempt(lambda: write("/hostile")),
        etc=attempt(lambda: write("/etc/hostile")),
        etc_passwd=attempt(lambda: write("/etc/passwd", "a")),
        usr_bin=attempt(lambda: write("/usr/bin/hostile")),
        tmp=attempt(lambda: write("/tmp/hostile")),
    )


def identity(_inputs):
    result(
        uid=os.getuid(),
        gid=os.getgid(),
        euid=os.geteuid(),
        groups=",".join(str(g) for g in os.getgroups()),
        setuid_root=attempt(lambda: os.setuid(0)),
        setgid_root=attempt(lambda: os.setgid(0)),
        setgroups_root=attempt(lambda: os.setgroups([0])),
        uid_after=os.getuid(),
    )


def secrets(inputs):
    """Look for the runner's API key in every environment and command line in sight."""
    needles = ("XC_SCENARIO", "APIKEY", inputs["needle"])
    found = []
    read = []
    haystacks = {"os.environ": "\n".join(f"{k}={v}" for k, v in os.environ.items())}
    for pid in sorted((p for p in os.listdir("/proc") if p.isdigit()), key=int):
        for part in ("environ", "cmdline"):
            path = f"/proc/{pid}/{part}"
            try:
                with open(path, "rb") as handle:
                    haystacks[path] = handle.read().decode("utf-8", "replace")
            except OSError:
                continue
    for where, text in haystacks.items():
        read.append(where)
        found += [f"{needle} in {where}" for needle in needles if needle in text]
    result(
        env=",".join(sorted(os.environ)),
        read=",".join(read),
        found=";".join(found),
    )


def capabilities(_inputs):
    def status_field(name):
        with open("/proc/self/status") as handle:
            for line in handle:
                if line.startswith(name + ":"):
                    return line.split()[1]
        return "absent"

    def chown():
        with open("/tmp/owned", "w"):
            pass
        os.chown("/tmp/owned", 0, 0)

    os.mkdir("/tmp/mnt")
    result(
        chown=attempt(chown),
        mknod=attempt(lambda: os.mknod("/tmp/mem", 0o600 | stat.S_IFCHR, os.makedev(1, 1))),
        raw_socket=attempt(
            lambda: socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP).close()
        ),
        mount=attempt(lambda: libc_call("mount", b"none", b"/tmp/mnt", b"tmpfs", 0, None)),
        sethostname=attempt(lambda: socket.sethostname("hostile")),
        cap_eff=status_field("CapEff"),
        cap_prm=status_field("CapPrm"),
        cap_bnd=status_field("CapBnd"),
        no_new_privs=status_field("NoNewPrivs"),
    )


def setuid_binaries(_inputs):
    """Run setuid-root programs of the image: no-new-privileges keeps them unprivileged."""

    def su_ids():
        """The uids of a running `su` (real, effective, saved, fs) while it waits."""
        with subprocess.Popen(
            ["su", "root", "-c", "id -u"],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        ) as child:
            try:
                deadline = time.monotonic() + 10
                while time.monotonic() < deadline:
                    with open(f"/proc/{child.pid}/status") as handle:
                        fields = dict(line.split(":", 1) for line in handle)
                    if fields["Name"].strip() == "su":
                        return " ".join(fields["Uid"].split())
                    time.sleep(0.01)
                return "su did not start"
            finally:
                child.kill()

    def run(*argv):
        done = subprocess.run(
            argv, stdin=subprocess.DEVNULL, capture_output=True, timeout=10, check=False
        )
        output = (done.stdout + done.stderr).decode("utf-8", "replace").strip()
        return f"exit {done.returncode}: {output.splitlines()[0] if output else ''}"

    os.mkdir("/tmp/mnt")
    result(
        su_uids=su_ids(),
        su=run("su", "root", "-c", "id -u"),
        mount=run("mount", "-t", "tmpfs", "none", "/tmp/mnt"),
    )


def kernel(_inputs):
    """Reach for the kernel and the host: namespaces, keyrings, sysrq, the engine's socket."""

    def write(path):
        with open(path, "w") as handle:
            handle.write("h")

    def read(path):
        with open(path, "rb") as handle:
            return f"{len(handle.read(4096))} bytes"

    def engine_socket(path):
        with socket.socket(socket.AF_UNIX) as sock:
            sock.connect(path)
            sock.sendall(b"GET /version HTTP/1.0\r\n\r\n")
            return sock.recv(200).decode("utf-8", "replace").splitlines()[0]

    result(
        unshare_user=attempt(lambda: libc_call("unshare", _CLONE_NEWUSER)),
        unshare_mount=attempt(lambda: libc_call("unshare", _CLONE_NEWNS)),
        keyctl=attempt(
            lambda: libc_call("syscall", _SYS_KEYCTL, _KEYCTL_JOIN_SESSION_KEYRING, None)
        ),
        sysrq=attempt(lambda: write("/proc/sysrq-trigger")),
        kcore=attempt(lambda: read("/proc/kcore")),
        kmsg=attempt(lambda: read("/dev/kmsg")),
        docker_sock=attempt(lambda: engine_socket("/var/run/docker.sock")),
        run_docker_sock=attempt(lambda: engine_socket("/run/docker.sock")),
        pids=",".join(sorted((p for p in os.listdir("/proc") if p.isdigit()), key=int)),
    )


def freeze_init(_inputs):
    """Stop the container's init (PID 1) with ptrace, then exit: nobody reaps the task.

    Where ptrace is refused (e.g. Yama), it hangs instead: either way only the
    runner's time limit ends it.
    """
    try:
        libc_call("ptrace", _PTRACE_ATTACH, 1, None, None)
    except OSError as exc:
        sys.stderr.write(f"ptrace refused ({exc}); hanging instead\n")
        forever()
    sys.stderr.write("init is stopped\n")
    return 0


def ignore_stdin(_inputs):
    forever()


TASKS = {
    f.__name__: f
    for f in (
        normal,
        fork_bomb,
        memory_bomb,
        stdout_flood,
        endless_line,
        stderr_flood,
        chatty,
        busy_loop,
        ignore_sigterm,
        fill_tmp,
        open_files,
        huge_result,
        progress_flood,
        burst,
        garbage,
        schema_breaker,
        two_terminals,
        exit_without_result,
        result_then_forever,
        background_child,
        close_output,
        network,
        filesystem,
        identity,
        secrets,
        capabilities,
        setuid_binaries,
        kernel,
        freeze_init,
        ignore_stdin,
    )
}
# Tasks that stop reading stdin once they know their name (the envelope's first
# fields): the rest of their input stays unread.
NO_STDIN = {"ignore_stdin"}
_TASK_FIELD = re.compile(rb'"task"\s*:\s*"([^"]*)"')


def main():
    head = b""
    while b"\n" not in head and not _TASK_FIELD.search(head):
        chunk = os.read(0, 4096)
        if not chunk:
            break
        head += chunk
    match = _TASK_FIELD.search(head)
    if match and match.group(1).decode() in NO_STDIN:
        return TASKS[match.group(1).decode()]({})
    rest = b"" if b"\n" in head else sys.stdin.buffer.readline()
    envelope = json.loads(head + rest)
    return TASKS[envelope["task"]](envelope["inputs"])


if __name__ == "__main__":
    sys.exit(main())
