"""tegata serving https itself (`--tls-cert`, `--tls-key`): clients verify its tokens over https
with the configured certificate, everything AWS requires of an OpenID Connect provider that can
be checked offline holds, and a renewed certificate is taken on SIGHUP."""

import datetime
import http.client
import ipaddress
import json
import signal
import ssl
import subprocess
import urllib.error
import urllib.request

import boto3
import jwt
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from conftest import Tegata
from test_operations import BINARY

PROVIDER = "login.mycompany.myapp"


def authority(name):
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    return key, cert


def server_certificate(directory, ca):
    """A certificate for 127.0.0.1 and localhost signed by `ca`, written as cert.pem and key.pem."""
    ca_key, ca_cert = ca
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
            .issuer_name(ca_cert.subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"),
                                                        x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .sign(ca_key, hashes.SHA256()))
    (directory / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (directory / "key.pem").write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                                          serialization.PrivateFormat.PKCS8,
                                                          serialization.NoEncryption()))


def trusting(directory, ca, name):
    path = directory / name
    path.write_bytes(ca[1].public_bytes(serialization.Encoding.PEM))
    return path, ssl.create_default_context(cafile=str(path))


def fetch(url, context):
    with urllib.request.urlopen(url, context=context, timeout=10) as response:
        return json.load(response)


@pytest.fixture
def aws_env(tmp_path, monkeypatch):
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
                 "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)
    return monkeypatch


def test_tokens_verify_over_https_with_the_configured_certificate(tmp_path, aws_env):
    first_ca = authority("first test CA")
    server_certificate(tmp_path, first_ca)
    ca_file, context = trusting(tmp_path, first_ca, "ca.pem")
    server = Tegata(tmp_path / "data", extra_args=["--tls-cert", str(tmp_path / "cert.pem"),
                                                   "--tls-key", str(tmp_path / "key.pem")])
    try:
        aws_env.setenv("AWS_SHARED_CREDENTIALS_FILE", str(server.credentials_file))
        assert server.url.startswith("https://127.0.0.1:")

        # What IAM asks of an OpenID Connect provider, as far as it can be checked offline: an
        # https issuer equal to the discovery document's, a reachable jwks_uri under it, RSA
        # signing keys with kid, alg and use, and tokens whose claims name that issuer.
        discovery = fetch(server.url + "/.well-known/openid-configuration", context)
        assert discovery["issuer"] == server.url
        assert discovery["jwks_uri"] == server.url + "/.well-known/jwks_uri"
        assert "RS512" in discovery["id_token_signing_alg_values_supported"]
        keys = fetch(discovery["jwks_uri"], context)["keys"]
        assert keys and all(k["kty"] == "RSA" and k["alg"] == "RS512" and k["use"] == "sig" and k["kid"]
                            and k["n"] and k["e"] for k in keys), keys

        cognito = boto3.client("cognito-identity", endpoint_url=server.url, verify=str(ca_file))
        pool_id = cognito.create_identity_pool(IdentityPoolName="https", AllowUnauthenticatedIdentities=False,
                                               DeveloperProviderName=PROVIDER)["IdentityPoolId"]
        issued = cognito.get_open_id_token_for_developer_identity(IdentityPoolId=pool_id,
                                                                  Logins={PROVIDER: "alice"})
        signing_key = jwt.PyJWKClient(discovery["jwks_uri"], ssl_context=context).get_signing_key_from_jwt(
            issued["Token"])
        claims = jwt.decode(issued["Token"], signing_key.key, algorithms=["RS512"], audience=pool_id,
                            issuer=discovery["issuer"])
        assert claims["sub"] == issued["IdentityId"] and claims["exp"] > claims["iat"]

        # A client that does not trust the certificate refuses the server; plain http gets nothing.
        with pytest.raises(urllib.error.URLError) as untrusted:
            fetch(server.url + "/.well-known/openid-configuration", ssl.create_default_context())
        assert isinstance(untrusted.value.reason, ssl.SSLCertVerificationError)
        with pytest.raises((urllib.error.URLError, ConnectionError, http.client.HTTPException)):
            fetch(server.url.replace("https://", "http://") + "/healthz", None)

        # A renewed certificate (here from another authority) is served after SIGHUP.
        second_ca = authority("second test CA")
        server_certificate(tmp_path, second_ca)
        _, second_context = trusting(tmp_path, second_ca, "second-ca.pem")
        server.process.send_signal(signal.SIGHUP)
        assert server.logged(lambda line: "SIGHUP: reloaded the TLS certificate" in line)
        assert fetch(server.url + "/.well-known/jwks_uri", second_context)["keys"]
        with pytest.raises(urllib.error.URLError):
            fetch(server.url + "/.well-known/jwks_uri", context)
        # A broken file on the next SIGHUP keeps the certificate in use.
        (tmp_path / "key.pem").write_text("not a key")
        server.process.send_signal(signal.SIGHUP)
        assert server.logged(lambda line: "the TLS certificate was not reloaded" in line)
        assert fetch(server.url + "/.well-known/jwks_uri", second_context)["keys"]
        assert "not a key" not in "".join(server.log)
    finally:
        server.stop()


def test_an_unusable_certificate_is_refused_before_anything_is_created(tmp_path):
    (tmp_path / "cert.pem").write_text("-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n")
    (tmp_path / "key.pem").write_text("")
    data = tmp_path / "data"
    done = subprocess.run([BINARY, "serve", "--listen", "127.0.0.1:0", "--data-dir", str(data),
                           "--tls-cert", str(tmp_path / "cert.pem"), "--tls-key", str(tmp_path / "key.pem")],
                          capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL)
    assert done.returncode != 0
    assert f"reading the TLS certificate chain {tmp_path / 'cert.pem'}" in done.stderr, done.stderr
    assert not data.exists()
    alone = subprocess.run([BINARY, "serve", "--tls-cert", str(tmp_path / "cert.pem")], capture_output=True,
                           text=True, timeout=30, stdin=subprocess.DEVNULL)
    assert alone.returncode != 0 and "--tls-cert and --tls-key (tls_cert, tls_key) go together" in alone.stderr
