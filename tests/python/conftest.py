"""Fixtures: a real `tegata serve` process on loopback, in a scratch data directory."""

import os
import re
import signal
import subprocess
import threading
import time
from pathlib import Path

import boto3
import pytest

ROOT = Path(__file__).resolve().parents[2]
LISTENING = re.compile(r"tegata listening on (https?://\S+)")


class Tegata:
    """A running server; `restart()` stops it gracefully and starts it again on the same data."""

    def __init__(self, data_dir: Path, extra_args=(), env=None):
        self.data_dir = data_dir
        self.extra_args = list(extra_args)
        # Added to the environment the server inherits (without its TEGATA_ variables).
        self.extra_env = dict(env or {})
        # The server's working directory (relative paths in its configuration start there).
        self.cwd = None
        self.process = None
        self.url = None
        self.log = []
        self.start()

    @property
    def credentials_file(self) -> Path:
        return self.data_dir / "credentials"

    def start(self):
        binary = os.environ.get("TEGATA_BIN", str(ROOT / "target" / "debug" / "tegata"))
        env = {k: v for k, v in os.environ.items() if not k.startswith("TEGATA_")}
        env.update(self.extra_env)
        self.process = subprocess.Popen(
            # At debug level every request is logged: the tests that look for secrets in the log
            # see everything a request can write there.
            [binary, "serve", "--listen", "127.0.0.1:0", "--log", "debug", "--data-dir", str(self.data_dir),
             *self.extra_args],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            cwd=self.cwd,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        found = threading.Event()

        def read():
            for line in self.process.stderr:
                self.log.append(line)
                match = LISTENING.search(line)
                if match:
                    self.url = match.group(1)
                    found.set()

        threading.Thread(target=read, daemon=True).start()
        if not found.wait(60):
            self.process.kill()
            raise RuntimeError("tegata did not start:\n" + "".join(self.log))

    def stop(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=30)

    def restart(self, extra_args=None, cwd=None):
        assert self.stop() == 0
        if extra_args is not None:
            self.extra_args = list(extra_args)
        if cwd is not None:
            self.cwd = cwd
        self.start()

    def logged(self, predicate, seconds=5.0):
        """Whether a log line satisfying `predicate` arrives within `seconds`: a line written as a
        request is answered may reach the reader thread a moment after the answer."""
        deadline = time.monotonic() + seconds
        while True:
            if any(predicate(line) for line in list(self.log)):
                return True
            if time.monotonic() > deadline:
                return False
            time.sleep(0.05)

    def client(self, service: str, **kwargs):
        """A boto3 client changed in nothing but the endpoint and the credentials file."""
        return boto3.session.Session().client(service, endpoint_url=self.url, **kwargs)


@pytest.fixture
def tegata(tmp_path, monkeypatch):
    server = Tegata(tmp_path / "tegata-data")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(server.credentials_file))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
                 "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    # boto3.client() uses a process-wide default session that caches the credentials it first
    # read: each test starts from a fresh one, as each Lambda cold start would.
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)
    yield server
    if server.process.poll() is None:
        server.stop()
