"""The README's examples, run as written against a real server (only its URL is substituted; they
run beside the server's data directory), so the README cannot drift from what tegata does."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

README = Path(__file__).resolve().parents[2] / "README.md"
DEFAULT_URL = "http://127.0.0.1:8910"


def blocks(language):
    return re.findall(rf"```{language}\n(.*?)```", README.read_text(), flags=re.S)


def localise(code, tegata):
    return code.replace(DEFAULT_URL, tegata.url)


def test_python_examples_run(tegata, capsys, monkeypatch):
    monkeypatch.chdir(tegata.data_dir.parent)
    namespace = {}
    for code in blocks("python"):
        exec(compile(localise(code, tegata), "README.md", "exec"), namespace)
    out = capsys.readouterr().out
    identity_id = namespace["response"]["IdentityId"]
    assert identity_id in out
    assert namespace["claims"]["sub"] == identity_id
    assert ":assumed-role/app_user/test_user" in out
    assert namespace["enhanced"]["AccessKeyId"] in out
    assert namespace["enhanced"]["AccessKeyId"].startswith("ASIA")
    # The least-privilege backend: its own pool's tokens, and a refusal for the rest.
    assert namespace["refusal"]["Code"] == "AccessDeniedException"
    assert ":user/backend is not authorized to perform: cognito-identity:DeleteIdentityPool" in out


def run_shell(script, tegata, **env):
    """A README block in bash, beside the server's data directory, with the AWS CLI of the
    virtualenv and the tegata binary under test on the PATH."""
    binary = Path(os.environ.get("TEGATA_BIN", Path(__file__).resolve().parents[2] / "target/debug/tegata"))
    path = os.pathsep.join([str(Path(sys.executable).parent), str(binary.parent), os.environ["PATH"]])
    return subprocess.run(
        ["bash", "-euo", "pipefail", "-c", localise(script, tegata)],
        cwd=tegata.data_dir.parent,
        env=dict(os.environ, PATH=path, **env),
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_aws_cli_example_runs(tegata):
    [script] = [b for b in blocks("sh") if "(this block is run by tests/python/test_readme.py)" in b]
    result = run_shell(script, tegata)
    assert result.returncode == 0, result.stderr
    assert '"login.mycompany.myapp"' in result.stdout  # the identity's Logins, listed
    assert '"SessionToken":' in result.stdout  # the temporary credentials
    assert ":assumed-role/cli_user/cli" in result.stdout


def test_broker_walkthrough_runs(tegata, tmp_path):
    [part1] = [b for b in blocks("sh") if "(part 1 of the walk-through" in b]
    [part2] = [b for b in blocks("sh") if "(part 2 of the walk-through" in b]
    first = run_shell(part1, tegata)
    assert first.returncode == 0, first.stderr
    assert "added application user alice" in first.stdout
    # As the README says: restart with the configuration the first part wrote.
    work = tegata.data_dir.parent
    tegata.restart(["--config", "tegata.toml"], cwd=work)
    # The credential cache goes where the test can see it (and not in the home directory).
    second = run_shell(part2, tegata, XDG_CACHE_HOME=str(tmp_path / "cache"))
    assert second.returncode == 0, second.stderr
    # curl's credentials, then credential_process's, each shown by GetCallerIdentity.
    assert second.stdout.count(":assumed-role/shop_customer/alice") == 2, second.stdout
    [cached] = list((tmp_path / "cache" / "tegata" / "credentials").iterdir())
    assert cached.stat().st_mode & 0o777 == 0o600
    # The audit log the configuration named: a sign-in and the credentials, twice.
    events = [json.loads(line) for line in (work / "broker-audit.log").read_text().splitlines()]
    assert [e["event"] for e in events] == ["sign_in", "credentials_issued"] * 2
    assert {e["user"] for e in events} == {"alice"}
