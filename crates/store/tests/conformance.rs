//! One conformance suite for the `Store` trait, run unchanged against SQLite and against a
//! throw-away PostgreSQL cluster.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use futures_util::future::join_all;
use tegata_core::Deployment;
use tegata_core::access_keys::AccessKeys;
use tegata_core::account::Bootstrap;
use tegata_core::app_users::AppUser;
use tegata_core::authz::PermissionCache;
use tegata_core::cognito_identity::{
    AmbiguousRoleResolution, IdentityPool, IdentityPoolSpec, MappingRule, MatchType, PoolRoles,
    PrincipalTagMap, RoleMapping, RoleMappingType,
};
use tegata_core::iam::{
    CreateRoleInput, EntityKind, Group, Iam, IamShared, ManagedPolicy, OidcProvider, PolicySource,
    Role, RoleCache, RoleLastUse, User,
};
use tegata_core::master_key::MasterKey;
use tegata_core::random::SeededRandomness;
use tegata_core::store::{DeleteRoleOutcome, LinkOutcome, Login, PairOutcome, Store, StoreError};
use tegata_core::tokens::keys::{KeyState, SigningKeyRecord, TokenAlgorithm};
use tegata_core::tokens::lifecycle;
use tegata_testkit::PgCluster;

const PROVIDER: &str = "login.mycompany.myapp";

fn pool(id: &str, name: &str) -> IdentityPool {
    IdentityPool {
        id: id.to_owned(),
        spec: IdentityPoolSpec {
            name: name.to_owned(),
            developer_provider_name: Some(PROVIDER.to_owned()),
            tags: Some(BTreeMap::new()),
            ..IdentityPoolSpec::default()
        },
        roles: Default::default(),
        principal_tag_maps: Default::default(),
        created_at: 1,
        updated_at: 1,
    }
}

fn login(user: &str) -> Login<'_> {
    Login {
        provider: PROVIDER,
        user_key: user,
    }
}

fn role(name: &str, path: &str) -> Role {
    Role {
        role_name: name.to_owned(),
        path: path.to_owned(),
        role_id: format!("AROA{}", name.to_uppercase()),
        assume_role_policy_document: "{}".to_owned(),
        description: None,
        max_session_duration: 3600,
        tags: vec![("k".into(), "v".into())],
        permissions_boundary: None,
        created_at: 5,
        last_used: None,
    }
}

async fn bootstrap_keeps_the_first(store: Arc<dyn Store>) {
    // Candidates prepared by "different nodes", committed concurrently: all see one winner.
    let rng = SeededRandomness::new(1);
    let master = MasterKey::generate(&rng);
    let candidates: Vec<Bootstrap> = (0..4)
        .map(|i| Bootstrap::prepare(&master, TokenAlgorithm::Rs512, i, &rng).unwrap())
        .collect();
    let mut tasks = Vec::new();
    for candidate in candidates.clone() {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            store.bootstrap(&candidate).await.unwrap()
        }));
    }
    let mut winners = HashSet::new();
    for task in tasks {
        let stored = task.await.unwrap();
        winners.insert(stored.account.account_id.clone());
        assert!(
            candidates.contains(&stored),
            "the stored state is one candidate, whole"
        );
    }
    assert_eq!(winners.len(), 1, "one account");
    assert_eq!(
        store.signing_keys().await.unwrap().len(),
        1,
        "one signing key"
    );
    let again = store.bootstrap(&candidates[0]).await.unwrap();
    assert_eq!(winners.iter().next(), Some(&again.account.account_id));
    let admin = store
        .access_key(&again.admin_key.access_key_id)
        .await
        .unwrap()
        .expect("admin key stored");
    assert_eq!(admin, again.admin_key);
    assert_eq!(admin.secret(&master).unwrap().len(), 40);
    assert!(
        store
            .access_key("AKIANOSUCHKEY0000000")
            .await
            .unwrap()
            .is_none()
    );
}

async fn signing_key_changes_are_compare_and_set(store: Arc<dyn Store>) {
    let rng = SeededRandomness::new(5);
    let master = MasterKey::generate(&rng);
    store
        .bootstrap(&Bootstrap::prepare(&master, TokenAlgorithm::Es256, 10, &rng).unwrap())
        .await
        .unwrap();
    let states =
        |keys: &[SigningKeyRecord]| -> Vec<KeyState> { keys.iter().map(|k| k.state).collect() };

    // Two nodes publish a next key at once: one is stored. It is an EC key like the first
    // (new keys follow the deployment's algorithm, which the store holds).
    let keys = store.signing_keys().await.unwrap();
    assert_eq!(keys[0].algorithm, "ES256");
    let nexts: Vec<_> = (0..2)
        .map(|_| {
            lifecycle::plan_next_key(&keys, &master, 20, &rng)
                .unwrap()
                .unwrap()
        })
        .collect();
    let outcomes = join_all(nexts.iter().map(|c| store.apply_key_change(c))).await;
    assert_eq!(
        outcomes.iter().filter(|o| o.is_ok()).count(),
        1,
        "{outcomes:?}"
    );
    assert!(
        outcomes
            .iter()
            .any(|o| matches!(o, Err(StoreError::ConcurrentModification)))
    );
    let keys = store.signing_keys().await.unwrap();
    assert_eq!(states(&keys), [KeyState::Active, KeyState::Next]);

    // Two rotations planned on the same keys: one applies, whole.
    let rotations: Vec<_> = (0..2)
        .map(|_| lifecycle::plan_rotation(&keys, 0, &master, 30, &rng).unwrap())
        .collect();
    let outcomes = join_all(rotations.iter().map(|c| store.apply_key_change(c))).await;
    assert_eq!(
        outcomes.iter().filter(|o| o.is_ok()).count(),
        1,
        "{outcomes:?}"
    );
    let rotated = store.signing_keys().await.unwrap();
    assert_eq!(
        states(&rotated),
        [KeyState::Retired, KeyState::Active, KeyState::Next]
    );
    assert_eq!(rotated[0].state_changed_at, 30);
    assert_eq!(rotated[1].kid, keys[1].kid);
    let winner = rotations
        .iter()
        .zip(&outcomes)
        .find_map(|(c, o)| o.is_ok().then_some(c))
        .unwrap();
    assert_eq!(rotated[2], *winner.new_key.as_ref().unwrap());

    // A revocation planned before the rotation (of the then next key) changes nothing now.
    let stale = lifecycle::plan_revocation(&keys, &keys[1].kid, &master, 40, &rng).unwrap();
    assert!(matches!(
        store.apply_key_change(&stale).await,
        Err(StoreError::ConcurrentModification)
    ));
    assert_eq!(store.signing_keys().await.unwrap(), rotated);
}

async fn session_revocations(store: Arc<dyn Store>) {
    assert!(store.session_revocations().await.unwrap().is_empty());
    store.revoke_sessions("us-east-1:a", 100).await.unwrap();
    store.revoke_sessions("us-east-1:pool", 150).await.unwrap();
    // One row per subject, keeping the latest time whatever order the revocations arrive in.
    store.revoke_sessions("us-east-1:a", 300).await.unwrap();
    store.revoke_sessions("us-east-1:a", 200).await.unwrap();
    let mut rows = store.session_revocations().await.unwrap();
    rows.sort();
    assert_eq!(
        rows,
        [
            ("us-east-1:a".to_owned(), 300),
            ("us-east-1:pool".to_owned(), 150)
        ]
    );
    assert_eq!(store.prune_session_revocations(200).await.unwrap(), 1);
    assert_eq!(
        store.session_revocations().await.unwrap(),
        [("us-east-1:a".to_owned(), 300)]
    );
}

async fn pools(store: Arc<dyn Store>) {
    assert_eq!(store.count_identity_pools().await.unwrap(), 0);
    for (id, name) in [("r:0003", "c"), ("r:0001", "a"), ("r:0002", "b")] {
        store.insert_identity_pool(&pool(id, name)).await.unwrap();
    }
    assert_eq!(store.count_identity_pools().await.unwrap(), 3);
    let first = store.list_identity_pools(None, 2).await.unwrap();
    assert_eq!(
        first.iter().map(|p| p.id.as_str()).collect::<Vec<_>>(),
        ["r:0001", "r:0002"]
    );
    let rest = store.list_identity_pools(Some("r:0002"), 2).await.unwrap();
    assert_eq!(rest.len(), 1);
    assert_eq!(rest[0].name, "c");

    let mut updated = pool("r:0001", "renamed");
    updated.spec.allow_classic_flow = Some(false);
    updated.spec.open_id_connect_provider_arns =
        Some(vec!["arn:aws:iam::1:oidc-provider/x".into()]);
    updated.updated_at = 9;
    let current = store.identity_pool("r:0001").await.unwrap().unwrap();
    assert!(
        store
            .replace_identity_pool(&current, &updated)
            .await
            .unwrap()
    );
    assert_eq!(store.identity_pool("r:0001").await.unwrap(), Some(updated));
    assert!(
        !store
            .replace_identity_pool(&current, &current)
            .await
            .unwrap(),
        "written from a configuration that changed since"
    );
    assert!(
        !store
            .replace_identity_pool(&pool("r:9999", "x"), &pool("r:9999", "x"))
            .await
            .unwrap()
    );
    assert_eq!(store.identity_pool("r:9999").await.unwrap(), None);

    // Roles live apart from the configuration: replacing the one keeps the other.
    let mut roles = PoolRoles::default();
    roles
        .roles
        .insert("authenticated".into(), "arn:aws:iam::1:role/auth".into());
    roles.role_mappings.insert(
        "issuer.example".into(),
        RoleMapping {
            mapping_type: RoleMappingType::Rules,
            ambiguous_role_resolution: Some(AmbiguousRoleResolution::Deny),
            rules: Some(vec![MappingRule {
                claim: "team".into(),
                match_type: MatchType::StartsWith,
                value: "ops".into(),
                role_arn: "arn:aws:iam::1:role/ops".into(),
            }]),
        },
    );
    assert!(
        store
            .set_identity_pool_roles("r:0001", &roles, 10)
            .await
            .unwrap()
    );
    assert!(
        !store
            .set_identity_pool_roles("r:9999", &roles, 10)
            .await
            .unwrap()
    );
    let stored = store.identity_pool("r:0001").await.unwrap().unwrap();
    assert_eq!(stored.roles, roles);
    assert_eq!(stored.updated_at, 10);
    let mut renamed = stored.clone();
    renamed.spec.name = "again".into();
    assert!(
        store
            .replace_identity_pool(&stored, &renamed)
            .await
            .unwrap()
    );
    assert_eq!(
        store.identity_pool("r:0001").await.unwrap().unwrap().roles,
        roles
    );

    // A guest identity has no login, and needs its pool.
    assert!(
        store
            .insert_identity("r:0001", "r:guest-1", 11)
            .await
            .unwrap()
    );
    assert!(
        !store
            .insert_identity("r:9999", "r:guest-2", 11)
            .await
            .unwrap()
    );
    let guest = store.identity("r:guest-1").await.unwrap().unwrap();
    assert_eq!(guest.pool_id, "r:0001");
    assert!(guest.logins.is_empty());
    assert_eq!(store.identity("r:guest-2").await.unwrap(), None);
}

/// Every login of the pool, as (provider, user, identity), to check the model's invariants.
async fn logins_of(store: &Arc<dyn Store>, identities: &[&str]) -> Vec<(String, String)> {
    let mut all = Vec::new();
    for identity in identities {
        for user in store
            .user_keys_of_identity(identity, PROVIDER, None, 100)
            .await
            .unwrap()
        {
            all.push(((*identity).to_owned(), user));
        }
    }
    all
}

/// MergeDeveloperIdentities, UnlinkDeveloperIdentity, UnlinkIdentity and DeleteIdentities as the
/// store carries them out: no login left pointing at a merged-away or deleted identity, nothing
/// else touched.
async fn merges_unlinks_and_deletions(store: Arc<dyn Store>) {
    store.insert_identity_pool(&pool("m:1", "m")).await.unwrap();
    let mut ids = Vec::new();
    for user in ["a", "b", "c"] {
        let (id, created) = store
            .find_or_create_identity("m:1", login(user), &format!("m:id-{user}"), 5)
            .await
            .unwrap();
        assert!(created);
        ids.push(id);
    }
    let (a, b, c) = (ids[0].as_str(), ids[1].as_str(), ids[2].as_str());
    assert_eq!(
        store.link_login("m:1", b, login("b2"), 6).await.unwrap(),
        LinkOutcome::Linked
    );
    assert_eq!(store.login_count(b).await.unwrap(), 2);

    // Merge a into b: a's login now finds b, a is disabled, c is untouched.
    store.merge_identities("m:1", a, b, 7).await.unwrap();
    assert_eq!(
        store.identity_of_login("m:1", login("a")).await.unwrap(),
        Some(b.to_owned())
    );
    assert_eq!(store.login_count(a).await.unwrap(), 0);
    assert_eq!(store.login_count(b).await.unwrap(), 3);
    let merged_away = store.identity(a).await.unwrap().unwrap();
    assert!(merged_away.disabled);
    assert!(merged_away.logins.is_empty());
    assert_eq!(store.identity(b).await.unwrap().unwrap().updated_at, 7);
    let visible = store.list_identities("m:1", None, 10, true).await.unwrap();
    assert_eq!(
        visible
            .iter()
            .map(|i| i.identity_id.as_str())
            .collect::<Vec<_>>(),
        [b, c]
    );
    assert_eq!(
        store
            .list_identities("m:1", None, 10, false)
            .await
            .unwrap()
            .len(),
        3
    );

    // Unlink one login: only that one goes, and the user is free to get a new identity.
    assert!(store.unlink_login(b, login("b2"), 8).await.unwrap());
    assert!(!store.unlink_login(b, login("b2"), 8).await.unwrap());
    assert!(
        !store.unlink_login(c, login("a"), 8).await.unwrap(),
        "a is b's"
    );
    assert_eq!(
        logins_of(&store, &[a, b, c]).await,
        [
            (b.to_owned(), "a".to_owned()),
            (b.to_owned(), "b".to_owned()),
            (c.to_owned(), "c".to_owned())
        ]
    );
    let (again, created) = store
        .find_or_create_identity("m:1", login("b2"), "m:id-b2", 9)
        .await
        .unwrap();
    assert!(created);
    assert_eq!(again, "m:id-b2");

    // Unlink a provider: every login of it goes from that identity only.
    assert!(!store.identity(b).await.unwrap().unwrap().disabled);
    assert_eq!(store.unlink_provider(b, PROVIDER, 10).await.unwrap(), 2);
    assert_eq!(store.login_count(b).await.unwrap(), 0);
    // Emptied, it is disabled, and no login can be linked to it any more.
    assert!(store.identity(b).await.unwrap().unwrap().disabled);
    assert_eq!(
        store.link_login("m:1", b, login("late"), 10).await.unwrap(),
        LinkOutcome::IdentityNotFound
    );
    assert_eq!(
        store.link_login("m:1", a, login("late"), 10).await.unwrap(),
        LinkOutcome::IdentityNotFound,
        "nor to a merged-away one"
    );
    assert_eq!(store.login_count(c).await.unwrap(), 1);

    // Delete: the identity and its logins, nothing else.
    assert!(store.delete_identity(c).await.unwrap());
    assert!(!store.delete_identity(c).await.unwrap());
    assert_eq!(store.identity(c).await.unwrap(), None);
    assert_eq!(
        store.identity_of_login("m:1", login("c")).await.unwrap(),
        None
    );
    assert_eq!(store.login_count("m:id-b2").await.unwrap(), 1);

    // Principal tag maps: one provider's map is set without undoing another's.
    let google = PrincipalTagMap {
        use_defaults: true,
        principal_tags: BTreeMap::new(),
    };
    let issuer = PrincipalTagMap {
        use_defaults: false,
        principal_tags: BTreeMap::from([("team".to_owned(), "groups".to_owned())]),
    };
    let (first, second) = tokio::join!(
        store.set_principal_tag_map("m:1", "accounts.google.com", &google, 11),
        store.set_principal_tag_map("m:1", "issuer.example", &issuer, 11),
    );
    assert!(first.unwrap() && second.unwrap());
    assert!(
        !store
            .set_principal_tag_map("m:9", "issuer.example", &issuer, 11)
            .await
            .unwrap()
    );
    let maps = store
        .identity_pool("m:1")
        .await
        .unwrap()
        .unwrap()
        .principal_tag_maps;
    assert_eq!(maps.get("accounts.google.com"), Some(&google));
    assert_eq!(maps.get("issuer.example"), Some(&issuer));
}

async fn oidc_providers(store: Arc<dyn Store>) {
    let provider = |url: &str| OidcProvider {
        url: url.to_owned(),
        scheme: "https".to_owned(),
        client_ids: vec!["app".to_owned()],
        thumbprints: vec!["a".repeat(40)],
        tags: vec![("team".to_owned(), "id".to_owned())],
        created_at: 3,
    };
    assert!(
        store
            .insert_oidc_provider(&provider("b.example/x"))
            .await
            .unwrap()
    );
    assert!(
        store
            .insert_oidc_provider(&provider("a.example"))
            .await
            .unwrap()
    );
    assert!(
        !store
            .insert_oidc_provider(&provider("a.example"))
            .await
            .unwrap()
    );
    assert_eq!(
        store
            .list_oidc_providers()
            .await
            .unwrap()
            .iter()
            .map(|p| p.url.as_str())
            .collect::<Vec<_>>(),
        ["a.example", "b.example/x"]
    );
    let current = store.oidc_provider("a.example").await.unwrap().unwrap();
    assert_eq!(current, provider("a.example"));
    let mut changed = current.clone();
    changed.client_ids.push("other".to_owned());
    assert!(
        store
            .replace_oidc_provider(&current, &changed)
            .await
            .unwrap()
    );
    // A writer that read before that change loses, rather than undoing it.
    let mut stale = current.clone();
    stale.tags.clear();
    assert!(!store.replace_oidc_provider(&current, &stale).await.unwrap());
    assert_eq!(
        store.oidc_provider("a.example").await.unwrap(),
        Some(changed)
    );
    assert!(store.delete_oidc_provider("a.example").await.unwrap());
    assert!(!store.delete_oidc_provider("a.example").await.unwrap());
    assert_eq!(store.oidc_provider("a.example").await.unwrap(), None);
}

async fn concurrent_updates_lose_nothing(store: Arc<dyn Store>) {
    store
        .insert_identity_pool(&pool("u:0001", "start"))
        .await
        .unwrap();
    // Twenty writers each add a tag by reading, changing and writing back, as TagResource
    // does; a write computed from a configuration that changed meanwhile is refused and
    // computed again. No writer's tag is lost.
    let mut tasks = Vec::new();
    for i in 0..20 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let mut attempts = 0;
            loop {
                attempts += 1;
                let current = store.identity_pool("u:0001").await.unwrap().unwrap();
                let mut new = current.clone();
                new.spec
                    .tags
                    .get_or_insert_with(BTreeMap::new)
                    .insert(format!("writer-{i}"), "x".to_owned());
                if store.replace_identity_pool(&current, &new).await.unwrap() {
                    return attempts;
                }
                assert!(attempts < 100, "writer {i} never got through");
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let last = store.identity_pool("u:0001").await.unwrap().unwrap();
    assert_eq!(last.spec.tags.unwrap_or_default().len(), 20);
}

async fn identities(store: Arc<dyn Store>) {
    store
        .insert_identity_pool(&pool("i:0001", "ids"))
        .await
        .unwrap();
    store
        .insert_identity_pool(&pool("i:0002", "other"))
        .await
        .unwrap();
    let (id, created) = store
        .find_or_create_identity("i:0001", login("alice"), "i:aaaa", 10)
        .await
        .unwrap();
    assert_eq!((id.as_str(), created), ("i:aaaa", true));
    let (again, created) = store
        .find_or_create_identity("i:0001", login("alice"), "i:bbbb", 11)
        .await
        .unwrap();
    assert_eq!((again.as_str(), created), ("i:aaaa", false));
    assert!(
        store.identity("i:bbbb").await.unwrap().is_none(),
        "the candidate was rolled back"
    );
    assert_eq!(
        store
            .identity_of_login("i:0001", login("alice"))
            .await
            .unwrap()
            .as_deref(),
        Some("i:aaaa")
    );
    // The same user in another pool is another identity.
    assert_eq!(
        store
            .identity_of_login("i:0002", login("alice"))
            .await
            .unwrap(),
        None
    );
    // The pool and a login's identity in one read.
    let (found, linked) = store
        .identity_pool_with_login("i:0001", login("alice"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (found.id.as_str(), found.spec.name.as_str()),
        ("i:0001", "ids")
    );
    assert_eq!(linked.as_deref(), Some("i:aaaa"));
    let (found, linked) = store
        .identity_pool_with_login("i:0002", login("alice"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!((found.id.as_str(), linked), ("i:0002", None));
    let other_provider = Login {
        provider: "other.provider",
        user_key: "alice",
    };
    assert_eq!(
        store
            .identity_pool_with_login("i:0001", other_provider)
            .await
            .unwrap()
            .map(|(p, linked)| (p.id, linked)),
        Some(("i:0001".to_owned(), None))
    );
    assert!(
        store
            .identity_pool_with_login("i:9999", login("alice"))
            .await
            .unwrap()
            .is_none()
    );

    assert_eq!(
        store
            .link_login("i:0001", "i:aaaa", login("alice-2"), 12)
            .await
            .unwrap(),
        LinkOutcome::Linked
    );
    assert_eq!(
        store
            .link_login("i:0001", "i:aaaa", login("alice"), 12)
            .await
            .unwrap(),
        LinkOutcome::Linked
    );
    store
        .find_or_create_identity("i:0001", login("bob"), "i:cccc", 13)
        .await
        .unwrap();
    assert_eq!(
        store
            .link_login("i:0001", "i:cccc", login("alice"), 14)
            .await
            .unwrap(),
        LinkOutcome::AlreadyLinkedElsewhere("i:aaaa".into())
    );
    assert_eq!(
        store
            .link_login("i:0002", "i:aaaa", login("x"), 14)
            .await
            .unwrap(),
        LinkOutcome::IdentityNotFound,
        "an identity of another pool"
    );
    assert_eq!(
        store
            .link_login("i:0001", "i:zzzz", login("x"), 14)
            .await
            .unwrap(),
        LinkOutcome::IdentityNotFound
    );

    let alice = store.identity("i:aaaa").await.unwrap().unwrap();
    assert_eq!(alice.logins, [PROVIDER]);
    assert_eq!((alice.created_at, alice.updated_at), (10, 12));
    assert_eq!(
        store
            .user_keys_of_identity("i:aaaa", PROVIDER, None, 10)
            .await
            .unwrap(),
        ["alice", "alice-2"]
    );
    assert_eq!(
        store
            .user_keys_of_identity("i:aaaa", PROVIDER, Some("alice"), 10)
            .await
            .unwrap(),
        ["alice-2"]
    );
    let listed = store
        .list_identities("i:0001", None, 10, false)
        .await
        .unwrap();
    assert_eq!(
        listed
            .iter()
            .map(|i| i.identity_id.as_str())
            .collect::<Vec<_>>(),
        ["i:aaaa", "i:cccc"]
    );
    let page = store
        .list_identities("i:0001", Some("i:aaaa"), 1, true)
        .await
        .unwrap();
    assert_eq!(page.len(), 1);
    assert_eq!(page[0].identity_id, "i:cccc");

    // A pool that does not exist (deleted meanwhile): refused, nothing written, and the store
    // keeps working.
    assert!(
        store
            .find_or_create_identity("gone:0001", login("x"), "gone:aaaa", 15)
            .await
            .is_err()
    );
    assert!(store.identity("gone:aaaa").await.unwrap().is_none());
    assert_eq!(
        store
            .identity_of_login("gone:0001", login("x"))
            .await
            .unwrap(),
        None
    );
    store
        .find_or_create_identity("i:0001", login("carol"), "i:dddd", 16)
        .await
        .unwrap();

    assert!(store.delete_identity_pool("i:0001").await.unwrap());
    assert!(!store.delete_identity_pool("i:0001").await.unwrap());
    assert!(
        store.identity("i:aaaa").await.unwrap().is_none(),
        "identities go with the pool"
    );
    assert_eq!(
        store
            .identity_of_login("i:0001", login("alice"))
            .await
            .unwrap(),
        None
    );
}

async fn one_identity_per_user_under_concurrency(store: Arc<dyn Store>) {
    store
        .insert_identity_pool(&pool("c:0001", "race"))
        .await
        .unwrap();
    let mut tasks = Vec::new();
    for i in 0..60 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let user = format!("user-{}", i % 3);
            let (id, _) = store
                .find_or_create_identity("c:0001", login(&user), &format!("c:{i:04}"), 1)
                .await
                .unwrap();
            (user, id)
        }));
    }
    let mut by_user: BTreeMap<String, HashSet<String>> = BTreeMap::new();
    for task in tasks {
        let (user, id) = task.await.unwrap();
        by_user.entry(user).or_default().insert(id);
    }
    assert_eq!(by_user.len(), 3);
    for (user, ids) in &by_user {
        assert_eq!(ids.len(), 1, "{user} got {ids:?}");
    }
    assert_eq!(
        store
            .list_identities("c:0001", None, 100, false)
            .await
            .unwrap()
            .len(),
        3
    );
}

/// Creations arriving together are written together (group commit); whatever the grouping, each
/// caller gets what it would have got alone: one identity per user, a later caller of the same
/// user gets the first one's identity, and a creation naming a missing pool fails alone.
async fn creations_arriving_together(store: Arc<dyn Store>) {
    store
        .insert_identity_pool(&pool("g:0001", "group"))
        .await
        .unwrap();
    let (existing, _) = store
        .find_or_create_identity("g:0001", login("old"), "g:old", 1)
        .await
        .unwrap();
    for round in 0..5 {
        let users: Vec<String> = (0..12)
            .map(|i| match i {
                0 => "old".to_owned(),
                i => format!("r{round}-u{}", i % 6),
            })
            .collect();
        let calls = users.iter().enumerate().map(|(i, user)| {
            let store = store.clone();
            async move {
                let pool = if i == 7 { "gone:0001" } else { "g:0001" };
                let candidate = format!("g:{round}-{i}");
                let result = store
                    .find_or_create_identity(pool, login(user), &candidate, 2)
                    .await;
                (i, user.clone(), candidate, result)
            }
        });
        let mut by_user: BTreeMap<String, HashSet<String>> = BTreeMap::new();
        let mut created = 0;
        for (i, user, candidate, result) in join_all(calls).await {
            if i == 7 {
                assert!(result.is_err(), "a missing pool is refused");
                assert!(store.identity(&candidate).await.unwrap().is_none());
                continue;
            }
            let (id, was_created) = result.unwrap();
            assert_eq!(
                was_created,
                id == candidate,
                "{user}: created means its candidate"
            );
            created += usize::from(was_created);
            by_user.entry(user).or_default().insert(id);
        }
        assert_eq!(by_user["old"], HashSet::from([existing.clone()]));
        for (user, ids) in &by_user {
            assert_eq!(ids.len(), 1, "{user} got {ids:?}");
            let id = ids.iter().next().unwrap();
            assert_eq!(
                store
                    .identity_of_login("g:0001", login(user))
                    .await
                    .unwrap()
                    .as_ref(),
                Some(id)
            );
        }
        // Users 1..5 and the one after the missing pool's caller: r{round}-u1 … u5 and u0.
        assert_eq!(created, 6, "round {round}: one identity per new user");
    }
    assert_eq!(
        store
            .list_identities("g:0001", None, 100, false)
            .await
            .unwrap()
            .len(),
        1 + 5 * 6,
        "no candidate of a losing caller was left behind"
    );
}

async fn roles(store: Arc<dyn Store>) {
    assert!(store.insert_role(&role("App", "/a/")).await.unwrap());
    assert!(
        !store.insert_role(&role("app", "/")).await.unwrap(),
        "names ignore case"
    );
    assert!(store.insert_role(&role("other", "/b/")).await.unwrap());
    let got = store.role("APP").await.unwrap().unwrap();
    assert_eq!(got, role("App", "/a/"));
    let mut changed = got.clone();
    changed.description = Some("d".into());
    changed.max_session_duration = 7200;
    assert!(
        store
            .update_role("APP", Some("d"), Some(7200))
            .await
            .unwrap()
    );
    assert_eq!(store.role("app").await.unwrap(), Some(changed.clone()));

    // Tags by compare-and-swap; uses only forward in time, and only for the same role id.
    let original = changed.tags.clone();
    let tags = vec![("Team".to_owned(), "x".to_owned())];
    assert_eq!(
        store
            .replace_role_tags("app", &original, &tags)
            .await
            .unwrap(),
        Some(true)
    );
    assert_eq!(
        store
            .replace_role_tags("app", &original, &[])
            .await
            .unwrap(),
        Some(false),
        "the tags changed meanwhile"
    );
    assert_eq!(
        store.replace_role_tags("ghost", &[], &tags).await.unwrap(),
        None
    );
    assert_eq!(store.role("app").await.unwrap().unwrap().tags, tags);
    assert_eq!(store.role("app").await.unwrap().unwrap().last_used, None);
    let id = changed.role_id.as_str();
    store
        .record_role_use("app", id, 500, "eu-west-1")
        .await
        .unwrap();
    store
        .record_role_use("app", id, 400, "us-east-1")
        .await
        .unwrap();
    store
        .record_role_use("app", "AROAOTHERROLE", 900, "us-east-1")
        .await
        .unwrap();
    assert_eq!(
        store.role("app").await.unwrap().unwrap().last_used,
        Some(RoleLastUse {
            at: 500,
            region: "eu-west-1".into()
        })
    );
    store
        .replace_role_tags("app", &tags, &original)
        .await
        .unwrap();

    let all = store.list_roles("/", None, 10).await.unwrap();
    assert_eq!(
        all.iter().map(|r| r.role_name.as_str()).collect::<Vec<_>>(),
        ["App", "other"]
    );
    let under_b = store.list_roles("/b/", None, 10).await.unwrap();
    assert_eq!(under_b.len(), 1);
    assert_eq!(
        store.list_roles("/", Some("app"), 10).await.unwrap().len(),
        1
    );

    assert!(
        store
            .put_inline_policy(EntityKind::Role, "app", "p1", "{\"a\":1}")
            .await
            .unwrap()
    );
    assert!(
        store
            .put_inline_policy(EntityKind::Role, "app", "p1", "{\"a\":2}")
            .await
            .unwrap(),
        "replaced"
    );
    assert!(
        store
            .put_inline_policy(EntityKind::Role, "app", "p0", "{}")
            .await
            .unwrap()
    );
    assert!(
        !store
            .put_inline_policy(EntityKind::Role, "ghost", "p", "{}")
            .await
            .unwrap()
    );
    assert_eq!(
        store
            .inline_policy(EntityKind::Role, "app", "p1")
            .await
            .unwrap()
            .as_deref(),
        Some("{\"a\":2}")
    );
    assert_eq!(
        store
            .inline_policy_names(EntityKind::Role, "app")
            .await
            .unwrap(),
        ["p0", "p1"]
    );
    assert_eq!(
        store.delete_role("app").await.unwrap(),
        DeleteRoleOutcome::HasPolicies
    );
    assert!(
        store.role("app").await.unwrap().is_some(),
        "nothing deleted"
    );
    assert!(
        store
            .delete_inline_policy(EntityKind::Role, "app", "p0")
            .await
            .unwrap()
    );
    assert!(
        store
            .delete_inline_policy(EntityKind::Role, "app", "p1")
            .await
            .unwrap()
    );
    assert!(
        !store
            .delete_inline_policy(EntityKind::Role, "app", "p1")
            .await
            .unwrap()
    );
    assert_eq!(
        store.delete_role("app").await.unwrap(),
        DeleteRoleOutcome::Deleted
    );
    assert_eq!(
        store.delete_role("app").await.unwrap(),
        DeleteRoleOutcome::NotFound
    );
}

async fn large_pool_deletion(store: Arc<dyn Store>) {
    store
        .insert_identity_pool(&pool("p:0001", "bulk"))
        .await
        .unwrap();
    // Several deletion slices' worth of identities (a slice is 256).
    let users: Vec<String> = (0..1_000).map(|i| format!("bulk-{i}")).collect();
    let creations = users.iter().enumerate().map(|(i, user)| {
        let store = store.clone();
        async move {
            store
                .find_or_create_identity("p:0001", login(user), &format!("p:{i:08}"), 3)
                .await
                .unwrap()
        }
    });
    join_all(creations).await;
    assert_eq!(
        store
            .identity_of_login("p:0001", login("bulk-999"))
            .await
            .unwrap()
            .as_deref(),
        Some("p:00000999")
    );

    // Deleting a pool far larger than one deletion slice takes all of it and nothing else.
    store
        .insert_identity_pool(&pool("p:0002", "neighbour"))
        .await
        .unwrap();
    store
        .find_or_create_identity("p:0002", login("bulk-5"), "p:next-door", 5)
        .await
        .unwrap();
    assert!(store.delete_identity_pool("p:0001").await.unwrap());
    assert!(!store.delete_identity_pool("p:0001").await.unwrap());
    for i in [0, 500, 999] {
        assert!(
            store
                .identity(&format!("p:{i:08}"))
                .await
                .unwrap()
                .is_none()
        );
        assert_eq!(
            store
                .identity_of_login("p:0001", login(&format!("bulk-{i}")))
                .await
                .unwrap(),
            None
        );
    }
    assert_eq!(
        store
            .identity_of_login("p:0002", login("bulk-5"))
            .await
            .unwrap()
            .as_deref(),
        Some("p:next-door")
    );
    assert!(store.identity("p:next-door").await.unwrap().is_some());
}

/// IAM's UpdateRole and UpdateAssumeRolePolicy race on one role. Each must write only what it
/// changes: a read-modify-write of the whole row silently undid the other call's change.
async fn updates_of_one_role_do_not_undo_each_other(store: Arc<dyn Store>) {
    let deployment = Arc::new(Deployment {
        account_id: "123456789012".to_owned(),
        issuer: "http://localhost".to_owned(),
    });
    let rng = SeededRandomness::new(5);
    let master = Arc::new(MasterKey::generate(&rng));
    let iam = Arc::new(Iam::new(
        store.clone(),
        deployment.clone(),
        IamShared {
            roles: Arc::new(RoleCache::default()),
            permissions: Arc::new(PermissionCache::default()),
            access_keys: Arc::new(AccessKeys::new(store.clone(), master.clone(), deployment)),
            master,
        },
    ));
    let trust = |round: i64| {
        format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Sid":"round{round}","Effect":"Allow",
            "Principal":{{"Federated":"cognito-identity.amazonaws.com"}},
            "Action":"sts:AssumeRoleWithWebIdentity"}}]}}"#
        )
    };
    let rng = SeededRandomness::new(5);
    iam.create_role(
        CreateRoleInput {
            role_name: "raced".to_owned(),
            path: None,
            assume_role_policy_document: trust(-1),
            description: None,
            max_session_duration: None,
            tags: Vec::new(),
            permissions_boundary: None,
        },
        1,
        &rng,
    )
    .await
    .unwrap();
    for round in 0..30 {
        let description = format!("round {round}");
        let trust_update = {
            let iam = iam.clone();
            let document = trust(round);
            tokio::spawn(async move { iam.update_assume_role_policy("raced", &document).await })
        };
        let role_update = {
            let iam = iam.clone();
            let description = description.clone();
            tokio::spawn(async move {
                iam.update_role("raced", Some(&description), Some(3600 + round))
                    .await
            })
        };
        trust_update.await.unwrap().unwrap();
        role_update.await.unwrap().unwrap();
        let stored = store.role("raced").await.unwrap().unwrap();
        assert_eq!(
            stored.assume_role_policy_document,
            trust(round),
            "round {round}"
        );
        assert_eq!(stored.description.as_deref(), Some(description.as_str()));
        assert_eq!(stored.max_session_duration, 3600 + round);
    }
    // An update that names no field changes nothing.
    iam.update_role("raced", None, None).await.unwrap();
    let stored = store.role("raced").await.unwrap().unwrap();
    assert_eq!(stored.description.as_deref(), Some("round 29"));
    assert!(!store.update_role("ghost", None, Some(3600)).await.unwrap());
    assert!(
        !store
            .update_assume_role_policy("ghost", "{}")
            .await
            .unwrap()
    );
}

/// Every check, each on a fresh store from `fresh`.
/// Users in groups, inline and managed policies, boundaries: the one read that authorizes a
/// principal sees all of them, and what still refers to an entity keeps it from being deleted.
async fn users_groups_and_policies(store: Arc<dyn Store>) {
    let user = User {
        user_name: "Dev".into(),
        path: "/team/".into(),
        user_id: "AIDADEV".into(),
        tags: vec![("team".into(), "a".into())],
        permissions_boundary: None,
        created_at: 1,
    };
    assert!(store.insert_user(&user).await.unwrap());
    assert!(
        !store.insert_user(&user).await.unwrap(),
        "names ignore case"
    );
    let group = Group {
        group_name: "readers".into(),
        path: "/".into(),
        group_id: "AGPAREADERS".into(),
        created_at: 1,
    };
    assert!(store.insert_group(&group).await.unwrap());
    assert_eq!(
        store.add_user_to_group("dev", "readers", 2).await.unwrap(),
        PairOutcome::Done
    );
    assert_eq!(
        store
            .add_user_to_group("ghost", "readers", 2)
            .await
            .unwrap(),
        PairOutcome::FirstMissing
    );
    let managed = |name: &str| ManagedPolicy {
        arn: format!("arn:aws:iam::123456789012:policy/{name}"),
        policy_name: name.into(),
        path: "/".into(),
        policy_id: format!("ANPA{name}"),
        description: None,
        default_version: "v1".into(),
        tags: Vec::new(),
        created_at: 1,
        updated_at: 1,
    };
    assert!(
        store
            .insert_managed_policy(&managed("p"), "{\"v\":1}")
            .await
            .unwrap()
    );
    assert!(
        !store
            .insert_managed_policy(&managed("P"), "{}")
            .await
            .unwrap()
    );
    let arn = managed("p").arn;
    let (_, v2) = store
        .insert_policy_version(&arn, "{\"v\":2}", true, 5, 3)
        .await
        .unwrap();
    assert_eq!(v2.unwrap().version_id, "v2");
    let versions = store.policy_versions(&arn).await.unwrap();
    assert_eq!(
        versions
            .iter()
            .map(|v| (v.version_id.as_str(), v.is_default))
            .collect::<Vec<_>>(),
        [("v2", true), ("v1", false)]
    );
    assert!(
        store
            .put_inline_policy(EntityKind::User, "dev", "mine", "{\"u\":1}")
            .await
            .unwrap()
    );
    assert!(
        store
            .put_inline_policy(EntityKind::Group, "readers", "ours", "{\"g\":1}")
            .await
            .unwrap()
    );
    assert_eq!(
        store
            .attach_policy(EntityKind::Group, "readers", &arn, 4)
            .await
            .unwrap(),
        PairOutcome::Done
    );
    assert_eq!(
        store
            .attach_policy(
                EntityKind::User,
                "dev",
                "arn:aws:iam::aws:policy/AdministratorAccess",
                5
            )
            .await
            .unwrap(),
        PairOutcome::Done
    );
    assert_eq!(
        store
            .set_permissions_boundary(EntityKind::User, "dev", Some(&arn))
            .await
            .unwrap(),
        PairOutcome::Done
    );
    let set = store
        .principal_policies(EntityKind::User, "DEV")
        .await
        .unwrap()
        .unwrap();
    let inline: Vec<(&str, &str)> = set
        .inline
        .iter()
        .map(|d| (d.source.id(), d.document.as_str()))
        .collect();
    assert_eq!(inline, [("mine", "{\"u\":1}"), ("ours", "{\"g\":1}")]);
    // The sources carry the entities' names as stored, not their keys.
    assert!(
        matches!(&set.inline[0].source, PolicySource::Inline { entity, .. } if entity == "Dev")
    );
    assert!(matches!(
        &set.inline[1].source,
        PolicySource::Inline {
            kind: EntityKind::Group,
            ..
        }
    ));
    assert_eq!(
        set.attached,
        [
            (arn.clone(), Some("{\"v\":2}".to_owned())),
            (
                "arn:aws:iam::aws:policy/AdministratorAccess".to_owned(),
                None
            )
        ]
    );
    assert_eq!(
        set.boundary,
        Some((arn.clone(), Some("{\"v\":2}".to_owned())))
    );
    assert_eq!(set.tags, user.tags);
    assert_eq!(set.id, "AIDADEV");
    assert!(
        store
            .principal_policies(EntityKind::Role, "none")
            .await
            .unwrap()
            .is_none()
    );

    let info = store.managed_policy(&arn).await.unwrap().unwrap();
    assert_eq!((info.attachment_count, info.boundary_usage_count), (1, 1));
    assert_eq!(
        store.delete_managed_policy(&arn).await.unwrap(),
        PairOutcome::SecondMissing
    );
    assert!(matches!(
        store.delete_group("readers").await.unwrap(),
        tegata_core::iam::DeleteOutcome::Conflict(_)
    ));
    // A rename carries everything that names the user.
    assert_eq!(
        store
            .update_user("dev", Some("developer"), None)
            .await
            .unwrap(),
        Some(true)
    );
    let renamed = store
        .principal_policies(EntityKind::User, "developer")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(renamed.inline.len(), 2);
    assert_eq!(
        store.user("developer").await.unwrap().unwrap().user_id,
        "AIDADEV"
    );
    assert_eq!(store.groups_of_user("developer").await.unwrap().len(), 1);

    // Ten keys at once for one user: the quota of two holds.
    let attempts = (0..10).map(|n| {
        let store = store.clone();
        async move {
            let key = tegata_core::account::AccessKeyRecord {
                access_key_id: format!("AKIARACE{n:02}"),
                user_name: "developer".into(),
                user_id: "AIDADEV".into(),
                encrypted_secret: vec![0],
                master_key_id: "k".into(),
                active: true,
                created_at: n,
                last_used: None,
            };
            store.insert_access_key(&key, 2).await.unwrap()
        }
    });
    let outcomes = join_all(attempts).await;
    assert_eq!(
        outcomes
            .iter()
            .filter(|o| **o == tegata_core::store::CappedInsert::Inserted)
            .count(),
        2
    );
    assert_eq!(
        store.access_keys_of_user("DEVELOPER").await.unwrap().len(),
        2
    );
}

async fn app_users(store: Arc<dyn Store>) {
    let user = |name: &str| AppUser {
        username: name.to_owned(),
        password_hash: format!("hash-of-{name}"),
        disabled: false,
        created_at: 10,
        password_changed_at: 10,
    };
    assert!(store.insert_app_user(&user("bob")).await.unwrap());
    assert!(store.insert_app_user(&user("alice")).await.unwrap());
    // Usernames are exact: `Alice` is another user, and `alice` cannot be added twice.
    assert!(store.insert_app_user(&user("Alice")).await.unwrap());
    assert!(!store.insert_app_user(&user("alice")).await.unwrap());
    let names: Vec<String> = store
        .list_app_users()
        .await
        .unwrap()
        .into_iter()
        .map(|u| u.username)
        .collect();
    assert_eq!(names, ["Alice", "alice", "bob"]);

    assert!(
        store
            .set_app_user_password("alice", "new-hash", 20)
            .await
            .unwrap()
    );
    assert!(!store.set_app_user_password("carol", "x", 20).await.unwrap());
    let alice = store.app_user("alice").await.unwrap().unwrap();
    assert_eq!(
        (alice.password_hash.as_str(), alice.password_changed_at),
        ("new-hash", 20)
    );
    // A re-hash from a sign-in that read the old hash does not undo the change.
    assert!(
        !store
            .replace_app_user_hash("alice", "hash-of-alice", "upgraded")
            .await
            .unwrap()
    );
    assert!(
        store
            .replace_app_user_hash("alice", "new-hash", "upgraded")
            .await
            .unwrap()
    );
    let alice = store.app_user("alice").await.unwrap().unwrap();
    assert_eq!(
        (alice.password_hash.as_str(), alice.password_changed_at),
        ("upgraded", 20)
    );

    assert!(store.set_app_user_disabled("bob", true).await.unwrap());
    assert!(store.app_user("bob").await.unwrap().unwrap().disabled);
    assert!(store.set_app_user_disabled("bob", false).await.unwrap());
    assert!(!store.app_user("bob").await.unwrap().unwrap().disabled);
    assert!(!store.set_app_user_disabled("carol", true).await.unwrap());

    assert!(store.delete_app_user("bob").await.unwrap());
    assert!(!store.delete_app_user("bob").await.unwrap());
    assert_eq!(store.app_user("bob").await.unwrap(), None);
    assert_eq!(store.list_app_users().await.unwrap().len(), 2);
}

async fn conformance<F, Fut>(fresh: F)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Arc<dyn Store>>,
{
    bootstrap_keeps_the_first(fresh().await).await;
    signing_key_changes_are_compare_and_set(fresh().await).await;
    session_revocations(fresh().await).await;
    pools(fresh().await).await;
    concurrent_updates_lose_nothing(fresh().await).await;
    identities(fresh().await).await;
    merges_unlinks_and_deletions(fresh().await).await;
    oidc_providers(fresh().await).await;
    one_identity_per_user_under_concurrency(fresh().await).await;
    creations_arriving_together(fresh().await).await;
    roles(fresh().await).await;
    large_pool_deletion(fresh().await).await;
    updates_of_one_role_do_not_undo_each_other(fresh().await).await;
    users_groups_and_policies(fresh().await).await;
    app_users(fresh().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_conformance() {
    let root = std::env::temp_dir().join(format!("tegata-store-{}", std::process::id()));
    let counter = std::sync::atomic::AtomicU32::new(0);
    conformance(|| {
        let dir = root.join(
            counter
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
                .to_string(),
        );
        async move {
            std::fs::create_dir_all(&dir).unwrap();
            Arc::new(tegata_store::open_sqlite(&dir).await.unwrap()) as Arc<dyn Store>
        }
    })
    .await;
    let _ = std::fs::remove_dir_all(&root);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_conformance() {
    let cluster = PgCluster::start();
    conformance(|| {
        let url = cluster.create_database();
        async move { Arc::new(tegata_store::open_postgres(&url).await.unwrap()) as Arc<dyn Store> }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn migrations_refuse_a_newer_schema_on_both_backends() {
    let dir = std::env::temp_dir().join(format!("tegata-store-newer-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    drop(tegata_store::open_sqlite(&dir).await.unwrap());
    {
        use sqlx::Connection;
        let url = format!("sqlite://{}", dir.join("tegata.db").display());
        let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
        sqlx::query("INSERT INTO tegata_schema VALUES (999, 'future', 0)")
            .execute(&mut conn)
            .await
            .unwrap();
    }
    let err = tegata_store::open_sqlite(&dir)
        .await
        .err()
        .expect("refused");
    assert!(err.to_string().contains("newer than this tegata"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);

    let cluster = PgCluster::start();
    let url = cluster.create_database();
    // Several nodes migrating an empty database at once agree; opening again is a no-op.
    let mut tasks = Vec::new();
    for _ in 0..4 {
        let url = url.clone();
        tasks.push(tokio::spawn(async move {
            tegata_store::open_postgres(&url).await.map(|_| ())
        }));
    }
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    assert_eq!(
        cluster.psql(
            PgCluster::database_name(&url),
            "SELECT count(*) FROM tegata_schema"
        ),
        "9"
    );
    drop(tegata_store::open_postgres(&url).await.unwrap());
    cluster.psql(
        PgCluster::database_name(&url),
        "INSERT INTO tegata_schema VALUES (999, 'future', 0)",
    );
    let err = tegata_store::open_postgres(&url)
        .await
        .err()
        .expect("refused");
    assert!(err.to_string().contains("newer than this tegata"), "{err}");
}
