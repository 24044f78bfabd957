"""Cognito Identity from boto3, the way users call it, plus an independent token verifier."""

import json
import urllib.request

import botocore
import jwt
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

PROVIDER = "login.mycompany.myapp"


def create_seed_pool(client):
    return client.create_identity_pool(
        IdentityPoolName="seed",
        AllowUnauthenticatedIdentities=False,
        AllowClassicFlow=True,
        DeveloperProviderName=PROVIDER,
    )["IdentityPoolId"]


def verify_with_pyjwt(url, token, pool_id):
    with urllib.request.urlopen(url + "/.well-known/openid-configuration") as response:
        discovery = json.load(response)
    assert discovery["issuer"] == url
    signing_key = jwt.PyJWKClient(discovery["jwks_uri"]).get_signing_key_from_jwt(token)
    return jwt.decode(
        token,
        signing_key.key,
        algorithms=["RS512"],
        audience=pool_id,
        issuer=discovery["issuer"],
    )


def test_developer_token_verifies_with_pyjwt_through_discovery(tegata):
    client = tegata.client("cognito-identity")
    pool_id = create_seed_pool(client)
    response = client.get_open_id_token_for_developer_identity(
        IdentityPoolId=pool_id, Logins={PROVIDER: "test_user"}
    )
    token = response["Token"]
    assert jwt.get_unverified_header(token)["typ"] == "JWS"
    claims = verify_with_pyjwt(tegata.url, token, pool_id)
    assert claims["sub"] == response["IdentityId"]
    assert claims["aud"] == pool_id
    assert claims["amr"] == ["authenticated", PROVIDER, f"{PROVIDER}:{pool_id}:test_user"]
    assert claims["exp"] - claims["iat"] == 900
    # Real apps read the user back out of the token like this.
    assert claims["amr"][2].split(":")[3] == "test_user"

    with pytest.raises(jwt.InvalidAudienceError):
        signing_key = jwt.PyJWKClient(tegata.url + "/.well-known/jwks_uri").get_signing_key_from_jwt(token)
        jwt.decode(token, signing_key.key, algorithms=["RS512"], audience="us-east-1:00000000-0000-4000-8000-000000000000")


def test_same_identity_on_every_call_and_after_restart(tegata):
    client = tegata.client("cognito-identity")
    pool_id = create_seed_pool(client)
    first = client.get_open_id_token_for_developer_identity(
        IdentityPoolId=pool_id, Logins={PROVIDER: "test_user"}
    )["IdentityId"]
    second = client.get_open_id_token_for_developer_identity(
        IdentityPoolId=pool_id, Logins={PROVIDER: "test_user"}
    )["IdentityId"]
    assert first == second

    tegata.restart()
    client = tegata.client("cognito-identity")
    pool = client.describe_identity_pool(IdentityPoolId=pool_id)
    assert pool["IdentityPoolName"] == "seed"
    assert pool["DeveloperProviderName"] == PROVIDER
    response = client.get_open_id_token_for_developer_identity(
        IdentityPoolId=pool_id, Logins={PROVIDER: "test_user"}
    )
    assert response["IdentityId"] == first
    verify_with_pyjwt(tegata.url, response["Token"], pool_id)
    identities = client.list_identities(IdentityPoolId=pool_id, MaxResults=60)["Identities"]
    assert [i["IdentityId"] for i in identities] == [first]
    assert identities[0]["Logins"] == [PROVIDER]


def test_paginator_walks_all_pools(tegata):
    client = tegata.client("cognito-identity")
    created = {create_seed_pool(client) for _ in range(5)}
    seen = set()
    for page in client.get_paginator("list_identity_pools").paginate(
        MaxResults=2, PaginationConfig={"PageSize": 2}
    ):
        seen.update(p["IdentityPoolId"] for p in page["IdentityPools"])
    assert seen == created


def error_code(excinfo):
    return excinfo.value.response["Error"]["Code"]


def test_refused_requests_have_aws_codes_and_create_nothing(tegata):
    client = tegata.client("cognito-identity")
    pool_id = create_seed_pool(client)

    unsigned = tegata.client("cognito-identity", config=Config(signature_version=botocore.UNSIGNED))
    with pytest.raises(ClientError) as excinfo:
        unsigned.get_open_id_token_for_developer_identity(
            IdentityPoolId=pool_id, Logins={PROVIDER: "nobody"}
        )
    assert error_code(excinfo) == "MissingAuthenticationTokenException"

    key = client._request_signer._credentials.access_key
    wrong = tegata.client(
        "cognito-identity",
        aws_access_key_id=key,
        aws_secret_access_key="x" * 40,
    )
    with pytest.raises(ClientError) as excinfo:
        wrong.get_open_id_token_for_developer_identity(
            IdentityPoolId=pool_id, Logins={PROVIDER: "nobody"}
        )
    assert error_code(excinfo) == "InvalidSignatureException"

    with pytest.raises(ClientError) as excinfo:
        client.create_identity_pool(IdentityPoolName="bad/name", AllowUnauthenticatedIdentities=False)
    assert error_code(excinfo) == "ValidationException"
    assert "identityPoolName" in excinfo.value.response["Error"]["Message"]

    with pytest.raises(ClientError) as excinfo:
        client.get_open_id_token_for_developer_identity(
            IdentityPoolId=pool_id, Logins={"login.someone.else": "nobody"}
        )
    assert error_code(excinfo) == "NotAuthorizedException"

    with pytest.raises(ClientError) as excinfo:
        client.lookup_developer_identity(IdentityPoolId=pool_id, DeveloperUserIdentifier="nobody")
    assert error_code(excinfo) == "ResourceNotFoundException"
    assert client.list_identities(IdentityPoolId=pool_id, MaxResults=60)["Identities"] == []

    secret = client._request_signer._credentials.secret_key
    assert secret not in "".join(tegata.log)
