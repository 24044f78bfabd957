//! IAM users, their access keys and tags, and groups.

use crate::account::AccessKeyRecord;
use crate::authz::cache_key;
use crate::pagination::Page;
use crate::random::Randomness;
use crate::store::{CappedInsert, PairOutcome};
use crate::{UnixSeconds, ids};

use super::model::{DeleteOutcome, EntityKind, Group, User};
use super::{Iam, IamError, Result, page_of, tags};

/// AWS's quota of access keys per user.
pub const MAX_ACCESS_KEYS_PER_USER: u64 = 2;

pub struct CreateUserInput {
    pub user_name: String,
    pub path: Option<String>,
    pub tags: Vec<(String, String)>,
    pub permissions_boundary: Option<String>,
}

/// A user's group and the users in it (GetGroup).
pub struct GroupWithUsers {
    pub group: Group,
    pub users: Vec<User>,
}

fn no_such_user(name: &str) -> IamError {
    IamError::NoSuchEntity(EntityKind::User.not_found_message(name))
}

fn no_such_group(name: &str) -> IamError {
    IamError::NoSuchEntity(EntityKind::Group.not_found_message(name))
}

fn no_such_access_key(access_key_id: &str) -> IamError {
    IamError::NoSuchEntity(format!(
        "The Access Key with id {access_key_id} cannot be found."
    ))
}

impl Iam {
    pub async fn create_user(
        &self,
        input: CreateUserInput,
        now: UnixSeconds,
        rng: &dyn Randomness,
    ) -> Result<User> {
        tags::check_unique_keys(&input.tags)?;
        if let Some(boundary) = &input.permissions_boundary {
            self.require_boundary_policy(boundary).await?;
        }
        let user = User {
            user_id: ids::unique_id("AIDA", rng),
            path: input.path.unwrap_or_else(|| "/".to_owned()),
            tags: input.tags,
            permissions_boundary: input.permissions_boundary,
            created_at: now,
            user_name: input.user_name,
        };
        if !self.store.insert_user(&user).await? {
            return Err(IamError::EntityAlreadyExists(format!(
                "User with name {} already exists.",
                user.user_name
            )));
        }
        Ok(user)
    }

    pub async fn get_user(&self, user_name: &str) -> Result<User> {
        self.store
            .user(user_name)
            .await?
            .ok_or_else(|| no_such_user(user_name))
    }

    pub async fn list_users(
        &self,
        path_prefix: Option<&str>,
        marker: Option<&str>,
        max_items: u32,
    ) -> Result<Page<User>> {
        let users = self.store.list_users(path_prefix.unwrap_or("/")).await?;
        page_of(users, marker, max_items, |u| u.user_name.to_lowercase())
    }

    pub async fn update_user(
        &self,
        user_name: &str,
        new_name: Option<&str>,
        new_path: Option<&str>,
    ) -> Result<()> {
        let keys = self.store.access_keys_of_user(user_name).await?;
        match self
            .store
            .update_user(user_name, new_name, new_path)
            .await?
        {
            None => return Err(no_such_user(user_name)),
            Some(false) => {
                return Err(IamError::EntityAlreadyExists(format!(
                    "User with name {} already exists.",
                    new_name.unwrap_or(user_name)
                )));
            }
            Some(true) => {}
        }
        // Cached keys name their user: a renamed user's keys must be read again.
        for key in keys {
            self.access_keys.forget(&key.access_key_id);
        }
        self.permissions
            .forget(&cache_key(EntityKind::User, user_name));
        Ok(())
    }

    pub async fn delete_user(&self, user_name: &str) -> Result<()> {
        let outcome = self.store.delete_user(user_name).await?;
        self.permissions
            .forget(&cache_key(EntityKind::User, user_name));
        match outcome {
            DeleteOutcome::Deleted => Ok(()),
            DeleteOutcome::NotFound => Err(no_such_user(user_name)),
            DeleteOutcome::Conflict(why) => Err(IamError::DeleteConflict(why.message().to_owned())),
        }
    }

    pub async fn tag_user(&self, user_name: &str, new_tags: Vec<(String, String)>) -> Result<()> {
        tags::check_unique_keys(&new_tags)?;
        self.change_user_tags(user_name, |current| tags::merged(current, &new_tags))
            .await
    }

    pub async fn untag_user(&self, user_name: &str, keys: &[String]) -> Result<()> {
        self.change_user_tags(user_name, |current| tags::without(current, keys))
            .await
    }

    /// Tags change by compare-and-swap, so two TagUser calls racing keep both their tags.
    async fn change_user_tags(
        &self,
        user_name: &str,
        change: impl Fn(&[(String, String)]) -> Result<Vec<(String, String)>>,
    ) -> Result<()> {
        for _ in 0..8 {
            let user = self.get_user(user_name).await?;
            let new = change(&user.tags)?;
            match self
                .store
                .replace_user_tags(user_name, &user.tags, &new)
                .await?
            {
                None => return Err(no_such_user(user_name)),
                Some(true) => {
                    self.permissions
                        .forget(&cache_key(EntityKind::User, user_name));
                    return Ok(());
                }
                Some(false) => continue,
            }
        }
        Err(crate::store::StoreError::ConcurrentModification.into())
    }

    /// A new access key for the user; the secret is returned once and never again.
    pub async fn create_access_key(
        &self,
        user_name: &str,
        now: UnixSeconds,
        rng: &dyn Randomness,
    ) -> Result<(AccessKeyRecord, String)> {
        let user = self.get_user(user_name).await?;
        let (record, secret) =
            AccessKeyRecord::generate(&user.user_name, &user.user_id, &self.master, now, rng);
        match self
            .store
            .insert_access_key(&record, MAX_ACCESS_KEYS_PER_USER)
            .await?
        {
            CappedInsert::Inserted => Ok((record, secret)),
            CappedInsert::OwnerMissing => Err(no_such_user(user_name)),
            CappedInsert::AtLimit => Err(IamError::LimitExceeded(format!(
                "Cannot exceed quota for AccessKeysPerUser: {MAX_ACCESS_KEYS_PER_USER}"
            ))),
        }
    }

    pub async fn list_access_keys(&self, user_name: &str) -> Result<Vec<AccessKeyRecord>> {
        self.get_user(user_name).await?;
        Ok(self.store.access_keys_of_user(user_name).await?)
    }

    /// Activate or deactivate a key. Every node refuses an inactive key within a second.
    pub async fn update_access_key(
        &self,
        user_name: &str,
        access_key_id: &str,
        active: bool,
    ) -> Result<()> {
        self.get_user(user_name).await?;
        let changed = self
            .store
            .set_access_key_active(user_name, access_key_id, active)
            .await?;
        self.access_keys.forget(access_key_id);
        if changed {
            Ok(())
        } else {
            Err(no_such_access_key(access_key_id))
        }
    }

    pub async fn delete_access_key(&self, user_name: &str, access_key_id: &str) -> Result<()> {
        self.get_user(user_name).await?;
        let deleted = self
            .store
            .delete_access_key(user_name, access_key_id)
            .await?;
        self.access_keys.forget(access_key_id);
        if deleted {
            Ok(())
        } else {
            Err(no_such_access_key(access_key_id))
        }
    }

    /// A key's owner and its last use. Unknown keys are AccessDenied on AWS (the caller may not
    /// learn which keys exist); the caller's authorization was already checked on `*`.
    pub async fn get_access_key_last_used(&self, access_key_id: &str) -> Result<AccessKeyRecord> {
        self.store
            .access_key(access_key_id)
            .await?
            .ok_or_else(|| no_such_access_key(access_key_id))
    }

    pub async fn create_group(
        &self,
        group_name: String,
        path: Option<String>,
        now: UnixSeconds,
        rng: &dyn Randomness,
    ) -> Result<Group> {
        let group = Group {
            group_id: ids::unique_id("AGPA", rng),
            path: path.unwrap_or_else(|| "/".to_owned()),
            created_at: now,
            group_name,
        };
        if !self.store.insert_group(&group).await? {
            return Err(IamError::EntityAlreadyExists(format!(
                "Group with name {} already exists.",
                group.group_name
            )));
        }
        Ok(group)
    }

    pub async fn get_group(&self, group_name: &str) -> Result<GroupWithUsers> {
        let group = self
            .store
            .group(group_name)
            .await?
            .ok_or_else(|| no_such_group(group_name))?;
        let users = self.store.users_of_group(group_name).await?;
        Ok(GroupWithUsers { group, users })
    }

    pub async fn list_groups(
        &self,
        path_prefix: Option<&str>,
        marker: Option<&str>,
        max_items: u32,
    ) -> Result<Page<Group>> {
        let groups = self.store.list_groups(path_prefix.unwrap_or("/")).await?;
        page_of(groups, marker, max_items, |g| g.group_name.to_lowercase())
    }

    pub async fn delete_group(&self, group_name: &str) -> Result<()> {
        match self.store.delete_group(group_name).await? {
            DeleteOutcome::Deleted => Ok(()),
            DeleteOutcome::NotFound => Err(no_such_group(group_name)),
            DeleteOutcome::Conflict(why) => Err(IamError::DeleteConflict(why.message().to_owned())),
        }
    }

    pub async fn add_user_to_group(
        &self,
        group_name: &str,
        user_name: &str,
        now: UnixSeconds,
    ) -> Result<()> {
        let outcome = self
            .store
            .add_user_to_group(user_name, group_name, now)
            .await?;
        self.permissions
            .forget(&cache_key(EntityKind::User, user_name));
        match outcome {
            PairOutcome::Done => Ok(()),
            PairOutcome::FirstMissing => Err(no_such_user(user_name)),
            PairOutcome::SecondMissing => Err(no_such_group(group_name)),
        }
    }

    /// Removing a user who is not a member is not an error (AWS answers 200); the user is
    /// checked before the group, as AWS does.
    pub async fn remove_user_from_group(&self, group_name: &str, user_name: &str) -> Result<()> {
        self.get_user(user_name).await?;
        self.store
            .group(group_name)
            .await?
            .ok_or_else(|| no_such_group(group_name))?;
        self.store
            .remove_user_from_group(user_name, group_name)
            .await?;
        self.permissions
            .forget(&cache_key(EntityKind::User, user_name));
        Ok(())
    }

    pub async fn list_groups_for_user(
        &self,
        user_name: &str,
        marker: Option<&str>,
        max_items: u32,
    ) -> Result<Page<Group>> {
        self.get_user(user_name).await?;
        let groups = self.store.groups_of_user(user_name).await?;
        page_of(groups, marker, max_items, |g| g.group_name.to_lowercase())
    }
}
