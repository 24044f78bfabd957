//! The AWS managed policies tegata knows, under `arn:aws:iam::aws:policy/`: the few whose
//! actions mean something here. Their documents are AWS's, narrowed to nothing; they are built
//! in, never stored, and cannot be changed or deleted (as on AWS).

use crate::UnixSeconds;

/// The ARN prefix of every AWS managed policy.
pub const AWS_MANAGED_PREFIX: &str = "arn:aws:iam::aws:policy/";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AwsManagedPolicy {
    pub name: &'static str,
    pub policy_id: &'static str,
    pub default_version: &'static str,
    pub description: &'static str,
    pub document: &'static str,
    pub created_at: UnixSeconds,
    pub updated_at: UnixSeconds,
}

impl AwsManagedPolicy {
    pub fn arn(&self) -> String {
        format!("{AWS_MANAGED_PREFIX}{}", self.name)
    }
}

/// The policy the administrator created at first start holds.
pub const ADMINISTRATOR_ACCESS: &str = "arn:aws:iam::aws:policy/AdministratorAccess";

pub const POLICIES: &[AwsManagedPolicy] = &[
    AwsManagedPolicy {
        name: "AdministratorAccess",
        policy_id: "ANPAIWMBCKSKIEE64ZLYK",
        default_version: "v1",
        description: "Provides full access to AWS services and resources.",
        document: r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#,
        created_at: 1_423_247_986,
        updated_at: 1_423_247_986,
    },
    AwsManagedPolicy {
        name: "AmazonCognitoDeveloperAuthenticatedIdentities",
        policy_id: "ANPAIQOKZ5BGKLCMTXH4W",
        default_version: "v1",
        description: "Provides access to Amazon Cognito APIs for developer authenticated \
                      identities from your authentication backend.",
        document: r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["cognito-identity:GetOpenIdTokenForDeveloperIdentity","cognito-identity:LookupDeveloperIdentity","cognito-identity:MergeDeveloperIdentities","cognito-identity:UnlinkDeveloperIdentity"],"Resource":"*"}]}"#,
        created_at: 1_426_718_190,
        updated_at: 1_426_718_190,
    },
    AwsManagedPolicy {
        name: "AmazonCognitoPowerUser",
        policy_id: "ANPAJKW5H2HNCPGCYGR6Y",
        default_version: "v6",
        description: "Provides administrative access to existing Amazon Cognito resources. You \
                      will need AWS account admin privileges to create new Cognito resources.",
        document: r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["cognito-identity:*","cognito-idp:*","cognito-sync:*","iam:ListRoles","iam:ListOpenIdConnectProviders","iam:GetRole","iam:ListSAMLProviders","iam:GetSAMLProvider","kinesis:ListStreams","lambda:GetPolicy","lambda:ListFunctions","sns:GetSMSAttributes","sns:ListPlatformApplications","ssm:ListDocuments","ssm:GetDocument"],"Resource":"*"}]}"#,
        created_at: 1_426_718_189,
        updated_at: 1_694_102_400,
    },
    AwsManagedPolicy {
        name: "AmazonCognitoReadOnly",
        policy_id: "ANPAJBFTRZD2GQGJHSVQK",
        default_version: "v3",
        description: "Provides read only access to Amazon Cognito resources.",
        document: r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["cognito-identity:Describe*","cognito-identity:Get*","cognito-identity:List*","cognito-idp:Describe*","cognito-idp:AdminGet*","cognito-idp:AdminList*","cognito-idp:List*","cognito-idp:Get*","cognito-sync:Describe*","cognito-sync:Get*","cognito-sync:List*","iam:ListOpenIdConnectProviders","iam:ListRoles","sns:ListPlatformApplications"],"Resource":"*"}]}"#,
        created_at: 1_426_718_188,
        updated_at: 1_559_088_000,
    },
    AwsManagedPolicy {
        name: "IAMFullAccess",
        policy_id: "ANPAI7XKCFMBPM3QQRRVQ",
        default_version: "v2",
        description: "Provides full access to IAM via the AWS Management Console.",
        document: r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:*","organizations:DescribeAccount","organizations:DescribeOrganization","organizations:DescribeOrganizationalUnit","organizations:DescribePolicy","organizations:ListChildren","organizations:ListParents","organizations:ListPoliciesForTarget","organizations:ListRoots","organizations:ListPolicies","organizations:ListTargetsForPolicy"],"Resource":"*"}]}"#,
        created_at: 1_423_247_986,
        updated_at: 1_559_088_000,
    },
    AwsManagedPolicy {
        name: "IAMReadOnlyAccess",
        policy_id: "ANPAJKSO7NDY4T57MWDSQ",
        default_version: "v4",
        description: "Provides read only access to IAM via the AWS Management Console.",
        document: r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:GenerateCredentialReport","iam:GenerateServiceLastAccessedDetails","iam:Get*","iam:List*","iam:SimulateCustomPolicy","iam:SimulatePrincipalPolicy"],"Resource":"*"}]}"#,
        created_at: 1_423_247_986,
        updated_at: 1_546_300_800,
    },
];

/// The AWS managed policy of that ARN, if tegata knows it.
pub fn find(arn: &str) -> Option<&'static AwsManagedPolicy> {
    let name = arn.strip_prefix(AWS_MANAGED_PREFIX)?;
    POLICIES.iter().find(|p| p.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_builtin_document_parses_as_an_identity_policy() {
        for policy in POLICIES {
            tegata_policy::PolicyDocument::parse(
                policy.document,
                tegata_policy::PolicyKind::Identity,
            )
            .unwrap_or_else(|e| panic!("{}: {e}", policy.name));
            assert_eq!(find(&policy.arn()), Some(policy));
        }
        assert!(find(ADMINISTRATOR_ACCESS).is_some());
        assert!(find("arn:aws:iam::aws:policy/Nonexistent").is_none());
    }
}
