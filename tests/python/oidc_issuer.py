"""A second OpenID Connect issuer on loopback, for the federation tests: it serves a discovery
document and a JWKS, counts the fetches, and signs ID tokens with its own RSA key."""

import json
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm


class Issuer:
    def __init__(self):
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.kid = "issuer-key-1"
        self.fetches = {"discovery": 0, "jwks": 0}
        issuer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                if self.path == "/.well-known/openid-configuration":
                    issuer.fetches["discovery"] += 1
                    body = {"issuer": issuer.url, "jwks_uri": issuer.url + "/jwks",
                            "id_token_signing_alg_values_supported": ["RS256"]}
                elif self.path == "/jwks":
                    issuer.fetches["jwks"] += 1
                    jwk = json.loads(RSAAlgorithm.to_jwk(issuer.key.public_key()))
                    jwk.update(kid=issuer.kid, alg="RS256", use="sig")
                    body = {"keys": [jwk]}
                else:
                    self.send_error(404)
                    return
                data = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.host = self.url.removeprefix("http://")
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def token(self, sub="user-1", aud="app-client", kid=None, lifetime=600, iss=None, **claims):
        now = int(time.time())
        payload = {"iss": iss or self.url, "sub": sub, "aud": aud, "iat": now, "exp": now + lifetime, **claims}
        return jwt.encode(payload, self.key, algorithm="RS256", headers={"kid": kid or self.kid})

    def random_kid_token(self):
        return self.token(kid=str(uuid.uuid4()))

    def close(self):
        self.server.shutdown()
        self.server.server_close()
