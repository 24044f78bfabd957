"""The enhanced flow (GetId, GetCredentialsForIdentity), guests, the basic flow's GetOpenIdToken
and the roles of a pool, from boto3 as browsers' and phones' SDKs call them: the public
operations unsigned."""

import datetime
import json
import os
import subprocess
import time

import botocore
import jwt
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from conftest import ROOT

PROVIDER = "login.mycompany.myapp"


def tegata_binary():
    return os.environ.get("TEGATA_BIN", str(ROOT / "target" / "debug" / "tegata"))


def trust_policy(pool_id, amr):
    return {
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"Federated": "cognito-identity.amazonaws.com"},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {
                "StringEquals": {"cognito-identity.amazonaws.com:aud": pool_id},
                "ForAnyValue:StringLike": {"cognito-identity.amazonaws.com:amr": amr},
            },
        }],
    }


def create_role(tegata, name, trust):
    return tegata.client("iam").create_role(
        RoleName=name, AssumeRolePolicyDocument=json.dumps(trust)
    )["Role"]["Arn"]


def pool_with_roles(tegata, guests=True, **extra):
    """A pool whose authenticated and unauthenticated roles trust it, each for its own amr."""
    client = tegata.client("cognito-identity")
    pool_id = client.create_identity_pool(
        IdentityPoolName="app",
        AllowUnauthenticatedIdentities=guests,
        DeveloperProviderName=PROVIDER,
        **extra,
    )["IdentityPoolId"]
    suffix = pool_id.split(":")[1][:8]
    auth = create_role(tegata, f"auth-{suffix}", trust_policy(pool_id, "authenticated"))
    unauth = create_role(tegata, f"unauth-{suffix}", trust_policy(pool_id, "unauthenticated"))
    client.set_identity_pool_roles(
        IdentityPoolId=pool_id, Roles={"authenticated": auth, "unauthenticated": unauth}
    )
    return pool_id, auth, unauth


def unsigned(tegata):
    return tegata.client("cognito-identity", config=Config(signature_version=botocore.UNSIGNED))


def error(excinfo):
    return excinfo.value.response["Error"]["Code"], excinfo.value.response["Error"]["Message"]


def caller(tegata, credentials):
    return tegata.client(
        "sts",
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretKey"],
        aws_session_token=credentials["SessionToken"],
    ).get_caller_identity()


def test_developer_token_then_credentials_for_identity(tegata):
    pool_id, auth, _ = pool_with_roles(tegata, guests=False)
    issued = tegata.client("cognito-identity").get_open_id_token_for_developer_identity(
        IdentityPoolId=pool_id, Logins={PROVIDER: "alice"}
    )
    response = unsigned(tegata).get_credentials_for_identity(
        IdentityId=issued["IdentityId"],
        Logins={"cognito-identity.amazonaws.com": issued["Token"]},
    )
    assert response["IdentityId"] == issued["IdentityId"]
    credentials = response["Credentials"]
    assert set(credentials) == {"AccessKeyId", "SecretKey", "SessionToken", "Expiration"}
    # Expiration travels as epoch seconds; boto3 turns it into a datetime an hour away.
    left = credentials["Expiration"] - datetime.datetime.now(datetime.timezone.utc)
    assert datetime.timedelta(minutes=55) < left <= datetime.timedelta(minutes=61)
    identity = caller(tegata, credentials)
    role_name = auth.rsplit("/", 1)[1]
    assert identity["Arn"].endswith(f":assumed-role/{role_name}/CognitoIdentityCredentials")
    # The secrets the flow handed out never reach the log.
    log = "".join(tegata.log)
    for secret in (issued["Token"], credentials["SecretKey"], credentials["SessionToken"]):
        assert secret not in log


def test_guests_get_the_unauthenticated_role(tegata):
    pool_id, _, unauth = pool_with_roles(tegata, guests=True)
    client = unsigned(tegata)
    first = client.get_id(IdentityPoolId=pool_id)["IdentityId"]
    second = client.get_id(IdentityPoolId=pool_id)["IdentityId"]
    assert first != second, "every GetId without logins is a new identity"
    assert first.startswith("us-east-1:")
    credentials = client.get_credentials_for_identity(IdentityId=first)["Credentials"]
    role_name = unauth.rsplit("/", 1)[1]
    assert caller(tegata, credentials)["Arn"].endswith(
        f":assumed-role/{role_name}/CognitoIdentityCredentials"
    )
    described = tegata.client("cognito-identity").describe_identity(IdentityId=first)
    assert "Logins" not in described


def test_guests_refused_when_the_pool_does_not_allow_them(tegata):
    pool_id, _, _ = pool_with_roles(tegata, guests=False)
    with pytest.raises(ClientError) as excinfo:
        unsigned(tegata).get_id(IdentityPoolId=pool_id)
    assert error(excinfo) == (
        "NotAuthorizedException",
        "Unauthenticated access is not supported for this identity pool.",
    )
    assert tegata.client("cognito-identity").list_identities(
        IdentityPoolId=pool_id, MaxResults=60
    )["Identities"] == []


def test_a_guest_of_a_pool_that_stops_allowing_guests_is_refused(tegata):
    pool_id, _, _ = pool_with_roles(tegata, guests=True)
    guest = unsigned(tegata).get_id(IdentityPoolId=pool_id)["IdentityId"]
    tegata.client("cognito-identity").update_identity_pool(
        IdentityPoolId=pool_id, IdentityPoolName="app", AllowUnauthenticatedIdentities=False,
        DeveloperProviderName=PROVIDER,
    )
    with pytest.raises(ClientError) as excinfo:
        unsigned(tegata).get_credentials_for_identity(IdentityId=guest)
    assert error(excinfo)[0] == "NotAuthorizedException"


def test_no_role_or_an_untrusting_role_is_a_pool_configuration_error(tegata):
    client = tegata.client("cognito-identity")
    pool_id = client.create_identity_pool(
        IdentityPoolName="bare", AllowUnauthenticatedIdentities=True
    )["IdentityPoolId"]
    guest = unsigned(tegata).get_id(IdentityPoolId=pool_id)["IdentityId"]
    expected = (
        "InvalidIdentityPoolConfigurationException",
        "Invalid identity pool configuration. Check assigned IAM roles for this pool.",
    )
    with pytest.raises(ClientError) as excinfo:
        unsigned(tegata).get_credentials_for_identity(IdentityId=guest)
    assert error(excinfo) == expected

    # A role that trusts another pool's tokens, and one that trusts only authenticated users.
    other = create_role(tegata, "other-pool", trust_policy("us-east-1:00000000-0000-4000-8000-000000000000",
                                                          "unauthenticated"))
    members_only = create_role(tegata, "members-only", trust_policy(pool_id, "authenticated"))
    for role in (other, members_only, "arn:aws:iam::000000000000:role/nowhere"):
        client.set_identity_pool_roles(IdentityPoolId=pool_id, Roles={"unauthenticated": role})
        with pytest.raises(ClientError) as excinfo:
            unsigned(tegata).get_credentials_for_identity(IdentityId=guest)
        assert error(excinfo) == expected, role


def test_logins_must_prove_the_identity(tegata):
    pool_id, _, _ = pool_with_roles(tegata, guests=True)
    signed = tegata.client("cognito-identity")
    alice = signed.get_open_id_token_for_developer_identity(
        IdentityPoolId=pool_id, Logins={PROVIDER: "alice"}
    )
    bob = signed.get_open_id_token_for_developer_identity(
        IdentityPoolId=pool_id, Logins={PROVIDER: "bob"}
    )
    client = unsigned(tegata)
    cases = [
        # An authenticated identity asked for as a guest.
        ({}, "Logins don't match. Please include at least one valid login for this identity or identity pool."),
        # Bob's token for Alice's identity.
        ({"cognito-identity.amazonaws.com": bob["Token"]},
         "Logins don't match. Please include at least one valid login for this identity or identity pool."),
        ({"cognito-identity.amazonaws.com": alice["Token"][:-6] + "AAAAAA"},
         "Invalid login token. Couldn't verify signed token."),
        ({"accounts.google.com": "x"}, "Token is not from a supported provider of this identity pool."),
    ]
    for logins, message in cases:
        with pytest.raises(ClientError) as excinfo:
            client.get_credentials_for_identity(IdentityId=alice["IdentityId"], Logins=logins)
        assert error(excinfo) == ("NotAuthorizedException", message), logins

    with pytest.raises(ClientError) as excinfo:
        client.get_id(IdentityPoolId=pool_id, Logins={"cognito-identity.amazonaws.com": alice["Token"]})
    assert error(excinfo) == ("NotAuthorizedException", "Invalid login token. Can't pass in a Cognito token.")

    with pytest.raises(ClientError) as excinfo:
        client.get_credentials_for_identity(IdentityId="us-east-1:00000000-0000-4000-8000-000000000000")
    assert error(excinfo) == (
        "ResourceNotFoundException", "Identity 'us-east-1:00000000-0000-4000-8000-000000000000' not found."
    )


def test_get_open_id_token_for_guests_and_the_classic_flow_switch(tegata):
    pool_id, _, unauth = pool_with_roles(tegata, guests=True, AllowClassicFlow=True)
    client = unsigned(tegata)
    guest = client.get_id(IdentityPoolId=pool_id)["IdentityId"]
    response = client.get_open_id_token(IdentityId=guest)
    assert response["IdentityId"] == guest
    token = response["Token"]
    signing_key = jwt.PyJWKClient(tegata.url + "/.well-known/jwks_uri").get_signing_key_from_jwt(token)
    claims = jwt.decode(token, signing_key.key, algorithms=["RS512"], audience=pool_id, issuer=tegata.url)
    assert claims["sub"] == guest
    assert claims["amr"] == ["unauthenticated"]
    assert claims["exp"] - claims["iat"] == 600
    # The basic flow: the client exchanges the token itself.
    sts = tegata.client("sts", config=Config(signature_version=botocore.UNSIGNED))
    assumed = sts.assume_role_with_web_identity(RoleArn=unauth, RoleSessionName="guest", WebIdentityToken=token)
    assert assumed["AssumedRoleUser"]["Arn"].endswith("/guest")

    # An authenticated identity's token, renewed for ten minutes with the same amr.
    issued = tegata.client("cognito-identity").get_open_id_token_for_developer_identity(
        IdentityPoolId=pool_id, Logins={PROVIDER: "carol"}
    )
    renewed = client.get_open_id_token(
        IdentityId=issued["IdentityId"], Logins={"cognito-identity.amazonaws.com": issued["Token"]}
    )["Token"]
    renewed_claims = jwt.decode(renewed, signing_key.key, algorithms=["RS512"], audience=pool_id)
    assert renewed_claims["amr"] == ["authenticated", PROVIDER, f"{PROVIDER}:{pool_id}:carol"]

    signed = tegata.client("cognito-identity")
    signed.update_identity_pool(
        IdentityPoolId=pool_id, IdentityPoolName="app", AllowUnauthenticatedIdentities=True,
        AllowClassicFlow=False, DeveloperProviderName=PROVIDER,
    )
    with pytest.raises(ClientError) as excinfo:
        client.get_open_id_token(IdentityId=guest)
    assert error(excinfo) == (
        "InvalidParameterException", "Basic (classic) flow is not enabled, please use enhanced flow."
    )
    # The enhanced flow still works.
    assert client.get_credentials_for_identity(IdentityId=guest)["Credentials"]["AccessKeyId"]


def test_identity_pool_roles_round_trip_and_validation(tegata):
    client = tegata.client("cognito-identity")
    oidc = "arn:aws:iam::000000000000:oidc-provider/issuer.example.com"
    pool_id = client.create_identity_pool(
        IdentityPoolName="mapped", AllowUnauthenticatedIdentities=False, AllowClassicFlow=True,
        SupportedLoginProviders={"accounts.google.com": "client-id"},
        OpenIdConnectProviderARNs=[oidc],
    )["IdentityPoolId"]
    roles = {
        "authenticated": "arn:aws:iam::000000000000:role/auth",
        "unauthenticated": "arn:aws:iam::000000000000:role/unauth",
    }
    mappings = {
        "issuer.example.com": {
            "Type": "Rules",
            "AmbiguousRoleResolution": "Deny",
            "RulesConfiguration": {"Rules": [
                {"Claim": "team", "MatchType": "StartsWith", "Value": "ops", "RoleARN": "arn:aws:iam::000000000000:role/ops"},
                {"Claim": "email", "MatchType": "NotEqual", "Value": "x@example.com", "RoleARN": "arn:aws:iam::000000000000:role/other"},
            ]},
        },
        "accounts.google.com": {"Type": "Token", "AmbiguousRoleResolution": "AuthenticatedRole"},
    }
    assert client.get_identity_pool_roles(IdentityPoolId=pool_id)["Roles"] == {}
    client.set_identity_pool_roles(IdentityPoolId=pool_id, Roles=roles, RoleMappings=mappings)
    got = client.get_identity_pool_roles(IdentityPoolId=pool_id)
    assert got["IdentityPoolId"] == pool_id
    assert got["Roles"] == roles
    assert got["RoleMappings"] == mappings

    # A pool with role mappings refuses the basic flow, even with AllowClassicFlow.
    client.update_identity_pool(
        IdentityPoolId=pool_id, IdentityPoolName="mapped", AllowUnauthenticatedIdentities=True,
        AllowClassicFlow=True, SupportedLoginProviders={"accounts.google.com": "client-id"},
        OpenIdConnectProviderARNs=[oidc],
    )
    assert client.get_identity_pool_roles(IdentityPoolId=pool_id)["Roles"] == roles, \
        "UpdateIdentityPool leaves the roles alone"
    guest = unsigned(tegata).get_id(IdentityPoolId=pool_id)["IdentityId"]
    with pytest.raises(ClientError) as excinfo:
        unsigned(tegata).get_open_id_token(IdentityId=guest)
    assert error(excinfo) == (
        "InvalidParameterException",
        "Basic (classic) flow is not supported with RoleMappings, please use enhanced flow.",
    )

    unchecked = tegata.client("cognito-identity", config=Config(parameter_validation=False))
    refusals = [
        (dict(Roles={"admin": roles["authenticated"]}), "ValidationException", "roles"),
        (dict(Roles=roles, RoleMappings={"www.amazon.com": mappings["accounts.google.com"]}),
         "InvalidParameterException",
         "www.amazon.com is not a valid RoleMapping ProviderName or is not a configured provider."),
        (dict(Roles=roles, RoleMappings={"accounts.google.com": {"Type": "Magic", "AmbiguousRoleResolution": "Deny"}}),
         "ValidationException", "Member must satisfy enum value set: [Token, Rules]"),
        (dict(Roles=roles, RoleMappings={"accounts.google.com": {"Type": "Rules", "AmbiguousRoleResolution": "Deny"}}),
         "InvalidParameterException", "RulesConfiguration"),
        (dict(Roles=roles, RoleMappings={"accounts.google.com": {
            "Type": "Rules", "AmbiguousRoleResolution": "Deny",
            "RulesConfiguration": {"Rules": [{"Claim": "a", "MatchType": "Like", "Value": "b", "RoleARN": roles["authenticated"]}]}}}),
         "ValidationException", "Member must satisfy enum value set: [Equals, Contains, StartsWith, NotEqual]"),
    ]
    for params, code, message in refusals:
        with pytest.raises(ClientError) as excinfo:
            unchecked.set_identity_pool_roles(IdentityPoolId=pool_id, **params)
        assert error(excinfo)[0] == code, params
        assert message in error(excinfo)[1], params
    assert client.get_identity_pool_roles(IdentityPoolId=pool_id)["RoleMappings"] == mappings, \
        "a refused SetIdentityPoolRoles changes nothing"


def test_developer_user_identifiers_longer_than_the_model_allows_are_refused(tegata):
    client = tegata.client("cognito-identity")
    pool_id, _, _ = pool_with_roles(tegata)
    with pytest.raises(ClientError) as excinfo:
        client.get_open_id_token_for_developer_identity(IdentityPoolId=pool_id, Logins={PROVIDER: "u" * 1025})
    code, message = error(excinfo)
    assert code == "ValidationException"
    assert "less than or equal to 1024" in message and "u" * 100 not in message
    assert client.list_identities(IdentityPoolId=pool_id, MaxResults=60)["Identities"] == []
    client.get_open_id_token_for_developer_identity(IdentityPoolId=pool_id, Logins={PROVIDER: "u" * 1024})


def test_a_pool_is_found_only_in_its_region(tegata):
    east = tegata.client("cognito-identity", region_name="us-east-1")
    tokyo = tegata.client("cognito-identity", region_name="ap-northeast-1")
    pool_id = east.create_identity_pool(
        IdentityPoolName="east", AllowUnauthenticatedIdentities=False, DeveloperProviderName=PROVIDER
    )["IdentityPoolId"]
    assert pool_id.startswith("us-east-1:")
    for call in (
        lambda: tokyo.describe_identity_pool(IdentityPoolId=pool_id),
        lambda: tokyo.get_open_id_token_for_developer_identity(IdentityPoolId=pool_id, Logins={PROVIDER: "a"}),
        lambda: tokyo.get_identity_pool_roles(IdentityPoolId=pool_id),
        lambda: tokyo.delete_identity_pool(IdentityPoolId=pool_id),
    ):
        with pytest.raises(ClientError) as excinfo:
            call()
        assert error(excinfo) == ("ResourceNotFoundException", f"IdentityPool '{pool_id}' not found.")
    assert east.describe_identity_pool(IdentityPoolId=pool_id)["IdentityPoolName"] == "east"


def test_developer_role_mappings_when_the_pool_opts_in(tegata):
    """tegata's extension: a pool tagged tegata:developer-role-mappings=true applies a Rules
    mapping keyed by its developer provider to developer identities (AWS gives them the
    authenticated role, whatever the mappings say)."""
    client = tegata.client("cognito-identity")
    pool_id = client.create_identity_pool(
        IdentityPoolName="mapped-developers", AllowUnauthenticatedIdentities=False,
        DeveloperProviderName=PROVIDER,
    )["IdentityPoolId"]
    trust = trust_policy(pool_id, "authenticated")
    trust["Statement"][0]["Action"] = ["sts:AssumeRoleWithWebIdentity", "sts:TagSession"]
    suffix = pool_id.split(":")[1][:8]
    members = create_role(tegata, f"members-{suffix}", trust)
    admins = create_role(tegata, f"admins-{suffix}", trust)
    mapping = {PROVIDER: {
        "Type": "Rules", "AmbiguousRoleResolution": "AuthenticatedRole",
        "RulesConfiguration": {"Rules": [
            {"Claim": "PrincipalTag/team", "MatchType": "Equals", "Value": "admins", "RoleARN": admins},
            {"Claim": "DeveloperUserIdentifier", "MatchType": "StartsWith", "Value": "svc-", "RoleARN": admins},
        ]},
    }}
    # Without the opt-in, the developer provider keys no mapping, as in AWS.
    with pytest.raises(ClientError) as excinfo:
        client.set_identity_pool_roles(IdentityPoolId=pool_id, Roles={"authenticated": members}, RoleMappings=mapping)
    assert error(excinfo)[0] == "InvalidParameterException"
    account = tegata.client("sts").get_caller_identity()["Account"]
    arn = f"arn:aws:cognito-identity:us-east-1:{account}:identitypool/{pool_id}"
    client.tag_resource(ResourceArn=arn, Tags={"tegata:developer-role-mappings": "true"})
    client.set_identity_pool_roles(IdentityPoolId=pool_id, Roles={"authenticated": members}, RoleMappings=mapping)

    def role_of(user, **extra):
        issued = client.get_open_id_token_for_developer_identity(
            IdentityPoolId=pool_id, Logins={PROVIDER: user}, **extra)
        credentials = unsigned(tegata).get_credentials_for_identity(
            IdentityId=issued["IdentityId"], Logins={"cognito-identity.amazonaws.com": issued["Token"]},
        )["Credentials"]
        return caller(tegata, credentials)["Arn"].split("/")[1]

    assert role_of("alice", PrincipalTags={"team": "admins"}) == admins.rsplit("/", 1)[1]
    assert role_of("svc-backup") == admins.rsplit("/", 1)[1]
    assert role_of("bob", PrincipalTags={"team": "sales"}) == members.rsplit("/", 1)[1]
    # Opting out restores AWS's behaviour.
    client.untag_resource(ResourceArn=arn, TagKeys=["tegata:developer-role-mappings"])
    assert role_of("svc-backup") == members.rsplit("/", 1)[1]


def test_a_guests_token_does_not_open_the_authenticated_role(tegata):
    pool_id, _, _ = pool_with_roles(tegata, guests=True)
    client = unsigned(tegata)
    guest = client.get_id(IdentityPoolId=pool_id)["IdentityId"]
    token = client.get_open_id_token(IdentityId=guest)["Token"]
    with pytest.raises(ClientError) as excinfo:
        client.get_credentials_for_identity(IdentityId=guest, Logins={"cognito-identity.amazonaws.com": token})
    assert error(excinfo)[0] == "NotAuthorizedException"


def test_merged_and_unlinked_identities_are_closed(tegata):
    pool_id, _, _ = pool_with_roles(tegata, guests=True)
    signed = tegata.client("cognito-identity")
    client = unsigned(tegata)
    old = signed.get_open_id_token_for_developer_identity(IdentityPoolId=pool_id, Logins={PROVIDER: "src"})
    signed.get_open_id_token_for_developer_identity(IdentityPoolId=pool_id, Logins={PROVIDER: "dst"})
    signed.merge_developer_identities(SourceUserIdentifier="src", DestinationUserIdentifier="dst",
                                      DeveloperProviderName=PROVIDER, IdentityPoolId=pool_id)
    # The merged-away identity: neither its old token nor nothing opens it.
    for logins in ({"cognito-identity.amazonaws.com": old["Token"]}, {}):
        with pytest.raises(ClientError) as excinfo:
            client.get_credentials_for_identity(IdentityId=old["IdentityId"], Logins=logins)
        assert error(excinfo)[0] == "NotAuthorizedException", logins

    kept = signed.get_open_id_token_for_developer_identity(IdentityPoolId=pool_id, Logins={PROVIDER: "solo"})
    signed.unlink_developer_identity(IdentityId=kept["IdentityId"], IdentityPoolId=pool_id,
                                     DeveloperProviderName=PROVIDER, DeveloperUserIdentifier="solo")
    # Emptied of its only login, it is not a guest's to take, and the token issued before the
    # unlink no longer opens it.
    for logins in ({"cognito-identity.amazonaws.com": kept["Token"]}, {}):
        with pytest.raises(ClientError) as excinfo:
            client.get_credentials_for_identity(IdentityId=kept["IdentityId"], Logins=logins)
        assert error(excinfo)[0] == "NotAuthorizedException", logins


def refused(tegata, credentials):
    """The error code a call with these credentials gets, or None when it is answered."""
    try:
        caller(tegata, credentials)
        return None
    except ClientError as e:
        return e.response["Error"]["Code"]


def test_revoked_deleted_identities_and_pools_lose_their_credentials(tegata):
    pool_id, auth, _ = pool_with_roles(tegata, guests=False)
    iam = tegata.client("iam")
    # A second role that sessions of the authenticated role may assume (role chaining).
    chained = iam.create_role(RoleName="chained", AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": auth},
                                                "Action": "sts:AssumeRole"}]}))["Role"]["Arn"]
    iam.put_role_policy(RoleName=auth.rsplit("/", 1)[1], PolicyName="chain", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                "Resource": chained}]}))
    client = tegata.client("cognito-identity")

    def sign_in(user):
        issued = client.get_open_id_token_for_developer_identity(IdentityPoolId=pool_id, Logins={PROVIDER: user})
        logins = {"cognito-identity.amazonaws.com": issued["Token"]}
        credentials = unsigned(tegata).get_credentials_for_identity(IdentityId=issued["IdentityId"],
                                                                   Logins=logins)["Credentials"]
        return issued["IdentityId"], logins, credentials

    def chain(credentials):
        assumed = tegata.client(
            "sts", aws_access_key_id=credentials["AccessKeyId"], aws_secret_access_key=credentials["SecretKey"],
            aws_session_token=credentials["SessionToken"],
        ).assume_role(RoleArn=chained, RoleSessionName="chained")["Credentials"]
        return {"AccessKeyId": assumed["AccessKeyId"], "SecretKey": assumed["SecretAccessKey"],
                "SessionToken": assumed["SessionToken"]}

    alice, alice_logins, alice_credentials = sign_in("alice")
    bob, _, bob_credentials = sign_in("bob")
    carol, _, carol_credentials = sign_in("carol")
    alice_chained, carol_chained = chain(alice_credentials), chain(carol_credentials)
    for credentials in (alice_credentials, alice_chained, bob_credentials, carol_credentials):
        assert refused(tegata, credentials) is None

    # `tegata identities revoke`: her credentials, the session chained from them and her token
    # are refused; the identity stays.
    done = subprocess.run([tegata_binary(), "identities", "revoke", alice, "--data-dir", str(tegata.data_dir)],
                          capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert done.returncode == 0, done.stderr
    deadline = time.monotonic() + 1
    while refused(tegata, alice_credentials) is None:
        assert time.monotonic() < deadline, "the server still accepts a revoked identity's credentials"
        time.sleep(0.05)
    assert refused(tegata, alice_credentials) == "InvalidClientTokenId"
    assert refused(tegata, alice_chained) == "InvalidClientTokenId"
    with pytest.raises(ClientError) as excinfo:
        unsigned(tegata).get_credentials_for_identity(IdentityId=alice, Logins=alice_logins)
    assert error(excinfo) == ("NotAuthorizedException", "Invalid login token. Token revoked.")
    assert client.describe_identity(IdentityId=alice)["IdentityId"] == alice

    # DeleteIdentities refuses the deleted identity's sessions at once, chained ones included;
    # a pool's id given as an identity's names no identity, and revokes nothing.
    client.delete_identities(IdentityIdsToDelete=[carol, pool_id])
    assert refused(tegata, carol_credentials) == "InvalidClientTokenId"
    assert refused(tegata, carol_chained) == "InvalidClientTokenId"
    assert refused(tegata, bob_credentials) is None

    # DeleteIdentityPool refuses every session of its identities.
    client.delete_identity_pool(IdentityPoolId=pool_id)
    assert refused(tegata, bob_credentials) == "InvalidClientTokenId"
