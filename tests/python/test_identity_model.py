"""The rest of Cognito Identity's model from boto3: merges, unlinks, deletions, tags and principal
tag maps, and a call of every operation botocore's own model file lists."""

import botocore
import botocore.loaders
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

PROVIDER = "login.mycompany.myapp"


def error(excinfo):
    return excinfo.value.response["Error"]["Code"], excinfo.value.response["Error"]["Message"]


def pool(client, **extra):
    return client.create_identity_pool(
        IdentityPoolName="model", AllowUnauthenticatedIdentities=True, DeveloperProviderName=PROVIDER, **extra
    )["IdentityPoolId"]


def developer(client, pool_id, user):
    return client.get_open_id_token_for_developer_identity(IdentityPoolId=pool_id, Logins={PROVIDER: user})


def test_merge_moves_the_source_users_onto_the_destination(tegata):
    client = tegata.client("cognito-identity")
    pool_id = pool(client)
    alice = developer(client, pool_id, "alice")["IdentityId"]
    bob = developer(client, pool_id, "bob")["IdentityId"]
    merged = client.merge_developer_identities(
        SourceUserIdentifier="alice", DestinationUserIdentifier="bob",
        DeveloperProviderName=PROVIDER, IdentityPoolId=pool_id,
    )["IdentityId"]
    assert merged == bob
    # Alice now signs in to Bob's identity; hers is disabled, hidden when asked.
    assert developer(client, pool_id, "alice")["IdentityId"] == bob
    users = client.lookup_developer_identity(IdentityPoolId=pool_id, IdentityId=bob)["DeveloperUserIdentifierList"]
    assert sorted(users) == ["alice", "bob"]
    listed = {i["IdentityId"] for i in client.list_identities(IdentityPoolId=pool_id, MaxResults=60)["Identities"]}
    assert listed == {alice, bob}
    shown = client.list_identities(IdentityPoolId=pool_id, MaxResults=60, HideDisabled=True)["Identities"]
    assert [i["IdentityId"] for i in shown] == [bob]

    with pytest.raises(ClientError) as excinfo:
        client.merge_developer_identities(
            SourceUserIdentifier="nobody", DestinationUserIdentifier="bob",
            DeveloperProviderName=PROVIDER, IdentityPoolId=pool_id,
        )
    assert error(excinfo)[0] == "ResourceNotFoundException"
    with pytest.raises(ClientError) as excinfo:
        client.merge_developer_identities(
            SourceUserIdentifier="alice", DestinationUserIdentifier="bob",
            DeveloperProviderName="login.other", IdentityPoolId=pool_id,
        )
    assert error(excinfo) == (
        "NotAuthorizedException", "This identity pool does not support the specified developer provider."
    )


def test_merges_stop_at_twenty_logins(tegata):
    client = tegata.client("cognito-identity")
    pool_id = pool(client)
    big = developer(client, pool_id, "u0")["IdentityId"]
    for n in range(1, 20):
        client.get_open_id_token_for_developer_identity(
            IdentityPoolId=pool_id, IdentityId=big, Logins={PROVIDER: f"u{n}"}
        )
    # A 21st login is refused, a login already there is not.
    with pytest.raises(ClientError) as excinfo:
        client.get_open_id_token_for_developer_identity(
            IdentityPoolId=pool_id, IdentityId=big, Logins={PROVIDER: "u20"}
        )
    assert error(excinfo)[0] == "ResourceConflictException"
    client.get_open_id_token_for_developer_identity(IdentityPoolId=pool_id, IdentityId=big, Logins={PROVIDER: "u7"})
    developer(client, pool_id, "extra")
    with pytest.raises(ClientError) as excinfo:
        client.merge_developer_identities(
            SourceUserIdentifier="extra", DestinationUserIdentifier="u0",
            DeveloperProviderName=PROVIDER, IdentityPoolId=pool_id,
        )
    assert error(excinfo)[0] == "ResourceConflictException"
    assert developer(client, pool_id, "extra")["IdentityId"] != big


def test_unlinked_users_get_new_identities(tegata):
    client = tegata.client("cognito-identity")
    pool_id = pool(client)
    carol = developer(client, pool_id, "carol")["IdentityId"]
    client.unlink_developer_identity(
        IdentityId=carol, IdentityPoolId=pool_id, DeveloperProviderName=PROVIDER, DeveloperUserIdentifier="carol"
    )
    assert "Logins" not in client.describe_identity(IdentityId=carol)
    assert developer(client, pool_id, "carol")["IdentityId"] != carol
    with pytest.raises(ClientError) as excinfo:
        client.unlink_developer_identity(
            IdentityId=carol, IdentityPoolId=pool_id, DeveloperProviderName=PROVIDER,
            DeveloperUserIdentifier="carol",
        )
    assert error(excinfo)[0] == "ResourceConflictException"


def test_unlink_identity_needs_the_identitys_own_token(tegata):
    client = tegata.client("cognito-identity")
    public = tegata.client("cognito-identity", config=Config(signature_version=botocore.UNSIGNED))
    pool_id = pool(client)
    dave = developer(client, pool_id, "dave")
    erin = developer(client, pool_id, "erin")
    with pytest.raises(ClientError) as excinfo:
        public.unlink_identity(
            IdentityId=dave["IdentityId"], Logins={"cognito-identity.amazonaws.com": erin["Token"]},
            LoginsToRemove=[PROVIDER],
        )
    assert error(excinfo)[0] == "NotAuthorizedException"
    assert client.describe_identity(IdentityId=dave["IdentityId"])["Logins"] == [PROVIDER]
    public.unlink_identity(
        IdentityId=dave["IdentityId"], Logins={"cognito-identity.amazonaws.com": dave["Token"]},
        LoginsToRemove=[PROVIDER],
    )
    assert "Logins" not in client.describe_identity(IdentityId=dave["IdentityId"])


def test_delete_identities(tegata):
    client = tegata.client("cognito-identity")
    pool_id = pool(client)
    frank = developer(client, pool_id, "frank")["IdentityId"]
    grace = developer(client, pool_id, "grace")["IdentityId"]
    unknown = "us-east-1:00000000-0000-4000-8000-000000000000"
    response = client.delete_identities(IdentityIdsToDelete=[frank, unknown])
    assert response["UnprocessedIdentityIds"] == []
    with pytest.raises(ClientError) as excinfo:
        client.describe_identity(IdentityId=frank)
    assert error(excinfo)[0] == "ResourceNotFoundException"
    assert client.describe_identity(IdentityId=grace)["Logins"] == [PROVIDER]
    # Frank, seen again, is somebody new.
    assert developer(client, pool_id, "frank")["IdentityId"] != frank
    with pytest.raises(ClientError) as excinfo:
        client.delete_identities(IdentityIdsToDelete=[f"us-east-1:{n:08x}" for n in range(61)])
    assert error(excinfo)[0] == "ValidationException"


def test_tags_of_a_pool(tegata):
    client = tegata.client("cognito-identity")
    pool_id = pool(client, IdentityPoolTags={"team": "identity"})
    account = tegata.client("sts").get_caller_identity()["Account"]
    arn = f"arn:aws:cognito-identity:us-east-1:{account}:identitypool/{pool_id}"
    client.tag_resource(ResourceArn=arn, Tags={"env": "test", "team": "platform"})
    assert client.list_tags_for_resource(ResourceArn=arn)["Tags"] == {"env": "test", "team": "platform"}
    client.untag_resource(ResourceArn=arn, TagKeys=["team", "absent"])
    assert client.list_tags_for_resource(ResourceArn=arn)["Tags"] == {"env": "test"}
    assert client.describe_identity_pool(IdentityPoolId=pool_id)["IdentityPoolTags"] == {"env": "test"}
    with pytest.raises(ClientError) as excinfo:
        client.tag_resource(ResourceArn=arn, Tags={f"k{n}": "v" for n in range(50)})
    assert error(excinfo)[0] == "InvalidParameterException"
    assert client.list_tags_for_resource(ResourceArn=arn)["Tags"] == {"env": "test"}
    for other in (
        arn.replace(account, "000000000000"),
        f"arn:aws:cognito-identity:us-east-1:{account}:identitypool/us-east-1:00000000-0000-4000-8000-000000000000",
    ):
        with pytest.raises(ClientError) as excinfo:
            client.list_tags_for_resource(ResourceArn=other)
        assert error(excinfo)[0] == "ResourceNotFoundException"


def test_principal_tag_attribute_maps(tegata):
    client = tegata.client("cognito-identity")
    pool_id = pool(client, SupportedLoginProviders={"accounts.google.com": "client-id"})
    unset = client.get_principal_tag_attribute_map(IdentityPoolId=pool_id, IdentityProviderName="accounts.google.com")
    assert unset["UseDefaults"] is False and "PrincipalTags" not in unset
    answer = client.set_principal_tag_attribute_map(
        IdentityPoolId=pool_id, IdentityProviderName="accounts.google.com",
        UseDefaults=False, PrincipalTags={"team": "hd", "user": "sub"},
    )
    assert answer["PrincipalTags"] == {"team": "hd", "user": "sub"}
    got = client.get_principal_tag_attribute_map(IdentityPoolId=pool_id, IdentityProviderName="accounts.google.com")
    assert got["PrincipalTags"] == {"team": "hd", "user": "sub"}
    assert got["IdentityPoolId"] == pool_id and got["UseDefaults"] is False
    with pytest.raises(ClientError) as excinfo:
        client.set_principal_tag_attribute_map(
            IdentityPoolId=pool_id, IdentityProviderName="www.amazon.com", UseDefaults=True
        )
    assert error(excinfo)[0] == "InvalidParameterException"


def test_every_operation_of_botocores_model_is_implemented(tegata):
    """Each operation of botocore's Cognito Identity model, called with an empty input, is refused
    for its input (HTTP 400), never answered 501 (not implemented) or 500."""
    model = botocore.loaders.Loader().load_service_model("cognito-identity", "service-2")
    operations = sorted(model["operations"])
    assert len(operations) == 23
    client = tegata.client("cognito-identity", config=Config(parameter_validation=False, retries={"max_attempts": 0}))
    statuses = {}
    for name in operations:
        snake = botocore.xform_name(name)
        try:
            getattr(client, snake)()
            statuses[name] = 200
        except ClientError as e:
            statuses[name] = e.response["ResponseMetadata"]["HTTPStatusCode"]
    bad = {name: status for name, status in statuses.items() if status >= 500}
    assert bad == {}, bad
    # Every operation requires some member, so each empty call is a validation error.
    assert set(statuses.values()) == {400}, statuses
