//! `tegata-lambda`: the credential broker as an AWS Lambda function (see the crate's docs and the
//! README's "The broker as an AWS Lambda function").

use std::sync::Arc;

use tegata_broker::aws::AwsBackend;
use tegata_lambda::{LambdaConfig, router};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_ansi(false)
        .without_time()
        .init();
    let config = LambdaConfig::from_env(|name| std::env::var(name).ok())?;
    let backend = Arc::new(AwsBackend::from_environment().await);
    let app = router(config, backend).await?;
    lambda_http::run(app).await
}
