"""The README's examples, run as written against a real server (only its URL is substituted; they
run beside the server's data directory), so the README cannot drift from what tegata does."""

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


def test_aws_cli_example_runs(tegata):
    [script] = [b for b in blocks("sh") if "run by tests/python/test_readme.py" in b]
    env = dict(os.environ, PATH=str(Path(sys.executable).parent) + os.pathsep + os.environ["PATH"])
    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", localise(script, tegata)],
        cwd=tegata.data_dir.parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert '"login.mycompany.myapp"' in result.stdout  # the identity's Logins, listed
    assert '"SessionToken":' in result.stdout  # the temporary credentials
    assert ":assumed-role/cli_user/cli" in result.stdout
