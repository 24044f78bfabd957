"""Running tegata: what an operator meets in the first five minutes. One server per data
directory, nothing created by a server that cannot listen, an unreachable PostgreSQL named with
its cause, health and readiness, and a page for browsers."""

import base64
import json
import os
import socket
import subprocess
import time
import urllib.request

import jwt
import pytest
from botocore.exceptions import ClientError
from conftest import ROOT, Tegata

PROVIDER = "login.mycompany.myapp"


def developer_pool_and_role(tegata, name):
    """A pool of PROVIDER's developer users and a role that trusts the pool's tokens, both called
    `name`: (pool id, role ARN)."""
    pool_id = tegata.client("cognito-identity").create_identity_pool(
        IdentityPoolName=name, AllowUnauthenticatedIdentities=False, DeveloperProviderName=PROVIDER,
    )["IdentityPoolId"]
    trust = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Federated": "cognito-identity.amazonaws.com"},
        "Action": "sts:AssumeRoleWithWebIdentity",
        "Condition": {"StringEquals": {"cognito-identity.amazonaws.com:aud": pool_id}}}]}
    role_arn = tegata.client("iam").create_role(
        RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    return pool_id, role_arn


BINARY = os.environ.get("TEGATA_BIN", str(ROOT / "target" / "debug" / "tegata"))


def serve(*args, cwd=None, timeout=30):
    """`tegata serve` expected to stop by itself: its exit code, its log, and how long it took."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TEGATA_")}
    started = time.monotonic()
    done = subprocess.run([BINARY, "serve", *args], capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL, cwd=cwd, env=env)
    return done.returncode, done.stderr, time.monotonic() - started


def get(url):
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.headers.get("content-type"), response.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("content-type"), e.read().decode()


def test_a_second_server_on_the_same_data_directory_refuses_to_start(tegata):
    before = tegata.credentials_file.read_text()
    code, log, _ = serve("--listen", "127.0.0.1:0", "--data-dir", str(tegata.data_dir))
    assert code != 0
    assert f"another tegata server is using the data directory {tegata.data_dir.resolve()}" in log, log
    assert tegata.credentials_file.read_text() == before, "the credentials file is left alone"
    # The first server is unaffected, and once it stops the directory is free again.
    assert get(tegata.url + "/healthz")[0] == 200
    tegata.restart()
    assert get(tegata.url + "/healthz")[0] == 200


def test_a_server_that_cannot_listen_creates_nothing(tegata, tmp_path):
    port = tegata.url.rsplit(":", 1)[1]
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    code, log, _ = serve("--listen", f"127.0.0.1:{port}", cwd=elsewhere)
    assert code != 0 and f"listening on 127.0.0.1:{port}" in log, log
    assert list(elsewhere.iterdir()) == [], "no ./tegata-data, no master key"


def test_a_new_deployment_names_its_absolute_directory(tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    process = subprocess.Popen([BINARY, "serve", "--listen", "127.0.0.1:0", "--data-dir", "relative-data"],
                               cwd=work, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, text=True,
                               env={k: v for k, v in os.environ.items() if not k.startswith("TEGATA_")})
    log = []
    try:
        for line in process.stderr:
            log.append(line)
            if "tegata listening on" in line:
                break
    finally:
        process.terminate()
        process.wait(timeout=30)
    text = "".join(log)
    assert "creating a new deployment" in text, text
    assert str(work / "relative-data") in text, text


def test_an_unreachable_postgresql_is_named_with_its_cause_at_once(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        free = s.getsockname()[1]
    data = tmp_path / "data"
    code, log, took = serve("--listen", "127.0.0.1:0", "--data-dir", str(data),
                            "--database-url", f"postgres://app:s3cret-pw@127.0.0.1:{free}/tegata")
    assert code != 0
    assert f"cannot connect to PostgreSQL at 127.0.0.1:{free} (database tegata, user app): connection " \
           "refused" in log, log
    assert took < 5, f"{took:.1f} s"
    assert "s3cret-pw" not in log
    assert not (data / "master.key").exists(), "nothing written before the store opens"

    # A host that does not answer at all: reported within the five seconds of the timeout.
    code, log, took = serve("--listen", "127.0.0.1:0", "--data-dir", str(data),
                            "--database-url", "postgres://app@10.255.255.1:5432/tegata")
    assert code != 0
    assert "cannot connect to PostgreSQL at 10.255.255.1:5432" in log, log
    assert took < 8, f"{took:.1f} s"


def test_health_readiness_and_a_page_for_browsers(tegata):
    assert get(tegata.url + "/healthz")[:1] == (200,)
    assert get(tegata.url + "/readyz")[0] == 200
    status, content_type, page = get(tegata.url + "/")
    assert status == 200 and content_type.startswith("text/html"), (status, content_type)
    assert "<h1>tegata " in page and tegata.url in page
    assert "/.well-known/openid-configuration" in page
    # The query protocol is still served at the same path.
    status, _, body = get(tegata.url + "/?Action=GetCallerIdentity&Version=2011-06-15")
    assert status == 403 and "MissingAuthenticationToken" in body


def test_a_backup_under_load_restores_every_identity_acknowledged_before_it(tegata, tmp_path):
    import shutil
    import threading

    from conftest import Tegata
    from test_sts import PROVIDER, create_pool

    pool_id = create_pool(tegata, "backed-up")
    cognito = tegata.client("cognito-identity")
    acknowledged, stop = [], threading.Event()

    def load():
        n = 0
        while not stop.is_set():
            answer = cognito.get_open_id_token_for_developer_identity(
                IdentityPoolId=pool_id, Logins={PROVIDER: f"user-{n}"})
            acknowledged.append((f"user-{n}", answer["IdentityId"]))
            n += 1

    worker = threading.Thread(target=load)
    worker.start()
    try:
        while len(acknowledged) < 50:
            time.sleep(0.05)
        before = list(acknowledged)
        backup = tmp_path / "backups" / "tegata.db"
        backup.parent.mkdir()
        done = subprocess.run([BINARY, "backup", str(backup), "--data-dir", str(tegata.data_dir)],
                              capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        assert "backed up" in done.stdout
        while len(acknowledged) < len(before) + 20:
            time.sleep(0.05)
    finally:
        stop.set()
        worker.join()
    assert oct(backup.stat().st_mode & 0o777) == "0o600"
    again = subprocess.run([BINARY, "backup", str(backup), "--data-dir", str(tegata.data_dir)],
                           capture_output=True, text=True, timeout=60)
    assert again.returncode != 0 and "never overwrites" in again.stderr

    # Restore as the README says: the copy as tegata.db beside the same master key.
    restored_dir = tmp_path / "restored"
    restored_dir.mkdir(mode=0o700)
    shutil.copy(tegata.data_dir / "master.key", restored_dir / "master.key")
    shutil.copy(backup, restored_dir / "tegata.db")
    restored = Tegata(restored_dir)
    try:
        client = restored.client("cognito-identity")
        for user, identity_id in before:
            found = client.lookup_developer_identity(IdentityPoolId=pool_id, DeveloperUserIdentifier=user)
            assert found["IdentityId"] == identity_id, user
    finally:
        restored.stop()


def test_metrics_parse_and_count_the_requests_sent(tegata):
    from botocore.exceptions import ClientError
    from prometheus_client.parser import text_string_to_metric_families

    def scrape():
        status, content_type, text = get(tegata.url + "/metrics")
        assert status == 200 and content_type.startswith("text/plain"), (status, content_type)
        return {family.name: family for family in text_string_to_metric_families(text)}

    def requests(families, **labels):
        return sum(sample.value for sample in families["tegata_requests"].samples
                   if sample.name == "tegata_requests_total"
                   and all(sample.labels.get(k) == v for k, v in labels.items()))

    before = scrape() if "tegata_requests" in scrape() else None
    sts = tegata.client("sts")
    for _ in range(7):
        sts.get_caller_identity()
    cognito = tegata.client("cognito-identity")
    for _ in range(3):
        try:
            cognito.describe_identity_pool(IdentityPoolId="us-east-1:00000000-0000-0000-0000-000000000000")
        except ClientError:
            pass
    pool_id = cognito.create_identity_pool(IdentityPoolName="m", AllowUnauthenticatedIdentities=False,
                                           DeveloperProviderName="login.m")["IdentityPoolId"]
    for n in range(4):
        cognito.get_open_id_token_for_developer_identity(IdentityPoolId=pool_id, Logins={"login.m": f"u{n}"})
    after = scrape()

    def delta(**labels):
        return requests(after, **labels) - (requests(before, **labels) if before else 0)

    assert delta(service="sts", operation="GetCallerIdentity", outcome="ok") == 7
    assert delta(service="cognito-identity", operation="DescribeIdentityPool",
                 outcome="ResourceNotFoundException") == 3
    assert delta(service="cognito-identity", operation="GetOpenIdTokenForDeveloperIdentity", outcome="ok") == 4
    tokens = after["tegata_tokens_issued"].samples[0].value
    assert tokens >= 4
    durations = after["tegata_request_duration_seconds"]
    assert durations.type == "histogram"
    count = next(s.value for s in durations.samples if s.name.endswith("_count")
                 and s.labels == {"service": "sts", "operation": "GetCallerIdentity"})
    assert count >= 7
    pools = {(s.labels["pool"], s.labels["state"]) for s in after["tegata_database_connections"].samples}
    assert ("reader", "idle") in pools and ("writer", "busy") in pools
    assert "tegata_signer_queue_depth" in after
    assert after["tegata_identity_writer_queue_depth"].samples[0].value == 0, "nothing waits once answered"
    # The four users came one at a time: four groups of one, each timed from BEGIN to COMMIT.
    groups = after["tegata_identity_writer_group_seconds"]
    assert groups.type == "histogram"
    assert next(s.value for s in groups.samples if s.name.endswith("_count")) == 4
    assert after["tegata_revoked_session_subjects"].samples[0].value == 0


def test_metrics_on_a_listener_of_their_own(tegata):
    import re

    from prometheus_client.parser import text_string_to_metric_families

    tegata.restart(extra_args=["--metrics-listen", "127.0.0.1:0"])
    assert tegata.logged(lambda line: "metrics on http://" in line)
    [address] = [re.search(r"metrics on (http://[0-9.:]+)/metrics", line).group(1)
                 for line in tegata.log if "metrics on http://" in line][-1:]
    tegata.client("sts").get_caller_identity()
    status, _, text = get(address + "/metrics")
    assert status == 200
    families = {family.name: family for family in text_string_to_metric_families(text)}
    assert any(s.labels.get("operation") == "GetCallerIdentity" for s in families["tegata_requests"].samples)
    assert get(address + "/readyz")[0] == 200
    # The main listener (the public one, say) no longer shows them.
    status, _, body = get(tegata.url + "/metrics")
    assert status == 404 and "--metrics-listen" in body


def test_metrics_can_be_turned_off(tegata):
    tegata.restart(extra_args=["--metrics", "false"])
    assert get(tegata.url + "/metrics")[0] == 404


def test_json_logs_are_one_object_per_line(tmp_path):
    import json
    import re

    process = subprocess.Popen([BINARY, "serve", "--listen", "127.0.0.1:0", "--data-dir", str(tmp_path / "d"),
                                "--log-format", "json", "--log", "debug"],
                               stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                               text=True, env={k: v for k, v in os.environ.items() if not k.startswith("TEGATA_")})
    lines = []
    try:
        for line in process.stderr:
            lines.append(line)
            if "tegata listening on" in line:
                break
        url = re.search(r"tegata listening on (http://[0-9.:]+)", lines[-1]).group(1)
        status, _, _ = get(url + "/?Action=GetCallerIdentity&Version=2011-06-15")
        assert status == 403
    finally:
        process.terminate()
        _, rest = process.communicate(timeout=30)
    lines += rest.splitlines()
    events = [json.loads(line) for line in lines if line.strip()]
    assert all({"timestamp", "level", "fields"} <= set(e) for e in events)
    refused = [e for e in events if e["fields"].get("message") == "refused"]
    assert refused and refused[0]["fields"]["code"] == "MissingAuthenticationToken"


def test_a_missing_master_key_is_never_made_afresh_for_a_deployment(tegata, tmp_path):
    assert tegata.stop() == 0
    key = tegata.data_dir / "master.key"
    key.rename(tmp_path / "master.key.away")
    code, log, _ = serve("--listen", "127.0.0.1:0", "--data-dir", str(tegata.data_dir))
    assert code != 0
    assert f"the store holds a deployment, but its master key {key} is missing" in log, log
    assert not key.exists()
    (tmp_path / "master.key.away").rename(key)
    tegata.start()
    assert get(tegata.url + "/readyz")[0] == 200
    # A backup into a directory that does not exist says so, naming it.
    done = subprocess.run([BINARY, "backup", str(tmp_path / "nowhere" / "b.db"), "--data-dir",
                           str(tegata.data_dir)], capture_output=True, text=True, timeout=60)
    assert done.returncode != 0 and f"{tmp_path / 'nowhere'} is not a directory" in done.stderr


def keys(tegata, *args):
    """`tegata keys ARGS` on the server's data directory, while it serves."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TEGATA_")}
    return subprocess.run([BINARY, "keys", *args, "--data-dir", str(tegata.data_dir)], capture_output=True,
                          text=True, timeout=60, stdin=subprocess.DEVNULL, env=env)


def published_kids(tegata):
    status, _, body = get(tegata.url + "/.well-known/jwks_uri")
    assert status == 200
    return [key["kid"] for key in json.loads(body)["keys"]]


def counter(tegata, family):
    """The value of the counter `family` on the server's /metrics (0 before its first count)."""
    from prometheus_client.parser import text_string_to_metric_families
    status, _, text = get(tegata.url + "/metrics")
    assert status == 200
    return sum(sample.value for metric in text_string_to_metric_families(text) if metric.name == family
               for sample in metric.samples if sample.name == family + "_total")


def eventually(check, seconds):
    """`check()`'s first true value within `seconds` (polled), else the last one."""
    deadline = time.monotonic() + seconds
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.1)


def test_signing_keys_rotate_and_revoke_with_the_cli(tegata):
    # The server publishes a next key beside the active one as soon as it runs.
    assert eventually(lambda: len(published_kids(tegata)) == 2, 5), published_kids(tegata)
    listed = keys(tegata, "list")
    assert listed.returncode == 0, listed.stderr
    states = {line.split()[0]: line.split()[2] for line in listed.stdout.splitlines()[1:]}
    assert {line.split()[1] for line in listed.stdout.splitlines()[1:]} == {"RS512"}, listed.stdout
    assert sorted(states.values()) == ["active", "next"], listed.stdout
    assert set(states) == set(published_kids(tegata))
    next_kid = next(kid for kid, state in states.items() if state == "next")

    cognito, sts, iam = tegata.client("cognito-identity"), tegata.client("sts"), tegata.client("iam")
    pool_id, role_arn = developer_pool_and_role(tegata, "rotating")

    def token(user):
        return cognito.get_open_id_token_for_developer_identity(
            IdentityPoolId=pool_id, Logins={PROVIDER: user})["Token"]

    def exchange(web_identity_token):
        return sts.assume_role_with_web_identity(RoleArn=role_arn, RoleSessionName="rotating",
                                                 WebIdentityToken=web_identity_token)

    old_token = token("early")
    old_kid = jwt.get_unverified_header(old_token)["kid"]
    assert states[old_kid] == "active"

    # Too soon for relying parties that cache the key set: refused, saying when and how.
    refused = keys(tegata, "rotate")
    assert refused.returncode != 0
    assert f"the next key {next_kid} was published" in refused.stderr and "--now" in refused.stderr, refused.stderr
    rotated = keys(tegata, "rotate", "--now")
    assert rotated.returncode == 0, rotated.stderr
    assert f"rotated: {next_kid} signs now; {old_kid} is retired" in rotated.stdout, rotated.stdout

    # Within seconds the server signs with the former next key, which a JWT library verifies
    # through discovery, and the retired key still verifies its own tokens.
    new_token = eventually(lambda: (t := token("late")) and jwt.get_unverified_header(t)["kid"] == next_kid and t, 5)
    assert new_token, "the server did not pick up the rotation"
    signing_key = jwt.PyJWKClient(tegata.url + "/.well-known/jwks_uri").get_signing_key_from_jwt(new_token)
    assert jwt.decode(new_token, signing_key.key, algorithms=["RS512"], audience=pool_id)["aud"] == pool_id
    assert len(published_kids(tegata)) == 3
    # This process signed the token, so its exchange skips the signature check (and only that:
    # the key's revocation below still refuses it).
    skipped = counter(tegata, "tegata_token_signature_checks_skipped")
    exchange(old_token)
    assert counter(tegata, "tegata_token_signature_checks_skipped") == skipped + 1

    # Revoked: refused within seconds with AWS's answer for an unknown key, and unpublished.
    revoked = keys(tegata, "revoke", old_kid)
    assert revoked.returncode == 0, revoked.stderr

    def refused_code():
        try:
            exchange(old_token)
            return None
        except ClientError as e:
            return e.response["Error"]
    error = eventually(refused_code, 5)
    assert error and error["Code"] == "InvalidIdentityToken", error
    assert error["Message"].startswith("Couldn't retrieve verification key from your identity provider")
    assert old_kid not in published_kids(tegata)
    exchange(new_token)

    again = keys(tegata, "revoke", old_kid)
    assert again.returncode != 0 and f"signing key {old_kid} is already revoked" in again.stderr
    unknown = keys(tegata, "revoke", "no-such-kid")
    assert unknown.returncode != 0 and "no signing key has the id no-such-kid" in unknown.stderr
    # A master key that does not open the signing keys is refused before anything is changed.
    stray = tegata.data_dir.parent / "stray.key"
    stray.write_text(base64.b64encode(os.urandom(32)).decode() + "\n")
    wrong = keys(tegata, "rotate", "--now", "--master-key-file", str(stray))
    assert wrong.returncode != 0 and "does not open the deployment's signing keys" in wrong.stderr, wrong.stderr
    assert len(published_kids(tegata)) == 2
    missing = subprocess.run([BINARY, "master-key", "rotate", "--new-key-file", str(stray) + ".missing",
                              "--data-dir", str(tegata.data_dir)], capture_output=True, text=True, timeout=60,
                             stdin=subprocess.DEVNULL)
    assert missing.returncode != 0 and "the new master key must exist already" in missing.stderr


def discovery(tegata):
    status, _, body = get(tegata.url + "/.well-known/openid-configuration")
    assert status == 200
    return json.loads(body)


def jwks(tegata):
    status, _, body = get(tegata.url + "/.well-known/jwks_uri")
    assert status == 200
    return json.loads(body)["keys"]


def test_es256_tokens_from_the_first_start_or_by_a_rotation(tegata, tmp_path):
    # An unknown algorithm is refused before anything starts, naming the two there are.
    code, log, _ = serve("--token-algorithm", "HS256", "--data-dir", str(tmp_path / "hs"))
    assert code != 0 and "'HS256' is not a token algorithm: use RS512 or ES256" in log, log
    assert not (tmp_path / "hs").exists()

    # A new deployment started with ES256 makes EC keys, the next key included, and says so.
    fresh = Tegata(tmp_path / "fresh", ["--token-algorithm", "es256"])
    try:
        assert eventually(lambda: len(jwks(fresh)) == 2, 5)
        for key in jwks(fresh):
            assert (key["kty"], key["crv"], key["alg"], key["use"]) == ("EC", "P-256", "ES256", "sig"), key
            assert "n" not in key and len(base64.urlsafe_b64decode(key["x"] + "=")) == 32
        assert discovery(fresh)["id_token_signing_alg_values_supported"] == ["ES256"]
        listed = keys(fresh, "list")
        assert [line.split()[1] for line in listed.stdout.splitlines()[1:]] == ["ES256", "ES256"], listed.stdout
    finally:
        fresh.stop()

    # An RSA deployment restarted with the setting stays RSA, and the log says how to move it.
    tegata.restart(["--token-algorithm", "ES256"])
    assert tegata.logged(lambda line: "tegata keys rotate --algorithm ES256" in line)
    assert {key["kty"] for key in jwks(tegata)} == {"RSA"}

    cognito, sts, iam = tegata.client("cognito-identity"), tegata.client("sts"), tegata.client("iam")
    pool_id, role_arn = developer_pool_and_role(tegata, "ec")

    def token(user):
        return cognito.get_open_id_token_for_developer_identity(
            IdentityPoolId=pool_id, Logins={PROVIDER: user})

    def exchange(web_identity_token):
        return sts.assume_role_with_web_identity(RoleArn=role_arn, RoleSessionName="ec",
                                                 WebIdentityToken=web_identity_token)["Credentials"]

    rsa_token = token("before")["Token"]
    assert jwt.get_unverified_header(rsa_token)["alg"] == "RS512"

    # Without --now the EC key is published, not yet signing: the command says when it may.
    moved = keys(tegata, "rotate", "--algorithm", "ES256")
    assert moved.returncode == 0, moved.stderr
    assert "revoked the next key" in moved.stdout and "(ES256) as the next key" in moved.stdout, moved.stdout
    assert "it signs after `tegata keys rotate`, run again in 305 s" in moved.stdout, moved.stdout
    assert "rotated:" not in moved.stdout
    assert eventually(lambda: {key["kty"] for key in jwks(tegata)} == {"RSA", "EC"}, 5), jwks(tegata)
    assert jwt.get_unverified_header(token("meanwhile")["Token"])["alg"] == "RS512"
    # Asking again changes nothing more: the rotation, forced, promotes the EC key.
    rotated = keys(tegata, "rotate", "--algorithm", "ES256", "--now")
    assert rotated.returncode == 0, rotated.stderr
    assert "revoked" not in rotated.stdout and "rotated:" in rotated.stdout, rotated.stdout

    # Within seconds tokens are ES256, verified by a JWT library through discovery alone; the
    # RSA key's tokens still verify until they expire, and both algorithms are advertised.
    ec = eventually(lambda: (t := token("after")) and jwt.get_unverified_header(t["Token"])["alg"] == "ES256" and t, 5)
    assert ec, "the server did not move to ES256"
    signing_key = jwt.PyJWKClient(tegata.url + "/.well-known/jwks_uri").get_signing_key_from_jwt(ec["Token"])
    claims = jwt.decode(ec["Token"], signing_key.key, algorithms=["ES256"], audience=pool_id)
    assert claims["sub"] == ec["IdentityId"]
    assert sorted(discovery(tegata)["id_token_signing_alg_values_supported"]) == ["ES256", "RS512"]
    assert exchange(ec["Token"])["AccessKeyId"].startswith("ASIA")
    assert exchange(rsa_token)["AccessKeyId"].startswith("ASIA")
    # The enhanced flow takes the ES256 token too.
    cognito.set_identity_pool_roles(IdentityPoolId=pool_id, Roles={"authenticated": role_arn})
    enhanced = cognito.get_credentials_for_identity(
        IdentityId=ec["IdentityId"], Logins={"cognito-identity.amazonaws.com": ec["Token"]})
    assert enhanced["Credentials"]["AccessKeyId"].startswith("ASIA")

    # An ES256 signature under an RS512 header is refused, not verified as RSA.
    header, payload, signature = ec["Token"].split(".")
    forged_header = base64.urlsafe_b64encode(json.dumps(
        {"kid": jwt.get_unverified_header(ec["Token"])["kid"], "typ": "JWS", "alg": "RS512"}).encode()).rstrip(b"=")
    with pytest.raises(ClientError) as refused:
        exchange(f"{forged_header.decode()}.{payload}.{signature}")
    assert refused.value.response["Error"]["Code"] == "InvalidIdentityToken"

    # The store keeps the algorithm: a restart without the setting goes on with ES256, and
    # the next key published by the rotation is an EC key too.
    tegata.restart([])
    cognito = tegata.client("cognito-identity")
    assert jwt.get_unverified_header(token("restarted")["Token"])["alg"] == "ES256"
    listed = keys(tegata, "list")
    rows = [line.split() for line in listed.stdout.splitlines()[1:]]
    assert {(row[1], row[2]) for row in rows if row[2] in ("active", "next")} == {("ES256", "active"),
                                                                                   ("ES256", "next")}, listed.stdout


def test_revoking_a_roles_sessions_as_the_console_does(tegata):
    iam, sts = tegata.client("iam"), tegata.client("sts")
    account = sts.get_caller_identity()["Account"]
    trust = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{account}:root"}, "Action": "sts:AssumeRole"}]}
    role_arn = iam.create_role(RoleName="ops", AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    iam.put_role_policy(RoleName="ops", PolicyName="read", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "iam:GetRole", "Resource": "*"}]}))

    def session():
        credentials = sts.assume_role(RoleArn=role_arn, RoleSessionName="ops")["Credentials"]
        return tegata.client("iam", aws_access_key_id=credentials["AccessKeyId"],
                             aws_secret_access_key=credentials["SecretAccessKey"],
                             aws_session_token=credentials["SessionToken"])

    def denied(client):
        try:
            client.get_role(RoleName="ops")
            return None
        except ClientError as e:
            return e.response["Error"]["Code"]

    before = session()
    assert denied(before) is None
    env = {k: v for k, v in os.environ.items() if not k.startswith("TEGATA_")}
    done = subprocess.run([BINARY, "roles", "revoke-sessions", "ops", "--data-dir", str(tegata.data_dir)],
                          capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL, env=env)
    assert done.returncode == 0, done.stderr
    # The node reads the role's policies again within a second: then the old session is denied.
    assert eventually(lambda: denied(before) == "AccessDenied", 2), denied(before)
    document = iam.get_role_policy(RoleName="ops", PolicyName="AWSRevokeOlderSessions")["PolicyDocument"]
    statement = document["Statement"]
    assert (statement["Effect"], statement["Action"], statement["Resource"]) == ("Deny", "*", "*")
    revoked_at = statement["Condition"]["DateLessThan"]["aws:TokenIssueTime"]
    assert revoked_at.endswith("Z") and len(revoked_at) == len("2026-12-02T08:00:00Z"), revoked_at
    # A session issued after the second of the revocation is untouched.
    time.sleep(2.1)
    assert denied(session()) is None

    unknown = subprocess.run([BINARY, "roles", "revoke-sessions", "nobody", "--data-dir", str(tegata.data_dir)],
                             capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL, env=env)
    assert unknown.returncode != 0 and "there is no role nobody" in unknown.stderr


def test_the_audit_log_holds_every_security_event_and_no_secret(tegata, tmp_path):
    audit = tmp_path / "audit.log"
    tegata.restart(extra_args=["--audit-log", str(audit)])
    cognito, sts, iam = tegata.client("cognito-identity"), tegata.client("sts"), tegata.client("iam")
    account = sts.get_caller_identity()["Account"]
    admin = f"arn:aws:iam::{account}:user/admin"
    secrets = []

    pool_id, role_arn = developer_pool_and_role(tegata, "audited")
    iam.get_role(RoleName="audited")  # a read: not audited
    iam.create_user(UserName="auditor")
    key = iam.create_access_key(UserName="auditor")["AccessKey"]
    secrets.append(key["SecretAccessKey"])

    issued = cognito.get_open_id_token_for_developer_identity(IdentityPoolId=pool_id, Logins={PROVIDER: "alice"})
    secrets.append(issued["Token"])
    exchanged = sts.assume_role_with_web_identity(RoleArn=role_arn, RoleSessionName="alice",
                                                  WebIdentityToken=issued["Token"])
    credentials = exchanged["Credentials"]
    secrets += [credentials["SecretAccessKey"], credentials["SessionToken"]]
    with pytest.raises(ClientError):
        sts.assume_role_with_web_identity(RoleArn=role_arn, RoleSessionName="forger", WebIdentityToken="not.a.token.at-all")
    session_iam = tegata.client("iam", aws_access_key_id=credentials["AccessKeyId"],
                                aws_secret_access_key=credentials["SecretAccessKey"],
                                aws_session_token=credentials["SessionToken"])
    with pytest.raises(ClientError) as denied:
        session_iam.list_roles()
    assert denied.value.response["Error"]["Code"] == "AccessDenied"
    forged = tegata.client("sts", aws_access_key_id=key["AccessKeyId"], aws_secret_access_key="x" * 40)
    with pytest.raises(ClientError):
        forged.get_caller_identity()
    cognito.delete_identities(IdentityIdsToDelete=[issued["IdentityId"]])
    # The operator's commands write their own lines to the same trail.
    rotated = keys(tegata, "rotate", "--now", "--audit-log", str(audit))
    assert rotated.returncode == 0, rotated.stderr
    env = {k: v for k, v in os.environ.items() if not k.startswith("TEGATA_")}
    refused = subprocess.run([BINARY, "roles", "revoke-sessions", "nobody", "--data-dir", str(tegata.data_dir),
                              "--audit-log", str(audit)], capture_output=True, text=True, timeout=60,
                             stdin=subprocess.DEVNULL, env=env)
    assert refused.returncode != 0

    def lines():
        return [json.loads(line) for line in audit.read_text().splitlines()] if audit.exists() else []

    def find(operation, **expected):
        return [line for line in lines() if line.get("operation") == operation
                and all(line.get(k) == v for k, v in expected.items())]

    def keys_lines():
        return [line for line in lines() if line["event"] == "signing_keys_loaded"]
    # The server writes its new ring once it has read the rotation made by `tegata keys`.
    assert eventually(lambda: any(len(line["published"]) == 3 for line in keys_lines()), 6), keys_lines()
    [created] = find("CreateIdentityPool", event="change", outcome="ok", principal=admin)
    assert created["source_address"] == "127.0.0.1" and created["request_id"]
    [role] = find("CreateRole", event="change", outcome="ok")
    assert role["details"]["resource"] == role_arn
    assert not find("GetRole") and not find("GetCallerIdentity", outcome="ok")
    [created_key] = find("CreateAccessKey", event="change", outcome="ok")
    [token] = find("GetOpenIdTokenForDeveloperIdentity", event="token_issued", outcome="ok")
    assert token["details"]["identity_id"] == issued["IdentityId"]
    [good, bad] = find("AssumeRoleWithWebIdentity", event="credentials_issued")
    assert good["outcome"] == "ok" and "principal" not in good
    assert good["details"]["issued_access_key_id"] == credentials["AccessKeyId"]
    assert good["details"]["subject"] == issued["IdentityId"] and good["details"]["role_arn"] == role_arn
    assert bad["outcome"] == "InvalidIdentityToken"
    [refusal] = find("ListRoles", event="refusal", outcome="AccessDenied")
    assert refusal["principal"] == f"arn:aws:sts::{account}:assumed-role/audited/alice"
    assert refusal["access_key_id"] == credentials["AccessKeyId"]
    assert find("GetCallerIdentity", event="refusal", outcome="SignatureDoesNotMatch")
    assert find("DeleteIdentities", event="change", outcome="ok")
    keys_line = keys_lines()[-1]
    assert f"rotated: {keys_line['active']} signs now" in rotated.stdout
    [command] = [line for line in lines() if line.get("command") == "keys rotate"]
    assert command["event"] == "operator_command" and command["outcome"] == "ok"
    assert command["details"]["active"] == keys_line["active"] and command["details"]["next"]
    [failed] = [line for line in lines() if line.get("command") == "roles revoke-sessions"]
    assert (failed["target"], failed["outcome"], failed["error"]) == ("nobody", "failed", "there is no role nobody")
    assert "changed_here" not in keys_line, "the rotation was made by the command, not the server"

    text = audit.read_text()
    admin_secret = tegata.credentials_file.read_text().split("aws_secret_access_key")[1].split("=")[1].split()[0]
    for secret in [*secrets, admin_secret]:
        assert secret not in text
    assert oct(audit.stat().st_mode & 0o777) == "0o600"
