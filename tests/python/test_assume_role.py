"""STS for principals of the account: AssumeRole (role chaining, ExternalId, session tags and
their transitive keys, source identity), GetSessionToken, GetFederationToken and
GetAccessKeyInfo, through boto3, with AWS's answers and messages (iam-facts.md §2 and §4)."""

import datetime
import json
import subprocess
import sys
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from test_permissions import allow, as_key, conforms, denied, policy, user_with_key
from test_sts import assume, code, create_pool, create_role, pinned_trust_policy, token_for


def trust(principal, *actions, condition=None):
    statement = {"Effect": "Allow", "Principal": {"AWS": principal},
                 "Action": list(actions) or ["sts:AssumeRole"]}
    if condition:
        statement["Condition"] = condition
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


def as_session(tegata, service, credentials):
    return tegata.client(service, aws_access_key_id=credentials["AccessKeyId"],
                         aws_secret_access_key=credentials["SecretAccessKey"],
                         aws_session_token=credentials["SessionToken"])


def error(excinfo):
    return excinfo.value.response["Error"]["Code"], excinfo.value.response["Error"]["Message"]


def lifetime(credentials):
    expires = credentials["Expiration"]
    return (expires - datetime.datetime.now(datetime.timezone.utc)).total_seconds()


@pytest.fixture
def account(tegata):
    return tegata.client("sts").get_caller_identity()["Account"]


def test_the_chain_user_role_a_role_b_with_transitive_tags(tegata, account):
    iam = tegata.client("iam")
    role_a = iam.create_role(RoleName="role-a", MaxSessionDuration=43200, AssumeRolePolicyDocument=trust(
        account, "sts:AssumeRole", "sts:TagSession"))["Role"]
    role_b = iam.create_role(RoleName="role-b", MaxSessionDuration=43200, AssumeRolePolicyDocument=trust(
        role_a["Arn"], "sts:AssumeRole", "sts:TagSession"))["Role"]
    iam.put_role_policy(RoleName="role-a", PolicyName="chain", PolicyDocument=policy(
        allow(["sts:AssumeRole", "sts:TagSession"], role_b["Arn"])))
    # Role B's permissions depend on the tags its sessions carry.
    iam.put_role_policy(RoleName="role-b", PolicyName="by-tag", PolicyDocument=policy(
        {"Effect": "Allow", "Action": "cognito-identity:ListIdentityPools", "Resource": "*",
         "Condition": {"StringEquals": {"aws:PrincipalTag/Project": "blue"}}},
        {"Effect": "Allow", "Action": "iam:ListRoles", "Resource": "*",
         "Condition": {"StringEquals": {"aws:PrincipalTag/Team": "x"}}}))
    key = user_with_key(tegata, "alice")
    iam.put_user_policy(UserName="alice", PolicyName="assume", PolicyDocument=policy(
        allow(["sts:AssumeRole", "sts:TagSession"], role_a["Arn"])))

    sts = as_key(tegata, "sts", key)
    first = sts.assume_role(RoleArn=role_a["Arn"], RoleSessionName="alice-a", DurationSeconds=7200,
                            Tags=[{"Key": "Project", "Value": "blue"}, {"Key": "Team", "Value": "x"}],
                            TransitiveTagKeys=["Project"])
    conforms(sts.meta.service_model.operation_model("AssumeRole").output_shape, first, "AssumeRole")
    assert first["AssumedRoleUser"] == {
        "Arn": f"arn:aws:sts::{account}:assumed-role/role-a/alice-a",
        "AssumedRoleId": f"{role_a['RoleId']}:alice-a"}
    assert 1 <= first["PackedPolicySize"] <= 100, "tags count against the packed size"
    assert 7000 < lifetime(first["Credentials"]) <= 7200

    sts_a = as_session(tegata, "sts", first["Credentials"])
    assert sts_a.get_caller_identity()["Arn"] == f"arn:aws:sts::{account}:assumed-role/role-a/alice-a"

    # Role chaining: a role's session gets at most one hour, whatever the role allows.
    with pytest.raises(ClientError) as excinfo:
        sts_a.assume_role(RoleArn=role_b["Arn"], RoleSessionName="chained", DurationSeconds=7200)
    assert error(excinfo) == ("ValidationError", "The requested DurationSeconds exceeds the 1 hour "
                              "session limit for roles assumed by role chaining.")
    # A transitive tag cannot be set again down the chain, in any casing.
    with pytest.raises(ClientError) as excinfo:
        sts_a.assume_role(RoleArn=role_b["Arn"], RoleSessionName="chained",
                          Tags=[{"Key": "project", "Value": "red"}])
    assert error(excinfo) == ("InvalidParameterValue", "One of the specified transitive tag keys can't be "
                              "set because it conflicts with a transitive tag key from the calling session.")

    second = sts_a.assume_role(RoleArn=role_b["Arn"], RoleSessionName="chained")
    assert second["AssumedRoleUser"]["Arn"] == f"arn:aws:sts::{account}:assumed-role/role-b/chained"
    assert 3500 < lifetime(second["Credentials"]) <= 3600
    assert "PackedPolicySize" in second, "the inherited transitive tag is a session tag"
    # The transitive tag came down the chain; the other tag did not.
    as_session(tegata, "cognito-identity", second["Credentials"]).list_identity_pools(MaxResults=10)
    with pytest.raises(ClientError) as excinfo:
        as_session(tegata, "iam", second["Credentials"]).list_roles()
    assert "because no identity-based policy allows the iam:ListRoles action" in denied(excinfo)
    # Role B trusts role A's sessions, not its own.
    with pytest.raises(ClientError):
        as_session(tegata, "sts", second["Credentials"]).assume_role(
            RoleArn=role_b["Arn"], RoleSessionName="again")

    # The user itself cannot skip a link: role B trusts role A only.
    with pytest.raises(ClientError) as excinfo:
        sts.assume_role(RoleArn=role_b["Arn"], RoleSessionName="skip")
    assert error(excinfo) == ("AccessDenied", f"User: arn:aws:iam::{account}:user/alice is not authorized "
                              f"to perform: sts:AssumeRole on resource: {role_b['Arn']}")


def test_external_id_and_who_the_trust_policy_names(tegata, account):
    iam = tegata.client("iam")
    vendor = iam.create_role(RoleName="vendor", AssumeRolePolicyDocument=trust(
        account, condition={"StringEquals": {"sts:ExternalId": "Unique-1234"}}))["Role"]
    key = user_with_key(tegata, "partner")
    iam.put_user_policy(UserName="partner", PolicyName="assume", PolicyDocument=policy(
        allow("sts:AssumeRole", "*")))
    sts = as_key(tegata, "sts", key)
    for wrong in ({"ExternalId": "Unique-9999"}, {}):
        with pytest.raises(ClientError) as excinfo:
            sts.assume_role(RoleArn=vendor["Arn"], RoleSessionName="s1", **wrong)
        assert code(excinfo) == "AccessDenied"
    answer = sts.assume_role(RoleArn=vendor["Arn"], RoleSessionName="s1", ExternalId="Unique-1234")
    assert "PackedPolicySize" not in answer, "no policy and no tags: no PackedPolicySize (iam-facts §2)"
    assert set(answer) - {"ResponseMetadata"} == {"Credentials", "AssumedRoleUser"}

    # A trust policy naming a user lets that user in without any policy of its own; naming the
    # account delegates to the user's policies, which here allow nothing.
    bob = user_with_key(tegata, "bob")
    bob_arn = f"arn:aws:iam::{account}:user/bob"
    direct = iam.create_role(RoleName="for-bob", AssumeRolePolicyDocument=trust(bob_arn))["Role"]
    delegated = iam.create_role(RoleName="for-account", AssumeRolePolicyDocument=trust(account))["Role"]
    bob_sts = as_key(tegata, "sts", bob)
    session = bob_sts.assume_role(RoleArn=direct["Arn"], RoleSessionName="bob")
    assert session["AssumedRoleUser"]["AssumedRoleId"] == f"{direct['RoleId']}:bob"
    with pytest.raises(ClientError) as excinfo:
        bob_sts.assume_role(RoleArn=delegated["Arn"], RoleSessionName="bob")
    assert denied(excinfo) == (f"User: {bob_arn} is not authorized to perform: sts:AssumeRole on resource: "
                               f"{delegated['Arn']} because no identity-based policy allows the "
                               "sts:AssumeRole action")
    # An explicit deny of the user's own still wins over the trust policy.
    iam.put_user_policy(UserName="bob", PolicyName="no", PolicyDocument=policy(
        {"Effect": "Deny", "Action": "sts:AssumeRole", "Resource": "*"}))
    with pytest.raises(ClientError) as excinfo:
        bob_sts.assume_role(RoleArn=direct["Arn"], RoleSessionName="bob")
    assert "with an explicit deny in an identity-based policy" in denied(excinfo)


def test_assume_role_answers_bad_requests_as_aws(tegata, account):
    iam = tegata.client("iam")
    role = iam.create_role(RoleName="target", AssumeRolePolicyDocument=trust(
        account, "sts:AssumeRole", "sts:TagSession", "sts:SetSourceIdentity"))["Role"]
    sts = tegata.client("sts")
    cases = [
        (dict(RoleArn="nothing-valid-in-here"), "ValidationError", "nothing-valid-in-here is invalid"),
        (dict(RoleArn="arn:a:a::aaaaaaaaaa:"), "ValidationError", "arn:a:a::aaaaaaaaaa: is invalid"),
        (dict(RoleSessionName="Session1:2"), "ValidationError",
         "1 validation error detected: Value 'Session1:2' at 'roleSessionName' failed to satisfy "
         r"constraint: Member must satisfy regular expression pattern: [\w+=,.@-]*"),
        (dict(RoleSessionName="s" * 65), "ValidationError",
         f"1 validation error detected: Value '{'s' * 65}' at 'roleSessionName' failed to satisfy "
         "constraint: Member must have length less than or equal to 64"),
        (dict(Tags=[{"Key": "SessionTag1", "Value": "a"}, {"Key": "sessiontag1", "Value": "b"}]),
         "InvalidParameterValue", "Duplicate tag keys found. Please note that Tag keys are case insensitive."),
        (dict(Tags=[{"Key": "a", "Value": "1"}], TransitiveTagKeys=["b"]), "InvalidParameterValue",
         "The specified transitive tag key must be included in the requested tags."),
        (dict(DurationSeconds=43200), "ValidationError",
         "The requested DurationSeconds exceeds the MaxSessionDuration set for this role."),
        (dict(Policy='{"Version": "2012-10-17", "Statement": [}'), "MalformedPolicyDocument", None),
        (dict(RoleArn=f"arn:aws:iam::{account}:role/missing"), "AccessDenied",
         f"User: arn:aws:iam::{account}:user/admin is not authorized to perform: sts:AssumeRole on "
         f"resource: arn:aws:iam::{account}:role/missing"),
    ]
    for extra, expected_code, message in cases:
        request = dict(RoleArn=role["Arn"], RoleSessionName="s1") | extra
        with pytest.raises(ClientError) as excinfo:
            sts.assume_role(**request)
        assert code(excinfo) == expected_code, (extra, error(excinfo))
        if message is not None:
            assert error(excinfo)[1] == message, extra

    # With a policy the answer has PackedPolicySize; a source identity is answered and kept down
    # the chain, where it cannot be changed.
    answer = sts.assume_role(RoleArn=role["Arn"], RoleSessionName="s1", SourceIdentity="alice@example.com",
                             Policy=policy(allow("sts:AssumeRole")))
    assert 1 <= answer["PackedPolicySize"] <= 100
    assert answer["SourceIdentity"] == "alice@example.com"


def test_get_session_token_carries_the_users_permissions(tegata, account):
    iam = tegata.client("iam")
    user = iam.create_user(UserName="dave")["User"]
    key = iam.create_access_key(UserName="dave")["AccessKey"]
    iam.put_user_policy(UserName="dave", PolicyName="pools", PolicyDocument=policy(
        allow("cognito-identity:ListIdentityPools"), allow("sts:GetAccessKeyInfo")))
    sts = as_key(tegata, "sts", key)
    with pytest.raises(ClientError) as excinfo:
        sts.get_session_token(DurationSeconds=129601)
    assert code(excinfo) == "ValidationError"
    answer = sts.get_session_token(DurationSeconds=900)
    assert set(answer) - {"ResponseMetadata"} == {"Credentials"}
    credentials = answer["Credentials"]
    assert credentials["AccessKeyId"].startswith("ASIA") and len(credentials["AccessKeyId"]) == 20
    assert 800 < lifetime(credentials) <= 900
    assert 43100 < lifetime(sts.get_session_token()["Credentials"]) <= 43200, "12 hours by default"

    # The session is the user: its ARN and UserId, its permissions and no more.
    session_sts = as_session(tegata, "sts", credentials)
    identity = session_sts.get_caller_identity()
    assert (identity["Account"], identity["Arn"], identity["UserId"]) == (account, user["Arn"], user["UserId"])
    as_session(tegata, "cognito-identity", credentials).list_identity_pools(MaxResults=5)
    with pytest.raises(ClientError) as excinfo:
        as_session(tegata, "cognito-identity", credentials).create_identity_pool(
            IdentityPoolName="nope", AllowUnauthenticatedIdentities=False)
    assert f"User: {user['Arn']} is not authorized to perform: cognito-identity:CreateIdentityPool" \
        in denied(excinfo)
    with pytest.raises(ClientError) as excinfo:
        session_sts.get_session_token()
    assert error(excinfo) == ("AccessDenied", "Cannot call GetSessionToken with session credentials")

    # GetAccessKeyInfo names the account of a key, long-term or temporary.
    for key_id in (key["AccessKeyId"], credentials["AccessKeyId"]):
        assert sts.get_access_key_info(AccessKeyId=key_id)["Account"] == account
    with pytest.raises(ClientError) as excinfo:
        sts.get_access_key_info(AccessKeyId="AKIA-not-a-key-id")
    assert code(excinfo) == "ValidationError"
    # It needs its permission.
    with pytest.raises(ClientError) as excinfo:
        as_key(tegata, "sts", user_with_key(tegata, "erin")).get_access_key_info(AccessKeyId=key["AccessKeyId"])
    assert "sts:GetAccessKeyInfo" in denied(excinfo)


def test_get_federation_token(tegata, account):
    iam = tegata.client("iam")
    key = user_with_key(tegata, "broker")
    iam.put_user_policy(UserName="broker", PolicyName="federate", PolicyDocument=policy(
        allow("sts:GetFederationToken", f"arn:aws:sts::{account}:federated-user/*"),
        allow("cognito-identity:ListIdentityPools")))
    sts = as_key(tegata, "sts", key)
    narrow = policy(allow("cognito-identity:ListIdentityPools"))
    answer = sts.get_federation_token(Name="carol", Policy=narrow, DurationSeconds=900)
    conforms(sts.meta.service_model.operation_model("GetFederationToken").output_shape, answer,
             "GetFederationToken")
    assert answer["FederatedUser"] == {"Arn": f"arn:aws:sts::{account}:federated-user/carol",
                                       "FederatedUserId": f"{account}:carol"}
    assert 1 <= answer["PackedPolicySize"] <= 100
    federated = answer["Credentials"]
    assert as_session(tegata, "sts", federated).get_caller_identity()["Arn"] == \
        f"arn:aws:sts::{account}:federated-user/carol"
    as_session(tegata, "cognito-identity", federated).list_identity_pools(MaxResults=5)

    # Without a policy the federated user holds nothing, and PackedPolicySize is 0.
    bare = sts.get_federation_token(Name="dan")
    assert bare["PackedPolicySize"] == 0
    with pytest.raises(ClientError) as excinfo:
        as_session(tegata, "cognito-identity", bare["Credentials"]).list_identity_pools(MaxResults=5)
    assert "because no session policy allows" in denied(excinfo)
    # A federated user's credentials call no other STS operation.
    with pytest.raises(ClientError) as excinfo:
        as_session(tegata, "sts", federated).get_federation_token(Name="again", Policy=narrow)
    assert code(excinfo) == "AccessDenied"

    # A policy over 2 048 characters is quoted back whole (iam-facts §4).
    long_policy = policy(allow("cognito-identity:ListIdentityPools", "arn:aws:x:::" + "r" * 2100))
    with pytest.raises(ClientError) as excinfo:
        sts.get_federation_token(Name="erin", Policy=long_policy)
    assert error(excinfo) == ("ValidationError", f"1 validation error detected: Value '{long_policy}' at "
                              "'policy' failed to satisfy constraint: Member must have length less than or "
                              "equal to 2048")
    # The name is the resource: a user allowed other names only is refused.
    with pytest.raises(ClientError) as excinfo:
        as_key(tegata, "sts", user_with_key(tegata, "nobody")).get_federation_token(Name="carol")
    assert f"on resource: arn:aws:sts::{account}:federated-user/carol" in denied(excinfo)


def test_explained_denials_decode_to_the_statement_that_denied(tegata, account):
    iam = tegata.client("iam")
    key = user_with_key(tegata, "explorer")
    iam.put_user_policy(UserName="explorer", PolicyName="reads", PolicyDocument=policy(
        {"Sid": "ReadIam", "Effect": "Allow", "Action": "iam:Get*", "Resource": "*"},
        {"Sid": "NotTheAdmin", "Effect": "Deny", "Action": "iam:GetUser",
         "Resource": f"arn:aws:iam::{account}:user/admin"}))
    explorer = as_key(tegata, "iam", key)

    # Off by default: the message is AWS's, and carries nothing encoded.
    with pytest.raises(ClientError) as excinfo:
        explorer.get_user(UserName="admin")
    assert "Encoded authorization failure message" not in denied(excinfo)

    tegata.restart(extra_args=["--explain-denials"])
    explorer = as_key(tegata, "iam", key)
    with pytest.raises(ClientError) as excinfo:
        explorer.get_user(UserName="admin")
    message = denied(excinfo)
    prefix = (f"User: arn:aws:iam::{account}:user/explorer is not authorized to perform: iam:GetUser on "
              f"resource: arn:aws:iam::{account}:user/admin with an explicit deny in an identity-based policy "
              "Encoded authorization failure message: ")
    assert message.startswith(prefix), message
    encoded = message[len(prefix):]
    assert "NotTheAdmin" not in encoded and "explorer" not in encoded, "sealed, not merely encoded"

    # The README's command, with the AWS CLI.
    cli = subprocess.run(
        [str(Path(sys.executable).with_name("aws")), "--endpoint-url", tegata.url, "sts",
         "decode-authorization-message", "--encoded-message", encoded, "--query", "DecodedMessage",
         "--output", "text"], capture_output=True, text=True, timeout=60, check=True)
    decoded = json.loads(cli.stdout)
    assert decoded == json.loads(tegata.client("sts").decode_authorization_message(
        EncodedMessage=encoded)["DecodedMessage"])
    assert decoded["allowed"] is False and decoded["explicitDeny"] is True
    assert decoded["context"]["principal"]["arn"] == f"arn:aws:iam::{account}:user/explorer"
    assert decoded["context"]["action"] == "iam:GetUser"
    assert decoded["context"]["resource"] == f"arn:aws:iam::{account}:user/admin"
    keys = {item["key"] for item in decoded["context"]["conditions"]["items"]}
    assert {"aws:username", "aws:principalarn", "aws:requestedregion"} <= keys
    denying = [s for s in decoded["matchedStatements"]["items"] if s["effect"] == "DENY"]
    assert [(s["statementId"], s["policy"]) for s in denying] == [
        ("NotTheAdmin", "inline policy reads of user explorer")]
    assert decoded["reason"] == "with an explicit deny in an identity-based policy"

    # An implicit deny explains itself too: no statement matched the action.
    with pytest.raises(ClientError) as excinfo:
        explorer.list_users()
    implicit = json.loads(tegata.client("sts").decode_authorization_message(
        EncodedMessage=denied(excinfo).rsplit(" ", 1)[1])["DecodedMessage"])
    assert implicit["explicitDeny"] is False and implicit["matchedStatements"]["items"] == []
    assert implicit["reason"] == "because no identity-based policy allows the iam:ListUsers action"

    # Decoding is itself authorized, and only this deployment's messages decode.
    with pytest.raises(ClientError) as excinfo:
        as_key(tegata, "sts", key).decode_authorization_message(EncodedMessage=encoded)
    assert "sts:DecodeAuthorizationMessage" in denied(excinfo)
    tampered = encoded[:-8] + ("A" if encoded[-8] != "A" else "B") + encoded[-7:]
    with pytest.raises(ClientError) as excinfo:
        tegata.client("sts").decode_authorization_message(EncodedMessage=tampered)
    assert code(excinfo) == "InvalidAuthorizationMessageException"


def test_managed_session_policies_narrow_every_kind_of_session(tegata, account):
    iam = tegata.client("iam")
    pool_id = create_pool(tegata, "narrowed")
    role_arn = create_role(tegata, "broad", pinned_trust_policy(pool_id))
    iam.update_assume_role_policy(RoleName="broad", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [
            json.loads(json.dumps(pinned_trust_policy(pool_id)))["Statement"][0],
            {"Effect": "Allow", "Principal": {"AWS": account}, "Action": "sts:AssumeRole"}]}))
    iam.put_role_policy(RoleName="broad", PolicyName="both", PolicyDocument=policy(
        allow("cognito-identity:ListIdentityPools"), allow("iam:ListRoles")))
    pools_only = iam.create_policy(PolicyName="pools-only", PolicyDocument=policy(
        allow("cognito-identity:ListIdentityPools")))["Policy"]["Arn"]

    def can(credentials):
        pools, roles = True, True
        try:
            as_session(tegata, "cognito-identity", credentials).list_identity_pools(MaxResults=5)
        except ClientError as e:
            assert "because no session policy allows" in e.response["Error"]["Message"]
            pools = False
        try:
            as_session(tegata, "iam", credentials).list_roles()
        except ClientError as e:
            assert "because no session policy allows" in e.response["Error"]["Message"]
            roles = False
        return pools, roles

    sts = tegata.client("sts")
    answer = sts.assume_role(RoleArn=role_arn, RoleSessionName="narrow", PolicyArns=[{"arn": pools_only}])
    assert 1 <= answer["PackedPolicySize"] <= 100, "the ARN counts, not the document"
    by_role = answer["Credentials"]
    assert can(by_role) == (True, False)
    web = assume(tegata, role_arn, token_for(tegata, pool_id), PolicyArns=[{"arn": pools_only}])
    assert can(web["Credentials"]) == (True, False)
    both = sts.assume_role(RoleArn=role_arn, RoleSessionName="both", Policy=policy(allow("iam:ListRoles")),
                           PolicyArns=[{"arn": pools_only}])["Credentials"]
    assert can(both) == (True, True), "session policies allow together"

    # The managed policy applies as it now is: a new default version changes the sessions.
    iam.create_policy_version(PolicyArn=pools_only, PolicyDocument=policy(allow("iam:ListRoles")),
                              SetAsDefault=True)
    assert can(by_role) == (False, True)
    # An AWS managed policy may narrow a session too; one that does not exist is refused.
    aws_managed = "arn:aws:iam::aws:policy/IAMReadOnlyAccess"
    read_only = sts.assume_role(RoleArn=role_arn, RoleSessionName="ro", PolicyArns=[{"arn": aws_managed}])
    assert can(read_only["Credentials"]) == (False, True)
    missing = f"arn:aws:iam::{account}:policy/missing"
    with pytest.raises(ClientError) as excinfo:
        sts.assume_role(RoleArn=role_arn, RoleSessionName="x1", PolicyArns=[{"arn": missing}])
    assert error(excinfo) == ("MalformedPolicyDocument", f"Policy {missing} does not exist or is not attachable.")

    # A federated user may be given managed policies alone.
    cognito_read_only = "arn:aws:iam::aws:policy/AmazonCognitoReadOnly"
    federated = sts.get_federation_token(Name="fed", PolicyArns=[{"arn": cognito_read_only}])
    assert federated["PackedPolicySize"] >= 1
    as_session(tegata, "cognito-identity", federated["Credentials"]).list_identity_pools(MaxResults=5)
    # Deleting the policy takes what it allowed from the sessions that named it.
    iam.set_default_policy_version(PolicyArn=pools_only, VersionId="v1")
    assert can(by_role) == (True, False)
    iam.delete_policy_version(PolicyArn=pools_only, VersionId="v2")
    iam.delete_policy(PolicyArn=pools_only)
    assert can(by_role) == (False, False)


def test_trust_and_caller_policies_decide_together(tegata, account):
    iam = tegata.client("iam")
    anyone = iam.create_role(RoleName="anyone", AssumeRolePolicyDocument=trust("*"))["Role"]
    key = user_with_key(tegata, "plain")
    sts = as_key(tegata, "sts", key)
    # `*` is not the caller's own ARN: the caller's policies must still allow.
    with pytest.raises(ClientError) as excinfo:
        sts.assume_role(RoleArn=anyone["Arn"], RoleSessionName="s1")
    assert "because no identity-based policy allows the sts:AssumeRole action" in denied(excinfo)
    iam.put_user_policy(UserName="plain", PolicyName="assume", PolicyDocument=policy(
        allow("sts:AssumeRole"),
        {"Effect": "Deny", "Action": "sts:AssumeRole", "Resource": "*",
         "Condition": {"StringEquals": {"sts:RoleSessionName": "admin"}}}))
    sts.assume_role(RoleArn=anyone["Arn"], RoleSessionName="s1")
    # The caller's policies see the request's sts: keys.
    with pytest.raises(ClientError) as excinfo:
        sts.assume_role(RoleArn=anyone["Arn"], RoleSessionName="admin")
    assert "with an explicit deny in an identity-based policy" in denied(excinfo)

    # The trust policy sees the caller's own tags.
    guarded = iam.create_role(RoleName="guarded", AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": account}, "Action": "sts:AssumeRole"},
            {"Effect": "Deny", "Principal": {"AWS": account}, "Action": "sts:AssumeRole",
             "Condition": {"StringEquals": {"aws:PrincipalTag/team": "blocked"}}}]}))["Role"]
    sts.assume_role(RoleArn=guarded["Arn"], RoleSessionName="s1")
    iam.tag_user(UserName="plain", Tags=[{"Key": "team", "Value": "blocked"}])
    with pytest.raises(ClientError) as excinfo:
        sts.assume_role(RoleArn=guarded["Arn"], RoleSessionName="s1")
    assert code(excinfo) == "AccessDenied"


def test_a_source_identity_needs_its_permission_at_every_link(tegata, account):
    iam = tegata.client("iam")
    first = iam.create_role(RoleName="first", AssumeRolePolicyDocument=trust(
        account, "sts:AssumeRole", "sts:SetSourceIdentity"))["Role"]
    plain = iam.create_role(RoleName="plain-next", AssumeRolePolicyDocument=trust(first["Arn"]))["Role"]
    willing = iam.create_role(RoleName="willing-next", AssumeRolePolicyDocument=trust(
        first["Arn"], "sts:AssumeRole", "sts:SetSourceIdentity"))["Role"]
    iam.put_role_policy(RoleName="first", PolicyName="chain", PolicyDocument=policy(
        allow(["sts:AssumeRole", "sts:SetSourceIdentity"])))
    session = tegata.client("sts").assume_role(RoleArn=first["Arn"], RoleSessionName="s1",
                                               SourceIdentity="alice")["Credentials"]
    chained = as_session(tegata, "sts", session)
    with pytest.raises(ClientError) as excinfo:
        chained.assume_role(RoleArn=plain["Arn"], RoleSessionName="s2")
    assert "sts:SetSourceIdentity" in denied(excinfo)
    with pytest.raises(ClientError) as excinfo:
        chained.assume_role(RoleArn=willing["Arn"], RoleSessionName="s2", SourceIdentity="mallory")
    assert code(excinfo) == "AccessDenied", "a source identity cannot be changed"
    kept = chained.assume_role(RoleArn=willing["Arn"], RoleSessionName="s2")
    assert kept["SourceIdentity"] == "alice"


def test_user_and_federated_sessions_call_what_aws_lets_them(tegata, account):
    iam = tegata.client("iam")
    key = user_with_key(tegata, "limited")
    iam.put_user_policy(UserName="limited", PolicyName="all", PolicyDocument=policy(allow("*")))
    target = iam.create_role(RoleName="target", AssumeRolePolicyDocument=trust(account))["Role"]
    sts = as_key(tegata, "sts", key)
    user_session = sts.get_session_token()["Credentials"]
    federated = sts.get_federation_token(Name="fed", Policy=policy(allow("*")))["Credentials"]
    for credentials in (user_session, federated):
        # IAM refuses them (AWS wants MFA for the first, and never takes the second).
        with pytest.raises(ClientError) as excinfo:
            as_session(tegata, "iam", credentials).create_access_key(UserName="limited")
        assert code(excinfo) == "InvalidClientTokenId"
        as_session(tegata, "sts", credentials).get_caller_identity()
        as_session(tegata, "cognito-identity", credentials).list_identity_pools(MaxResults=5)
    # A user's session may assume a role; a federated user's may call nothing else of STS.
    as_session(tegata, "sts", user_session).assume_role(RoleArn=target["Arn"], RoleSessionName="s1")
    for call in (lambda c: c.assume_role(RoleArn=target["Arn"], RoleSessionName="s1"),
                 lambda c: c.get_access_key_info(AccessKeyId=key["AccessKeyId"])):
        with pytest.raises(ClientError) as excinfo:
            call(as_session(tegata, "sts", federated))
        assert code(excinfo) == "AccessDenied"

    # Tags on a federated user need sts:TagSession.
    iam.put_user_policy(UserName="limited", PolicyName="all", PolicyDocument=policy(
        allow("sts:GetFederationToken")))
    with pytest.raises(ClientError) as excinfo:
        sts.get_federation_token(Name="tagged", Tags=[{"Key": "team", "Value": "x"}])
    assert "sts:TagSession" in denied(excinfo)
