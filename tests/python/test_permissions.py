"""Permissions: every signed request is authorized by the caller's IAM policies. Users, access
keys, groups, managed policies and boundaries through boto3, and what each lets a caller do."""

import json
import time

import pytest
from botocore.exceptions import ClientError

from test_sts import PROVIDER, assume, code, create_pool, create_role, pinned_trust_policy, token_for


def policy(*statements):
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def allow(action, resource="*"):
    return {"Effect": "Allow", "Action": action, "Resource": resource}


def deny(action, resource="*"):
    return {"Effect": "Deny", "Action": action, "Resource": resource}


def user_with_key(tegata, name, **create):
    iam = tegata.client("iam")
    iam.create_user(UserName=name, **create)
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return key


def as_key(tegata, service, key):
    return tegata.client(service, aws_access_key_id=key["AccessKeyId"],
                         aws_secret_access_key=key["SecretAccessKey"])


def denied(excinfo):
    error = excinfo.value.response["Error"]
    assert error["Code"] in ("AccessDenied", "AccessDeniedException"), error
    return error["Message"]


def wait_for(check, seconds=3.0):
    """Poll `check` until it holds (caches on another node hold a read for a second)."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            check()
            return
        except AssertionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def test_the_backend_user_gets_tokens_for_its_pool_only(tegata):
    iam = tegata.client("iam")
    pool_id = create_pool(tegata, "app")
    other_pool = create_pool(tegata, "other")
    account = tegata.client("sts").get_caller_identity()["Account"]
    key = user_with_key(tegata, "backend")
    iam.put_user_policy(UserName="backend", PolicyName="tokens", PolicyDocument=policy(allow(
        "cognito-identity:GetOpenIdTokenForDeveloperIdentity",
        f"arn:aws:cognito-identity:us-east-1:{account}:identitypool/{pool_id}",
    )))
    cognito = as_key(tegata, "cognito-identity", key)
    token = cognito.get_open_id_token_for_developer_identity(
        IdentityPoolId=pool_id, Logins={PROVIDER: "alice"})["Token"]
    assert token.count(".") == 2

    with pytest.raises(ClientError) as excinfo:
        cognito.get_open_id_token_for_developer_identity(IdentityPoolId=other_pool, Logins={PROVIDER: "alice"})
    assert denied(excinfo) == (
        f"User: arn:aws:iam::{account}:user/backend is not authorized to perform: "
        f"cognito-identity:GetOpenIdTokenForDeveloperIdentity on resource: "
        f"arn:aws:cognito-identity:us-east-1:{account}:identitypool/{other_pool} because no "
        f"identity-based policy allows the cognito-identity:GetOpenIdTokenForDeveloperIdentity action"
    )
    with pytest.raises(ClientError) as excinfo:
        cognito.create_identity_pool(IdentityPoolName="mine", AllowUnauthenticatedIdentities=False)
    assert excinfo.value.response["Error"]["Code"] == "AccessDeniedException"
    with pytest.raises(ClientError) as excinfo:
        as_key(tegata, "iam", key).create_user(UserName="mallory")
    assert excinfo.value.response["Error"]["Code"] == "AccessDenied"
    assert excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    # GetCallerIdentity needs no permission.
    assert as_key(tegata, "sts", key).get_caller_identity()["Arn"] == f"arn:aws:iam::{account}:user/backend"


def test_the_administrator_is_a_user_with_administrator_access(tegata):
    iam = tegata.client("iam")
    admin = iam.get_user()["User"]
    assert admin["UserName"] == "admin"
    attached = iam.list_attached_user_policies(UserName="admin")["AttachedPolicies"]
    assert attached == [{"PolicyName": "AdministratorAccess",
                         "PolicyArn": "arn:aws:iam::aws:policy/AdministratorAccess"}]
    # Detaching it takes every permission away, this call's successors included.
    iam.detach_user_policy(UserName="admin", PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")
    with pytest.raises(ClientError) as excinfo:
        iam.list_users()
    assert "because no identity-based policy allows the iam:ListUsers action" in denied(excinfo)


def test_role_sessions_get_their_roles_permissions_narrowed_by_session_policies(tegata):
    iam = tegata.client("iam")
    pool_id = create_pool(tegata)
    role_arn = create_role(tegata, "app", pinned_trust_policy(pool_id))
    iam.put_role_policy(RoleName="app", PolicyName="self", PolicyDocument=policy(allow("iam:GetRole", role_arn)))

    def session(**extra):
        creds = assume(tegata, role_arn, token_for(tegata, pool_id), **extra)["Credentials"]
        return tegata.client("iam", aws_access_key_id=creds["AccessKeyId"],
                             aws_secret_access_key=creds["SecretAccessKey"],
                             aws_session_token=creds["SessionToken"])

    assert session().get_role(RoleName="app")["Role"]["Arn"] == role_arn
    with pytest.raises(ClientError) as excinfo:
        session().get_role(RoleName="other")
    assert denied(excinfo).endswith("because no identity-based policy allows the iam:GetRole action")

    # A session policy that does not allow it: the intersection allows nothing.
    narrow = session(Policy=policy(allow("iam:ListRoles")))
    with pytest.raises(ClientError) as excinfo:
        narrow.get_role(RoleName="app")
    assert denied(excinfo).endswith("because no session policy allows the iam:GetRole action")

    # An explicit deny in a managed policy attached to the role wins over the allow.
    arn = iam.create_policy(PolicyName="no-get-role", PolicyDocument=policy(deny("iam:GetRole")))["Policy"]["Arn"]
    iam.attach_role_policy(RoleName="app", PolicyArn=arn)
    with pytest.raises(ClientError) as excinfo:
        session().get_role(RoleName="app")
    assert denied(excinfo).endswith("with an explicit deny in an identity-based policy")
    with pytest.raises(ClientError) as excinfo:
        iam.delete_role(RoleName="app")
    assert code(excinfo) == "DeleteConflict"


def test_a_permissions_boundary_limits_a_user(tegata):
    iam = tegata.client("iam")
    boundary = iam.create_policy(PolicyName="read-only-users",
                                 PolicyDocument=policy(allow("iam:GetUser")))["Policy"]["Arn"]
    key = user_with_key(tegata, "bounded")
    iam.attach_user_policy(UserName="bounded", PolicyArn="arn:aws:iam::aws:policy/IAMReadOnlyAccess")
    iam.put_user_permissions_boundary(UserName="bounded", PermissionsBoundary=boundary)
    assert iam.get_user(UserName="bounded")["User"]["PermissionsBoundary"] == {
        "PermissionsBoundaryType": "Policy", "PermissionsBoundaryArn": boundary}
    bounded = as_key(tegata, "iam", key)
    assert bounded.get_user(UserName="bounded")["User"]["UserName"] == "bounded"
    with pytest.raises(ClientError) as excinfo:
        bounded.list_users()
    assert denied(excinfo).endswith("because no permissions boundary allows the iam:ListUsers action")
    iam.delete_user_permissions_boundary(UserName="bounded")
    assert [u["UserName"] for u in bounded.list_users()["Users"]] == ["admin", "bounded"]


def test_groups_give_their_members_permissions(tegata):
    iam = tegata.client("iam")
    key = user_with_key(tegata, "dev")
    iam.create_group(GroupName="readers", Path="/team/")
    iam.attach_group_policy(GroupName="readers", PolicyArn="arn:aws:iam::aws:policy/IAMReadOnlyAccess")
    dev = as_key(tegata, "iam", key)
    with pytest.raises(ClientError):
        dev.list_roles()
    iam.add_user_to_group(GroupName="readers", UserName="dev")
    assert dev.list_roles()["Roles"] == []
    group = iam.get_group(GroupName="readers")
    assert group["Group"]["Arn"].endswith(":group/team/readers")
    assert [u["UserName"] for u in group["Users"]] == ["dev"]
    assert [g["GroupName"] for g in iam.list_groups_for_user(UserName="dev")["Groups"]] == ["readers"]
    with pytest.raises(ClientError) as excinfo:
        iam.delete_group(GroupName="readers")
    assert excinfo.value.response["Error"]["Message"] == "Cannot delete entity, must remove users from group first."
    iam.remove_user_from_group(GroupName="readers", UserName="dev")
    # Not a member any more: AWS answers 200 again.
    iam.remove_user_from_group(GroupName="readers", UserName="dev")
    with pytest.raises(ClientError):
        dev.list_roles()
    iam.put_group_policy(GroupName="readers", PolicyName="inline", PolicyDocument=policy(allow("iam:ListUsers")))
    assert iam.list_group_policies(GroupName="readers")["PolicyNames"] == ["inline"]
    document = iam.get_group_policy(GroupName="readers", PolicyName="inline")["PolicyDocument"]
    assert document["Statement"][0]["Action"] == "iam:ListUsers"


def test_access_keys_inactive_or_deleted_are_refused(tegata):
    iam = tegata.client("iam")
    key = user_with_key(tegata, "worker")
    worker = as_key(tegata, "sts", key)
    assert worker.get_caller_identity()["Arn"].endswith(":user/worker")
    iam.update_access_key(UserName="worker", AccessKeyId=key["AccessKeyId"], Status="Inactive")
    with pytest.raises(ClientError) as excinfo:
        worker.get_caller_identity()
    assert code(excinfo) == "InvalidClientTokenId"
    iam.update_access_key(UserName="worker", AccessKeyId=key["AccessKeyId"], Status="Active")
    assert worker.get_caller_identity()["UserId"] == iam.get_user(UserName="worker")["User"]["UserId"]
    second = iam.create_access_key(UserName="worker")["AccessKey"]
    with pytest.raises(ClientError) as excinfo:
        iam.create_access_key(UserName="worker")
    assert code(excinfo) == "LimitExceeded"
    assert excinfo.value.response["Error"]["Message"] == "Cannot exceed quota for AccessKeysPerUser: 2"
    listed = iam.list_access_keys(UserName="worker")["AccessKeyMetadata"]
    assert sorted(k["AccessKeyId"] for k in listed) == sorted([key["AccessKeyId"], second["AccessKeyId"]])
    assert all("SecretAccessKey" not in k for k in listed)
    used = iam.get_access_key_last_used(AccessKeyId=key["AccessKeyId"])
    assert used["UserName"] == "worker"
    wait_for(lambda: assert_used(iam, key["AccessKeyId"]))
    unused = iam.get_access_key_last_used(AccessKeyId=second["AccessKeyId"])["AccessKeyLastUsed"]
    assert unused == {"ServiceName": "N/A", "Region": "N/A"}

    with pytest.raises(ClientError) as excinfo:
        iam.delete_user(UserName="worker")
    assert excinfo.value.response["Error"]["Message"] == "Cannot delete entity, must delete access keys first."
    iam.delete_access_key(UserName="worker", AccessKeyId=key["AccessKeyId"])
    with pytest.raises(ClientError) as excinfo:
        worker.get_caller_identity()
    assert code(excinfo) == "InvalidClientTokenId"
    iam.delete_access_key(UserName="worker", AccessKeyId=second["AccessKeyId"])
    iam.put_user_policy(UserName="worker", PolicyName="p", PolicyDocument=policy(allow("iam:GetUser")))
    with pytest.raises(ClientError) as excinfo:
        iam.delete_user(UserName="worker")
    assert excinfo.value.response["Error"]["Message"] == "Cannot delete entity, must delete policies first."
    iam.delete_user_policy(UserName="worker", PolicyName="p")
    iam.delete_user(UserName="worker")
    # The secrets were shown once, in CreateAccessKey's answer, and never logged.
    log = "".join(tegata.log)
    assert key["SecretAccessKey"] not in log and second["SecretAccessKey"] not in log
    with pytest.raises(ClientError) as excinfo:
        iam.get_user(UserName="worker")
    assert excinfo.value.response["Error"]["Message"] == "The user with name worker cannot be found."


def assert_used(iam, access_key_id):
    last = iam.get_access_key_last_used(AccessKeyId=access_key_id)["AccessKeyLastUsed"]
    assert last["ServiceName"] == "sts" and last["Region"] == "us-east-1" and "LastUsedDate" in last


def test_users_answer_with_aws_shapes_and_messages(tegata):
    iam = tegata.client("iam")
    created = iam.create_user(UserName="carol", Path="/staff/", Tags=[{"Key": "team", "Value": "a"}])["User"]
    assert created["Arn"].endswith(":user/staff/carol") and created["UserId"].startswith("AIDA")
    assert created["Tags"] == [{"Key": "team", "Value": "a"}]
    with pytest.raises(ClientError) as excinfo:
        iam.create_user(UserName="CAROL")
    assert code(excinfo) == "EntityAlreadyExists"
    assert excinfo.value.response["Error"]["Message"] == "User with name CAROL already exists."
    iam.tag_user(UserName="carol", Tags=[{"Key": "Team", "Value": "b"}, {"Key": "env", "Value": "dev"}])
    assert iam.list_user_tags(UserName="carol")["Tags"] == [{"Key": "Team", "Value": "b"}, {"Key": "env", "Value": "dev"}]
    iam.untag_user(UserName="carol", TagKeys=["ENV"])
    listed = iam.list_users(PathPrefix="/staff/")["Users"]
    assert [u["UserName"] for u in listed] == ["carol"] and "Tags" not in listed[0]
    iam.update_user(UserName="carol", NewUserName="caroline", NewPath="/ops/")
    renamed = iam.get_user(UserName="caroline")["User"]
    assert renamed["UserId"] == created["UserId"] and renamed["Arn"].endswith(":user/ops/caroline")
    assert renamed["Tags"] == [{"Key": "Team", "Value": "b"}]


def test_managed_policies_and_their_versions(tegata):
    iam = tegata.client("iam")
    created = iam.create_policy(PolicyName="p", Path="/app/", PolicyDocument=policy(allow("iam:GetUser")),
                                Description="first")["Policy"]
    arn = created["Arn"]
    assert arn.endswith(":policy/app/p") and created["DefaultVersionId"] == "v1"
    assert created["AttachmentCount"] == 0 and "Description" not in created
    assert iam.get_policy(PolicyArn=arn)["Policy"]["Description"] == "first"
    with pytest.raises(ClientError) as excinfo:
        iam.create_policy(PolicyName="p", PolicyDocument=policy(allow("iam:GetUser")))
    assert excinfo.value.response["Error"]["Message"] == "A policy called p already exists. Duplicate names are not allowed."
    for n in range(2, 6):
        version = iam.create_policy_version(PolicyArn=arn, PolicyDocument=policy(allow(f"iam:Get{n}")),
                                            SetAsDefault=(n == 3))["PolicyVersion"]
        assert version["VersionId"] == f"v{n}"
    with pytest.raises(ClientError) as excinfo:
        iam.create_policy_version(PolicyArn=arn, PolicyDocument=policy(allow("iam:GetUser")))
    assert code(excinfo) == "LimitExceeded"
    versions = iam.list_policy_versions(PolicyArn=arn)["Versions"]
    assert [v["VersionId"] for v in versions] == ["v5", "v4", "v3", "v2", "v1"]
    assert [v["VersionId"] for v in versions if v["IsDefaultVersion"]] == ["v3"]
    with pytest.raises(ClientError) as excinfo:
        iam.delete_policy_version(PolicyArn=arn, VersionId="v3")
    assert excinfo.value.response["Error"]["Message"] == "Cannot delete the default version of a policy."
    iam.delete_policy_version(PolicyArn=arn, VersionId="v1")
    # Version numbers are never reused.
    assert iam.create_policy_version(PolicyArn=arn, PolicyDocument=policy(allow("iam:X")))["PolicyVersion"]["VersionId"] == "v6"
    document = iam.get_policy_version(PolicyArn=arn, VersionId="v3")["PolicyVersion"]["Document"]
    assert document["Statement"][0]["Action"] == "iam:Get3"
    with pytest.raises(ClientError) as excinfo:
        iam.get_policy_version(PolicyArn=arn, VersionId="v9")
    assert excinfo.value.response["Error"]["Message"] == f"Policy {arn} version v9 does not exist or is not attachable."

    iam.create_user(UserName="u")
    iam.attach_user_policy(UserName="u", PolicyArn=arn)
    assert iam.get_policy(PolicyArn=arn)["Policy"]["AttachmentCount"] == 1
    entities = iam.list_entities_for_policy(PolicyArn=arn)
    assert [u["UserName"] for u in entities["PolicyUsers"]] == ["u"]
    assert entities["PolicyGroups"] == [] and entities["PolicyRoles"] == []
    with pytest.raises(ClientError) as excinfo:
        iam.delete_policy(PolicyArn=arn)
    assert code(excinfo) == "DeleteConflict"
    with pytest.raises(ClientError) as excinfo:
        iam.attach_user_policy(UserName="u", PolicyArn="longpolicynamebutnoarn")
    assert excinfo.value.response["Error"]["Message"] == "ARN longpolicynamebutnoarn is not valid."
    missing = arn.replace(":policy/app/p", ":policy/nonexistent")
    with pytest.raises(ClientError) as excinfo:
        iam.attach_user_policy(UserName="u", PolicyArn=missing)
    assert excinfo.value.response["Error"]["Message"] == f"Policy {missing} does not exist or is not attachable."
    with pytest.raises(ClientError) as excinfo:
        iam.create_policy(PolicyName="bad", PolicyDocument="not json")
    assert code(excinfo) == "MalformedPolicyDocument"
    aws = iam.list_policies(Scope="AWS")["Policies"]
    assert "AdministratorAccess" in [p["PolicyName"] for p in aws]
    with pytest.raises(ClientError) as excinfo:
        iam.delete_policy(PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")
    assert code(excinfo) == "AccessDenied"


def test_the_simulator_and_real_requests_agree(tegata):
    """A table of requests, each simulated with SimulatePrincipalPolicy and then made for real
    with the principal's key: the simulator's decision is what the request gets."""
    iam = tegata.client("iam")
    account = tegata.client("sts").get_caller_identity()["Account"]
    pool_a = create_pool(tegata, "a")
    pool_b = create_pool(tegata, "b")
    create_role(tegata, "victim", pinned_trust_policy(pool_a))
    key = user_with_key(tegata, "sim", Path="/team/")
    user_arn = f"arn:aws:iam::{account}:user/team/sim"
    pool_arn = f"arn:aws:cognito-identity:us-east-1:{account}:identitypool/"
    # The signing user's ARN has its path, as AWS's does.
    assert as_key(tegata, "sts", key).get_caller_identity()["Arn"] == user_arn
    iam.put_user_policy(UserName="sim", PolicyName="own", PolicyDocument=policy(
        allow("iam:GetUser", "arn:aws:iam::*:user/team/${aws:username}"),
        allow("cognito-identity:DescribeIdentityPool", pool_arn + pool_a),
        allow(["iam:DeleteRole", "iam:GetRole"]),
    ))
    iam.create_group(GroupName="g")
    iam.add_user_to_group(GroupName="g", UserName="sim")
    deny_arn = iam.create_policy(PolicyName="no-delete", PolicyDocument=policy(deny("iam:DeleteRole")))["Policy"]["Arn"]
    iam.attach_group_policy(GroupName="g", PolicyArn=deny_arn)
    iam.put_group_policy(GroupName="g", PolicyName="lists",
                         PolicyDocument=policy(allow(["iam:ListRoles", "iam:ListUsers"])))
    boundary = iam.create_policy(PolicyName="bound", PolicyDocument=policy(
        allow(["iam:Get*", "iam:ListRoles", "iam:DeleteRole", "cognito-identity:*"])))["Policy"]["Arn"]
    iam.put_user_permissions_boundary(UserName="sim", PermissionsBoundary=boundary)

    real_iam = as_key(tegata, "iam", key)
    real_cognito = as_key(tegata, "cognito-identity", key)
    cases = [
        ("iam:GetUser", user_arn, lambda: real_iam.get_user(UserName="sim"), "allowed"),
        ("iam:GetUser", f"arn:aws:iam::{account}:user/admin", lambda: real_iam.get_user(UserName="admin"), "implicitDeny"),
        ("iam:ListRoles", "*", lambda: real_iam.list_roles(), "allowed"),
        ("iam:ListUsers", "*", lambda: real_iam.list_users(), "implicitDeny"),
        ("iam:DeleteRole", f"arn:aws:iam::{account}:role/victim", lambda: real_iam.delete_role(RoleName="victim"), "explicitDeny"),
        ("iam:GetRole", f"arn:aws:iam::{account}:role/victim", lambda: real_iam.get_role(RoleName="victim"), "allowed"),
        ("cognito-identity:DescribeIdentityPool", pool_arn + pool_a,
         lambda: real_cognito.describe_identity_pool(IdentityPoolId=pool_a), "allowed"),
        ("cognito-identity:DescribeIdentityPool", pool_arn + pool_b,
         lambda: real_cognito.describe_identity_pool(IdentityPoolId=pool_b), "implicitDeny"),
    ]
    # The simulator knows only the context it is given (AWS's does the same).
    username = [{"ContextKeyName": "aws:username", "ContextKeyValues": ["sim"], "ContextKeyType": "string"}]
    missing = iam.simulate_principal_policy(PolicySourceArn=user_arn, ActionNames=["iam:GetUser"],
                                            ResourceArns=[user_arn])["EvaluationResults"][0]
    assert missing["EvalDecision"] == "implicitDeny" and missing["MissingContextValues"] == ["aws:username"]
    for action, resource, call, expected in cases:
        result = iam.simulate_principal_policy(PolicySourceArn=user_arn, ActionNames=[action],
                                               ResourceArns=[resource],
                                               ContextEntries=username)["EvaluationResults"][0]
        assert result["EvalDecision"] == expected, (action, resource, result)
        assert result["EvalActionName"] == action and result["EvalResourceName"] == resource
        assert "PermissionsBoundaryDecisionDetail" in result
        try:
            call()
            outcome = "allowed"
        except ClientError as e:
            assert e.response["Error"]["Code"] in ("AccessDenied", "AccessDeniedException"), e.response
            message = e.response["Error"]["Message"]
            outcome = "explicitDeny" if "explicit deny" in message else "implicitDeny"
        assert outcome == expected, (action, resource)

    # The deny is reported with the statement that made it, by policy name and position.
    result = iam.simulate_principal_policy(PolicySourceArn=user_arn, ActionNames=["iam:DeleteRole"])["EvaluationResults"][0]
    sources = sorted(m["SourcePolicyId"] for m in result["MatchedStatements"])
    assert sources == ["bound", "no-delete", "own"]
    deny_match = next(m for m in result["MatchedStatements"] if m["SourcePolicyId"] == "no-delete")
    assert deny_match["SourcePolicyType"] == "IAM Policy"
    # The column just after the statement's brace, as AWS counts it.
    text = policy(deny("iam:DeleteRole"))
    assert deny_match["StartPosition"] == {"Line": 1, "Column": text.index("[{") + 3}
    assert deny_match["EndPosition"] == {"Line": 1, "Column": text.rindex("}]") + 2}
    with pytest.raises(ClientError) as excinfo:
        iam.simulate_principal_policy(PolicySourceArn=f"arn:aws:iam::{account}:user/nobody", ActionNames=["iam:GetUser"])
    assert excinfo.value.response["Error"]["Message"] == "The user with name nobody cannot be found."


def test_simulate_custom_policy_with_context(tegata):
    iam = tegata.client("iam")
    document = policy({"Effect": "Allow", "Action": "iam:GetUser", "Resource": "*",
                       "Condition": {"StringEquals": {"aws:RequestedRegion": "eu-west-1"}}})
    results = iam.simulate_custom_policy(PolicyInputList=[document], ActionNames=["iam:GetUser", "iam:ListUsers"])
    first, second = results["EvaluationResults"]
    assert first["EvalDecision"] == "implicitDeny" and first["MissingContextValues"] == ["aws:requestedregion"]
    assert second["EvalDecision"] == "implicitDeny"
    allowed = iam.simulate_custom_policy(
        PolicyInputList=[document], ActionNames=["iam:GetUser"],
        ContextEntries=[{"ContextKeyName": "aws:RequestedRegion", "ContextKeyValues": ["eu-west-1"],
                         "ContextKeyType": "string"}])["EvaluationResults"][0]
    assert allowed["EvalDecision"] == "allowed"
    assert allowed["MatchedStatements"][0]["SourcePolicyId"] == "PolicyInputList.1"
    with pytest.raises(ClientError) as excinfo:
        iam.simulate_custom_policy(PolicyInputList=["not json"], ActionNames=["iam:GetUser"])
    assert code(excinfo) == "MalformedPolicyDocument"


def test_resource_tags_decide(tegata):
    """aws:ResourceTag/* reads the tags of the pool, user or role a request acts on."""
    iam = tegata.client("iam")
    cognito = tegata.client("cognito-identity")
    blue = cognito.create_identity_pool(IdentityPoolName="blue", AllowUnauthenticatedIdentities=False,
                                        IdentityPoolTags={"team": "blue"})["IdentityPoolId"]
    red = cognito.create_identity_pool(IdentityPoolName="red", AllowUnauthenticatedIdentities=False,
                                       IdentityPoolTags={"team": "red"})["IdentityPoolId"]
    key = user_with_key(tegata, "blue-team")
    iam.put_user_policy(UserName="blue-team", PolicyName="own-pools", PolicyDocument=policy(
        {"Effect": "Allow", "Action": "cognito-identity:DescribeIdentityPool", "Resource": "*",
         "Condition": {"StringEquals": {"aws:ResourceTag/team": "blue"}}},
        {"Effect": "Allow", "Action": "iam:GetRole", "Resource": "*",
         "Condition": {"StringEquals": {"aws:ResourceTag/team": "${aws:PrincipalTag/team}"}}},
    ))
    iam.tag_user(UserName="blue-team", Tags=[{"Key": "team", "Value": "blue"}])
    mine = as_key(tegata, "cognito-identity", key)
    assert mine.describe_identity_pool(IdentityPoolId=blue)["IdentityPoolName"] == "blue"
    with pytest.raises(ClientError) as excinfo:
        mine.describe_identity_pool(IdentityPoolId=red)
    assert "no identity-based policy allows" in denied(excinfo)
    # A role's tags, compared with the caller's own tag.
    pool_id = create_pool(tegata)
    iam.create_role(RoleName="blue-role", AssumeRolePolicyDocument=json.dumps(pinned_trust_policy(pool_id)),
                    Tags=[{"Key": "team", "Value": "blue"}])
    iam.create_role(RoleName="red-role", AssumeRolePolicyDocument=json.dumps(pinned_trust_policy(pool_id)),
                    Tags=[{"Key": "team", "Value": "red"}])
    roles = as_key(tegata, "iam", key)
    assert roles.get_role(RoleName="blue-role")["Role"]["RoleName"] == "blue-role"
    with pytest.raises(ClientError):
        roles.get_role(RoleName="red-role")


def conforms(shape, value, where):
    """`value`, as botocore parsed it, fits `shape` of the service model: every required member is
    there and nothing else is (an element tegata misnamed would be dropped by botocore, and its
    absence shows here)."""
    kind = shape.type_name
    if kind == "structure":
        assert isinstance(value, dict), where
        for name in shape.required_members:
            assert name in value, f"{where}: required {name} missing"
        for name, member in value.items():
            if name == "ResponseMetadata":
                continue
            assert name in shape.members, f"{where}: unexpected {name}"
            conforms(shape.members[name], member, f"{where}.{name}")
    elif kind == "list":
        assert isinstance(value, list), where
        for n, item in enumerate(value):
            conforms(shape.member, item, f"{where}[{n}]")


def test_every_permissions_operation_answers_in_the_models_shape(tegata):
    iam = tegata.client("iam")
    model = iam.meta.service_model
    account = tegata.client("sts").get_caller_identity()["Account"]
    pool_id = create_pool(tegata)
    doc = policy(allow("iam:GetUser"))
    calls = [
        ("CreateUser", dict(UserName="shape", Path="/s/", Tags=[{"Key": "k", "Value": "v"}])),
        ("GetUser", dict(UserName="shape")),
        ("GetUser", {}),
        ("ListUsers", {}),
        ("TagUser", dict(UserName="shape", Tags=[{"Key": "k2", "Value": "v"}])),
        ("ListUserTags", dict(UserName="shape")),
        ("UntagUser", dict(UserName="shape", TagKeys=["k2"])),
        ("CreateAccessKey", dict(UserName="shape")),
        ("ListAccessKeys", dict(UserName="shape")),
        ("ListAccessKeys", {}),
        ("PutUserPolicy", dict(UserName="shape", PolicyName="p", PolicyDocument=doc)),
        ("GetUserPolicy", dict(UserName="shape", PolicyName="p")),
        ("ListUserPolicies", dict(UserName="shape")),
        ("CreateGroup", dict(GroupName="shapes")),
        ("AddUserToGroup", dict(GroupName="shapes", UserName="shape")),
        ("GetGroup", dict(GroupName="shapes")),
        ("ListGroups", {}),
        ("ListGroupsForUser", dict(UserName="shape")),
        ("PutGroupPolicy", dict(GroupName="shapes", PolicyName="g", PolicyDocument=doc)),
        ("GetGroupPolicy", dict(GroupName="shapes", PolicyName="g")),
        ("ListGroupPolicies", dict(GroupName="shapes")),
        ("CreatePolicy", dict(PolicyName="managed", PolicyDocument=doc, Description="d",
                              Tags=[{"Key": "k", "Value": "v"}])),
        ("GetPolicy", dict(PolicyArn=f"arn:aws:iam::{account}:policy/managed")),
        ("GetPolicy", dict(PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")),
        ("ListPolicies", dict(Scope="Local", OnlyAttached=False)),
        ("CreatePolicyVersion", dict(PolicyArn=f"arn:aws:iam::{account}:policy/managed", PolicyDocument=doc,
                                     SetAsDefault=True)),
        ("GetPolicyVersion", dict(PolicyArn=f"arn:aws:iam::{account}:policy/managed", VersionId="v2")),
        ("ListPolicyVersions", dict(PolicyArn=f"arn:aws:iam::{account}:policy/managed")),
        ("SetDefaultPolicyVersion", dict(PolicyArn=f"arn:aws:iam::{account}:policy/managed", VersionId="v1")),
        ("AttachUserPolicy", dict(UserName="shape", PolicyArn=f"arn:aws:iam::{account}:policy/managed")),
        ("AttachGroupPolicy", dict(GroupName="shapes", PolicyArn="arn:aws:iam::aws:policy/IAMReadOnlyAccess")),
        ("CreateRole", dict(RoleName="shape-role", AssumeRolePolicyDocument=json.dumps(pinned_trust_policy(pool_id)),
                            PermissionsBoundary=f"arn:aws:iam::{account}:policy/managed")),
        ("GetRole", dict(RoleName="shape-role")),
        ("AttachRolePolicy", dict(RoleName="shape-role", PolicyArn=f"arn:aws:iam::{account}:policy/managed")),
        ("ListAttachedUserPolicies", dict(UserName="shape")),
        ("ListAttachedGroupPolicies", dict(GroupName="shapes")),
        ("ListAttachedRolePolicies", dict(RoleName="shape-role")),
        ("ListEntitiesForPolicy", dict(PolicyArn=f"arn:aws:iam::{account}:policy/managed")),
        ("PutUserPermissionsBoundary", dict(UserName="shape",
                                            PermissionsBoundary=f"arn:aws:iam::{account}:policy/managed")),
        ("SimulatePrincipalPolicy", dict(PolicySourceArn=f"arn:aws:iam::{account}:user/s/shape",
                                         ActionNames=["iam:GetUser"], ResourceArns=["*"])),
        ("SimulateCustomPolicy", dict(PolicyInputList=[doc], ActionNames=["iam:GetUser"])),
        ("DeleteUserPermissionsBoundary", dict(UserName="shape")),
        ("DeleteRolePermissionsBoundary", dict(RoleName="shape-role")),
        ("PutRolePermissionsBoundary", dict(RoleName="shape-role",
                                            PermissionsBoundary="arn:aws:iam::aws:policy/IAMReadOnlyAccess")),
        ("DetachRolePolicy", dict(RoleName="shape-role", PolicyArn=f"arn:aws:iam::{account}:policy/managed")),
        ("DetachGroupPolicy", dict(GroupName="shapes", PolicyArn="arn:aws:iam::aws:policy/IAMReadOnlyAccess")),
        ("DetachUserPolicy", dict(UserName="shape", PolicyArn=f"arn:aws:iam::{account}:policy/managed")),
        ("DeletePolicyVersion", dict(PolicyArn=f"arn:aws:iam::{account}:policy/managed", VersionId="v2")),
        ("DeleteGroupPolicy", dict(GroupName="shapes", PolicyName="g")),
        ("RemoveUserFromGroup", dict(GroupName="shapes", UserName="shape")),
        ("DeleteGroup", dict(GroupName="shapes")),
        ("DeleteUserPolicy", dict(UserName="shape", PolicyName="p")),
        ("UpdateUser", dict(UserName="shape", NewUserName="shaped")),
    ]
    seen = set()
    for name, params in calls:
        operation = model.operation_model(name)
        answer = getattr(iam, __import__("botocore").xform_name(name))(**params)
        if operation.output_shape is not None:
            conforms(operation.output_shape, answer, name)
        if name == "CreateAccessKey":
            key_id = answer["AccessKey"]["AccessKeyId"]
        seen.add(name)
    for name, params in [
        ("GetAccessKeyLastUsed", dict(AccessKeyId=key_id)),
        ("UpdateAccessKey", dict(UserName="shaped", AccessKeyId=key_id, Status="Inactive")),
        ("DeleteAccessKey", dict(UserName="shaped", AccessKeyId=key_id)),
        ("DeleteUser", dict(UserName="shaped")),
        ("DeletePolicy", dict(PolicyArn=f"arn:aws:iam::{account}:policy/managed")),
    ]:
        answer = getattr(iam, __import__("botocore").xform_name(name))(**params)
        operation = model.operation_model(name)
        if operation.output_shape is not None:
            conforms(operation.output_shape, answer, name)
        seen.add(name)
    implemented = {
        "AddUserToGroup", "AttachGroupPolicy", "AttachRolePolicy", "AttachUserPolicy", "CreateAccessKey",
        "CreateGroup", "CreatePolicy", "CreatePolicyVersion", "CreateUser", "DeleteAccessKey", "DeleteGroup",
        "DeleteGroupPolicy", "DeletePolicy", "DeletePolicyVersion", "DeleteRolePermissionsBoundary",
        "DeleteUser", "DeleteUserPermissionsBoundary", "DeleteUserPolicy", "DetachGroupPolicy",
        "DetachRolePolicy", "DetachUserPolicy", "GetAccessKeyLastUsed", "GetGroup", "GetGroupPolicy",
        "GetPolicy", "GetPolicyVersion", "GetUser", "GetUserPolicy", "ListAccessKeys",
        "ListAttachedGroupPolicies", "ListAttachedRolePolicies", "ListAttachedUserPolicies",
        "ListEntitiesForPolicy", "ListGroupPolicies", "ListGroups", "ListGroupsForUser", "ListPolicies",
        "ListPolicyVersions", "ListUserPolicies", "ListUserTags", "ListUsers", "PutGroupPolicy",
        "PutRolePermissionsBoundary", "PutUserPermissionsBoundary", "PutUserPolicy", "RemoveUserFromGroup",
        "SetDefaultPolicyVersion", "SimulateCustomPolicy", "SimulatePrincipalPolicy", "TagUser", "UntagUser",
        "UpdateAccessKey", "UpdateUser",
    }
    assert implemented <= seen, implemented - seen


def test_a_role_made_again_under_its_name_is_not_the_old_sessions_role(tegata):
    iam = tegata.client("iam")
    pool_id = create_pool(tegata)
    trust = json.dumps(pinned_trust_policy(pool_id))
    role_arn = create_role(tegata, "again", pinned_trust_policy(pool_id))
    allow_get = policy(allow("iam:GetRole"))
    iam.put_role_policy(RoleName="again", PolicyName="p", PolicyDocument=allow_get)
    creds = assume(tegata, role_arn, token_for(tegata, pool_id))["Credentials"]
    old = tegata.client("iam", aws_access_key_id=creds["AccessKeyId"],
                        aws_secret_access_key=creds["SecretAccessKey"], aws_session_token=creds["SessionToken"])
    assert old.get_role(RoleName="again")["Role"]["Arn"] == role_arn
    iam.delete_role_policy(RoleName="again", PolicyName="p")
    iam.delete_role(RoleName="again")
    iam.create_role(RoleName="again", AssumeRolePolicyDocument=trust)
    iam.put_role_policy(RoleName="again", PolicyName="p", PolicyDocument=allow_get)
    with pytest.raises(ClientError) as excinfo:
        old.get_role(RoleName="again")
    assert "no identity-based policy allows" in denied(excinfo)


def test_guardrails_that_depend_on_names_and_keys_hold(tegata):
    """Findings of a review, each a way around a Deny: a name in another case, tag keys being
    removed, the policy being attached, a key's owner, roles handed to a pool."""
    iam = tegata.client("iam")
    account = tegata.client("sts").get_caller_identity()["Account"]
    key = user_with_key(tegata, "operator")
    iam.tag_user(UserName="operator", Tags=[{"Key": "protected", "Value": "yes"}])
    iam.put_user_policy(UserName="operator", PolicyName="guarded", PolicyDocument=policy(
        allow(["iam:*", "cognito-identity:*"]),
        deny("iam:*", f"arn:aws:iam::{account}:user/admin"),
        {"Effect": "Deny", "Action": "iam:UntagUser", "Resource": "*",
         "Condition": {"ForAnyValue:StringEquals": {"aws:TagKeys": ["protected"]}}},
        {"Effect": "Deny", "Action": "iam:Attach*", "Resource": "*",
         "Condition": {"ArnEquals": {"iam:PolicyARN": "arn:aws:iam::aws:policy/AdministratorAccess"}}},
        deny("iam:PassRole", f"arn:aws:iam::{account}:role/precious"),
    ))
    operator = as_key(tegata, "iam", key)
    # The administrator under another case is still the administrator.
    with pytest.raises(ClientError) as excinfo:
        operator.create_access_key(UserName="ADMIN")
    assert denied(excinfo).endswith("with an explicit deny in an identity-based policy")
    assert f"on resource: arn:aws:iam::{account}:user/admin " in denied(excinfo)
    # Removing a protected tag is refused; another tag may go.
    with pytest.raises(ClientError):
        operator.untag_user(UserName="operator", TagKeys=["protected"])
    operator.untag_user(UserName="operator", TagKeys=["other"])
    # Attaching AdministratorAccess is refused; another policy may be attached.
    with pytest.raises(ClientError) as excinfo:
        operator.attach_user_policy(UserName="operator", PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")
    assert "explicit deny" in denied(excinfo)
    operator.attach_user_policy(UserName="operator", PolicyArn="arn:aws:iam::aws:policy/IAMReadOnlyAccess")
    # A key's last use is authorized on its owner: the administrator's key is out of reach.
    admin_key = iam.list_access_keys(UserName="admin")["AccessKeyMetadata"][0]["AccessKeyId"]
    with pytest.raises(ClientError) as excinfo:
        operator.get_access_key_last_used(AccessKeyId=admin_key)
    assert f"user/admin" in denied(excinfo)
    assert operator.get_access_key_last_used(AccessKeyId=key["AccessKeyId"])["UserName"] == "operator"
    with pytest.raises(ClientError) as excinfo:
        operator.get_access_key_last_used(AccessKeyId="AKIAAAAAAAAAAAAAAAAA")
    assert denied(excinfo).endswith("on resource: access key AKIAAAAAAAAAAAAAAAAA")
    # Renaming a user to the administrator's name needs the permission on the new name too.
    iam.create_user(UserName="temp")
    with pytest.raises(ClientError):
        operator.update_user(UserName="temp", NewUserName="admin")
    # Handing a role to a pool needs iam:PassRole on it.
    pool_id = create_pool(tegata, "handed")
    precious = create_role(tegata, "precious", pinned_trust_policy(pool_id))
    ordinary = create_role(tegata, "ordinary", pinned_trust_policy(pool_id))
    pools = as_key(tegata, "cognito-identity", key)
    with pytest.raises(ClientError) as excinfo:
        pools.set_identity_pool_roles(IdentityPoolId=pool_id, Roles={"unauthenticated": precious})
    assert f"iam:PassRole on resource: {precious}" in denied(excinfo)
    pools.set_identity_pool_roles(IdentityPoolId=pool_id, Roles={"authenticated": ordinary})
    assert pools.get_identity_pool_roles(IdentityPoolId=pool_id)["Roles"] == {"authenticated": ordinary}


def test_a_simulation_is_bounded(tegata):
    iam = tegata.client("iam")
    with pytest.raises(ClientError) as excinfo:
        iam.simulate_custom_policy(PolicyInputList=[policy(allow("iam:GetUser"))],
                                   ActionNames=[f"iam:Get{n}" for n in range(101)],
                                   ResourceArns=[f"arn:aws:iam::1:user/u{n}" for n in range(10)])
    assert code(excinfo) == "InvalidInput"
    results = iam.simulate_custom_policy(PolicyInputList=[policy(allow("iam:GetUser"))],
                                         ActionNames=[f"iam:Get{n}" for n in range(100)],
                                         ResourceArns=[f"arn:aws:iam::1:user/u{n}" for n in range(10)],
                                         MaxItems=600)
    assert len(results["EvaluationResults"]) == 600 and results["IsTruncated"]
    rest = iam.simulate_custom_policy(PolicyInputList=[policy(allow("iam:GetUser"))],
                                      ActionNames=[f"iam:Get{n}" for n in range(100)],
                                      ResourceArns=[f"arn:aws:iam::1:user/u{n}" for n in range(10)],
                                      Marker=results["Marker"], MaxItems=1000)
    assert len(rest["EvaluationResults"]) == 400 and not rest["IsTruncated"]
