//! Inline policies of users, groups and roles; customer managed policies and their versions;
//! attachments; permissions boundaries; and the one read that authorizes a principal.

use async_trait::async_trait;
use sqlx::{Database, Encode, Executor, FromRow, IntoArguments, Type};
use tegata_core::UnixSeconds;
use tegata_core::iam::{
    EntityKind, ManagedPolicy, PolicyEntity, PolicyInfo, PolicySource, PolicyVersion,
    PrincipalPolicySet, SourcedDocument,
};
use tegata_core::store::{
    CappedInsert, DeleteVersionOutcome, PairOutcome, PolicyStore, StoreError,
};

use crate::rows::{
    Count, InlinePolicyRow, PolicyRow, PolicyVersionRow, PrincipalRow, Text, TextPair, TextTriple,
};
use crate::{RowsAffected, SqlStore, backend, corrupt, entity_key, lock_row};

/// Where each kind of entity and its inline policies live. Static text only: these names are
/// the only part of a statement here not bound as a parameter.
struct Tables {
    entities: &'static str,
    key: &'static str,
    inline: &'static str,
    /// The entity's unique id, tags and boundary (groups have neither tags nor a boundary).
    principal_columns: &'static str,
}

fn tables(kind: EntityKind) -> Tables {
    match kind {
        EntityKind::User => Tables {
            entities: "users",
            key: "user_key",
            inline: "user_policies",
            principal_columns: "user_id, tags, permissions_boundary",
        },
        EntityKind::Group => Tables {
            entities: "iam_groups",
            key: "group_key",
            inline: "group_policies",
            principal_columns: "group_id, '[]', CAST(NULL AS TEXT)",
        },
        EntityKind::Role => Tables {
            entities: "roles",
            key: "role_key",
            inline: "role_policies",
            principal_columns: "role_id, tags, permissions_boundary",
        },
    }
}

const POLICY_COLUMNS: &str = "p.policy_arn, p.policy_name, p.path, p.policy_id, p.description,
    p.default_version, p.tags, p.created_at, p.updated_at,
    (SELECT COUNT(*) FROM policy_attachments a WHERE a.policy_arn = p.policy_arn) AS attachments,
    (SELECT COUNT(*) FROM users u WHERE u.permissions_boundary = p.policy_arn)
      + (SELECT COUNT(*) FROM roles r WHERE r.permissions_boundary = p.policy_arn) AS boundary_uses";

#[async_trait]
impl<DB> PolicyStore for SqlStore<DB>
where
    DB: Database,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    DB::Arguments: IntoArguments<DB>,
    DB::QueryResult: RowsAffected,
    for<'q> &'q str: Encode<'q, DB> + Type<DB>,
    for<'q> Option<&'q str>: Encode<'q, DB> + Type<DB>,
    i64: for<'q> Encode<'q, DB> + Type<DB>,
    for<'r> Count: FromRow<'r, DB::Row>,
    for<'r> Text: FromRow<'r, DB::Row>,
    for<'r> TextPair: FromRow<'r, DB::Row>,
    for<'r> TextTriple: FromRow<'r, DB::Row>,
    for<'r> InlinePolicyRow: FromRow<'r, DB::Row>,
    for<'r> PrincipalRow: FromRow<'r, DB::Row>,
    for<'r> PolicyRow: FromRow<'r, DB::Row>,
    for<'r> PolicyVersionRow: FromRow<'r, DB::Row>,
{
    async fn put_inline_policy(
        &self,
        kind: EntityKind,
        entity: &str,
        policy_name: &str,
        document: &str,
    ) -> Result<bool, StoreError> {
        let t = tables(kind);
        let key = entity_key(entity);
        let mut tx = self.writer.begin().await.map_err(backend)?;
        let exists: Option<Text> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {key} FROM {entities} WHERE {key} = $1",
            key = t.key,
            entities = t.entities
        )))
        .bind(key.as_str())
        .fetch_optional(&mut *tx)
        .await
        .map_err(backend)?;
        if exists.is_none() {
            return Ok(false);
        }
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "INSERT INTO {inline} ({key}, policy_name, document) VALUES ($1, $2, $3)
             ON CONFLICT ({key}, policy_name) DO UPDATE SET document = $3",
            inline = t.inline,
            key = t.key
        )))
        .bind(key.as_str())
        .bind(policy_name)
        .bind(document)
        .execute(&mut *tx)
        .await
        .map_err(backend)?;
        tx.commit().await.map_err(backend)?;
        Ok(true)
    }

    async fn inline_policy(
        &self,
        kind: EntityKind,
        entity: &str,
        policy_name: &str,
    ) -> Result<Option<String>, StoreError> {
        let t = tables(kind);
        let row: Option<Text> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT document FROM {inline} WHERE {key} = $1 AND policy_name = $2",
            inline = t.inline,
            key = t.key
        )))
        .bind(entity_key(entity).as_str())
        .bind(policy_name)
        .fetch_optional(&self.reader)
        .await
        .map_err(backend)?;
        Ok(row.map(|Text(document)| document))
    }

    async fn delete_inline_policy(
        &self,
        kind: EntityKind,
        entity: &str,
        policy_name: &str,
    ) -> Result<bool, StoreError> {
        let t = tables(kind);
        let deleted = sqlx::query(sqlx::AssertSqlSafe(format!(
            "DELETE FROM {inline} WHERE {key} = $1 AND policy_name = $2",
            inline = t.inline,
            key = t.key
        )))
        .bind(entity_key(entity).as_str())
        .bind(policy_name)
        .execute(&*self.writer.turn().await)
        .await
        .map_err(backend)?
        .rows_affected();
        Ok(deleted == 1)
    }

    async fn inline_policy_names(
        &self,
        kind: EntityKind,
        entity: &str,
    ) -> Result<Vec<String>, StoreError> {
        let t = tables(kind);
        let rows: Vec<Text> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT policy_name FROM {inline} WHERE {key} = $1 ORDER BY policy_name",
            inline = t.inline,
            key = t.key
        )))
        .bind(entity_key(entity).as_str())
        .fetch_all(&self.reader)
        .await
        .map_err(backend)?;
        Ok(rows.into_iter().map(|Text(name)| name).collect())
    }

    async fn insert_managed_policy(
        &self,
        policy: &ManagedPolicy,
        document: &str,
    ) -> Result<bool, StoreError> {
        let tags = serde_json::to_string(&policy.tags).map_err(corrupt)?;
        let mut tx = self.writer.begin().await.map_err(backend)?;
        // Names are unique whatever the path: the key is the name alone.
        let inserted = sqlx::query(
            "INSERT INTO managed_policies (policy_arn, policy_key, policy_name, path, policy_id,
                                           description, default_version, next_version, tags,
                                           created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, 'v1', 2, $7, $8, $8)
             ON CONFLICT DO NOTHING",
        )
        .bind(policy.arn.as_str())
        .bind(entity_key(&policy.policy_name).as_str())
        .bind(policy.policy_name.as_str())
        .bind(policy.path.as_str())
        .bind(policy.policy_id.as_str())
        .bind(policy.description.as_deref())
        .bind(tags.as_str())
        .bind(policy.created_at)
        .execute(&mut *tx)
        .await
        .map_err(backend)?
        .rows_affected();
        if inserted == 1 {
            sqlx::query(
                "INSERT INTO policy_versions (policy_arn, version_id, document, created_at)
                 VALUES ($1, 'v1', $2, $3)",
            )
            .bind(policy.arn.as_str())
            .bind(document)
            .bind(policy.created_at)
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
        }
        tx.commit().await.map_err(backend)?;
        Ok(inserted == 1)
    }

    async fn managed_policy(&self, arn: &str) -> Result<Option<PolicyInfo>, StoreError> {
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {POLICY_COLUMNS} FROM managed_policies p WHERE p.policy_arn = $1"
        ));
        let row: Option<PolicyRow> = sqlx::query_as(sql)
            .bind(arn)
            .fetch_optional(&self.reader)
            .await
            .map_err(backend)?;
        row.map(TryInto::try_into).transpose()
    }

    async fn list_managed_policies(
        &self,
        path_prefix: &str,
    ) -> Result<Vec<PolicyInfo>, StoreError> {
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {POLICY_COLUMNS} FROM managed_policies p
             WHERE substr(p.path, 1, length($1)) = $1 ORDER BY p.policy_key"
        ));
        let rows: Vec<PolicyRow> = sqlx::query_as(sql)
            .bind(path_prefix)
            .fetch_all(&self.reader)
            .await
            .map_err(backend)?;
        rows.into_iter().map(TryInto::try_into).collect()
    }

    async fn delete_managed_policy(&self, arn: &str) -> Result<PairOutcome, StoreError> {
        let mut tx = self.writer.begin().await.map_err(backend)?;
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {POLICY_COLUMNS} FROM managed_policies p WHERE p.policy_arn = $1"
        ));
        let row: Option<PolicyRow> = sqlx::query_as(sql)
            .bind(arn)
            .fetch_optional(&mut *tx)
            .await
            .map_err(backend)?;
        let Some(info) = row.map(PolicyInfo::try_from).transpose()? else {
            return Ok(PairOutcome::FirstMissing);
        };
        if info.attachment_count > 0 || info.boundary_usage_count > 0 {
            return Ok(PairOutcome::SecondMissing);
        }
        for sql in [
            "DELETE FROM policy_versions WHERE policy_arn = $1",
            "DELETE FROM managed_policies WHERE policy_arn = $1",
        ] {
            sqlx::query(sql)
                .bind(arn)
                .execute(&mut *tx)
                .await
                .map_err(backend)?;
        }
        tx.commit().await.map_err(backend)?;
        Ok(PairOutcome::Done)
    }

    async fn insert_policy_version(
        &self,
        arn: &str,
        document: &str,
        set_as_default: bool,
        max_versions: u64,
        now: UnixSeconds,
    ) -> Result<(CappedInsert, Option<PolicyVersion>), StoreError> {
        let mut tx = self.writer.begin().await.map_err(backend)?;
        // Lock the policy's row first (see `insert_access_key`): versions created at once are
        // numbered and counted one after the other.
        lock_row::<DB>(
            &mut tx,
            "managed_policies",
            "next_version",
            "policy_arn",
            arn,
        )
        .await?;
        let next: Option<Count> =
            sqlx::query_as("SELECT next_version FROM managed_policies WHERE policy_arn = $1")
                .bind(arn)
                .fetch_optional(&mut *tx)
                .await
                .map_err(backend)?;
        let Some(Count(next)) = next else {
            return Ok((CappedInsert::OwnerMissing, None));
        };
        let Count(held) =
            sqlx::query_as("SELECT COUNT(*) FROM policy_versions WHERE policy_arn = $1")
                .bind(arn)
                .fetch_one(&mut *tx)
                .await
                .map_err(backend)?;
        if u64::try_from(held).unwrap_or(u64::MAX) >= max_versions {
            return Ok((CappedInsert::AtLimit, None));
        }
        let version_id = format!("v{next}");
        sqlx::query(
            "INSERT INTO policy_versions (policy_arn, version_id, document, created_at)
             VALUES ($1, $2, $3, $4)",
        )
        .bind(arn)
        .bind(version_id.as_str())
        .bind(document)
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(backend)?;
        sqlx::query(
            "UPDATE managed_policies
             SET next_version = next_version + 1, updated_at = $2,
                 default_version = CASE WHEN $3 = 1 THEN $4 ELSE default_version END
             WHERE policy_arn = $1",
        )
        .bind(arn)
        .bind(now)
        .bind(i64::from(set_as_default))
        .bind(version_id.as_str())
        .execute(&mut *tx)
        .await
        .map_err(backend)?;
        tx.commit().await.map_err(backend)?;
        Ok((
            CappedInsert::Inserted,
            Some(PolicyVersion {
                version_id,
                document: document.to_owned(),
                is_default: set_as_default,
                created_at: now,
            }),
        ))
    }

    async fn policy_versions(&self, arn: &str) -> Result<Vec<PolicyVersion>, StoreError> {
        // Newest first: version numbers, not their text, decide (v10 after v9).
        let rows: Vec<PolicyVersionRow> = sqlx::query_as(
            "SELECT v.version_id, v.document,
                    CAST(CASE WHEN v.version_id = p.default_version THEN 1 ELSE 0 END
                         AS BIGINT) AS is_default,
                    v.created_at
             FROM policy_versions v JOIN managed_policies p ON p.policy_arn = v.policy_arn
             WHERE v.policy_arn = $1
             ORDER BY length(v.version_id) DESC, v.version_id DESC",
        )
        .bind(arn)
        .fetch_all(&self.reader)
        .await
        .map_err(backend)?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    async fn set_default_policy_version(
        &self,
        arn: &str,
        version_id: &str,
        now: UnixSeconds,
    ) -> Result<PairOutcome, StoreError> {
        let mut tx = self.writer.begin().await.map_err(backend)?;
        let policy: Option<Text> =
            sqlx::query_as("SELECT policy_arn FROM managed_policies WHERE policy_arn = $1")
                .bind(arn)
                .fetch_optional(&mut *tx)
                .await
                .map_err(backend)?;
        if policy.is_none() {
            return Ok(PairOutcome::FirstMissing);
        }
        let version: Option<Text> = sqlx::query_as(
            "SELECT version_id FROM policy_versions WHERE policy_arn = $1 AND version_id = $2",
        )
        .bind(arn)
        .bind(version_id)
        .fetch_optional(&mut *tx)
        .await
        .map_err(backend)?;
        if version.is_none() {
            return Ok(PairOutcome::SecondMissing);
        }
        sqlx::query(
            "UPDATE managed_policies SET default_version = $2, updated_at = $3
             WHERE policy_arn = $1",
        )
        .bind(arn)
        .bind(version_id)
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(backend)?;
        tx.commit().await.map_err(backend)?;
        Ok(PairOutcome::Done)
    }

    async fn delete_policy_version(
        &self,
        arn: &str,
        version_id: &str,
    ) -> Result<DeleteVersionOutcome, StoreError> {
        let mut tx = self.writer.begin().await.map_err(backend)?;
        let default: Option<Text> =
            sqlx::query_as("SELECT default_version FROM managed_policies WHERE policy_arn = $1")
                .bind(arn)
                .fetch_optional(&mut *tx)
                .await
                .map_err(backend)?;
        if default.as_ref().is_some_and(|Text(d)| d == version_id) {
            return Ok(DeleteVersionOutcome::IsDefault);
        }
        let deleted =
            sqlx::query("DELETE FROM policy_versions WHERE policy_arn = $1 AND version_id = $2")
                .bind(arn)
                .bind(version_id)
                .execute(&mut *tx)
                .await
                .map_err(backend)?
                .rows_affected();
        tx.commit().await.map_err(backend)?;
        Ok(if deleted == 1 {
            DeleteVersionOutcome::Deleted
        } else {
            DeleteVersionOutcome::NotFound
        })
    }

    async fn attach_policy(
        &self,
        kind: EntityKind,
        entity: &str,
        arn: &str,
        now: UnixSeconds,
    ) -> Result<PairOutcome, StoreError> {
        let t = tables(kind);
        let key = entity_key(entity);
        let mut tx = self.writer.begin().await.map_err(backend)?;
        // Lock the entity's row: a deletion of it waits for this attachment, and then sees it.
        if !lock_row::<DB>(&mut tx, t.entities, "path", t.key, &key).await? {
            return Ok(PairOutcome::FirstMissing);
        }
        if !arn.starts_with(tegata_core::iam::AWS_MANAGED_PREFIX) {
            let policy: Option<Text> =
                sqlx::query_as("SELECT policy_arn FROM managed_policies WHERE policy_arn = $1")
                    .bind(arn)
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(backend)?;
            if policy.is_none() {
                return Ok(PairOutcome::SecondMissing);
            }
        }
        sqlx::query(
            "INSERT INTO policy_attachments (policy_arn, entity_kind, entity_key, attached_at)
             VALUES ($1, $2, $3, $4)
             ON CONFLICT (entity_kind, entity_key, policy_arn) DO NOTHING",
        )
        .bind(arn)
        .bind(kind.as_str())
        .bind(key.as_str())
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(backend)?;
        tx.commit().await.map_err(backend)?;
        Ok(PairOutcome::Done)
    }

    async fn detach_policy(
        &self,
        kind: EntityKind,
        entity: &str,
        arn: &str,
    ) -> Result<PairOutcome, StoreError> {
        let key = entity_key(entity);
        let deleted = sqlx::query(
            "DELETE FROM policy_attachments
             WHERE entity_kind = $1 AND entity_key = $2 AND policy_arn = $3",
        )
        .bind(kind.as_str())
        .bind(key.as_str())
        .bind(arn)
        .execute(&*self.writer.turn().await)
        .await
        .map_err(backend)?
        .rows_affected();
        if deleted == 1 {
            return Ok(PairOutcome::Done);
        }
        Ok(match self.attached_policies(kind, entity).await? {
            None => PairOutcome::FirstMissing,
            Some(_) => PairOutcome::SecondMissing,
        })
    }

    async fn attached_policies(
        &self,
        kind: EntityKind,
        entity: &str,
    ) -> Result<Option<Vec<String>>, StoreError> {
        let t = tables(kind);
        let key = entity_key(entity);
        let exists: Option<Text> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {key} FROM {entities} WHERE {key} = $1",
            key = t.key,
            entities = t.entities
        )))
        .bind(key.as_str())
        .fetch_optional(&self.reader)
        .await
        .map_err(backend)?;
        if exists.is_none() {
            return Ok(None);
        }
        let rows: Vec<Text> = sqlx::query_as(
            "SELECT policy_arn FROM policy_attachments WHERE entity_kind = $1 AND entity_key = $2
             ORDER BY attached_at, policy_arn",
        )
        .bind(kind.as_str())
        .bind(key.as_str())
        .fetch_all(&self.reader)
        .await
        .map_err(backend)?;
        Ok(Some(rows.into_iter().map(|Text(arn)| arn).collect()))
    }

    async fn entities_for_policy(&self, arn: &str) -> Result<Vec<PolicyEntity>, StoreError> {
        let rows: Vec<TextTriple> = sqlx::query_as(
            "SELECT 'user', u.user_name, u.user_id FROM policy_attachments a
               JOIN users u ON a.entity_kind = 'user' AND u.user_key = a.entity_key
               WHERE a.policy_arn = $1
             UNION ALL
             SELECT 'group', g.group_name, g.group_id FROM policy_attachments a
               JOIN iam_groups g ON a.entity_kind = 'group' AND g.group_key = a.entity_key
               WHERE a.policy_arn = $1
             UNION ALL
             SELECT 'role', r.role_name, r.role_id FROM policy_attachments a
               JOIN roles r ON a.entity_kind = 'role' AND r.role_key = a.entity_key
               WHERE a.policy_arn = $1",
        )
        .bind(arn)
        .fetch_all(&self.reader)
        .await
        .map_err(backend)?;
        rows.into_iter()
            .map(|TextTriple(kind, name, id)| {
                let kind = EntityKind::parse(&kind)
                    .ok_or_else(|| corrupt(format!("unknown entity kind '{kind}'")))?;
                Ok(PolicyEntity { kind, name, id })
            })
            .collect()
    }

    async fn attachment_count(&self, arn: &str) -> Result<u64, StoreError> {
        let Count(n) =
            sqlx::query_as("SELECT COUNT(*) FROM policy_attachments WHERE policy_arn = $1")
                .bind(arn)
                .fetch_one(&self.reader)
                .await
                .map_err(backend)?;
        Ok(u64::try_from(n).unwrap_or_default())
    }

    async fn set_permissions_boundary(
        &self,
        kind: EntityKind,
        entity: &str,
        arn: Option<&str>,
    ) -> Result<PairOutcome, StoreError> {
        let t = tables(kind);
        let mut tx = self.writer.begin().await.map_err(backend)?;
        if let Some(arn) = arn.filter(|a| !a.starts_with(tegata_core::iam::AWS_MANAGED_PREFIX)) {
            let policy: Option<Text> =
                sqlx::query_as("SELECT policy_arn FROM managed_policies WHERE policy_arn = $1")
                    .bind(arn)
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(backend)?;
            if policy.is_none() {
                return Ok(PairOutcome::SecondMissing);
            }
        }
        let updated = sqlx::query(sqlx::AssertSqlSafe(format!(
            "UPDATE {entities} SET permissions_boundary = $2 WHERE {key} = $1",
            entities = t.entities,
            key = t.key
        )))
        .bind(entity_key(entity).as_str())
        .bind(arn)
        .execute(&mut *tx)
        .await
        .map_err(backend)?
        .rows_affected();
        tx.commit().await.map_err(backend)?;
        Ok(if updated == 1 {
            PairOutcome::Done
        } else {
            PairOutcome::FirstMissing
        })
    }

    async fn principal_policies(
        &self,
        kind: EntityKind,
        name: &str,
    ) -> Result<Option<PrincipalPolicySet>, StoreError> {
        let t = tables(kind);
        let key = entity_key(name);
        // One transaction; on PostgreSQL (READ COMMITTED) each statement sees the latest
        // commits, so a change made between two of them is read whole within the next second.
        let mut tx = self.reader.begin().await.map_err(backend)?;
        let principal: Option<PrincipalRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {columns} FROM {entities} WHERE {key} = $1",
            columns = t.principal_columns,
            entities = t.entities,
            key = t.key
        )))
        .bind(key.as_str())
        .fetch_optional(&mut *tx)
        .await
        .map_err(backend)?;
        let Some(PrincipalRow(id, tags, boundary)) = principal else {
            return Ok(None);
        };
        // The principal's own inline policies, and for a user its groups'.
        let inline_sql = match kind {
            EntityKind::User => {
                "SELECT 'user', u.user_name, p.policy_name, p.document
                   FROM user_policies p JOIN users u ON u.user_key = p.user_key
                   WHERE p.user_key = $1
                 UNION ALL
                 SELECT 'group', g.group_name, p.policy_name, p.document
                   FROM group_members m
                   JOIN group_policies p ON p.group_key = m.group_key
                   JOIN iam_groups g ON g.group_key = m.group_key
                   WHERE m.user_key = $1"
            }
            EntityKind::Group => {
                "SELECT 'group', g.group_name, p.policy_name, p.document
                   FROM group_policies p JOIN iam_groups g ON g.group_key = p.group_key
                   WHERE p.group_key = $1"
            }
            EntityKind::Role => {
                "SELECT 'role', r.role_name, p.policy_name, p.document
                   FROM role_policies p JOIN roles r ON r.role_key = p.role_key
                   WHERE p.role_key = $1"
            }
        };
        let inline_rows: Vec<InlinePolicyRow> = sqlx::query_as(inline_sql)
            .bind(key.as_str())
            .fetch_all(&mut *tx)
            .await
            .map_err(backend)?;
        let mut inline = Vec::with_capacity(inline_rows.len());
        for InlinePolicyRow(source_kind, entity, policy_name, document) in inline_rows {
            inline.push(SourcedDocument {
                source: PolicySource::Inline {
                    kind: EntityKind::parse(&source_kind)
                        .ok_or_else(|| corrupt("unknown entity kind"))?,
                    entity,
                    policy_name,
                },
                document,
            });
        }
        // Attached managed policies (the user's and its groups'), with the default version of
        // customer managed ones.
        let attached_sql = match kind {
            EntityKind::User => {
                "SELECT a.policy_arn, v.document FROM policy_attachments a
                   LEFT JOIN managed_policies p ON p.policy_arn = a.policy_arn
                   LEFT JOIN policy_versions v
                     ON v.policy_arn = p.policy_arn AND v.version_id = p.default_version
                   WHERE (a.entity_kind = 'user' AND a.entity_key = $1)
                      OR (a.entity_kind = 'group' AND a.entity_key IN
                            (SELECT group_key FROM group_members WHERE user_key = $1))
                   ORDER BY a.attached_at, a.policy_arn"
            }
            _ => {
                "SELECT a.policy_arn, v.document FROM policy_attachments a
                   LEFT JOIN managed_policies p ON p.policy_arn = a.policy_arn
                   LEFT JOIN policy_versions v
                     ON v.policy_arn = p.policy_arn AND v.version_id = p.default_version
                   WHERE a.entity_kind = $2 AND a.entity_key = $1
                   ORDER BY a.attached_at, a.policy_arn"
            }
        };
        let mut attached_query = sqlx::query_as(attached_sql).bind(key.as_str());
        if kind != EntityKind::User {
            attached_query = attached_query.bind(kind.as_str());
        }
        let attached: Vec<TextPair> = attached_query.fetch_all(&mut *tx).await.map_err(backend)?;
        let boundary = match boundary {
            Some(arn) => {
                let document: Option<Text> = sqlx::query_as(
                    "SELECT v.document FROM managed_policies p JOIN policy_versions v
                       ON v.policy_arn = p.policy_arn AND v.version_id = p.default_version
                     WHERE p.policy_arn = $1",
                )
                .bind(arn.as_str())
                .fetch_optional(&mut *tx)
                .await
                .map_err(backend)?;
                Some((arn, document.map(|Text(d)| d)))
            }
            None => None,
        };
        tx.commit().await.map_err(backend)?;
        Ok(Some(PrincipalPolicySet {
            id,
            inline,
            attached: attached
                .into_iter()
                .map(|TextPair(arn, document)| (arn, document))
                .collect(),
            boundary,
            tags: serde_json::from_str(&tags).map_err(corrupt)?,
        }))
    }
}
