"""The README's examples, run as written against a real server, so the README cannot drift from
what tegata does: the Python ones as scripts from another directory, twice, with the environment
the README sets; the shell ones beside the server's data directory, with its URL substituted."""

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


def test_python_examples_run_as_scripts_from_anywhere_twice(tegata, tmp_path):
    """Each Python block is a script: run from a directory that is neither the clone nor the
    server's, twice in a row, with only the environment the README sets."""
    scripts = blocks("python")
    assert len(scripts) == 3
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "TEGATA_"))}
    env.update(AWS_ENDPOINT_URL=tegata.url, AWS_DEFAULT_REGION="us-east-1",
               AWS_SHARED_CREDENTIALS_FILE=str(tegata.credentials_file),
               AWS_CONFIG_FILE=str(tmp_path / "no-aws-config"))
    for run in (1, 2):
        outputs = []
        for n, code in enumerate(scripts):
            script = elsewhere / f"example_{n}.py"
            script.write_text(code)
            done = subprocess.run([sys.executable, script.name], cwd=elsewhere, env=env,
                                  capture_output=True, text=True, timeout=120)
            assert done.returncode == 0, f"run {run}, block {n}:\n{done.stderr}"
            outputs.append(done.stdout)
        basic, enhanced, backend = outputs
        identity_id = basic.split()[0]
        assert identity_id.startswith("us-east-1:")
        assert f"\n{identity_id} " in basic, "the token's sub is the identity"
        assert ":assumed-role/app_user/test_user" in basic
        assert enhanced.startswith("ASIA")
        assert "AccessDeniedException User: " in backend
        assert ":user/backend is not authorized to perform: cognito-identity:DeleteIdentityPool" in backend


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
