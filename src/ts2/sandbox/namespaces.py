"""Containing a check: new PID, network and mount namespaces, a root file system that holds only
what a program needs, and a /proc of the check's own PID namespace.  One design, two ways in: root
unshares the namespaces directly (and the check then runs as nobody); an ordinary user first
enters a new user namespace that maps only its own uid and gid.

In the test process just before it executes the harness (``preexec_fn``):

  1. ``enter_private_root(workdir, root_dir, keep, user_namespace)``: unshare(mount | network |
     PID, and user for an ordinary user, whose capabilities then cover that namespace alone and
     only until it executes the harness: a non-root uid loses them on exec); a tmpfs at
     ``root_dir`` receives read-only clones (``open_tree``) of the system directories (/usr, /bin,
     /sbin, /lib*, /etc), of ``keep`` (the interpreter's directories), the devices null, zero,
     random and urandom, empty /proc and /tmp, and ``workdir`` (the only writable place); every
     mount under it is made read-only and nosuid (``mount_setattr``, recursive), the check's
     directory writable again, and the process chroots there;
  2. ``become_init(report_fd)``: the process forks.  The child is PID 1 of the new PID namespace:
     it mounts a fresh read-only /proc for that namespace and goes on to execute the harness
     (which forks the candidate, PID 2).  The parent stays outside the namespace as a reaper: it
     reports the child's pid, waits for it and exits as it did.

Afterwards the harness and the candidate see no home directory, no /tmp of the user's, no process
but each other (when PID 1 dies, the kernel kills everything left in its namespace), no network
interface, and cannot undo any of it (no capability is left after exec; the mounts they could see
under the tmpfs are locked by the kernel).  Needs Linux >= 5.12, and for an ordinary user,
unprivileged user namespaces; ``private_root_available`` probes once whether this machine allows it.
"""

from __future__ import annotations

import ctypes
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile

CLONE_NEWNS = 0x00020000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_BIND, MS_REC, MS_PRIVATE = 1, 2, 4, 8, 4096, 16384, 1 << 18
AT_FDCWD, AT_RECURSIVE, OPEN_TREE_CLONE, MOVE_MOUNT_F_EMPTY_PATH = -100, 0x8000, 1, 4
MOUNT_ATTR_RDONLY, MOUNT_ATTR_NOSUID = 0x1, 0x2
# The new mount API's numbers are the same on every architecture (asm-generic, added after 424).
SYS_OPEN_TREE, SYS_MOVE_MOUNT, SYS_MOUNT_SETATTR = 428, 429, 442
SYSTEM_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/etc")
DEVICES = ("null", "zero", "random", "urandom")
FLAGS = CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWPID


class _MountAttr(ctypes.Structure):
    _fields_ = [("attr_set", ctypes.c_uint64), ("attr_clr", ctypes.c_uint64), ("propagation", ctypes.c_uint64),
                ("userns_fd", ctypes.c_uint64)]


_libc = ctypes.CDLL(None, use_errno=True)


def _call(result: int, what: str) -> int:
    if result < 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"{what}: {os.strerror(errno)}")
    return result


def _mount(source, target: str, fstype, flags: int, data=None) -> None:
    _call(_libc.mount(source and source.encode(), target.encode(), fstype and fstype.encode(), ctypes.c_ulong(flags),
                      data and data.encode()), f"mount {target}")


def _set_mount_attributes(path: str, add: int = 0, remove: int = 0) -> None:
    attr = _MountAttr(add, remove, 0, 0)
    _call(_libc.syscall(SYS_MOUNT_SETATTR, AT_FDCWD, path.encode(), ctypes.c_uint(AT_RECURSIVE), ctypes.byref(attr),
                        ctypes.c_size_t(ctypes.sizeof(attr))), f"mount_setattr {path}")


def _under(path: str, directories) -> bool:
    return any(path == d or path.startswith(d.rstrip("/") + "/") for d in directories)


def interpreter_dirs(executable: str = sys.executable) -> list[str]:
    """The directories the interpreter needs that the system directories do not hold: its prefix,
    its base prefix (a virtual environment's Python) and the directory of the real executable."""
    prefixes = [sys.prefix, sys.base_prefix]
    if os.path.realpath(executable) != os.path.realpath(sys.executable):  # another Python: ask it
        prefixes = subprocess.run([executable, "-I", "-c", "import sys; print(sys.prefix); print(sys.base_prefix)"],
                                  capture_output=True, text=True, check=True, timeout=60).stdout.split("\n")[:2]
    found = []
    for path in (*prefixes, os.path.dirname(os.path.realpath(executable))):
        path = os.path.realpath(path)
        if os.path.isdir(path) and not _under(path, SYSTEM_DIRS) and not _under(path, found):
            found = [p for p in found if not _under(p, [path])] + [path]
    return found


def enter_private_root(workdir: str, root_dir: str, keep, user_namespace: bool = True) -> None:
    """Move this process into new mount, network and PID namespaces (and a new user namespace
    first when ``user_namespace``: the way in for an ordinary user) and chroot it into ``root_dir``
    holding only the system directories, ``keep`` (read-only) and ``workdir`` (read-write); see the
    module docstring.  Raises OSError when the kernel refuses a step."""
    uid, gid = os.getuid(), os.getgid()
    _call(_libc.unshare(FLAGS | (CLONE_NEWUSER if user_namespace else 0)), "unshare")
    if user_namespace:
        for name, text in (("setgroups", "deny"), ("uid_map", f"{uid} {uid} 1"), ("gid_map", f"{gid} {gid} 1")):
            with open(f"/proc/self/{name}", "w") as f:
                f.write(text)
    _mount(None, "/", None, MS_REC | MS_PRIVATE)
    trees = {}
    for path in [*(d for d in SYSTEM_DIRS if os.path.isdir(d) and not os.path.islink(d)), *keep, workdir]:
        trees[path] = _call(_libc.syscall(SYS_OPEN_TREE, AT_FDCWD, path.encode(),
                                          ctypes.c_uint(OPEN_TREE_CLONE | AT_RECURSIVE)), f"open_tree {path}")
    _mount("tmpfs", root_dir, "tmpfs", MS_NOSUID | MS_NODEV, "size=1m,mode=755")
    for link in (d for d in SYSTEM_DIRS if os.path.islink(d)):  # /bin -> usr/bin on merged-/usr systems
        os.symlink(os.readlink(link), root_dir + link)
    for path, fd in trees.items():
        os.makedirs(root_dir + path, exist_ok=True)
        _call(_libc.syscall(SYS_MOVE_MOUNT, fd, b"", AT_FDCWD, (root_dir + path).encode(),
                            ctypes.c_uint(MOVE_MOUNT_F_EMPTY_PATH)), f"move_mount {path}")
        os.close(fd)
    for name in ("/proc", "/tmp", "/dev"):
        os.makedirs(root_dir + name, exist_ok=True)
    for device in DEVICES:
        if os.path.exists(f"/dev/{device}"):
            open(f"{root_dir}/dev/{device}", "w").close()
            _mount(f"/dev/{device}", f"{root_dir}/dev/{device}", None, MS_BIND)
    _set_mount_attributes(root_dir, add=MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID)
    _set_mount_attributes(root_dir + workdir, remove=MOUNT_ATTR_RDONLY)
    os.chroot(root_dir)
    os.chdir(workdir)


def drop_to(user: tuple[int, int]) -> None:
    """Become ``user`` (uid, gid) with no supplementary groups: root's way in, after the walls."""
    os.setgroups([])
    os.setgid(user[1])
    os.setuid(user[0])


def become_init(report_fd: int | None) -> None:
    """Fork, after ``enter_private_root``.  Returns in the child, PID 1 of the new PID namespace,
    once it has mounted a fresh read-only /proc for that namespace.  The parent never returns: it
    writes "init <child's pid>" to ``report_fd`` (when given), closes every descriptor it holds
    (a forked copy of the evaluator's: other checks' pipes among them), waits for the child and
    exits as the child did, with its exit status or killed by its signal."""
    pid = os.fork()
    if pid == 0:
        _mount("proc", "/proc", "proc", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC)
        return
    try:
        if report_fd is not None:
            os.write(report_fd, f"init {pid}\n".encode())
        os.closerange(0, resource.getrlimit(resource.RLIMIT_NOFILE)[0])
        _, status = os.waitpid(pid, 0)
        if os.WIFSIGNALED(status):
            resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
            if os.WTERMSIG(status) not in (signal.SIGKILL, signal.SIGSTOP):
                signal.signal(os.WTERMSIG(status), signal.SIG_DFL)
            os.kill(os.getpid(), os.WTERMSIG(status))
        os._exit(os.waitstatus_to_exitcode(status))
    finally:
        os._exit(1)


def private_root_available(executable: str = sys.executable, keep=None, user=None) -> tuple[bool, str]:
    """(whether a check can be contained here as the module docstring says, why not): tried once
    in a child process, which enters a private root, becomes PID 1 of its namespace with its own
    /proc and checks that ``executable`` can run inside.  ``user``: (uid, gid) that root drops to
    (root's way in); None: an ordinary user's way in, through a user namespace."""
    if not sys.platform.startswith("linux"):
        return False, "not Linux"
    keep = interpreter_dirs(executable) if keep is None else keep
    workdir = tempfile.mkdtemp(prefix="ts2-sandbox-probe-")
    read_fd, write_fd = os.pipe()
    try:
        os.mkdir(workdir + ".root")
        if user is not None:
            os.chown(workdir, *user)
        pid = os.fork()
        if pid == 0:
            os.close(read_fd)
            try:
                enter_private_root(workdir, workdir + ".root", keep, user_namespace=user is None)
                become_init(None)
                if os.getpid() != 1 or sorted(p for p in os.listdir("/proc") if p.isdigit()) != ["1"]:
                    raise OSError(f"/proc does not show the check's own PID namespace: {os.listdir('/proc')[:8]}")
                if user is not None:
                    drop_to(user)
                if not os.access(executable, os.X_OK):
                    raise OSError(f"the interpreter {executable} cannot be reached inside (a directory on its "
                                  f"path, {os.path.realpath(executable)}, cannot be entered by this user)")
                with open("probe", "w") as f:  # the check's directory is writable
                    f.write("ok")
                os._exit(0)
            except BaseException as exc:  # report why, whatever went wrong
                os.write(write_fd, str(exc).encode()[:500])
                os._exit(1)
        os.close(write_fd)
        write_fd = None
        reason = b""
        while chunk := os.read(read_fd, 4096):
            reason += chunk
        _, status = os.waitpid(pid, 0)
        ok = os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0 and os.path.isfile(os.path.join(workdir, "probe"))
        return ok, "" if ok else (reason.decode(errors="replace") or f"probe exited with status {status}")
    finally:
        os.close(read_fd)
        if write_fd is not None:
            os.close(write_fd)
        shutil.rmtree(workdir, ignore_errors=True)
        shutil.rmtree(workdir + ".root", ignore_errors=True)

