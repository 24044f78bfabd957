"""Federation with another OpenID Connect issuer: IAM's OIDC providers, STS
AssumeRoleWithWebIdentity with their tokens, and identity pools that accept them."""

import json
import socket

import botocore
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from oidc_issuer import Issuer

CLIENT = "app-client"


@pytest.fixture
def issuer():
    server = Issuer()
    yield server
    server.close()


def error(excinfo):
    return excinfo.value.response["Error"]["Code"], excinfo.value.response["Error"]["Message"]


def unsigned(tegata, service):
    return tegata.client(service, config=Config(signature_version=botocore.UNSIGNED))


def register(tegata, issuer, client_ids=(CLIENT,)):
    return tegata.client("iam").create_open_id_connect_provider(
        Url=issuer.url, ClientIDList=list(client_ids)
    )["OpenIDConnectProviderArn"]


def role_for(tegata, provider_arn, host, name="federated"):
    trust = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow",
        "Principal": {"Federated": provider_arn},
        "Action": "sts:AssumeRoleWithWebIdentity",
        "Condition": {"StringEquals": {f"{host}:aud": CLIENT}},
    }]}
    return tegata.client("iam").create_role(
        RoleName=name, AssumeRolePolicyDocument=json.dumps(trust)
    )["Role"]["Arn"]


def closed_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_oidc_provider_lifecycle(tegata):
    iam = tegata.client("iam")
    account = tegata.client("sts").get_caller_identity()["Account"]
    arn = iam.create_open_id_connect_provider(
        Url="https://oidc.example.com/tenant/", ClientIDList=["a", "b"], ThumbprintList=["0" * 40],
        Tags=[{"Key": "team", "Value": "identity"}],
    )["OpenIDConnectProviderArn"]
    assert arn == f"arn:aws:iam::{account}:oidc-provider/oidc.example.com/tenant"
    got = iam.get_open_id_connect_provider(OpenIDConnectProviderArn=arn)
    assert got["Url"] == "oidc.example.com/tenant"
    assert got["ClientIDList"] == ["a", "b"]
    assert got["ThumbprintList"] == ["0" * 40]
    assert got["Tags"] == [{"Key": "team", "Value": "identity"}]
    assert [p["Arn"] for p in iam.list_open_id_connect_providers()["OpenIDConnectProviderList"]] == [arn]

    iam.add_client_id_to_open_id_connect_provider(OpenIDConnectProviderArn=arn, ClientID="c")
    iam.add_client_id_to_open_id_connect_provider(OpenIDConnectProviderArn=arn, ClientID="c")
    iam.remove_client_id_from_open_id_connect_provider(OpenIDConnectProviderArn=arn, ClientID="a")
    iam.update_open_id_connect_provider_thumbprint(OpenIDConnectProviderArn=arn, ThumbprintList=["1" * 40])
    iam.tag_open_id_connect_provider(OpenIDConnectProviderArn=arn, Tags=[{"Key": "Team", "Value": "ops"}])
    got = iam.get_open_id_connect_provider(OpenIDConnectProviderArn=arn)
    assert got["ClientIDList"] == ["b", "c"]
    assert got["ThumbprintList"] == ["1" * 40]
    assert got["Tags"] == [{"Key": "Team", "Value": "ops"}], "tag keys are case-insensitive"
    iam.untag_open_id_connect_provider(OpenIDConnectProviderArn=arn, TagKeys=["team"])
    tags = iam.list_open_id_connect_provider_tags(OpenIDConnectProviderArn=arn)
    assert tags["Tags"] == [] and tags["IsTruncated"] is False

    bare = iam.create_open_id_connect_provider(Url="https://bare.example.com")["OpenIDConnectProviderArn"]
    got = iam.get_open_id_connect_provider(OpenIDConnectProviderArn=bare)
    assert got["ClientIDList"] == [] and got["Tags"] == [] and got["ThumbprintList"] == []

    refusals = [
        (lambda: iam.create_open_id_connect_provider(Url="example.org"),
         ("ValidationError", "Invalid Open ID Connect Provider URL")),
        (lambda: iam.create_open_id_connect_provider(Url="http://example.org"),
         ("ValidationError", "Invalid Open ID Connect Provider URL")),
        (lambda: iam.create_open_id_connect_provider(Url="https://oidc.example.com/tenant"),
         ("EntityAlreadyExists", "Provider with url https://oidc.example.com/tenant already exists.")),
        (lambda: iam.create_open_id_connect_provider(Url="https://six.example.com", ThumbprintList=["2" * 40] * 6),
         ("InvalidInput", "Thumbprint list must contain fewer than 5 entries.")),
        (lambda: iam.create_open_id_connect_provider(
            Url="https://many.example.com", ClientIDList=[f"c{n}" for n in range(101)]),
         ("LimitExceeded", "Cannot exceed quota for ClientIdsPerOpenIdConnectProvider: 100")),
    ]
    for call, expected in refusals:
        with pytest.raises(ClientError) as excinfo:
            call()
        assert error(excinfo) == expected

    iam.delete_open_id_connect_provider(OpenIDConnectProviderArn=arn)
    with pytest.raises(ClientError) as excinfo:
        iam.delete_open_id_connect_provider(OpenIDConnectProviderArn=arn)
    assert error(excinfo) == ("NoSuchEntity", f"OpenId connect Provider {arn} cannot be found.")
    assert excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    with pytest.raises(ClientError) as excinfo:
        iam.get_open_id_connect_provider(OpenIDConnectProviderArn=arn)
    assert error(excinfo) == ("NoSuchEntity", f"OpenIDConnect Provider not found for arn {arn}")


def test_assume_role_with_a_registered_providers_token(tegata, issuer):
    arn = register(tegata, issuer)
    role_arn = role_for(tegata, arn, issuer.host)
    sts = unsigned(tegata, "sts")
    answer = sts.assume_role_with_web_identity(
        RoleArn=role_arn, RoleSessionName="fed", WebIdentityToken=issuer.token(sub="alice")
    )
    assert answer["SubjectFromWebIdentityToken"] == "alice"
    assert answer["Audience"] == CLIENT
    assert answer["Provider"] == arn
    credentials = answer["Credentials"]
    identity = tegata.client(
        "sts", aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"], aws_session_token=credentials["SessionToken"],
    ).get_caller_identity()
    assert identity["Arn"].endswith(":assumed-role/federated/fed")

    # The trust policy pins the audience: a token for another client id of the provider is refused
    # by the policy, one for a client id the provider does not list by STS itself.
    tegata.client("iam").add_client_id_to_open_id_connect_provider(OpenIDConnectProviderArn=arn, ClientID="other")
    with pytest.raises(ClientError) as excinfo:
        sts.assume_role_with_web_identity(RoleArn=role_arn, RoleSessionName="fed",
                                          WebIdentityToken=issuer.token(aud="other"))
    assert error(excinfo) == ("AccessDenied", "Not authorized to perform sts:AssumeRoleWithWebIdentity")
    assert issuer.fetches["jwks"] == 1, "the keys are cached"


def test_tokens_sts_refuses(tegata, issuer):
    arn = register(tegata, issuer)
    role_arn = role_for(tegata, arn, issuer.host)
    sts = unsigned(tegata, "sts")

    def refused(token):
        with pytest.raises(ClientError) as excinfo:
            sts.assume_role_with_web_identity(RoleArn=role_arn, RoleSessionName="fed", WebIdentityToken=token)
        return error(excinfo)

    elsewhere = Issuer()
    try:
        assert refused(elsewhere.token()) == (
            "InvalidIdentityToken", f"No OpenIDConnect provider found in your account for {elsewhere.url}"
        )
    finally:
        elsewhere.close()
    assert refused(issuer.token(aud="someone-else")) == ("InvalidIdentityToken", "Incorrect token audience")
    code, message = refused(issuer.random_kid_token())
    assert code == "InvalidIdentityToken" and "verification key" in message
    assert refused(issuer.token(lifetime=-3600))[0] == "ExpiredTokenException"
    # Signed by another key under the issuer's kid.
    impostor = Issuer()
    try:
        assert refused(impostor.token(iss=issuer.url))[0] == "InvalidIdentityToken"
    finally:
        impostor.close()

    # A registered provider that does not answer.
    down = f"http://127.0.0.1:{closed_port()}"
    down_arn = tegata.client("iam").create_open_id_connect_provider(
        Url=down, ClientIDList=[CLIENT])["OpenIDConnectProviderArn"]
    down_role = role_for(tegata, down_arn, down.removeprefix("http://"), name="down")
    with pytest.raises(ClientError) as excinfo:
        sts.assume_role_with_web_identity(RoleArn=down_role, RoleSessionName="fed",
                                          WebIdentityToken=issuer.token(iss=down))
    assert error(excinfo)[0] == "IDPCommunicationError"
    assert "127.0.0.1" not in error(excinfo)[1], "internal addresses stay in the log"


def test_random_kids_do_not_become_a_flood_of_fetches(tegata, issuer):
    arn = register(tegata, issuer)
    role_arn = role_for(tegata, arn, issuer.host)
    sts = unsigned(tegata, "sts")
    sts.assume_role_with_web_identity(RoleArn=role_arn, RoleSessionName="fed", WebIdentityToken=issuer.token())
    for _ in range(1000):
        with pytest.raises(ClientError) as excinfo:
            sts.assume_role_with_web_identity(RoleArn=role_arn, RoleSessionName="fed",
                                              WebIdentityToken=issuer.random_kid_token())
        assert error(excinfo)[0] == "InvalidIdentityToken"
    assert issuer.fetches["jwks"] <= 3, issuer.fetches
    assert issuer.fetches["discovery"] <= 3, issuer.fetches


def cognito_trust(pool_id, tag_session=False):
    actions = ["sts:AssumeRoleWithWebIdentity"] + (["sts:TagSession"] if tag_session else [])
    return {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Federated": "cognito-identity.amazonaws.com"},
        "Action": actions,
        "Condition": {"StringEquals": {"cognito-identity.amazonaws.com:aud": pool_id},
                      "ForAnyValue:StringLike": {"cognito-identity.amazonaws.com:amr": "authenticated"}},
    }]}


def federated_pool(tegata, issuer, provider_arn, **extra):
    client = tegata.client("cognito-identity")
    pool_id = client.create_identity_pool(
        IdentityPoolName="federated", AllowUnauthenticatedIdentities=False,
        OpenIdConnectProviderARNs=[provider_arn], **extra,
    )["IdentityPoolId"]
    iam = tegata.client("iam")
    roles = {}
    for name in ("members", "ops"):
        roles[name] = iam.create_role(
            RoleName=f"{name}-{pool_id[10:18]}", AssumeRolePolicyDocument=json.dumps(cognito_trust(pool_id, True))
        )["Role"]["Arn"]
    client.set_identity_pool_roles(IdentityPoolId=pool_id, Roles={"authenticated": roles["members"]})
    return pool_id, roles


def session_arn(tegata, credentials):
    return tegata.client(
        "sts", aws_access_key_id=credentials["AccessKeyId"], aws_secret_access_key=credentials["SecretKey"],
        aws_session_token=credentials["SessionToken"],
    ).get_caller_identity()["Arn"]


def test_identity_pool_with_a_providers_tokens(tegata, issuer):
    arn = register(tegata, issuer)
    pool_id, roles = federated_pool(tegata, issuer, arn)
    public = unsigned(tegata, "cognito-identity")
    logins = {issuer.host: issuer.token(sub="carol")}
    identity = public.get_id(IdentityPoolId=pool_id, Logins=logins)["IdentityId"]
    assert public.get_id(IdentityPoolId=pool_id, Logins={issuer.host: issuer.token(sub="carol")})["IdentityId"] == identity
    assert public.get_id(IdentityPoolId=pool_id, Logins={issuer.host: issuer.token(sub="dan")})["IdentityId"] != identity
    assert tegata.client("cognito-identity").describe_identity(IdentityId=identity)["Logins"] == [issuer.host]
    credentials = public.get_credentials_for_identity(IdentityId=identity, Logins=logins)["Credentials"]
    members = roles["members"].rsplit("/", 1)[1]
    assert session_arn(tegata, credentials).endswith(f":assumed-role/{members}/CognitoIdentityCredentials")

    # The basic flow's token carries the provider in amr, as AWS writes it.
    token = public.get_open_id_token(IdentityId=identity, Logins=logins)["Token"]
    import jwt
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["amr"] == ["authenticated", issuer.host, f"{arn}:OIDC:carol"]

    refusals = [
        ({issuer.host: issuer.token(aud="nobody")}, "NotAuthorizedException"),
        ({issuer.host: issuer.token(iss="http://127.0.0.1:1")}, "NotAuthorizedException"),
        ({issuer.host: issuer.random_kid_token()}, "NotAuthorizedException"),
        ({"accounts.google.com": "x"}, "NotAuthorizedException"),
    ]
    for logins, code in refusals:
        with pytest.raises(ClientError) as excinfo:
            public.get_id(IdentityPoolId=pool_id, Logins=logins)
        assert error(excinfo)[0] == code, logins
    with pytest.raises(ClientError) as excinfo:
        public.get_id(IdentityPoolId=pool_id, Logins={issuer.host: issuer.token(iss="http://127.0.0.1:1")})
    assert error(excinfo)[1] == "Invalid login token. Issuer doesn't match providerName"
    with pytest.raises(ClientError) as excinfo:
        public.get_id(IdentityPoolId=pool_id, Logins={"accounts.google.com": "x"})
    assert error(excinfo)[1] == "Token is not from a supported provider of this identity pool."


def test_rules_pick_the_role_by_claim(tegata, issuer):
    arn = register(tegata, issuer)
    pool_id, roles = federated_pool(tegata, issuer, arn)
    client = tegata.client("cognito-identity")
    public = unsigned(tegata, "cognito-identity")

    def mapping(resolution):
        client.set_identity_pool_roles(
            IdentityPoolId=pool_id, Roles={"authenticated": roles["members"]},
            RoleMappings={issuer.host: {
                "Type": "Rules", "AmbiguousRoleResolution": resolution,
                "RulesConfiguration": {"Rules": [
                    {"Claim": "team", "MatchType": "Equals", "Value": "ops", "RoleARN": roles["ops"]},
                ]},
            }},
        )

    def role_of(sub, **claims):
        logins = {issuer.host: issuer.token(sub=sub, **claims)}
        identity = public.get_id(IdentityPoolId=pool_id, Logins=logins)["IdentityId"]
        credentials = public.get_credentials_for_identity(IdentityId=identity, Logins=logins)["Credentials"]
        return session_arn(tegata, credentials).split("/")[1]

    mapping("AuthenticatedRole")
    assert role_of("erin", team="ops") == roles["ops"].rsplit("/", 1)[1]
    assert role_of("fay", team="sales") == roles["members"].rsplit("/", 1)[1]
    mapping("Deny")
    assert role_of("erin", team="ops") == roles["ops"].rsplit("/", 1)[1]
    with pytest.raises(ClientError) as excinfo:
        role_of("fay", team="sales")
    assert error(excinfo)[0] == "NotAuthorizedException"


def test_principal_tags_from_a_providers_claims(tegata, issuer):
    arn = register(tegata, issuer)
    pool_id, _ = federated_pool(tegata, issuer, arn)
    tegata.client("cognito-identity").set_principal_tag_attribute_map(
        IdentityPoolId=pool_id, IdentityProviderName=issuer.host, UseDefaults=False,
        PrincipalTags={"department": "dept"},
    )
    public = unsigned(tegata, "cognito-identity")
    logins = {issuer.host: issuer.token(sub="gus", dept="finance")}
    identity = public.get_id(IdentityPoolId=pool_id, Logins=logins)["IdentityId"]
    token = public.get_open_id_token(IdentityId=identity, Logins=logins)["Token"]
    import jwt
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["https://aws.amazon.com/tags"]["principal_tags"] == {"department": ["finance"]}
    # The roles' trust policies allow sts:TagSession, so the tagged session is made.
    assert public.get_credentials_for_identity(IdentityId=identity, Logins=logins)["Credentials"]["AccessKeyId"]


def test_an_unreachable_provider_is_an_external_service_error(tegata, issuer):
    down = f"http://127.0.0.1:{closed_port()}"
    arn = tegata.client("iam").create_open_id_connect_provider(Url=down, ClientIDList=[CLIENT])["OpenIDConnectProviderArn"]
    pool_id, _ = federated_pool(tegata, issuer, arn)
    with pytest.raises(ClientError) as excinfo:
        unsigned(tegata, "cognito-identity").get_id(
            IdentityPoolId=pool_id, Logins={down.removeprefix("http://"): issuer.token(iss=down)})
    assert error(excinfo)[0] == "ExternalServiceException"


def test_another_users_token_does_not_take_over_an_identity(tegata, issuer):
    arn = register(tegata, issuer)
    pool_id, _ = federated_pool(tegata, issuer, arn)
    public = unsigned(tegata, "cognito-identity")
    alice = public.get_id(IdentityPoolId=pool_id, Logins={issuer.host: issuer.token(sub="alice")})["IdentityId"]
    # Mallory holds a valid token of the same provider, and knows Alice's identity id.
    mallory = {issuer.host: issuer.token(sub="mallory")}
    for call in (
        lambda: public.get_credentials_for_identity(IdentityId=alice, Logins=mallory),
        lambda: public.get_open_id_token(IdentityId=alice, Logins=mallory),
    ):
        with pytest.raises(ClientError) as excinfo:
            call()
        assert error(excinfo) == ("NotAuthorizedException",
                                  "Logins don't match. Please include at least one valid login for this identity or identity pool.")
    assert public.get_id(IdentityPoolId=pool_id, Logins=mallory)["IdentityId"] != alice, "mallory was not linked"


def test_issuers_with_a_trailing_slash(tegata, issuer):
    arn = register(tegata, issuer)
    role_arn = role_for(tegata, arn, issuer.host)
    answer = unsigned(tegata, "sts").assume_role_with_web_identity(
        RoleArn=role_arn, RoleSessionName="slash", WebIdentityToken=issuer.token(iss=issuer.url + "/"))
    assert answer["Audience"] == CLIENT


def test_implicit_merges(tegata, issuer):
    """Presenting a login of another identity together with proof of this one merges the
    other into this one; a guest signing in to an existing identity joins it."""
    second = Issuer()
    try:
        first_arn = register(tegata, issuer)
        second_arn = register(tegata, second)
        client = tegata.client("cognito-identity")
        pool_id = client.create_identity_pool(
            IdentityPoolName="merging", AllowUnauthenticatedIdentities=True,
            OpenIdConnectProviderARNs=[first_arn, second_arn],
        )["IdentityPoolId"]
        role = tegata.client("iam").create_role(
            RoleName="merging", AssumeRolePolicyDocument=json.dumps(cognito_trust(pool_id)))["Role"]["Arn"]
        client.set_identity_pool_roles(IdentityPoolId=pool_id, Roles={"authenticated": role})
        public = unsigned(tegata, "cognito-identity")
        work = {issuer.host: issuer.token(sub="hana")}
        home = {second.host: second.token(sub="hana-at-home")}
        a = public.get_id(IdentityPoolId=pool_id, Logins=work)["IdentityId"]
        b = public.get_id(IdentityPoolId=pool_id, Logins=home)["IdentityId"]
        assert a != b
        answer = public.get_credentials_for_identity(IdentityId=a, Logins={**work, **home})
        assert answer["IdentityId"] == a
        assert sorted(client.describe_identity(IdentityId=a)["Logins"]) == sorted([issuer.host, second.host])
        shown = client.list_identities(IdentityPoolId=pool_id, MaxResults=60, HideDisabled=True)["Identities"]
        assert b not in [i["IdentityId"] for i in shown], "the merged identity is disabled"
        assert public.get_id(IdentityPoolId=pool_id, Logins=home)["IdentityId"] == a

        # A guest who signs in with Hana's login joins Hana's identity.
        guest = public.get_id(IdentityPoolId=pool_id)["IdentityId"]
        joined = public.get_credentials_for_identity(IdentityId=guest, Logins=work)
        assert joined["IdentityId"] == a
        with pytest.raises(ClientError) as excinfo:
            public.get_credentials_for_identity(IdentityId=guest)
        assert error(excinfo)[0] == "NotAuthorizedException"
    finally:
        second.close()
