"""The credential broker through real clients: `POST /broker/v1/profiles/<profile>/credentials`
with HTTP (urllib), the credentials it hands out used by boto3, `tegata app-users` run while the
server serves, and `tegata credentials` as a credential_process."""

import json
import os
import sqlite3
import subprocess
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import boto3
import pytest

ROOT = Path(__file__).resolve().parents[2]
BINARY = os.environ.get("TEGATA_BIN", str(ROOT / "target" / "debug" / "tegata"))
PROVIDER = "login.shop"
PASSWORD = "correct horse battery staple"


def trust(pool_id):
    return json.dumps({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"Federated": "cognito-identity.amazonaws.com"},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {
                "StringEquals": {"cognito-identity.amazonaws.com:aud": pool_id},
                "ForAnyValue:StringLike": {"cognito-identity.amazonaws.com:amr": "authenticated"},
            },
        }],
    })


def app_users(tegata, *args, password=None, config=None):
    """`tegata app-users …` on the server's data directory, as an operator runs it."""
    command = [BINARY, "app-users", *args, "--data-dir", str(tegata.data_dir)]
    if config:
        command += ["--config", str(config)]
    if password is not None:
        command.append("--password-stdin")
    return subprocess.run(command, input=(password + "\n") if password is not None else None,
                          capture_output=True, text=True, timeout=60,
                          env={k: v for k, v in os.environ.items() if not k.startswith("TEGATA_")})


class Broker:
    """A server with broker profiles: `shop` (basic flow), `shop-enhanced` (the pool's roles) and
    `untrusted` (a role whose trust policy names another pool)."""

    def __init__(self, tegata, work: Path, extra_settings=""):
        self.tegata = tegata
        self.work = work
        cognito = tegata.client("cognito-identity")
        iam = tegata.client("iam")
        self.pool_id = cognito.create_identity_pool(
            IdentityPoolName="shop", AllowUnauthenticatedIdentities=False,
            DeveloperProviderName=PROVIDER)["IdentityPoolId"]
        self.role_arn = iam.create_role(RoleName="shop_customer",
                                        AssumeRolePolicyDocument=trust(self.pool_id))["Role"]["Arn"]
        other_pool = cognito.create_identity_pool(
            IdentityPoolName="other", AllowUnauthenticatedIdentities=False,
            DeveloperProviderName="login.other")["IdentityPoolId"]
        untrusting = iam.create_role(RoleName="other_customer",
                                     AssumeRolePolicyDocument=trust(other_pool))["Role"]["Arn"]
        cognito.set_identity_pool_roles(IdentityPoolId=self.pool_id,
                                        Roles={"authenticated": self.role_arn})
        self.audit_log = work / "audit.log"
        self.config = work / "tegata.toml"
        self.config.write_text(f"""
[broker]
audit_log = "{self.audit_log}"
{extra_settings}

[[broker.profiles]]
name = "shop"
authenticator = "password"
identity_pool_id = "{self.pool_id}"
developer_provider = "{PROVIDER}"
role_arn = "{self.role_arn}"
session_duration_seconds = 1800

[[broker.profiles]]
name = "shop-enhanced"
authenticator = "password"
flow = "enhanced"
identity_pool_id = "{self.pool_id}"
developer_provider = "{PROVIDER}"

[[broker.profiles]]
name = "untrusted"
authenticator = "password"
identity_pool_id = "{self.pool_id}"
developer_provider = "{PROVIDER}"
role_arn = "{untrusting}"
""")
        tegata.restart(["--config", str(self.config)])

    def post(self, profile, body, headers=None):
        """(status, headers, parsed JSON body) of a POST to the profile's endpoint."""
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        request = urllib.request.Request(
            f"{self.tegata.url}/broker/v1/profiles/{profile}/credentials", data=data,
            headers={"Content-Type": "application/json", **(headers or {})}, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, response.headers, json.loads(response.read())
        except urllib.error.HTTPError as e:
            return e.code, e.headers, json.loads(e.read() or b"null")

    def sign_in(self, username, password=PASSWORD, profile="shop"):
        return self.post(profile, {"username": username, "password": password})

    def audit(self):
        return [json.loads(line) for line in self.audit_log.read_text().splitlines()]


@pytest.fixture
def broker(tegata, tmp_path):
    return Broker(tegata, tmp_path)


def caller_arn(tegata, credentials):
    sts = boto3.session.Session().client(
        "sts", endpoint_url=tegata.url,
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"])
    return sts.get_caller_identity()["Arn"]


def test_a_password_becomes_credentials_of_the_profiles_role(broker, tegata):
    assert app_users(tegata, "add", "alice", password=PASSWORD).returncode == 0
    status, headers, body = broker.sign_in("alice")
    assert status == 200, body
    assert headers["Cache-Control"] == "no-store"
    assert body["Version"] == 1
    assert body["AccessKeyId"].startswith("ASIA")
    assert body["IdentityId"].startswith("us-east-1:")
    assert caller_arn(tegata, body).endswith(":assumed-role/shop_customer/alice")
    # The profile's session duration (1800 s), from now.
    expiration = time.mktime(time.strptime(body["Expiration"], "%Y-%m-%dT%H:%M:%SZ")) - time.timezone
    assert abs(expiration - time.time() - 1800) < 60
    # The same user is the same identity every time; the identity is the developer user's.
    again = broker.sign_in("alice")[2]
    assert again["IdentityId"] == body["IdentityId"]
    lookup = tegata.client("cognito-identity").lookup_developer_identity(
        IdentityPoolId=broker.pool_id, DeveloperUserIdentifier="alice")
    assert lookup["IdentityId"] == body["IdentityId"]


def test_the_enhanced_flow_lets_the_pool_choose_the_role(broker, tegata):
    app_users(tegata, "add", "bob", password=PASSWORD)
    status, _, body = broker.sign_in("bob", profile="shop-enhanced")
    assert status == 200, body
    # GetCredentialsForIdentity's session name.
    assert caller_arn(tegata, body).endswith(":assumed-role/shop_customer/CognitoIdentityCredentials")


def test_refusals_do_not_say_which_part_was_wrong(broker, tegata):
    app_users(tegata, "add", "alice", password=PASSWORD)
    app_users(tegata, "add", "mallory", password=PASSWORD)
    assert app_users(tegata, "disable", "mallory").returncode == 0
    answers = [
        broker.sign_in("alice", "not the password"),
        broker.sign_in("nobody", PASSWORD),
        broker.sign_in("mallory", PASSWORD),
        broker.sign_in("alice", "short"),
        broker.sign_in("alice", "x" * 5000),
    ]
    assert {status for status, _, _ in answers} == {401}
    assert len({json.dumps(body) for _, _, body in answers}) == 1
    assert answers[0][2] == {"error": "unauthorized",
                             "message": "The credentials presented were not accepted."}
    # The audit log knows why.
    reasons = [(e["user"], e["reason"]) for e in broker.audit() if e["outcome"] == "refused"]
    assert reasons == [("alice", "wrong_password"), ("nobody", "unknown_user"),
                       ("mallory", "user_disabled"), ("alice", "wrong_password"),
                       ("alice", "wrong_password")]
    # The metrics count them with the AWS requests.
    from prometheus_client.parser import text_string_to_metric_families
    with urllib.request.urlopen(tegata.url + "/metrics", timeout=10) as response:
        families = {f.name: f for f in text_string_to_metric_families(response.read().decode())}
    counted = {s.labels["outcome"]: s.value for s in families["tegata_requests"].samples
               if s.name == "tegata_requests_total" and s.labels.get("service") == "broker"}
    assert counted == {"401": 5}


def test_malformed_requests_get_400_and_unknown_profiles_404(broker):
    for body in [b"", b"not json", b"[]", b'{"username": "a"}', b'{"username": 1, "password": "x"}',
                 b'{"username": "\xff", "password": "12345678"}']:
        status, _, answer = broker.post("shop", body)
        assert status == 400, body
        assert answer["error"] == "invalid_request"
        assert "username" in answer["message"]
    # A value of the wrong type is not quoted back: it may be the password.
    status, _, answer = broker.post("shop", b'{"username": "alice", "password": 31415926535}')
    assert status == 400 and "31415926535" not in json.dumps(answer)
    status, _, answer = broker.post("shop", b"{" * 20_000)
    assert (status, answer["error"]) == (413, "request_too_large")
    # Each is a sign-in attempt on the audit log.
    assert [e["reason"] for e in broker.audit()] == ["malformed_request"] * 8
    status, _, answer = broker.sign_in("alice", profile="nope")
    assert (status, answer["error"]) == (404, "no_such_profile")


def test_twenty_wrong_passwords_lock_out_that_user_only_for_a_window(tegata, tmp_path):
    broker = Broker(tegata, tmp_path, extra_settings="user_window_seconds = 4")
    app_users(tegata, "add", "alice", password=PASSWORD)
    app_users(tegata, "add", "bob", password=PASSWORD)
    for attempt in range(20):
        status, _, _ = broker.sign_in("alice", f"wrong password {attempt}")
        assert status == 401, attempt
    locked_at = time.monotonic()
    status, headers, body = broker.sign_in("alice")
    assert (status, body["error"]) == (429, "throttled")
    assert 1 <= int(headers["Retry-After"]) <= 4
    # Meanwhile, another user signs in.
    assert broker.sign_in("bob")[0] == 200
    # After the window, alice may sign in again.
    time.sleep(max(0.0, 4.2 - (time.monotonic() - locked_at)))
    assert broker.sign_in("alice")[0] == 200
    outcomes = [(e["user"], e["outcome"], e.get("reason")) for e in broker.audit()
                if e["event"] == "sign_in" and e["outcome"] == "throttled"]
    assert outcomes == [("alice", "throttled", "user_locked_out")]


def test_app_users_are_managed_while_the_server_runs(broker, tegata):
    added = app_users(tegata, "add", "carol", password=PASSWORD)
    assert (added.returncode, added.stdout) == (0, "added application user carol\n")
    duplicate = app_users(tegata, "add", "carol", password=PASSWORD)
    assert duplicate.returncode == 1
    assert "the application user 'carol' already exists" in duplicate.stderr
    short = app_users(tegata, "add", "dave", password="short")
    assert short.returncode == 1 and "8 to 1024 bytes" in short.stderr
    assert broker.sign_in("carol")[0] == 200

    app_users(tegata, "disable", "carol")
    assert broker.sign_in("carol")[0] == 401
    app_users(tegata, "enable", "carol")
    assert broker.sign_in("carol")[0] == 200

    assert app_users(tegata, "passwd", "carol", password="a new passphrase").returncode == 0
    assert broker.sign_in("carol")[0] == 401
    assert broker.sign_in("carol", "a new passphrase")[0] == 200

    listing = app_users(tegata, "list").stdout.splitlines()
    assert listing[0].split() == ["USERNAME", "STATUS", "CREATED", "PASSWORD", "SET"]
    assert listing[1].split()[:2] == ["carol", "enabled"]

    assert app_users(tegata, "delete", "carol").returncode == 0
    assert broker.sign_in("carol", "a new passphrase")[0] == 401
    missing = app_users(tegata, "delete", "carol")
    assert missing.returncode == 1 and "there is no application user 'carol'" in missing.stderr


def test_an_outdated_hash_is_replaced_at_the_next_sign_in(broker, tegata, tmp_path):
    cheap = tmp_path / "cheap.toml"
    cheap.write_text("[broker]\npassword_memory_kib = 64\npassword_iterations = 1\n")
    assert app_users(tegata, "add", "erin", password=PASSWORD, config=cheap).returncode == 0

    def stored_hash():
        with sqlite3.connect(f"file:{tegata.data_dir / 'tegata.db'}?mode=ro", uri=True) as db:
            return db.execute("SELECT password_hash FROM app_users WHERE username = 'erin'").fetchone()[0]

    assert stored_hash().startswith("$argon2id$v=19$m=64,t=1,p=1$")
    assert broker.sign_in("erin", "wrong password")[0] == 401
    assert stored_hash().startswith("$argon2id$v=19$m=64,t=1,p=1$")  # only a right password
    assert broker.sign_in("erin")[0] == 200
    assert stored_hash().startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert broker.sign_in("erin")[0] == 200


def test_a_role_that_does_not_trust_the_pool_is_a_bad_gateway(broker, tegata):
    app_users(tegata, "add", "alice", password=PASSWORD)
    status, _, body = broker.sign_in("alice", profile="untrusted")
    assert (status, body["error"]) == (502, "upstream_refused")
    [failure] = [e for e in broker.audit() if e["outcome"] == "failed"]
    assert (failure["event"], failure["reason"]) == ("credentials_issued", "backend_refused")
    assert tegata.logged(lambda line: "AssumeRoleWithWebIdentity was refused: AccessDenied" in line), \
        "the server's log says why"


def test_a_sign_in_flood_is_refused_not_queued_and_other_requests_go_on(tegata, tmp_path):
    broker = Broker(tegata, tmp_path,
                    extra_settings="password_hashing_threads = 1\npassword_hashing_queue = 2\n"
                                   # Neither lockout may answer 429 here: a slow machine
                                   # hashes more guesses, and 20 wrong ones lock the user out.
                                   "address_failures = 1000\nuser_failures = 1000")
    app_users(tegata, "add", "alice", password=PASSWORD)
    admin = tegata.client("sts")
    with ThreadPoolExecutor(max_workers=24) as pool:
        flood = [pool.submit(broker.sign_in, "alice", f"guess {i}") for i in range(48)]
        # While the hashing thread is saturated, the AWS APIs answer.
        assert admin.get_caller_identity()["Arn"].endswith(":user/admin")
        statuses = [f.result()[0] for f in flood]
    assert set(statuses) <= {401, 429}
    assert 429 in statuses, "a full hashing queue refuses at once"
    assert statuses.count(401) >= 3
    busy = [e for e in broker.audit() if e.get("reason") == "hashing_busy"]
    assert len(busy) == statuses.count(429)


def test_credential_process_caches_until_near_expiry(broker, tegata, tmp_path):
    app_users(tegata, "add", "alice", password=PASSWORD)
    cache = tmp_path / "cache"
    base = [BINARY, "credentials", "--endpoint", tegata.url, "--profile", "shop", "--username", "alice",
            "--cache-dir", str(cache)]
    env = {k: v for k, v in os.environ.items() if not k.startswith("TEGATA_")}

    refused = subprocess.run(base, env={**env, "TEGATA_BROKER_PASSWORD": "wrong password"},
                             capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert refused.returncode == 1
    assert "did not accept the username and password of alice" in refused.stderr
    assert not cache.exists(), "a refusal is not cached"

    first = subprocess.run(base, env={**env, "TEGATA_BROKER_PASSWORD": PASSWORD},
                           capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert first.returncode == 0, first.stderr
    credentials = json.loads(first.stdout)
    assert caller_arn(tegata, credentials).endswith(":assumed-role/shop_customer/alice")
    [cached] = list(cache.iterdir())
    assert cached.stat().st_mode & 0o777 == 0o600
    # No password now: the cache answers, with the same credentials.
    second = subprocess.run(base, env=env, capture_output=True, text=True, timeout=60,
                            stdin=subprocess.DEVNULL)
    assert second.returncode == 0, second.stderr
    assert json.loads(second.stdout)["AccessKeyId"] == credentials["AccessKeyId"]
    # Credentials within five minutes of expiry are fetched again.
    stale = dict(credentials, Expiration=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 240)))
    cached.write_text(json.dumps(stale))
    third = subprocess.run(base, env={**env, "TEGATA_BROKER_PASSWORD": PASSWORD},
                           capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert json.loads(third.stdout)["AccessKeyId"] != credentials["AccessKeyId"]
    # --no-cache asks every time.
    nocache = subprocess.run([*base, "--no-cache"], env=env, capture_output=True, text=True,
                             timeout=60, stdin=subprocess.DEVNULL)
    assert nocache.returncode == 1


def test_no_secret_reaches_a_log_or_an_audit_line(broker, tegata, tmp_path):
    app_users(tegata, "add", "alice", password=PASSWORD)
    issued = [broker.sign_in("alice")[2] for _ in range(2)]
    broker.sign_in("alice", "a wrong password guess")
    broker.sign_in("alice", profile="untrusted")
    cli = subprocess.run(
        [BINARY, "credentials", "--endpoint", tegata.url, "--profile", "shop", "--username", "alice",
         "--cache-dir", str(tmp_path / "cache")],
        env={**os.environ, "TEGATA_BROKER_PASSWORD": "another wrong guess"},
        capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    tegata.stop()
    written = "".join(tegata.log) + broker.audit_log.read_text() + cli.stderr
    secrets = [PASSWORD, "a wrong password guess", "another wrong guess"]
    for credentials in issued:
        secrets += [credentials["SecretAccessKey"], credentials["SessionToken"]]
    for secret in secrets:
        assert secret not in written
    assert "alice" in broker.audit_log.read_text()


def test_the_aws_backend_speaks_to_another_server_over_http(tegata, tmp_path):
    """A broker whose profiles use the AWS backend, pointed with AWS_ENDPOINT_URL at the
    `tegata` server as if it were AWS, with a key that may only get developer tokens of one pool
    (what the Lambda function's role needs)."""
    from conftest import Tegata

    cognito, iam = tegata.client("cognito-identity"), tegata.client("iam")
    pool_id = cognito.create_identity_pool(
        IdentityPoolName="remote", AllowUnauthenticatedIdentities=False,
        DeveloperProviderName=PROVIDER)["IdentityPoolId"]
    other_pool = cognito.create_identity_pool(
        IdentityPoolName="not-mine", AllowUnauthenticatedIdentities=False,
        DeveloperProviderName=PROVIDER)["IdentityPoolId"]
    role_arn = iam.create_role(RoleName="remote_customer",
                               AssumeRolePolicyDocument=trust(pool_id))["Role"]["Arn"]
    cognito.set_identity_pool_roles(IdentityPoolId=pool_id, Roles={"authenticated": role_arn})
    account = role_arn.split(":")[4]
    iam.create_user(UserName="broker")
    iam.put_user_policy(UserName="broker", PolicyName="developer-tokens", PolicyDocument=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "cognito-identity:GetOpenIdTokenForDeveloperIdentity",
                       "Resource": f"arn:aws:cognito-identity:us-east-1:{account}:identitypool/{pool_id}"}]}))
    key = iam.create_access_key(UserName="broker")["AccessKey"]
    credentials_file = tmp_path / "broker-aws-credentials"
    credentials_file.write_text(f"[default]\naws_access_key_id = {key['AccessKeyId']}\n"
                                f"aws_secret_access_key = {key['SecretAccessKey']}\n")

    config = tmp_path / "front.toml"
    profile = f'authenticator = "password"\nbackend = "aws"\ndeveloper_provider = "{PROVIDER}"\n'
    config.write_text(f"""
[broker]
audit_log = "off"

[[broker.profiles]]
name = "basic"
identity_pool_id = "{pool_id}"
role_arn = "{role_arn}"
{profile}
[[broker.profiles]]
name = "enhanced"
flow = "enhanced"
identity_pool_id = "{pool_id}"
{profile}
[[broker.profiles]]
name = "not-mine"
identity_pool_id = "{other_pool}"
role_arn = "{role_arn}"
{profile}
""")
    environment = {"AWS_ENDPOINT_URL": tegata.url, "AWS_SHARED_CREDENTIALS_FILE": str(credentials_file)}
    front = Tegata(tmp_path / "front-data", ["--config", str(config)], env=environment)
    try:
        broker = Broker.__new__(Broker)
        broker.tegata = front
        assert app_users(front, "add", "alice", password=PASSWORD).returncode == 0

        status, _, body = broker.sign_in("alice", profile="basic")
        assert status == 200, body
        assert caller_arn(tegata, body).endswith(":assumed-role/remote_customer/alice")
        # The identity lives in the other server's pool.
        lookup = cognito.lookup_developer_identity(IdentityPoolId=pool_id, DeveloperUserIdentifier="alice")
        assert lookup["IdentityId"] == body["IdentityId"]

        status, _, body = broker.sign_in("alice", profile="enhanced")
        assert status == 200, body
        assert caller_arn(tegata, body).endswith(":assumed-role/remote_customer/CognitoIdentityCredentials")

        assert broker.sign_in("alice", "wrong password", profile="basic")[0] == 401

        # The key may not get tokens of another pool: the service's refusal, as a bad gateway.
        status, _, body = broker.sign_in("alice", profile="not-mine")
        assert (status, body["error"]) == (502, "upstream_refused")
        assert front.logged(lambda line: "GetOpenIdTokenForDeveloperIdentity was refused: "
                                         "AccessDeniedException" in line), "".join(front.log[-20:])
    finally:
        front.stop()

    # An identity service that cannot be reached.
    unreachable = Tegata(tmp_path / "front-data", ["--config", str(config)],
                         env={**environment, "AWS_ENDPOINT_URL": "http://127.0.0.1:9"})
    try:
        broker.tegata = unreachable
        status, _, body = broker.sign_in("alice", profile="basic")
        assert (status, body["error"]) == (502, "upstream_unavailable")
    finally:
        unreachable.stop()


class Webhook:
    """The application's token checker: accepts `good-token` as user `wh-user` (tag team=red,
    at most 900 s), is slow for `slow-token`, fails for `crash-token`, refuses the rest. It
    records what it was sent."""

    def __init__(self):
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
        import threading

        self.requests = []
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                hook.requests.append((self.path, body))
                token = body.get("token")
                if token == "slow-token":
                    time.sleep(3)
                    status, answer = 200, {"user": "late"}
                elif token == "crash-token":
                    status, answer = 500, {"reason": "bug"}
                elif token == "good-token":
                    status, answer = 200, {"user": "wh-user", "maxValiditySeconds": 900,
                                           "tags": {"team": "red"}}
                else:
                    status, answer = 403, {"reason": "unknown token"}
                data = json.dumps(answer).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except BrokenPipeError:
                    pass

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/check"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()


def bearer_broker(tegata, tmp_path, profiles):
    """A server whose profiles (TOML text, with {pool} and {role}) take bearer tokens; the role
    trusts the pool's tokens with tags, and lets sessions tagged team=red list roles."""
    cognito, iam = tegata.client("cognito-identity"), tegata.client("iam")
    pool_id = cognito.create_identity_pool(
        IdentityPoolName="bearer", AllowUnauthenticatedIdentities=False,
        DeveloperProviderName=PROVIDER)["IdentityPoolId"]
    policy = json.loads(trust(pool_id))
    policy["Statement"][0]["Action"] = ["sts:AssumeRoleWithWebIdentity", "sts:TagSession"]
    role_arn = iam.create_role(RoleName="bearer_customer",
                               AssumeRolePolicyDocument=json.dumps(policy))["Role"]["Arn"]
    iam.put_role_policy(RoleName="bearer_customer", PolicyName="red-team-lists-roles",
                        PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [{
                            "Effect": "Allow", "Action": "iam:ListRoles", "Resource": "*",
                            "Condition": {"StringEquals": {"aws:PrincipalTag/team": "red"}}}]}))
    config = tmp_path / "bearer.toml"
    config.write_text(f'[broker]\naudit_log = "{tmp_path / "audit.log"}"\n'
                      + profiles.format(pool=pool_id, role=role_arn))
    tegata.restart(["--config", str(config)])
    broker = Broker.__new__(Broker)
    broker.tegata, broker.audit_log = tegata, tmp_path / "audit.log"
    return broker


def bearer(broker, profile, token):
    headers = {} if token is None else {"Authorization": f"Bearer {token}"}
    return broker.post(profile, b"", headers=headers)


def test_the_webhook_authenticator(tegata, tmp_path):
    hook = Webhook()
    try:
        broker = bearer_broker(tegata, tmp_path, f"""
[[broker.profiles]]
name = "hook"
authenticator = "webhook"
webhook_url = "{hook.url}"
webhook_timeout_seconds = 1
identity_pool_id = "{{pool}}"
developer_provider = "{PROVIDER}"
role_arn = "{{role}}"

[[broker.profiles]]
name = "hook-down"
authenticator = "webhook"
webhook_url = "http://127.0.0.1:9/check"
identity_pool_id = "{{pool}}"
developer_provider = "{PROVIDER}"
role_arn = "{{role}}"
""")
        status, _, body = bearer(broker, "hook", "good-token")
        assert status == 200, body
        credentials = body
        assert caller_arn(tegata, credentials).endswith(":assumed-role/bearer_customer/wh-user")
        # The webhook's maxValiditySeconds shortens the profile's hour.
        expiration = time.mktime(time.strptime(body["Expiration"], "%Y-%m-%dT%H:%M:%SZ")) - time.timezone
        assert abs(expiration - time.time() - 900) < 60
        # Its tags became the session's principal tags, which the role's policy tests.
        iam = boto3.session.Session().client(
            "iam", endpoint_url=tegata.url, aws_access_key_id=credentials["AccessKeyId"],
            aws_secret_access_key=credentials["SecretAccessKey"],
            aws_session_token=credentials["SessionToken"])
        assert any(r["RoleName"] == "bearer_customer" for r in iam.list_roles()["Roles"])
        # The token went in the body, not the URL.
        assert hook.requests[0] == ("/check", {"token": "good-token", "profile": "hook"})

        status, headers, body = bearer(broker, "hook", "forged-token")
        assert (status, body["error"]) == (401, "unauthorized")
        assert headers["WWW-Authenticate"] == 'Bearer realm="tegata"'
        status, headers, body = bearer(broker, "hook", None)
        assert status == 401 and headers["WWW-Authenticate"] == 'Bearer realm="tegata"'

        started = time.monotonic()
        status, _, body = bearer(broker, "hook", "slow-token")
        assert (status, body["error"]) == (504, "authenticator_timeout")
        assert time.monotonic() - started < 2.5, "answered within the webhook's timeout"
        status, _, body = bearer(broker, "hook", "crash-token")
        assert (status, body["error"]) == (502, "authenticator_unavailable")
        status, _, body = bearer(broker, "hook-down", "good-token")
        assert (status, body["error"]) == (502, "authenticator_unavailable")

        reasons = [e.get("reason") for e in broker.audit() if e["event"] == "sign_in"]
        assert reasons == [None, "webhook_refused", "no_token", "authenticator_timeout",
                           "authenticator_unavailable", "authenticator_unavailable"]
        tegata.stop()
        written = "".join(tegata.log) + broker.audit_log.read_text()
        for secret in ["good-token", "forged-token", credentials["SessionToken"],
                       credentials["SecretAccessKey"]]:
            assert secret not in written
    finally:
        hook.close()


def test_the_jwt_authenticator(tegata, tmp_path):
    from oidc_issuer import Issuer

    issuer = Issuer()
    try:
        broker = bearer_broker(tegata, tmp_path, f"""
[[broker.profiles]]
name = "app-sso"
authenticator = "jwt"
jwt_issuer = "{issuer.url}"
jwt_audiences = ["app-client"]
jwt_user_claim = "email"
identity_pool_id = "{{pool}}"
developer_provider = "{PROVIDER}"
role_arn = "{{role}}"
""")
        status, _, body = bearer(broker, "app-sso", issuer.token(sub="u-1", email="jo@example.com"))
        assert status == 200, body
        assert caller_arn(tegata, body).endswith(":assumed-role/bearer_customer/jo@example.com")

        refusals = [
            issuer.token(sub="u-1", email="jo@example.com", aud="another-client"),
            issuer.token(sub="u-1", email="jo@example.com", lifetime=-3600),
            issuer.token(sub="u-1"),  # no email claim
            issuer.token(sub="u-1", email="jo@example.com", iss="https://elsewhere.example"),
            "not.a.jwt",
        ]
        for token in refusals:
            status, _, body = bearer(broker, "app-sso", token)
            assert (status, body["error"]) == (401, "unauthorized"), token
        reasons = [e.get("reason") for e in broker.audit() if e["outcome"] == "refused"]
        assert reasons == ["wrong_audience", "expired_token", "missing_user_claim", "invalid_token",
                           "invalid_token"]

        # Tokens naming unknown keys refresh the issuer's keys at most once a minute.
        fetched = issuer.fetches["jwks"]
        for _ in range(10):
            assert bearer(broker, "app-sso", issuer.random_kid_token())[0] == 401
        assert issuer.fetches["jwks"] - fetched <= 1
    finally:
        issuer.close()
    # The issuer gone, a server that has not cached its keys cannot check its tokens.
    tegata.restart()
    status, _, body = bearer(broker, "app-sso", issuer.token(sub="u-1", email="jo@example.com"))
    assert (status, body["error"]) == (502, "authenticator_unavailable")

