"""A real single-node Slurm cluster for the tests, from Debian's packages, on 127.0.0.1.

``with slurm_cluster() as cluster:`` writes slurm.conf, gres.conf, cgroup.conf and slurmdbd.conf into
a fresh folder under /tmp, starts munged, MariaDB, slurmdbd (job accounting: the Slurm executor
plugin reads job states with ``sacct``), slurmctld and slurmd, each in the foreground as a child of
this process, with this machine's short host name as the one node, and waits until ``sinfo`` shows
that node idle. Everything it started is stopped afterwards (jobs cancelled, then each daemon by its
own process), also when the body fails.

The node offers 4 CPUs, 16 GB and one GPU whose device file is /dev/null: enough for Slurm to
schedule ``--gpus=1`` and set CUDA_VISIBLE_DEVICES (nothing uses it), and its use is accounted as
``gres/gpu`` in ``sacct``. One partition (:attr:`SlurmCluster.partition`, not the default one: a job
must name it) and one account (:attr:`SlurmCluster.account`) for the current user.

Jobs need the configuration at Slurm's default path too: the plugin's job step drops SLURM_CONF
from the environment before it calls ``srun`` inside the job. So /etc/slurm/slurm.conf is made a
link to this cluster's file while it runs, and removed afterwards; if a slurm.conf is there already
(a machine with a Slurm of its own), nothing is touched and the cluster is refused.

:class:`SlurmUnavailable` says why a cluster cannot be had here (packages missing, not root, a
Slurm configured already); tests skip with that reason.
"""
from __future__ import annotations

import contextlib
import getpass
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Iterator

DEBIAN_PACKAGES = ["slurmctld", "slurmd", "slurmdbd", "slurm-client", "munge", "mariadb-server"]
COMMANDS = ["munged", "mariadbd", "mariadb-install-db", "mariadb", "slurmdbd", "slurmctld", "slurmd",
            "sbatch", "srun", "sacct", "sacctmgr", "sinfo", "squeue", "scontrol", "scancel"]
SYSTEM_CONF = Path("/etc/slurm/slurm.conf")
PREFIX = "idl-slurm-"


class SlurmUnavailable(Exception):
    """A Slurm cluster cannot be started on this machine (the message says why)."""


def _free_ports(n: int) -> list[int]:
    socks = []
    try:
        for _ in range(n):
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def _which(command: str) -> str | None:
    # the daemons live in /usr/sbin, which a user's PATH may lack
    return shutil.which(command, path=os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/sbin"]))


def check_available() -> None:
    """Raise :class:`SlurmUnavailable` unless a cluster can be started here."""
    import importlib.util

    if importlib.util.find_spec("snakemake_executor_plugin_slurm") is None:
        raise SlurmUnavailable("Slurm test cluster: Snakemake's Slurm executor plugin is not installed; "
                               "`./run setup --slurm` installs it (as .ci/run does)")
    missing = [c for c in COMMANDS if _which(c) is None]
    if missing:
        raise SlurmUnavailable(
            f"Slurm test cluster: {', '.join(missing)} not found; install Debian's "
            f"{' '.join(DEBIAN_PACKAGES)} (as .ci/run does)")
    if os.geteuid() != 0:
        raise SlurmUnavailable("Slurm test cluster: slurmd must run as root")
    if SYSTEM_CONF.exists() or SYSTEM_CONF.is_symlink():
        target = os.readlink(SYSTEM_CONF) if SYSTEM_CONF.is_symlink() else ""
        if Path(target).name == "slurm.conf" and Path(target).parent.name.startswith(PREFIX) \
                and not Path(target).exists():
            SYSTEM_CONF.unlink()  # left by a test run that was killed: its cluster is gone
        else:
            raise SlurmUnavailable(f"Slurm test cluster: {SYSTEM_CONF} exists already (a Slurm of this "
                                   "machine, or another test cluster running); not touching it")


class SlurmCluster:
    partition = "idltest"
    account = "idlacct"
    cluster_name = "idltest"

    def __init__(self, root: Path):
        self.root = root
        self.node = socket.gethostname().split(".")[0]
        self.conf = root / "slurm.conf"
        self.env = {"SLURM_CONF": str(self.conf)}
        self._procs: list[tuple[str, subprocess.Popen]] = []
        self._linked = False
        self._made_etc = False

    # -- running commands ----------------------------------------------------------------------
    def environ(self) -> dict:
        return {**os.environ, **self.env}

    def run(self, *cmd: str, check: bool = True, timeout: float = 60) -> subprocess.CompletedProcess:
        proc = subprocess.run([_which(cmd[0]) or cmd[0], *cmd[1:]], env=self.environ(), capture_output=True,
                              text=True, timeout=timeout)
        if check and proc.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}): {proc.stderr.strip()}"
                               f"\n{self.log_tails()}")
        return proc

    def sacct(self, *fields: str, all_steps: bool = False) -> list[dict[str, str]]:
        """Every job of this cluster, one dict per job (or per step with ``all_steps``)."""
        args = ["sacct", "--allusers", "--parsable2", "--noheader", "--starttime", "2000-01-01",
                "--format", ",".join(fields)]
        if not all_steps:
            args.append("-X")
        out = self.run(*args).stdout
        return [dict(zip(fields, line.split("|"))) for line in out.splitlines() if line.strip()]

    def log_tails(self, lines: int = 15) -> str:
        parts = []
        for name in ("slurmctld.log", "slurmd.log", "slurmdbd.log", "mysqld.err", "munged.log"):
            p = self.root / name
            if p.exists():
                tail = p.read_text(errors="replace").splitlines()[-lines:]
                parts.append(f"--- {name}\n" + "\n".join(tail))
        return "\n".join(parts)

    # -- start and stop --------------------------------------------------------------------------
    def _start(self, name: str, *cmd: str) -> subprocess.Popen:
        out = open(self.root / f"{name}.out", "w")
        proc = subprocess.Popen([_which(cmd[0]) or cmd[0], *cmd[1:]], env=self.environ(), stdout=out,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        out.close()
        self._procs.append((name, proc))
        return proc

    def _wait(self, what: str, ok, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for name, proc in self._procs:
                if proc.poll() is not None:
                    out = (self.root / f"{name}.out").read_text(errors="replace")[-2000:]
                    raise RuntimeError(f"{name} exited ({proc.returncode}) while waiting for {what}\n"
                                       f"{out}\n{self.log_tails()}")
            if ok():
                return
            time.sleep(0.3)
        raise RuntimeError(f"timed out waiting for {what}\n{self.log_tails()}")

    def _ok(self, *cmd: str) -> bool:
        try:
            return self.run(*cmd, check=False, timeout=15).returncode == 0
        except subprocess.TimeoutExpired:
            return False

    def write_config(self, ports: dict[str, int]) -> None:
        r = self.root
        (r / "state").mkdir()
        (r / "spool").mkdir()
        key = r / "munge.key"
        key.write_bytes(os.urandom(1024))
        key.chmod(0o600)
        (r / "init.sql").write_text(
            "CREATE USER IF NOT EXISTS 'slurm'@'127.0.0.1' IDENTIFIED BY 'slurmtest';\n"
            "GRANT ALL ON slurm_acct_db.* TO 'slurm'@'127.0.0.1';\n")
        munge = f"socket={r}/munge.sock"
        dbd = r / "slurmdbd.conf"
        dbd.write_text(f"""\
AuthType=auth/munge
AuthInfo={munge}
DbdHost=localhost
DbdAddr=127.0.0.1
DbdPort={ports['slurmdbd']}
SlurmUser=root
LogFile={r}/slurmdbd.log
PidFile={r}/slurmdbd.pid
DebugLevel=info
StorageType=accounting_storage/mysql
StorageHost=127.0.0.1
StoragePort={ports['mysql']}
StorageUser=slurm
StoragePass=slurmtest
StorageLoc=slurm_acct_db
""")
        dbd.chmod(0o600)  # slurmdbd refuses a readable file (it holds the database password)
        self.conf.write_text(f"""\
ClusterName={self.cluster_name}
SlurmctldHost={self.node}(127.0.0.1)
SlurmctldPort={ports['slurmctld']}
SlurmdPort={ports['slurmd']}
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo={munge}
CredType=cred/munge
StateSaveLocation={r}/state
SlurmdSpoolDir={r}/spool
SlurmctldPidFile={r}/slurmctld.pid
SlurmdPidFile={r}/slurmd.pid
SlurmctldLogFile={r}/slurmctld.log
SlurmdLogFile={r}/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
# no cgroups: processes are tracked through /proc, nothing is confined
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
MpiDefault=none
ReturnToService=2
SchedulerType=sched/builtin
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
# the node as written below, whatever this machine has
SlurmdParameters=config_overrides
GresTypes=gpu
AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=127.0.0.1
AccountingStoragePort={ports['slurmdbd']}
AccountingStoragePass={r}/munge.sock
AccountingStorageTRES=gres/gpu
AccountingStoreFlags=job_comment
MessageTimeout=10
MinJobAge=300
KillWait=5
InactiveLimit=0
MailProg=/bin/true
NodeName={self.node} NodeAddr=127.0.0.1 CPUs=4 RealMemory=16000 Gres=gpu:1 State=UNKNOWN
PartitionName={self.partition} Nodes={self.node} Default=NO MaxTime=INFINITE State=UP
""")
        (r / "gres.conf").write_text(f"NodeName={self.node} Name=gpu File=/dev/null\n")
        (r / "cgroup.conf").write_text("# unused: ProctrackType and TaskPlugin use no cgroups\n"
                                       "CgroupPlugin=cgroup/v1\n")

    def start(self) -> None:
        r = self.root
        ports = dict(zip(["mysql", "slurmdbd", "slurmctld", "slurmd"], _free_ports(4)))
        self.write_config(ports)
        self._start("munged", "munged", "--foreground", "--force", "--num-threads=4",
                    f"--socket={r}/munge.sock", f"--key-file={r}/munge.key", f"--log-file={r}/munged.log",
                    f"--pid-file={r}/munged.pid", f"--seed-file={r}/munged.seed")
        self.run("mariadb-install-db", "--no-defaults", f"--datadir={r}/db", "--user=root", "--skip-test-db",
                 "--auth-root-authentication-method=socket", timeout=180)
        self._start("mariadbd", "mariadbd", "--no-defaults", f"--datadir={r}/db", "--user=root",
                    "--bind-address=127.0.0.1", f"--port={ports['mysql']}", f"--socket={r}/mysqld.sock",
                    f"--pid-file={r}/mysqld.pid", f"--init-file={r}/init.sql", "--skip-log-bin",
                    "--innodb-buffer-pool-size=64M", f"--log-error={r}/mysqld.err")
        self._wait("munged", lambda: (r / "munge.sock").exists())
        self._wait("MariaDB", lambda: self._ok("mariadb", "--no-defaults", "-h", "127.0.0.1", "-P",
                                                str(ports["mysql"]), "-u", "slurm", "-pslurmtest",
                                                "-e", "SELECT 1"), timeout=120)
        self._start("slurmdbd", "slurmdbd", "-D")
        self._wait("slurmdbd", lambda: self._ok("sacctmgr", "-n", "list", "cluster"))
        user = getpass.getuser()
        self.run("sacctmgr", "-i", "add", "cluster", self.cluster_name)
        self.run("sacctmgr", "-i", "add", "account", self.account)
        self.run("sacctmgr", "-i", "add", "user", user, f"account={self.account}")
        if not SYSTEM_CONF.parent.is_dir():
            SYSTEM_CONF.parent.mkdir(parents=True)
            self._made_etc = True
        SYSTEM_CONF.symlink_to(self.conf)
        self._linked = True
        self._start("slurmctld", "slurmctld", "-D", "-i")
        self._start("slurmd", "slurmd", "-D", "-N", self.node)

        def node_idle() -> bool:
            proc = self.run("sinfo", "--noheader", "--node", self.node, "--format", "%t", check=False)
            return proc.returncode == 0 and proc.stdout.strip() == "idle"

        self._wait("the node to be idle in sinfo", node_idle, timeout=90)

    def stop(self) -> None:
        if any(name == "slurmctld" and p.poll() is None for name, p in self._procs):
            with contextlib.suppress(Exception):
                self.run("scancel", "--full", "--partition", self.partition, check=False, timeout=20)
                deadline = time.monotonic() + 30
                while time.monotonic() < deadline and self.run(
                        "squeue", "--noheader", check=False, timeout=10).stdout.strip():
                    time.sleep(0.5)
        for name, proc in reversed(self._procs):
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(timeout=10)
        self._procs.clear()
        if self._linked:
            with contextlib.suppress(FileNotFoundError):
                SYSTEM_CONF.unlink()
            self._linked = False
        if self._made_etc:
            with contextlib.suppress(OSError):
                SYSTEM_CONF.parent.rmdir()


@contextlib.contextmanager
def slurm_cluster() -> Iterator[SlurmCluster]:
    """Start a single-node cluster (see the module's doc); stop it and delete its folder afterwards."""
    check_available()
    root = Path(tempfile.mkdtemp(prefix=PREFIX, dir="/tmp"))  # short: unix socket paths are short
    root.chmod(0o755)  # munged wants the socket's folder searchable by all
    cluster = SlurmCluster(root)
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()
        shutil.rmtree(root, ignore_errors=True)
