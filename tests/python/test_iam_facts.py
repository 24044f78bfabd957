"""IAM roles answer as AWS answers them: one test per fact of iam-facts.md (§1, §4, §6) about an
operation tegata implements, each through boto3, which parses the answer as it parses AWS's."""

import json
import time
import urllib.parse
import urllib.request

import pytest
from botocore.exceptions import ClientError

from test_permissions import allow, policy

TRUST = json.dumps({"Version": "2012-10-17", "Statement": {
    "Effect": "Allow", "Principal": {"AWS": "111111111111"}, "Action": "sts:AssumeRole"}})


def error(excinfo):
    e = excinfo.value.response["Error"]
    return excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"], e["Code"], e["Message"]


def refused(call, **kwargs):
    with pytest.raises(ClientError) as excinfo:
        call(**kwargs)
    return error(excinfo)


@pytest.fixture
def iam(tegata):
    return tegata.client("iam")


@pytest.fixture
def account(tegata):
    return tegata.client("sts").get_caller_identity()["Account"]


def test_create_role_answers_without_max_session_duration_description_or_last_used(iam, account):
    iam.create_policy(PolicyName="boundary", PolicyDocument=policy(allow("s3:*")))
    boundary = f"arn:aws:iam::{account}:policy/boundary"
    role = iam.create_role(RoleName="created", AssumeRolePolicyDocument=TRUST, Description="sent",
                           MaxSessionDuration=7200, PermissionsBoundary=boundary,
                           Tags=[{"Key": "k", "Value": "v"}])["Role"]
    assert set(role) == {"Arn", "AssumeRolePolicyDocument", "CreateDate", "Path", "RoleId", "RoleName",
                         "PermissionsBoundary", "Tags"}
    assert role["PermissionsBoundary"] == {"PermissionsBoundaryArn": boundary,
                                           "PermissionsBoundaryType": "Policy"}
    assert role["Tags"] == [{"Key": "k", "Value": "v"}]
    bare = iam.create_role(RoleName="bare", AssumeRolePolicyDocument=TRUST)["Role"]
    assert set(bare) == {"Arn", "AssumeRolePolicyDocument", "CreateDate", "Path", "RoleId", "RoleName"}


def test_trust_documents_are_echoed_as_sent(iam):
    """Q3: a bare account id stays one, an object Statement stays an object."""
    role = iam.create_role(RoleName="echo", AssumeRolePolicyDocument=TRUST)["Role"]
    assert role["AssumeRolePolicyDocument"] == json.loads(TRUST)
    assert iam.get_role(RoleName="echo")["Role"]["AssumeRolePolicyDocument"]["Statement"]["Principal"] == \
        {"AWS": "111111111111"}


def test_get_role_has_role_last_used_and_the_default_max_session_duration(tegata, iam, account):
    iam.create_role(RoleName="fresh", AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": account},
                                                "Action": "sts:AssumeRole"}]}))
    role = iam.get_role(RoleName="fresh")["Role"]
    assert role["MaxSessionDuration"] == 3600
    assert role["RoleLastUsed"] == {}, "present and empty until used"
    assert "Tags" not in role and "Description" not in role
    tegata.client("sts", region_name="eu-west-1").assume_role(RoleArn=role["Arn"], RoleSessionName="use")
    deadline = time.monotonic() + 5
    while not (used := iam.get_role(RoleName="fresh")["Role"]["RoleLastUsed"]):
        assert time.monotonic() < deadline, "the use was never recorded"
        time.sleep(0.1)
    assert used["Region"] == "eu-west-1"
    assert abs(used["LastUsedDate"].timestamp() - time.time()) < 60


def test_list_roles_never_lists_tags_boundaries_or_last_use(iam, account):
    iam.create_policy(PolicyName="b", PolicyDocument=policy(allow("s3:*")))
    for n in range(5):
        iam.create_role(RoleName=f"role-0{n}", AssumeRolePolicyDocument=TRUST, Description=f"d{n}",
                        Tags=[{"Key": "k", "Value": "v"}],
                        PermissionsBoundary=f"arn:aws:iam::{account}:policy/b")
    first = iam.list_roles(MaxItems=2)
    assert first["IsTruncated"] is True and first["Marker"]
    assert [r["RoleName"] for r in first["Roles"]] == ["role-00", "role-01"]
    rest = iam.list_roles(Marker=first["Marker"])
    assert rest["IsTruncated"] is False and "Marker" not in rest
    assert [r["RoleName"] for r in rest["Roles"]] == ["role-02", "role-03", "role-04"]
    for role in first["Roles"] + rest["Roles"]:
        assert set(role) == {"Arn", "AssumeRolePolicyDocument", "CreateDate", "Description",
                             "MaxSessionDuration", "Path", "RoleId", "RoleName"}
    empty = iam.list_roles(PathPrefix="/nothing/")
    assert empty["Roles"] == [] and empty["IsTruncated"] is False


def test_update_role_without_parameters_changes_nothing(iam):
    iam.create_role(RoleName="upd", AssumeRolePolicyDocument=TRUST, Description="kept")
    iam.update_role(RoleName="upd", MaxSessionDuration=7200)
    answer = iam.update_role(RoleName="upd")
    assert set(answer) == {"ResponseMetadata"}
    role = iam.get_role(RoleName="upd")["Role"]
    assert (role["Description"], role["MaxSessionDuration"]) == ("kept", 7200)


def test_update_role_description_answers_the_create_role_shape_and_the_description(iam):
    iam.create_role(RoleName="desc", AssumeRolePolicyDocument=TRUST, MaxSessionDuration=7200,
                    Tags=[{"Key": "k", "Value": "v"}])
    role = iam.update_role_description(RoleName="desc", Description="new words")["Role"]
    assert set(role) == {"Arn", "AssumeRolePolicyDocument", "CreateDate", "Description", "Path", "RoleId",
                         "RoleName"}
    assert role["Description"] == "new words"
    assert iam.get_role(RoleName="desc")["Role"]["Description"] == "new words"
    assert refused(iam.update_role_description, RoleName="nope", Description="x") == (
        404, "NoSuchEntity", "The role with name nope cannot be found.")


def test_trust_policies_are_refused_with_aws_messages(iam):
    iam.create_role(RoleName="trusting", AssumeRolePolicyDocument=TRUST)
    trailing_comma = '{"Version": "2012-10-17", "Statement": [],}'
    assert refused(iam.create_role, RoleName="bad", AssumeRolePolicyDocument=trailing_comma) == (
        400, "MalformedPolicyDocument", "This policy contains invalid Json")
    assert refused(iam.update_assume_role_policy, RoleName="trusting", PolicyDocument="not valid json") == (
        400, "MalformedPolicyDocument", "This policy contains invalid Json")
    invalid_action = TRUST.replace("sts:AssumeRole", "sts:InvalidAction")
    assert refused(iam.update_assume_role_policy, RoleName="trusting", PolicyDocument=invalid_action) == (
        400, "MalformedPolicyDocument", "AssumeRole policy may only specify STS AssumeRole actions.")
    with_resource = json.dumps({"Version": "2012-10-17", "Statement": {
        "Effect": "Allow", "Principal": {"AWS": "111111111111"}, "Action": "sts:AssumeRole", "Resource": "*"}})
    assert refused(iam.update_assume_role_policy, RoleName="trusting", PolicyDocument=with_resource) == (
        400, "MalformedPolicyDocument", "Has prohibited field Resource")
    # Permission policies keep their own message.
    assert refused(iam.create_policy, PolicyName="p", PolicyDocument=trailing_comma) == (
        400, "MalformedPolicyDocument", "Syntax errors in policy.")
    # Nothing was changed by the refusals.
    assert iam.get_role(RoleName="trusting")["Role"]["AssumeRolePolicyDocument"] == json.loads(TRUST)


def test_role_tags(iam):
    iam.create_role(RoleName="tagged", AssumeRolePolicyDocument=TRUST)
    iam.tag_role(RoleName="tagged", Tags=[{"Key": "somekey", "Value": "a"}, {"Key": "someotherkey", "Value": ""}])
    listed = iam.list_role_tags(RoleName="tagged")
    assert (listed["IsTruncated"], listed["Tags"]) == (
        False, [{"Key": "somekey", "Value": "a"}, {"Key": "someotherkey", "Value": ""}])
    # Keys are case-insensitive: the tag is replaced and takes the new casing.
    iam.tag_role(RoleName="tagged", Tags=[{"Key": "Somekey", "Value": "b"}])
    assert iam.list_role_tags(RoleName="tagged")["Tags"] == [
        {"Key": "Somekey", "Value": "b"}, {"Key": "someotherkey", "Value": ""}]
    assert iam.get_role(RoleName="tagged")["Role"]["Tags"] == [
        {"Key": "Somekey", "Value": "b"}, {"Key": "someotherkey", "Value": ""}]
    # Untagging a key that is not there succeeds.
    assert set(iam.untag_role(RoleName="tagged", TagKeys=["absent", "SOMEKEY"])) == {"ResponseMetadata"}
    assert iam.list_role_tags(RoleName="tagged")["Tags"] == [{"Key": "someotherkey", "Value": ""}]
    # Pages follow the marker.
    iam.tag_role(RoleName="tagged", Tags=[{"Key": f"p{n}", "Value": "v"} for n in range(4)])
    first = iam.list_role_tags(RoleName="tagged", MaxItems=2)
    rest = iam.list_role_tags(RoleName="tagged", Marker=first["Marker"])
    assert [t["Key"] for t in first["Tags"] + rest["Tags"]] == ["someotherkey", "p0", "p1", "p2", "p3"]
    assert rest["IsTruncated"] is False
    missing = (404, "NoSuchEntity", "The role with name ghost cannot be found.")
    assert refused(iam.tag_role, RoleName="ghost", Tags=[{"Key": "k", "Value": "v"}]) == missing
    assert refused(iam.untag_role, RoleName="ghost", TagKeys=["k"]) == missing
    assert refused(iam.list_role_tags, RoleName="ghost") == missing


def test_role_tags_are_validated_before_the_role_is_looked_up(iam):
    """Q5: TagRole with 51 tags on a missing role is a ValidationError."""
    iam.create_role(RoleName="limits", AssumeRolePolicyDocument=TRUST)
    many = [{"Key": f"k{n}", "Value": "v"} for n in range(51)]
    for role in ("limits", "missing-role"):
        assert refused(iam.tag_role, RoleName=role, Tags=many) == (
            400, "ValidationError", "1 validation error detected: Value at 'tags' failed to satisfy "
            "constraint: Member must have length less than or equal to 50")
    assert refused(iam.create_role, RoleName="too-many", AssumeRolePolicyDocument=TRUST, Tags=many)[1] == \
        "ValidationError"
    cases = [
        ([{"Key": "dupkey", "Value": "1"}, {"Key": "dupkey", "Value": "2"}],
         (400, "InvalidInput", "Duplicate tag keys found. Please note that Tag keys are case insensitive.")),
        ([{"Key": "mykey", "Value": "1"}, {"Key": "MyKey", "Value": "2"}],
         (400, "InvalidInput", "Duplicate tag keys found. Please note that Tag keys are case insensitive.")),
        ([{"Key": "k" * 129, "Value": "v"}],
         (400, "ValidationError", "1 validation error detected: Value at 'tags.1.member.key' failed to "
          "satisfy constraint: Member must have length less than or equal to 128")),
        ([{"Key": "k", "Value": "v" * 257}],
         (400, "ValidationError", "1 validation error detected: Value at 'tags.1.member.value' failed to "
          "satisfy constraint: Member must have length less than or equal to 256")),
        ([{"Key": "invalid!key", "Value": "v"}],
         (400, "ValidationError", "1 validation error detected: Value at 'tags.1.member.key' failed to "
          r"satisfy constraint: Member must satisfy regular expression pattern: [\p{L}\p{Z}\p{N}_.:/=+\-@]+")),
    ]
    for tags, expected in cases:
        assert refused(iam.tag_role, RoleName="limits", Tags=tags) == expected, tags
        assert refused(iam.create_role, RoleName="tag-check", AssumeRolePolicyDocument=TRUST,
                       Tags=tags) == expected, tags
    assert refused(iam.untag_role, RoleName="limits", TagKeys=[f"k{n}" for n in range(51)]) == (
        400, "ValidationError", "1 validation error detected: Value at 'tagKeys' failed to satisfy "
        "constraint: Member must have length less than or equal to 50")
    member_constraints = (
        400, "ValidationError", "1 validation error detected: Value at 'tagKeys' failed to satisfy "
        "constraint: Member must satisfy constraint: [Member must have length less than or equal to 128, "
        "Member must have length greater than or equal to 1, Member must satisfy regular expression "
        r"pattern: [\p{L}\p{Z}\p{N}_.:/=+\-@]+, Member must not be null]")
    for key in ("k" * 129, "invalid!key"):
        assert refused(iam.untag_role, RoleName="limits", TagKeys=[key]) == member_constraints, key
    assert iam.list_role_tags(RoleName="limits")["Tags"] == [], "nothing was stored"


def test_role_policies_and_deletion_conflicts(iam, account):
    iam.create_role(RoleName="holder", AssumeRolePolicyDocument=TRUST)
    as_object = json.dumps({"Version": "2012-10-17", "Statement": {
        "Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}})
    iam.put_role_policy(RoleName="holder", PolicyName="policy-1", PolicyDocument=as_object)
    stored = iam.get_role_policy(RoleName="holder", PolicyName="policy-1")
    assert isinstance(stored["PolicyDocument"]["Statement"], dict), "an object Statement stays an object"
    assert refused(iam.get_role_policy, RoleName="holder", PolicyName="P") == (
        404, "NoSuchEntity", "The role policy with name P cannot be found.")
    assert refused(iam.delete_role_policy, RoleName="holder", PolicyName="P") == (
        404, "NoSuchEntity", "The role policy with name P cannot be found.")
    assert refused(iam.delete_role, RoleName="holder") == (
        409, "DeleteConflict", "Cannot delete entity, must delete policies first.")
    iam.delete_role_policy(RoleName="holder", PolicyName="policy-1")

    managed = iam.create_policy(PolicyName="attached", PolicyDocument=policy(allow("s3:*")))["Policy"]["Arn"]
    iam.attach_role_policy(RoleName="holder", PolicyArn=managed)
    assert refused(iam.delete_role, RoleName="holder") == (
        409, "DeleteConflict", "Cannot delete entity, must detach all policies first.")
    assert refused(iam.delete_policy, PolicyArn=managed) == (
        409, "DeleteConflict", "Cannot delete a policy attached to entities.")
    other = "arn:aws:iam::aws:policy/ReadOnlyAccess"
    assert refused(iam.detach_role_policy, RoleName="holder", PolicyArn=other) == (
        404, "NoSuchEntity", f"Policy {other} was not found.")
    missing = f"arn:aws:iam::{account}:policy/non-existent-policy"
    assert refused(iam.delete_policy, PolicyArn=missing) == (
        404, "NoSuchEntity", f"Policy {missing} was not found.")
    assert refused(iam.attach_role_policy, RoleName="holder", PolicyArn="longpolicynamebutnoarn") == (
        400, "ValidationError", "ARN longpolicynamebutnoarn is not valid.")

    bad_scope = f"arn:aws:iam::{account}:not_a_policy/invalid"
    assert refused(iam.put_role_permissions_boundary, RoleName="holder", PermissionsBoundary=bad_scope) == (
        400, "InvalidInput", f"ARN {bad_scope} is not valid.")
    nonexistent = f"arn:aws:iam::{account}:policy/nonexistent-policy"
    assert refused(iam.put_role_permissions_boundary, RoleName="holder", PermissionsBoundary=nonexistent) == (
        404, "NoSuchEntity", f"Scope ARN: {nonexistent} does not exist or is not attachable.")
    assert refused(iam.create_role, RoleName="holder", AssumeRolePolicyDocument=TRUST) == (
        409, "EntityAlreadyExists", "Role with name holder already exists.")
    iam.detach_role_policy(RoleName="holder", PolicyArn=managed)
    iam.delete_role(RoleName="holder")
    assert refused(iam.get_role, RoleName="holder") == (
        404, "NoSuchEntity", "The role with name holder cannot be found.")


def test_documents_are_url_encoded_exactly_once(iam):
    """Q1: a `%3A` in a document survives every answer that carries the document."""
    trust = json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"AWS": "111111111111"}, "Action": "sts:AssumeRole",
        "Condition": {"StringEquals": {"sts:ExternalId": "arn%3Aaws%3Aapigateway%3Aus-east-1"}}}]})
    permissions = json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/tags/arn%3Aaws%3Ax"}]})
    created = iam.create_role(RoleName="encoded", AssumeRolePolicyDocument=trust)["Role"]
    iam.put_role_policy(RoleName="encoded", PolicyName="p", PolicyDocument=permissions)
    listed = next(r for r in iam.list_roles()["Roles"] if r["RoleName"] == "encoded")
    for document in (created["AssumeRolePolicyDocument"], iam.get_role(RoleName="encoded")["Role"][
            "AssumeRolePolicyDocument"], listed["AssumeRolePolicyDocument"]):
        assert document == json.loads(trust)
    assert iam.get_role_policy(RoleName="encoded", PolicyName="p")["PolicyDocument"] == json.loads(permissions)


def test_errors_have_aws_envelope(tegata):
    """Q4: only Type, Code and Message inside Error; Type Sender."""
    body = urllib.parse.urlencode({"Action": "GetRole", "Version": "2010-05-08", "RoleName": "x"}).encode()
    request = urllib.request.Request(tegata.url, data=body, method="POST")
    with pytest.raises(urllib.error.HTTPError) as excinfo:
        urllib.request.urlopen(request, timeout=10)
    text = excinfo.value.read().decode()
    error_xml = text[text.index("<Error>"):text.index("</Error>")]
    assert "<Type>Sender</Type>" in error_xml
    assert "<message>" not in text
    assert error_xml.count("<") == 7, error_xml


def test_oidc_provider_tags_come_in_pages(iam):
    arn = iam.create_open_id_connect_provider(Url="https://oidc-pages.example.com", ClientIDList=["c"],
                                              ThumbprintList=["a" * 40])["OpenIDConnectProviderArn"]
    iam.tag_open_id_connect_provider(OpenIDConnectProviderArn=arn,
                                     Tags=[{"Key": f"k{n}", "Value": "v"} for n in range(10)])
    sizes, marker = [], None
    while True:
        page = iam.list_open_id_connect_provider_tags(OpenIDConnectProviderArn=arn, MaxItems=4,
                                                      **({"Marker": marker} if marker else {}))
        sizes.append(len(page["Tags"]))
        if not page["IsTruncated"]:
            assert "Marker" not in page
            break
        marker = page["Marker"]
    assert sizes == [4, 4, 2]
    assert refused(iam.tag_open_id_connect_provider, OpenIDConnectProviderArn=arn,
                   Tags=[{"Key": f"x{n}", "Value": "v"} for n in range(41)]) == (
        409, "LimitExceeded", "The number of tags has reached the maximum limit.")


def test_oidc_provider_constraints_are_reported_together_in_aws_order(iam):
    message = refused(iam.create_open_id_connect_provider, Url="https://" + "u" * 248,
                      ClientIDList=["c" * 256], ThumbprintList=["a" * 41])
    assert message == (
        400, "ValidationError", "3 validation errors detected: Value at 'clientIDList' failed to satisfy "
        "constraint: Member must satisfy constraint: [Member must have length less than or equal to 255, "
        "Member must have length greater than or equal to 1]; Value at 'thumbprintList' failed to satisfy "
        "constraint: Member must satisfy constraint: [Member must have length less than or equal to 40, "
        "Member must have length greater than or equal to 40]; Value at 'url' failed to satisfy "
        "constraint: Member must have length less than or equal to 255")
    assert iam.list_open_id_connect_providers()["OpenIDConnectProviderList"] == []


def test_every_role_operation_on_a_missing_role_says_so(iam, account):
    managed = iam.create_policy(PolicyName="m", PolicyDocument=policy(allow("s3:*")))["Policy"]["Arn"]
    doc = policy(allow("s3:*"))
    calls = [
        (iam.get_role, {}),
        (iam.update_role, {"Description": "d"}),
        (iam.delete_role, {}),
        (iam.tag_role, {"Tags": [{"Key": "k", "Value": "v"}]}),
        (iam.untag_role, {"TagKeys": ["k"]}),
        (iam.list_role_tags, {}),
        (iam.put_role_policy, {"PolicyName": "p", "PolicyDocument": doc}),
        (iam.get_role_policy, {"PolicyName": "p"}),
        (iam.delete_role_policy, {"PolicyName": "p"}),
        (iam.put_role_permissions_boundary, {"PermissionsBoundary": managed}),
    ]
    for call, extra in calls:
        assert refused(call, RoleName="X", **extra) == (
            404, "NoSuchEntity", "The role with name X cannot be found."), call


def test_policy_arns_given_to_roles_are_checked(iam, account):
    iam.create_role(RoleName="r", AssumeRolePolicyDocument=TRUST)
    missing = f"arn:aws:iam::{account}:policy/nonexistent-policy"
    assert refused(iam.attach_role_policy, RoleName="r", PolicyArn=missing) == (
        404, "NoSuchEntity", f"Policy {missing} does not exist or is not attachable.")
    for arn in ("arn:aws:iam::aws:policy/ReadOnlyAccess", "arn:aws:iam::aws:policy/Nonexistent"):
        assert refused(iam.detach_role_policy, RoleName="r", PolicyArn=arn) == (
            404, "NoSuchEntity", f"Policy {arn} was not found.")
    bad_scope = f"arn:aws:iam::{account}:not_a_policy/invalid"
    assert refused(iam.create_role, RoleName="bounded", AssumeRolePolicyDocument=TRUST,
                   PermissionsBoundary=bad_scope) == (400, "InvalidInput", f"ARN {bad_scope} is not valid.")
    assert refused(iam.create_role, RoleName="bounded", AssumeRolePolicyDocument=TRUST,
                   PermissionsBoundary=missing) == (
        404, "NoSuchEntity", f"Scope ARN: {missing} does not exist or is not attachable.")
    assert refused(iam.get_role, RoleName="bounded")[1] == "NoSuchEntity", "nothing was created"


def test_assume_role_refuses_every_recorded_malformed_role_arn(tegata):
    sts = tegata.client("sts")
    for arn in ("nothing-valid-in-here", "arn::b:::something/test-role", "arn:a::::something/test-role",
                "arn:a:::something/test-role", "arn:a:a::aaaaaaaaaa:"):
        assert refused(sts.assume_role, RoleArn=arn, RoleSessionName="s1") == (
            400, "ValidationError", f"{arn} is invalid")


def test_identifiers_have_aws_formats(tegata, iam, account):
    import re
    role = iam.create_role(RoleName="formats", Path="/p/", AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": account},
                                                "Action": "sts:AssumeRole"}]}))["Role"]
    assert role["Arn"] == f"arn:aws:iam::{account}:role/p/formats"
    assert re.fullmatch(r"AROA[A-Z0-9]{17}", role["RoleId"])
    answer = tegata.client("sts").assume_role(RoleArn=role["Arn"], RoleSessionName="fmt")
    credentials = answer["Credentials"]
    assert re.fullmatch(r"ASIA[A-Z0-9]{16}", credentials["AccessKeyId"])
    assert re.fullmatch(r"[A-Za-z0-9/+]{40}", credentials["SecretAccessKey"])
    assert re.fullmatch(r"[A-Za-z0-9/+=]{16,}", credentials["SessionToken"])
    assert answer["AssumedRoleUser"]["Arn"] == f"arn:aws:sts::{account}:assumed-role/formats/fmt"
    assert answer["AssumedRoleUser"]["AssumedRoleId"] == f"{role['RoleId']}:fmt"


def test_role_policy_lists(iam, account):
    iam.create_role(RoleName="lists", AssumeRolePolicyDocument=TRUST)
    for name in ("policy-2", "policy-1"):
        iam.put_role_policy(RoleName="lists", PolicyName=name, PolicyDocument=policy(allow("s3:*")))
    listed = iam.list_role_policies(RoleName="lists")
    assert (listed["PolicyNames"], listed["IsTruncated"]) == (["policy-1", "policy-2"], False)
    attached = iam.list_attached_role_policies(RoleName="lists")
    assert (attached["AttachedPolicies"], attached["IsTruncated"]) == ([], False)
    arn = "arn:aws:iam::aws:policy/IAMReadOnlyAccess"
    iam.attach_role_policy(RoleName="lists", PolicyArn=arn)
    assert iam.list_attached_role_policies(RoleName="lists")["AttachedPolicies"] == [
        {"PolicyName": "IAMReadOnlyAccess", "PolicyArn": arn}]
