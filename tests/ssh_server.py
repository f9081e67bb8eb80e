"""A real OpenSSH server for the tests, from Debian's ``openssh-server``, on 127.0.0.1.

``with ssh_server(folder) as server:`` makes a throw-away host key and client key pair in ``folder``,
writes an sshd_config that accepts only that client key, for the current user, on a free port of
127.0.0.1, and runs ``/usr/sbin/sshd -D`` as a child of this process until the block ends (also
when it fails). Nothing outside ``folder`` is touched but ``/run/sshd``, the empty folder sshd
insists on when it runs as root (Debian's service makes the same one).

:class:`SshUnavailable` says why there can be no server here (the package is not installed); tests
skip with that reason. ``.ci/run`` installs the package.
"""
from __future__ import annotations

import contextlib
import getpass
import os
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

SSHD = "/usr/sbin/sshd"


class SshUnavailable(RuntimeError):
    pass


@dataclass(frozen=True)
class SshServer:
    user: str
    port: int
    client_key: Path  # the private key the server accepts

    def url(self, path: Path) -> str:
        return f"ssh://{self.user}@127.0.0.1:{self.port}{path}"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _keygen(path: Path) -> None:
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(path)], check=True)


@contextlib.contextmanager
def ssh_server(folder: Path):
    if not os.access(SSHD, os.X_OK) or shutil.which("ssh-keygen") is None:
        raise SshUnavailable(f"no OpenSSH server ({SSHD}): install Debian's openssh-server (.ci/run does)")
    folder.mkdir(parents=True, exist_ok=True)
    _keygen(folder / "host_key")
    _keygen(folder / "client_key")
    authorized = folder / "authorized_keys"
    shutil.copy(folder / "client_key.pub", authorized)
    authorized.chmod(0o600)
    port = _free_port()
    config = folder / "sshd_config"
    config.write_text("\n".join([
        "ListenAddress 127.0.0.1", f"Port {port}", f"HostKey {folder / 'host_key'}",
        f"AuthorizedKeysFile {authorized}", f"AllowUsers {getpass.getuser()}",
        "PubkeyAuthentication yes", "PasswordAuthentication no", "KbdInteractiveAuthentication no",
        "UsePAM no", "PermitRootLogin prohibit-password",
        "StrictModes no",  # the keys live in a temporary folder, not a home folder
        "PidFile none", "Subsystem sftp internal-sftp", "",
    ]))
    if os.geteuid() == 0:
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # its privilege-separation folder
    log = open(folder / "sshd.log", "w")
    proc = subprocess.Popen([SSHD, "-D", "-e", "-f", str(config)], stdout=log, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 20
        while True:  # until it accepts connections
            if proc.poll() is not None:
                raise RuntimeError(f"sshd stopped: {(folder / 'sshd.log').read_text()}")
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"sshd did not listen on port {port}: {(folder / 'sshd.log').read_text()}")
            time.sleep(0.1)
        yield SshServer(getpass.getuser(), port, folder / "client_key")
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
