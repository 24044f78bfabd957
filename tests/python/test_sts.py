"""STS and IAM from boto3: the Lambda program users copy, trust policies, and every refusal
with the code AWS uses."""

import base64
import json
import re
import time

import botocore.auth
import jwt
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from cryptography.hazmat.primitives.asymmetric import rsa

PROVIDER = "login.mycompany.myapp"

# The program as users copy it into a Lambda function (the identifiers are theirs to fill in).
LAMBDA_PROGRAM = '''
import json
import boto3

def lambda_handler(event, context):
    # the application's own authentication happens before this point
    client = boto3.client('cognito-identity')
    response = client.get_open_id_token_for_developer_identity(
        IdentityPoolId='ap-northeast-1:xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx',
        Logins={'login.mycompany.myapp': 'test_user'},
    )
    client2 = boto3.client('sts')
    ret = client2.assume_role_with_web_identity(
        RoleArn='arn:aws:iam::xxxxxxxxxxxx:role/service-role/lambda_role',
        RoleSessionName='boto',
        WebIdentityToken=response['Token'],
    )
    print(f"assumeRoleWithWebIdentity:{ret}")
    return {'statusCode': 200, 'body': json.dumps('Hello from Lambda!')}
'''

# The trust policy the guides insist on.
GUIDE_TRUST_POLICY = {
    "Version": "2012-10-17",
    "Statement": [{
        "Effect": "Allow",
        "Principal": {"Service": "lambda.amazonaws.com", "Federated": "cognito-identity.amazonaws.com"},
        "Action": ["sts:AssumeRole", "sts:AssumeRoleWithWebIdentity"],
    }],
}


def pinned_trust_policy(pool_id):
    return {
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"Federated": "cognito-identity.amazonaws.com"},
            "Action": ["sts:AssumeRoleWithWebIdentity", "sts:TagSession"],
            "Condition": {
                "StringEquals": {"cognito-identity.amazonaws.com:aud": pool_id},
                "ForAnyValue:StringLike": {"cognito-identity.amazonaws.com:amr": "authenticated"},
            },
        }],
    }


def create_pool(tegata, name="seed"):
    return tegata.client("cognito-identity").create_identity_pool(
        IdentityPoolName=name,
        AllowUnauthenticatedIdentities=False,
        AllowClassicFlow=True,
        DeveloperProviderName=PROVIDER,
    )["IdentityPoolId"]


def create_role(tegata, name, trust, path="/"):
    return tegata.client("iam").create_role(
        RoleName=name, Path=path, AssumeRolePolicyDocument=json.dumps(trust)
    )["Role"]["Arn"]


def token_for(tegata, pool_id, user="test_user", **extra):
    return tegata.client("cognito-identity").get_open_id_token_for_developer_identity(
        IdentityPoolId=pool_id, Logins={PROVIDER: user}, **extra
    )["Token"]


def code(excinfo):
    return excinfo.value.response["Error"]["Code"]


def assume(tegata, role_arn, token, **extra):
    sts = tegata.client("sts", config=Config(parameter_validation=False))
    return sts.assume_role_with_web_identity(
        RoleArn=role_arn, RoleSessionName=extra.pop("RoleSessionName", "boto"),
        WebIdentityToken=token, **extra
    )


def test_the_lambda_program_runs_and_its_credentials_work(tegata, monkeypatch, capsys):
    monkeypatch.setenv("AWS_DEFAULT_REGION", "ap-northeast-1")
    monkeypatch.setenv("AWS_ENDPOINT_URL", tegata.url)
    pool_id = create_pool(tegata)
    role_arn = create_role(tegata, "lambda_role", GUIDE_TRUST_POLICY, path="/service-role/")
    program = LAMBDA_PROGRAM.replace(
        "ap-northeast-1:xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx", pool_id
    ).replace("arn:aws:iam::xxxxxxxxxxxx:role/service-role/lambda_role", role_arn)
    namespace = {}
    exec(compile(program, "lambda_function.py", "exec"), namespace)
    assert namespace["lambda_handler"]({}, None)["statusCode"] == 200

    printed = capsys.readouterr().out
    assert printed.startswith("assumeRoleWithWebIdentity:")
    fields = dict(re.findall(r"'(AccessKeyId|SecretAccessKey|SessionToken)': '([^']+)'", printed))
    assert set(fields) == {"AccessKeyId", "SecretAccessKey", "SessionToken"}
    assert "'Expiration': datetime.datetime(" in printed
    assert fields["AccessKeyId"].startswith("ASIA") and len(fields["AccessKeyId"]) == 20
    assert len(fields["SecretAccessKey"]) == 40

    account = role_arn.split(":")[4]
    sts = tegata.client(
        "sts",
        aws_access_key_id=fields["AccessKeyId"],
        aws_secret_access_key=fields["SecretAccessKey"],
        aws_session_token=fields["SessionToken"],
    )
    identity = sts.get_caller_identity()
    assert identity["Arn"] == f"arn:aws:sts::{account}:assumed-role/lambda_role/boto"
    assert identity["Account"] == account
    assert identity["UserId"].startswith("AROA") and identity["UserId"].endswith(":boto")

    # The guide's policy trusts every pool: tegata accepts it and says so, naming the role.
    assert tegata.logged(lambda line: "any identity pool" in line and role_arn in line)
    # No credential reached the log.
    log = "".join(tegata.log)
    for secret in (fields["SecretAccessKey"], fields["SessionToken"]):
        assert secret not in log


def test_full_response_shape(tegata):
    pool_id = create_pool(tegata)
    role_arn = create_role(tegata, "app", pinned_trust_policy(pool_id))
    token = token_for(tegata, pool_id)
    session_policy = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]})
    response = assume(tegata, role_arn, token, DurationSeconds=900, Policy=session_policy)
    claims = jwt.decode(token, options={"verify_signature": False})
    assert response["SubjectFromWebIdentityToken"] == claims["sub"]
    assert response["Audience"] == pool_id
    assert response["Provider"] == "cognito-identity.amazonaws.com"
    assert response["AssumedRoleUser"]["Arn"].endswith(":assumed-role/app/boto")
    assert 0 < response["PackedPolicySize"] <= 100
    lifetime = response["Credentials"]["Expiration"].timestamp() - time.time()
    assert 880 < lifetime <= 900


def test_trust_policy_pinned_to_a_pool_refuses_other_pools(tegata):
    pool_a = create_pool(tegata, "a")
    pool_b = create_pool(tegata, "b")
    role_arn = create_role(tegata, "pinned", pinned_trust_policy(pool_a))
    assert assume(tegata, role_arn, token_for(tegata, pool_a))["Audience"] == pool_a
    with pytest.raises(ClientError) as excinfo:
        assume(tegata, role_arn, token_for(tegata, pool_b))
    assert code(excinfo) == "AccessDenied"
    assert excinfo.value.response["Error"]["Message"] == "Not authorized to perform sts:AssumeRoleWithWebIdentity"
    assert excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


def test_role_changes_apply_to_the_next_exchange(tegata):
    # Roles are cached for the second they are read in; writes through the node forget them.
    pool_a = create_pool(tegata, "a")
    pool_b = create_pool(tegata, "b")
    role_arn = create_role(tegata, "moving", pinned_trust_policy(pool_a))
    token_a, token_b = token_for(tegata, pool_a), token_for(tegata, pool_b)
    assert assume(tegata, role_arn, token_a)["Audience"] == pool_a
    iam = tegata.client("iam")
    iam.update_assume_role_policy(RoleName="moving", PolicyDocument=json.dumps(pinned_trust_policy(pool_b)))
    with pytest.raises(ClientError) as excinfo:
        assume(tegata, role_arn, token_a)
    assert code(excinfo) == "AccessDenied"
    assert assume(tegata, role_arn, token_b)["Audience"] == pool_b
    iam.update_role(RoleName="moving", MaxSessionDuration=3600)
    with pytest.raises(ClientError) as excinfo:
        assume(tegata, role_arn, token_b, DurationSeconds=7200)
    assert code(excinfo) == "ValidationError"
    iam.delete_role(RoleName="moving")
    with pytest.raises(ClientError) as excinfo:
        assume(tegata, role_arn, token_b)
    assert code(excinfo) == "AccessDenied"


def test_principal_tags_need_tag_session(tegata):
    pool_id = create_pool(tegata)
    with_tags = token_for(tegata, pool_id, PrincipalTags={"team": "blue"})
    pinned = create_role(tegata, "tagged", pinned_trust_policy(pool_id))  # allows sts:TagSession
    assert assume(tegata, pinned, with_tags)
    no_tag_session = pinned_trust_policy(pool_id)
    no_tag_session["Statement"][0]["Action"] = "sts:AssumeRoleWithWebIdentity"
    untaggable = create_role(tegata, "untaggable", no_tag_session)
    with pytest.raises(ClientError) as excinfo:
        assume(tegata, untaggable, with_tags)
    assert code(excinfo) == "AccessDenied"
    assert assume(tegata, untaggable, token_for(tegata, pool_id))


def test_strict_cognito_trust_refuses_unpinned_roles(tegata):
    pool_id = create_pool(tegata)
    unpinned = create_role(tegata, "unpinned", GUIDE_TRUST_POLICY)
    pinned = create_role(tegata, "pinned", pinned_trust_policy(pool_id))
    tegata.restart(["--strict-cognito-trust"])
    token = token_for(tegata, pool_id)
    with pytest.raises(ClientError) as excinfo:
        assume(tegata, unpinned, token)
    assert code(excinfo) == "AccessDenied"
    assert assume(tegata, pinned, token)


def forged_tokens(tegata, token):
    header_b64, payload_b64, signature = token.split(".")
    header = json.loads(base64.urlsafe_b64decode(header_b64 + "=="))
    claims = json.loads(base64.urlsafe_b64decode(payload_b64 + "=="))

    def b64(value):
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    changed = dict(claims, sub=claims["sub"][:-1] + ("0" if claims["sub"][-1] != "0" else "1"))
    foreign_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return {
        "changed payload": f"{header_b64}.{b64(changed)}.{signature}",
        "alg none": f"{b64({'kid': header['kid'], 'typ': 'JWS', 'alg': 'none'})}.{payload_b64}.",
        "HS256 with our kid": jwt.encode(claims, "s" * 32, algorithm="HS256", headers={"kid": header["kid"]}),
        "unknown key": jwt.encode(claims, foreign_key, algorithm="RS512", headers={"kid": "not-a-tegata-key"}),
        "unknown key with our kid": jwt.encode(claims, foreign_key, algorithm="RS512", headers={"kid": header["kid"]}),
        "not a JWT": "this-is-not-a-token",
    }


def test_bad_web_identity_tokens_are_refused(tegata):
    pool_id = create_pool(tegata)
    role_arn = create_role(tegata, "app", pinned_trust_policy(pool_id))
    token = token_for(tegata, pool_id)
    for label, forged in forged_tokens(tegata, token).items():
        with pytest.raises(ClientError) as excinfo:
            assume(tegata, role_arn, forged)
        assert code(excinfo) == "InvalidIdentityToken", label
        assert excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    # The genuine token still works.
    assert assume(tegata, role_arn, token)


def test_expired_web_identity_token(tegata):
    pool_id = create_pool(tegata)
    role_arn = create_role(tegata, "app", pinned_trust_policy(pool_id))
    token = token_for(tegata, pool_id, TokenDuration=1)
    # A minute on for the server (one second of validity, five of leeway): no waiting. The
    # instants around exp are a table test of the verifier itself (tokens/verify.rs).
    # The restarted server listens on another port: it keeps the issuer the token names.
    tegata.restart(["--clock-offset-seconds", "60", "--public-url", tegata.url])
    with pytest.raises(ClientError) as excinfo:
        assume(tegata, role_arn, token)
    assert code(excinfo) == "ExpiredTokenException"
    assert excinfo.value.response["Error"]["Message"].startswith("Token expired: current date/time ")


def test_invalid_requests_get_validation_errors(tegata):
    pool_id = create_pool(tegata)
    role_arn = create_role(tegata, "app", pinned_trust_policy(pool_id))
    token = token_for(tegata, pool_id)
    with pytest.raises(ClientError) as excinfo:
        assume(tegata, role_arn, token, RoleSessionName="bad name!")
    assert code(excinfo) == "ValidationError"
    assert "roleSessionName" in excinfo.value.response["Error"]["Message"]
    with pytest.raises(ClientError) as excinfo:
        assume(tegata, role_arn, token, DurationSeconds=100)
    assert code(excinfo) == "ValidationError"
    assert "durationSeconds" in excinfo.value.response["Error"]["Message"]
    with pytest.raises(ClientError) as excinfo:
        assume(tegata, role_arn, token, DurationSeconds=7200)
    assert code(excinfo) == "ValidationError"
    assert "MaxSessionDuration" in excinfo.value.response["Error"]["Message"]
    with pytest.raises(ClientError) as excinfo:
        assume(tegata, role_arn, token, Policy='{"Statement": "nope"}')
    assert code(excinfo) == "MalformedPolicyDocument"


def test_roles_without_the_federated_principal_or_missing_are_refused(tegata):
    pool_id = create_pool(tegata)
    lambda_only = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
    role_arn = create_role(tegata, "lambda_only", lambda_only)
    token = token_for(tegata, pool_id)
    for arn in (role_arn, role_arn.replace("lambda_only", "no_such_role")):
        with pytest.raises(ClientError) as excinfo:
            assume(tegata, arn, token)
        assert code(excinfo) == "AccessDenied"


def test_temporary_credentials_are_checked(tegata, monkeypatch):
    pool_id = create_pool(tegata)
    role_arn = create_role(tegata, "app", pinned_trust_policy(pool_id))
    creds = assume(tegata, role_arn, token_for(tegata, pool_id), DurationSeconds=900)["Credentials"]

    def sts(**overrides):
        keys = dict(
            aws_access_key_id=creds["AccessKeyId"],
            aws_secret_access_key=creds["SecretAccessKey"],
            aws_session_token=creds["SessionToken"],
        )
        keys.update(overrides)
        return tegata.client("sts", **keys)

    assert sts().get_caller_identity()["Arn"].endswith(":assumed-role/app/boto")
    cases = {
        "InvalidClientTokenId": dict(aws_session_token=None),
        "SignatureDoesNotMatch": dict(aws_secret_access_key="A" * 40),
    }
    tampered = creds["SessionToken"][:-4] + ("AAAA" if not creds["SessionToken"].endswith("AAAA") else "BBBB")
    cases["InvalidClientTokenId (tampered token)"] = dict(aws_session_token=tampered)
    for expected, overrides in cases.items():
        with pytest.raises(ClientError) as excinfo:
            sts(**overrides).get_caller_identity()
        assert code(excinfo) == expected.split(" ")[0], expected
        assert excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403

    # Sixteen minutes later, for both the server and the client's signer, the credentials
    # (valid for fifteen) have expired.
    later = 16 * 60
    tegata.restart(["--clock-offset-seconds", str(later)])
    real_now = botocore.auth.get_current_datetime
    monkeypatch.setattr(botocore.auth, "get_current_datetime",
                        lambda: real_now() + __import__("datetime").timedelta(seconds=later))
    with pytest.raises(ClientError) as excinfo:
        sts().get_caller_identity()
    assert code(excinfo) == "ExpiredToken"
    assert excinfo.value.response["Error"]["Message"] == "The security token included in the request is expired"


def test_iam_roles_round_trip(tegata):
    iam = tegata.client("iam")
    pool_id = create_pool(tegata)
    iam.create_role(RoleName="r1", Path="/app/", AssumeRolePolicyDocument=json.dumps(pinned_trust_policy(pool_id)),
                    Description="first", MaxSessionDuration=7200, Tags=[{"Key": "team", "Value": "blue"}])
    role = iam.get_role(RoleName="r1")["Role"]
    assert role["AssumeRolePolicyDocument"] == pinned_trust_policy(pool_id)  # decoded by botocore
    assert role["MaxSessionDuration"] == 7200 and role["Tags"] == [{"Key": "team", "Value": "blue"}]
    assert role["RoleId"].startswith("AROA") and role["Arn"].endswith(":role/app/r1")
    with pytest.raises(ClientError) as excinfo:
        iam.create_role(RoleName="R1", AssumeRolePolicyDocument=json.dumps(GUIDE_TRUST_POLICY))
    assert code(excinfo) == "EntityAlreadyExists"
    with pytest.raises(ClientError) as excinfo:
        iam.create_role(RoleName="bad", AssumeRolePolicyDocument='{"Statement": []}')
    assert code(excinfo) == "MalformedPolicyDocument"

    for name in ("r2", "r3"):
        iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(GUIDE_TRUST_POLICY))
    names = [r["RoleName"] for page in iam.get_paginator("list_roles").paginate(PaginationConfig={"PageSize": 2})
             for r in page["Roles"]]
    assert names == ["r1", "r2", "r3"]
    assert [r["RoleName"] for r in iam.list_roles(PathPrefix="/app/")["Roles"]] == ["r1"]

    iam.update_role(RoleName="r1", Description="second", MaxSessionDuration=3600)
    assert iam.get_role(RoleName="r1")["Role"]["Description"] == "second"
    iam.update_assume_role_policy(RoleName="r1", PolicyDocument=json.dumps(GUIDE_TRUST_POLICY))
    assert iam.get_role(RoleName="r1")["Role"]["AssumeRolePolicyDocument"] == GUIDE_TRUST_POLICY

    permissions = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}
    iam.put_role_policy(RoleName="r1", PolicyName="s3", PolicyDocument=json.dumps(permissions))
    assert iam.get_role_policy(RoleName="r1", PolicyName="s3")["PolicyDocument"] == permissions
    assert iam.list_role_policies(RoleName="r1")["PolicyNames"] == ["s3"]
    with pytest.raises(ClientError) as excinfo:
        iam.delete_role(RoleName="r1")
    assert code(excinfo) == "DeleteConflict"
    iam.delete_role_policy(RoleName="r1", PolicyName="s3")
    iam.delete_role(RoleName="r1")
    with pytest.raises(ClientError) as excinfo:
        iam.get_role(RoleName="r1")
    assert code(excinfo) == "NoSuchEntity"
    assert excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404


def test_presigned_get_caller_identity(tegata):
    """awsQuery parameters from a GET's query string, signed in the URL (what Vault-style
    "IAM auth" clients send)."""
    import urllib.request

    sts = tegata.client("sts")
    url = sts.generate_presigned_url("get_caller_identity", ExpiresIn=60, HttpMethod="GET")
    assert "X-Amz-Signature=" in url and "Action=GetCallerIdentity" in url
    with urllib.request.urlopen(url) as response:
        body = response.read().decode()
    assert "<GetCallerIdentityResponse" in body and ":user/admin</Arn>" in body
    tampered = url.replace("Action=GetCallerIdentity", "Action=GetCallerIdentity&Extra=1")
    with pytest.raises(urllib.error.HTTPError) as excinfo:
        urllib.request.urlopen(tampered)
    assert excinfo.value.code == 403
    assert "<Code>SignatureDoesNotMatch</Code>" in excinfo.value.read().decode()
