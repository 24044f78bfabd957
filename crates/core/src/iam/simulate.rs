//! IAM's policy simulator: SimulatePrincipalPolicy (a user's, group's or role's policies, with
//! documents added or a boundary replaced) and SimulateCustomPolicy (documents alone). Both run
//! [`crate::authz::simulate`], whose verdict is the one real requests get.

use tegata_policy::Context;

use crate::authz::{PrincipalPermissions, Simulation, SourcedPolicy, simulate, statement_places};

/// The most action × resource pairs one simulation evaluates: each is a full evaluation with
/// its explanation, and a request is answered whole.
pub const MAX_SIMULATED_PAIRS: usize = 1000;
use crate::deployment::PARTITION;

use super::model::{EntityKind, PolicySource};
use super::{Iam, IamError, Result};

/// What to simulate.
pub struct SimulationRequest {
    /// Identity-based policies to add (`PolicyInputList`).
    pub policy_inputs: Vec<String>,
    /// A permissions boundary to use instead of the principal's
    /// (`PermissionsBoundaryPolicyInputList`).
    pub boundary_inputs: Vec<String>,
    pub actions: Vec<String>,
    /// `*` when the request names none.
    pub resources: Vec<String>,
    pub context: Context,
}

/// One action on one resource, simulated.
pub struct SimulationResult {
    pub action: String,
    pub resource: String,
    pub simulation: Simulation,
}

fn given(list: &str, texts: &[String]) -> Result<Vec<SourcedPolicy>> {
    texts
        .iter()
        .enumerate()
        .map(|(n, text)| {
            SourcedPolicy::parse(
                PolicySource::Given {
                    id: format!("{list}.{}", n + 1),
                },
                text,
            )
            .map_err(|e| IamError::MalformedPolicyDocument(e.0))
        })
        .collect()
}

fn run(
    mut permissions: PrincipalPermissions,
    request: SimulationRequest,
) -> Result<Vec<SimulationResult>> {
    permissions
        .identity
        .extend(given("PolicyInputList", &request.policy_inputs)?);
    if !request.boundary_inputs.is_empty() {
        permissions.boundary = given(
            "PermissionsBoundaryPolicyInputList",
            &request.boundary_inputs,
        )?;
    }
    let resources = if request.resources.is_empty() {
        vec!["*".to_owned()]
    } else {
        request.resources
    };
    if request.actions.len().saturating_mul(resources.len()) > MAX_SIMULATED_PAIRS {
        return Err(IamError::InvalidInput(format!(
            "tegata simulates at most {MAX_SIMULATED_PAIRS} action and resource pairs in one \
             request; split the request."
        )));
    }
    let places = statement_places(&permissions);
    let mut results = Vec::with_capacity(request.actions.len() * resources.len());
    for action in &request.actions {
        for resource in &resources {
            results.push(SimulationResult {
                simulation: simulate(&permissions, &places, action, resource, &request.context),
                action: action.clone(),
                resource: resource.clone(),
            });
        }
    }
    Ok(results)
}

impl Iam {
    /// The user, group or role an ARN of this account names, as (kind, name).
    fn entity_of_arn<'a>(&self, arn: &'a str) -> Result<(EntityKind, &'a str)> {
        let invalid = || IamError::InvalidInput(format!("Invalid Entity Arn: {arn}"));
        let rest = arn
            .strip_prefix(&format!("arn:{PARTITION}:iam::{}:", self.account_id()))
            .ok_or_else(invalid)?;
        let (kind, path_and_name) = rest.split_once('/').ok_or_else(invalid)?;
        let kind = EntityKind::parse(kind).ok_or_else(invalid)?;
        let name = path_and_name.rsplit('/').next().unwrap_or_default();
        if name.is_empty() {
            return Err(invalid());
        }
        Ok((kind, name))
    }

    pub async fn simulate_principal_policy(
        &self,
        policy_source_arn: &str,
        request: SimulationRequest,
    ) -> Result<Vec<SimulationResult>> {
        let (kind, name) = self.entity_of_arn(policy_source_arn)?;
        let set = self
            .store
            .principal_policies(kind, name)
            .await?
            .ok_or_else(|| IamError::NoSuchEntity(kind.not_found_message(name)))?;
        run(PrincipalPermissions::from_set(set)?, request)
    }

    pub fn simulate_custom_policy(
        &self,
        request: SimulationRequest,
    ) -> Result<Vec<SimulationResult>> {
        run(PrincipalPermissions::default(), request)
    }
}
